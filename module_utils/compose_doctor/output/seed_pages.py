# -*- coding: utf-8 -*-
"""The seed report's further sections as the pages show them: KPIs, network architecture, databases,
disk usage, monitoring and mesh depth, DevOps practices, cost, runbook. Each is {"id", "title" (audit.md's
heading), "heading" (audit.html's), "nav", "lines": [str], "tables": [{"caption",
"headers": [str], "rows": [[str]]}]} built from the report keys of output/report_sections.py, laid out
by the same block in audit.md.j2 and audit.html.j2 (cells are plain text; the templates escape them).
"""
from __future__ import absolute_import, division, print_function

from ansible.module_utils.compose_doctor.sizes import format_size

NONE = "-"
ROLLBACK_REPO = "compose-doctor/rollback"   # where the fixes keep the image a rebuild replaced


def _size(v):
    return format_size(v) if v is not None else "n/a"


def _pct(v):
    return "n/a" if v is None else "%.1f%%" % v


def _join(items):
    return ", ".join(str(i) for i in items or []) or NONE


def _yes(v):
    return "unknown" if v is None else ("yes" if v else "no")


def kpis(report):
    k = report.get("kpis")
    if not k:
        return None
    a, mem = k.get("availability") or {}, k.get("memory") or {}
    target = k.get("response_target_ms")
    lines = ["Availability (running and healthy over defined): %s/%s services (%s); over the active files' "
             "services: %s" % (a.get("available"), a.get("defined"), _pct(a.get("pct")), _pct(a.get("active_pct"))),
             "Health: %s of containers healthy" % _pct(k.get("health_pct")),
             "Memory utilisation: %s against the %s%% target; over it: %s" % (
                 _pct(mem.get("utilisation_pct")), mem.get("target_pct"),
                 _join("%s (%s)" % (o["container"], _pct(o.get("pct"))) for o in mem.get("over_target") or [])),
             "Restarts: %s in total; OOM kills: %s" % ((k.get("restarts") or {}).get("total"),
                                                        (k.get("oom_kills") or {}).get("total"))]
    rows = [[t.get("service"), t.get("url"), NONE if t.get("median_ms") is None else "%.0f ms" % t["median_ms"],
             _join("%.0f" % s for s in t.get("samples_ms") or []), str(t.get("status") or NONE),
             "yes" if t.get("within_target") else "NO", t.get("error") or NONE] for t in k.get("response_times") or []]
    table = {"caption": "Response time of each published HTTP health endpoint (median of 3, target %s ms)" % target,
             "headers": ["Service", "URL", "Median", "Samples (ms)", "HTTP status", "Within target", "Error"],
             "rows": rows}
    return {"id": "kpis", "title": "SUCCESS METRICS (KPIs)", "heading": "Success metrics (KPIs)", "nav": "KPIs", "lines": lines, "tables": [table]}


def networks(report):
    n = report.get("networks")
    if not n:
        return None
    rows = [[x.get("name"), x.get("driver") or NONE, _join(s.get("subnet") for s in x.get("subnets") or []),
             _join(s.get("gateway") for s in x.get("subnets") or [] if s.get("gateway")),
             "yes" if x.get("internal") else "no", _join(x.get("services"))] for x in n.get("networks") or []]
    lines = ["Services only on the project's default network: %s" % _join(n.get("default_only_services")),
             "Services on host networking: %s" % _join(n.get("host_network_services")),
             "Published: %s" % _join("%s (%s)" % (p["service"], ", ".join(p.get("ports") or []))
                                      for p in n.get("published_services") or []),
             "Internal only (nothing published): %s" % _join(n.get("internal_only_services"))]
    return {"id": "networks", "title": "NETWORK ARCHITECTURE", "heading": "Network architecture", "nav": "Networks", "lines": lines, "tables": [
        {"caption": "Networks", "headers": ["Network", "Driver", "Subnet", "Gateway", "Internal", "Services"],
         "rows": rows}]}


