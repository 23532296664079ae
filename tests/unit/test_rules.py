# -*- coding: utf-8 -*-
"""Rule catalog: every rule fires on a minimal case and stays quiet on a near miss."""

import pytest

from ansible.module_utils.compose_doctor.analysis import rightsizing, rules
from ansible.module_utils.compose_doctor.sizes import parse_size

import audit_fixtures as fx
from test_rules_dockerfile import BUILD_CASES  # CIS section 4: the Dockerfile side

MiB = fx.MiB
GiB = fx.GiB


def _web(compose):
    return compose["services"]["web"]


def _ctr(runtime, name="shop-web-1"):
    return [c for c in runtime["containers"] if c["name"] == name][0]


def _add_service(compose, name, **kw):
    compose["services"][name] = fx._svc(name, **kw)
    compose["services_defined"].append(name)
    compose["files"][0]["services"].append(name)


def _add_container(runtime, name, service, **kw):
    runtime["containers"].append(fx._ctr(name, service, **kw))


# --- mutators: (compose, runtime) -> None, in place --------------------------------------

def m_unreachable(c, r):
    r.clear()
    r.update(fx.unreachable_runtime())


def m_no_project(c, r):
    c.update(files=[], active_files=[], services={}, services_defined=[])
    c["errors"] = [{"file": None, "line": None, "column": None, "kind": "no-project",
                    "message": "no compose file in this directory (looked for compose.yaml, ...)"}]


def m_compose_error(c, r):
    c["errors"] = [{"file": "docker-compose.prod.yml", "line": 3, "column": 5, "message": "bad indentation"}]


def m_file_entry_ok(c, r):
    c["files"].append({"path": "docker-compose.prod.yml", "kind": "alternate", "active": False, "services": [],
                       "lines": 3, "error": None})


def _ignore_entry(**fields):
    return {"kind": "inSource", "file": "docker-compose.yml", "line": 12, "key": "services.web.x-compose-doctor.ignore[0]",
            "service": "web", "fields": fields, "unknown": [], "keys": {"rule": 12, "reason": 13}, "error": None}


def m_suppression_without_reason(c, r):
    c["suppressions"] = [_ignore_entry(rule="root-user")]


def m_suppression_with_reason(c, r):
    c["suppressions"] = [_ignore_entry(rule="root-user", reason="the image needs root for port 80")]


def m_restarting(c, r):
    _ctr(r).update(state="restarting", restart_count=5, exit_code=1, health=None)


def m_restarts_below_threshold(c, r):
    _ctr(r).update(restart_count=2)


def m_unhealthy(c, r):
    _ctr(r)["health"] = {"status": "unhealthy", "failing_streak": 3, "log": [{"exit_code": 1, "output": "timeout"}]}


def m_health_starting(c, r):
    _ctr(r)["health"] = {"status": "starting", "failing_streak": 0, "log": []}


def m_start_error(c, r):
    _ctr(r).update(state="created", restart_count=0, exit_code=126,
                   state_error='exec: "/entrypoint.sh": permission denied: unknown')


def m_exited_cleanly(c, r):
    _ctr(r).update(state="exited", restart_count=0, exit_code=0, restart_policy="no", state_error=None)


def m_service_without_container(c, r):
    _add_service(c, "worker")


def m_kong_without_container(c, r):
    _add_service(c, "kong")


def m_many_overrides(c, r):
    for i in range(4):
        c["files"].append({"path": "docker-compose.o%d.yml" % i, "kind": "override", "active": False,
                           "services": [], "lines": 5, "error": None})


def m_three_overrides(c, r):
    for i in range(3):
        c["files"].append({"path": "docker-compose.o%d.yml" % i, "kind": "override", "active": False,
                           "services": [], "lines": 5, "error": None})


def m_env_world_readable(c, r):
    c["env_files"][0].update(mode="0644", world_readable=True, group_readable=True)


def m_secret_file_0600(c, r):
    c["secret_files"].append({"path": "secrets/db.txt", "mode": "0600", "owner": "root", "group": "opt-admins",
                              "group_readable": False, "world_readable": False})


def m_literal_secret(c, r):
    _web(c)["secret_env"] = [{"key": "API_TOKEN", "file": "docker-compose.yml", "line": 14, "literal": True,
                              "default_credential": False, "masked": "********"}]


