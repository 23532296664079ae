#!/usr/bin/env bash
# Builds the local images Molecule scenarios run on (no registry is assumed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ctx=$(mktemp -d); trap 'rm -rf "$ctx"' EXIT
cp "$here"/dind-host/* "$ctx"/
cp -L "$HOME/.docker/cli-plugins/docker-compose" "$ctx/docker-compose"
docker build -q -t compose-doctor/dind-host:bookworm "$ctx" >/dev/null
echo "built compose-doctor/dind-host:bookworm"
