# -*- coding: utf-8 -*-
"""audit.sarif validates against the official SARIF 2.1.0 JSON schema (tests/data, see its README)
and carries the CIS ids, the suppressions and the baseline states in SARIF's own fields."""
import copy
import json
from pathlib import Path

import audit_fixtures as fx
import jsonschema
import pytest

from ansible.module_utils.compose_doctor import audit
from ansible.module_utils.compose_doctor.analysis import rules
from ansible.module_utils.compose_doctor.output import render

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)     # the draft the schema declares (draft-04)
    assert cls is jsonschema.Draft4Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _entry(kind, file, line, rule, service=None, **fields):
    return {"kind": kind, "file": file, "line": line, "key": "ignore[0]", "service": service,
            "fields": dict(fields, rule=rule), "unknown": [], "keys": {}, "error": None}


def _report(compose, baseline=None, generated_at="2026-12-05T10:00:00Z"):
    report = audit.run(dict(compose=compose, runtime=fx.lab_runtime(), host="lab1",
                                               generated_at=generated_at, baseline=baseline))
    return report


@pytest.fixture(scope="module")
def rich():
    """The lab audit with in-source, external, expired and refused suppressions and a baseline
    with one finding fixed since and one finding new."""
    plain = _report(fx.lab_compose())
    by_service = [f for f in plain["findings"] if f.get("service")]
    a, b, c = by_service[0], by_service[1], by_service[2]
    compose = fx.lab_compose()
    compose["suppressions"] = [
        _entry("inSource", "docker-compose.yml", 12, a["rule"], a["service"], reason="accepted risk", until="2099-01-01"),
        _entry("external", ".compose-doctor-ignore.yml", 2, b["rule"], reason="tracked in OPS-12",
               target=b["target"]),
        _entry("external", ".compose-doctor-ignore.yml", 5, c["rule"], reason="old", until="2020-01-01",
               target=c["target"]),
        _entry("external", ".compose-doctor-ignore.yml", 8, "no-such-rule", reason="typo"),
    ]
    baseline = copy.deepcopy(plain)
    new = baseline["findings"].pop()
    baseline["findings"].append(dict(new, id="memory-no-limit:retired", target="retired", service="retired"))
    report = _report(compose, baseline)
    return {"report": report, "sarif": json.loads(render.to_sarif(report)), "suppressed": (a["id"], b["id"]),
            "expired": c["id"], "new": new["id"]}


def _results(sarif):
    return sarif["runs"][0]["results"]


def _by_id(sarif):
    return {r["partialFingerprints"]["composeDoctorId/v1"]: r for r in _results(sarif)}


def test_plain_lab_sarif_validates(validator):
    validator.validate(json.loads(render.to_sarif(_report(fx.lab_compose()))))


def test_unreachable_and_clean_sarif_validate(validator):
    for compose, runtime in ((fx.lab_compose(), fx.unreachable_runtime()), (fx.clean_compose(), fx.clean_runtime())):
        report = audit.run(dict(compose=compose, runtime=runtime, host="h", generated_at=fx.GENERATED_AT))
        validator.validate(json.loads(render.to_sarif(report)))


def test_rich_sarif_validates(validator, rich):
    errors = sorted(validator.iter_errors(rich["sarif"]), key=lambda e: list(e.path))
    assert not errors, "\n".join("%s: %s" % (list(e.path), e.message) for e in errors[:10])


def test_suppressed_results_carry_sarif_suppressions(rich):
    results = _by_id(rich["sarif"])
    in_source, external = (results[i]["suppressions"] for i in rich["suppressed"])
    assert in_source == [{"kind": "inSource", "status": "accepted", "justification": "accepted risk (until 2099-01-01)",
                          "location": {"physicalLocation": {
                              "artifactLocation": {"uri": "docker-compose.yml", "uriBaseId": "PROJECTROOT"},
                              "region": {"startLine": 12}}}}]
    assert external[0]["kind"] == "external" and external[0]["justification"] == "tracked in OPS-12"
    unsuppressed = [r for i, r in results.items() if i not in rich["suppressed"]]
    assert all("suppressions" not in r for r in unsuppressed)


def test_expired_and_refused_are_plain_results(rich):
    results = _by_id(rich["sarif"])
    expired = results[rich["expired"]]
    assert "suppressions" not in expired and "suppression expired on 2020-01-01" in expired["message"]["text"]
    refused = [r for r in _results(rich["sarif"]) if r["ruleId"] == "suppression-refused"]
    assert len(refused) == 1 and refused[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 8


def test_baseline_states(rich):
    results = _by_id(rich["sarif"])
    assert results[rich["new"]]["baselineState"] == "new"
    absent = [r for r in _results(rich["sarif"]) if r.get("baselineState") == "absent"]
    assert [r["partialFingerprints"]["composeDoctorId/v1"] for r in absent] == ["memory-no-limit:retired"]
    assert absent[0]["kind"] == "pass" and absent[0]["level"] == "none"
    new = {i for i, r in results.items() if r["baselineState"] == "new"}
    assert new == {rich["new"]} | {i for i in results if i.startswith("suppression-refused:")}   # the refusal is new too
    assert rich["report"]["summary"]["baseline"] == {"new": 2, "known": len(rich["report"]["findings"]) - 2, "fixed": 1}


def test_cis_ids_carried(rich):
    run = rich["sarif"]["runs"][0]
    cis_rules = {rid: r.cis for rid, r in rules.RULES.items() if r.cis}
    drv = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for rid, cis in cis_rules.items():
        assert drv[rid]["properties"]["cis"] == cis and "CIS-%s" % cis in drv[rid]["properties"]["tags"]
        assert drv[rid]["relationships"][0]["target"] == {"id": cis, "toolComponent": {"name": "CIS Docker Benchmark"}}
    [taxonomy] = run["taxonomies"]
    assert {t["id"] for t in taxonomy["taxa"]} == set(cis_rules.values())
    with_cis = [r for r in _results(rich["sarif"]) if r.get("properties", {}).get("cis")]
    assert with_cis and all(r["taxa"][0]["id"] == r["properties"]["cis"] for r in with_cis)


def test_the_schema_does_reject(validator, rich):
    broken = copy.deepcopy(rich["sarif"])
    _by_id(broken)[rich["suppressed"][0]]["suppressions"][0]["kind"] = "inline"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)
    broken = copy.deepcopy(rich["sarif"])
    _results(broken)[0]["baselineState"] = "known"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)