def m_var_reference_secret(c, r):
    _web(c)["secret_env"] = [{"key": "API_TOKEN", "file": "docker-compose.yml", "line": 14, "literal": False,
                              "default_credential": False, "masked": "********"}]


def m_default_cred(c, r):
    c["env_files"][0]["secrets"][0]["default_credential"] = True


def m_strong_cred(c, r):
    c["env_files"][0]["secrets"][0].update(default_credential=False, literal=True)


def m_privileged(c, r):
    _web(c)["privileged"] = True


def m_cap_add_only(c, r):
    _web(c)["cap_add"] = ["NET_ADMIN"]


def m_socket_mount(c, r):
    _web(c)["mounts"].append({"type": "bind", "source": "/var/run/docker.sock", "target": "/var/run/docker.sock",
                              "read_only": True})


def m_other_socket(c, r):
    _web(c)["mounts"].append({"type": "bind", "source": "/run/app.sock", "target": "/run/app.sock",
                              "read_only": True})


def m_root_container(c, r):
    _ctr(r)["user"] = ""


def m_named_user(c, r):
    _ctr(r)["user"] = "app"


def m_all_interfaces(c, r):
    _web(c)["ports"][0].update(host_ip="", all_interfaces=True)


def m_loopback(c, r):
    _web(c)["ports"][0].update(host_ip="127.0.0.1", all_interfaces=False)


def m_kong_running(c, r):
    _add_service(c, "kong")
    _add_container(r, "shop-kong-1", "kong")


def m_pressure(c, r):
    _ctr(r)["memory"] = {"usage_bytes": 470 * MiB, "limit_bytes": 512 * MiB, "percent": 91.8}


def m_below_pressure(c, r):
    _ctr(r)["memory"] = {"usage_bytes": 404 * MiB, "limit_bytes": 512 * MiB, "percent": 78.9}


def m_no_limit(c, r):
    _web(c)["mem_limit_bytes"] = None
    _ctr(r)["memory"] = {"usage_bytes": 40 * MiB, "limit_bytes": None, "percent": None}


def m_limit_only_at_runtime(c, r):
    _web(c)["mem_limit_bytes"] = None  # set live with docker update


def m_overprovisioned(c, r):
    _ctr(r)["memory"] = {"usage_bytes": 20 * MiB, "limit_bytes": GiB, "percent": 1.95}


def m_small_limit_low_use(c, r):
    _ctr(r)["memory"] = {"usage_bytes": 5 * MiB, "limit_bytes": 256 * MiB, "percent": 1.95}


def m_unused_project_volume(c, r):
    r["volumes"].append({"name": "shop_old_cache", "driver": "local", "project": "shop", "in_use": False,
                         "used_by": [], "created": "x"})


def m_unused_foreign_volume(c, r):
    r["volumes"].append({"name": "other_cache", "driver": "local", "project": "other", "in_use": False,
                         "used_by": [], "created": "x"})


def m_duplicate_volume(c, r):
    r["volumes"].append({"name": "shopapp_web_data", "driver": "local", "project": None, "in_use": False,
                         "used_by": [], "created": "x"})


def m_no_rotation(c, r):
    _ctr(r)["log_config"] = {"type": "json-file", "config": {}}


def m_daemon_rotation(c, r):
    _ctr(r)["log_config"] = {"type": "json-file", "config": {}}
    r["docker"]["log_opts"] = {"max-size": "10m"}


def m_no_healthcheck(c, r):
    _web(c)["healthcheck"] = None
    _ctr(r)["health"] = None


def m_image_healthcheck(c, r):
    _web(c)["healthcheck"] = None  # container still has health: the image defines HEALTHCHECK


def m_prometheus_exited(c, r):
    _add_service(c, "prometheus")
    _add_container(r, "shop-prometheus-1", "prometheus", state="exited", exit_code=2, health=None)


def m_container_updated(c, r):
    """`docker update --memory 2g --pids-limit -1` on the running web container."""
    r["containers"][0].update(mem_limit_bytes=2 * 1024 ** 3, pids_limit=None)


