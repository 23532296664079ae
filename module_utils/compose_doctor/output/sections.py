# -*- coding: utf-8 -*-
"""What the audit.md and audit.html templates lay out: the report dict -> one page context.

The logic of a page lives here (grouping, sorting, statuses, KPIs, chart geometry, wording that
depends on the data); the Jinja2 templates in roles/audit/templates/report/ only place it. Values
are plain text, never escaped here: each template escapes for its format (Markdown cells, HTML).
"""
from __future__ import absolute_import, division, print_function

from urllib.parse import quote

from ansible.module_utils.compose_doctor.analysis.rules import PRIORITY, RULE_ORDER, SEVERITIES
from ansible.module_utils.compose_doctor.output import seed_pages
from ansible.module_utils.compose_doctor.sizes import format_size

NA = "n/a"  # an unknown size in a report
SEV_ICON = {"critical": "\U0001F534", "high": "\U0001F7E0", "medium": "\U0001F7E1", "low": "\U0001F535",
            "info": "\u26AA"}
SEV_COLOR = {"critical": "#c62828", "high": "#ef6c00", "medium": "#f9a825", "low": "#1565c0", "info": "#607d8b"}
REMEDIATE_CMD = "ansible-playbook playbooks/remediate.yml --tags %s"
LOOP_RULES = ("restart-loop", "unhealthy")
TOP_FINDINGS = 15  # P0/P1 findings listed in the executive summary
# The security section's groups: (title, rules), in the order the page shows them.
SECURITY_GROUPS = (
    ("Secrets in configuration", ("hardcoded-secret", "default-credential", "dockerfile-secret")),
    ("Container privileges", ("privileged-container", "docker-socket-mount", "root-user", "capability-added",
                              "sensitive-host-mount", "host-devices", "mount-propagation-shared")),
    ("Isolation and confinement", ("apparmor-unconfined", "selinux-disabled", "seccomp-unconfined", "host-network",
                                   "host-pid", "host-ipc", "host-uts", "host-userns")),
    ("Network exposure", ("port-all-interfaces", "privileged-port")),
    ("Images and build files", ("image-unpinned", "dockerfile-add", "dockerfile-missing")),
)


# ----------------------------------------------------------------------------------------
# shared wording (also used by the SARIF and JUnit writers in render.py)
# ----------------------------------------------------------------------------------------

def pct(v, digits=0):
    """'42%' / '42.5%' for a percentage, 'n/a' for None."""
    if v is None:
        return "n/a"
    return "%.*f%%" % (digits, v)


def size(v):
    return format_size(v, unknown=NA)


def mem_text(used, limit):
    """'512MiB / 1GiB (50.0%)', '512MiB / no limit' or 'n/a'."""
    if used is None:
        return "n/a"
    if limit:
        return "%s / %s (%s)" % (size(used), size(limit), pct(100.0 * used / limit, 1))
    return "%s / no limit" % size(used)


def fix_command(fix, available_fixes=None):
    """The remediate command for ``fix``; a fix this installation does not ship is 'planned'."""
    if not fix or not fix.get("tag"):
        return None
    if available_fixes is not None and fix["tag"] not in available_fixes:
        return "planned: role %s (tag %s) is not in this version" % (fix.get("role"), fix["tag"])
    return REMEDIATE_CMD % fix["tag"]


def command(report, fix):
    return fix_command(fix, report.get("available_fixes"))


def by_rule(report, *rules):
    return [f for f in report.get("findings") or [] if f.get("rule") in rules]


def diag_text(f):
    """Human cause line from a finding's diagnosis."""
    d = f.get("diagnosis") or {}
    cause = d.get("cause")
    if cause == "missing-python-module":
        req = d.get("requirements_file") or "no requirements file found in the build context"
        if d.get("listed"):
            return ("Python module '%s' (distribution %s) is missing from the running image, but %s already lists "
                    "it: the image is stale and needs a rebuild." % (d.get("module"), d.get("distribution"), req))
        return ("Python module '%s' is imported but distribution %s is not in %s; add it and rebuild."
                % (d.get("module"), d.get("distribution"), req))
    if cause == "docker-socket-permission":
        return ("Container user %s cannot open the Docker socket %s (group gid %s); group_add is %s. "
                "Grant the socket's group id instead of running as root."
                % (d.get("user") or "?", d.get("socket_path") or "", d.get("socket_gid"),
                   d.get("group_add") or "[]"))
    if cause == "oom-killed":
        return "The container was OOM-killed: its memory limit is too low."
    return None


