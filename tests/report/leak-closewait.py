"""Leak N client connections to a server that closes them: each client
socket is kept, so each sits in CLOSE_WAIT. A few connections closed
properly first must not show up. Prints "ready n=N" and waits for EOF."""
import socket
import sys


def connect_one(addr):
    return socket.create_connection(addr)


def main():
    n = int(sys.argv[1])
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    addr = srv.getsockname()
    for _ in range(3):
        c = connect_one(addr)
        s, _ = srv.accept()
        s.close()
        c.close()
    leaked = []
    for _ in range(n):
        leaked.append(connect_one(addr))
        s, _ = srv.accept()
        s.close()
    # Wait for every FIN: recv() returns b"" once the peer has closed.
    for c in leaked:
        if c.recv(1) != b"":
            sys.exit("expected EOF")
    print("ready n=%d port=%d" % (n, addr[1]), flush=True)
    sys.stdin.read()


main()