def m_container_as_declared(c, r):
    """Same settings in other spellings: CAP_ prefix, '=' in security_opt, a user the file does not set."""
    c["services"]["web"].update(cap_add=["net_bind_service"], user=None)
    r["containers"][0].update(cap_add=["CAP_NET_BIND_SERVICE"], security_opt=["no-new-privileges=true"], user="999")


def m_prometheus_running(c, r):
    _add_service(c, "prometheus")
    _add_container(r, "shop-prometheus-1", "prometheus")


# --- CIS container-runtime checks (the compose-file side; odd syntaxes in test_rules_cis.py) ----

def _opt(value):
    return lambda c, r: _web(c)["security_opt"].append(value)


def _set(**kw):
    return lambda c, r: _web(c).update(kw)


def _bind(source, read_only=False, propagation=None):
    return lambda c, r: _web(c)["mounts"].append({"type": "bind", "source": source, "target": "/host" + source,
                                                  "read_only": read_only, "propagation": propagation})


def _publish(published, target=80):
    return lambda c, r: _web(c)["ports"].append(fx._port(published, target))


CIS_CASES = [
    ("apparmor-unconfined", _opt("apparmor=unconfined"), _opt("apparmor:docker-default")),
    ("selinux-disabled", _opt("label:disable"), _opt("label:level:s0:c100,c200")),
    ("seccomp-unconfined", _opt("seccomp:unconfined"), _opt("seccomp:/etc/docker/seccomp.json")),
    ("capability-added", _set(cap_add=["sys_admin"]), _set(cap_add=["CHOWN"], cap_drop=["ALL"])),
    ("sensitive-host-mount", _bind("/etc"), _bind("/etc/localtime", read_only=True)),
    ("mount-propagation-shared", _bind("/srv/data", propagation="rshared"), _bind("/srv/data", propagation="rslave")),
    ("privileged-port", _publish(80), _publish(1024)),
    ("host-network", _set(network_mode="host"), _set(network_mode="service:db")),
    ("host-pid", _set(pid="host"), _set(pid="service:db")),
    ("host-ipc", _set(ipc="host"), _set(ipc="shareable")),
    ("host-uts", _set(uts="host"), None),
    ("host-userns", _set(userns_mode="host"), None),
    ("host-devices", _set(devices=[{"source": "/dev/fuse", "target": "/dev/fuse", "permissions": "rwm"}]), None),
    ("restart-retries", _set(restart_policy={"name": "on-failure", "max_retries": 10, "source": "restart"}),
     _set(restart_policy={"name": "on-failure", "max_retries": 5, "source": "restart"})),
    ("rootfs-writable", _set(read_only=False), None),
    ("no-new-privileges-missing", _set(security_opt=["no-new-privileges:false"]), _set(security_opt=["no-new-privileges"])),
    ("pids-no-limit", _set(pids_limit=None), _set(pids_limit=1)),
    ("cpu-no-limit", _set(cpus=None), _set(cpus=None, cpu_shares=512.0)),
]


CASES = [
    ("daemon-unreachable", m_unreachable, None),
    ("compose-not-found", m_no_project, m_compose_error),
    ("compose-invalid", m_compose_error, m_file_entry_ok),
    ("suppression-refused", m_suppression_without_reason, m_suppression_with_reason),
    ("restart-loop", m_restarting, m_restarts_below_threshold),
    ("start-error", m_start_error, m_exited_cleanly),
    ("unhealthy", m_unhealthy, m_health_starting),
    ("not-running", m_service_without_container, m_kong_without_container),
    ("compose-sprawl", m_many_overrides, m_three_overrides),
    ("env-file-permissions", m_env_world_readable, m_secret_file_0600),
    ("hardcoded-secret", m_literal_secret, m_var_reference_secret),
    ("default-credential", m_default_cred, m_strong_cred),
    ("privileged-container", m_privileged, m_cap_add_only),
    ("docker-socket-mount", m_socket_mount, m_other_socket),
    ("root-user", m_root_container, m_named_user),
    ("port-all-interfaces", m_all_interfaces, m_loopback),
    ("mesh-not-running", m_kong_without_container, m_kong_running),
    ("memory-pressure", m_pressure, m_below_pressure),
    ("memory-no-limit", m_no_limit, m_limit_only_at_runtime),
    ("memory-overprovisioned", m_overprovisioned, m_small_limit_low_use),
    ("volume-unused", m_unused_project_volume, m_unused_foreign_volume),
    ("volume-duplicate", m_duplicate_volume, None),
    ("log-rotation-missing", m_no_rotation, m_daemon_rotation),
    ("no-healthcheck", m_no_healthcheck, m_image_healthcheck),
    ("monitoring-down", m_prometheus_exited, m_prometheus_running),
    ("container-drift", m_container_updated, m_container_as_declared),
] + CIS_CASES + BUILD_CASES


