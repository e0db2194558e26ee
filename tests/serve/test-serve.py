#!/usr/bin/python3
"""sockaudit serve end to end (TAP).

A leaking program runs under the shim; `sockaudit serve` listens on a free
loopback port; the page passes `promtool check metrics`; a real Prometheus,
started here with a generated config, scrapes it (OpenMetrics, as
Prometheus asks for it) and its HTTP API returns the leaking process's
flagged series. Then bad input: malformed requests, an oversized header,
unknown paths and methods, slow clients, many concurrent scrapes; the
server answers each with a clear HTTP error, keeps serving and keeps its
memory bounded. The alert rules of docs/monitoring.md pass `promtool check
rules` and `promtool test rules`. Every wait has a deadline; every process
started here is killed and reaped, every directory removed.

Environment: SOCKAUDIT, SOCKAUDIT_SHIM, SC_COUNTS (the scenario program),
MONITORING_MD, RULES_TEST, PROMETHEUS and PROMTOOL (empty: not installed).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from deadline import read_line  # noqa: E402  (tests/lib/, shared)
from live import Live, poll  # noqa: E402
from tap import Tap  # noqa: E402

tap = Tap()
ok, diag = tap.ok, tap.diag
live = None   # main()'s case: its directories and processes


def start(argv, **kw):
    return live.start(argv, **kw)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(url, method="GET", headers=None, data=None, timeout=10):
    """(status, headers, body) or (None, None, error)."""
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()
    except (OSError, urllib.error.URLError) as e:
        return None, None, str(e)


def raw(port, payload, timeout=10):
    """Send bytes on a fresh connection; what came back before it closed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        out = b""
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass   # the server answered and closed before all of it went
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            out += b
        return out.decode(errors="replace")
    finally:
        s.close()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def rules_from_doc(path):
    """The YAML block after the rules-file marker in docs/monitoring.md."""
    text = open(path).read()
    m = re.search(r"<!-- rules-file: sockaudit-rules.yml -->\s*```yaml\n(.*?)```", text, re.S)
    return m.group(1) if m else None


def case_rules(tmp):
    promtool = os.environ.get("PROMTOOL")
    rules = rules_from_doc(os.environ["MONITORING_MD"])
    if not ok(rules is not None, "docs/monitoring.md has the alert rules block"):
        return
    with open(os.path.join(tmp, "sockaudit-rules.yml"), "w") as f:
        f.write(rules)
    shutil.copy(os.environ["RULES_TEST"], os.path.join(tmp, "rules-test.yml"))
    r = subprocess.run([promtool, "check", "rules", "sockaudit-rules.yml"], cwd=tmp,
                       capture_output=True, text=True, timeout=60)
    ok(r.returncode == 0, "promtool check rules accepts the documented rules")
    if r.returncode:
        diag(r.stdout + r.stderr)
    r = subprocess.run([promtool, "test", "rules", "rules-test.yml"], cwd=tmp,
                       capture_output=True, text=True, timeout=60)
    ok(r.returncode == 0, "promtool test rules: the alerts fire when and as expected")
    if r.returncode:
        diag(r.stdout + r.stderr)


def main():
    promtool = os.environ.get("PROMTOOL")
    prometheus = os.environ.get("PROMETHEUS")
    if not promtool or not prometheus:
        if os.environ.get("CI") or os.environ.get("SOCKAUDIT_STRICT") == "1":
            print("Bail out! prometheus and promtool are not installed (tools/install-deps); "
                  "no skip under CI or SOCKAUDIT_STRICT=1", flush=True)
            return 1
        print("1..0 # SKIP prometheus and promtool are not installed (tools/install-deps)")
        return 0
    global live
    live = Live("sockaudit-serve.")
    try:
        run(live.tmp, live.tables, live.env, prometheus, promtool)
        case_rules(live.tmp)
    finally:
        live.close(diag)
    return tap.done()