def cis_label(cis):
    """'CIS 5.4' for a rule or finding's CIS Docker Benchmark id, '' without one."""
    return "CIS %s" % cis if cis else ""


def title_cis(item):
    """Title with its CIS id: 'Dangerous capability added (CIS 5.4)'."""
    label = cis_label(item.get("cis"))
    return "%s (%s)" % (item.get("title"), label) if label else item.get("title")


def assessment(report):
    s = report.get("summary") or {}
    if not (report.get("docker") or {}).get("reachable"):
        return "INCOMPLETE: the Docker daemon was unreachable, runtime facts are missing"
    worst = s.get("worst_severity")
    if worst == "critical":
        return "OPERATIONAL with CRITICAL ISSUES requiring immediate attention"
    if worst == "high":
        return "OPERATIONAL with HIGH-priority issues to fix this week"
    if worst:
        return "HEALTHY with improvements recommended"
    return "HEALTHY: no findings"


def action_plan(report):
    """One row per rule with findings: priority, title, targets, impact, fix, command."""
    rows, index = [], {}
    for f in report.get("findings") or []:
        fix = f.get("fix")
        key = (f["rule"], (fix or {}).get("tag"))
        if key not in index:
            index[key] = {"priority": f["priority"], "severity": f["severity"], "rule": f["rule"],
                          "title": f.get("title"), "impact": f.get("impact"), "advice": f.get("advice"),
                          "cis": f.get("cis"), "fix": fix, "command": command(report, fix), "target_list": []}
            rows.append(index[key])
        row = index[key]
        if SEVERITIES.index(f["severity"]) < SEVERITIES.index(row["severity"]):
            row["severity"], row["priority"] = f["severity"], f["priority"]
        row["target_list"].append(f.get("target"))
    for r in rows:
        t = r.pop("target_list")
        r["count"] = len(t)
        r["targets"] = ", ".join(str(x) for x in t[:6]) + (" (+%d more)" % (len(t) - 6) if len(t) > 6 else "")
        r["title_cis"] = title_cis(r)
        r["effort"], r["timeline"] = seed_pages.plan_columns(r["severity"], r["rule"], r["fix"])
    order = dict((rid, i) for i, rid in enumerate(RULE_ORDER))
    rows.sort(key=lambda r: (SEVERITIES.index(r["severity"]), r["fix"] is None, order.get(r["rule"], 99)))
    return rows


def suppression_kpis(report):
    """[(label, value)]: suppressed count and the baseline's new / known / fixed, when there are any."""
    s = report.get("summary") or {}
    out = []
    if s.get("suppressed"):
        out.append(("Suppressed (not counted)", "%d" % s["suppressed"]))
    if s.get("baseline"):
        out.append(("Since the baseline", "%(new)d new, %(known)d known, %(fixed)d fixed" % s["baseline"]))
    return out


# ----------------------------------------------------------------------------------------
# findings
# ----------------------------------------------------------------------------------------

def where(f):
    """Where a finding is: [{label, value}] for its service, container (when it differs) and file:line."""
    parts = []
    if f.get("service"):
        parts.append({"label": "service", "value": f["service"]})
    if f.get("container") and f.get("container") != f.get("service"):
        parts.append({"label": "container", "value": f["container"]})
    if f.get("file"):
        parts.append({"label": "", "value": "%s%s" % (f["file"], ":%s" % f["line"] if f.get("line") else "")})
    return parts or [{"label": "", "value": f.get("target")}]


def finding_view(report, f):
    """A finding as the pages show it: the report's fields plus what is worded from them."""
    evidence = f.get("evidence") or ""
    return dict(f, title_cis=title_cis(f), cause=diag_text(f), command=command(report, f.get("fix")),
                evidence_head=(evidence.splitlines() or [""])[0], where=where(f),
                alert=f.get("rule") in LOOP_RULES,
                rank=SEVERITIES.index(f["severity"]) if f.get("severity") in SEVERITIES else len(SEVERITIES))


def _findings(report):
    views = [dict(finding_view(report, f), number=i + 1) for i, f in enumerate(report.get("findings") or [])]
    groups = [{"severity": sev, "priority": PRIORITY[sev], "findings": [v for v in views if v["severity"] == sev]}
              for sev in SEVERITIES]
    return {
        "findings": views,
        "groups": [g for g in groups if g["findings"]],
        "top": [v for v in views if v.get("severity") in ("critical", "high")],
        "loops": [v for v in views if v.get("rule") in LOOP_RULES],
        "filters": {"priorities": sorted(set(v["priority"] for v in views)),
                    "rules": sorted(set(v["rule"] for v in views)),
                    "services": sorted(set(v["service"] for v in views if v.get("service")))},
    }


