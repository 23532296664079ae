# -*- coding: utf-8 -*-
"""The project itself: no compose file, files Compose rejects, override sprawl, suppressions that cannot be applied."""
from __future__ import absolute_import, division, print_function

from ansible.module_utils.compose_doctor.analysis.rules.common import (
    _finding,
)


def rule_compose_not_found(ctx):
    """No compose file is active: the audit has no project to read (a mistyped path, or variant
    files without a default one). Evidence lists what was found and how to choose."""
    return [_finding(ctx, "compose-not-found", "compose", e.get("message"), fix=None)
            for e in ctx.compose.get("errors") or [] if e.get("kind") == "no-project"]


def rule_compose_invalid(ctx):
    out, seen = [], set()
    errors = [e for e in ctx.compose.get("errors") or [] if e.get("kind") != "no-project"]
    for f in ctx.compose.get("files") or []:
        if f.get("error"):
            e = dict(f["error"])
            e["file"] = f.get("path")
            errors.append(e)
    for e in errors:
        key = e.get("file") or "compose"
        if key in seen:
            continue
        seen.add(key)
        loc = "line %s" % e.get("line") if e.get("line") else "unknown line"
        if e.get("column"):
            loc += ", column %s" % e.get("column")
        out.append(_finding(ctx, "compose-invalid", key, "%s (%s): %s" % (key, loc, e.get("message")),
                            file=e.get("file"), line=e.get("line"), fix=None))
    for name in sorted(ctx.services):
        for p in (ctx.services[name] or {}).get("problems") or []:
            target = "%s.%s" % (name, p.get("key")) if p.get("key") else name
            if target in seen:
                continue
            seen.add(target)
            ev = "service %s, key %s (%s line %s): %s; the value is a %s, so this value was left out of the audit" % (
                name, p.get("key") or "-", p.get("file") or "?", p.get("line") or "?", p.get("message"),
                p.get("shape"))
            out.append(_finding(ctx, "compose-invalid", target, ev, service=name, file=p.get("file"),
                                line=p.get("line"), fix=None))
    return out


def rule_compose_sprawl(ctx):
    p = ctx.policy
    files = ctx.compose.get("files") or []
    overrides = [f for f in files if f.get("kind") == "override"]
    dockerfiles = ctx.compose.get("dockerfiles") or []
    defined = len(ctx.services_defined)
    reasons = []
    if len(overrides) > p["sprawl_max_override_files"]:
        reasons.append("%d override files (max %d)" % (len(overrides), p["sprawl_max_override_files"]))
    if len(dockerfiles) > p["sprawl_max_dockerfiles"]:
        reasons.append("%d Dockerfiles (max %d)" % (len(dockerfiles), p["sprawl_max_dockerfiles"]))
    running = None
    if ctx.reachable and defined:
        running = len([s for s in set(ctx.services_defined) if ctx.running(s)])
        pct = 100.0 * running / defined
        if pct < p["sprawl_min_running_pct"]:
            reasons.append("%d of %d defined services running (%.0f%%, min %s%%)"
                           % (running, defined, pct, p["sprawl_min_running_pct"]))
    if not reasons:
        return []
    ev = "%d compose files (%d override), %d services defined, %d Dockerfiles: %s" % (
        len(files), len(overrides), defined, len(dockerfiles), "; ".join(reasons))
    skipped = ctx.compose.get("skipped_dirs") or []
    if skipped:
        ev += " (not counted: files under %s: vendored, VCS or data directories)" % ", ".join(skipped[:8])
    return [_finding(ctx, "compose-sprawl", ctx.project or "project", ev, file=ctx.main_file(), line=None,
                     diagnosis={"compose_files": len(files), "override_files": len(overrides),
                                "services_defined": defined, "services_running": running,
                                "dockerfiles": len(dockerfiles)})]