def _run(mutator, policy=None):
    c, r = fx.clean_compose(), fx.clean_runtime()
    if mutator:
        mutator(c, r)
    return rules.evaluate(c, r, policy or {})


def test_every_rule_has_a_case():
    assert sorted(rid for rid, _, _ in CASES) == sorted(rules.RULES)


def test_clean_project_has_no_findings():
    assert _run(None) == []


@pytest.mark.parametrize("rule,fire,_", CASES, ids=[c[0] for c in CASES])
def test_rule_fires(rule, fire, _):
    found = [f for f in _run(fire) if f["rule"] == rule]
    assert found, "%s did not fire" % rule
    for f in found:
        assert f["id"].startswith(rule + ":")
        assert f["severity"] in rules.SEVERITIES
        assert f["priority"] == rules.PRIORITY[f["severity"]]
        assert f["title"] == rules.RULES[rule].title
        assert f["evidence"]
        for key in ("service", "container", "file", "line", "diagnosis", "fix", "target"):
            assert key in f
        assert f["cis"] == rules.RULES[rule].cis


@pytest.mark.parametrize("rule,_,quiet", CASES, ids=[c[0] for c in CASES])
def test_rule_quiet_on_near_miss(rule, _, quiet):
    assert [f for f in _run(quiet) if f["rule"] == rule] == []


def test_findings_sorted_and_ids_unique_and_stable():
    c, r = fx.copies()
    first = rules.evaluate(c, r, {})
    second = rules.evaluate(*fx.copies())
    assert [f["id"] for f in first] == [f["id"] for f in second]
    assert len(set(f["id"] for f in first)) == len(first)
    ranks = [rules.SEVERITY_RANK[f["severity"]] for f in first]
    assert ranks == sorted(ranks)


# --- severity overrides, disabled rules ---------------------------------------------------

def test_severity_override():
    found = _run(m_no_healthcheck, {"rule_severity": {"no-healthcheck": "critical"}})
    f = [x for x in found if x["rule"] == "no-healthcheck"][0]
    assert (f["severity"], f["priority"]) == ("critical", "P0")


def test_severity_override_applies_to_escalated_findings():
    c, r = fx.copies()
    found = rules.evaluate(c, r, {"rule_severity": {"port-all-interfaces": "medium"}})
    assert {f["severity"] for f in found if f["rule"] == "port-all-interfaces"} == {"medium"}


def test_database_port_escalated():
    f = [x for x in _run(m_all_interfaces) if x["rule"] == "port-all-interfaces"][0]
    assert f["severity"] == "low" and not f["diagnosis"]["database"]
    c, r = fx.copies()
    f = [x for x in rules.evaluate(c, r, {}) if x["rule"] == "port-all-interfaces"][0]
    assert f["severity"] == "high" and f["diagnosis"]["database"] and f["id"] == "port-all-interfaces:postgres:10000/tcp"


@pytest.mark.parametrize("bad", [{"rule_severity": {"restart-loop": "urgent"}},
                                 {"disabled_rules": ["no-such-rule"]},
                                 {"restart_threshold": "three"}])
def test_invalid_policy_rejected(bad):
    with pytest.raises(ValueError):
        rules.effective_policy(bad)


def test_disabled_rule():
    c, r = fx.copies()
    found = rules.evaluate(c, r, {"disabled_rules": ["restart-loop", "no-healthcheck"]})
    assert not [f for f in found if f["rule"] in ("restart-loop", "no-healthcheck")]
    assert rules.rule_status(r, {"disabled_rules": ["restart-loop"]})["restart-loop"] == "disabled"


def test_disabling_mesh_rule_hands_mesh_services_to_not_running():
    found = _run(m_kong_without_container, {"disabled_rules": ["mesh-not-running"]})
    assert [f["id"] for f in found if f["rule"] == "not-running"] == ["not-running:kong"]


