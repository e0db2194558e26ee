#!/usr/bin/python3
"""Interop of sockaudit-rpc with Apache Thrift itself (TAP output).

usage: interop.py THRIFT-COMPILER|'' PRICE.THRIFT SOCKAUDIT-RPC THRIFT-VECTORS.H

Generates Python code from repro/price.thrift with the thrift compiler,
then (a) checks that the known-answer frames of tests/repro/thrift-vectors.h
are byte for byte what python3-thrift writes for the same messages,
(b) drives our server with python3-thrift's framed/binary client and
(c) points our client at a python3-thrift framed/binary server.  Prints
"1..0 # SKIP" only when the compiler or python3-thrift is missing, and
fails instead under SOCKAUDIT_STRICT=1 (tools/install-deps installs both).
"""

import logging
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import Tap  # noqa: E402  (tests/lib/tap.py, shared)

WAIT_S = 10


def skip(why):
    if os.environ.get("SOCKAUDIT_STRICT") == "1":
        print("1..1\nnot ok 1 - %s (a skip is a failure under "
              "SOCKAUDIT_STRICT=1)" % why, flush=True)
        sys.exit(1)
    print("1..0 # SKIP " + why, flush=True)
    sys.exit(0)


def read_vectors(path):
    """{name: bytes} of the `static const char NAME[] = "hex" ...;` arrays
    of thrift-vectors.h: the string literals concatenated, spaces dropped,
    comments ignored."""
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    vectors = {}
    for m in re.finditer(r"static const char (\w+)\[\] =(.*?);", text, re.S):
        hexs = "".join(re.findall(r'"([^"]*)"', m.group(2)))
        vectors[m.group(1)] = bytes.fromhex(hexs.replace(" ", ""))
    return vectors


def python_frames(gen):
    """The frames python3-thrift writes (framed transport, strict binary
    protocol) for the messages thrift-vectors.h describes."""
    from thrift.Thrift import TApplicationException, TMessageType
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TTransport

    PriceService, PriceReq, PriceRes, Trace = gen

    def frame(write):
        mem = TTransport.TMemoryBuffer()
        trans = TTransport.TFramedTransport(mem)
        proto = TBinaryProtocol.TBinaryProtocol(trans, strictRead=True,
                                                strictWrite=True)
        write(proto)
        trans.flush()
        return mem.getvalue()

    # What the generated Client.send_Price writes, but with seqid 1 and
    # without its own flush (frame() flushes once: one frame).
    def call(proto):
        proto.writeMessageBegin("Price", TMessageType.CALL, 1)
        PriceService.Price_args(req=PriceReq(
            Area=1, Trace=Trace(TraceId="s", Caller="d",
                                SpanId="f"))).write(proto)
        proto.writeMessageEnd()

    def reply(proto):
        proto.writeMessageBegin("Price", TMessageType.REPLY, 1)
        PriceService.Price_result(
            success=PriceRes(ErrNo=0, PassengerDiscount=0.4)).write(proto)
        proto.writeMessageEnd()

    def exception(proto):
        proto.writeMessageBegin("Nope", TMessageType.EXCEPTION, 7)
        TApplicationException(TApplicationException.UNKNOWN_METHOD,
                              "Unknown function Nope").write(proto)
        proto.writeMessageEnd()

    return {"call_hex": frame(call), "reply_hex": frame(reply),
            "exc_hex": frame(exception)}


def vectors_match_python_thrift(tap, gen, vectors_path):
    ours = read_vectors(vectors_path)
    theirs = python_frames(gen)
    tap.ok(sorted(ours) == sorted(theirs),
           "thrift-vectors.h holds exactly %s (%s)"
           % (", ".join(sorted(theirs)), ", ".join(sorted(ours))))
    for name, want in sorted(theirs.items()):
        got = ours.get(name)
        if not tap.ok(got == want,
                      "%s is byte for byte what python3-thrift writes "
                      "(%d bytes)" % (name, len(want))):
            tap.diag("python3-thrift: " + want.hex())
            tap.diag("vectors.h:      " + (got.hex() if got else "missing"))


def bail(why):
    print("Bail out! " + why, flush=True)
    sys.exit(1)


def read_line(stream, timeout):
    """One line from a pipe, or None when it does not come in time."""
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([stream], [], [], left)
        if not ready:
            return None
        chunk = os.read(stream.fileno(), 1)
        if not chunk:
            return None
        data += chunk
    return data.decode()