def databases(report):
    dbs = report.get("databases")
    if dbs is None:
        return None
    rows = []
    for d in dbs:
        settings = _join("%s=%s" % (k, v) for k, v in sorted((d.get("settings") or {}).items()))
        ready = "not running" if not d.get("running") else (d.get("probe_error") or _yes(d.get("ready")))
        rows.append([d.get("service"), d.get("kind"), ready, settings,
                     _join("%s (%s)" % (v.get("name"), _size(v.get("size_bytes"))) for v in d.get("volumes") or []),
                     d.get("backup_command") or NONE])
    lines = ["Run the backup command before anyone touches a database (from the project directory)."] if rows else \
        ["No database service recognised (recognition is data: audit_database_kinds)."]
    return {"id": "databases", "title": "DATABASES", "heading": "Databases", "nav": "Databases", "lines": lines, "tables": [
        {"caption": "Databases", "headers": ["Service", "Kind", "Ready", "Key settings", "Volumes", "Backup command"],
         "rows": rows}] if rows else []}


def disk(report):
    du = report.get("disk_usage")
    if not du:
        return None
    if du.get("timed_out") or not du.get("available"):
        return {"id": "disk", "title": "DISK USAGE", "heading": "Disk usage", "nav": "Disk usage", "tables": [],
                "lines": ["Not available: %s" % ("the engine's disk-usage call timed out" if du.get("timed_out")
                                                   else du.get("error") or "no answer")]}
    lines = ["On the whole engine (other projects' included): volumes %s, images %s, dangling images %d (%s)" % (
        _size(du.get("volumes_bytes")), _size(du.get("images_bytes")), len(du.get("dangling_images") or []),
        _size(du.get("dangling_bytes")))]
    prefix = "%s_" % ((report.get("project") or {}).get("name") or "")
    vols = [[v.get("name"), _size(v.get("size_bytes")), _join(v.get("used_by"))] for v in du.get("volumes") or []
            if v.get("used_by") or str(v.get("name")).startswith(prefix)]     # this project's, not the host's
    imgs = [[_image_tags(i.get("tags")), _size(i.get("size_bytes")), _join(i.get("services"))]
            for i in du.get("images") or [] if i.get("services")]
    return {"id": "disk", "title": "DISK USAGE", "heading": "Disk usage", "nav": "Disk usage", "lines": lines, "tables": [
        {"caption": "This project's volumes", "headers": ["Volume", "Size", "Used by"], "rows": vols},
        {"caption": "Images of this project's containers", "headers": ["Image", "Size", "Services"], "rows": imgs}]}


def _image_tags(tags):
    """The image's own tags; the fixes' rollback tags (compose-doctor/rollback:<run>.<service>) counted."""
    own = [t for t in tags or [] if not str(t).startswith(ROLLBACK_REPO + ":")]
    kept = len(tags or []) - len(own)
    return _join(own) + ("" if not kept else " (+%d rollback tag%s)" % (kept, "s" if kept > 1 else ""))


def monitoring(report):
    m = report.get("monitoring_depth")
    if not m:
        return None
    lines = ["Defined but not running: %s" % _join(m.get("defined_not_running"))]
    tables = []
    p = m.get("prometheus")
    if p:
        if p.get("error"):
            lines.append("Prometheus (%s): %s" % (p.get("service"), p.get("error")))
        else:
            lines.append("Prometheus (%s): targets %s up, %s down; %s rule group(s), %s rule(s) (%s alerting, %s "
                         "recording)" % (p.get("service"), p.get("targets_up"), p.get("targets_down"),
                                         p.get("rule_groups"), p.get("rules"), p.get("alerting_rules"),
                                         p.get("recording_rules")))
        tables.append({"caption": "Prometheus targets", "headers": ["Job", "Instance", "Health", "Last error"],
                       "rows": [[t.get("job"), t.get("instance"), t.get("health"), t.get("last_error") or NONE]
                                for t in p.get("targets") or []]})
    return {"id": "monitoring-depth", "title": "MONITORING DEPTH: TARGETS AND RULES", "heading": "Monitoring depth: targets and rules", "nav": "Targets & rules", "lines": lines,
            "tables": tables}


