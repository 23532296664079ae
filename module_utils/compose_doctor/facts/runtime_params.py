# -*- coding: utf-8 -*-
"""The runtime facts' options, in one place: container_facts takes them as its own, compose_facts
as its ``runtime`` option (the audit's facts of a host in one module call: the project first, then
the engine's view of it, saving a module round-trip per host)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.compose_doctor.facts import docker_runtime

RUNTIME_OPTIONS = dict(
    project=dict(type="str"),
    docker_host=dict(type="str"),
    timeout=dict(type="int", default=10),
    stats=dict(type="bool", default=True),
    stats_workers=dict(type="int", default=8),
    memory_source=dict(type="str", default="auto", choices=["auto", "api", "cgroup"]),
    log_tail_lines=dict(type="int", default=40),
    secret_key_patterns=dict(type="list", elements="str", no_log=False),
    databases=dict(type="list", elements="dict", default=[]),
    disk_usage_timeout=dict(type="int", default=8),
    http_apis=dict(type="list", elements="dict", default=[]),
)


def invalid(params):
    """The first out-of-range option of ``params`` (RUNTIME_OPTIONS keys) as a message, or None."""
    for key, low in (("stats_workers", 1), ("timeout", 1), ("log_tail_lines", 0)):
        if params.get(key) is not None and params[key] < low:
            return "%s must be >= %d, got %d" % (key, low, params[key])
    return None


def gather(params, project=None):
    """The ``runtime`` dict for validated ``params``; ``project`` overrides params['project']."""
    return docker_runtime.gather_runtime(
        project=project or params.get("project") or None,
        docker_host=params.get("docker_host") or docker_runtime.default_docker_host(),
        timeout=params["timeout"],
        stats=params["stats"],
        stats_workers=params["stats_workers"],
        log_tail_lines=params["log_tail_lines"],
        patterns=params.get("secret_key_patterns") or None,
        memory_source=params["memory_source"],
        databases=params["databases"],
        disk_usage_timeout=max(0, params["disk_usage_timeout"]),
        http_apis=params["http_apis"],
    )
