#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: runtime facts of the containers of a compose project (read-only)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: container_facts
short_description: Gather runtime facts about containers, volumes and the Docker engine
version_added: "0.1.0"
description:
  - Talks to the Docker engine's HTTP API (Python standard library only - no Docker SDK, no
    C(requests) on the target) in one batched pass and
    returns what an audit needs about the containers of a compose project (or of the whole
    host) - state, status, health and the last health-check output, restart count, exit code,
    OOMKilled, user, privileged, capabilities, mounts, published ports, memory usage against
    the limit, log configuration, and a log tail of restarting, exited and unhealthy containers.
  - Also returns the volumes and which containers mount them, and engine facts (version,
    API version, logging driver, C(log-opts) from C(/etc/docker/daemon.json) and the owner,
    group and mode of the daemon socket).
  - Memory of running containers comes from one-shot C(stats) requests fetched concurrently, or
    from their cgroup files when the daemon is local (see O(memory_source));
    the usage excludes the page cache the way C(docker stats) does.
  - Secret-looking C(KEY=VALUE) pairs in log tails and health-check output are masked.
  - An unreachable daemon is not a failure; the module returns C(runtime.docker.reachable=false)
    with a human error and empty lists.
  - Read-only; never reports a change.
author:
  - compose-doctor contributors
