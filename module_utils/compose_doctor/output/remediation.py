"""Before/after comparison of two audit reports, for remediate.yml's summary."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

SCHEMA_VERSION = "1.0"
_ORDER = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}


def _brief(f):
    return {k: f.get(k) for k in ("id", "rule", "severity", "priority", "title", "service", "container", "file")}


def _sorted(findings):
    return sorted(findings, key=lambda f: (_ORDER.get(f.get("priority"), 9), f.get("id") or ""))


def compare(before, after, fixes=None, check_mode=False, generated_at=None, runs=None):
    """Findings resolved (gone), remaining (in both) and new (only after), matched by stable id.
    ``runs``: {before, after} run folder names of the two audits when reports keep every run
    (output/report_runs.py); the summary sits in the after-run and links both."""
    was = {f["id"]: f for f in before.get("findings") or []}
    now = {f["id"]: f for f in after.get("findings") or []}
    links = None
    if runs and runs.get("after"):
        links = {"after": "audit.md",
                 "before": "../%s/audit.md" % runs["before"] if runs.get("before") else None}
    return {
        "reports": links,
        "schema_version": SCHEMA_VERSION,
        "host": after.get("host") or before.get("host"),
        "project": after.get("project") or before.get("project"),
        "generated_at": generated_at or after.get("generated_at"),
        "check_mode": bool(check_mode),
        "score": {"before": before["summary"].get("score"), "after": after["summary"].get("score")},
        "findings": {"before": before["summary"].get("findings"), "after": after["summary"].get("findings")},
        "fixes": fixes or [],
        "resolved": [_brief(f) for f in _sorted(was[i] for i in was if i not in now)],
        "remaining": [_brief(f) for f in _sorted(now[i] for i in now if i in was)],
        "new": [_brief(f) for f in _sorted(now[i] for i in now if i not in was)],
    }


def _rows(findings):
    if not findings:
        return ["_none_", ""]
    out = ["| Priority | Rule | Target | Finding |", "|---|---|---|---|"]
    for f in findings:
        target = f.get("container") or f.get("service") or f.get("file") or ""
        out.append("| %s | %s | %s | %s |" % (f.get("priority"), f.get("rule"), target, f.get("title")))
    return out + [""]


def to_markdown(summary):
    s = summary
    lines = [
        "# Remediation summary: %s" % ((s.get("project") or {}).get("name") or s.get("host")),
        "",
        "**Host:** %s  " % s.get("host"),
        "**Generated:** %s  " % s.get("generated_at"),
    ]
    if s.get("check_mode"):
        lines.append("**Mode:** check (preview): nothing was changed  ")
    links = s.get("reports") or {}
    if links.get("after"):
        lines.append("**Audits:** %s[after](%s)  " % (
            "[before](%s), " % links["before"] if links.get("before") else "", links["after"]))
    lines += [
        "**Score:** %s -> %s  " % (s["score"]["before"], s["score"]["after"]),
        "**Findings:** %d resolved, %d remaining, %d new" % (
            len(s["resolved"]), len(s["remaining"]), len(s["new"])),
        "",
        "## Fixes",
        "",
        "| Fix | Role | Result |",
        "|---|---|---|",
    ]
    for fx in s.get("fixes") or []:
        lines.append("| %s | %s | %s |" % (fx.get("tag"), fx.get("role"), fx.get("result")))
    lines += ["", "## Resolved", ""] + _rows(s["resolved"])
    lines += ["## New", ""] + _rows(s["new"])
    lines += ["## Remaining", ""] + _rows(s["remaining"])
    return "\n".join(lines)
