"""Leaks one connection from each of two functions, on the lines marked
LEAK-A-<mode> and LEAK-B-<mode>, then prints "ready" (with the pid of the
process to audit) and waits for EOF on stdin; with "exit" after the mode it
leaves at once through os._exit, its leaks still held.

usage: leak.py MODE [exit]
  socket    socket.create_connection / socket.socket().connect()
  http      http.client.HTTPConnection, a request each
  urllib    urllib.request.urlopen
  requests  requests.Session().get
  accept    two servers' accept() (the accepted sockets leak)
  threads   each function in its own thread
  fork      A in the parent, then a multiprocessing child (fork) that
            inherits A and makes B: the child is the one to audit
"""
import http.client
import http.server
import os
import socket
import sys
import threading
import urllib.request

KEEP = []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive: the client's socket stays

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def http_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address


def tcp_server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    KEEP.append(srv)
    return srv


def socket_a(addr):
    return socket.create_connection(addr)  # LEAK-A-socket


class Client:
    def open_b(self, addr):
        s = socket.socket()
        s.connect(addr)  # LEAK-B-socket
        return s


def http_a(addr):
    c = http.client.HTTPConnection(*addr)
    c.request("GET", "/a")  # LEAK-A-http
    c.getresponse().read()
    return c


def http_b(addr):
    c = http.client.HTTPConnection(*addr)
    c.request("GET", "/b")  # LEAK-B-http
    c.getresponse().read()
    return c


def urllib_a(addr):
    return urllib.request.urlopen("http://%s:%d/a" % addr)  # LEAK-A-urllib


def urllib_b(addr):
    return urllib.request.urlopen("http://%s:%d/b" % addr)  # LEAK-B-urllib


def requests_a(addr):
    import requests
    s = requests.Session()
    s.get("http://%s:%d/a" % addr).content  # LEAK-A-requests
    return s


def requests_b(addr):
    import requests
    s = requests.Session()
    s.get("http://%s:%d/b" % addr).content  # LEAK-B-requests
    return s


def accept_a(srv):
    return srv.accept()[0]  # LEAK-A-accept


def accept_b(srv):
    return srv.accept()[0]  # LEAK-B-accept


def main():
    mode = sys.argv[1]
    leave = len(sys.argv) > 2 and sys.argv[2] == "exit"
    pid = os.getpid()
    if mode == "socket":
        srv = tcp_server()
        KEEP.append(socket_a(srv.getsockname()))
        KEEP.append(Client().open_b(srv.getsockname()))
    elif mode in ("http", "urllib", "requests"):
        addr = http_server()
        fa, fb = {"http": (http_a, http_b), "urllib": (urllib_a, urllib_b),
                  "requests": (requests_a, requests_b)}[mode]
        KEEP.append(fa(addr))
        KEEP.append(fb(addr))
    elif mode == "accept":
        s1, s2 = tcp_server(), tcp_server()
        KEEP.append(socket.create_connection(s1.getsockname()))
        KEEP.append(socket.create_connection(s2.getsockname()))
        KEEP.append(accept_a(s1))
        KEEP.append(accept_b(s2))
    elif mode == "threads":
        srv = tcp_server()
        out = []
        ta = threading.Thread(target=lambda: out.append(socket_a(srv.getsockname())))
        tb = threading.Thread(target=lambda: out.append(Client().open_b(srv.getsockname())))
        ta.start()
        tb.start()
        ta.join(10)
        tb.join(10)
        if len(out) != 2:
            sys.exit("threads did not connect")
        KEEP.extend(out)
    elif mode == "fork":
        import multiprocessing
        srv = tcp_server()
        KEEP.append(socket_a(srv.getsockname()))
        ctx = multiprocessing.get_context("fork")
        # multiprocessing gives the child /dev/null for stdin: it waits
        # on a copy of ours.
        p = ctx.Process(target=child, args=(srv.getsockname(), leave, os.dup(0)))
        p.start()
        p.join(60)
        if leave:
            os._exit(p.exitcode)   # A still held, as the child's B
        sys.exit(p.exitcode)
    else:
        sys.exit("unknown mode " + mode)
    ready(pid, leave)


def child(addr, leave, wait_fd):
    KEEP.append(Client().open_b(addr))
    ready(os.getpid(), leave, wait_fd)


def ready(pid, leave, wait_fd=0):
    print("ready pid=%d" % pid, flush=True)
    if leave:
        os._exit(0)
    while os.read(wait_fd, 4096):
        pass


if __name__ == "__main__":
    main()
