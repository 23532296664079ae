# -*- coding: utf-8 -*-
"""compose_audit and audit_report main() end to end on a tmp dir."""
import json
import os
import stat
import xml.etree.ElementTree as ET

import audit_fixtures as fx
import audit_report
import compose_audit

HOST_FILES = ["audit.json", "audit.md", "audit.html", "audit.sarif", "junit.xml", "compose_doctor.prom"]


def audit(run_module, check=False, **extra):
    params = dict(compose=fx.lab_compose(), runtime=fx.lab_runtime(), host="lab1", generated_at=fx.GENERATED_AT)
    params.update(extra)
    out = run_module(compose_audit, params, check=check)
    assert not out.get("failed", False), out
    return out


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_compose_audit_returns_one_report_with_the_findings(run_module):
    res = audit(run_module, check=True, policy={"restart_threshold": 3})
    assert res["changed"] is False
    rep = res["report"]
    assert rep["schema_version"] == "1.0" and rep["host"] == "lab1"
    assert res["summary"] == rep["summary"]
    assert "findings" not in res    # one copy of the findings, in the report: less for Ansible to carry
    assert "restart-loop:jarvis" in [f["id"] for f in rep["findings"]]
    # the facts given as input are not echoed back under "invocation" (only their shape is)
    assert fx.PLANTED not in json.dumps(res)
    assert res["invocation"]["module_args"]["compose"].startswith("<dict of ")
    assert res["invocation"]["module_args"]["host"] == "lab1"


def test_compose_audit_without_runtime_reports_unreachable(run_module):
    res = audit(run_module, runtime={})
    assert res["report"]["docker"]["reachable"] is False
    assert "daemon-unreachable:docker" in [f["id"] for f in res["report"]["findings"]]


def test_compose_audit_bad_policy_fails_clearly(run_module):
    out = run_module(compose_audit, dict(compose=fx.lab_compose(), policy={"rule_severity": {"nope": "high"}}))
    assert out.get("failed", False) and "invalid policy" in out["msg"] and "nope" in out["msg"]


def test_audit_report_writes_host_files(run_module, tmp_path):
    report = audit(run_module)["report"]
    dest = tmp_path / "reports" / "lab1"
    out = run_module(audit_report, dict(dest=str(dest), report=report), check=True)
    assert not out.get("failed", False), out
    assert out["changed"] is False
    assert sorted(os.path.basename(p) for p in out["files"]) == sorted(HOST_FILES)
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


def test_audit_report_rewrites_existing_file_mode(run_module, tmp_path):
    report = audit(run_module)["report"]
    (tmp_path / "audit.json").write_text("old")
    os.chmod(tmp_path / "audit.json", 0o644)
    out = run_module(audit_report, dict(dest=str(tmp_path), report=report, formats=["json"]))
    assert out["files"] == [str(tmp_path / "audit.json")]
    assert mode(tmp_path / "audit.json") == 0o600
    assert json.loads((tmp_path / "audit.json").read_text())["host"] == "lab1"


def test_audit_report_fleet(run_module, tmp_path):
    report = audit(run_module)["report"]
    out = run_module(audit_report, dict(dest=str(tmp_path / "fleet"), fleet=True, reports=[report],
                                        unreachable=["db9", {"host": "db10", "error": "timeout"}]))
    assert not out.get("failed", False), out
    names = sorted(os.path.basename(p) for p in out["files"])
    assert names == ["fleet.html", "fleet.json", "fleet.md"]
    for p in out["files"]:
        assert mode(p) == 0o600
    fleet = json.loads((tmp_path / "fleet" / "fleet.json").read_text())
    assert fleet["totals"]["hosts"] == 3 and fleet["totals"]["hosts_unreachable"] == 2


def test_audit_report_fleet_reads_the_hosts_reports_from_dest(run_module, tmp_path):
    """hosts: each host's audit.json as the audit wrote it in dest/<host>/ (kept runs: the newest,
    through the link), the same summary as with the reports given; a host without one is named."""
    report = audit(run_module)["report"]
    dest = tmp_path / "reports"
    out = run_module(audit_report, dict(dest=str(dest / "lab1"), report=report, keep=3))
    assert not out.get("failed"), out
    by_file = run_module(audit_report, dict(dest=str(dest), fleet=True, hosts=["lab1"], unreachable=["db9"]))
    assert not by_file.get("failed"), by_file
    from_file = json.loads((dest / "fleet.json").read_text())
    run_module(audit_report, dict(dest=str(dest), fleet=True, reports=[report], unreachable=["db9"]))
    given = json.loads((dest / "fleet.json").read_text())
    assert dict(from_file, generated_at=None) == dict(given, generated_at=None)
    assert from_file["hosts"][0]["host"] == "lab1" and from_file["totals"]["hosts"] == 2
    out = run_module(audit_report, dict(dest=str(dest), fleet=True, hosts=["lab1", "ghost"]))
    assert out.get("failed") and "ghost" in out["msg"] and "audit.json" in out["msg"], out


