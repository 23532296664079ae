# -*- coding: utf-8 -*-
"""compose_audit and audit_report main() end to end on a tmp dir."""
import json
import os
import stat
import xml.etree.ElementTree as ET

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

import audit_fixtures as fx
import audit_report
import compose_audit

HOST_FILES = ["audit.json", "audit.md", "audit.html", "audit.sarif", "junit.xml", "compose_doctor.prom"]


class ModuleExit(Exception):
    def __init__(self, result, failed=False):
        super().__init__(result)
        self.result = result
        self.failed = failed


def run(module, monkeypatch, **params):
    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs)

    def fail_json(self, **kwargs):
        raise ModuleExit(kwargs, failed=True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    with patch_module_args(params):
        with pytest.raises(ModuleExit) as info:
            module.main()
    return info.value


def audit(monkeypatch, **extra):
    params = dict(compose=fx.lab_compose(), runtime=fx.lab_runtime(), host="lab1", generated_at=fx.GENERATED_AT)
    params.update(extra)
    out = run(compose_audit, monkeypatch, **params)
    assert not out.failed, out.result
    return out.result


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_compose_audit_returns_report_and_findings(monkeypatch):
    res = audit(monkeypatch, policy={"restart_threshold": 3}, _ansible_check_mode=True)
    assert res["changed"] is False
    rep = res["report"]
    assert rep["schema_version"] == "1.0" and rep["host"] == "lab1"
    assert res["findings"] == rep["findings"] and res["summary"] == rep["summary"]
    assert "restart-loop:jarvis" in [f["id"] for f in res["findings"]]
    assert fx.PLANTED not in json.dumps(res)


def test_compose_audit_without_runtime_reports_unreachable(monkeypatch):
    res = audit(monkeypatch, runtime={})
    assert res["report"]["docker"]["reachable"] is False
    assert "daemon-unreachable:docker" in [f["id"] for f in res["findings"]]


def test_compose_audit_bad_policy_fails_clearly(monkeypatch):
    out = run(compose_audit, monkeypatch, compose=fx.lab_compose(), policy={"rule_severity": {"nope": "high"}})
    assert out.failed and "invalid policy" in out.result["msg"] and "nope" in out.result["msg"]


def test_audit_report_writes_host_files(monkeypatch, tmp_path):
    report = audit(monkeypatch)["report"]
    dest = tmp_path / "reports" / "lab1"
    out = run(audit_report, monkeypatch, dest=str(dest), report=report, _ansible_check_mode=True)
    assert not out.failed, out.result
    assert out.result["changed"] is False
    assert sorted(os.path.basename(p) for p in out.result["files"]) == sorted(HOST_FILES)
    assert mode(dest) == 0o700
    for name in HOST_FILES:
        path = dest / name
        assert path.is_file() and path.stat().st_size > 0
        assert mode(path) == 0o600, name
        assert fx.PLANTED not in path.read_text()
    assert json.loads((dest / "audit.json").read_text())["schema_version"] == "1.0"
    ET.parse(str(dest / "junit.xml"))
    assert json.loads((dest / "audit.sarif").read_text())["version"] == "2.1.0"
    assert not [p for p in os.listdir(dest) if p.endswith(".tmp")]  # no temp files left


def test_audit_report_rewrites_existing_file_mode(monkeypatch, tmp_path):
    report = audit(monkeypatch)["report"]
    (tmp_path / "audit.json").write_text("old")
    os.chmod(tmp_path / "audit.json", 0o644)
    out = run(audit_report, monkeypatch, dest=str(tmp_path), report=report, formats=["json"])
    assert out.result["files"] == [str(tmp_path / "audit.json")]
    assert mode(tmp_path / "audit.json") == 0o600
    assert json.loads((tmp_path / "audit.json").read_text())["host"] == "lab1"


def test_audit_report_fleet(monkeypatch, tmp_path):
    report = audit(monkeypatch)["report"]
    out = run(audit_report, monkeypatch, dest=str(tmp_path / "fleet"), fleet=True, reports=[report],
              unreachable=["db9", {"host": "db10", "error": "timeout"}])
    assert not out.failed, out.result
    names = sorted(os.path.basename(p) for p in out.result["files"])
    assert names == ["fleet.json", "fleet.md"]
    for p in out.result["files"]:
        assert mode(p) == 0o600
    fleet = json.loads((tmp_path / "fleet" / "fleet.json").read_text())
    assert fleet["totals"]["hosts"] == 3 and fleet["totals"]["hosts_unreachable"] == 2


def test_audit_report_requires_a_report(monkeypatch, tmp_path):
    out = run(audit_report, monkeypatch, dest=str(tmp_path), report={"foo": 1})
    assert out.failed and "schema_version" in out.result["msg"]
    assert os.listdir(tmp_path) == []


def test_audit_report_unwritable_dest_fails_cleanly(monkeypatch, tmp_path):
    report = audit(monkeypatch)["report"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = run(audit_report, monkeypatch, dest=str(blocker / "sub"), report=report)
    assert out.failed and "could not write reports" in out.result["msg"]
