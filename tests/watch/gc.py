"""One site that opened three connections: the program keeps the first and
drops the other two without closing them, which CPython's collector closes
when their last reference goes. So its group holds 1 socket, and the site
opened 3, closed 2, all by the collector. Prints "ready", waits for EOF on
stdin."""
import socket
import sys
import warnings

warnings.simplefilter("ignore", ResourceWarning)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
kept = []


def connect():
    return socket.create_connection(srv.getsockname())


for i in range(3):
    s = connect()
    if i == 0:
        kept.append(s)
    del s

print("ready", flush=True)
sys.stdin.read()
