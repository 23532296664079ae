"""Starts WORKERS threads (each one a process id in the container's pids cgroup), then idles."""
import os
import sys
import threading
import time

wanted = int(os.environ.get("WORKERS", "250"))
started = 0
try:
    for _ in range(wanted):
        threading.Thread(target=time.sleep, args=(10 ** 9,), daemon=True).start()
        started += 1
except RuntimeError as exc:
    print("workers: only %d of %d started: %s" % (started, wanted, exc), flush=True)
    sys.exit(3)
print("workers: %d started" % started, flush=True)
while True:
    time.sleep(3600)