def test_audit_report_requires_a_report(run_module, tmp_path):
    out = run_module(audit_report, dict(dest=str(tmp_path), report={"foo": 1}))
    assert out.get("failed", False) and "schema_version" in out["msg"]
    assert os.listdir(tmp_path) == []


def test_audit_report_unwritable_dest_fails_cleanly(run_module, tmp_path):
    report = audit(run_module)["report"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = run_module(audit_report, dict(dest=str(blocker / "sub"), report=report))
    assert out.get("failed", False) and "could not write reports" in out["msg"]


def test_audit_report_keeps_every_run_and_prunes_past_keep(run_module, tmp_path):
    """keep > 0: one folder per run, latest -> the newest, the flat names point into it."""
    report = audit(run_module)["report"]
    dest = tmp_path / "reports" / "lab1"
    (dest).mkdir(parents=True)
    (dest / "audit.json").write_text("{}")       # a file an earlier version left: replaced by a link
    made = []
    for _ in range(4):
        out = run_module(audit_report, dict(dest=str(dest), report=report, keep=3, formats=["json", "md"]))
        assert not out.get("failed", False), out
        made.append(out["run"])
    assert len(set(made)) == 4                    # same second: -2, -3 ... never overwritten
    kept = sorted(p.name for p in dest.iterdir() if p.is_dir() and not p.is_symlink())
    assert kept == sorted(made[1:]) and out["pruned"] == [made[0]] and os.readlink(dest / "latest") == made[-1]
    assert os.readlink(dest / "audit.json") == os.path.join("latest", "audit.json")
    assert json.loads((dest / "audit.json").read_text())["schema_version"] == "1.0"
    assert mode(dest / made[-1]) == 0o700 and mode(dest / made[-1] / "audit.md") == 0o600
    # the remediation summary goes into the newest run and links the one before it
    before = made[-2]
    out = run_module(audit_report, dict(dest=str(dest), report=report, before=report, keep=3, before_run=before))
    assert out["run"] == made[-1]
    text = (dest / "remediation.md").read_text()
    assert "[before](../%s/audit.md)" % before in text and "[after](audit.md)" in text
    assert (dest / made[-1] / "remediation.json").is_file()


CATALOG = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "audit", "files", "crashloop_catalog.yml")


def test_the_crashloop_catalogue_may_be_a_path_read_where_the_rules_run(run_module):
    """The audit role passes the catalogue's path (templating 20 KB of data into every host's task
    arguments cost more than the rules): the same diagnosis as the catalogue itself."""
    import yaml
    with open(CATALOG) as fh:
        data = yaml.safe_load(fh)
    by_path = audit(run_module, policy={"crashloop_catalog": CATALOG})["report"]
    by_data = audit(run_module, policy={"crashloop_catalog": data})["report"]
    causes = lambda rep: sorted((f["id"], (f.get("diagnosis") or {}).get("cause")) for f in rep["findings"])  # noqa: E731
    assert causes(by_path) == causes(by_data)
    assert any(cause for _id, cause in causes(by_path))


def test_a_crashloop_catalogue_path_that_cannot_be_read_fails_naming_it(run_module, tmp_path):
    for path, says in ((str(tmp_path / "none.yml"), "cannot read"), (str(tmp_path), "cannot read")):
        out = run_module(compose_audit, dict(compose=fx.lab_compose(), policy={"crashloop_catalog": path}))
        assert out.get("failed") and path in out["msg"] and says in out["msg"], out
    listed = tmp_path / "list.yml"
    listed.write_text("- a\n- b\n")
    out = run_module(compose_audit, dict(compose=fx.lab_compose(), policy={"crashloop_catalog": str(listed)}))
    assert out.get("failed") and "does not hold a catalogue" in out["msg"], out


def test_gather_and_report_files_need_the_action_plugin(run_module, tmp_path):
    """The module alone (no action plugin) cannot run another module or write on the controller:
    it says so instead of ignoring the options."""
    out = run_module(compose_audit, dict(gather={"project_dir": str(tmp_path)}))
    assert out.get("failed") and "gather" in out["msg"] and "action plugin" in out["msg"], out
    out = run_module(compose_audit, dict(compose=fx.lab_compose(), report_files={"dest": str(tmp_path)}))
    assert out.get("failed") and "report_files" in out["msg"], out
    assert list(tmp_path.iterdir()) == []
    out = run_module(compose_audit, dict(compose=fx.lab_compose(), gather={"project_dir": str(tmp_path)}))
    assert out.get("failed") and "mutually exclusive" in out["msg"], out
    out = run_module(compose_audit, dict(policy={}))
    assert out.get("failed") and "compose" in out["msg"] and "gather" in out["msg"], out


