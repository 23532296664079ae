# -*- coding: utf-8 -*-
"""compose-doctor renderers: audit.json dict -> Markdown, HTML, SARIF, JUnit, Prometheus textfile.

Pure functions over the report dict built by ``report.build_report`` (and ``fleet_report``).
Everything printed comes from the report, which carries no secret values; renderers still
escape every string for their format (Markdown tables, HTML, XML, Prometheus labels).
"""
from __future__ import absolute_import, division, print_function

import html
import json
import re
import xml.etree.ElementTree as ET

from ansible.module_utils.compose_doctor.analysis.rules import PRIORITY, RULE_ORDER, SEVERITIES
from ansible.module_utils.compose_doctor.sizes import format_size

NA = "n/a"  # an unknown size in a report

SEV_ICON = {"critical": "\U0001F534", "high": "\U0001F7E0", "medium": "\U0001F7E1", "low": "\U0001F535",
            "info": "\u26AA"}
SEV_COLOR = {"critical": "#c62828", "high": "#ef6c00", "medium": "#f9a825", "low": "#1565c0", "info": "#607d8b"}
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
REMEDIATE_CMD = "ansible-playbook playbooks/remediate.yml --tags %s"


# ----------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------

def _md(text):
    """Escape for a Markdown table cell / inline text."""
    if text is None:
        return "-"
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def _code(text):
    """Body of a fenced code block: no fence can be closed from inside."""
    return str(text or "").replace("```", "'''")


def _pct(v, digits=0):
    if v is None:
        return "n/a"
    fmt = "%%.%df%%%%" % digits
    return fmt % v


def _mem(used, limit):
    if used is None:
        return "n/a"
    if limit:
        return "%s / %s (%s)" % (format_size(used, unknown=NA), format_size(limit, unknown=NA),
                                 _pct(100.0 * used / limit, 1))
    return "%s / no limit" % format_size(used, unknown=NA)


def fix_command(fix, available_fixes=None):
    """The remediate command for ``fix``; a fix this installation does not ship is 'planned'."""
    if not fix or not fix.get("tag"):
        return None
    if available_fixes is not None and fix["tag"] not in available_fixes:
        return "planned: role %s (tag %s) is not in this version" % (fix.get("role"), fix["tag"])
    return REMEDIATE_CMD % fix["tag"]


def _cmd(report, fix):
    return fix_command(fix, report.get("available_fixes"))


def _by_rule(report, *rules):
    return [f for f in report.get("findings") or [] if f.get("rule") in rules]


def _diag_text(f):
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


def _target(f):
    parts = []
    if f.get("service"):
        parts.append("service `%s`" % f["service"])
    if f.get("container") and f.get("container") != f.get("service"):
        parts.append("container `%s`" % f["container"])
    if f.get("file"):
        parts.append("`%s%s`" % (f["file"], ":%s" % f["line"] if f.get("line") else ""))
    return ", ".join(parts) or "`%s`" % f.get("target")


def cis_label(cis):
    """'CIS 5.4' for a rule or finding's CIS Docker Benchmark id, '' without one."""
    return "CIS %s" % cis if cis else ""


def _title_cis(item):
    """Title with its CIS id: 'Dangerous capability added (CIS 5.4)'."""
    label = cis_label(item.get("cis"))
    return "%s (%s)" % (item.get("title"), label) if label else item.get("title")


def _assessment(report):
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


# ----------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------

def _md_executive_summary(report, add):
    s = report.get("summary") or {}
    docker = report.get("docker") or {}
    reachable = docker.get("reachable")
    fc = s.get("findings") or {}
    add("## \U0001F6A8 EXECUTIVE SUMMARY")
    add("")
    add("Overall assessment: **%s**. The audit found %d findings: %s." % (
        _assessment(report), s.get("findings_total") or 0,
        ", ".join("%d %s (%s)" % (fc.get(sev, 0), sev, PRIORITY[sev]) for sev in SEVERITIES)))
    add("")
    if not reachable:
        add("> **Runtime facts are missing.** The Docker daemon could not be reached (%s). Container health, "
            "memory, ports listening and volumes were not audited; only the compose files, env files and "
            "Dockerfiles were checked." % _md(docker.get("error")))
        add("")
    add("### Key indicators")
    add("")
    add("| KPI | Value |")
    add("|-----|-------|")
    if reachable:
        add("| Services running vs defined | %s running of %s defined (%s); %s in the active files |" % (
            s.get("services_running"), s.get("services_defined"), _pct(s.get("running_pct")),
            s.get("services_active")))
        add("| Containers | %s total, %s healthy (%s health) |" % (
            s.get("containers_total"), s.get("containers_healthy"), _pct(s.get("health_pct"), 1)))
        add("| Restarting / unhealthy | %s / %s |" % (s.get("containers_restarting"), s.get("containers_unhealthy")))
        add("| Memory utilisation | %s used of %s limits (%s) |" % (
            format_size(s.get("memory_used_bytes"), unknown=NA),
            format_size(s.get("memory_limit_bytes"), unknown=NA),
            _pct(s.get("memory_utilisation_pct"), 1)))
    else:
        add("| Services defined | %s (%s in the active files); runtime unknown |" % (
            s.get("services_defined"), s.get("services_active")))
    add("| Compose files | %s (%s override, %s active) |" % (
        s.get("compose_files"), s.get("override_files"), s.get("active_files")))
    add("| Dockerfiles | %s |" % s.get("dockerfiles"))
    add("| Findings | %s |" % " ".join("%s %s: %d" % (SEV_ICON[sev], PRIORITY[sev], fc.get(sev, 0))
                                       for sev in SEVERITIES))
    add("| Score | %s/100 |" % s.get("score"))
    for kpi, value in _suppression_kpis(report):
        add("| %s | %s |" % (kpi, _md(value)))
    add("")
    top = [f for f in report.get("findings") or [] if f.get("severity") in ("critical", "high")]
    if top:
        add("### Critical issues identified")
        add("")
        for f in top[:15]:
            add("- **[%s] %s** (%s): %s" % (f["priority"], _md(f.get("title")), _target(f),
                                             _md((f.get("evidence") or "").splitlines()[0])))
        if len(top) > 15:
            add("- ... and %d more P0/P1 findings below" % (len(top) - 15))
        add("")
    add("---")
    add("")


