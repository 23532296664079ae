#!/usr/bin/env bash
# `make molecule`: every scenario under molecule/, MOLECULE_JOBS at a time (default 2; each
# scenario is its own throwaway Docker host). Each log is kept and printed once its scenario ends.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
jobs=${MOLECULE_JOBS:-2}
logs=$root/.cache/molecule-logs
rm -rf "$logs"; mkdir -p "$logs"
export NO_COLOR=1 PY_COLORS=0 ANSIBLE_NOCOLOR=1
scenarios=$(ls molecule/*/molecule.yml | cut -d/ -f2)

run_one() {
  local s=$1 start=$SECONDS rc
  molecule test -s "$s" >"$logs/$s.log" 2>&1
  rc=$?
  echo "$rc" >"$logs/$s.rc"
  printf '\n===== molecule %s: %s in %ss =====\n' "$s" "$([ $rc -eq 0 ] && echo passed || echo FAILED)" "$((SECONDS - start))"
  if [ $rc -eq 0 ]; then grep -E 'Executed|PLAY RECAP|^ *[a-z0-9_.-]+ +: ok=' "$logs/$s.log" | tail -30; else cat "$logs/$s.log"; fi
  return $rc
}
export -f run_one
export logs

printf '%s\n' $scenarios | xargs -P "$jobs" -I{} bash -c 'run_one {}'
rc=$?
passed=$(cat "$logs"/*.rc 2>/dev/null | grep -cx 0)
total=$(printf '%s\n' $scenarios | wc -l)
echo "molecule: $passed passed, $((total - passed)) failed"
exit $rc
