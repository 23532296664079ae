# -*- coding: utf-8 -*-
"""Hand-built compose/runtime facts (contract shapes) for the rules/report/render tests.

``clean_*``: one well-configured service that produces no finding at all.
``lab_*``: a small SutazAI-like project that reproduces the seed report's problems.
``PLANTED`` is a secret value placed raw in the facts; it must never reach any output.
"""
import copy

MiB = 1024 ** 2
GiB = 1024 ** 3
PLANTED = "PLANTED-s3cr3t-VALUE-9f8e7d"
GENERATED_AT = "2025-08-09T16:45:00Z"


def _svc(name, **kw):
    base = {
        "file": "docker-compose.yml", "line": 10, "image": "compose-doctor/%s:1.4.2" % name, "build": None,
        "user": "1000", "privileged": False, "cap_add": [], "group_add": [],
        "ports": [], "mem_limit_bytes": 512 * MiB, "mem_reservation_bytes": None, "limit_source": "deploy",
        "mounts": [], "environment": {}, "secret_env": [],
        "healthcheck": {"test": ["CMD", "true"], "disabled": False}, "profiles": [], "restart": "unless-stopped",
        "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
        "env_file": [], "depends_on": [], "expose": [], "labels": [], "network_mode": None, "problems": [],
        # hardened as the CIS container checks want it, so a clean service has no finding
        "cap_drop": [], "security_opt": ["no-new-privileges:true"], "pid": None, "ipc": None, "uts": None,
        "userns_mode": None, "devices": [], "read_only": True, "pids_limit": 200, "cpus": 1.0, "cpu_quota": None,
        "cpu_shares": None, "cpuset": None,
        "restart_policy": {"name": "unless-stopped", "max_retries": 0, "source": "restart"},
    }
    base.update(kw)
    return base


def _port(published, target, host_ip="127.0.0.1", protocol="tcp"):
    """A compose port entry (compose_values.normalize_ports shape): one port, no range."""
    return {"host_ip": host_ip, "published": published, "published_end": published, "target": target,
            "target_end": target, "protocol": protocol,
            "all_interfaces": host_ip in ("", "0.0.0.0", "::"), "ephemeral": published is None}


def _ctr(name, service, **kw):
    base = {
        "id": ("%012x" % abs(hash(name)))[:12], "name": name, "project": "shop", "service": service,
        "image": "compose-doctor/%s:1.4.2" % service, "image_id": "sha256:abc", "image_created": "2025-08-01T00:00:00Z",
        "state": "running", "status": "Up 8 hours (healthy)", "started_at": "2025-08-09T08:00:00Z",
        "health": {"status": "healthy", "failing_streak": 0, "log": [{"exit_code": 0, "output": "ok", "start": "x"}]},
        "restart_count": 0, "exit_code": 0, "oom_killed": False, "user": "1000", "privileged": False,
        "cap_add": [], "group_add": [], "restart_policy": "unless-stopped", "mounts": [], "ports": [],
        # as its service in the file (_svc) declares it, so a clean container does not drift
        "cap_drop": [], "security_opt": ["no-new-privileges:true"], "pid": "", "ipc": "private", "uts": "",
        "userns_mode": "", "network_mode": "shop_default", "read_only": True, "pids_limit": 200,
        "mem_limit_bytes": 512 * MiB,
        "memory": {"usage_bytes": 200 * MiB, "limit_bytes": 512 * MiB, "percent": 39.06},
        "log_config": {"type": "json-file", "config": {"max-size": "10m", "max-file": "3"}}, "log_tail": [],
    }
    base.update(kw)
    return base


def _docker(**kw):
    d = {"reachable": True, "error": None, "version": "20.10.24", "api_version": "1.41",
         "logging_driver": "json-file", "log_opts": {},
         "socket": {"path": "/var/run/docker.sock", "exists": True, "owner": "root", "group": "docker",
                    "gid": 998, "mode": "0660"}}
    d.update(kw)
    return d