def _md_container_health(report, add):
    s = report.get("summary") or {}
    reachable = (report.get("docker") or {}).get("reachable")
    add("## \U0001F4CA CONTAINER HEALTH STATUS")
    add("")
    if not reachable:
        add("Not available: the Docker daemon was unreachable.")
    else:
        add("%s containers, %s healthy, %s unhealthy, %s restarting." % (
            s.get("containers_total"), s.get("containers_healthy"), s.get("containers_unhealthy"),
            s.get("containers_restarting")))
        add("")
        add("| Container | Service | State | Health | Restarts | Memory (used / limit) | Status |")
        add("|-----------|---------|-------|--------|----------|-----------------------|--------|")
        for c in report.get("containers") or []:
            ok = "\u2705" if c.get("healthy") else ("\U0001F501" if c.get("state") == "restarting" else "\u274C")
            add("| %s | %s | %s | %s | %s | %s | %s |" % (
                _md(c.get("name")), _md(c.get("service")), _md(c.get("state")), _md(c.get("health") or "none"),
                c.get("restart_count"), _md(_mem(c.get("mem_usage_bytes"), c.get("mem_limit_bytes"))), ok))
    add("")
    add("---")
    add("")


def _md_restart_loops_and_unhealthy(report, add):
    reachable = (report.get("docker") or {}).get("reachable")
    add("## \U0001F527 RESTART LOOP & UNHEALTHY ANALYSIS")
    add("")
    loops = _by_rule(report, "restart-loop", "unhealthy")
    if not reachable:
        add("Not available: the Docker daemon was unreachable.")
    elif not loops:
        add("No container is restart-looping or unhealthy. \u2705")
    for f in loops:
        kind = "Restart loop" if f["rule"] == "restart-loop" else "Unhealthy"
        add("### %s: %s" % (kind, _md(f.get("container") or f.get("service"))))
        add("")
        add("```")
        add(_code(f.get("evidence")))
        add("```")
        add("")
        add("- **Impact:** %s" % _md(f.get("impact")))
        cause = _diag_text(f)
        add("- **Root cause:** %s" % _md(cause or "not diagnosed automatically; read the log tail above"))
        if f.get("fix"):
            add("- **Fix:** role `%s`, tag `%s`:" % (f["fix"].get("role"), f["fix"].get("tag")))
            add("")
            add("```bash")
            add(_cmd(report, f["fix"]))
            add("```")
        else:
            add("- **Fix:** %s" % _md(f.get("advice")))
        add("")
    add("---")
    add("")


def _md_sprawl(report, add):
    s = report.get("summary") or {}
    reachable = (report.get("docker") or {}).get("reachable")
    add("## \U0001F3D7\uFE0F CONFIGURATION SPRAWL")
    add("")
    comp = report.get("compose") or {}
    files = comp.get("files") or []
    main = [f for f in files if f.get("kind") == "main"]
    for f in main:
        add("- **Main compose file:** `%s`, %s lines, %s services" % (_md(f.get("path")), f.get("lines"),
                                                                     f.get("services")))
    add("- **Override files:** %s" % s.get("override_files"))
    add("- **Active files:** %s" % (", ".join("`%s`" % _md(p) for p in comp.get("active_files") or []) or "-"))
    add("- **Services defined (all files):** %s; in the active model: %s; running: %s" % (
        s.get("services_defined"), s.get("services_active"),
        "%s (%s)" % (s.get("services_running"), _pct(s.get("running_pct"))) if reachable else "unknown"))
    add("- **Dockerfiles:** %s" % s.get("dockerfiles"))
    add("")
    if files:
        add("| File | Kind | Active | Services | Lines | Status |")
        add("|------|------|--------|----------|-------|--------|")
        for f in files:
            err = f.get("error")
            add("| `%s` | %s | %s | %s | %s | %s |" % (
                _md(f.get("path")), _md(f.get("kind")), "yes" if f.get("active") else "no", f.get("services"),
                _md(f.get("lines")),
                _md("\u274C parse error line %s: %s" % (err.get("line"), err.get("message"))) if err else "\u2705"))
        add("")
    inactive = [sv for sv in report.get("services") or [] if not sv.get("running")]
    if reachable and inactive:
        add("**Configured but not running (%d):** %s" % (len(inactive), ", ".join(
            "`%s`%s" % (_md(sv["name"]), "" if sv.get("active") else " (inactive file)") for sv in inactive)))
        add("")
    add("---")
    add("")


def _md_port_registry(report, add):
    reachable = (report.get("docker") or {}).get("reachable")
    add("## \U0001F50C PORT REGISTRY")
    add("")
    ports = report.get("ports") or []
    if not ports:
        add("No published ports.")
    else:
        add("| Port | Proto | Service | Bound to | Listening | Notes |")
        add("|------|-------|---------|----------|-----------|-------|")
        for p in ports:
            notes = []
            if p.get("all_interfaces"):
                notes.append("\u26A0\uFE0F all interfaces")
            if p.get("database"):
                notes.append("database port")
            if p.get("conflict"):
                notes.append("\u274C port claimed twice")
            listening = ("\u2705 yes" if p.get("listening") else "\u274C no") if reachable else "unknown"
            add("| %s | %s | %s | %s | %s | %s |" % (
                p.get("port"), _md(p.get("protocol")), _md(p.get("service")),
                _md(p.get("host_ip") or "0.0.0.0 (all)"), listening, _md(", ".join(notes) or "-")))
    add("")
    add("---")
    add("")


