"""A live case for the Python end-to-end tests (tests/serve, tests/watch):
a temporary directory with its own table directory, every process the test
starts (all killed and reaped at the end), waiting by polling with a
deadline, and the scenario program that leaks, run under the shim.

Environment: SOCKAUDIT_SHIM, SC_COUNTS (tests/report/sc-counts.c)."""

import os
import shutil
import subprocess
import tempfile
import time

from deadline import read_line


def poll(cond, seconds, step=0.1):
    """cond() until it is true or `seconds` pass; its last value."""
    end = time.monotonic() + seconds
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def wait_exit(p, seconds):
    """p's exit status, or None when it is still running after `seconds`."""
    try:
        return p.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


class Live:
    def __init__(self, prefix):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.tables = os.path.join(self.tmp, "tables")
        os.mkdir(self.tables)
        # The CLI and the shim use this case's table directory only.
        self.env = dict(os.environ, SOCKAUDIT_DIR=self.tables)
        self.procs = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def leaker(self, env=None, seconds=30):
        """sc-counts grow under the shim, once it said "ready" within
        `seconds`; None when it did not."""
        env = self.env if env is None else env
        p = self.start([os.environ["SC_COUNTS"], "grow"], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE,
                       env=dict(env, LD_PRELOAD=os.environ["SOCKAUDIT_SHIM"]))
        line = read_line(p.stdout, seconds) or ""
        return p if line.startswith("ready") else None

    def close(self, diag):
        """Every process started is killed and reaped (diag names one that
        did not go), the directory removed."""
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            if wait_exit(p, 10) is None:
                diag(f"pid {p.pid} did not go")
        shutil.rmtree(self.tmp, ignore_errors=True)