def _security(report):
    comp = report.get("compose") or {}
    files = []
    for kind, key in (("env", "env_files"), ("secret", "secret_files")):
        for f in comp.get(key) or []:
            readable = "world" if f.get("world_readable") else ("group" if f.get("group_readable") else "owner")
            files.append(dict(f, kind=kind, readable_by=readable,
                              masked_keys=["%s=********" % k for k in f.get("secret_keys") or []]))
    groups = [{"title": title, "findings": [finding_view(report, f) for f in by_rule(report, *rules)]}
              for title, rules in SECURITY_GROUPS]
    return {"files": files, "groups": groups}


def _suppressed(report):
    sup = [dict(finding_view(report, f), suppression=f.get("suppression") or {}) for f in report.get("suppressed") or []]
    base = report.get("baseline")
    fixed = [dict(f, title_cis=title_cis(f)) for f in (base or {}).get("fixed_findings") or []]
    notes = (report.get("suppressions") or {}).get("notes") or []
    return {"shown": bool(sup or notes or base), "findings": sup, "notes": notes, "baseline": base, "fixed": fixed}


# ----------------------------------------------------------------------------------------
# runtime and configuration sections
# ----------------------------------------------------------------------------------------

def _containers(report):
    rows = []
    for c in report.get("containers") or []:
        status = "ok" if c.get("healthy") else ("restarting" if c.get("state") == "restarting" else "bad")
        rows.append(dict(c, mem=mem_text(c.get("mem_usage_bytes"), c.get("mem_limit_bytes")), status=status,
                         uptime=uptime_text(c.get("uptime_s")),
                         cpu=NA if c.get("cpu_pct") is None else "%.1f%%" % c["cpu_pct"],
                         alert=c.get("state") == "restarting" or c.get("health") == "unhealthy"))
    return rows


