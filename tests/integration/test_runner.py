"""The audit under ansible-runner, the engine AWX / Automation Platform run inside their execution
environments: the project as a checkout of this repository (git ls-files), the inventory and the
extra variables in runner's private data dir, nothing else. The playbook must find its roles,
modules and ansible.cfg from the project alone and write only into the reports dir it is given."""
import json
import os
import shutil
import subprocess

from conftest import BIN, LAB_DIR, ROOT


def _private_data_dir(tmp_path):
    pdd = tmp_path / "runner"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:   # what AWX checks out as the project: tracked files only, no venv, no reports
        if (ROOT / rel).is_file():
            (pdd / "project" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, pdd / "project" / rel)
    (pdd / "inventory").mkdir()
    (pdd / "inventory" / "hosts.yml").write_text(json.dumps({"all": {"hosts": {"lab": {
        "ansible_connection": "local", "ansible_python_interpreter": str(BIN / "python"),
        "compose_project_dir": str(LAB_DIR)}}}}))
    (pdd / "env").mkdir()
    (pdd / "env" / "extravars").write_text(json.dumps({"audit_reports_dir": str(tmp_path / "reports")}))
    return pdd


def test_audit_through_ansible_runner(broken_lab, tmp_path):
    pdd = _private_data_dir(tmp_path)
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", COMPOSE_BAKE="false")
    for key in ("ANSIBLE_CONFIG", "DOCKER_HOST"):    # runner's own environment: no help from this checkout
        env.pop(key, None)
    proc = subprocess.run([str(BIN / "ansible-runner"), "run", str(pdd), "-p", "playbooks/audit.yml",
                           "--ident", "audit"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    artifacts = pdd / "artifacts" / "audit"
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert (artifacts / "status").read_text() == "successful"
    assert (artifacts / "rc").read_text() == "0"
    report = json.loads((tmp_path / "reports" / "lab" / "audit.json").read_text())
    assert report["project"]["name"] == "sutazai" and report["docker"]["reachable"] is True
    loops = {f["service"]: f for f in report["findings"] if f["rule"] == "restart-loop"}
    assert loops["jarvis-automation-agent"]["diagnosis"]["module"] == "psutil"
    assert (tmp_path / "reports" / "lab" / "latest" / "audit.html").is_file()
    # nothing written into the project (AWX's checkout) or beside it but runner's own artifacts
    assert not (pdd / "project" / "reports").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports", "runner"]
    events = [json.loads(p.read_text()) for p in (artifacts / "job_events").glob("*.json")]
    assert any(e.get("event") == "playbook_on_stats" for e in events)