def clean_compose():
    return {
        "project": {"name": "shop", "dir": "/opt/shop"},
        "model_source": "cli",
        "files": [{"path": "docker-compose.yml", "kind": "main", "active": True, "services": ["web"],
                   "lines": 40, "error": None}],
        "active_files": ["docker-compose.yml"],
        "services_defined": ["web"],
        "services": {"web": _svc("web", ports=[_port(8080, 80)],
                                 mounts=[{"type": "volume", "source": "web_data", "target": "/data",
                                          "read_only": False}])},
        "volumes": {"web_data": {"external": False, "name": None}},
        "dockerfiles": ["web/Dockerfile"],
        "env_files": [{"path": ".env", "mode": "0600", "owner": "root", "group": "root", "group_readable": False,
                       "world_readable": False, "secrets": [{"key": "WEB_TOKEN", "line": 1, "masked": "********",
                                                             "literal": True, "default_credential": False}]}],
        "secret_files": [],
        "errors": [],
    }


def clean_runtime():
    return {
        "docker": _docker(),
        "containers": [_ctr("shop-web-1", "web", ports=[{"host_ip": "127.0.0.1", "host_port": 8080,
                                                          "container_port": 80, "protocol": "tcp"}],
                            mounts=[{"type": "volume", "source": "shop_web_data", "destination": "/data",
                                     "rw": True}])],
        "volumes": [{"name": "shop_web_data", "driver": "local", "project": "shop", "in_use": True,
                     "used_by": ["shop-web-1"], "created": "2025-08-01T00:00:00Z"}],
    }


