# -*- coding: utf-8 -*-
"""compose-doctor renderers: audit.json dict -> Markdown, HTML, SARIF, JUnit, Prometheus textfile.

Pure functions over the report dict built by ``report.build_report`` (and ``fleet_report``).
audit.md and audit.html are Jinja2 templates (``pages``, over the context of ``sections``); SARIF,
JUnit and Prometheus are data formats built here. Everything printed comes from the report, which
carries no secret values; each output still escapes every string for its format.
"""
from __future__ import absolute_import, division, print_function

import json
import re
import xml.etree.ElementTree as ET

from ansible.module_utils.compose_doctor.output import pages
from ansible.module_utils.compose_doctor.output.sections import (  # noqa: F401 (public names of this module)
    SEV_ICON, action_plan, cis_label, command as _cmd, diag_text as _diag_text, fix_command, fleet_page,
    pct as _pct,
)

_md = pages.md_cell
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def to_markdown(report, templates_dir=None):
    """audit.md: the seed report's sections, from the audit role's audit.md.j2."""
    return pages.render(report, "md", templates_dir)


def to_html(report, templates_dir=None):
    """audit.html: one self-contained page (inline CSS, JS and SVG), from audit.html.j2."""
    return pages.render(report, "html", templates_dir)


# ----------------------------------------------------------------------------------------
# SARIF 2.1.0
# ----------------------------------------------------------------------------------------

def _fallback_file(report):
    comp = report.get("compose") or {}
    active = comp.get("active_files") or []
    if active:
        return active[0]
    for f in comp.get("files") or []:
        return f.get("path")
    return None


def sarif_help(report, rule):
    """A rule's help: why it matters, the change that fixes it, the fix role's command, its CIS id."""
    parts = []
    if rule.get("impact"):
        parts.append("Why: %s" % rule["impact"])
    if rule.get("advice"):
        parts.append("Fix: %s" % rule["advice"])
    if rule.get("fix"):
        parts.append("Automated fix: %s" % _cmd(report, rule["fix"]))
    if rule.get("cis"):
        parts.append("CIS Docker Benchmark %s." % rule["cis"])
    return " ".join(parts) or rule.get("title") or rule["id"]


CIS_TAXONOMY = "CIS Docker Benchmark"
SARIF_BASELINE = {"new": "new", "known": "unchanged"}   # fixed findings are results with baselineState absent


def _sarif_location(report, uri, line=None, target=None):
    """A SARIF location: ``uri`` relative to PROJECTROOT when the project dir is known."""
    loc = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
    if (report.get("project") or {}).get("dir"):
        loc["physicalLocation"]["artifactLocation"]["uriBaseId"] = "PROJECTROOT"
    if line:
        loc["physicalLocation"]["region"] = {"startLine": int(line)}
    if target is not None:
        loc["logicalLocations"] = [{"name": str(target), "kind": "resource"}]
    return loc


def _sarif_suppressions(report, f):
    """SARIF 2.1.0 ``suppressions`` of a suppressed finding: kind inSource/external, justification, where."""
    x = f["suppression"]
    sup = {"kind": x.get("kind") if x.get("kind") in ("inSource", "external") else "external",
           "status": "accepted",
           "justification": "%s%s" % (x.get("reason"), " (until %s)" % x["until"] if x.get("until") else "")}
    if x.get("file"):
        sup["location"] = _sarif_location(report, x["file"], x.get("line"))
    return [sup]


def _sarif_result(report, f, index):
    res = {
        "ruleId": f["rule"], "level": SARIF_LEVEL[f["severity"]],
        "message": {"text": "%s: %s" % (f.get("title"), f.get("evidence"))},
        "partialFingerprints": {"composeDoctorId/v1": f["id"]},
        "properties": {"severity": f["severity"], "priority": f["priority"], "host": report.get("host"),
                       "service": f.get("service"), "container": f.get("container"), "fix": f.get("fix"),
                       "cis": f.get("cis")},
    }
    if f["rule"] in index:
        res["ruleIndex"] = index[f["rule"]]
    uri = f.get("file") or _fallback_file(report)
    if uri:
        res["locations"] = [_sarif_location(report, uri, f.get("line") if f.get("file") else None, f.get("target"))]
    if f.get("cis"):
        res["taxa"] = [{"id": f["cis"], "toolComponent": {"name": CIS_TAXONOMY}}]
    if f.get("baseline_state") in SARIF_BASELINE:
        res["baselineState"] = SARIF_BASELINE[f["baseline_state"]]
    if f.get("suppression"):
        res["suppressions"] = _sarif_suppressions(report, f)
    if f.get("suppression_expired"):
        res["properties"]["suppressionExpired"] = f["suppression_expired"]
    return res