def test_report_files_options_are_audit_reports_host_options(tmp_path):
    from ansible.module_utils.compose_doctor.output import report_files
    report = {"schema_version": "1.0"}
    p = report_files.host_params({"dest": str(tmp_path), "keep": "3"}, report)
    assert p["keep"] == 3 and p["report"] is report and p["fleet"] is False
    assert p["formats"] == [f[0] for f in report_files.HOST_FILES]
    for bad, says in (({"dest": str(tmp_path), "fleet": True}, "fleet"), ({}, "dest"),
                      ({"dest": str(tmp_path), "formats": ["pdf"]}, "pdf")):
        try:
            report_files.host_params(bad, report)
        except report_files.ReportFilesError as err:
            assert err.msg.startswith("report_files: ") and says in err.msg, err.msg
        else:
            raise AssertionError("accepted %r" % bad)


def test_a_report_files_error_becomes_a_failed_result():
    from ansible.module_utils.compose_doctor.output import report_files
    err = report_files.ReportFilesError("could not write", files=["/r/audit.json"], exception="Traceback ...")
    assert err.as_result() == {"failed": True, "msg": "could not write", "files": ["/r/audit.json"],
                               "exception": "Traceback ..."}
    assert report_files.ReportFilesError("no templates").as_result() == {"failed": True, "msg": "no templates"}


def test_fail_on_keeps_the_gate_to_findings_at_or_above_it(run_module):
    """gate_ids are what audit_fail_on fails on: info (the default) every finding, a severity the
    findings at or above it, never none."""
    every = audit(run_module)
    severity = dict((f["id"], f["severity"]) for f in every["report"]["findings"])
    assert every["gate_ids"] == [f["id"] for f in every["report"]["findings"]]
    high = audit(run_module, fail_on="high")["gate_ids"]
    assert high and set(high) == set(i for i, s in severity.items() if s in ("critical", "high"))
    assert audit(run_module, fail_on="never")["gate_ids"] == []
    out = run_module(compose_audit, dict(compose=fx.lab_compose(), fail_on="urgent"))
    assert out.get("failed") and "fail_on" in out["msg"], out


def test_the_baseline_may_be_the_path_of_an_earlier_audit_json(run_module, tmp_path):
    """audit_baseline is a path on the controller: compose_audit reads it (no lookup and no copy of the
    earlier report in every host's task arguments); one that is not there, or not JSON, fails naming it."""
    first = audit(run_module)["report"]
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(first))
    again = audit(run_module, baseline=str(path))
    assert again["report"]["summary"]["baseline"]["known"] == len(first["findings"])
    assert again["gate_ids"] == []      # nothing new against itself
    assert audit(run_module, baseline="")["report"]["baseline"] is None
    for bad, says in ((tmp_path / "none.json", "not a readable file"), (tmp_path, "not a readable file")):
        out = run_module(compose_audit, dict(compose=fx.lab_compose(), baseline=str(bad)))
        assert out.get("failed") and str(bad) in out["msg"] and says in out["msg"], out
    (tmp_path / "text.json").write_text("not json")
    out = run_module(compose_audit, dict(compose=fx.lab_compose(), baseline=str(tmp_path / "text.json")))
    assert out.get("failed") and "is not an audit.json" in out["msg"], out
    (tmp_path / "other.json").write_text("{}\n")
    out = run_module(compose_audit, dict(compose=fx.lab_compose(), baseline=str(tmp_path / "other.json")))
    assert out.get("failed") and "is not an audit.json" in out["msg"], out
    (tmp_path / "list.json").write_text("[1]\n")
    out = run_module(compose_audit, dict(compose=fx.lab_compose(), baseline=str(tmp_path / "list.json")))
    assert out.get("failed") and "invalid baseline" in out["msg"], out


def test_a_data_file_is_read_again_only_when_it_changed(tmp_path):
    """Every host's task names the same data files: read once per process, again when changed."""
    from ansible.module_utils.compose_doctor import audit as audit_utils
    path = tmp_path / "kinds.yml"
    path.write_text("- name: one\n")
    first = audit_utils.load_data(str(path), "database_kinds", list)
    assert audit_utils.load_data(str(path), "database_kinds", list) is first
    path.write_text("- name: one\n- name: two\n")
    assert [k["name"] for k in audit_utils.load_data(str(path), "database_kinds", list)] == ["one", "two"]


def test_preload_reads_the_role_data_and_compiles_the_catalogue_once(tmp_path):
    """The action plugin's import (the playbook's main process) preloads the role's files: the workers
    forked per host then neither read them nor compile the catalogue's patterns again."""
    from ansible.module_utils.compose_doctor import audit as audit_utils
    from ansible.module_utils.compose_doctor.analysis import crashloop
    from ansible.module_utils.compose_doctor.output import pages
    files = pages.default_role_dir("files")
    audit_utils.preload(files)
    before = crashloop._regex.cache_info()
    catalog = audit_utils.load_data(os.path.join(files, "crashloop_catalog.yml"), "crashloop_catalog", dict)
    assert audit_utils.load_data(os.path.join(files, "crashloop_catalog.yml"), "crashloop_catalog", dict) is catalog
    crashloop.compile_catalog(catalog)
    after = crashloop._regex.cache_info()
    assert after.misses == before.misses and after.hits > before.hits
    audit_utils.preload(None)                       # a module's payload: nothing to preload
    audit_utils.preload(str(tmp_path))              # a folder without the files: nothing either
