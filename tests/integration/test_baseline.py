"""Suppressions and a baseline end to end, through audit.yml: an expired suppression stops
suppressing and says so, a current one keeps a finding out of the gate, and with a baseline only a
finding new since it fails `audit_fail_on` (the reports count new / known / fixed).

A small project of its own in a temporary folder; nothing is started (the findings are the files')."""
import json
import re

from conftest import run_playbook

BEFORE = """\
services:
  web:
    image: compose-doctor/base:bookworm
    privileged: true
    x-compose-doctor:
      ignore:
        - rule: privileged-container
          reason: needs /dev/kmsg for the demo
          until: 2099-12-31
        - rule: memory-no-limit
          reason: sized by the host
          until: 2020-01-31
  api:
    image: compose-doctor/base:bookworm
    environment:
      API_TOKEN: 9f8e7d6c5b4a39281706
"""
# api's literal secret is gone (fixed); a new privileged worker appears (new)
AFTER = BEFORE.replace("      API_TOKEN: 9f8e7d6c5b4a39281706\n", "      API_TOKEN: ${API_TOKEN}\n") + """\
  worker:
    image: compose-doctor/base:bookworm
    privileged: true
"""


def _audit(project, reports, *extra, check=True):
    proc = run_playbook("audit.yml", "-e", f"compose_project_dir={project}", "-e", f"audit_reports_dir={reports}",
                        *extra, check=check)
    return proc, json.loads((reports / "lab" / "audit.json").read_text())


def test_suppress_expire_and_baseline(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "compose.yaml").write_text(BEFORE)
    _proc, first = _audit(project, tmp_path / "r1", "-e", "audit_fail_on=medium", check=False)
    ids = {f["id"] for f in first["findings"]}
    # the current suppression holds (not in findings, listed as suppressed with its reason) ...
    assert "privileged-container:web" not in ids
    suppressed = {f["id"]: f for f in first["suppressed"]}
    assert "needs /dev/kmsg" in json.dumps(suppressed["privileged-container:web"])
    # ... the expired one does not, and says so
    expired = [f for f in first["findings"] if f["id"] == "memory-no-limit:web"]
    assert expired and "suppression expired on 2020-01-31" in expired[0]["evidence"]
    assert "hardcoded-secret:api" in {f["rule"] + ":" + (f.get("service") or "") for f in first["findings"]}

    baseline = tmp_path / "baseline.json"
    baseline.write_text((tmp_path / "r1" / "lab" / "audit.json").read_text())
    (project / "compose.yaml").write_text(AFTER)
    proc, second = _audit(project, tmp_path / "r2", "-e", f"audit_baseline={baseline}",
                          "-e", "audit_fail_on=medium", check=False)
    assert proc.returncode == 2, proc.stdout[-3000:]
    gate = re.search(r"(\d+) new finding\(s\) at or above 'medium': ([^\n']+)", proc.stdout)
    assert gate, proc.stdout[-3000:]
    gated = [i.strip() for i in gate.group(2).split(",")]
    # only the new service's findings fail the gate; web's and api's are known
    assert "privileged-container:worker" in gated and all(i.endswith(":worker") for i in gated), gated
    worker = [f for f in second["findings"] if f.get("service") == "worker"]
    counts = second["baseline"]
    assert (counts["new"], counts["fixed"]) == (len(worker), 1) and counts["known"] >= 1, counts
    assert "9f8e7d6c5b4a39281706" not in proc.stdout + json.dumps(second)
    sarif = json.loads((tmp_path / "r2" / "lab" / "audit.sarif").read_text())
    states = {r.get("baselineState") for r in sarif["runs"][0]["results"]}
    assert {"new", "unchanged", "absent"} <= states
