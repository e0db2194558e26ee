#!/usr/bin/python3
"""Language frames end to end (TAP): real programs leak one connection from
each of two functions, on lines marked LEAK-A and LEAK-B in their source;
`sockaudit report` and `sockaudit run` must show two groups, each naming its
function as the language spells it and the marked file:line.

usage: test-lang.py CASE SOCKAUDIT SHIM SOURCE-DIR [PROGRAM...]

CASE says what runs and what the frames must say (CASES below). A program
prints a line starting with "ready" once its leaks are held and exits on EOF
on stdin; given the extra argument "exit" it leaves at once instead.
"""

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

WAIT_S = 20


class Tap:
    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, cond, msg):
        self.count += 1
        if not cond:
            self.failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.count, msg), flush=True)
        return cond

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.count, flush=True)
        return 1 if self.failed else 0


def bail(why):
    print("Bail out! " + why, flush=True)
    sys.exit(1)


def marked_line(path, mark):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.rstrip().endswith(mark):
                return n
    bail("%s: no line marked %s" % (path, mark))


# case -> source file, and for LEAK-A / LEAK-B: the function the frame on that
# line must name, and the prefix of its linkage name (None: not mangled).
def py_case(mode, fa, fb):
    return ("leak.py", {"LEAK-A-" + mode: (fa, None), "LEAK-B-" + mode: (fb, None)})


CASES = {
    "cpp": ("leak.cpp",
            {"LEAK-A": ("feed::Client::open(int)", "_ZN4feed6Client4open"),
             "LEAK-B": ("int feed::reconnect<long>(sockaddr_in const&, long)",
                        "_ZN4feed9reconnectIlEEiRK11sockaddr_inT_")}),
    "rust": ("leak.rs",
             {"LEAK-A": ("leak::feed::Client::open", "_ZN4leak4feed6Client4open17h"),
              "LEAK-B": ("leak::feed::reconnect", "_ZN4leak4feed9reconnect17h")}),
    "rust-v0": ("leak.rs",
                {"LEAK-A": ("<leak::feed::Client>::open", "_R"),
                 "LEAK-B": ("leak::feed::reconnect::<u32>", "_R")}),
    "python-socket": py_case("socket", "socket_a", "Client.open_b"),
    "python-http": py_case("http", "http_a", "http_b"),
    "python-urllib": py_case("urllib", "urllib_a", "urllib_b"),
    "python-requests": py_case("requests", "requests_a", "requests_b"),
    "python-accept": py_case("accept", "accept_a", "accept_b"),
    "python-threads": py_case("socket", "socket_a", "Client.open_b"),
    "python-fork": py_case("socket", "socket_a", "Client.open_b"),
    "python-embed": py_case("socket", "socket_a", "Client.open_b"),
}


