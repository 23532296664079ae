from ansible.module_utils.compose_doctor.output import remediation


def _report(score, *ids):
    findings = [{"id": i, "rule": i.split(":")[0], "severity": "high", "priority": "P1", "title": i,
                 "service": None, "container": None, "file": None} for i in ids]
    return {"host": "h1", "project": {"name": "p"}, "generated_at": "t",
            "summary": {"score": score, "findings": {"high": len(ids)}}, "findings": findings}


def test_compare_splits_resolved_remaining_new():
    before = _report(10, "restart-loop:a", "unhealthy:b", "env-file-permissions:.env")
    after = _report(40, "unhealthy:b", "no-healthcheck:c")
    s = remediation.compare(before, after, fixes=[{"tag": "pydeps", "role": "python_deps", "result": "applied"}])
    assert [f["id"] for f in s["resolved"]] == ["env-file-permissions:.env", "restart-loop:a"]
    assert [f["id"] for f in s["remaining"]] == ["unhealthy:b"]
    assert [f["id"] for f in s["new"]] == ["no-healthcheck:c"]
    assert s["score"] == {"before": 10, "after": 40}


def test_markdown_names_counts_and_check_mode():
    s = remediation.compare(_report(10, "a:1"), _report(10, "a:1"), check_mode=True)
    md = remediation.to_markdown(s)
    assert "0 resolved, 1 remaining, 0 new" in md
    assert "check (preview)" in md