@pytest.mark.parametrize("active, reported", [
    (None, False),            # COMPOSE_PROFILES unset: a profiled service is parked on purpose
    (["debug"], False),       # another profile is active
    (["parked"], True),       # its profile is active: `docker compose up` would start it
    (["*"], True),
])
def test_not_running_skips_services_under_an_inactive_profile(active, reported):
    c, r = fx.clean_compose(), fx.clean_runtime()
    _add_service(c, "worker")
    c["services"]["worker"]["profiles"] = ["parked"]
    if active is not None:
        c["active_profiles"] = active
    found = [f["id"] for f in rules.evaluate(c, r, {}) if f["rule"] == "not-running"]
    assert found == (["not-running:worker"] if reported else [])


def test_partial_policy_string_numbers_and_merged_maps():
    pol = rules.effective_policy({"restart_threshold": "5", "python_module_map": {"foo": "foo-dist"}})
    assert pol["restart_threshold"] == 5
    assert pol["python_module_map"]["foo"] == "foo-dist"
    assert pol["python_module_map"]["yaml"] == "PyYAML"
    assert pol["memory_pressure_pct"] == 80


def test_threshold_from_policy():
    # 5 restarts: fires at the default threshold 3, not with threshold 10
    def mut(c, r):
        _ctr(r)["restart_count"] = 5
    assert [f for f in _run(mut) if f["rule"] == "restart-loop"]
    assert not [f for f in _run(mut, {"restart_threshold": 10}) if f["rule"] == "restart-loop"]


# --- daemon unreachable -------------------------------------------------------------------

def test_daemon_unreachable_runs_only_file_rules():
    c = fx.lab_compose()
    found = rules.evaluate(c, fx.unreachable_runtime(), {})
    fired = {f["rule"] for f in found}
    assert "daemon-unreachable" in fired
    assert {"env-file-permissions", "compose-invalid", "hardcoded-secret", "default-credential",
            "privileged-container", "docker-socket-mount", "port-all-interfaces", "memory-no-limit"} <= fired
    runtime_rules = {rid for rid, r in rules.RULES.items() if r.runtime}
    assert not fired & runtime_rules
    d = [f for f in found if f["rule"] == "daemon-unreachable"][0]
    assert "connection refused" in d["evidence"] and d["severity"] == "critical"
    status = rules.rule_status(fx.unreachable_runtime(), {})
    assert status["restart-loop"] == "skipped-no-runtime" and status["env-file-permissions"] == "evaluated"


def test_missing_runtime_is_unreachable():
    found = rules.evaluate(fx.lab_compose(), None, {})
    assert "daemon-unreachable:docker" in [f["id"] for f in found]


def test_compose_invalid_names_file_and_line():
    c, r = fx.copies()
    f = [x for x in rules.evaluate(c, r, {}) if x["rule"] == "compose-invalid"][0]
    assert (f["file"], f["line"]) == ("docker-compose.broken.yml", 7)
    assert "line 7" in f["evidence"] and "mapping values" in f["evidence"]


# --- diagnoses ----------------------------------------------------------------------------

def _lab_finding(fid, policy=None, mutate=None):
    c, r = fx.copies()
    if mutate:
        mutate(c, r)
    return {f["id"]: f for f in rules.evaluate(c, r, policy or {})}[fid]


def test_missing_module_not_listed():
    f = _lab_finding("restart-loop:jarvis")
    d = f["diagnosis"]
    assert d["cause"] == "missing-python-module"
    assert (d["module"], d["distribution"]) == ("psutil", "psutil")
    assert d["requirements_file"] == "agents/jarvis/requirements.txt"
    assert d["listed"] is False
    assert f["fix"] == {"role": "python_deps", "tag": "pydeps"}
    assert (f["file"], f["line"], f["container"]) == ("docker-compose.yml", 50, "shop-jarvis-1")


def test_missing_module_already_listed_means_stale_image():
    d = _lab_finding("restart-loop:jarvis-stale")["diagnosis"]
    assert d["listed"] is True and "rebuild" in d["action"]
    assert d["requirements_file"] == "agents/jarvis-stale/requirements.txt"