class Prog:
    """A program under the shim, stopped at its "ready" line."""

    def __init__(self, argv, env):
        self.p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.ready = None
        deadline = time.monotonic() + WAIT_S
        buf = b""
        while b"\n" not in buf and time.monotonic() < deadline:
            r, _, _ = select.select([self.p.stdout], [], [], 0.2)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
        line = buf.split(b"\n")[0].decode(errors="replace")
        if line.startswith("ready"):
            self.ready = line
            # "ready pid=N": the process to audit is another (a child).
            self.pid = self.p.pid
            for word in line.split():
                if word.startswith("pid="):
                    self.pid = int(word[4:])

    def finish(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return self.p.returncode


def frames_at(doc, base, line):
    """(group, frame) pairs of every frame on base:line."""
    out = []
    for g in doc.get("groups", []):
        for f in g.get("frames", []):
            if f.get("file") and os.path.basename(f["file"]) == base and f.get("line") == line:
                out.append((g, f))
    return out


def same_behaviour(tap, case, argv, shim):
    """A program that meets socket errors and dies of an exception: the same
    output and exit status with and without the shim (also in Python's
    development mode, where the shim adds no hook)."""
    for extra in ([], ["-X", "dev"]):
        cmd = argv[:1] + extra + argv[1:]
        env = dict(os.environ, PYTHONHASHSEED="0")
        env.pop("LD_PRELOAD", None)
        plain = subprocess.run(cmd, env=env, capture_output=True, timeout=60)
        env["LD_PRELOAD"] = shim
        shimmed = subprocess.run(cmd, env=env, capture_output=True, timeout=60)
        tag = " ".join(extra) or "default"
        tap.ok(plain.returncode == shimmed.returncode and plain.returncode == 1,
               "%s (%s): exit status %d with the shim, %d without" %
               (case, tag, shimmed.returncode, plain.returncode))
        tap.ok(plain.stdout == shimmed.stdout and plain.stderr == shimmed.stderr,
               "%s (%s): the same output with and without the shim" % (case, tag)) or \
            tap.diag("without:\n%s%s\nwith:\n%s%s" % (
                plain.stdout.decode(errors="replace"), plain.stderr.decode(errors="replace"),
                shimmed.stdout.decode(errors="replace"),
                shimmed.stderr.decode(errors="replace")))


def check_frames(tap, what, doc, src, expect):
    base = os.path.basename(src)
    groups = []
    for mark, (function, linkage) in sorted(expect.items()):
        line = marked_line(src, mark)
        hits = frames_at(doc, base, line)
        if not tap.ok(len(hits) == 1, "%s: one frame at %s:%d (%s)" % (what, base, line, mark)):
            tap.diag(json.dumps(doc.get("groups", []), indent=1)[:6000])
            continue
        g, f = hits[0]
        groups.append(id(g))
        tap.ok(f.get("function") == function,
               "%s: %s:%d names %s (got %r)" % (what, base, line, function, f.get("function")))
        if linkage is None:
            tap.ok(f.get("linkage") is None, "%s: %s has no linkage name" % (what, function))
        else:
            tap.ok((f.get("linkage") or "").startswith(linkage),
                   "%s: linkage of %s starts %s (got %r)" % (what, function, linkage,
                                                             f.get("linkage")))
    tap.ok(len(groups) == 2 and groups[0] != groups[1],
           "%s: the two call sites are two groups" % what)


def run_json(tap, sockaudit, shim, env, tmp, argv, fail_on):
    """`sockaudit run --fail-on fail_on --json` of argv: (status, stdout, doc)."""
    out = os.path.join(tmp, "run-%d.json" % len(os.listdir(tmp)))
    r = subprocess.run([sockaudit, "run", "--preload", shim, "--fail-on", fail_on, "--json",
                        out, "--color", "never", "--"] + argv, env=env, capture_output=True,
                       timeout=120)
    try:
        with open(out, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        doc = {}
        tap.diag("%s: %s; stderr: %s" % (out, e, r.stderr.decode(errors="replace")))
    return r.returncode, r.stdout.decode(errors="replace"), doc, r.stderr


def case_rawclose(tap, sockaudit, shim, src, progs, env, cli_env, tmp):
    """Closes through libc's syscall() are closes; at exit, a socket closed
    where nothing could see it is not "open at exit"."""
    line = marked_line(src, "LEAK-E")
    prog = Prog(progs, env)
    if not tap.ok(prog.ready is not None, "rawclose: the program is ready"):
        prog.finish()
        tap.diag(prog.p.stderr.read().decode(errors="replace"))
        return
    r = subprocess.run([sockaudit, "report", "--json", "--all", str(prog.pid)], env=cli_env,
                       capture_output=True, timeout=60)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = {}
    summ = doc.get("summary", {})
    tap.ok(summ.get("sockets") == 1 and len(frames_at(doc, os.path.basename(src), line)) == 1,
           "report: one socket held, the one opened at LEAK-E (%r)" % summ.get("sockets"))
    tap.ok(summ.get("stale") == 1,
           "report: only the raw instruction's close left a stale record; syscall(SYS_close) "
           "and syscall(SYS_close_range) were seen (%r stale)" % summ.get("stale")) or \
        tap.diag(json.dumps(doc.get("stale"), indent=1))
    tap.ok(prog.finish() == 0, "rawclose: exits 0 under the shim (syscall()'s value and errno "
           "unchanged)")
    rc, _, doc, _ = run_json(tap, sockaudit, shim, cli_env, tmp, progs + ["exit"], "at-exit")
    groups = doc.get("groups", [])
    tap.ok(rc == 1 and len(groups) == 1 and
           len(frames_at(doc, os.path.basename(src), line)) == 1,
           "run --fail-on at-exit: one group, the socket still open (%d, %d groups)" %
           (rc, len(groups))) or tap.diag(json.dumps(groups, indent=1)[:4000])


def case_node(tap, sockaudit, shim, src, progs, env, cli_env, tmp):
    """A Node.js program that destroyed its sockets passes the gate; one
    that keeps a connection fails it, at the line that made it."""
    rc, out, doc, err = run_json(tap, sockaudit, shim, cli_env, tmp, progs,
                                 "close-wait,idle,at-exit")
    tap.ok(rc == 0 and out.strip() == "clean" and doc.get("groups") == [],
           "run --fail-on close-wait,idle,at-exit -- node clean.js: exit 0, nothing listed "
           "(%d, %r)" % (rc, out.strip())) or tap.diag(err.decode(errors="replace")[:4000])
    rc, out, doc, err = run_json(tap, sockaudit, shim, cli_env, tmp, progs + ["keep"],
                                 "close-wait,idle,at-exit")
    socks = sum(len(g.get("sockets", [])) for g in doc.get("groups", []))
    tap.ok(rc == 1 and out.strip() == "kept" and socks >= 1,
           "the same program keeping its connection fails at exit (%d, %d sockets)" %
           (rc, socks)) or tap.diag(err.decode(errors="replace")[:4000])


def main():
    if len(sys.argv) < 5:
        bail("usage: test-lang.py CASE SOCKAUDIT SHIM SOURCE-DIR [PROGRAM...]")
    case, sockaudit, shim, srcdir = sys.argv[1:5]
    progs = sys.argv[5:]
    special = {"rawclose": ("rawclose.c", case_rawclose), "node": ("clean.js", case_node)}
    if case not in CASES and case not in special:
        bail("unknown case " + case)
    tap = Tap()
    tmp = tempfile.mkdtemp(prefix="sockaudit-lang-")
    try:
        env = dict(os.environ, SOCKAUDIT_DIR=tmp, LD_PRELOAD=shim)
        cli_env = dict(os.environ, SOCKAUDIT_DIR=tmp)
        cli_env.pop("LD_PRELOAD", None)
        if case in special:
            srcname, fn = special[case]
            fn(tap, sockaudit, shim, os.path.join(srcdir, srcname), progs, env, cli_env,
               tmp)
            return tap.done()
        srcname, expect = CASES[case]
        src = os.path.join(srcdir, srcname)
        prog = Prog(progs, env)
        if not tap.ok(prog.ready is not None, "%s: the program is ready" % case):
            prog.finish()
            tap.diag(prog.p.stderr.read().decode(errors="replace"))
            return tap.done()
        pid = str(prog.pid)
        r = subprocess.run([sockaudit, "report", "--json", "--all", pid], env=cli_env,
                           capture_output=True, timeout=60)
        tap.ok(r.returncode == 0, "report --json exits 0 (%d)" % r.returncode)
        try:
            doc = json.loads(r.stdout)
        except ValueError:
            doc = {}
            tap.diag(r.stderr.decode(errors="replace"))
        check_frames(tap, "report --json", doc, src, expect)
        r = subprocess.run([sockaudit, "report", "--all", "--color", "never", pid],
                           env=cli_env, capture_output=True, timeout=60)
        text = r.stdout.decode(errors="replace")
        for mark, (function, _) in sorted(expect.items()):
            want = "%s:%d" % (os.path.basename(src), marked_line(src, mark))
            tap.ok(any(function in ln and want in ln for ln in text.splitlines()),
                   "report text: %s at %s" % (function, want)) or tap.diag(text[:4000])
        tap.ok(prog.finish() == 0, "%s: the program exits 0 under the shim" % case)

        # run: the same leaks, held at exit.
        out = os.path.join(tmp, "run.json")
        sarif = os.path.join(tmp, "run.sarif")
        r = subprocess.run([sockaudit, "run", "--preload", shim, "--fail-on", "at-exit",
                            "--json", out, "--sarif", sarif, "--color", "never", "--"] +
                           progs + ["exit"], env=cli_env, capture_output=True, timeout=120)
        tap.ok(r.returncode == 1, "run --fail-on at-exit fails (%d)" % r.returncode) or \
            tap.diag(r.stderr.decode(errors="replace"))
        try:
            with open(out, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            doc = {}
            tap.diag("run.json: %s" % e)
        check_frames(tap, "run --json", doc, src, expect)
        try:
            with open(sarif, encoding="utf-8") as f:
                stext = f.read()
        except OSError:
            stext = ""
        for mark, (function, _) in sorted(expect.items()):
            tap.ok(json.dumps(function)[1:-1] in stext, "run --sarif names %s" % function)
        if case == "python-socket":
            same_behaviour(tap, case, [progs[0], os.path.join(srcdir, "behave.py")], shim)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
