"""Hardware resource optimizer (lab): polls the Docker Engine API over the mounted socket.

Keeps running when the socket is unreachable (it only logs), so the container stays `running`
while its healthcheck reports the real problem.
"""
import os
import signal
import socket
import sys
import time

SOCK = os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock")


def ping():
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        s.connect(SOCK)
        s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        return s.recv(256).split(b"\r\n", 1)[0].decode()


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1: exit promptly on stop
print(f"hardware-resource-optimizer started as uid={os.getuid()} groups={os.getgroups()}", flush=True)
while True:
    try:
        print(f"Docker engine reachable: {ping()}", flush=True)
    except PermissionError:
        print(f"Docker client unavailable: Permission denied ({SOCK})", flush=True)
    except OSError as err:
        print(f"Docker client unavailable: {err}", flush=True)
    time.sleep(15)
