#!/usr/bin/env bash
# `make demo`: the lab is up (make did setup + lab-up); audit it and show where the reports are.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export ANSIBLE_CONFIG=$ROOT/ansible.cfg
echo "== lab state"
bash scripts/lab.sh status
echo "== audit (read-only): ansible-playbook playbooks/audit.yml"
.venv/bin/ansible-playbook playbooks/audit.yml
report=reports/lab/audit.json
.venv/bin/python - "$report" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
print(f"\nscore {s['score']}/100 | running {s['services_running']}/{s['services_defined']} services "
      f"| restarting {s['containers_restarting']} | unhealthy {s['containers_unhealthy']} | findings {s['findings']}")
for f in sorted(r["findings"], key=lambda f: f["priority"])[:15]:
    where = f.get("service") or f.get("file") or ""
    print(f"  {f['priority']} {f['rule']:<24} {where:<36} {f['title']}")
PY
echo
echo "reports: $(ls -d "$ROOT"/reports/lab/* | tr '\n' ' ')"