@pytest.mark.parametrize("line,module,dist", [
    ("ModuleNotFoundError: No module named 'yaml'", "yaml", "PyYAML"),
    ("ModuleNotFoundError: No module named 'yaml.cyaml'", "yaml", "PyYAML"),
    ("ImportError: No module named cv2", "cv2", "opencv-python-headless"),
    ("ModuleNotFoundError: No module named 'somethingelse'", "somethingelse", "somethingelse"),
])
def test_module_to_distribution(line, module, dist):
    def mut(c, r):
        [x for x in r["containers"] if x["name"] == "shop-jarvis-1"][0]["log_tail"] = ["boom", line]
    d = _lab_finding("restart-loop:jarvis", mutate=mut)["diagnosis"]
    assert (d["module"], d["distribution"]) == (module, dist)


def test_listed_match_is_normalized():
    def mut(c, r):
        c["services"]["jarvis"]["build"]["requirements"][0]["packages"] = ["pyyaml"]
        [x for x in r["containers"] if x["name"] == "shop-jarvis-1"][0]["log_tail"] = [
            "ModuleNotFoundError: No module named 'yaml'"]
    assert _lab_finding("restart-loop:jarvis", mutate=mut)["diagnosis"]["listed"] is True


def test_policy_module_map_extends_mapping():
    def mut(c, r):
        [x for x in r["containers"] if x["name"] == "shop-jarvis-1"][0]["log_tail"] = [
            "ModuleNotFoundError: No module named 'magic'"]
    d = _lab_finding("restart-loop:jarvis", {"python_module_map": {"magic": "python-magic"}}, mut)["diagnosis"]
    assert d["distribution"] == "python-magic"


def test_restart_loop_without_known_cause_has_no_fix():
    def mut(c, r):
        [x for x in r["containers"] if x["name"] == "shop-jarvis-1"][0]["log_tail"] = ["segfault"]
    f = _lab_finding("restart-loop:jarvis", mutate=mut)
    assert f["diagnosis"] is None and f["fix"] is None


def test_restart_loop_without_build_has_no_requirements_file():
    def mut(c, r):
        c["services"]["jarvis"]["build"] = None
    d = _lab_finding("restart-loop:jarvis", mutate=mut)["diagnosis"]
    assert d["requirements_file"] is None and d["listed"] is False


def test_socket_diagnosis():
    f = _lab_finding("unhealthy:hw-optimizer")
    d = f["diagnosis"]
    assert d["cause"] == "docker-socket-permission"
    assert d["user"] == "1000" and d["socket_gid"] == 998 and d["group_add"] == []
    assert f["fix"] == {"role": "socket_access", "tag": "socket"}


def test_socket_diagnosis_without_socket_path_in_message_uses_mount():
    def mut(c, r):
        ctr = [x for x in r["containers"] if x["name"] == "shop-hw-optimizer-1"][0]
        ctr["health"]["log"] = [{"exit_code": 1, "output": "Docker client unavailable: Permission denied"}]
    assert _lab_finding("unhealthy:hw-optimizer", mutate=mut)["diagnosis"]["cause"] == "docker-socket-permission"


def test_unhealthy_other_cause_has_no_fix():
    f = [x for x in _run(m_unhealthy) if x["rule"] == "unhealthy"][0]
    assert f["diagnosis"] is None and f["fix"] is None


# --- secrets ------------------------------------------------------------------------------

def test_evidence_never_contains_secret_values():
    c, r = fx.copies()
    found = rules.evaluate(c, r, {})
    text = repr(found)
    assert fx.PLANTED not in text
    loop = [f for f in found if f["id"] == "restart-loop:jarvis"][0]
    assert "DB_PASSWORD=********" in loop["evidence"]
    env = [f for f in found if f["rule"] == "env-file-permissions"][0]
    assert "POSTGRES_PASSWORD=********" in env["evidence"]


def test_volume_duplicate_not_double_reported_as_unused():
    c, r = fx.copies()
    ids = [f["id"] for f in rules.evaluate(c, r, {})]
    assert "volume-duplicate:shopapp_postgres_data" in ids
    assert "volume-unused:shopapp_postgres_data" not in ids
    assert "volume-unused:shop_agent_workspaces" in ids  # declared, mounted by nobody
    assert not [i for i in ids if "unrelated_cache" in i]