def _sarif_fixed(f, index):
    """A finding of the baseline that is gone: baselineState absent, kind pass."""
    res = {"ruleId": f.get("rule"), "kind": "pass", "level": "none", "baselineState": "absent",
           "message": {"text": "Fixed since the baseline: %s: %s" % (f.get("title"), f.get("target"))},
           "partialFingerprints": {"composeDoctorId/v1": f.get("id")}}
    if f.get("rule") in index:
        res["ruleIndex"] = index[f["rule"]]
    return res


def _sarif_rule(report, r):
    props = {"severity": r["severity"], "priority": r["priority"], "tags": ["compose-doctor"]}
    rule = {
        "id": r["id"], "name": "".join(p.capitalize() for p in r["id"].split("-")),
        "shortDescription": {"text": r.get("title") or r["id"]},
        "fullDescription": {"text": r.get("impact") or r.get("title") or r["id"]},
        "help": {"text": sarif_help(report, r)},
        "defaultConfiguration": {"level": SARIF_LEVEL[r["severity"]], "enabled": r.get("status") != "disabled"},
        "properties": props,
    }
    if r.get("cis"):
        props["tags"] += ["security", "CIS-%s" % r["cis"]]
        props["cis"] = r["cis"]
        rule["relationships"] = [{"target": {"id": r["cis"], "toolComponent": {"name": CIS_TAXONOMY}},
                                  "kinds": ["relevant"]}]
    return rule


def to_sarif(report):
    """SARIF 2.1.0: one rule per catalog entry (its CIS id as a tag, a property and a relationship to the
    CIS Docker Benchmark taxonomy), one result per finding; suppressed findings carry ``suppressions``,
    with a baseline every result has ``baselineState`` and fixed findings are ``absent`` results."""
    rules = report.get("rules") or []
    index = dict((r["id"], i) for i, r in enumerate(rules))
    proj_dir = (report.get("project") or {}).get("dir")
    results = [_sarif_result(report, f, index)
               for f in list(report.get("findings") or []) + list(report.get("suppressed") or [])]
    results += [_sarif_fixed(f, index) for f in (report.get("baseline") or {}).get("fixed_findings") or []]
    summary = report.get("summary") or {}
    run = {
        "tool": {"driver": {"name": "compose-doctor", "version": (report.get("tool") or {}).get("version"),
                            "rules": [_sarif_rule(report, r) for r in rules]}},
        "results": results,
        "properties": {"host": report.get("host"), "score": summary.get("score"),
                       "suppressed": summary.get("suppressed") or 0, "baseline": summary.get("baseline")},
    }
    cis = sorted(set(r["cis"] for r in rules if r.get("cis")), key=lambda c: [p.zfill(4) for p in str(c).split(".")])
    if cis:
        run["taxonomies"] = [{"name": CIS_TAXONOMY, "taxa": [{"id": c, "name": cis_label(c)} for c in cis]}]
    if proj_dir:
        run["originalUriBaseIds"] = {"PROJECTROOT": {"uri": "file://%s/" % proj_dir.rstrip("/")}}
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


# ----------------------------------------------------------------------------------------
# JUnit XML
# ----------------------------------------------------------------------------------------

def junit_classname(rule):
    """``compose_doctor.<rule>``, grouped under its CIS id when it has one: ``compose_doctor.CIS_5_4.<rule>``."""
    if rule.get("cis"):
        return "compose_doctor.CIS_%s.%s" % (str(rule["cis"]).replace(".", "_"), rule["id"])
    return "compose_doctor.%s" % rule["id"]


def to_junit(report):
    """One testcase per rule x target, classnames grouped by CIS id (``junit_classname``); failures for
    open findings, skipped for suppressed ones and rules not evaluated, passes for clean evaluated rules."""
    findings = report.get("findings") or []
    by_rule, suppressed = {}, {}
    for f in findings:
        by_rule.setdefault(f["rule"], []).append(f)
    for f in report.get("suppressed") or []:
        suppressed.setdefault(f["rule"], []).append(f)
    host = str(report.get("host") or "localhost")
    suite = ET.Element("testsuite", name="compose-doctor.%s" % host, timestamp=str(report.get("generated_at") or ""),
                       hostname=host)
    tests = failures = skipped = 0
    for r in report.get("rules") or []:
        rid = r["id"]
        classname = junit_classname(r)
        fs = by_rule.get(rid, [])
        for f in suppressed.get(rid, []):
            tc = ET.SubElement(suite, "testcase", classname=classname, name="%s[%s]" % (rid, f.get("target")))
            x = f.get("suppression") or {}
            ET.SubElement(tc, "skipped", message="suppressed by %s: %s" % (x.get("by"), x.get("reason")))
            tests += 1
            skipped += 1
        if fs:
            for f in fs:
                tc = ET.SubElement(suite, "testcase", classname=classname, name="%s[%s]" % (rid, f.get("target")))
                fail = ET.SubElement(tc, "failure", message="[%s] %s: %s" % (f["priority"], f.get("title"),
                                                                           f.get("target")), type=f["severity"])
                lines = [f.get("evidence") or ""]
                cause = _diag_text(f)
                if cause:
                    lines.append("Cause: %s" % cause)
                lines.append("Fix: %s" % (_cmd(report, f.get("fix")) if f.get("fix") else f.get("advice")))
                if f.get("file"):
                    lines.append("File: %s%s" % (f["file"], ":%s" % f["line"] if f.get("line") else ""))
                fail.text = "\n".join(lines)
                tests += 1
                failures += 1
        elif not suppressed.get(rid):
            tc = ET.SubElement(suite, "testcase", classname=classname, name=rid)
            tests += 1
            if r.get("status") != "evaluated":
                ET.SubElement(tc, "skipped", message=r.get("status") or "skipped")
                skipped += 1
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites", name="compose-doctor", tests=str(tests), failures=str(failures),
                      errors="0", skipped=str(skipped))
    root.append(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ----------------------------------------------------------------------------------------
# Prometheus textfile
# ----------------------------------------------------------------------------------------

def _label(v):
    return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**kv):
    return "{%s}" % ",".join('%s="%s"' % (k, _label(v)) for k, v in kv.items())


