# -*- coding: utf-8 -*-
"""Secrets: env files others can read, literal secrets in compose files, well-known default credentials (values never leave redact's masking)."""
from __future__ import absolute_import, division, print_function

from ansible.module_utils.compose_doctor.analysis.rules.common import (
    MASK, _finding,
)


def rule_env_file_permissions(ctx):
    out = []
    for kind, entries in (("env file", ctx.compose.get("env_files") or []),
                          ("secret file", ctx.compose.get("secret_files") or [])):
        for f in entries:
            if f.get("template") or not (f.get("world_readable") or f.get("group_readable")):
                continue  # a template Compose never reads (example.env, .env.example) is not a live secret
            who = "world-readable" if f.get("world_readable") else "group-readable"
            ev = "%s %s is %s (mode %s, owner %s:%s)" % (kind, f.get("path"), who, f.get("mode"),
                                                       f.get("owner"), f.get("group"))
            keys = [s.get("key") for s in f.get("secrets") or []
                    if s.get("class", "secret") in ("secret", "default-credential")]
            if keys:
                ev += "; holds secrets: %s" % ", ".join("%s=%s" % (k, MASK) for k in keys)
            out.append(_finding(ctx, "env-file-permissions", f.get("path"), ev, file=f.get("path"), line=None,
                                diagnosis={"mode": f.get("mode"), "owner": f.get("owner"),
                                           "group": f.get("group"), "world_readable": bool(f.get("world_readable")),
                                           "group_readable": bool(f.get("group_readable")),
                                           "secret_keys": keys}))
    return out


def _compose_secrets(ctx):
    """(service, secret_env entry) for every service secret in the active model."""
    for name in sorted(ctx.services):
        for s in (ctx.services[name] or {}).get("secret_env") or []:
            yield name, s


def rule_hardcoded_secret(ctx):
    out = []
    for name, s in _compose_secrets(ctx):
        if not s.get("literal") or s.get("class", "secret") != "secret":
            continue  # references, default credentials (their own rule), placeholders, data
        ev = "service %s sets %s=%s as a literal in %s line %s (not a ${VAR} reference)" % (
            name, s.get("key"), MASK, s.get("file"), s.get("line"))
        out.append(_finding(ctx, "hardcoded-secret", "%s:%s" % (name, s.get("key")), ev, service=name,
                            file=s.get("file") or ctx.svc_loc(name)[0],
                            line=s.get("line") or ctx.svc_loc(name)[1]))
    # An env file is where Compose expects literal secrets; they count as hardcoded once the
    # file is readable beyond its owner (the seed's world-readable .env full of passwords).
    for f in ctx.compose.get("env_files") or []:
        if f.get("template") or not (f.get("group_readable") or f.get("world_readable")):
            continue
        for s in f.get("secrets") or []:
            if s.get("class", "secret") != "secret" or not s.get("literal", True):
                continue
            ev = "%s line %s: %s=%s is a hardcoded secret in a file readable by others (mode %s)" % (
                f.get("path"), s.get("line"), s.get("key"), MASK, f.get("mode"))
            out.append(_finding(ctx, "hardcoded-secret", "%s:%s" % (f.get("path"), s.get("key")), ev,
                                file=f.get("path"), line=s.get("line"),
                                title="Hardcoded secret in an env file readable by others"))
    return out


def rule_default_credential(ctx):
    out, seen = [], set()
    for name, s in _compose_secrets(ctx):
        if not s.get("default_credential"):
            continue
        target = "%s:%s" % (s.get("file") or name, s.get("key"))
        if target in seen:
            continue
        seen.add(target)
        ev = "service %s: %s=%s is a well-known default credential (%s line %s)" % (
            name, s.get("key"), MASK, s.get("file"), s.get("line"))
        out.append(_finding(ctx, "default-credential", target, ev, service=name,
                            file=s.get("file") or ctx.svc_loc(name)[0], line=s.get("line")))
    for f in ctx.compose.get("env_files") or []:
        if f.get("template"):
            continue
        for s in f.get("secrets") or []:
            if not s.get("default_credential"):
                continue
            target = "%s:%s" % (f.get("path"), s.get("key"))
            if target in seen:
                continue
            seen.add(target)
            ev = "%s line %s: %s=%s is a well-known default credential" % (
                f.get("path"), s.get("line"), s.get("key"), MASK)
            out.append(_finding(ctx, "default-credential", target, ev, file=f.get("path"), line=s.get("line")))
    return out
