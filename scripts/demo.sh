#!/usr/bin/env bash
# `make demo`: the lab is up (make did setup + lab-up). Audit it, remediate it, show before/after.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export ANSIBLE_CONFIG=$ROOT/ansible.cfg
PY=.venv/bin/python

echo "== lab state"
# The audit samples the lab once: start it only when the seeded breakage shows (fails, naming
# what did not show, after LAB_WAIT seconds).
bash scripts/lab.sh wait
bash scripts/lab.sh status

echo; echo "== 1. audit (read-only): ansible-playbook playbooks/audit.yml"
.venv/bin/ansible-playbook playbooks/audit.yml >/dev/null
$PY scripts/summary.py reports/lab/audit.json

echo; echo "== 2. remediate: ansible-playbook playbooks/remediate.yml (audit before, fixes, audit after)"
.venv/bin/ansible-playbook playbooks/remediate.yml | sed -n '/TASK \[Before \/ after\]/,/^$/p;/PLAY RECAP/,/^$/p'

echo; echo "== 3. re-audit"
$PY scripts/summary.py reports/lab/audit.json reports/lab/remediation.json
echo
echo "reports: $(ls "$ROOT"/reports/lab/* | tr '\n' ' ')"
echo "undo:    ansible-playbook playbooks/rollback.yml    reset: make lab-down lab-up"
