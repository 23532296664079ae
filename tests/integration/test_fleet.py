"""audit.yml over several hosts: per-host reports, a fleet summary, and an unreachable host that
is named in the summary without stopping the others."""
import json

from conftest import LAB_DIR, ROOT, run_playbook


def test_fleet_summary_names_the_unreachable_host(client, tmp_path):
    inventory = tmp_path / "fleet.yml"
    # Two audited hosts (this machine under two names), one whose SSH port answers nothing, and one
    # reached whose audit stops (its baseline file does not exist).
    inventory.write_text(f"""
all:
  vars:
    compose_project_dir: {LAB_DIR}
    ansible_python_interpreter: {ROOT}/.venv/bin/python
  children:
    production:
      hosts:
        docker-a: {{ansible_connection: local}}
        docker-b: {{ansible_connection: local}}
        docker-failed: {{ansible_connection: local, audit_baseline: {tmp_path / 'no-such-baseline.json'}}}
    staging:
      hosts:
        docker-gone: {{ansible_host: 127.0.0.1, ansible_port: 1, ansible_connection: ssh, ansible_timeout: 3}}
""")
    proc = run_playbook("audit.yml", "-i", str(inventory), "-e", f"audit_reports_dir={tmp_path / 'reports'}", check=False)
    assert proc.returncode == 4, proc.stdout[-3000:]  # ansible's "some host unreachable"
    fleet = json.loads((tmp_path / "reports" / "fleet.json").read_text())
    assert sorted(h["host"] for h in fleet["hosts"]) == ["docker-a", "docker-b"]
    assert [(u["host"], u["state"]) for u in fleet["unreachable"]] == [("docker-failed", "failed"),
                                                                       ("docker-gone", "unreachable")]
    assert "port 1" in fleet["unreachable"][1]["error"], fleet["unreachable"]  # ssh's own message
    fleet_md = (tmp_path / "reports" / "fleet.md").read_text()
    assert "docker-gone" in fleet_md and "docker-a" in fleet_md
    for host in ("docker-a", "docker-b"):
        assert (tmp_path / "reports" / host / "audit.json").exists()
    for name in ("fleet.json", "fleet.md", "fleet.html"):
        assert oct((tmp_path / "reports" / name).stat().st_mode & 0o777) == "0o600", name
    fleet_html = (tmp_path / "reports" / "fleet.html").read_text()
    for host in ("docker-a", "docker-b", "docker-failed", "docker-gone"):
        assert f'data-host="{host}"' in fleet_html, host
    assert 'data-host="docker-gone" data-state="unreachable"' in fleet_html
    assert 'data-host="docker-failed" data-state="failed"' in fleet_html
    assert (tmp_path / "reports" / "docker-a" / "audit.html").exists()  # where its counts link