def mesh(report):
    m = report.get("mesh_depth") or {}
    kong, consul = m.get("kong"), m.get("consul")
    if not kong and not consul:
        return None
    lines, tables = [], []
    if kong:
        gap = kong.get("declared_not_served") or {}
        extra = kong.get("served_not_declared") or {}
        lines.append("Kong (%s): %s" % (kong.get("service"), kong.get("error") or "Admin API serves %d service(s), "
                                        "%d route(s)" % (len(kong.get("services") or []), len(kong.get("routes") or []))))
        lines.append("Declared in %s but not served: services %s, routes %s; served but not declared: services %s, "
                     "routes %s" % (_join(d.get("file") for d in kong.get("declarative") or []),
                                    _join(gap.get("services")), _join(gap.get("routes")),
                                    _join(extra.get("services")), _join(extra.get("routes"))))
        tables.append({"caption": "Kong routes served", "headers": ["Route", "Service", "Hosts", "Paths"],
                       "rows": [[r.get("name") or NONE, r.get("service") or NONE, _join(r.get("hosts")),
                                 _join(r.get("paths"))] for r in kong.get("routes") or []]})
    if consul:
        lines.append("Consul (%s): %s" % (consul.get("service"), consul.get("error") or "%d registration(s); "
                                          "running but not registered: %s; registered but not running: %s" % (
                                              len(consul.get("registered") or []),
                                              _join(consul.get("running_not_registered")),
                                              _join(consul.get("registered_not_running")))))
    return {"id": "mesh-depth", "title": "MESH ROUTES AND REGISTRATIONS", "heading": "Mesh routes and registrations", "nav": "Mesh routes", "lines": lines, "tables": tables}


# The seed's time buckets, by severity; a finding's effort: low when a fix automates it, else this.
TIMELINE = {"critical": "0-24 h", "high": "1-7 days", "medium": "1-4 weeks", "low": "1-4 weeks", "info": "backlog"}
MANUAL_EFFORT = {"compose-sprawl": "high", "compose-invalid": "low", "image-unpinned": "low",
                 "dockerfile-add": "low", "port-all-interfaces": "low", "privileged-port": "low",
                 "root-user": "medium", "docker-socket-mount": "medium", "container-drift": "low"}


def plan_columns(severity, rule, fix):
    """(effort, timeline) of one action-plan row (data above)."""
    effort = "low (automated)" if fix else MANUAL_EFFORT.get(rule, "medium")
    return effort, TIMELINE.get(severity, "1-4 weeks")


def runbook(report):
    """Commands for this project, with its real service names and directory."""
    project = report.get("project") or {}
    where = "cd %s && " % project.get("dir") if project.get("dir") else ""
    failing = [f.get("service") for f in report.get("findings") or []
               if f.get("rule") in ("restart-loop", "unhealthy") and f.get("service")]
    one = (failing or [c.get("service") for c in report.get("containers") or [] if c.get("service")] or ["<service>"])[0]
    rows = [["Health check", where + "docker compose ps; ansible-playbook playbooks/audit.yml"],
            ["Why %s fails" % one, where + "docker compose logs --tail 100 %s" % one],
            ["Restart one service", where + "docker compose restart %s" % one],
            ["Recreate it from its file", where + "docker compose up -d --force-recreate %s" % one],
            ["Undo compose-doctor's last run", "ansible-playbook playbooks/rollback.yml"]]
    for d in report.get("databases") or []:
        if d.get("backup_command"):
            rows.append(["Back up %s (%s) first" % (d.get("service"), d.get("kind")), where + d["backup_command"]])
    return {"id": "runbook", "title": "EMERGENCY RUNBOOK", "heading": "Emergency runbook", "nav": "Runbook", "lines": [
        "Generated for project %s; run from any shell on the host." % (project.get("name") or "-")],
        "tables": [{"caption": "Runbook", "headers": ["Step", "Command"], "rows": rows}]}


