"""Hostile input and unsafe preconditions: the audit cannot be taken down, and remediate stops
before its first change with one clear line (also under --check).

Each test is a row of the fault table: a "billion laughs" file and a 30 MB file finish in seconds
with a finding; a directory without a compose file is not a healthy audit; unknown fix names, a
daemon that is down and an active compose file that does not parse stop remediate.yml before it
opens a journal run or touches a file.
"""
import json
import time

import pytest

from conftest import peak_rss_mib, run_playbook, tree_state

NOSOCK = "unix:///nonexistent.sock"
MEMORY_CAP_MIB = 300  # the ceiling for the audit's memory, on any input


def _audit(project, reports, *extra):
    start = time.monotonic()
    proc = run_playbook("audit.yml", "-e", f"compose_project_dir={project}", "-e", f"audit_reports_dir={reports}",
                        "-e", f"audit_docker_host={NOSOCK}", *extra, check=False, measure=True)
    took = time.monotonic() - start
    assert peak_rss_mib(proc) < MEMORY_CAP_MIB, f"a process of the audit peaked at {peak_rss_mib(proc):.0f} MiB"
    return proc, took


def _findings(reports):
    return json.loads((reports / "lab" / "audit.json").read_text())["findings"]


def _billion_laughs(path):
    lines = ['x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for i in range(1, 10):
        name = chr(ord("a") + i)
        lines.append("x-%s: &%s [%s]" % (name, name, ",".join(["*" + prev] * 9)))
        prev = name
    lines.append("services:\n  web:\n    image: example/web:1\n    labels: *%s" % prev)
    path.write_text("\n".join(lines) + "\n")


def _huge(path, size=30 * 1024 * 1024):
    with open(path, "w") as fh:
        fh.write("services:\n")
        i = 0
        while fh.tell() < size:
            fh.write('  s%d:\n    image: example/x:%d\n    environment: {A: "%s"}\n' % (i, i, "y" * 200))
            i += 1


@pytest.mark.parametrize("make, words", [(_billion_laughs, "expands"), (_huge, "bytes, over the limit")])
def test_hostile_file_is_a_finding_in_seconds(tmp_path, make, words):
    project = tmp_path / "p"
    project.mkdir()
    make(project / "compose.yaml")
    proc, took = _audit(project, tmp_path / "r")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert took < 10, f"audit took {took:.1f}s"
    refused = [f for f in _findings(tmp_path / "r") if f["rule"] == "compose-invalid"]
    assert refused and words in refused[0]["evidence"] and refused[0]["file"] == "compose.yaml"


def test_no_compose_file_is_not_a_healthy_audit(tmp_path):
    project = tmp_path / "typo"
    project.mkdir()
    proc, _ = _audit(project, tmp_path / "r", "-e", "audit_fail_on=low")
    assert proc.returncode == 2, "a CI gate must not pass on a directory without a compose file"
    assert "audit_compose_files" in proc.stdout
    assert [f["severity"] for f in _findings(tmp_path / "r") if f["rule"] == "compose-not-found"] == ["critical"]


@pytest.fixture
def project(tmp_path):
    p = tmp_path / "p"
    p.mkdir()
    (p / "compose.yaml").write_text("services:\n  web:\n    image: example/web:1\n")
    (p / ".env").write_text("DB_PASSWORD=PhFault0001\n")
    (p / ".env").chmod(0o644)
    return p


def _remediate(project, tmp_path, *extra):
    journal = tmp_path / "journal"
    before = tree_state(project)
    proc = run_playbook("remediate.yml", "--check", "--diff", "-e", f"compose_project_dir={project}",
                        "-e", f"audit_reports_dir={tmp_path / 'r'}", "-e", f"compose_doctor_journal_dir={journal}",
                        *extra, check=False)
    assert tree_state(project) == before, "a file changed"
    assert not journal.exists() or not any(journal.iterdir()), "a journal run was opened"
    return proc


@pytest.mark.parametrize("extra, line", [
    (["-e", '{"remediate_fixes": ["nosuchfix"]}'], "unknown fix name(s) nosuchfix (valid: pydeps"),
    (["--tags", "secrets,nosuchtag"], "unknown fix name(s) nosuchtag (valid: pydeps"),
    ([], "daemon-unreachable: Docker daemon unreachable"),
])
def test_preflight_stops_before_any_change(project, tmp_path, extra, line):
    proc = _remediate(project, tmp_path, "-e", f"audit_docker_host={NOSOCK}", *extra)
    assert proc.returncode == 2
    assert "remediate stopped before any change: " in proc.stdout and line in proc.stdout
    assert "NoneType" not in proc.stdout and "PhFault0001" not in proc.stdout


def test_preflight_stops_on_a_broken_active_override(project, tmp_path):
    (project / "compose.override.yaml").write_text("services: [\n")
    proc = _remediate(project, tmp_path, "-e", f"audit_docker_host={NOSOCK}")
    assert proc.returncode == 2
    assert "compose-invalid: compose.override.yaml (line 2" in proc.stdout