def lab_compose():
    reqs_missing = {"context": "agents/jarvis", "dockerfile": "agents/jarvis/Dockerfile",
                    "requirements": [{"path": "agents/jarvis/requirements.txt", "packages": ["fastapi", "uvicorn"]}]}
    reqs_listed = {"context": "agents/jarvis-stale", "dockerfile": "agents/jarvis-stale/Dockerfile",
                   "requirements": [{"path": "agents/jarvis-stale/requirements.txt",
                                     "packages": ["fastapi", "psutil"]}]}
    services = {
        "postgres": _svc("postgres", line=5, user=None, ports=[_port(10000, 5432, host_ip="")],
                         mounts=[{"type": "volume", "source": "postgres_data", "target": "/var/lib/postgresql",
                                  "read_only": False}],
                         environment={"POSTGRES_PASSWORD": "********"},
                         secret_env=[{"key": "POSTGRES_PASSWORD", "file": "docker-compose.yml", "line": 9,
                                      "literal": False, "default_credential": False, "masked": "********"}]),
        "redis": _svc("redis", line=20, mem_limit_bytes=None, limit_source=None,
                      ports=[_port(10001, 6379)],
                      mounts=[{"type": "volume", "source": "redis_data", "target": "/data", "read_only": False}]),
        "backend": _svc("backend", line=30, logging=None, healthcheck=None, mem_limit_bytes=GiB,
                        ports=[_port(10010, 8000)],
                        # the planted value sits raw here, as if an upstream fact had failed to mask it
                        environment={"SECRET_KEY": PLANTED, "LOG_LEVEL": "info"},
                        secret_env=[{"key": "SECRET_KEY", "file": "docker-compose.yml", "line": 36, "literal": True,
                                     "default_credential": False, "masked": "********"}]),
        "jarvis": _svc("jarvis", line=50, build=reqs_missing, image=None),
        "jarvis-stale": _svc("jarvis-stale", line=60, build=reqs_listed, image=None),
        "hw-optimizer": _svc("hw-optimizer", line=70, user="1000",
                             mounts=[{"type": "bind", "source": "/var/run/docker.sock",
                                      "target": "/var/run/docker.sock", "read_only": False}]),
        "kong": _svc("kong", file="docker-compose.mesh.yml", line=3,
                     ports=[_port(10005, 8000)]),
        "consul": _svc("consul", file="docker-compose.mesh.yml", line=15,
                       ports=[_port(10006, 8500)]),
        "grafana": _svc("grafana", file="docker-compose.monitoring.yml", line=3,
                        ports=[_port(10201, 3000)],
                        secret_env=[{"key": "GF_SECURITY_ADMIN_PASSWORD", "file": "docker-compose.monitoring.yml",
                                     "line": 8, "literal": True, "default_credential": True, "masked": "********"}]),
        "prometheus": _svc("prometheus", file="docker-compose.monitoring.yml", line=20,
                           ports=[_port(10200, 9090)]),
        "alertmanager": _svc("alertmanager", file="docker-compose.monitoring.yml", line=35),
        "rabbitmq": _svc("rabbitmq", line=80, mem_limit_bytes=8 * GiB),
        "neo4j": _svc("neo4j", line=90, mem_limit_bytes=GiB),
        "gpu-agent": _svc("gpu-agent", line=100, privileged=True, user="root"),
        "faiss": _svc("faiss", line=110),
    }
    files = [
        {"path": "docker-compose.yml", "kind": "main", "active": True, "lines": 420,
         "services": ["postgres", "redis", "backend", "jarvis", "jarvis-stale", "hw-optimizer", "rabbitmq",
                      "neo4j", "gpu-agent", "faiss"], "error": None},
        {"path": "docker-compose.mesh.yml", "kind": "override", "active": True, "lines": 30,
         "services": ["kong", "consul"], "error": None},
        {"path": "docker-compose.monitoring.yml", "kind": "override", "active": True, "lines": 50,
         "services": ["grafana", "prometheus", "alertmanager"], "error": None},
        {"path": "docker-compose.agents.yml", "kind": "override", "active": False, "lines": 80,
         "services": ["agent-a", "agent-b"], "error": None},
        {"path": "docker-compose.gpu.yml", "kind": "override", "active": False, "lines": 10,
         "services": ["gpu-agent"], "error": None},
        {"path": "docker-compose.dev.yml", "kind": "override", "active": False, "lines": 12,
         "services": ["backend"], "error": None},
        {"path": "docker-compose.broken.yml", "kind": "alternate", "active": False, "lines": 9, "services": [],
         "error": {"message": "mapping values are not allowed here", "line": 7, "column": 12}},
    ]
    return {
        "project": {"name": "shop", "dir": "/opt/shop"},
        "model_source": "cli",
        "files": files,
        "active_files": ["docker-compose.yml", "docker-compose.mesh.yml", "docker-compose.monitoring.yml"],
        "services_defined": sorted(set(services) | {"agent-a", "agent-b"}),
        "services": services,
        "volumes": {"postgres_data": {"external": False, "name": None},
                    "redis_data": {"external": False, "name": None},
                    "agent_workspaces": {"external": False, "name": None}},
        "dockerfiles": ["agents/jarvis/Dockerfile", "agents/jarvis-stale/Dockerfile", "backend/Dockerfile",
                        "hw/Dockerfile"],
        "env_files": [{"path": ".env", "mode": "0644", "owner": "root", "group": "root", "group_readable": True,
                       "world_readable": True,
                       "secrets": [{"key": "POSTGRES_PASSWORD", "line": 2, "masked": "********", "literal": True,
                                    "default_credential": False},
                                   {"key": "GRAFANA_ADMIN_PASSWORD", "line": 3, "masked": "********",
                                    "literal": True, "default_credential": True}]}],
        "secret_files": [{"path": "secrets/db_password.txt", "mode": "0600", "owner": "root", "group": "opt-admins",
                          "group_readable": False, "world_readable": False}],
        "errors": [{"file": "docker-compose.broken.yml", "line": 7, "column": 12,
                    "message": "mapping values are not allowed here"}],
    }


