"""A managed host as users have them: python3 with neither the Docker SDK nor PyYAML. The lab is
audited through such an interpreter (a venv of the system Python, nothing installed): without
audit_bootstrap the audit says what is missing and still reports the engine; with it, the
controller's PyYAML is copied to a private directory and the project is read."""
import json
import subprocess
import sys

import pytest

from conftest import LAB_DIR, run_playbook


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    venv = tmp_path_factory.mktemp("bare") / "venv"
    base = getattr(sys, "_base_executable", None) or sys.executable
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    for lib in ("docker", "yaml", "requests"):
        assert subprocess.run([str(python), "-c", "import %s" % lib], capture_output=True).returncode != 0, lib
    return python


def audit_bare(tmp_path, python, *extra):
    inventory = tmp_path / "bare.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"bare": {
        "ansible_connection": "local", "ansible_python_interpreter": str(python),
        "compose_project_dir": str(LAB_DIR)}}}}))
    run_playbook("audit.yml", "-i", str(inventory), "-e", f"audit_reports_dir={tmp_path / 'reports'}", *extra)
    return json.loads((tmp_path / "reports" / "bare" / "audit.json").read_text())


def test_without_bootstrap_the_audit_names_what_is_missing_and_reports_the_engine(client, tmp_path, bare_python):
    report = audit_bare(tmp_path, bare_python)
    invalid = [f for f in report["findings"] if f["rule"] == "compose-invalid"]
    assert invalid and "PyYAML is not installed for %s" % bare_python in json.dumps(invalid)
    assert "audit_bootstrap=true" in json.dumps(invalid)
    # the engine's half is there: the lab's crash loops are found without the SDK
    assert report["docker"]["reachable"] and any(f["rule"] == "restart-loop" for f in report["findings"])


def test_bootstrap_copies_pyyaml_once_and_the_project_is_read(client, tmp_path, bare_python):
    libs = tmp_path / "pylib"
    report = audit_bare(tmp_path, bare_python, "-e", "audit_bootstrap=true", "-e", f"compose_doctor_python_dir={libs}")
    assert (libs / "yaml" / "__init__.py").is_file() and not list(libs.rglob("*.so"))
    assert not [f for f in report["findings"] if f["rule"] == "compose-invalid"]
    assert report["summary"]["services_defined"] > 5
    first = (libs / "yaml" / "__init__.py").stat().st_mtime_ns
    audit_bare(tmp_path, bare_python, "-e", "audit_bootstrap=true", "-e", f"compose_doctor_python_dir={libs}")
    assert (libs / "yaml" / "__init__.py").stat().st_mtime_ns == first   # found there, not copied again


def test_bootstrap_under_check_changes_nothing_on_the_host(client, tmp_path, bare_python):
    libs = tmp_path / "pylib"
    report = audit_bare(tmp_path, bare_python, "--check", "-e", "audit_bootstrap=true",
                        "-e", f"compose_doctor_python_dir={libs}")
    assert not libs.exists()
    assert "PyYAML is not installed" in json.dumps(report["findings"])