def uptime_text(seconds):
    """'3d 4h', '2h 5m', '42s'; '-' for a container that is not running (None)."""
    if seconds is None:
        return "-"
    d, rest = divmod(int(seconds), 86400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    if d:
        return "%dd %dh" % (d, h)
    if h:
        return "%dh %dm" % (h, m)
    return "%dm %ds" % (m, sec) if m else "%ds" % sec


def _sprawl(report):
    comp = report.get("compose") or {}
    files = comp.get("files") or []
    return {"files": files, "main": [f for f in files if f.get("kind") == "main"],
            "active_files": comp.get("active_files") or [],
            "inactive_services": [sv for sv in report.get("services") or [] if not sv.get("running")]}


def _ports(report):
    rows = []
    for p in report.get("ports") or []:
        notes = []  # level: how the page marks it
        if p.get("all_interfaces"):
            notes.append({"text": "all interfaces", "level": "warn"})
        if p.get("database"):
            notes.append({"text": "database port", "level": ""})
        if p.get("conflict"):
            notes.append({"text": "port claimed twice", "level": "bad"})
        rows.append(dict(p, notes=notes))
    return rows


def _component_status(items, reachable, healthy_means_up=False):
    """Overall status of the mesh or monitoring components the project defines."""
    defined = [m for m in items if m.get("defined")]
    up = [m for m in items if m.get("running") and not (healthy_means_up and m.get("health") == "unhealthy")]
    if not defined:
        return "NOT CONFIGURED"
    if healthy_means_up:
        if not reachable:
            return "UNKNOWN (daemon unreachable)"
        return "EXCELLENT" if len(up) == len(defined) else "DEGRADED"
    if len(up) == len(defined):
        return "OPERATIONAL"
    return "PARTIALLY RUNNING" if up else "DEFINED but NOT RUNNING"


def _mesh(report, reachable):
    mesh = report.get("mesh") or []
    fs = by_rule(report, "mesh-not-running")
    return {"status": _component_status(mesh, reachable), "components": mesh,
            "command": command(report, fs[0].get("fix") or {"tag": "mesh"}) if fs else None}


def _monitoring(report, reachable):
    rows = []
    for m in report.get("monitoring") or []:
        if not m.get("defined"):
            state = "undefined"
        elif not reachable:
            state = "unknown"
        elif m.get("running") and m.get("health") != "unhealthy":
            state = "up"
        else:
            state = "down"
        rows.append(dict(m, view=state))
    return {"status": _component_status(report.get("monitoring") or [], reachable, healthy_means_up=True),
            "components": rows}


def _volumes(report):
    vols = report.get("volumes") or []
    counts = dict((st, len([v for v in vols if v.get("status") == st])) for st in ("in-use", "unused", "duplicate"))
    rows = [dict(v, in_use_text={True: "yes", False: "no"}.get(v.get("in_use"), "unknown")) for v in vols]
    return {"rows": rows, "counts": counts}


def _resources(report):
    res = report.get("resources")
    if not res:
        return None
    rows = [dict(r, used=size(r.get("usage_bytes")),
                 limit=format_size(r.get("limit_bytes")) if r.get("limit_bytes") else "no limit",
                 percent_text=pct(r.get("percent"), 1),
                 recommended=format_size(r.get("recommended_limit_bytes")) if r.get("recommended_limit_bytes") else "-",
                 reclaimable=format_size(r.get("reclaimable_bytes")) if r.get("reclaimable_bytes") else "-")
            for r in res.get("containers") or []]
    return dict(res, rows=rows, used=size(res.get("used_bytes")), limit=size(res.get("limit_bytes")),
                reserved=size(res.get("reserved_bytes")), reclaimable=size(res.get("reclaimable_bytes")),
                utilisation=pct(res.get("utilisation_pct"), 1),
                pressure=[f.get("container") for f in by_rule(report, "memory-pressure")],
                over=[f.get("container") for f in by_rule(report, "memory-overprovisioned")],
                chart=memory_chart(res.get("containers") or []))


# ----------------------------------------------------------------------------------------
# charts: geometry here, the SVG elements in the HTML template
# ----------------------------------------------------------------------------------------

def severity_chart(counts):
    """Bars of findings per severity: [{label, y, width, color, count, ...}] and the canvas size."""
    w, bar_h, gap, label_w = 520, 26, 8, 110
    mx = max([counts.get(s, 0) for s in SEVERITIES] + [1])
    bars = []
    for i, sev in enumerate(SEVERITIES):
        n = counts.get(sev, 0)
        bw = int((w - label_w - 60) * n / mx)
        y = gap + i * (bar_h + gap)
        bars.append({"severity": sev, "label": "%s %s" % (PRIORITY[sev], sev), "count": n, "x": label_w, "y": y,
                     "text_y": y + 18, "width": max(bw, 1), "height": bar_h, "value_x": label_w + bw + 6,
                     "color": SEV_COLOR[sev]})
    return {"width": w, "height": len(SEVERITIES) * (bar_h + gap) + gap, "bars": bars}


def memory_chart(rows):
    """Per container a limit bar (dashed without a limit) and a use bar coloured by status."""
    rows = [r for r in rows if r.get("usage_bytes") is not None]
    if not rows:
        return None
    w, bar_h, gap, label_w, right = 900, 18, 10, 260, 200
    scale_max = max([max(r.get("limit_bytes") or 0, r.get("usage_bytes") or 0) for r in rows] + [1])
    span = w - label_w - right
    bars = []
    for i, r in enumerate(rows):
        y = 20 + gap + i * (bar_h + gap)
        limit, usage = r.get("limit_bytes"), r.get("usage_bytes") or 0
        color = "#c62828" if r.get("status") == "under-provisioned" else (
            "#f9a825" if r.get("status") == "over-provisioned" else "#90caf9")
        limit_text = format_size(limit) if limit else "no limit"
        bars.append({"container": r.get("container"), "y": y, "text_y": y + 13, "height": bar_h, "color": color,
                     "limit_width": max(int(span * (limit or scale_max) / scale_max), 1), "dashed": not limit,
                     "use_width": max(int(span * usage / scale_max), 1), "used": format_size(usage),
                     "limit": limit_text, "value_x": label_w + span + 8,
                     "percent": " (%.0f%%)" % r["percent"] if r.get("percent") is not None else ""})
    return {"width": w, "height": len(rows) * (bar_h + gap) + gap + 20, "label_w": label_w, "bars": bars}


# ----------------------------------------------------------------------------------------
# the page
# ----------------------------------------------------------------------------------------

def _kpis(report, reachable):
    """The summary's numbers, worded once for both pages."""
    s = report.get("summary") or {}
    fc = s.get("findings") or {}
    return {
        "counts": [{"severity": sev, "priority": PRIORITY[sev], "count": fc.get(sev, 0), "icon": SEV_ICON[sev]}
                   for sev in SEVERITIES],
        "running_pct": pct(s.get("running_pct")), "health_pct": pct(s.get("health_pct"), 1),
        "memory_used": size(s.get("memory_used_bytes")), "memory_limit": size(s.get("memory_limit_bytes")),
        "memory_pct": pct(s.get("memory_utilisation_pct"), 1),
        "suppression": suppression_kpis(report),
        "weights": ", ".join("%s %s" % (k, v) for k, v in sorted(
            (s.get("score_weights") or {}).items(),
            key=lambda kv: SEVERITIES.index(kv[0]) if kv[0] in SEVERITIES else 9)),
        "chart": severity_chart(fc),
    }


def page(report):
    """The whole context of audit.md and audit.html."""
    docker = report.get("docker") or {}
    reachable = bool(docker.get("reachable"))
    ctx = {
        "report": report, "summary": report.get("summary") or {}, "project": report.get("project") or {},
        "docker": docker, "reachable": reachable, "tool": report.get("tool") or {},
        "assessment": assessment(report), "kpi": _kpis(report, reachable),
        "containers": _containers(report), "sprawl": _sprawl(report), "ports": _ports(report),
        "security": _security(report), "mesh": _mesh(report, reachable), "volumes": _volumes(report),
        "resources": _resources(report), "monitoring": _monitoring(report, reachable),
        "suppressed": _suppressed(report), "plan": action_plan(report),
        "seed": seed_pages.seed_sections(report), "strengths": seed_pages.strengths(report),
    }
    ctx["seed_nav"] = [(sec["id"], sec["nav"]) for sec in ctx["seed"]]
    ctx.update(_findings(report))
    return ctx


# ----------------------------------------------------------------------------------------
# fleet.md and fleet.html: the fleet summary (output/report.py fleet_report)
# ----------------------------------------------------------------------------------------

FLEET_DONE = ("remediated", "previewed")  # remediation outcomes that are not a problem


def fleet_hosts(fleet):
    """The audited hosts worst first: lowest score first, unscored last, then by name."""
    return sorted(fleet.get("hosts") or [], key=lambda h: (h.get("score") if h.get("score") is not None else 999,
                                                           str(h.get("host"))))


def host_page(host):
    """A host's audit.html relative to the fleet page (reports/<host>/audit.html, the latest run)."""
    return "%s/audit.html" % quote(str(host), safe="")


def fleet_rows(fleet):
    """One row per host of the fleet page, in fleet.md's order: the audited hosts worst first, then
    those without a report (unreachable or failed, then any other a remediation outcome names).
    ``counts``: per severity {severity, priority, count, href} (href: the host's findings, or None
    for no finding); None for a host that has no report. ``alert``: not audited, or its remediation
    outcome is not a success."""
    outcomes = dict((str(o.get("host")), o) for o in fleet.get("outcomes") or [])
    rows = []
    for h in fleet_hosts(fleet):
        found = h.get("findings") or {}
        href = host_page(h.get("host")) + "#findings"
        counts = [{"severity": sev, "priority": PRIORITY[sev], "count": found.get(sev, 0),
                   "href": href if found.get(sev) else None} for sev in SEVERITIES]
        docker = "up" if h.get("docker_reachable") else "unreachable: %s" % (h.get("docker_error") or "unknown")
        rows.append({"host": h.get("host"), "state": "audited", "detail": None, "score": h.get("score"),
                     "project": h.get("project"), "docker": docker, "docker_up": bool(h.get("docker_reachable")),
                     "counts": counts, "report": host_page(h.get("host"))})
    for u in fleet.get("unreachable") or []:
        state = u.get("state") or "unreachable"
        detail = u.get("error") if u.get("error") != state else None   # no news beyond the state
        rows.append({"host": u.get("host"), "state": state, "detail": detail, "counts": None})
    named = set(str(r["host"]) for r in rows)
    for key in sorted(set(outcomes) - named):
        o = outcomes[key]
        rows.append({"host": o.get("host"), "state": o.get("state") or "not run", "detail": o.get("detail"),
                     "counts": None})
    for r in rows:
        r["outcome"] = outcomes.get(str(r["host"]))
        r["alert"] = r["state"] != "audited" or (r["outcome"] or {}).get("state") not in (None,) + FLEET_DONE
    return rows


def fleet_page(fleet):
    """The context of fleet.md and fleet.html."""
    rows = fleet_rows(fleet)
    totals = fleet.get("totals") or {}
    found = totals.get("findings") or {}
    return {"fleet": fleet, "hosts": fleet_hosts(fleet), "rows": rows,
            "not_audited": [r for r in rows if r["state"] != "audited"],
            "totals": totals, "remediation": bool(fleet.get("outcomes")),
            "total_counts": [{"severity": sev, "priority": PRIORITY[sev], "count": found.get(sev, 0)}
                             for sev in SEVERITIES]}