_GEN_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def _epoch(ts):
    import calendar
    m = _GEN_RE.match(str(ts or ""))
    if not m:
        return 0
    y, mo, d, hh, mi, ss = (int(x) for x in m.groups()[:6])
    secs = calendar.timegm((y, mo, d, hh, mi, ss, 0, 0, 0))
    tz = m.group(7)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        tz = tz[1:].replace(":", "")
        secs -= sign * (int(tz[:2]) * 3600 + int(tz[2:]) * 60)
    return secs


def to_prometheus(report):
    s = report.get("summary") or {}
    L = []
    L.append("# HELP compose_doctor_findings Open compose-doctor findings by rule and severity.")
    L.append("# TYPE compose_doctor_findings gauge")
    counts = {}
    for f in report.get("findings") or []:
        counts[(f["rule"], f["severity"])] = counts.get((f["rule"], f["severity"]), 0) + 1
    for r in report.get("rules") or []:
        if r.get("status") == "evaluated" and not any(k[0] == r["id"] for k in counts):
            counts[(r["id"], r["severity"])] = 0
    for (rule, sev) in sorted(counts):
        L.append("compose_doctor_findings%s %d" % (_labels(rule=rule, severity=sev), counts[(rule, sev)]))
    L.append("# HELP compose_doctor_suppressed_findings Findings silenced by a suppression (not in the score).")
    L.append("# TYPE compose_doctor_suppressed_findings gauge")
    L.append("compose_doctor_suppressed_findings %d" % len(report.get("suppressed") or []))
    L.append("# HELP compose_doctor_containers Containers of the compose project by state.")
    L.append("# TYPE compose_doctor_containers gauge")
    states = dict((st, 0) for st in ("running", "restarting", "exited", "created", "paused", "dead"))
    for c in report.get("containers") or []:
        states[c.get("state") or "unknown"] = states.get(c.get("state") or "unknown", 0) + 1
    if (report.get("docker") or {}).get("reachable"):
        for st in sorted(states):
            L.append("compose_doctor_containers%s %d" % (_labels(state=st), states[st]))
    L.append("# HELP compose_doctor_score Audit score 0-100: 100*K/(K+weighted findings), K=score_scale (100).")
    L.append("# TYPE compose_doctor_score gauge")
    L.append("compose_doctor_score %s" % int(s.get("score") or 0))
    L.append("# HELP compose_doctor_docker_up Whether the Docker daemon answered during the audit.")
    L.append("# TYPE compose_doctor_docker_up gauge")
    L.append("compose_doctor_docker_up %d" % (1 if (report.get("docker") or {}).get("reachable") else 0))
    L.append("# HELP compose_doctor_audit_timestamp_seconds Unix time the audit report was generated.")
    L.append("# TYPE compose_doctor_audit_timestamp_seconds gauge")
    L.append("compose_doctor_audit_timestamp_seconds %d" % _epoch(report.get("generated_at")))
    return "\n".join(L) + "\n"


# ----------------------------------------------------------------------------------------
# fleet
# ----------------------------------------------------------------------------------------

def fleet_markdown(fleet, templates_dir=None):
    """fleet.md (template fleet.md.j2): the hosts worst first (lowest score; unscored last)."""
    return pages.render(None, "fleet", templates_dir, context=fleet_page(fleet))


def fleet_html(fleet, templates_dir=None):
    """fleet.html (template fleet.html.j2): hosts x severity, worst host first, each count linking to
    that host's audit.html; the hosts without a report named with their state."""
    return pages.render(None, "fleet_html", templates_dir, context=fleet_page(fleet))