def _md_security(report, add):
    comp = report.get("compose") or {}
    add("## \U0001F510 SECURITY AUDIT FINDINGS")
    add("")
    add("### Env and secret files")
    add("")
    sec_files = [("env", f) for f in comp.get("env_files") or []] + \
                [("secret", f) for f in comp.get("secret_files") or []]
    if not sec_files:
        add("No env or secret files found.")
    else:
        add("| File | Kind | Mode | Owner | Readable by | Secret keys |")
        add("|------|------|------|-------|-------------|-------------|")
        for kind, f in sec_files:
            who = "\u26A0\uFE0F world" if f.get("world_readable") else (
                "\u26A0\uFE0F group" if f.get("group_readable") else "\u2705 owner only")
            add("| `%s` | %s | %s | %s:%s | %s | %s |" % (
                _md(f.get("path")), kind, _md(f.get("mode")), _md(f.get("owner")), _md(f.get("group")), who,
                _md(", ".join("%s=********" % k for k in f.get("secret_keys") or []) or "-")))
    add("")
    for title, rules_ in (("Secrets in configuration", ("hardcoded-secret", "default-credential", "dockerfile-secret")),
                          ("Container privileges", ("privileged-container", "docker-socket-mount", "root-user",
                                                    "capability-added", "sensitive-host-mount", "host-devices",
                                                    "mount-propagation-shared")),
                          ("Isolation and confinement", ("apparmor-unconfined", "selinux-disabled",
                                                         "seccomp-unconfined", "host-network", "host-pid", "host-ipc",
                                                         "host-uts", "host-userns")),
                          ("Network exposure", ("port-all-interfaces", "privileged-port")),
                          ("Images and build files", ("image-unpinned", "dockerfile-add", "dockerfile-missing"))):
        add("### %s" % title)
        add("")
        fs = _by_rule(report, *rules_)
        if not fs:
            add("\u2705 No findings.")
        for f in fs:
            add("- %s **[%s] %s**: %s" % (SEV_ICON[f["severity"]], f["priority"], _md(_title_cis(f)),
                                          _md(f.get("evidence"))))
        add("")
    add("---")
    add("")


def _md_mesh(report, add):
    reachable = (report.get("docker") or {}).get("reachable")
    add("## \U0001F310 NETWORKING & SERVICE DISCOVERY")
    add("")
    mesh = report.get("mesh") or []
    running_mesh = [m for m in mesh if m.get("running")]
    defined_mesh = [m for m in mesh if m.get("defined")]
    if not defined_mesh:
        status = "NOT CONFIGURED"
    elif len(running_mesh) == len(defined_mesh):
        status = "OPERATIONAL"
    elif running_mesh:
        status = "PARTIALLY RUNNING"
    else:
        status = "DEFINED but NOT RUNNING"
    add("### Service mesh status: %s" % status)
    add("")
    add("| Component | Service | Defined | Running | State | Ports |")
    add("|-----------|---------|---------|---------|-------|-------|")
    for m in mesh:
        add("| %s | %s | %s | %s | %s | %s |" % (
            _md(m.get("component")), _md(m.get("service")),
            ("yes" if m.get("active") else "inactive file") if m.get("defined") else "no",
            ("\u2705 yes" if m.get("running") else "\u274C no") if reachable else "unknown",
            _md(m.get("state") or "-"), _md(", ".join(str(p) for p in m.get("ports") or []) or "-")))
    add("")
    fs = _by_rule(report, "mesh-not-running")
    if fs:
        add("Fix: `%s` starts the mesh services and verifies Kong `/status`, a Host-header route and the "
            "Consul leader." % _cmd(report, fs[0].get("fix") or {"tag": "mesh"}))
        add("")
    add("---")
    add("")


def _md_volumes(report, add):
    add("## \U0001F4BE DATA PERSISTENCE & VOLUMES")
    add("")
    vols = report.get("volumes") or []
    if not vols:
        add("No volumes.")
    else:
        in_use = [v for v in vols if v.get("status") == "in-use"]
        add("%d volumes: %d in use, %d unused, %d duplicate(s)." % (
            len(vols), len(in_use), len([v for v in vols if v.get("status") == "unused"]),
            len([v for v in vols if v.get("status") == "duplicate"])))
        add("")
        add("| Volume | Declared as | In use | Used by | Status |")
        add("|--------|-------------|--------|---------|--------|")
        icon = {"in-use": "\u2705", "unused": "\u26A0\uFE0F", "duplicate": "\u26A0\uFE0F", "unrelated": "\u2796"}
        for v in vols:
            add("| `%s` | %s | %s | %s | %s %s |" % (
                _md(v.get("name")), _md(v.get("declared")),
                {True: "yes", False: "no", None: "unknown"}[v.get("in_use")],
                _md(", ".join(v.get("used_by") or []) or "-"), icon.get(v.get("status"), ""), _md(v.get("status"))))
        add("")
        add("Unused and duplicate volumes are reported only; nothing is removed unless explicitly enabled.")
    add("")
    add("---")
    add("")


