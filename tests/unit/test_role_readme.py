"""scripts/role_readme.py: the role READMEs are generated from meta/argument_specs.yml and current."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "role_readme.py"


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_every_role_readme_is_current():
    proc = run("--check")
    assert proc.returncode == 0, proc.stderr


def test_check_names_a_stale_readme_and_keeps_the_notes(tmp_path):
    role = tmp_path / "log_rotation"
    shutil.copytree(ROOT / "roles" / "log_rotation", role)
    spec = role / "meta" / "argument_specs.yml"
    spec.write_text(spec.read_text().replace("C(max-size) log option", "The max-size log option"))
    proc = run("--check", str(role))
    assert proc.returncode == 1 and "log_rotation/README.md" in proc.stderr
    notes = (role / "README.md").read_text().split("<!-- END GENERATED")[1].split("\n", 1)[1]
    assert run(str(role)).returncode == 0
    text = (role / "README.md").read_text()
    assert "The max-size log option" in text and text.endswith(notes)
    assert run("--check", str(role)).returncode == 0
