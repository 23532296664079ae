"""Hold touched memory until resident usage reaches BALLAST_PCT % of the cgroup limit (no OOM).

Same approach as the lab's standin.py: bytearray(b"\x01" * n) writes every page.
"""
import os
import time


def cgroup_memory():
    try:
        limit = int(open("/sys/fs/cgroup/memory/memory.limit_in_bytes").read())
        stat = dict(line.split() for line in open("/sys/fs/cgroup/memory/memory.stat"))
        return limit, int(stat["rss"])
    except (OSError, KeyError, ValueError):
        raw = open("/sys/fs/cgroup/memory.max").read().strip()
        stat = dict(line.split() for line in open("/sys/fs/cgroup/memory.stat"))
        return (None if raw == "max" else int(raw)), int(stat["anon"])


limit, rss = cgroup_memory()
target = limit * int(os.environ.get("BALLAST_PCT", "85")) // 100 if limit and limit < 1 << 40 else 0
chunks = []
while rss + (1 << 20) <= target:
    chunks.append(bytearray(b"\x01" * (1 << 20)))
    _, rss = cgroup_memory()
print("ballast: holding %d MiB, rss %d MiB of %d MiB limit" % (len(chunks), rss >> 20, (limit or 0) >> 20), flush=True)
while True:
    time.sleep(3600)
