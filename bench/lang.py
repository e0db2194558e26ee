"""Python's lines of bench/run: MODE SECONDS WARMUP, then key=value lines
like the C benchmarks (bench/harness.c), shim_loaded and shim_table
included.

  sockclose  socket.socket() + close(), one thread
  http       http.client GET requests on one keep-alive connection to a
             local server (a thread of this process)
"""
import http.client
import http.server
import os
import socket
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # headers and body: no 40 ms delayed-ACK stall

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def sockclose(n):
    for _ in range(n):
        socket.socket().close()


def http_client():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    conn = http.client.HTTPConnection(*srv.server_address)

    def run(n):
        for _ in range(n):
            conn.request("GET", "/")
            conn.getresponse().read()
    return run


def shim_status():
    with open("/proc/self/maps") as f:
        loaded = "/libsockaudit.so" in f.read()
    prefix = f"sockaudit.{os.geteuid()}.{os.getpid()}."
    d = os.environ.get("SOCKAUDIT_DIR") or "/dev/shm"
    table = any(name.startswith(prefix) for name in os.listdir(d))
    return f"shim_loaded={int(loaded)}\nshim_table={int(table)}"


def main():
    mode, seconds, warm = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    step = sockclose if mode == "sockclose" else http_client()
    batch = 256 if mode == "sockclose" else 32
    step(warm)
    ops, c0, t0 = 0, time.process_time_ns(), time.monotonic_ns()
    end = t0 + int(seconds * 1e9)
    while True:
        step(batch)
        ops += batch
        t1 = time.monotonic_ns()
        if t1 >= end:
            break
    c1 = time.process_time_ns()
    print(f"bench=python-{mode}\nthreads=1\nops={ops}\nseconds={(t1 - t0) / 1e9:.6f}")
    print(f"ops_per_sec={ops * 1e9 / (t1 - t0):.1f}\ncpu_ns_per_op={(c1 - c0) / ops:.1f}")
    print(shim_status())


main()