def cost(report):
    res = report.get("resources")
    if not res:
        return None
    unlimited = [r.get("service") for r in res.get("containers") or [] if not r.get("limit_bytes")]
    headroom = sum(max((r.get("limit_bytes") or 0) - (r.get("usage_bytes") or 0), 0)
                   for r in res.get("containers") or [])
    lines = ["Memory limits: %s reserved for %s used (%s); reservations: %s" % (
                 _size(res.get("limit_bytes")), _size(res.get("used_bytes")), _pct(res.get("utilisation_pct")),
                 _size(res.get("reserved_bytes"))),
             "Limit headroom (limit minus use, summed): %s; right-sizing over-provisioned limits reclaims %s" % (
                 _size(headroom), _size(res.get("reclaimable_bytes"))),
             "Unbounded (no memory limit, can take the host's memory): %s" % _join(unlimited),
             "Parking: services defined but not running reserve nothing; stopping a running one frees its use "
             "(see the container table)."]
    return {"id": "cost", "title": "COST OPTIMIZATION", "heading": "Cost optimization", "nav": "Cost", "lines": lines, "tables": []}


# Practices the seed's "automation level" looks at: (label, the rule whose findings are the services
# without it). A service counts as covered when that rule found nothing on it.
PRACTICES = [("Health check", "no-healthcheck"), ("Memory limit", "memory-no-limit"),
             ("Log rotation", "log-rotation-missing"), ("Pinned image", "image-unpinned"),
             ("Non-root user", "root-user"), ("no-new-privileges", "no-new-privileges-missing"),
             ("Process limit", "pids-no-limit")]
# Rules whose absence is a strength worth saying in the conclusion: rule -> what it means.
STRENGTHS = {"hardcoded-secret": "no secret in a file others can read", "privileged-container": "no privileged container",
             "docker-socket-mount": "no service mounts the Docker socket", "restart-loop": "no crash loop",
             "unhealthy": "every health check passes", "image-unpinned": "every image pinned",
             "log-rotation-missing": "logs rotate everywhere", "memory-no-limit": "every service has a memory limit",
             "monitoring-down": "the monitoring stack runs", "port-all-interfaces": "no port open on all interfaces"}


def devops(report):
    comp = report.get("compose") or {}
    found = comp.get("devops_files") or {}
    services = [s.get("name") for s in report.get("services") or [] if s.get("name")]
    consul = (report.get("mesh_depth") or {}).get("consul") or {}
    lines = ["CI/CD: %s" % _join(found.get("ci")) if found.get("ci") else
             "CI/CD: no pipeline file in the project or its git checkout",
             "Deployment: %s" % _join(found.get("deploy")),
             "Infrastructure as code: Docker Compose (%d files, %d active); other: %s" % (
                 len(comp.get("files") or []), len(comp.get("active_files") or []), _join(found.get("iac"))),
             "Secret management: %d env file(s), %d secret file(s) (Compose secrets:)" % (
                 len(comp.get("env_files") or []), len(comp.get("secret_files") or [])),
             "Service discovery: %s" % ("dynamic (Consul running)" if consul.get("running")
                                        else "static (Compose DNS names)")]
    rows = []
    for label, rule in PRACTICES:
        lacking = set(f.get("service") for f in report.get("findings") or [] if f.get("rule") == rule)
        covered = [s for s in services if s not in lacking]
        rows.append([label, "%d of %d" % (len(covered), len(services)),
                     _pct(100.0 * len(covered) / len(services)) if services else "n/a", _join(sorted(lacking - {None}))])
    return {"id": "devops", "title": "DEVOPS PRACTICES ASSESSMENT", "heading": "DevOps practices assessment", "nav": "DevOps practices", "lines": lines, "tables": [
        {"caption": "Automation level: services covered by each practice",
         "headers": ["Practice", "Services", "Coverage", "Without it"], "rows": rows}]}


def strengths(report):
    """What the audit found nothing wrong with (STRENGTHS), for the conclusion."""
    fired = set(f.get("rule") for f in report.get("findings") or [])
    reachable = (report.get("docker") or {}).get("reachable")
    runtime_rules = ("restart-loop", "unhealthy", "monitoring-down")
    return [text for rule, text in STRENGTHS.items() if rule not in fired and (reachable or rule not in runtime_rules)]


def seed_sections(report):
    """The sections above that the report has data for, in page order."""
    return [s for s in (kpis(report), networks(report), databases(report), disk(report), monitoring(report),
                        mesh(report), devops(report), cost(report), runbook(report)) if s]
