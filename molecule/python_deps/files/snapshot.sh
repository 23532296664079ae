#!/bin/bash
# Files, containers, images and journal runs of the seeded host, one line each.
set -euo pipefail
cd /srv/shop
sha256sum compose.yaml agent-*/requirements.txt agent-*/Dockerfile
docker ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.Image}}' | sort
docker image ls -a --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort
ls -A /var/lib/compose-doctor/journal 2>/dev/null || true
