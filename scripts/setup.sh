#!/usr/bin/env bash
# Idempotent set-up from nothing on Debian 12 as root: venv with pinned packages, collections,
# Docker engine (Debian's docker.io), Compose v2 CLI plugin, and the local base image.
# Each step checks before it acts, so a second run takes seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
BASE_IMAGE=${BASE_IMAGE:-compose-doctor/base:bookworm}
CACHE=${COMPOSE_DOCTOR_CACHE:-/var/cache/compose-doctor}
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n== setup: %s\n' "$*"; }
apt_ready=
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ -n "$apt_ready" ] || { apt-get update -qq; apt_ready=1; }
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

step "system packages"
apt_install docker.io debootstrap rsync python3-venv ca-certificates
# Debian's browser and its WebDriver: tests/integration/test_report_browser.py opens audit.html in them
# (Selenium drives them; nothing is downloaded at test time).
apt_install chromium chromium-driver

step "python venv ($VENV)"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r "$ROOT/requirements.txt"
  echo "$want" > "$stamp"
fi

step "ansible collections"
# The pinned 'ansible' package bundles community.docker and ansible.posix; Galaxy is only
# asked when that bundled copy does not satisfy requirements.yml.
if ! "$VENV/bin/python" - "$ROOT/requirements.yml" <<'PY'
import sys, yaml, importlib.util, json, pathlib
from ansible.module_utils.compat.version import LooseVersion
req = yaml.safe_load(open(sys.argv[1]))["collections"]
spec = importlib.util.find_spec("ansible_collections")
base = pathlib.Path(list(spec.submodule_search_locations)[0])
missing = []
for c in req:
    ns, name = c["name"].split(".")
    manifest = base / ns / name / "MANIFEST.json"
    if not manifest.exists():
        missing.append(c["name"]); continue
    have = json.loads(manifest.read_text())["collection_info"]["version"]
    need = str(c.get("version", "*")).lstrip(">=")
    if need != "*" and LooseVersion(have) < LooseVersion(need):
        missing.append(c["name"])
    print(f"  {c['name']} {have} (bundled)")
if missing:
    sys.exit("missing collections: " + ", ".join(missing))
PY
then
  "$VENV/bin/ansible-galaxy" collection install -r "$ROOT/requirements.yml"
fi

step "docker engine"
if ! docker info >/dev/null 2>&1; then
  mkdir -p /var/log
  # A daemon killed earlier (e.g. the previous session ending) can leave its pid file behind.
  # (A zombie or a reused pid does not count as a running dockerd.)
  if [ -f /var/run/docker.pid ]; then
    pid=$(cat /var/run/docker.pid)
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ] ||
       [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
      rm -f /var/run/docker.pid
    fi
  fi
  # Detached (own session, no inherited stdio) so it outlives this script without holding CI's pipes.
  setsid nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /var/log/dockerd.log; echo "dockerd did not start" >&2; exit 1; }
fi
echo "  engine $(docker version --format '{{.Server.Version}}')"

step "compose v2 plugin"
plugin_dir=$HOME/.docker/cli-plugins
mkdir -p "$plugin_dir"
compose_bin=$("$VENV/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
chmod +x "$compose_bin"
ln -sfn "$compose_bin" "$plugin_dir/docker-compose"
echo "  $(docker compose version)"

step "base image $BASE_IMAGE"
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "  present"
elif docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
  docker tag debian:bookworm-slim "$BASE_IMAGE"
else
  # No registry: debootstrap a minimal bookworm once, cache the tarball, import it.
  mkdir -p "$CACHE"
  tarball="$CACHE/bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    dir=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$dir" http://deb.debian.org/debian >/dev/null
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  docker import --change 'CMD ["/bin/bash"]' "$tarball" "$BASE_IMAGE" >/dev/null
  echo "  imported from $tarball"
fi