options:
  project:
    description:
      - Compose project name; only containers labelled C(com.docker.compose.project=<project>)
        are returned.
      - Volumes of other compose projects are left out; unlabelled volumes are kept.
      - When omitted, all containers and volumes of the host are returned.
    type: str
  docker_host:
    description:
      - Docker daemon address, for example C(unix:///var/run/docker.sock) or C(tcp://host:2375).
      - Defaults to the C(DOCKER_HOST) environment variable, else C(unix:///var/run/docker.sock).
    type: str
  timeout:
    description: Timeout in seconds for each Docker API request.
    type: int
    default: 10
  stats:
    description: Fetch memory usage of running containers (one-shot stats requests).
    type: bool
    default: true
  stats_workers:
    description:
      - Number of concurrent memory and log requests.
      - Engines before API 1.42 answer a one-shot C(stats) request on their next 1 s
        collection tick, so with O(memory_source=api) each wave of O(stats_workers) running
        containers costs about a second; raise it for hosts with many containers.
    type: int
    default: 8
  memory_source:
    description:
      - Where memory usage comes from.
      - C(api) is one-shot C(stats) per running container, fetched concurrently.
      - C(cgroup) reads the container's cgroup memory files (the same files the engine's
        stats collector reads, same cache-excluding arithmetic); it needs the daemon on this
        machine and is about 30 times faster than C(api) on engines that wait for the next
        stats tick.
      - C(auto) uses C(cgroup) when the container's cgroup is readable here, else C(api).
    type: str
    choices: [auto, api, cgroup]
    default: auto
  log_tail_lines:
    description:
      - Lines of log to return for restarting, exited, dead and unhealthy containers, and for
        running containers that have restarted (a crash loop caught between two restarts).
      - C(0) disables log tails.
    type: int
    default: 40
  databases:
    description:
      - Database kinds to recognise (by image base name or service-name word) and probe with one
        read-only exec each in their running container (C(pg_isready), C(redis-cli INFO) ...).
      - Each item has C(kind), C(images), C(services), C(probe) (argv; C({user}) is replaced),
        and optionally C(ready_pattern), C(settings), C(user_env), C(default_user),
        C(auth_env), C(auth_from), C(backup). The audit role passes C(audit_database_kinds).
      - Empty (the default) probes nothing.
    type: list
    elements: dict
    default: []
  http_apis:
    description:
      - Monitoring and mesh services whose HTTP API is read (GET only, 2 s timeout) on the port
        they publish on the host, recognised like O(databases). Each item has C(kind)
        (prometheus, kong or consul), C(images), C(services), C(port) (container port) and
        C(paths) (name -> path). The audit role passes C(audit_http_apis).
    type: list
    elements: dict
    default: []
  disk_usage_timeout:
    description:
      - Seconds allowed for the one C(/system/df) request (volume and image sizes, dangling
        images); C(0) skips it. A time-out is reported in C(runtime.disk_usage), never a failure.
    type: int
    default: 8
  secret_key_patterns:
    description:
      - Key-name fragments that make a C(KEY=VALUE) pair secret-looking in log output.
      - Defaults to the patterns of the shared redaction helper.
    type: list
    elements: str
extends_documentation_fragment:
  - compose_doctor.attributes
  - compose_doctor.info_module
attributes:
  platform:
    details:
      - Runs where the Docker daemon socket (or O(docker_host)) is reachable.
requirements:
  - python >= 3.8
notes:
  - Requires read access to the Docker socket (root or membership of its group).
  - O(docker_host) may be C(unix://), C(tcp://) or C(https://) (TLS from C(DOCKER_TLS_VERIFY) and
    C(DOCKER_CERT_PATH), like the docker CLI); C(ssh://) is not supported.
  - One container list and one inspect per container, one network list, one C(/system/df),
    one exec per recognised database container, one C(stats) call per running container
    and one C(logs) call per broken container; no CLI process per container.
seealso:
  - module: community.docker.docker_container_info
  - module: community.docker.docker_host_info
"""

EXAMPLES = r"""
- name: Runtime facts of the sutazai compose project
  container_facts:
    project: sutazai
  register: cf

- name: Show containers in a restart loop
  ansible.builtin.debug:
    msg: "{{ cf.runtime.containers | selectattr('state', 'equalto', 'restarting') | map(attribute='name') | list }}"

- name: Whole host, remote daemon, no memory stats
  container_facts:
    docker_host: tcp://10.0.0.5:2375
    stats: false

- name: Stop when the daemon is down
  ansible.builtin.assert:
    that: cf.runtime.docker.reachable
    fail_msg: "{{ cf.runtime.docker.error }}"
"""

RETURN = r"""
runtime:
  description: Runtime facts.
  returned: always
  type: dict
  contains:
    docker:
      description: Engine facts and reachability.
      type: dict
      returned: always
      sample:
        reachable: true
        error: null
        host: unix:///var/run/docker.sock
        version: 20.10.24+dfsg1
        api_version: "1.41"
        logging_driver: json-file
        log_opts: {max-size: 10m, max-file: "3"}
        cgroup_version: "1"
        socket: {path: /var/run/docker.sock, exists: true, owner: root, group: docker,
                 uid: 0, gid: 994, mode: "0660", is_socket: true}
      contains:
        reachable:
          description: Whether the daemon answered.
          type: bool
          returned: always
        error:
          description: Human error when the daemon is unreachable, else null.
          type: str
          returned: always
        version:
          description: Engine version.
          type: str
          returned: always
        api_version:
          description: Engine API version.
          type: str
          returned: always
        logging_driver:
          description: Default logging driver of the daemon.
          type: str
          returned: always
        log_opts:
          description: C(log-opts) of C(/etc/docker/daemon.json) (empty when unreadable or unset).
          type: dict
          returned: always
        no_new_privileges:
          description: Whether C(/etc/docker/daemon.json) sets C(no-new-privileges) for every container.
          type: bool
          returned: always
        socket:
          description: Path, existence, owner, group, uid, gid and octal mode of the unix socket.
          type: dict
          returned: always
    containers:
      description: One entry per container, sorted by project, service, name.
      type: list
      elements: dict
      returned: always
      sample:
        - id: 3f2a1b0c9d8e
          name: sutazai-backend-1
          project: sutazai
          service: backend
          image: sutazai/backend:latest
          image_id: "sha256:5c1d..."
          image_created: "2024-05-01T10:00:00Z"
          state: restarting
          status: Restarting (1) 5 seconds ago
          started_at: "2024-05-01T10:00:00.123456789Z"
          finished_at: "2024-05-01T10:00:01.123456789Z"
          health: null
          restart_count: 14
          exit_code: 1
          oom_killed: false
          user: null
          privileged: false
          cap_add: []
          group_add: []
          restart_policy: unless-stopped
          mounts: [{type: volume, source: sutazai_data, destination: /data, rw: true, name: sutazai_data}]
          ports: [{host_ip: 0.0.0.0, host_port: 8000, container_port: 8000, protocol: tcp}]
          mem_limit_bytes: 536870912
          mem_reservation_bytes: null
          memory: null
          log_config: {type: json-file, config: {}}
          log_tail: ["ModuleNotFoundError: No module named 'psutil'"]
      contains:
        state:
          description: running, restarting, exited, created, paused or dead.
          type: str
          returned: always
        health:
          description: Null without a healthcheck, else status, failing_streak and the last
            check results (exit_code, output with secrets masked, start).
          type: dict
          returned: always
        memory:
          description: Null unless running and stats enabled; else usage_bytes (without page
            cache), limit_bytes (null when no limit), percent (null when no limit) and
            host_limit_bytes.
          type: dict
          returned: always
        cpu_usage_ns:
          description: Total CPU time of a running container (cgroup or stats), else null.
          type: int
          returned: always
        http_probe:
          description:
            - Null unless the container runs and its health check calls an HTTP URL on a port it
              publishes; else C(url) (the host side, no query string), C(status), C(samples_ms)
              (3 timed GETs, 2 s timeout each, stopping at the first failure), C(median_ms), C(error).
          type: dict
          returned: always
        api:
          description:
            - Only on running containers of a recognised API kind (O(http_apis)). C(kind), C(base_url)
              (null when the port is not published), C(results) (path name to parsed summary, for
              prometheus targets C(up), C(down), C(targets) and rules C(groups), C(rules), C(alerting),
              C(recording); kong services and routes lists; consul services list) and C(errors) (path
              name to message).
          type: dict
          returned: when recognised
        database:
          description:
            - Only on containers of a recognised database kind (O(databases)). C(kind), C(user)
              (from the environment when not secret, else the kind's default or C(<user>)),
              C(user_source), C(ran), C(exit_code), C(ready), C(error), C(output) (scrubbed, at most
              5 lines; empty when C(settings) are parsed) and C(settings) (key -> value or null).
          type: dict
          returned: when recognised
        log_tail:
          description: Last log lines of restarting, exited, dead or unhealthy containers and of
            running containers with a non-zero restart count, secret-looking KEY=VALUE pairs
            masked; empty for the others.
          type: list
          elements: str
          returned: always
    networks:
      description: The project's networks (by label) and any other one its containers are attached to.
      type: list
      elements: dict
      returned: always
      sample:
        - {name: sutazai_default, key: default, project: sutazai, driver: bridge, scope: local,
           internal: false, attachable: false, subnets: [{subnet: 172.18.0.0/16, gateway: 172.18.0.1}]}
    disk_usage:
      description:
        - From one C(/system/df) call; null when the daemon is unreachable. C(available) false
          with C(timed_out) or C(error) when the call did not answer in time.
        - C(volumes) maps each listed volume to its size; C(images) are the images the containers
          run; C(dangling_images) are untagged images no container uses (host-wide).
      type: dict
      returned: always
      sample:
        available: true
        timed_out: false
        error: null
        seconds: 0.4
        volumes: {sutazai_postgres_data: {size_bytes: 48234496, ref_count: 1}}
        images: [{id: "sha256:5c1d...", tags: ["sutazai/postgres:lab"], size_bytes: 280000000, containers: 1}]
        dangling_images: [{id: "sha256:9a0b...", size_bytes: 281000000, created: 1733400000}]
        dangling_bytes: 281000000
    volumes:
      description: Volumes with their use.
      type: list
      elements: dict
      returned: always
      sample:
        - name: sutazai_pgdata
          driver: local
          project: sutazai
          in_use: true
          used_by: [sutazai-postgres-1]
          created: "2024-05-01T10:00:00Z"
          labels: {com.docker.compose.project: sutazai}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.compose_doctor.facts import runtime_params


def main():
    # the options are compose_facts' runtime option too (one home: facts/runtime_params.py)
    module = AnsibleModule(argument_spec=runtime_params.RUNTIME_OPTIONS, supports_check_mode=True)
    problem = runtime_params.invalid(module.params)
    if problem:
        module.fail_json(msg=problem)
    module.exit_json(changed=False, runtime=runtime_params.gather(module.params))


if __name__ == "__main__":
    main()