def _md_resources(report, add):
    add("## \U0001F4C8 RESOURCE UTILISATION & RIGHT-SIZING")
    add("")
    res = report.get("resources")
    if not res:
        add("Not available: the Docker daemon was unreachable.")
    else:
        add("- **Total memory usage:** %s across %d running containers" % (
            format_size(res.get("used_bytes"), unknown=NA), len(res.get("containers") or [])))
        add("- **Sum of limits:** %s (%s used); containers without a limit: %d" % (
            format_size(res.get("limit_bytes"), unknown=NA), _pct(res.get("utilisation_pct"), 1),
            res.get("unlimited_containers")))
        add("- **Memory reserved (compose reservations):** %s" % format_size(res.get("reserved_bytes"), unknown=NA))
        add("- **Right-sizing over-provisioned limits would reclaim:** %s"
            % format_size(res.get("reclaimable_bytes"), unknown=NA))
        add("")
        add("| Container | Used | Limit | % | Status | Recommended limit | Reclaimable |")
        add("|-----------|------|-------|---|--------|-------------------|-------------|")
        for r in res.get("containers") or []:
            add("| %s | %s | %s | %s | %s | %s | %s |" % (
                _md(r.get("container")), format_size(r.get("usage_bytes"), unknown=NA),
                format_size(r.get("limit_bytes")) if r.get("limit_bytes") else "no limit",
                _pct(r.get("percent"), 1), _md(r.get("status")),
                format_size(r.get("recommended_limit_bytes")) if r.get("recommended_limit_bytes") else "-",
                format_size(r.get("reclaimable_bytes")) if r.get("reclaimable_bytes") else "-"))
        pressure = _by_rule(report, "memory-pressure")
        over = _by_rule(report, "memory-overprovisioned")
        add("")
        add("- **Under-provisioned (near limit):** %s" % (", ".join(_md(f.get("container")) for f in pressure) or "none"))
        add("- **Over-provisioned:** %s" % (", ".join(_md(f.get("container")) for f in over) or "none"))
    add("")
    add("---")
    add("")


def _md_monitoring(report, add):
    reachable = (report.get("docker") or {}).get("reachable")
    add("## \U0001F4CA MONITORING & OBSERVABILITY")
    add("")
    mon = report.get("monitoring") or []
    up = [m for m in mon if m.get("running") and m.get("health") != "unhealthy"]
    defined_mon = [m for m in mon if m.get("defined")]
    add("### Monitoring stack health: %s" % (
        "NOT CONFIGURED" if not defined_mon else ("UNKNOWN (daemon unreachable)" if not reachable else
                                                  ("EXCELLENT" if len(up) == len(defined_mon) else "DEGRADED"))))
    add("")
    add("```")
    for m in mon:
        if not m.get("defined"):
            add("\u2796 %s: not defined" % m.get("component"))
        elif not reachable:
            add("\u2753 %s (%s): defined, runtime unknown" % (m.get("component"), m.get("service")))
        elif m.get("running") and m.get("health") != "unhealthy":
            add("\u2705 %s (%s): running%s" % (m.get("component"), m.get("service"),
                                                ", %s" % m.get("health") if m.get("health") else ""))
        else:
            add("\u274C %s (%s): %s" % (m.get("component"), m.get("service"), m.get("state") or "not running"))
    add("```")
    add("")
    add("---")
    add("")


def _md_findings_by_priority(report, add):
    add("## \u26A0\uFE0F FINDINGS BY PRIORITY")
    add("")
    findings = report.get("findings") or []
    if not findings:
        add("No findings. \u2705")
        add("")
    for sev in SEVERITIES:
        fs = [f for f in findings if f.get("severity") == sev]
        if not fs:
            continue
        add("### %s %s: %s (%d)" % (SEV_ICON[sev], PRIORITY[sev], sev.upper(), len(fs)))
        add("")
        for f in fs:
            add("#### [%s] %s: %s" % (f["priority"], _md(_title_cis(f)), _md(f.get("target"))))
            add("")
            add("- **ID:** `%s`%s" % (_md(f.get("id")), _baseline_mark(f)))
            if f.get("cis"):
                add("- **CIS Docker Benchmark:** %s" % _md(f["cis"]))
            add("- **Where:** %s" % _target(f))
            add("- **Impact:** %s" % _md(f.get("impact")))
            cause = _diag_text(f)
            if cause:
                add("- **Cause:** %s" % _md(cause))
            if f.get("fix"):
                add("- **Fix:** role `%s` (tag `%s`): `%s`" % (f["fix"].get("role"), f["fix"].get("tag"),
                                                               _cmd(report, f["fix"])))
            else:
                add("- **Fix (manual):** %s" % _md(f.get("advice")))
            add("- **Evidence:**")
            add("")
            add("```")
            add(_code(f.get("evidence")))
            add("```")
            add("")
    add("---")
    add("")


def _suppression_kpis(report):
    """[(label, value)]: suppressed count and the baseline's new / known / fixed, when there are any."""
    s = report.get("summary") or {}
    out = []
    if s.get("suppressed"):
        out.append(("Suppressed (not counted)", "%d" % s["suppressed"]))
    if s.get("baseline"):
        out.append(("Since the baseline", "%(new)d new, %(known)d known, %(fixed)d fixed" % s["baseline"]))
    return out


def _baseline_mark(f):
    """' (new since the baseline)' / ' (known in the baseline)' for a finding, '' without a baseline."""
    state = f.get("baseline_state")
    return {"new": " **(new since the baseline)**", "known": " (known in the baseline)"}.get(state, "")


def _md_suppressed_and_baseline(report, add):
    """Suppressed findings (reason, who: file:line, until), suppression notes, fixed since the baseline."""
    sup, notes = report.get("suppressed") or [], (report.get("suppressions") or {}).get("notes") or []
    base = report.get("baseline")
    if not (sup or notes or base):
        return
    add("## 🔕 SUPPRESSED FINDINGS AND BASELINE")
    add("")
    for line in notes:
        add("> %s  " % _md(line))
    if notes:
        add("")
    if sup:
        add("| Priority | Finding | Target | Reason | Suppressed by | Until | Kind |")
        add("|----------|---------|--------|--------|---------------|-------|------|")
        for f in sup:
            x = f.get("suppression") or {}
            add("| %s | %s | %s | %s | `%s` | %s | %s |" % (
                f.get("priority"), _md(_title_cis(f)), _md(f.get("target")), _md(x.get("reason")), _md(x.get("by")),
                _md(x.get("until") or "no end"), "in the compose file" if x.get("kind") == "inSource" else "ignore file"))
        add("")
    if base:
        add("Baseline of %s: **%d new**, %d known, %d fixed." % (_md(base.get("generated_at")), base.get("new", 0),
                                                                 base.get("known", 0), base.get("fixed", 0)))
        add("")
        for f in base.get("fixed_findings") or []:
            add("- fixed: [%s] %s: `%s`" % (f.get("priority"), _md(_title_cis(f)), _md(f.get("id"))))
        add("")
    add("---")
    add("")


