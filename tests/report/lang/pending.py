"""A socket() that fails leaves no Python frames behind: socket.socket()
with a bad family raises its audit event and fails (LEAK-P-failed); a
socket then made on the same thread without any event (libc's socket()
through ctypes, LEAK-P-raw) must not carry that line. Prints "ready fd=N"
(the raw socket) and waits for EOF on stdin."""
import ctypes
import socket
import sys

try:
    socket.socket(12345, socket.SOCK_STREAM)  # LEAK-P-failed
except OSError:
    pass
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)  # LEAK-P-raw
print(f"ready fd={fd}", flush=True)
sys.stdin.read()
