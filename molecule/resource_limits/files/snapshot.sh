#!/bin/bash
# Files, containers (id, start time, memory limit) and journal runs of the seeded host, one line each.
set -euo pipefail
cd /srv/mem
sha256sum compose.yaml ballast.py
docker ps -a --no-trunc --format '{{.Names}}' | sort | xargs docker inspect -f '{{.Name}} {{.Id}} {{.State.StartedAt}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}'
ls -A /var/lib/compose-doctor/journal 2>/dev/null || true
