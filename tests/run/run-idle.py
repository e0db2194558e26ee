"""Holds an ESTABLISHED connection idle (both ends in this process) for
argv[2] ms (default 1000) and until the run has polled twice more, then
closes it and exits: a leak only while running. Writes "pid=N" to argv[1]."""
import ctypes
import os
import select
import socket
import struct
import sys
import time

IN_OPEN, IN_ISDIR, IN_CLOEXEC = 0x20, 0x40000000, 0o2000000
POLLS_AFTER_HOLD, POLL_DEADLINE_S = 2, 10


def wait_polls(directory):
    """Until `sockaudit run` has started two more polls: each opens the
    tree's $SOCKAUDIT_DIR (cli/run-poll.c, discover()), an IN_OPEN on the
    directory itself (as rp_hold_seen in rp.h). Gives up after 10 s."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(IN_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, directory.encode(), IN_OPEN) < 0:
        print("run-idle: inotify on %s failed" % directory, file=sys.stderr)
        return
    polls, deadline = 0, time.monotonic() + POLL_DEADLINE_S
    try:
        while polls < POLLS_AFTER_HOLD:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                print("run-idle: %d of %d polls of %s within %d s"
                      % (polls, POLLS_AFTER_HOLD, directory, POLL_DEADLINE_S),
                      file=sys.stderr)
                return
            buf = os.read(fd, 4096)
            off = 0
            while off + 16 <= len(buf):
                _, mask, _, length = struct.unpack_from("iIII", buf, off)
                if mask & IN_OPEN and mask & IN_ISDIR and length == 0:
                    polls += 1
                off += 16 + length
    finally:
        os.close(fd)


def open_idle(addr):
    return socket.create_connection(addr)


def main():
    info = sys.argv[1]
    hold = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    c = open_idle(srv.getsockname())
    s, _ = srv.accept()
    srv.close()
    c.sendall(b"x")
    s.recv(1)
    with open(info + ".tmp", "w") as f:
        f.write("pid=%d\n" % os.getpid())
    os.rename(info + ".tmp", info)
    time.sleep(hold / 1000.0)
    if os.environ.get("SOCKAUDIT_DIR"):
        wait_polls(os.environ["SOCKAUDIT_DIR"])
    c.close()
    s.close()


main()
