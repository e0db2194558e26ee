"""Socket errors the program handles, an audit hook of its own, threads,
then an uncaught exception: test-lang.py compares what this prints and its
exit status with and without the shim."""
import socket
import sys
import threading

events = []
sys.addaudithook(lambda ev, args: events.append(ev) if ev.startswith("socket.") else None)

free = socket.socket()
free.bind(("127.0.0.1", 0))
port = free.getsockname()[1]
free.close()
for i in range(3):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5)
    except ConnectionRefusedError as e:
        print("refused", i, e.errno)
try:
    socket.socket(12345, socket.SOCK_STREAM)
except OSError as e:
    print("bad family", e.errno)
a, b = socket.socketpair()
a.sendall(b"x")
print("pair", b.recv(1))
t = threading.Thread(target=lambda: print("thread", socket.socket().fileno() > 0))
t.start()
t.join()
print("events", sorted(set(events)))
raise RuntimeError("the end")
