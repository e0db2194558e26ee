"""Holds an ESTABLISHED connection idle (both ends in this process) for
argv[2] ms (default 1000), then closes it and exits: a leak only while
running. Writes "pid=N" to argv[1]."""
import os
import socket
import sys
import time


def open_idle(addr):
    return socket.create_connection(addr)


def main():
    info = sys.argv[1]
    hold = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    c = open_idle(srv.getsockname())
    s, _ = srv.accept()
    srv.close()
    c.sendall(b"x")
    s.recv(1)
    with open(info + ".tmp", "w") as f:
        f.write("pid=%d\n" % os.getpid())
    os.rename(info + ".tmp", info)
    time.sleep(hold / 1000.0)
    c.close()
    s.close()


main()
