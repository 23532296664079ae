# -*- coding: utf-8 -*-
"""Kong's declarative configuration (``kong.yml``, ``_format_version``) found in a Compose project:
what services and routes it declares, for the report's mesh section to set against what the
Admin API serves. Only names, hosts, ports, route hosts and paths are kept: plugins,
consumers, credentials and certificates are never read out of the file.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2
    from urlparse import urlsplit

from ansible.module_utils.compose_doctor.facts.compose_values import name_matches
from ansible.module_utils.compose_doctor.facts.compose_yaml import yaml
from ansible.module_utils.compose_doctor.facts.project_paths import read_text_fs, relpath_in

NAME_RE = re.compile(r"^kong[\w.-]*\.(ya?ml|json)$", re.IGNORECASE)
MAX_BYTES = 1024 * 1024


def candidates(project_dir, paths, services):
    """Relative paths of likely declarative files: a project file named kong*.yml|yaml|json, and
    the file sources of the kong services' bind mounts (those may sit outside the project)."""
    out = [p for p in paths or [] if NAME_RE.match(os.path.basename(p))]
    for name, svc in sorted((services or {}).items()):
        if not name_matches(name, ["kong"]):
            continue
        for m in (svc or {}).get("mounts") or []:
            src = m.get("source")
            if m.get("type") == "bind" and src and NAME_RE.match(os.path.basename(src)):
                out.append(relpath_in(project_dir, src) if src.startswith(project_dir + os.sep) else src)
    return list(dict.fromkeys(out))


def _host_of(url):
    try:
        parts = urlsplit(str(url))
        return parts.hostname, parts.port
    except ValueError:
        return None, None


def _route(r, service=None):
    r = r if isinstance(r, dict) else {}
    svc = r.get("service")
    if isinstance(svc, dict):
        svc = svc.get("name") or svc.get("id")
    return {"name": r.get("name"), "service": service or svc,
            "hosts": [str(h) for h in r.get("hosts") or []], "paths": [str(p) for p in r.get("paths") or []]}


def parse(doc):
    """A loaded declarative document -> {format_version, services: [{name, host, port}],
    routes: [{name, service, hosts, paths}]} or None when it is not one (no _format_version)."""
    if not isinstance(doc, dict) or "_format_version" not in doc:
        return None
    services, routes = [], []
    for s in doc.get("services") or []:
        if not isinstance(s, dict):
            continue
        host, port = _host_of(s["url"]) if s.get("url") else (s.get("host"), s.get("port"))
        services.append({"name": s.get("name"), "host": host, "port": port})
        routes.extend(_route(r, s.get("name")) for r in s.get("routes") or [])
    routes.extend(_route(r) for r in doc.get("routes") or [])
    return {"format_version": str(doc.get("_format_version")), "services": services, "routes": routes}


def read_declarative(project_dir, paths, services):
    """[{file, format_version, services, routes, error}] for each candidate that is a Kong
    declarative file (or fails to parse: error set, nothing else)."""
    out = []
    for rel in candidates(project_dir, paths, services):
        full = rel if os.path.isabs(rel) else os.path.join(project_dir, rel)
        try:
            text = read_text_fs(full, MAX_BYTES)
            doc = json.loads(text) if full.lower().endswith(".json") else (yaml.safe_load(text) if yaml else None)
        except (OSError, IOError, ValueError) as exc:
            out.append({"file": rel, "format_version": None, "services": [], "routes": [],
                        "error": type(exc).__name__})
            continue
        except Exception as exc:  # noqa: BLE001 - a YAML error names its line; the text is never shown
            out.append({"file": rel, "format_version": None, "services": [], "routes": [],
                        "error": "not valid YAML (%s)" % type(exc).__name__})
            continue
        parsed = parse(doc)
        if parsed is not None:
            parsed.update(file=rel, error=None)
            out.append(parsed)
    return out
