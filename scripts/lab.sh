#!/usr/bin/env bash
# The broken-on-purpose SutazAI lab: scripts/lab.sh up|down|status
#
#   up      copy the pristine lab/ to $LAB_DIR, build the local images, start the broken subset,
#           wait until the breakage is observable, print the status table. Idempotent; always
#           restores the pristine broken state (files, images, containers). Fails, naming what
#           did not show and what it saw, when the broken state is not visible within LAB_WAIT.
#   wait    only the wait of `up` (e.g. before auditing a lab that was just (re)started).
#   down    remove the lab's containers, networks, volumes (all profiles), the resources this
#           script created (label com.compose-doctor.lab=true) and $LAB_DIR. Images are kept.
#   status  service / state / health / restarts / memory of the lab project.
#
# Env: LAB_DIR (default <repo>/.lab), LAB_WAIT (seconds to wait for the broken state, default 90),
#      LAB_EXTRA_CA_DIR (extra *.crt trusted inside the builds, default /usr/local/share/ca-certificates).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=$ROOT/lab
LAB_DIR=${LAB_DIR:-$ROOT/.lab}
LAB_WAIT=${LAB_WAIT:-90}
LAB_EXTRA_CA_DIR=${LAB_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}
PROJECT=sutazai
LABEL=com.compose-doctor.lab=true
RUNTIME_IMAGE=compose-doctor/python:bookworm
STANDIN_IMAGE=sutazai/standin:lab
STALE_SERVICE=jarvis-automation-agent
STALE_IMAGE=sutazai/jarvis-automation-agent:lab

# Started by `up`; every other service in the active model stays defined only
# (kong, consul: mesh down; cadvisor: privileged; loki, alertmanager: monitoring down).
STARTED=(backend postgres redis jarvis-hardware-resource-optimizer jarvis-automation-agent
         hardware-resource-optimizer ollama-integration prometheus grafana node-exporter)
# Built by compose from their own build: sections (postgres/redis in parallel, first; the stale
# agent separately).
COMPOSE_BUILT=(kong consul jarvis-hardware-resource-optimizer hardware-resource-optimizer)

# The lab's .env must decide; a caller's environment would silently override it.
unset COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PROFILES COMPOSE_ENV_FILES \
      POSTGRES_USER POSTGRES_PASSWORD REDIS_PASSWORD JWT_SECRET GRAFANA_ADMIN_USER GRAFANA_ADMIN_PASSWORD
export DOCKER_CLI_HINTS=false

log() { printf '== lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }
compose() { (cd "$LAB_DIR" && docker compose "$@"); }
# Legacy builder (no buildx here) prints a deprecation banner on every build: drop it.
compose_build() { compose build -q "$@" 2> >(grep -v -e DEPRECATED -e 'legacy builder' -e buildx -e COMPOSE_BAKE -e '^ *$' >&2); }
quiet_build() { docker build -q "$@" 2> >(grep -v -e DEPRECATED -e 'legacy builder' -e buildx -e '^ *$' >&2) >/dev/null; }

safe_lab_dir() {
  case "$LAB_DIR" in
    ""|/|"$ROOT"|"$SRC"|"$HOME") die "refusing to use LAB_DIR=$LAB_DIR" ;;
  esac
}

sync_lab() {
  mkdir -p "$LAB_DIR"
  # lab/crashloops is its own project (scripts/crashloop_lab.sh), not part of the seed's tree.
  rsync -a --delete --delete-excluded --exclude=/crashloops/ "$SRC/" "$LAB_DIR/"
  # git does not keep modes: set the ones the lab is about explicitly.
  chmod 0644 "$LAB_DIR/.env"                  # world-readable .env (the finding)
  chmod 0700 "$LAB_DIR/secrets"               # secrets dir correctly protected
  find "$LAB_DIR/secrets" -type f -exec chmod 0600 {} +
}

