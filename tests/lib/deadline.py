"""Reading a child's output with a deadline, for the Python tests: a line
that never comes is a failure to report, never a hang."""

import os
import select
import time


def read_line(stream, seconds):
    """The next line of a child's pipe (its file object), decoded, within
    `seconds`; None when none came in time or the pipe ended first. Reads
    the descriptor a byte at a time, so nothing after the line is taken
    from the pipe (and lost in a buffer)."""
    fd = stream.fileno()
    end = time.monotonic() + seconds
    out = b""
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not r:
            continue
        b = os.read(fd, 1)
        if not b:
            return None
        out += b
        if b == b"\n":
            return out.decode(errors="replace")