def _md_action_plan(report, add):
    s = report.get("summary") or {}
    add("## \U0001F4CB ACTION PLAN PRIORITY MATRIX")
    add("")
    plan = action_plan(report)
    if not plan:
        add("Nothing to do.")
    else:
        add("| Priority | Finding | Targets | Impact | Fix (role / tag) | Command |")
        add("|----------|---------|---------|--------|------------------|---------|")
        for a in plan:
            add("| %s | %s | %s | %s | %s | %s |" % (
                a["priority"], _md(_title_cis(a)), _md(a["targets"]), _md(a["impact"]),
                _md("%s / %s" % (a["fix"]["role"], a["fix"]["tag"]) if a["fix"] else "manual"),
                "`%s`" % _md(a["command"]) if a["command"] else _md(a["advice"])))
    add("")
    add("---")
    add("")
    add("## \U0001F3AF CONCLUSION")
    add("")
    add("**Overall Assessment:** %s. Score %s/100 (weights: %s)." % (
        _assessment(report), s.get("score"),
        ", ".join("%s %s" % (k, v) for k, v in sorted((s.get("score_weights") or {}).items(),
                                                        key=lambda kv: SEVERITIES.index(kv[0])
                                                        if kv[0] in SEVERITIES else 9))))
    add("")
    add("Preview every fix with `ansible-playbook playbooks/remediate.yml --check --diff`; "
        "undo the last remediation with `ansible-playbook playbooks/rollback.yml`.")
    add("")
    add("**Report Generated:** %s by compose-doctor" % _md(report.get("generated_at")))
    add("")


def to_markdown(report):
    s = report.get("summary") or {}
    proj = report.get("project") or {}
    docker = report.get("docker") or {}
    reachable = docker.get("reachable")
    L = []
    add = L.append
    add("# INFRASTRUCTURE & DEVOPS AUDIT REPORT: %s" % _md(proj.get("name") or "compose project"))
    add("")
    add("**Generated:** %s  " % _md(report.get("generated_at")))
    add("**Host:** %s  " % _md(report.get("host")))
    add("**Audit Scope:** Compose project `%s` in `%s` (model from %s)  " % (
        _md(proj.get("name")), _md(proj.get("dir")), _md(report.get("model_source") or "n/a")))
    if report.get("model_note"):
        add("**Model:** %s  " % _md(report.get("model_note")))
    if reachable:
        add("**Docker Engine:** %s (API %s)  " % (_md(docker.get("version")), _md(docker.get("api_version"))))
    else:
        add("**Docker Engine:** UNREACHABLE (%s)  " % _md(docker.get("error")))
    add("**Score:** %s/100  " % s.get("score"))
    add("**Tool:** compose-doctor %s, report schema %s" % (
        _md((report.get("tool") or {}).get("version")), _md(report.get("schema_version"))))
    add("")
    for section in (_md_executive_summary,
                    _md_container_health,
                    _md_restart_loops_and_unhealthy,
                    _md_sprawl,
                    _md_port_registry,
                    _md_security,
                    _md_mesh,
                    _md_volumes,
                    _md_resources,
                    _md_monitoring,
                    _md_findings_by_priority,
                    _md_suppressed_and_baseline,
                    _md_action_plan):
        section(report, add)
    return "\n".join(L)


def action_plan(report):
    """One row per rule with findings: priority, title, targets, impact, fix, command."""
    rows, index = [], {}
    for f in report.get("findings") or []:
        fix = f.get("fix")
        key = (f["rule"], (fix or {}).get("tag"))
        if key not in index:
            index[key] = {"priority": f["priority"], "severity": f["severity"], "rule": f["rule"],
                          "title": f.get("title"), "impact": f.get("impact"), "advice": f.get("advice"),
                          "cis": f.get("cis"), "fix": fix, "command": _cmd(report, fix), "target_list": []}
            rows.append(index[key])
        row = index[key]
        if SEVERITIES.index(f["severity"]) < SEVERITIES.index(row["severity"]):
            row["severity"], row["priority"] = f["severity"], f["priority"]
        row["target_list"].append(f.get("target"))
    for r in rows:
        t = r.pop("target_list")
        r["count"] = len(t)
        r["targets"] = ", ".join(str(x) for x in t[:6]) + (" (+%d more)" % (len(t) - 6) if len(t) > 6 else "")
    order = dict((rid, i) for i, rid in enumerate(RULE_ORDER))
    rows.sort(key=lambda r: (SEVERITIES.index(r["severity"]), r["fix"] is None, order.get(r["rule"], 99)))
    return rows


# ----------------------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------------------

_CSS = """
body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}h1{border-bottom:3px solid #333}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:1em 0;font-size:.9em}th,td{border:1px solid #ddd;
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}pre{background:#f6f8fa;padding:8px;
overflow-x:auto;white-space:pre-wrap}.kpis{display:flex;flex-wrap:wrap;gap:12px}.kpi{border:1px solid #ddd;
border-radius:6px;padding:8px 14px;min-width:150px}.kpi b{display:block;font-size:1.5em}
.sev{color:#fff;border-radius:3px;padding:1px 6px;font-size:.85em}.critical{background:#c62828}
.high{background:#ef6c00}.medium{background:#f9a825;color:#222}.low{background:#1565c0}
.ok{color:#2e7d32}.bad{color:#c62828}.warn{background:#fff3e0;border-left:4px solid #ef6c00;padding:8px}
"""


