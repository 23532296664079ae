"""Drift: a container's running settings against its service's file (analysis/drift.py, rule container-drift)."""
from ansible.module_utils.compose_doctor.analysis import drift, rules

import audit_fixtures as fx


def _diffs(service=None, container=None, nnp=False):
    svc, ctr = fx._svc("web"), fx._ctr("shop-web-1", "web")
    svc.update(service or {})
    ctr.update(container or {})
    return drift.differences(drift.file_settings(svc, nnp), drift.container_settings(ctr, nnp))


def test_same_settings_do_not_drift():
    assert _diffs() == []


def test_spellings_do_not_drift():
    """The engine and Compose spell the same settings differently."""
    assert _diffs({"cap_add": ["sys_ptrace"], "cap_drop": ["all"], "security_opt": ["seccomp:unconfined", "no-new-privileges:true"]},
                  {"cap_add": ["CAP_SYS_PTRACE"], "cap_drop": ["ALL"],
                   "security_opt": ["seccomp=unconfined", "no-new-privileges"]}) == []
    # the file leaves user to the image: the container shows the image's USER, not drift
    assert _diffs({"user": None}, {"user": "postgres"}) == []
    # -1 and 0 both mean unlimited
    assert _diffs({"pids_limit": None}, {"pids_limit": None}) == []


def test_docker_update_that_loosens_a_limit_escalates():
    diffs = _diffs(container={"mem_limit_bytes": 4 * fx.GiB, "pids_limit": None})
    assert [(d["setting"], d["escalates"]) for d in diffs] == [("mem_limit_bytes", True), ("pids_limit", True)]


def test_tighter_container_is_drift_without_escalation():
    diffs = _diffs({"read_only": False, "pids_limit": None}, {"read_only": True, "pids_limit": 100})
    assert [(d["setting"], d["escalates"]) for d in diffs] == [("pids_limit", False), ("read_only", False)]


def test_privilege_a_container_gained_escalates():
    diffs = _diffs(container={"privileged": True, "cap_add": ["SYS_ADMIN"], "pid": "host",
                              "security_opt": ["apparmor=unconfined"], "user": "0"})
    got = dict((d["setting"], d["escalates"]) for d in diffs)
    assert got == {"privileged": True, "cap_add": True, "pid_host": True, "unconfined": True,
                   "no_new_privileges": True, "user": False}


def test_daemon_wide_no_new_privileges_counts_on_both_sides():
    assert _diffs({"security_opt": []}, {"security_opt": []}, nnp=True) == []
    assert [d["setting"] for d in _diffs({"security_opt": []}, {"security_opt": ["no-new-privileges:true"]})] == \
        ["no_new_privileges"]


def _evaluate(mutate):
    c, r = fx.clean_compose(), fx.clean_runtime()
    mutate(c, r)
    return [f for f in rules.evaluate(c, r, {}) if f["rule"] == "container-drift"]


def test_rule_names_each_setting_and_rates_escalation_high():
    found = _evaluate(lambda c, r: r["containers"][0].update(mem_limit_bytes=2 * fx.GiB))
    assert len(found) == 1 and found[0]["severity"] == "high" and found[0]["container"] == "shop-web-1"
    assert "mem_limit_bytes 2147483648 (file: 536870912)" in found[0]["evidence"]
    tighter = _evaluate(lambda c, r: r["containers"][0].update(mem_limit_bytes=256 * 1024 ** 2))
    assert tighter[0]["severity"] == "medium" and "more privilege" not in tighter[0]["evidence"]


def test_orphan_container_is_reported():
    def orphan(c, r):
        r["containers"].append(fx._ctr("shop-old-1", "old-worker"))
    found = _evaluate(orphan)
    assert [f["target"] for f in found] == ["shop-old-1"]
    assert "orphan" in found[0]["evidence"] and found[0]["diagnosis"] == {"orphan": True}


def test_no_drift_without_the_engine():
    def down(c, r):
        r["docker"]["reachable"] = False
        r["containers"][0].update(privileged=True)
    assert _evaluate(down) == []
