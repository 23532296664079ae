#!/usr/bin/env bash
# Builds the local images Molecule scenarios run on (no registry is assumed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ctx=$(mktemp -d); trap 'rm -rf "$ctx"' EXIT
cp "$here"/dind-host/* "$ctx"/
cp -L "$HOME/.docker/cli-plugins/docker-compose" "$ctx/docker-compose"
if ! docker build -q -t compose-doctor/dind-host:bookworm "$ctx" >"$ctx/build.log" 2>&1; then
  cat "$ctx/build.log" >&2; exit 1
fi
echo "built compose-doctor/dind-host:bookworm"
# The runtime image the lab's Python services build FROM; scenarios side-load it.
bash "$root/scripts/lab.sh" images
