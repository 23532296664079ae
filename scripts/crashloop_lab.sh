#!/usr/bin/env bash
# The crash-loop lab (lab/crashloops): one container per cause the crash-loop doctor recognises.
#   up      copy lab/crashloops to $CRASHLAB_DIR, prepare its host dirs (a root-owned data dir, an
#           empty src dir, a stale pid file), build and start it, wait until every cause shows
#           (loops restarted $CRASHLAB_RESTARTS times, the health-check cases unhealthy).
#   down    remove its containers, images built for it and $CRASHLAB_DIR.
#   status  the project's containers.
# Opt-in: the default lab (scripts/lab.sh) is not touched; `make lab-up LAB_PROFILES=crashloops`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=$ROOT/lab/crashloops
CRASHLAB_DIR=${CRASHLAB_DIR:-$ROOT/.lab-crashloops}
CRASHLAB_WAIT=${CRASHLAB_WAIT:-180}
CRASHLAB_RESTARTS=${CRASHLAB_RESTARTS:-3}
PROJECT=cdcrash
export COMPOSE_BAKE=false DOCKER_CLI_HINTS=false
unset COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PROFILES

log() { printf '== crashloop lab: %s\n' "$*" >&2; }
die() { printf 'crashloop lab: error: %s\n' "$*" >&2; exit 1; }
compose() { (cd "$CRASHLAB_DIR" && docker compose "$@"); }

case "$CRASHLAB_DIR" in ""|/|"$ROOT"|"$SRC"|"$HOME") die "refusing to use CRASHLAB_DIR=$CRASHLAB_DIR" ;; esac

# "name restarts state health exitcode" per container of the project.
states() {
  docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" | xargs -r docker inspect -f \
    '{{index .Config.Labels "com.docker.compose.service"}} {{.RestartCount}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.ExitCode}}'
}

# Every looping service has restarted enough, the health-check cases are unhealthy, dep-db runs,
# dep-not-ready gave up (exited).
visible() {
  local services missing=0 name restarts state health
  services=$(compose config --services)
  while read -r name restarts state health _; do
    case "$name" in
      healthcheck-tool-missing|healthcheck-start-period) [ "$health" = unhealthy ] || missing=1 ;;
      dep-db|dns-target) [ "$state" = running ] || missing=1 ;;
      dep-not-ready) [ "$state" = exited ] || missing=1 ;;
      *) [ "$restarts" -ge "$CRASHLAB_RESTARTS" ] || missing=1 ;;
    esac
  done < <(states)
  [ "$(states | wc -l)" -eq "$(printf '%s\n' "$services" | wc -l)" ] || missing=1
  return $missing
}

cmd_up() {
  docker image inspect sutazai/postgres:lab compose-doctor/python:bookworm >/dev/null 2>&1 \
    || die "the main lab's images are missing: run make lab-up (scripts/lab.sh up) first"
  mkdir -p "$CRASHLAB_DIR"
  rsync -a --delete "$SRC/" "$CRASHLAB_DIR/"
  install -d -m 0755 -o root -g root "$CRASHLAB_DIR/data"   # uid 10001 cannot write it
  install -d -m 0755 "$CRASHLAB_DIR/src"                    # empty: hides the image's /app
  install -d -m 0755 "$CRASHLAB_DIR/pids"
  echo 7 > "$CRASHLAB_DIR/pids/server.pid"                   # left by an unclean stop
  # scripts as a Windows checkout leaves them: CRLF endings, no execute bit
  printf '#!/bin/sh\r\necho started\r\nexec sleep infinity\r\n' > "$CRASHLAB_DIR/crlf-entrypoint/entrypoint.sh"
  chmod 0755 "$CRASHLAB_DIR/crlf-entrypoint/entrypoint.sh"
  chmod 0644 "$CRASHLAB_DIR/entrypoint-not-executable/start.sh"
  compose down --remove-orphans --timeout 1 >/dev/null 2>&1 || true
  log "building and starting ($CRASHLAB_DIR)"
  compose build -q 2> >(grep -v -e DEPRECATED -e 'legacy builder' -e buildx -e COMPOSE_BAKE -e '^ *$' >&2)
  compose up -d --no-build --quiet-pull 2>&1 | grep -v -e Started -e Created -e Starting -e Creating -e Running -e Waiting || true
  local deadline=$((SECONDS + CRASHLAB_WAIT))
  until visible; do
    if [ $SECONDS -ge $deadline ]; then
      states >&2
      die "not every cause showed within ${CRASHLAB_WAIT}s (service restarts state health exit above)"
    fi
    sleep 2
  done
  log "every cause shows"
  states
}

cmd_down() {
  if [ -d "$CRASHLAB_DIR" ]; then
    compose down --remove-orphans --rmi local --timeout 1 >/dev/null 2>&1 || true
    rm -rf "$CRASHLAB_DIR"
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) states ;;
  *) die "usage: $0 up|down|status" ;;
esac
