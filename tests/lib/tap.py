"""TAP for the Python tests, as tests/tap.h is for the C ones: numbered
points, diagnostics, the plan at the end and an exit status."""

import os


class Tap:
    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, cond, msg):
        self.count += 1
        if not cond:
            self.failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.count, msg),
              flush=True)
        return cond

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.count, flush=True)
        return 1 if self.failed else 0

    def skip(self, what):
        """A missing tool: a skip, but a failure where it must be there (CI,
        tools/check's strict mode), as the C tests' tap_skip_env()."""
        self.count += 1
        if os.environ.get("CI") or os.environ.get("SOCKAUDIT_STRICT") == "1":
            self.failed += 1
            print("not ok %d - %s (no skip under CI or SOCKAUDIT_STRICT=1)" % (self.count, what),
                  flush=True)
        else:
            print("ok %d # SKIP %s" % (self.count, what), flush=True)