def lab_runtime():
    crash = ["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
             "    import psutil", "DB_PASSWORD=%s" % PLANTED,
             "ModuleNotFoundError: No module named 'psutil'"]
    sock_err = ("Docker client unavailable: permission denied while trying to connect to the Docker daemon "
                "socket at unix:///var/run/docker.sock")
    containers = [
        _ctr("shop-postgres-1", "postgres", user="", ports=[{"host_ip": "0.0.0.0", "host_port": 10000,
                                                              "container_port": 5432, "protocol": "tcp"}],
             memory={"usage_bytes": 23 * MiB, "limit_bytes": 512 * MiB, "percent": 4.5},
             mounts=[{"type": "volume", "source": "shop_postgres_data", "destination": "/var/lib/postgresql",
                      "rw": True}]),
        _ctr("shop-redis-1", "redis", ports=[{"host_ip": "127.0.0.1", "host_port": 10001, "container_port": 6379,
                                              "protocol": "tcp"}],
             memory={"usage_bytes": 3 * MiB, "limit_bytes": None, "percent": None}),
        _ctr("shop-backend-1", "backend", user="", health=None, status="Up 5 minutes",
             ports=[{"host_ip": "127.0.0.1", "host_port": 10010, "container_port": 8000, "protocol": "tcp"}],
             log_config={"type": "json-file", "config": {}},
             memory={"usage_bytes": 91 * MiB, "limit_bytes": GiB, "percent": 8.9}),
        _ctr("shop-jarvis-1", "jarvis", state="restarting", status="Restarting (1) 3 seconds ago", health=None,
             restart_count=14, exit_code=1, log_tail=crash, memory=None),
        _ctr("shop-jarvis-stale-1", "jarvis-stale", state="restarting", health=None, restart_count=9, exit_code=1,
             log_tail=crash[-1:], memory=None),
        _ctr("shop-hw-optimizer-1", "hw-optimizer", status="Up 10 hours (unhealthy)",
             health={"status": "unhealthy", "failing_streak": 12,
                     "log": [{"exit_code": 1, "output": sock_err, "start": "x"}]},
             mounts=[{"type": "bind", "source": "/var/run/docker.sock", "destination": "/var/run/docker.sock",
                      "rw": True}]),
        _ctr("shop-grafana-1", "grafana", ports=[{"host_ip": "127.0.0.1", "host_port": 10201,
                                                  "container_port": 3000, "protocol": "tcp"}],
             memory={"usage_bytes": 138 * MiB, "limit_bytes": 512 * MiB, "percent": 27.0}),
        _ctr("shop-prometheus-1", "prometheus", ports=[{"host_ip": "127.0.0.1", "host_port": 10200,
                                                        "container_port": 9090, "protocol": "tcp"}],
             memory={"usage_bytes": 48 * MiB, "limit_bytes": 512 * MiB, "percent": 9.4}),
        _ctr("shop-rabbitmq-1", "rabbitmq", memory={"usage_bytes": 130 * MiB, "limit_bytes": 8 * GiB,
                                                    "percent": 1.59}),
        _ctr("shop-neo4j-1", "neo4j", memory={"usage_bytes": 900 * MiB, "limit_bytes": GiB, "percent": 87.9}),
    ]
    return {
        "docker": _docker(),
        "containers": containers,
        "volumes": [
            {"name": "shop_postgres_data", "driver": "local", "project": "shop", "in_use": True,
             "used_by": ["shop-postgres-1"], "created": "x"},
            {"name": "shop_redis_data", "driver": "local", "project": "shop", "in_use": True,
             "used_by": ["shop-redis-1"], "created": "x"},
            {"name": "shopapp_postgres_data", "driver": "local", "project": None, "in_use": False, "used_by": [],
             "created": "x"},
            {"name": "shop_models_data", "driver": "local", "project": "shop", "in_use": False, "used_by": [],
             "created": "x"},
            {"name": "unrelated_cache", "driver": "local", "project": "other", "in_use": False, "used_by": [],
             "created": "x"},
        ],
    }


def unreachable_runtime():
    return {"docker": {"reachable": False, "error": "Error while fetching server API version: connection refused",
                       "version": None, "api_version": None, "logging_driver": None, "log_opts": {},
                       "socket": {"path": "/var/run/docker.sock", "exists": False}},
            "containers": [], "volumes": []}


def copies():
    return copy.deepcopy(lab_compose()), copy.deepcopy(lab_runtime())


# A compose file with an x- anchor merged into an environment (line numbers matter to the tests).
COMPOSE_WITH_ANCHORS = """\
x-env: &env
  LOG_LEVEL: info
  API_TOKEN: abc
services:
  api:
    image: api
    environment:
      <<: *env
      DB_PASSWORD: ${DB_PASSWORD}
  worker:
    image: w
    environment:
      - REDIS_PASS=literal
"""
