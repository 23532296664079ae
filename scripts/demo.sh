#!/usr/bin/env bash
# `make demo`: the lab is up (make did setup + lab-up). Audit it, remediate it, show before/after.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export ANSIBLE_CONFIG=$ROOT/ansible.cfg
# Compose's own default builder setting: COMPOSE_BAKE=false (make's) is deprecated and says so on
# every build. Without buildx (not packaged for this Debian) Compose says once per build that it
# falls back to its internal builder: the demo says it once, here.
unset COMPOSE_BAKE
command -v docker-buildx >/dev/null || [ -x /usr/libexec/docker/cli-plugins/docker-buildx ] ||
  echo "(no docker buildx here: Compose builds with its internal builder)"
PY=.venv/bin/python

echo "== lab state"
# The audit samples the lab once: start it only when the seeded breakage shows (fails, naming
# what did not show, after LAB_WAIT seconds).
# One lab table: the one `make lab-up` just printed (a second one, seconds later, would disagree on
# restart counts and memory).
bash scripts/lab.sh wait

echo; echo "== 1. audit (read-only): ansible-playbook playbooks/audit.yml"
.venv/bin/ansible-playbook playbooks/audit.yml >/dev/null
$PY scripts/summary.py reports/lab/audit.json

echo; echo "== 2. remediate: ansible-playbook playbooks/remediate.yml (audit before, fixes, audit after)"
# A line per fix as it starts and ends (the fixes take minutes), then the before/after and the recap.
.venv/bin/ansible-playbook playbooks/remediate.yml 2> >(grep -v "buildx isn't installed" >&2) | sed -u -n \
  "s/^ *msg: '\{0,1\}\([a-z]*: \(starting\|done\) .*\)$/  \1/p;/TASK \[Before \/ after\]/,/^$/p;/PLAY RECAP/,/^$/p" \
  | sed -u "s/'$//"

echo; echo "== 3. re-audit"
$PY scripts/summary.py reports/lab/audit.json reports/lab/remediation.json
echo
# Every audit is kept (reports/lab/<UTC stamp>/): the remediation's before-audit is the broken lab.
before=$($PY -c 'import json,sys; print((json.load(open(sys.argv[1])).get("reports") or {}).get("before") or "")' \
  reports/lab/remediation.json)
echo "broken-state report: $(realpath -m --relative-to=. "reports/lab/latest/${before%.md}.html") (and .md)"
echo "fixed-state report:  reports/lab/latest/audit.html (and audit.md); remediation: reports/lab/latest/remediation.md"
echo "undo:    ansible-playbook playbooks/rollback.yml    reset: make lab-down lab-up"
