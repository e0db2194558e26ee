#!/usr/bin/python3
"""sockaudit watch (TAP): plain lines off a terminal or with NO_COLOR, and
the ncurses view in a real terminal (tmux: send-keys, capture-pane),
including a resize, q and Ctrl-C, each of which must restore the terminal.
Every wait has a deadline; every process and the tmux server started here
are killed, every directory removed.

Environment: SOCKAUDIT, SOCKAUDIT_SHIM, SC_COUNTS, TMUX_BIN (empty: the
terminal cases skip) and WATCH_PYTHON (/usr/bin/python3; empty: the garbage
collector's case, with gc.py, skips).
"""

import os
import re
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from live import Live, poll, wait_exit  # noqa: E402  (tests/lib/, shared)
from tap import Tap  # noqa: E402

tap = Tap()
ok, diag, skip = tap.ok, tap.diag, tap.skip
live = None   # main()'s case: its directories and processes


def start(argv, **kw):
    return live.start(argv, **kw)


def read_until(p, pattern, seconds):
    """Read p's stdout until `pattern` has matched `times` blocks; the text."""
    out = b""
    end = time.monotonic() + seconds
    fd = p.stdout.fileno()
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            b = os.read(fd, 65536)
            if not b:
                break
            out += b
            if pattern(out.decode(errors="replace")):
                break
    return out.decode(errors="replace")


def main():
    global live
    live = Live("sockaudit-watch.")
    env = dict(live.env)
    env.pop("NO_COLOR", None)
    tmux = os.environ.get("TMUX_BIN")
    sock = f"sockaudit-watch-{os.getpid()}"
    try:
        run(env, tmux, sock)
    finally:
        if tmux:
            subprocess.run([tmux, "-L", sock, "-f", "/dev/null", "kill-server"],
                           capture_output=True, timeout=10)
        live.close(diag)
    return tap.done()