def run(tmp, tables, env, prometheus, promtool):
    leaker = live.leaker(env)
    if not ok(leaker is not None, "the leaking program runs under the shim"):
        return
    leak_pid = leaker.pid

    # Under AddressSanitizer freed memory waits in a quarantine of up to
    # 256 MB before reuse: without it, RSS measures serve, not ASan.
    senv = dict(env)
    if "ASAN_OPTIONS" in senv:
        senv["ASAN_OPTIONS"] += ":quarantine_size_mb=0"
    serve = start([os.environ["SOCKAUDIT"], "serve", "--listen", "127.0.0.1:0",
                   "--close-wait", "300ms", "--top", "5"],
                  stderr=subprocess.PIPE, env=senv)
    first = read_line(serve.stderr, 30) or ""
    m = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", first)
    if not ok(m is not None, f"serve says where it listens: {first.strip()}"):
        return
    port = int(m.group(1))
    base = f"http://127.0.0.1:{port}"

    want = f'sockaudit_flagged_sockets{{pid="{leak_pid}",comm="sc-counts",kind="close-wait"'
    page = poll(lambda: (lambda r: r[2] if r[0] == 200 and want in r[2] else None)(
        http(base + "/metrics")), 15)
    ok(page is not None, "GET /metrics: 200 with the leaking process's flagged series")
    if page:
        ok(re.search(r'site="count_client sc-counts\.c:\d+"', page) is not None,
           "the flagged series names the site: function file:line")
        ok(re.search(rf'sockaudit_site_opened_total{{pid="{leak_pid}",comm="sc-counts",'
                     r'site="count_client sc-counts\.c:\d+"} \d+', page) is not None,
           "per-site opened counter for the leaking site")
        ok(re.search(rf'sockaudit_site_collected_total{{pid="{leak_pid}",comm="sc-counts",'
                     r'site="count_client sc-counts\.c:\d+"} 0\n', page) is not None,
           "per-site collected counter: 0, the program closed its own")
        r = subprocess.run([promtool, "check", "metrics"], input=page, capture_output=True,
                           text=True, timeout=60)
        ok(r.returncode == 0, "promtool check metrics accepts the page")
        if r.returncode:
            diag(r.stdout + r.stderr)
    st, hd, body = http(base + "/metrics", headers={
        "Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"})
    ok(st == 200 and hd["Content-Type"].startswith("application/openmetrics-text") and
       body.endswith("# EOF\n"), "OpenMetrics when the scraper asks for it")

    # A real Prometheus scrapes it; its API finds the flagged series.
    pport = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: sockaudit\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{port}']\n")
    prom = start([prometheus, f"--config.file={cfg}",
                  f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
                  f"--web.listen-address=127.0.0.1:{pport}", "--log.level=error"],
                 stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prom.log"), "w"))
    q = urllib.parse.quote(f'sockaudit_flagged_sockets{{pid="{leak_pid}",kind="close-wait"}}')

    def flagged_in_prometheus():
        st, _, body = http(f"http://127.0.0.1:{pport}/api/v1/query?query={q}", timeout=5)
        if st != 200:
            return None
        res = json.loads(body)["data"]["result"]
        return res if res and float(res[0]["value"][1]) > 0 else None

    res = poll(flagged_in_prometheus, 60, 0.5)
    ok(res is not None, "Prometheus scraped serve and its API returns the flagged series")
    if res:
        diag(json.dumps(res[0]["metric"]))
    st, _, body = http(f"http://127.0.0.1:{pport}/api/v1/targets", timeout=5)
    target = json.loads(body)["data"]["activeTargets"][0] if st == 200 else {}
    ok(target.get("health") == "up" and not target.get("lastError"),
       f"the target is up, no scrape error ({target.get('lastError')!r})")
    prom.send_signal(signal.SIGTERM)
    try:
        prom.wait(timeout=20)
    except subprocess.TimeoutExpired:
        prom.kill()

    # Bad input.
    t0 = time.monotonic()
    out = raw(port, b"GARBAGE\r\n\r\n")
    # No method, path and version: no HTTP to answer in; the connection
    # is closed at once (libmicrohttpd), never left hanging.
    ok(out in ("",) or out.startswith("HTTP/1.1 400"),
       f"not a request line: closed at once or 400 ({out[:20]!r}, "
       f"{time.monotonic() - t0:.1f} s)")
    out = raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
    ok(out.startswith("HTTP/1.1 400"), f"a malformed Content-Length: 400 ({out[:20]!r})")
    out = raw(port, b"GET /metrics HTTP/7.5\r\nHost: x\r\n\r\n")
    ok(out.startswith("HTTP/1.1 505"), f"an unknown HTTP version: 505 ({out[:20]!r})")
    st, _, body = http(base + "/metrics", data=b"x" * 1000, method="GET")
    ok(st == 400 and "body" in body, "GET with a body: 400")
    out = raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
    ok(re.match(r"HTTP/1\.1 4\d\d", out) is not None, f"a 100 KB header: a 4xx ({out[:28]!r})")
    st, _, body = http(base + "/nope")
    ok(st == 404 and "/metrics" in body, "an unknown path: 404 naming /metrics")
    st, hd, body = http(base + "/metrics", method="POST", data=b"x=1")
    ok(st == 405 and hd["Allow"] == "GET, HEAD" and "read-only" in body,
       "POST: 405, Allow: GET, HEAD")
    st, hd, body = http(base + "/metrics", method="DELETE")
    ok(st == 405, "DELETE: 405")
    st, _, body = http(base + "/metrics", method="HEAD")
    ok(st == 200 and body == "", "HEAD: 200 without a body")

    # Slow clients hold connections half-sent; others are still served.
    slow = []
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    t0 = time.monotonic()
    st, _, _ = http(base + "/metrics", timeout=10)
    ok(st == 200 and time.monotonic() - t0 < 8, "served while 8 slow clients hold connections")

    def closed_by_server(s):
        try:
            return s.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return True

    slow[0].settimeout(25)
    t0 = time.monotonic()
    ok(closed_by_server(slow[0]) and time.monotonic() - t0 < 25,
       "a slow client is disconnected after the idle timeout")
    for s in slow:
        s.close()

    # Many concurrent scrapes, beyond the connection limit: each is answered
    # or refused, none hangs; memory stays bounded.
    before = rss_kb(serve.pid)
    results = []
    collections = set()
    dur = re.compile(r"^sockaudit_scrape_duration_seconds (\S+)$", re.M)

    def scrape():
        st, _, body = http(base + "/metrics", timeout=60)
        results.append(st)
        m = dur.search(body or "") if st == 200 else None
        if m:
            collections.add(m.group(1))

    t0 = time.monotonic()
    for _ in range(3):
        threads = [threading.Thread(target=scrape) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
    spent = time.monotonic() - t0
    answered = results.count(200)
    ok(len(results) == 300 and answered >= 64,
       f"300 concurrent scrapes: {answered} answered, the rest refused, none hung")
    # The default --min-interval is 1s: scrapes within it share one
    # collection (each has its own scrape duration, to the nanosecond).
    ok(answered and len(collections) <= int(spent) + 2,
       f"rate limited: {answered} answers from {len(collections)} collections in {spent:.1f} s")
    after = rss_kb(serve.pid)
    ok(after - before < 32 * 1024, f"memory bounded: RSS {before} KB before, {after} KB after")
    st, _, body = http(base + "/metrics")
    ok(st == 200 and want in body, "still serving after all that")
    ok(serve.poll() is None, "serve never exited")

    # Past the interval a scrape collects anew.
    first = dur.search(http(base + "/metrics")[2] or "")
    again = poll(lambda: (lambda m: m if m and first and m.group(1) != first.group(1) else None)(
        dur.search(http(base + "/metrics")[2] or "")), 10, 0.3)
    ok(first is not None and again is not None, "after the interval, a new collection")
    case_no_min_interval(env, want)

    serve.send_signal(signal.SIGTERM)
    try:
        rc = serve.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    ok(rc == 0, f"SIGTERM: exit 0 ({rc})")

    # --textfile writes the same page atomically.
    path = os.path.join(tmp, "sockaudit.prom")
    r = subprocess.run([os.environ["SOCKAUDIT"], "serve", "--textfile", path, "--once",
                        "--close-wait", "300ms"], env=env, capture_output=True, text=True,
                       timeout=60)
    text = open(path).read() if os.path.exists(path) else ""
    ok(r.returncode == 0 and want in text and oct(os.stat(path).st_mode & 0o777) == "0o644" and
       not [n for n in os.listdir(tmp) if n.startswith(".sockaudit.prom")],
       "--textfile --once: the page, mode 0644, no temporary file left")
    case_planted(tables, env, leak_pid, want)
    leaker.stdin.close()
    try:
        leaker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        leaker.kill()


def case_no_min_interval(env, want):
    """--min-interval 0: every scrape collects; a bad value is refused."""
    s2 = start([os.environ["SOCKAUDIT"], "serve", "--listen", "127.0.0.1:0",
                "--close-wait", "300ms", "--min-interval", "0"], stderr=subprocess.PIPE, env=env)
    line = read_line(s2.stderr, 30) or ""
    m = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", line)
    if not ok(m is not None, f"--min-interval 0: serve listens ({line.strip()})"):
        return
    url = f"http://127.0.0.1:{m.group(1)}/metrics"
    dur = re.compile(r"^sockaudit_scrape_duration_seconds (\S+)$", re.M)
    pages = [http(url)[2] or "" for _ in range(3)]
    vals = [dur.search(p).group(1) for p in pages if dur.search(p)]
    ok(len(vals) == 3 and len(set(vals)) == 3 and all(want in p for p in pages),
       f"--min-interval 0: three scrapes, three collections ({vals})")
    s2.send_signal(signal.SIGTERM)
    try:
        s2.wait(timeout=20)
    except subprocess.TimeoutExpired:
        s2.kill()
    for args in (["--min-interval", "soon"], ["--textfile", "/tmp/x.prom", "--min-interval", "1s"]):
        r = subprocess.run([os.environ["SOCKAUDIT"], "serve"] + args, capture_output=True,
                           text=True, timeout=30, env=env)
        ok(r.returncode == 2 and r.stderr.count("\n") == 1,
           f"serve {' '.join(args)}: one line, exit 2 ({r.stderr.strip()!r})")


def starttime(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]


def case_planted(tables, env, leak_pid, want):
    """A table named for root but for a process of another user: a forgery
    (any user can write such a file for a pid of root's), never published."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        tap.skip("a planted table needs root and setpriv")
        return
    victim = start([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "60"])
    st = poll(lambda: (lambda s: s if open(f"/proc/{victim.pid}/status").read().find(
        "Uid:\t65534") >= 0 else None)(starttime(victim.pid)), 10)
    src = [n for n in os.listdir(tables) if n.startswith(f"sockaudit.0.{leak_pid}.")]
    if not st or not src:
        ok(False, "a planted table: the victim runs as 65534 and the leaker's table exists")
        return
    with open(os.path.join(tables, src[0]), "rb") as f:
        img = bytearray(f.read())
    # struct sa_header: pid (int32) at 84, starttime (uint64) at 88.
    img[84:88] = victim.pid.to_bytes(4, "little", signed=True)
    img[88:96] = int(st).to_bytes(8, "little")
    planted = os.path.join(tables, f"sockaudit.0.{victim.pid}.{st}")
    fd = os.open(planted, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, bytes(img))
    os.close(fd)
    r = subprocess.run([os.environ["SOCKAUDIT"], "serve", "--textfile",
                        os.path.join(tables, "..", "planted.prom"), "--once"], env=env,
                       capture_output=True, text=True, timeout=60)
    text = open(os.path.join(tables, "..", "planted.prom")).read() if r.returncode == 0 else ""
    # Tables are looked up by process, under the name its own euid gives:
    # the forgery is never opened, and not counted as a process read.
    ok(r.returncode == 0 and f'pid="{victim.pid}"' not in text and want in text,
       "a table named for root for a process of another user is not published")
    os.unlink(planted)
    victim.kill()
    victim.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