def _e(text):
    return html.escape("" if text is None else str(text), quote=True)


def _svg_findings(counts):
    w, bar_h, gap, label_w = 520, 26, 8, 110
    mx = max([counts.get(s, 0) for s in SEVERITIES] + [1])
    h = len(SEVERITIES) * (bar_h + gap) + gap
    parts = ['<svg width="%d" height="%d" role="img" '
             'aria-label="Findings by severity">' % (w, h)]
    for i, sev in enumerate(SEVERITIES):
        y = gap + i * (bar_h + gap)
        n = counts.get(sev, 0)
        bw = int((w - label_w - 60) * n / mx)
        parts.append('<text x="0" y="%d" font-size="13">%s %s</text>' % (y + 18, _e(PRIORITY[sev]), _e(sev)))
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s: %d</title></rect>' % (
            label_w, y, max(bw, 1), bar_h, SEV_COLOR[sev], _e(sev), n))
        parts.append('<text x="%d" y="%d" font-size="13">%d</text>' % (label_w + bw + 6, y + 18, n))
    parts.append("</svg>")
    return "".join(parts)


def _svg_memory(rows):
    rows = [r for r in rows if r.get("usage_bytes") is not None]
    if not rows:
        return "<p>No memory data.</p>"
    w, bar_h, gap, label_w, right = 900, 18, 10, 260, 200
    scale_max = max([max(r.get("limit_bytes") or 0, r.get("usage_bytes") or 0) for r in rows] + [1])
    h = len(rows) * (bar_h + gap) + gap + 20
    span = w - label_w - right
    parts = ['<svg width="%d" height="%d" role="img" '
             'aria-label="Memory use vs limit per container">' % (w, h)]
    parts.append('<rect x="%d" y="0" width="12" height="10" fill="#90caf9"/><text x="%d" y="10" font-size="11">'
                 'used</text><rect x="%d" y="0" width="12" height="10" fill="#eee" stroke="#999"/>'
                 '<text x="%d" y="10" font-size="11">limit (dashed: no limit)</text>'
                 % (label_w, label_w + 16, label_w + 60, label_w + 76))
    for i, r in enumerate(rows):
        y = 20 + gap + i * (bar_h + gap)
        limit, usage = r.get("limit_bytes"), r.get("usage_bytes") or 0
        lw = int(span * (limit or scale_max) / scale_max)
        uw = int(span * usage / scale_max)
        pct = r.get("percent")
        color = "#c62828" if r.get("status") == "under-provisioned" else (
            "#f9a825" if r.get("status") == "over-provisioned" else "#90caf9")
        parts.append('<text x="0" y="%d" font-size="12">%s</text>' % (y + 13, _e(r.get("container"))))
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#eee" stroke="#999"%s/>' % (
            label_w, y, max(lw, 1), bar_h, "" if limit else ' stroke-dasharray="4 3"'))
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s: %s of %s</title></rect>' % (
            label_w, y, max(uw, 1), bar_h, color, _e(r.get("container")), _e(format_size(usage)),
            _e(format_size(limit) if limit else "no limit")))
        parts.append('<text x="%d" y="%d" font-size="12">%s / %s%s</text>' % (
            label_w + span + 8, y + 13, _e(format_size(usage)),
            _e(format_size(limit) if limit else "no limit"),
            _e(" (%.0f%%)" % pct if pct is not None else "")))
    parts.append("</svg>")
    return "".join(parts)


def _table(headers, rows):
    out = ["<table><thead><tr>%s</tr></thead><tbody>" % "".join("<th>%s</th>" % _e(h) for h in headers)]
    for r in rows:
        out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % c for c in r))  # cells are pre-escaped
    out.append("</tbody></table>")
    return "".join(out)


def _sev_badge(sev):
    return '<span class="sev %s">%s %s</span>' % (_e(sev), _e(PRIORITY.get(sev, "")), _e(sev))


def _html_container_health(report, add):
    reachable = (report.get("docker") or {}).get("reachable")
    add("<h2>Container health</h2>")
    if reachable:
        add(_table(["Container", "Service", "State", "Health", "Restarts", "Memory"], [
            [_e(c.get("name")), _e(c.get("service")), _e(c.get("state")), _e(c.get("health") or "none"),
             _e(c.get("restart_count")), _e(_mem(c.get("mem_usage_bytes"), c.get("mem_limit_bytes")))]
            for c in report.get("containers") or []]))
    else:
        add("<p>Not available (daemon unreachable).</p>")


def _html_restart_loop_unhealthy_analysis(report, add):
    reachable = (report.get("docker") or {}).get("reachable")
    add("<h2>Restart loop &amp; unhealthy analysis</h2>")
    loops = _by_rule(report, "restart-loop", "unhealthy")
    if not loops:
        add("<p class=\"ok\">None.</p>" if reachable else "<p>Not available.</p>")
    for f in loops:
        add("<h3>%s %s</h3><pre>%s</pre><p><b>Root cause:</b> %s</p><p><b>Fix:</b> %s</p>" % (
            _sev_badge(f["severity"]), _e(f.get("container") or f.get("service")), _e(f.get("evidence")),
            _e(_diag_text(f) or "not diagnosed"),
            "<code>%s</code>" % _e(_cmd(report, f.get("fix"))) if f.get("fix") else _e(f.get("advice"))))


def _html_configuration_sprawl(report, add):
    add("<h2>Configuration sprawl</h2>")
    add(_table(["File", "Kind", "Active", "Services", "Lines", "Status"], [
        [_e(f.get("path")), _e(f.get("kind")), _e("yes" if f.get("active") else "no"), _e(f.get("services")),
         _e(f.get("lines")), _e("parse error line %s: %s" % (f["error"].get("line"), f["error"].get("message"))
                               if f.get("error") else "ok")]
        for f in (report.get("compose") or {}).get("files") or []]))