def test_catalog_lists_every_rule_with_effective_values():
    cat = rules.catalog(fx.lab_runtime(), {"rule_severity": {"root-user": "low"}, "disabled_rules": ["no-healthcheck"]})
    by = {r["id"]: r for r in cat}
    assert set(by) == set(rules.RULES)
    assert by["root-user"]["severity"] == "low" and by["root-user"]["priority"] == "P3"
    assert by["no-healthcheck"]["status"] == "disabled"
    assert by["mesh-not-running"]["fix"] == {"role": "service_mesh", "tag": "mesh"}


def test_fix_map_from_policy_overrides_registry():
    f = [x for x in _run(m_no_limit, {"fix_map": {"memory-no-limit": {"role": "my_limits", "tag": "mylimits"}}})
         if x["rule"] == "memory-no-limit"][0]
    assert f["fix"] == {"role": "my_limits", "tag": "mylimits"}


def test_parse_size_and_recommendation():
    assert parse_size("512MiB") == 512 * MiB
    pol = rightsizing.audit_policy(rules.effective_policy({}))
    # the fix's formula: max(peak x 1.15, peak / 0.70, 64MiB) rounded up to 16MiB
    assert rightsizing.target_limit(100 * MiB, pol) == 144 * MiB
    assert rightsizing.target_limit(1 * MiB, pol) == 64 * MiB


def test_hardcoded_secret_in_env_file_fires_masked():
    compose, runtime = fx.clean_compose(), fx.clean_runtime()
    m_strong_cred(compose, runtime)
    compose["env_files"][0].update(mode="0644", world_readable=True)
    hits = [f for f in rules.evaluate(compose, runtime, {}) if f["rule"] == "hardcoded-secret"]
    assert hits and hits[0]["file"] == compose["env_files"][0]["path"]
    assert "********" in hits[0]["evidence"]
    # an env file is called an env file, not a compose file
    assert hits[0]["title"] == "Hardcoded secret in an env file readable by others"


def test_fix_not_shipped_is_shown_as_planned():
    from ansible.module_utils.compose_doctor.output import render
    from ansible.module_utils.compose_doctor.output.report import build_report

    compose, runtime = fx.copies()
    policy = {"available_fixes": ["pydeps"]}
    found = rules.evaluate(compose, runtime, policy)
    mesh = [f for f in found if f["rule"] == "mesh-not-running"][0]
    assert mesh["fix"] == {"role": "service_mesh", "tag": "mesh"}  # the finding names its fix either way
    assert render.fix_command(mesh["fix"], ["pydeps"]).startswith("planned:")
    assert render.fix_command(mesh["fix"]).endswith("--tags mesh")
    md = render.to_markdown(build_report("h", compose, runtime, found, policy))
    assert "planned: role service_mesh" in md and "--tags pydeps" in md


# --- compose-not-found, per-service value problems -----------------------------------------

def test_no_project_is_not_found_not_invalid():
    found = _run(m_no_project)
    nf = [f for f in found if f["rule"] == "compose-not-found"]
    assert [f["id"] for f in nf] == ["compose-not-found:compose"]
    assert nf[0]["severity"] == "critical" and "no compose file" in nf[0]["evidence"]
    assert not [f for f in found if f["rule"] == "compose-invalid"]


def test_service_value_problem_is_compose_invalid_with_shape_only():
    def mut(c, r):
        _web(c)["problems"] = [{"key": "ports", "shape": "str 'aaaa'", "message": "not a port mapping Compose can "
                                "publish", "file": "docker-compose.yml", "line": 14}]
    f = [x for x in _run(mut) if x["rule"] == "compose-invalid"]
    assert [x["id"] for x in f] == ["compose-invalid:web.ports"]
    assert (f[0]["service"], f[0]["file"], f[0]["line"]) == ("web", "docker-compose.yml", 14)
    assert "str 'aaaa'" in f[0]["evidence"] and "not a port mapping" in f[0]["evidence"]


# --- port-all-interfaces on the normalized entries ------------------------------------------

def _with_ports(specs):
    from ansible.module_utils.compose_doctor.facts.compose_values import normalize_ports

    def mut(c, r):
        problems = []
        _web(c)["ports"] = normalize_ports(specs, problems)
        assert problems == []
    return [f for f in _run(mut) if f["rule"] == "port-all-interfaces"]


