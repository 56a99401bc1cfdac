# ruff: noqa: F821  # the test defines the names this program is given
# Connect to a TCP listener the host opened on 127.0.0.1.
import socket

try:
    socket.create_connection(("127.0.0.1", HOST_PORT), timeout=2).sendall(b"escaped")
    print("CONNECTED")
except OSError as exc:
    print("BLOCKED", type(exc).__name__)
