"""Healthcheck: connect to the Docker socket and expect `GET /_ping` -> 200 (stdlib only)."""
import socket
import sys

SOCK = sys.argv[1] if len(sys.argv) > 1 else "/var/run/docker.sock"
try:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        s.connect(SOCK)
        s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        status = s.recv(256).split(b"\r\n", 1)[0].decode()
except OSError as err:  # PermissionError prints "[Errno 13] Permission denied"
    sys.exit(f"unhealthy: cannot reach docker socket {SOCK}: {err}")
if " 200 " not in status + " ":
    sys.exit(f"unhealthy: docker /_ping answered {status!r}")
print(f"healthy: docker /_ping {status}")