def wait_file_contains(path, needle, timeout):
    deadline = time.monotonic() + timeout
    while True:
        with open(path, encoding="utf-8", errors="replace") as f:
            if needle in f.read():
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def start_our_server(rpc, log_path):
    log = open(log_path, "w")
    proc = subprocess.Popen([rpc, "server", "--listen", "127.0.0.1:0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=log)
    log.close()
    line = read_line(proc.stdout, WAIT_S)
    prefix = "listening on 127.0.0.1:"
    if not line or not line.startswith(prefix):
        proc.kill()
        bail("our server did not report its port: %r" % line)
    return proc, int(line[len(prefix):])


def python_client_against_our_server(tap, rpc, gen, tmp):
    from thrift.Thrift import TApplicationException, TMessageType
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport

    PriceService, PriceReq, PriceRes, Trace = gen
    log_path = os.path.join(tmp, "server.log")
    proc, port = start_our_server(rpc, log_path)
    tap.diag("our server on 127.0.0.1:%d" % port)
    try:
        sock = TSocket.TSocket("127.0.0.1", port)
        sock.setTimeout(WAIT_S * 1000)
        trans = TTransport.TFramedTransport(sock)
        proto = TBinaryProtocol.TBinaryProtocol(trans, strictRead=True,
                                                strictWrite=True)
        client = PriceService.Client(proto)
        trans.open()

        req = PriceReq(Area=1, Trace=Trace(TraceId="s", Caller="d",
                                            SpanId="f"))
        res = client.Price(req)
        tap.ok(isinstance(res, PriceRes), "python client gets a PriceRes")
        tap.ok(res.ErrNo == 0 and type(res.ErrNo) is int,
               "ErrNo is the i32 0 (%r)" % (res.ErrNo,))
        tap.ok(res.PassengerDiscount == 0.4 and
               type(res.PassengerDiscount) is float,
               "PassengerDiscount is the double 0.4 (%r)"
               % (res.PassengerDiscount,))

        results = [client.Price(req) for _ in range(3)]
        tap.ok(all(r.ErrNo == 0 and r.PassengerDiscount == 0.4
                   for r in results),
               "three more calls on the same transport")

        big = PriceReq(Area=-5, Trace=Trace(TraceId="x" * 200000,
                                            Caller="", SpanId=None))
        res = client.Price(big)
        tap.ok(res.ErrNo == 0 and res.PassengerDiscount == 0.4,
               "200 kB TraceId and unset SpanId are served")

        # A method the service does not have, written by hand.
        proto.writeMessageBegin("Nope", TMessageType.CALL, 77)
        proto.writeStructBegin("Nope_args")
        proto.writeFieldStop()
        proto.writeStructEnd()
        proto.writeMessageEnd()
        trans.flush()
        name, mtype, seqid = proto.readMessageBegin()
        exc = TApplicationException()
        exc.read(proto)
        proto.readMessageEnd()
        tap.ok(name == "Nope" and mtype == TMessageType.EXCEPTION and
               seqid == 77,
               "unknown method: EXCEPTION with the same name and seqid "
               "(%r, %r, %r)" % (name, mtype, seqid))
        tap.ok(exc.type == TApplicationException.UNKNOWN_METHOD,
               "exception type is UNKNOWN_METHOD (%r)" % (exc.type,))
        tap.ok(exc.message == "Unknown function Nope",
               "exception message (%r)" % (exc.message,))

        res = client.Price(req)
        tap.ok(res.ErrNo == 0 and res.PassengerDiscount == 0.4,
               "transport still usable after the exception")
        trans.close()
        tap.ok(wait_file_contains(log_path, ", 7 requests)", WAIT_S),
               "server logged the close after 7 requests")

        try:
            from thrift.protocol import fastbinary  # noqa: F401
            accel = True
        except ImportError:
            accel = False
        if accel:
            sock = TSocket.TSocket("127.0.0.1", port)
            sock.setTimeout(WAIT_S * 1000)
            trans = TTransport.TFramedTransport(sock)
            proto = TBinaryProtocol.TBinaryProtocolAccelerated(
                trans, strictRead=True, strictWrite=True)
            trans.open()
            res = PriceService.Client(proto).Price(req)
            trans.close()
            tap.ok(res.ErrNo == 0 and res.PassengerDiscount == 0.4,
                   "accelerated (C) binary protocol client")
        else:
            tap.diag("thrift.protocol.fastbinary missing: accelerated "
                     "client not tried")
    finally:
        alive = proc.poll() is None
        proc.terminate()
        proc.wait(timeout=WAIT_S)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        if not tap.ok(alive and "Sanitizer" not in log and
                      "runtime error" not in log,
                      "our server ran to the end without a crash report"):
            tap.diag(log)


def python_server(gen, handler):
    from thrift.protocol import TBinaryProtocol
    from thrift.server import TServer
    from thrift.transport import TSocket, TTransport

    PriceService = gen[0]

    class ListenOnce(TSocket.TServerSocket):
        """Listens once, so the port is known before serve() is called."""

        def listen(self):
            if self.handle is None:
                super().listen()

    ss = ListenOnce(host="127.0.0.1", port=0,
                    socket_family=socket.AF_INET)
    ss.listen()
    port = ss.handle.getsockname()[1]
    server = TServer.TThreadedServer(
        PriceService.Processor(handler), ss,
        TTransport.TFramedTransportFactory(),
        TBinaryProtocol.TBinaryProtocolFactory(strictRead=True,
                                               strictWrite=True),
        daemon=True)
    threading.Thread(target=server.serve, daemon=True).start()
    return port


def our_client_against_python_server(tap, rpc, gen):
    PriceService, PriceReq, PriceRes, Trace = gen

    class Handler:
        def __init__(self):
            self.seen = []
            self.fail = False
            self.lock = threading.Lock()

        def Price(self, req):
            with self.lock:
                self.seen.append(req)
            if self.fail:
                raise ValueError("handler told to fail")
            # A wrong field turns into an exception reply: the client
            # output check below fails then too.
            assert req.Area == 7, req
            assert req.Trace.TraceId == "T1", req
            assert req.Trace.Caller == "C1", req
            assert req.Trace.SpanId == "S1", req
            return PriceRes(ErrNo=3, PassengerDiscount=0.25)

    handler = Handler()
    port = python_server(gen, handler)
    tap.diag("python3-thrift server on 127.0.0.1:%d" % port)
    base = [rpc, "client", "--connect", "127.0.0.1:%d" % port,
            "--timeout", "5s", "--area", "7", "--trace-id", "T1",
            "--caller", "C1", "--span-id", "S1"]
    want_ok = "ErrNo=3 PassengerDiscount=0.25\ntransport: open\n"

    for extra, what in ((["--calls", "2"], "one connection"),
                        (["--calls", "2", "--conn-per-call"],
                         "--conn-per-call")):
        handler.seen = []
        r = subprocess.run(base + extra, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
        if not tap.ok(r.returncode == 0 and r.stdout == want_ok * 2,
                      "our client, %s: two ErrNo=3 PassengerDiscount=0.25 "
                      "results (exit %d)" % (what, r.returncode)):
            tap.diag("stdout: %r\nstderr: %r" % (r.stdout, r.stderr))
        fields = [(q.Area, q.Trace and q.Trace.TraceId,
                   q.Trace and q.Trace.Caller, q.Trace and q.Trace.SpanId)
                  for q in handler.seen]
        tap.ok(fields == [(7, "T1", "C1", "S1")] * 2,
               "python handler received Area/TraceId/Caller/SpanId: %r"
               % (fields,))

    handler.fail = True
    r = subprocess.run(base, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=60)
    tap.ok(r.returncode == 1 and
           r.stdout == "error: exception: Internal error\ntransport: open\n",
           "python handler failure reaches our client as an exception "
           "(exit %d, %r)" % (r.returncode, r.stdout))


def main():
    if len(sys.argv) != 5:
        bail("usage: interop.py THRIFT-COMPILER PRICE.THRIFT SOCKAUDIT-RPC "
             "THRIFT-VECTORS.H")
    thrift_bin, idl, rpc, vectors_path = sys.argv[1:]
    if not thrift_bin or not os.access(thrift_bin, os.X_OK):
        skip("thrift compiler not found")
    try:
        import thrift  # noqa: F401
        from thrift.transport import TTransport  # noqa: F401
    except ImportError:
        skip("python3-thrift is not installed for %s" % sys.executable)
    rpc = os.path.abspath(rpc)

    # The handler-failure case logs a traceback by design: keep it quiet.
    logging.getLogger().addHandler(logging.NullHandler())

    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="sockaudit-interop-") as tmp:
        r = subprocess.run([thrift_bin, "--gen", "py", "-out", tmp, idl],
                           capture_output=True, text=True, timeout=120)
        if not tap.ok(r.returncode == 0, "thrift --gen py %s" % idl):
            tap.diag(r.stderr)
            return tap.done()
        sys.path.insert(0, tmp)
        from price import PriceService
        from price.ttypes import PriceReq, PriceRes, Trace
        gen = (PriceService, PriceReq, PriceRes, Trace)

        vectors_match_python_thrift(tap, gen, vectors_path)

        python_client_against_our_server(tap, rpc, gen, tmp)
        our_client_against_python_server(tap, rpc, gen)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