def run(env, tmux, sock):
    sa = os.environ["SOCKAUDIT"]
    lk = live.leaker(env)
    if not ok(lk is not None, "the leaking program runs under the shim"):
        return
    pid = str(lk.pid)
    site = re.compile(r"count_client sc-counts\.c:\d+")

    # Plain lines: NO_COLOR, and not a terminal.
    for what, extra in (("NO_COLOR", {"NO_COLOR": "1"}), ("not a terminal", {})):
        w = start([sa, "watch", "--interval", "200ms", "--close-wait", "300ms", pid],
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env, **extra))
        text = read_until(w, lambda t: len(re.findall(r"^\d\d:\d\d:\d\d pid ", t, re.M)) >= 3,
                          15)
        blocks = re.findall(r"^\d\d:\d\d:\d\d pid (\d+) \(sc-counts\): (\d+) sockets, (\d+) flagged",
                            text, re.M)
        ok(len(blocks) >= 3 and blocks[0][0] == pid and site.search(text) and
           "\x1b" not in text,
           f"{what}: plain periodic lines, no escape sequences ({len(blocks)} blocks)")
        ok(len(blocks) >= 3 and int(blocks[-1][1]) > int(blocks[0][1]),
           f"{what}: the held count follows the growing process")
        w.send_signal(signal.SIGINT)
        ok(wait_exit(w, 10) == 0, f"{what}: SIGINT ends it with 0")

    # -A: every audited process, one line each, plain off a terminal.
    w = start([sa, "watch", "-A", "--interval", "200ms", "--close-wait", "300ms"],
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env, NO_COLOR="1"))
    text = read_until(w, lambda t: len(re.findall(r"^\d\d:\d\d:\d\d host: ", t, re.M)) >= 3, 15)
    rows = re.findall(rf"^  pid {pid} \(sc-counts\) held (\d+) flagged (\d+) \[[^\]]*\] (.*)$",
                      text, re.M)
    ok(len(rows) >= 3 and site.search(rows[-1][2]) and "\x1b" not in text,
       f"-A: plain lines, a row for the leaking process with its site ({len(rows)} rows)")
    ok(len(rows) >= 3 and int(rows[-1][0]) > int(rows[0][0]),
       "-A: the row's held count follows the growing process")
    w.send_signal(signal.SIGINT)
    ok(wait_exit(w, 10) == 0, "-A: SIGINT ends it with 0")

    # Closes a garbage collector made: CPython's, of the two connections
    # gc.py drops, in the BY GC column of the plain lines.
    py = os.environ.get("WATCH_PYTHON", "")
    if not py:
        skip("no /usr/bin/python3: the garbage collector's closes")
    else:
        gp = start([py, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gc.py")],
                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                   env=dict(env, LD_PRELOAD=os.environ["SOCKAUDIT_SHIM"]))
        ready = read_until(gp, lambda t: "ready" in t, 30)
        w = start([sa, "watch", "--interval", "200ms", str(gp.pid)], stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, env=dict(env, NO_COLOR="1"))
        row = re.compile(r"^  held 1 flagged \d+ opened/closed/by-gc +3 +2 +2 \[[^\]]*\] "
                         r"connect gc\.py:\d+$", re.M)
        text = read_until(w, lambda t: row.search(t), 15)
        ok("ready" in ready and row.search(text),
           "by-gc: a site that opened 3 and kept 1: closed 2, both by CPython's collector")
        if not row.search(text):
            diag(text.rstrip())
        w.send_signal(signal.SIGINT)
        ok(wait_exit(w, 10) == 0, "by-gc: SIGINT ends it with 0")
        gp.stdin.close()
        wait_exit(gp, 10)

    # Bad input.
    for args, what in (([], "no pid"), (["abc"], "not a pid"), (["1", "2"], "two pids"),
                       (["--interval", "10ms", pid], "an interval under 100ms"),
                       (["--bogus", pid], "an unknown option"),
                       ([str(os.getpid())], "a process without a table"),
                       (["-A", pid], "-A with a pid")):
        r = subprocess.run([sa, "watch"] + args, capture_output=True, text=True, timeout=30,
                           env=env)
        ok(r.returncode == 2 and r.stderr.count("\n") == 1 and r.stdout == "",
           f"watch {' '.join(args) or '(nothing)'}: {what}: one line, exit 2 "
           f"({r.stderr.strip()!r})")

    if not tmux:
        for what in ("view", "resize", "q", "Ctrl-C", "-A"):
            skip(f"tmux is not installed: the terminal {what} case")
        return

    def t(*args):
        # -f: no user configuration, whichever command starts the server.
        return subprocess.run([tmux, "-L", sock, "-f", "/dev/null"] + list(args),
                              capture_output=True, text=True, timeout=10)

    def screen():
        return t("capture-pane", "-p", "-t", "w").stdout

    def session(name, target=pid):
        cmd = (f"LANG=C.UTF-8 TERM=screen {sa} watch --interval 200ms --close-wait 300ms {target}; "
               "echo WATCH-EXIT=$?; sleep 60")
        # The shell must outlive a Ctrl-C to say how watch ended: a trap
        # (not an ignore) is reset to the default in watch itself.
        cmd = "trap : INT; " + cmd
        return t("new-session", "-d", "-s", name, "-x", "100", "-y", "20",
                 "env", f"SOCKAUDIT_DIR={env['SOCKAUDIT_DIR']}", "sh", "-c", cmd)

    def quit_watch(key, what):
        """Send `key` to the watch in session w: it ends with 0 and leaves no
        view behind, the alternate screen off."""
        t("send-keys", "-t", "w", key)
        done = poll(lambda: (lambda s: s if "WATCH-EXIT=" in s else None)(screen()), 10)
        ok(done is not None and "WATCH-EXIT=0" in done and "HELD" not in done and
           t("display-message", "-p", "-t", "w", "#{alternate_on}").stdout.strip() == "0", what)
        t("kill-session", "-t", "w")

    # A session that outlives the others: a server left without one
    # exits, and the next new-session could meet it exiting.
    t("new-session", "-d", "-s", "keep", "sleep", "600")
    r = session("w")
    if not ok(r.returncode == 0, "tmux session started"):
        diag(r.stderr)
        return
    view = poll(lambda: (lambda s: s if "HELD OVER TIME" in s and site.search(s) else None)(
        screen()), 15)
    ok(view is not None and "sockaudit watch " + pid in view,
       "the view: header, the group's site and a sparkline column")
    if view:
        diag(view.rstrip())
        ok(re.search(r"[\u2581-\u2588]", view) is not None, "a sparkline of the held sockets")
    t("resize-window", "-t", "w", "-x", "60", "-y", "12")
    small = poll(lambda: (lambda s: s if "HELD OVER TIME" not in s and "count_client" in s and
                          max(len(x) for x in s.splitlines() or [""]) <= 60 else None)(screen()), 10)
    ok(small is not None, "resized to 60x12: redrawn to fit, the sparkline column dropped")
    t("resize-window", "-t", "w", "-x", "120", "-y", "24")
    big = poll(lambda: "HELD OVER TIME" in screen(), 10)
    ok(big, "resized to 120x24: the sparkline column is back")
    quit_watch("q", "q quits with 0 and restores the terminal (no view left, alternate "
         "screen off)")

    r = session("w")
    if r.returncode:
        diag(r.stderr)
    poll(lambda: site.search(screen()) is not None, 15)
    quit_watch("C-c", "Ctrl-C quits with 0 and restores the terminal (alternate screen off)")

    # -A in the terminal: a row per process, resized, q.
    r = session("w", "-A")
    if r.returncode:
        diag(r.stderr)
    row = re.compile(rf"^\s*{pid} sc-counts\s+\d+\s+\d+\s.*count_client sc-counts\.c:\d+", re.M)
    view = poll(lambda: (lambda s: s if "sockaudit watch -A" in s and row.search(s) and
                         "HELD OVER TIME" in s else None)(screen()), 15)
    ok(view is not None, "-A: the view: header, a row for the leaking process with its site")
    if view:
        diag(view.rstrip())
        ok(re.search(r"[\u2581-\u2588]", view) is not None, "-A: a sparkline of its held sockets")
    t("resize-window", "-t", "w", "-x", "60", "-y", "12")
    small = poll(lambda: (lambda s: s if "HELD OVER TIME" not in s and f"{pid} sc-counts" in s and
                          max(len(x) for x in s.splitlines() or [""]) <= 60 else None)(screen()), 10)
    ok(small is not None, "-A: resized to 60x12: redrawn to fit")
    t("resize-window", "-t", "w", "-x", "120", "-y", "24")
    quit_watch("q", "-A: q quits with 0 and restores the terminal")

    # The process ending ends the watch.
    w = start([sa, "watch", "--interval", "200ms", pid], stdout=subprocess.PIPE,
              stderr=subprocess.PIPE, env=dict(env, NO_COLOR="1"))
    read_until(w, lambda s: "pid " in s, 10)
    lk.stdin.close()
    wait_exit(lk, 10)
    rc = wait_exit(w, 15)
    err = w.stderr.read().decode()
    ok(rc == 0 and "exited" in err, f"the process exits: watch says so and ends with 0 ({err.strip()!r})")


if __name__ == "__main__":
    sys.exit(main())
