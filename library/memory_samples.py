#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: sample the memory of containers over a window (read-only)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: memory_samples
short_description: Sample container memory over a window and right-size the limit
version_added: "0.1.0"
description:
  - Reads the memory usage of the given containers O(samples) times spread over O(window)
    seconds, the same way M(container_facts) does (the container's cgroup files when the daemon
    is local, else one-shot C(stats) requests; page cache excluded like C(docker stats)), and
    returns every sample, the peak, and the container's current limit, state, id and start time.
  - With O(prometheus_url), also asks Prometheus for the peak working set of each container over
    O(prometheus_window) (C(max_over_time(container_memory_working_set_bytes{name="..."}[window]))
    through the HTTP API); the peak is the higher of both.
  - With O(policy), each container also gets the right-sizing recommendation of the shared
    C(rightsizing) logic (limit = max(peak x headroom, peak / max_usage_pct, floor), OOM bump,
    raise on pressure, cap when unlimited, lower when over-provisioned, hysteresis band).
  - Read-only; never reports a change.
author:
  - compose-doctor contributors
options:
  containers:
    description: Container names or ids to sample.
    type: list
    elements: str
    required: true
  samples:
    description: Readings per container (at least 1).
    type: int
    default: 5
  window:
    description: Seconds the readings are spread over (first at once, last at the end).
    type: float
    default: 10
  memory_source:
    description:
      - C(cgroup) reads the container's cgroup files (local daemon only), C(api) uses one-shot
        C(stats), C(auto) uses the cgroup when readable here, else the API.
    type: str
    choices: [auto, api, cgroup]
    default: auto
  docker_host:
    description:
      - Docker daemon address. Defaults to C(DOCKER_HOST), else C(unix:///var/run/docker.sock).
    type: str
  timeout:
    description: Timeout in seconds for each Docker API or Prometheus request.
    type: int
    default: 10
  prometheus_url:
    description:
      - Base URL of a Prometheus server scraping cAdvisor (for example C(http://prometheus:9090)).
        Empty = no Prometheus query.
    type: str
  prometheus_window:
    description: PromQL range of the peak query (C(1h), C(7d)).
    type: str
    default: 1h
  validate_certs:
    description: Verify the Prometheus server's TLS certificate.
    type: bool
    default: true
  reasons:
    description:
      - Container name -> audit rule ids that fired for it (C(memory-pressure),
        C(memory-no-limit), C(memory-overprovisioned), C(oom-killed)), used with O(policy).
    type: dict
    default: {}
  policy:
    description:
      - Right-sizing policy; when given, every container gets a C(recommendation).
      - Keys (all optional) C(headroom), C(floor), C(round), C(max_usage_pct), C(oom_bump_min),
        C(oom_bump_factor), C(pressure_pct), C(min_limit), C(band_low), C(band_high); sizes as
        C(64MiB), C(256m) or bytes.
    type: dict
extends_documentation_fragment:
  - compose_doctor.attributes
  - compose_doctor.info_module
attributes:
  platform:
    details:
      - Runs where the Docker daemon socket (or O(docker_host)) is reachable.
notes:
  - Takes about O(window) seconds. Requires read access to the Docker socket.
  - A container that is not running is returned with C(running=false) and no samples.
seealso:
  - module: container_facts
requirements:
  - python >= 3.8
"""

EXAMPLES = r"""
- name: Sample two containers five times over ten seconds and right-size them
  memory_samples:
    containers: [sutazai-redis-1, sutazai-ollama-integration-1]
    samples: 5
    window: 10
    reasons:
      sutazai-ollama-integration-1: [memory-pressure]
    policy:
      headroom: 1.15
      floor: 64MiB
      min_limit: 256MiB
  register: mem

- name: Peak over the last day from Prometheus as well
  memory_samples:
    containers: [sutazai-postgres-1]
    samples: 1
    window: 0
    prometheus_url: http://127.0.0.1:9090
    prometheus_window: 1d
"""

RETURN = r"""
containers:
  description: One entry per requested container, in the order given.
  returned: always
  type: list
  elements: dict
  sample:
    - name: sutazai-ollama-integration-1
      id: 0f3c2a1b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a
      exists: true
      running: true
      state: running
      started_at: "2024-05-01T10:00:00.123456789Z"
      restart_count: 0
      oom_killed: false
      limit_bytes: 67108864
      memory_swap_bytes: 134217728
      samples: [57221120, 57233408, 57221120]
      peak_bytes: 57233408
      last_bytes: 57221120
      prometheus_peak_bytes: null
      source: cgroup
      recommendation:
        current: 67108864
        recommended: 83886080
        action: raise
        reason: "usage 85% of 64MiB (>= 80%): raised so the peak stays <= 70%"
        peak: 57233408
        target: 83886080
  contains:
    limit_bytes:
      description: HostConfig.Memory, null when the container has no limit.
      type: int
      returned: always
    peak_bytes:
      description: Highest reading (and Prometheus peak); null when nothing was read.
      type: int
      returned: always
    recommendation:
      description: >-
        Only with O(policy). C(action) is C(raise), C(lower), C(cap), C(keep) or C(skip);
        C(recommended) is the limit in bytes (a multiple of the policy's C(round)).
      type: dict
      returned: when policy is given
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

from ansible.module_utils.compose_doctor.facts import docker_runtime
from ansible.module_utils.compose_doctor.analysis import rightsizing


def _inspect(module, client, name):
    """The inspect dict of a container, None when there is no such container."""
    try:
        return client.inspect_container(name)
    except docker_runtime.EngineError as exc:
        if exc.status == 404:
            return None
        module.fail_json(msg="inspect of %s failed: %s" % (name, exc))


def _prometheus_peak(module, name):
    p = module.params
    url = "%s/api/v1/query?%s" % (p["prometheus_url"].rstrip("/"), urlencode(
        {"query": rightsizing.prometheus_query(name, p["prometheus_window"])}))
    try:
        resp = open_url(url, timeout=p["timeout"], validate_certs=p["validate_certs"])
        data = json.loads(to_text(resp.read()))
        return rightsizing.parse_prometheus_response(data)
    except Exception as exc:  # network, HTTP, JSON or Prometheus error: say which
        module.fail_json(msg="Prometheus peak query for %s at %s failed: %s" % (name, p["prometheus_url"], exc))


def _check_params(module):
    p = module.params
    if p["samples"] < 1:
        module.fail_json(msg="samples must be >= 1, got %d" % p["samples"])
    if p["window"] < 0:
        module.fail_json(msg="window must be >= 0, got %s" % p["window"])
    if p["policy"] is not None:
        try:
            rightsizing.normalize_policy(p["policy"])
        except ValueError as exc:
            module.fail_json(msg="invalid policy: %s" % exc)


def _connect(module):
    """-> (client, memory source, host MemTotal); cgroup reads only where the socket is local."""
    p = module.params
    docker_host = p["docker_host"] or docker_runtime.default_docker_host()
    memory_source = p["memory_source"]
    if memory_source == "auto" and not docker_runtime.socket_facts(
            docker_runtime.socket_path_from_host(docker_host)).get("exists"):
        memory_source = "api"
    try:
        client = docker_runtime.connect(docker_host, timeout=p["timeout"])
        mem_total = (client.info() or {}).get("MemTotal")
    except (docker_runtime.EngineError, OSError) as exc:
        module.fail_json(msg=docker_runtime.unreachable_error(docker_host, exc))
    return client, memory_source, mem_total


def _sample(module, client, attrs, running, memory_source, mem_total):
    """-> ({name: [bytes, ...]}, {name: source}) over the window; the client is closed after."""
    p = module.params
    sources = {}

    def read(name):
        a = attrs[name]
        stats, source = docker_runtime.read_memory(client, a["Id"], (a.get("State") or {}).get("Pid"),
                                                   memory_source, "/sys/fs/cgroup", "/proc", mem_total)
        mem = docker_runtime.memory_from_stats(stats, (a.get("HostConfig") or {}).get("Memory"), source)
        sources[name] = source
        return mem["usage_bytes"] if mem else None

    try:
        readings = rightsizing.sample_loop(read, running, p["samples"], p["window"])
    finally:
        client.close()
    return readings, sources


def _entry(module, name, a, values, source):
    """One container's result: inspect facts, samples and the peak (Prometheus' too)."""
    state = a.get("State") or {}
    host = a.get("HostConfig") or {}
    prom = None
    if module.params["prometheus_url"] and a:
        prom = _prometheus_peak(module, (a.get("Name") or name).lstrip("/"))
    peaks = values + ([prom] if prom is not None else [])
    return {
        "name": name, "exists": bool(a), "id": a.get("Id"),
        "running": bool(state.get("Running")), "state": state.get("Status"),
        "started_at": state.get("StartedAt"), "restart_count": a.get("RestartCount"),
        "oom_killed": bool(state.get("OOMKilled")),
        "limit_bytes": host.get("Memory") or None, "memory_swap_bytes": host.get("MemorySwap") or None,
        "samples": values, "peak_bytes": max(peaks) if peaks else None,
        "last_bytes": values[-1] if values else None, "prometheus_peak_bytes": prom,
        "source": source,
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            containers=dict(type="list", elements="str", required=True),
            samples=dict(type="int", default=5),
            window=dict(type="float", default=10),
            memory_source=dict(type="str", default="auto", choices=["auto", "api", "cgroup"]),
            docker_host=dict(type="str"),
            timeout=dict(type="int", default=10),
            prometheus_url=dict(type="str"),
            prometheus_window=dict(type="str", default="1h"),
            validate_certs=dict(type="bool", default=True),
            reasons=dict(type="dict", default={}),
            policy=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    _check_params(module)
    client, memory_source, mem_total = _connect(module)
    names = list(dict.fromkeys(p["containers"]))
    attrs = dict((n, _inspect(module, client, n)) for n in names)
    running = [n for n in names if attrs[n] and (attrs[n].get("State") or {}).get("Running")]
    readings, sources = _sample(module, client, attrs, running, memory_source, mem_total)

    out = []
    items = []
    for n in names:
        entry = _entry(module, n, attrs[n] or {}, readings.get(n) or [], sources.get(n))
        out.append(entry)
        items.append({"name": n, "current": entry["limit_bytes"], "peak": entry["peak_bytes"],
                      "oom_killed": entry["oom_killed"], "reasons": p["reasons"].get(n) or []})
    if p["policy"] is not None:
        recs = rightsizing.recommend_all([i for i in items if attrs[i["name"]]], p["policy"])
        for entry in out:
            entry["recommendation"] = recs.get(entry["name"])
    module.exit_json(changed=False, containers=out)

if __name__ == "__main__":
    main()
