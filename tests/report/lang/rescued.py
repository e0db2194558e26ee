"""Sockets the program drops without closing them, which CPython's
collector closes: one freed when its last reference goes (LEAK-R-drop),
one in a reference cycle freed by gc.collect() (LEAK-R-cycle); one closed by
the program (LEAK-R-closed), which is no rescue. Then prints "ready" and
waits for EOF on stdin."""
import gc
import socket
import sys
import warnings

warnings.simplefilter("ignore", ResourceWarning)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)


def drop():
    s = socket.create_connection(srv.getsockname())  # LEAK-R-drop
    s.sendall(b"x")


def cycle():
    s = socket.socket()  # LEAK-R-cycle
    loop = [s]
    loop.append(loop)


def closed():
    s = socket.socket()  # LEAK-R-closed
    s.close()


gc.disable()
drop()
cycle()
closed()
gc.collect()
print("ready", flush=True)
sys.stdin.read()