@pytest.mark.parametrize("spec, fid", [
    ("8080:80", "port-all-interfaces:web:8080/tcp"),
    ("0.0.0.0:8080:80", "port-all-interfaces:web:8080/tcp"),
    ("::0:8080:80", "port-all-interfaces:web:8080/tcp"),
    ("[::]:8080:80", "port-all-interfaces:web:8080/tcp"),
    ("0:0:0:0:0:0:0:0:8080:80/udp", "port-all-interfaces:web:8080/udp"),
    ("80", "port-all-interfaces:web:ephemeral->80/tcp"),
    ({"target": 80}, "port-all-interfaces:web:ephemeral->80/tcp"),
    ("8000-8002", "port-all-interfaces:web:ephemeral->8000-8002/tcp"),
    ("8000-8002:8000-8002", "port-all-interfaces:web:8000-8002/tcp"),
])
def test_port_all_interfaces_targets(spec, fid):
    assert [f["id"] for f in _with_ports([spec])] == [fid]


@pytest.mark.parametrize("spec", ["127.0.0.1:8080:80", "127.0.0.1::5000", "[::1]:53:53/udp",
                                  {"target": 80, "published": "127.0.0.1:8080"}])
def test_port_on_one_interface_is_quiet(spec):
    assert _with_ports([spec]) == []


def test_port_range_is_one_finding_and_database_port_in_range_escalates():
    found = _with_ports(["5430-5440:5430-5440"])
    assert len(found) == 1
    f = found[0]
    assert f["severity"] == "high" and f["diagnosis"]["database"] is True
    assert (f["diagnosis"]["port"], f["diagnosis"]["port_end"]) == (5430, 5440)


def test_ephemeral_port_evidence_names_container_port():
    f = _with_ports(["5432"])[0]
    assert "random host port" in f["evidence"] and f["diagnosis"]["port"] is None
    assert f["severity"] == "high"


# --- docker socket / root user ----------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    ("//var/run/docker.sock", True), ("/var/run/./docker.sock", True), ("/run/docker.sock", True),
    ("/run/user/1000/docker.sock", True), ("/run/podman/podman.sock", True), ("/srv/x/docker.sock", True),
    ("/var/run", True), ("/run", True), ("/", True), ("/run/user/1000", True),
    ("/srv/data", False), ("/var/run/example", False), ("/runx", False), ("/run/app.sock", False), ("", False),
    (None, False),
])
def test_exposes_docker_socket(source, expected):
    pol = rules.effective_policy({})
    assert rules.exposes_docker_socket(source, pol["docker_socket_paths"], pol["docker_socket_names"]) is expected


@pytest.mark.parametrize("source, fires", [("/var/run", True), ("/", True), ("/srv/data", False)])
def test_docker_socket_rule_on_directory_binds(source, fires):
    def mut(c, r):
        _web(c)["mounts"].append({"type": "bind", "source": source, "target": "/host", "read_only": True})
    assert bool([f for f in _run(mut) if f["rule"] == "docker-socket-mount"]) is fires


@pytest.mark.parametrize("user, fires", [("root", True), ("0", True), ("0:1000", True), ("root:docker", True),
                                         ("1000:0", False), ("1000", False), ("app", False)])
def test_root_user_from_compose_user(user, fires):
    def mut(c, r):
        _add_service(c, "worker", user=user)   # no container: the compose user decides
    found = [f["id"] for f in _run(mut) if f["rule"] == "root-user"]
    assert found == (["root-user:worker"] if fires else [])


def test_an_effective_policy_is_passed_on_not_merged_again():
    """evaluate, catalog, score and the report each take a policy: one already effective is used as
    it is (merging it again deep-copied the defaults and the catalogue per call)."""
    pol = rules.effective_policy({"restart_threshold": "5"})
    assert isinstance(pol, dict) and rules.effective_policy(pol) is pol
    assert pol["restart_threshold"] == 5
    again = rules.effective_policy(dict(pol))   # a plain dict is merged and checked as before
    assert again is not pol and again == pol
    with pytest.raises(ValueError):
        rules.effective_policy(dict(pol, restart_threshold="often"))
