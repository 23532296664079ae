# -*- coding: utf-8 -*-
"""Drift: a container whose settings are not its compose file's.

Compose applies a service's definition only when it (re)creates the container. Between two
``up``\\ s a container can be changed by hand (``docker update`` of memory, pids or the restart
policy), recreated with ``docker run`` under the project's labels, or left behind from an older
definition; the file then says one thing and the engine runs another, and an audit of the file
alone (docker-bench-security reads containers, Compose linters read files) misses it.

This compares the settings both sides carry, normalised to one shape, for the CIS Docker
Benchmark section 5 settings the catalog checks (5.4 capabilities, 5.5 privileged, 5.10/5.16/
5.17/5.21/5.31 host namespaces, 5.11 memory, 5.13 read-only root, 5.15 restart policy,
5.2/5.3/5.22 confinement, 5.26 no-new-privileges, 5.29 pids) plus ``user``.
Pure logic, stdlib only; inputs are the facts of compose_model (service) and docker_runtime
(container).
"""
from __future__ import absolute_import, division, print_function

from ansible.module_utils.compose_doctor.facts.compose_values import capability_name, security_options

# security_opt (key, value) -> the confinement it turns off
_UNCONFINED = {("apparmor", "unconfined"): "apparmor", ("seccomp", "unconfined"): "seccomp",
               ("label", "disable"): "selinux", ("label", "disabled"): "selinux"}
_NAMESPACES = ("pid", "ipc", "uts", "userns_mode", "network_mode")


def _no_new_privileges(security_opt, daemon_default):
    values = [v.lower() for k, v, _t in security_options({"security_opt": security_opt})
              if k == "no-new-privileges"]
    return values[-1] in ("true", "1", "yes") if values else bool(daemon_default)


def _unconfined(security_opt):
    return sorted(set(_UNCONFINED[(k, v.lower())] for k, v, _t in security_options({"security_opt": security_opt})
                      if (k, v.lower()) in _UNCONFINED))


def _common(side, daemon_nnp):
    """The settings both a service fact and a container fact carry, in one shape."""
    out = {
        "privileged": bool(side.get("privileged")),
        "cap_add": sorted(set(capability_name(c) for c in side.get("cap_add") or [])),
        "cap_drop": sorted(set(capability_name(c) for c in side.get("cap_drop") or [])),
        "no_new_privileges": _no_new_privileges(side.get("security_opt") or [], daemon_nnp),
        "unconfined": _unconfined(side.get("security_opt") or []),
        "read_only": bool(side.get("read_only")),
        "pids_limit": side.get("pids_limit") if (side.get("pids_limit") or 0) > 0 else None,
        "mem_limit_bytes": side.get("mem_limit_bytes") or None,
    }
    for ns in _NAMESPACES:
        out[ns + "_host"] = str(side.get(ns) or "").strip().lower() == "host"
    return out


def file_settings(service, daemon_nnp=False):
    """A compose_model service fact -> {setting: value} (see ``differences`` for the settings).

    ``daemon_nnp``: daemon.json sets no-new-privileges for every container."""
    out = _common(service, daemon_nnp)
    out["restart"] = ((service.get("restart_policy") or {}).get("name")) or "no"
    out["user"] = service.get("user")
    return out


def container_settings(container, daemon_nnp=False):
    """A docker_runtime container fact -> {setting: value}, in file_settings' shape."""
    out = _common(container, daemon_nnp)
    out["restart"] = container.get("restart_policy") or "no"
    out["user"] = container.get("user")
    return out


def _escalates(setting, declared, running):
    """True when the running value grants more than the declared one."""
    if setting in ("privileged",) or setting.endswith("_host"):
        return bool(running) and not declared
    if setting in ("cap_add", "unconfined"):
        return bool(set(running) - set(declared))
    if setting == "cap_drop":
        return bool(set(declared) - set(running))
    if setting in ("no_new_privileges", "read_only"):
        return bool(declared) and not running
    if setting in ("pids_limit", "mem_limit_bytes"):
        return declared is not None and (running is None or running > declared)
    return False


def differences(declared, running):
    """Two settings dicts (file_settings, container_settings) -> the settings that differ:
    ``[{setting, file, container, escalates}]`` sorted by setting; ``escalates`` is true when the
    container runs with more privilege or fewer limits than its file declares.

    ``user`` counts only when the file sets one (otherwise the image's USER applies and the
    container shows it). Memory and pids are bytes and a process count; None means unlimited."""
    out = []
    for setting in sorted(declared):
        want, have = declared.get(setting), running.get(setting)
        if setting == "user" and not want:
            continue
        if want == have:
            continue
        out.append({"setting": setting, "file": want, "container": have,
                    "escalates": _escalates(setting, want, have)})
    return out