def _html_port_registry(report, add):
    reachable = (report.get("docker") or {}).get("reachable")
    add("<h2>Port registry</h2>")
    add(_table(["Port", "Proto", "Service", "Bound to", "Listening", "Database"], [
        [_e(p.get("port")), _e(p.get("protocol")), _e(p.get("service")), _e(p.get("host_ip") or "0.0.0.0 (all)"),
         _e(("yes" if p.get("listening") else "no") if reachable else "unknown"), _e("yes" if p.get("database") else "")]
        for p in report.get("ports") or []]))


def _html_security(report, add):
    add("<h2>Security</h2>")
    comp = report.get("compose") or {}
    add(_table(["File", "Mode", "Owner", "World-readable", "Group-readable", "Secret keys"], [
        [_e(f.get("path")), _e(f.get("mode")), _e("%s:%s" % (f.get("owner"), f.get("group"))),
         _e("yes" if f.get("world_readable") else "no"), _e("yes" if f.get("group_readable") else "no"),
         _e(", ".join("%s=********" % k for k in f.get("secret_keys") or []))]
        for f in (comp.get("env_files") or []) + (comp.get("secret_files") or [])]))


def _html_service_mesh_discovery(report, add):
    reachable = (report.get("docker") or {}).get("reachable")
    add("<h2>Service mesh &amp; discovery</h2>")
    add(_table(["Component", "Service", "Defined", "Running", "State"], [
        [_e(m.get("component")), _e(m.get("service")), _e("yes" if m.get("defined") else "no"),
         _e(("yes" if m.get("running") else "no") if reachable else "unknown"), _e(m.get("state"))]
        for m in report.get("mesh") or []]))


def _html_volumes(report, add):
    add("<h2>Volumes</h2>")
    add(_table(["Volume", "Declared", "In use", "Used by", "Status"], [
        [_e(v.get("name")), _e(v.get("declared")), _e(v.get("in_use")), _e(", ".join(v.get("used_by") or [])),
         _e(v.get("status"))] for v in report.get("volumes") or []]))


def _html_resources(report, add):
    add("<h2>Resources: memory use vs limit</h2>")
    res = report.get("resources")
    if res:
        add("<p>Used %s of %s in limits; right-sizing would reclaim %s.</p>" % (
            _e(format_size(res.get("used_bytes"), unknown=NA)),
            _e(format_size(res.get("limit_bytes"), unknown=NA)),
            _e(format_size(res.get("reclaimable_bytes"), unknown=NA))))
        add(_svg_memory(res.get("containers") or []))
    else:
        add("<p>Not available (daemon unreachable).</p>")


def _html_monitoring(report, add):
    reachable = (report.get("docker") or {}).get("reachable")
    add("<h2>Monitoring</h2>")
    add(_table(["Component", "Service", "Defined", "Running", "Health"], [
        [_e(m.get("component")), _e(m.get("service")), _e("yes" if m.get("defined") else "no"),
         _e(("yes" if m.get("running") else "no") if reachable else "unknown"), _e(m.get("health"))]
        for m in report.get("monitoring") or []]))


def _html_findings_by_priority(report, add):
    add("<h2>Findings by priority</h2>")
    for f in report.get("findings") or []:
        add("<h3>%s %s: <code>%s</code></h3>" % (_sev_badge(f["severity"]), _e(_title_cis(f)), _e(f.get("target"))))
        add("<p><b>ID:</b> <code>%s</code>%s &middot; <b>Where:</b> %s%s</p>" % (
            _e(f.get("id")), _e(_baseline_mark(f).replace("*", "")), _e(f.get("file") or "-"),
            _e(":%s" % f["line"]) if f.get("line") else ""))
        add("<pre>%s</pre>" % _e(f.get("evidence")))
        cause = _diag_text(f)
        if cause:
            add("<p><b>Cause:</b> %s</p>" % _e(cause))
        add("<p><b>Fix:</b> %s</p>" % ("<code>%s</code>" % _e(_cmd(report, f.get("fix"))) if f.get("fix")
                                      else _e(f.get("advice"))))
    if not report.get("findings"):
        add('<p class="ok">No findings.</p>')


def _html_suppressed_and_baseline(report, add):
    sup, notes = report.get("suppressed") or [], (report.get("suppressions") or {}).get("notes") or []
    base = report.get("baseline")
    if not (sup or notes or base):
        return
    add("<h2>Suppressed findings and baseline</h2>")
    for line in notes:
        add("<p class=\"warn\">%s</p>" % _e(line))
    if sup:
        add(_table(["Priority", "Finding", "Target", "Reason", "Suppressed by", "Until"], [
            [_sev_badge(f["severity"]), _e(_title_cis(f)), _e(f.get("target")), _e((f.get("suppression") or {}).get("reason")),
             "<code>%s</code>" % _e((f.get("suppression") or {}).get("by")),
             _e((f.get("suppression") or {}).get("until") or "no end")] for f in sup]))
    if base:
        add("<p>Baseline of %s: <b>%d new</b>, %d known, %d fixed.</p>" % (
            _e(base.get("generated_at")), base.get("new", 0), base.get("known", 0), base.get("fixed", 0)))
        add("<ul>%s</ul>" % "".join("<li>fixed: <code>%s</code></li>" % _e(f.get("id"))
                                    for f in base.get("fixed_findings") or []))


def _html_action_plan(report, add):
    add("<h2>Action plan</h2>")
    add(_table(["Priority", "Finding", "Targets", "Impact", "Fix", "Command"], [
        [_sev_badge(a["severity"]), _e(_title_cis(a)), _e(a["targets"]), _e(a["impact"]),
         _e("%s / %s" % (a["fix"]["role"], a["fix"]["tag"]) if a["fix"] else "manual"),
         "<code>%s</code>" % _e(a["command"]) if a["command"] else _e(a["advice"])]
        for a in action_plan(report)]))