build_runtime_image() {  # $1: a copy of lab/images/python we may add files to
  # Let pip inside the builds trust what the host trusts (TLS-intercepting proxies).
  if compgen -G "$LAB_EXTRA_CA_DIR/*.crt" >/dev/null; then
    cp "$LAB_EXTRA_CA_DIR"/*.crt "$1/extra-ca/"
  fi
  quiet_build -t "$RUNTIME_IMAGE" "$1"
}

cmd_images() {  # only the shared runtime image (Molecule side-loads it into its Docker hosts)
  local tmp
  tmp=$(mktemp -d)
  cp -a "$SRC/images/python/." "$tmp/"
  build_runtime_image "$tmp"
  rm -rf "$tmp"
  log "built $RUNTIME_IMAGE"
}

build_images() {
  log "building images (cached after the first run)"
  # postgres and redis only need the base image: build them while the python images build.
  compose_build postgres redis &
  local db_build=$!
  build_runtime_image "$LAB_DIR/images/python"
  quiet_build -t "$STANDIN_IMAGE" "$LAB_DIR/images/standin"
  compose_build "${COMPOSE_BUILT[@]}"
  wait "$db_build" || die "building postgres/redis failed"
  # Stale image: build the agent from its requirements as they were BEFORE psutil was added,
  # and tag it as the service's image. `docker compose build jarvis-automation-agent` fixes it.
  local tmp
  tmp=$(mktemp -d)
  cp -a "$LAB_DIR/agents/$STALE_SERVICE/." "$tmp/"
  sed -i '/^psutil/d' "$tmp/requirements.txt"
  quiet_build -t "$STALE_IMAGE" "$tmp"
  rm -rf "$tmp"
}

create_extra_volumes() {
  # Left-overs the audit must flag: an unused volume of this project and a duplicate of
  # postgres_data under the old "sutazaiapp" project prefix. Both unused, both ours (label).
  docker volume inspect sutazai_old_chromadb_data >/dev/null 2>&1 ||
    docker volume create --label "$LABEL" \
      --label com.docker.compose.project=sutazai --label com.docker.compose.volume=old_chromadb_data \
      sutazai_old_chromadb_data >/dev/null
  docker volume inspect sutazaiapp_postgres_data >/dev/null 2>&1 ||
    docker volume create --label "$LABEL" \
      --label com.docker.compose.project=sutazaiapp --label com.docker.compose.volume=postgres_data \
      sutazaiapp_postgres_data >/dev/null
}

cid_of() {  # container id(s) of a service in the lab project
  docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.service=$1"
}

# Crash-looping means what the audit's restart-loop rule means (rules.is_crash_looping):
# restarted at least audit_restart_threshold times, the one number in roles/audit/defaults.
RESTART_THRESHOLD=$(awk '/^audit_restart_threshold:/ {print $2}' "$ROOT/roles/audit/defaults/main.yml")

# The broken state as lab/README.md describes it after `up`, in every part an audit samples at
# once (so `make demo`'s audit and the integration tests find it whenever they start):
CRASH_LOOPING=(jarvis-hardware-resource-optimizer jarvis-automation-agent)  # >= threshold restarts, psutil
UNHEALTHY=(hardware-resource-optimizer)                     # running, unhealthy (socket permission)
HEALTHY=(postgres backend prometheus grafana)               # running, healthy
RUNNING=(redis node-exporter)                               # running (no healthcheck)
BALLAST=(ollama-integration)                                # running, memory ballast held

# broken_state_visible: true when all of it shows; otherwise MISSING names the first part that
# does not show yet, with what was seen.
MISSING=
broken_state_visible() {
  local svc cid state health restarts logs seen
  for svc in "${CRASH_LOOPING[@]}" "${UNHEALTHY[@]}" "${HEALTHY[@]}" "${RUNNING[@]}" "${BALLAST[@]}"; do
    cid=$(cid_of "$svc" | head -1)
    if [ -z "$cid" ]; then MISSING="$svc has no container"; return 1; fi
    IFS='|' read -r state health restarts <<<"$(docker inspect -f \
      '{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}|{{.RestartCount}}' "$cid" 2>/dev/null)"
    seen="$svc is ${state:-gone}, health ${health:-?}, ${restarts:-?} restarts"
    # Log checks read the whole log into a variable, not `docker logs | grep -q`: with pipefail
    # grep's early exit can fail the pipe (SIGPIPE) although the line is there.
    if [[ " ${CRASH_LOOPING[*]} " == *" $svc "* ]]; then
      if [ "${restarts:-0}" -lt "${RESTART_THRESHOLD:-3}" ]; then
        MISSING="$seen (want >= ${RESTART_THRESHOLD:-3} restarts)"; return 1
      fi
      logs=$(docker logs "$cid" 2>&1) || logs=
      if [[ $logs != *"No module named 'psutil'"* ]]; then
        MISSING="$seen, but no \"No module named 'psutil'\" in its log"; return 1
      fi
    elif [[ " ${UNHEALTHY[*]} " == *" $svc "* ]]; then
      if [ "$state" != running ] || [ "$health" != unhealthy ]; then
        MISSING="$seen (want running, unhealthy)"; return 1
      fi
    elif [[ " ${HEALTHY[*]} " == *" $svc "* ]]; then
      if [ "$state" != running ] || [ "$health" != healthy ]; then
        MISSING="$seen (want running, healthy)"; return 1
      fi
    elif [ "$state" != running ]; then
      MISSING="$seen (want running)"; return 1
    elif [[ " ${BALLAST[*]} " == *" $svc "* ]]; then
      logs=$(docker logs "$cid" 2>&1) || logs=
      if [[ $logs != *"ballast: holding"* ]]; then
        MISSING="$seen, but no \"ballast: holding\" in its log yet"; return 1
      fi
    fi
  done
}

# Polls broken_state_visible until LAB_WAIT seconds have passed; fails with what did not show.
wait_broken_state() {
  log "waiting (max ${LAB_WAIT}s) for the broken state: agents crash-looping (>= ${RESTART_THRESHOLD:-3} restarts)," \
      "socket agent unhealthy, postgres/backend/prometheus/grafana healthy, ollama-integration's ballast held"
  local deadline=$((SECONDS + LAB_WAIT))
  until broken_state_visible; do
    if [ $SECONDS -ge $deadline ]; then
      printf 'lab: error: broken state not visible after %ss: %s (LAB_WAIT=<seconds> waits longer)\n' \
        "$LAB_WAIT" "$MISSING" >&2
      return 1
    fi
    sleep 2
  done
}

cmd_up() {
  safe_lab_dir
  command -v rsync >/dev/null || die "rsync is required"
  docker image inspect compose-doctor/base:bookworm >/dev/null 2>&1 ||
    die "base image compose-doctor/base:bookworm is missing (run scripts/setup.sh)"
  local t0=$SECONDS
  log "syncing $SRC -> $LAB_DIR"
  sync_lab
  build_images
  create_extra_volumes
  # Anything someone started by hand (kong, consul, ...) goes back to "defined, not running".
  local all stopped=() svc
  all=$(compose config --services)
  for svc in $all; do
    [[ " ${STARTED[*]} " == *" $svc "* ]] || stopped+=("$svc")
  done
  [ ${#stopped[@]} -eq 0 ] || compose rm -sf "${stopped[@]}" >/dev/null 2>&1 || true
  log "starting ${STARTED[*]}"
  # --force-recreate: restart counters and health start from zero on every `up`.
  compose up -d --no-build --force-recreate --remove-orphans --quiet-pull "${STARTED[@]}" 2>&1 |
    grep -v -E '^ *$| (Running|Creating|Created|Recreated|Starting|Started|Stopping|Stopped|Removing|Removed|Waiting|Healthy|Recreate)$' >&2 || true
  if ! wait_broken_state; then
    cmd_status >&2
    exit 1
  fi
  log "up in $((SECONDS - t0))s"
  cmd_status
}

cmd_wait() {
  [ -n "$(cid_of backend)" ] || die "lab is not up: run scripts/lab.sh up (LAB_DIR=$LAB_DIR)"
  wait_broken_state || exit 1
  log "broken state visible"
}

cmd_down() {
  safe_lab_dir
  local dir=$LAB_DIR
  [ -f "$dir/docker-compose.yml" ] || dir=$SRC   # working copy gone: the pristine files name the project
  log "removing project $PROJECT (containers, networks, volumes)"
  (cd "$dir" && docker compose --profile '*' down -v --remove-orphans --timeout 5 2>&1 |
     grep -v -E '^ *$| (Stopping|Stopped|Removing|Removed)$' >&2) || true
  # Resources this script created itself.
  local ids
  ids=$(docker ps -aq --filter "label=$LABEL"); [ -z "$ids" ] || docker rm -f $ids >/dev/null
  ids=$(docker volume ls -q --filter "label=$LABEL"); [ -z "$ids" ] || docker volume rm $ids >/dev/null
  ids=$(docker network ls -q --filter "label=$LABEL"); [ -z "$ids" ] || docker network rm $ids >/dev/null
  rm -rf "$LAB_DIR"
  log "down (images kept as build cache)"
}

cmd_status() {
  local services
  if [ -f "$LAB_DIR/docker-compose.yml" ]; then
    services=$(compose config --services | sort)
  else
    services=$(docker ps -a --filter "label=com.docker.compose.project=$PROJECT" \
      --format '{{.Label "com.docker.compose.service"}}' | sort -u)
  fi
  [ -n "$services" ] || { echo "lab: project $PROJECT is not up (LAB_DIR=$LAB_DIR)"; return 0; }
  declare -A mem=()
  local ids line
  ids=$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT")
  if [ -n "$ids" ]; then
    while IFS='|' read -r id usage pct; do mem[$id]="$usage ($pct)"; done < <(
      docker stats --no-stream --format '{{.ID}}|{{.MemUsage}}|{{.MemPerc}}' $ids | sed 's/ \/ /\//')
  fi
  printf '%-36s %-11s %-10s %-8s %s\n' SERVICE STATE HEALTH RESTARTS MEMORY
  local svc cid state health restarts
  for svc in $services; do
    cid=$(cid_of "$svc" | head -1)
    if [ -z "$cid" ]; then
      printf '%-36s %-11s %-10s %-8s %s\n' "$svc" "not-created" - - -
      continue
    fi
    IFS='|' read -r state health restarts < <(docker inspect -f \
      '{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}|{{.RestartCount}}' "$cid")
    printf '%-36s %-11s %-10s %-8s %s\n' "$svc" "$state" "$health" "$restarts" "${mem[${cid:0:12}]:--}"
  done
  echo "volumes: $(docker volume ls -q --filter name=sutazai | sort | tr '\n' ' ')"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  images) cmd_images ;;
  wait) cmd_wait ;;
  *) echo "usage: $0 up|down|status|wait|images" >&2; exit 2 ;;
esac