def to_html(report):
    s = report.get("summary") or {}
    proj = report.get("project") or {}
    docker = report.get("docker") or {}
    reachable = docker.get("reachable")
    fc = s.get("findings") or {}
    H = []
    add = H.append
    add("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
    add("<title>%s</title><style>%s</style></head><body>" % (
        _e("compose-doctor audit: %s on %s" % (proj.get("name"), report.get("host"))), _CSS))
    add("<h1>Infrastructure audit: %s</h1>" % _e(proj.get("name")))
    add("<p><b>Host:</b> %s &middot; <b>Generated:</b> %s &middot; <b>Project dir:</b> <code>%s</code> &middot; "
        "<b>Docker:</b> %s</p>" % (_e(report.get("host")), _e(report.get("generated_at")), _e(proj.get("dir")),
                                   _e(docker.get("version")) if reachable else
                                   '<span class="bad">unreachable: %s</span>' % _e(docker.get("error"))))
    add("<h2>Executive summary</h2><p>Overall assessment: <b>%s</b>.</p>" % _e(_assessment(report)))
    if not reachable:
        add('<p class="warn">Runtime facts are missing: the Docker daemon could not be reached (%s). '
            'Only file-based checks ran.</p>' % _e(docker.get("error")))
    kpis = [("Score", "%s/100" % s.get("score")),
            ("Running / defined", "%s / %s" % (s.get("services_running") if reachable else "?", s.get("services_defined"))),
            ("Health", _pct(s.get("health_pct"), 1)),
            ("Restarting", s.get("containers_restarting") if reachable else "?"),
            ("Unhealthy", s.get("containers_unhealthy") if reachable else "?"),
            ("Memory used", "%s of %s" % (format_size(s.get("memory_used_bytes"), unknown=NA),
                                          format_size(s.get("memory_limit_bytes"), unknown=NA))),
            ("Compose files", "%s (%s override)" % (s.get("compose_files"), s.get("override_files"))),
            ("Dockerfiles", s.get("dockerfiles"))] + _suppression_kpis(report)
    add('<div class="kpis">%s</div>' % "".join('<div class="kpi">%s<b>%s</b></div>' % (_e(k), _e(v)) for k, v in kpis))
    add("<h3>Findings by severity</h3>")
    add(_svg_findings(fc))
    for section in (_html_container_health,
                    _html_restart_loop_unhealthy_analysis,
                    _html_configuration_sprawl,
                    _html_port_registry,
                    _html_security,
                    _html_service_mesh_discovery,
                    _html_volumes,
                    _html_resources,
                    _html_monitoring,
                    _html_findings_by_priority,
                    _html_suppressed_and_baseline,
                    _html_action_plan):
        section(report, add)
    add("<p><small>compose-doctor %s &middot; schema %s</small></p></body></html>" % (
        _e((report.get("tool") or {}).get("version")), _e(report.get("schema_version"))))
    return "\n".join(H)


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

def fleet_markdown(fleet):
    t = fleet.get("totals") or {}
    fc = t.get("findings") or {}
    L = []
    add = L.append
    add("# FLEET AUDIT SUMMARY")
    add("")
    add("**Generated:** %s  " % _md(fleet.get("generated_at")))
    add("**Hosts:** %s (%s audited, %s unreachable)  " % (t.get("hosts"), t.get("hosts_audited"),
                                                        t.get("hosts_unreachable")))
    add("**Score:** min %s, average %s  " % (_md(t.get("score_min")), _md(t.get("score_avg"))))
    add("**Findings:** %s" % " ".join("%s %s: %d" % (SEV_ICON[sev], PRIORITY[sev], fc.get(sev, 0))
                                      for sev in SEVERITIES))
    add("")
    add("## Hosts")
    add("")
    add("| Host | Project | Docker | Score | P0 | P1 | P2 | P3 | Running / defined | Health | Restarting | Unhealthy |")
    add("|------|---------|--------|-------|----|----|----|----|-------------------|--------|------------|-----------|")
    for h in sorted(fleet.get("hosts") or [], key=lambda h: (h.get("score") if h.get("score") is not None else 999,
                                                            str(h.get("host")))):
        f = h.get("findings") or {}
        add("| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s |" % (
            _md(h.get("host")), _md(h.get("project")),
            "up" if h.get("docker_reachable") else "\u274C %s" % _md(h.get("docker_error") or "unreachable"),
            h.get("score"), f.get("critical", 0), f.get("high", 0), f.get("medium", 0), f.get("low", 0),
            _md(h.get("services_running")), _md(h.get("services_defined")), _pct(h.get("health_pct"), 1),
            _md(h.get("containers_restarting")), _md(h.get("containers_unhealthy"))))
    add("")
    if fleet.get("outcomes"):
        add("## Remediation outcome")
        add("")
        add("| Host | Outcome | Detail |")
        add("|------|---------|--------|")
        for o in fleet["outcomes"]:
            add("| %s | %s | %s |" % (_md(o.get("host")), _md(o.get("state")), _md(o.get("detail"))))
        add("")
    if fleet.get("unreachable"):
        add("## Unreachable hosts")
        add("")
        for u in fleet["unreachable"]:
            add("- **%s**: %s" % (_md(u.get("host")), _md(u.get("error"))))
        add("")
    add("## Findings across the fleet")
    add("")
    if not fleet.get("rules"):
        add("No findings. \u2705")
    else:
        add("| Priority | Rule | Title | Findings | Hosts |")
        add("|----------|------|-------|----------|-------|")
        for r in fleet["rules"]:
            add("| %s | `%s` | %s | %d | %s |" % (r["priority"], _md(r["rule"]), _md(r.get("title")), r["findings"],
                                                _md(", ".join(r.get("hosts") or []))))
    add("")
    return "\n".join(L)
