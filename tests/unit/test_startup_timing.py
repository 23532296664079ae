# -*- coding: utf-8 -*-
"""healthcheck-start-period (catalogue row 22): the start-up time read from the health log and the
timestamped log tail, against start_period + interval x retries, and the diagnosis it feeds."""
import os

import pytest
import yaml

from ansible.module_utils.compose_doctor.analysis import crashloop as cl
from ansible.module_utils.compose_doctor.analysis import startup
from ansible.module_utils.compose_doctor.analysis.rules import is_crash_looping
from ansible.module_utils.compose_doctor.facts import docker_runtime as dr

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "roles", "audit", "files", "crashloop_catalog.yml")) as _fh:
    CAUSES = cl.compile_catalog(yaml.safe_load(_fh))

START = "2026-05-01T10:00:00.000000000Z"
HC = startup.healthcheck_config({"Test": ["CMD", "true"], "StartPeriod": 2 * 10 ** 9, "Interval": 2 * 10 ** 9,
                                 "Retries": 2})   # gives up after 2 + 2 x 2 = 6 s
REFUSED = "ConnectionRefusedError: [Errno 111] Connection refused"


def _at(seconds):
    return "2026-05-01T10:%02d:%02d.%06dZ" % (int(seconds) // 60, int(seconds) % 60, int(seconds * 10 ** 6) % 10 ** 6)


def _probes(*items):
    """(start s, exit code, output) -> the normalized health log (each probe takes 0.1 s)."""
    return [{"start": _at(s), "end": _at(s + 0.1), "exit_code": code, "output": out} for s, code, out in items]


def _logs(*items):
    """(s, line) -> (lines, times)."""
    return [line for _, line in items], [_at(s) for s, _ in items]


def _timing(probes, logs, hc=HC):
    lines, times = logs
    return startup.startup_timing(START, probes, lines, times, hc)


def _container(timing, **kw):
    c = {"name": "p-app-1", "service": "app", "state": "running", "exit_code": 0, "restart_count": 0,
         "oom_killed": False, "log_tail": [], "mounts": [], "networks": ["p_default"], "restart_policy": "no",
         "health": {"status": "unhealthy", "log": []}, "startup": timing,
         "ready_after_s": (timing or {}).get("ready_after_s")}
    c.update(kw)
    return c


def _diag(c):
    view = cl.ProjectView({"app": {}}, [c], threshold=3, is_crash_looping=is_crash_looping)
    return cl.diagnose(c, cl.failing_state(c, 3, is_crash_looping), CAUSES, view)


FAILING = _probes((2, 1, REFUSED), (4, 1, REFUSED), (6, 1, REFUSED), (8, -1, "Health check exceeded timeout (2s)"))


@pytest.mark.parametrize("line, ready", [
    ("Started DemoApplication in 42.1 seconds (process running for 43.0)", 43),           # Java / Spring Boot
    ("Server listening on port 3000", 43),                                                   # Node
    ("INFO:     Application startup complete.", 43),                                        # Python / uvicorn
    ('{"level":"info","msg":"server started","addr":":8080"}', 43),                          # Go
    ("LOG:  database system is ready to accept connections", 43),                            # PostgreSQL
])
def test_a_ready_line_after_the_window_is_a_slow_start(line, ready):
    t = _timing(FAILING, _logs((0, "booting"), (5, "loading"), (ready, line)))
    assert t["verdict"] == "slow-start" and t["ready_after_s"] == ready and t["window_s"] == 6
    d = _diag(_container(t))
    assert d["cause"] == "healthcheck-start-period" and d["confidence"] == "confirmed"
    assert "ready after 43s" in d["confirmations"][0] and "(ready after 43s)" in d["action"]
    assert d["fix_tag"] == "crashloop" and d["captures"]["ready_after_s"] == "43"


def test_the_first_passing_probe_times_the_start_when_no_line_says_ready():
    probes = FAILING + _probes((50, 0, ""))
    t = _timing(probes, _logs((0, "booting"), (30, "still warming")))
    assert t["ready_after_s"] == 50 and t["ready_source"] == "first passing probe" and t["verdict"] == "slow-start"


def test_not_ready_yet_while_it_keeps_logging_is_still_starting_at_log_confidence():
    t = _timing(FAILING, _logs((0, "warming cache 1/300"), (3, "warming cache 2/300"), (9, "warming cache 4/300")))
    assert t["verdict"] == "still-starting" and t["ready_after_s"] is None and t["observed_s"] == 9
    d = _diag(_container(t))
    assert d["cause"] == "healthcheck-start-period" and d["confidence"] == "log"
    assert d["evidence"][0].startswith("startup: still starting after 9s") and "start_period 2s" in d["evidence"][0]
    assert "(not ready after 9s yet)" in d["action"] and d["captures"]["starting_for_s"] == "9"


def test_a_probe_that_fails_after_the_service_is_ready_is_not_a_slow_start():
    probes = _probes((2, 1, REFUSED), (20, 1, REFUSED), (40, 1, REFUSED), (60, 1, REFUSED))
    t = _timing(probes, _logs((0, "booting"), (10, "Server listening on port 3000")))
    assert t["verdict"] is None and t["failures_after_ready"] == 3
    assert _diag(_container(t))["cause"] != "healthcheck-start-period"


def test_a_fast_service_is_not_a_slow_start():
    t = _timing(FAILING, _logs((1, "Uvicorn running on http://0.0.0.0:8000")))
    assert t["ready_after_s"] == 1 and t["verdict"] is None


def test_a_probe_failing_for_another_reason_is_not_a_slow_start():
    probes = _probes((2, 1, "HTTP Error 500: Internal Server Error"), (4, 1, "HTTP Error 500: Internal Server Error"))
    t = _timing(probes, _logs((0, "booting"), (3, "warming"), (5, "warming")))
    assert t["verdict"] is None and not t["failures_not_listening"]


def test_a_silent_container_whose_probe_fails_forever_is_not_still_starting():
    t = _timing(FAILING, _logs((0, "booting")))
    assert t["verdict"] is None and not t["progress_after_failure"]


def test_probes_of_an_earlier_run_do_not_count():
    old = _probes((-30, 0, ""))   # before this StartedAt: the previous run's
    t = _timing(old + FAILING, _logs((0, "warming"), (9, "warming")))
    assert t["ready_after_s"] is None and t["verdict"] == "still-starting"


def test_nothing_to_say_without_a_start_time_a_health_check_or_a_probe():
    assert startup.startup_timing(None, FAILING, [], [], HC) is None
    assert startup.startup_timing(START, FAILING, [], [], None) is None
    assert startup.startup_timing(START, [], ["x"], [_at(1)], HC) is None


def test_healthcheck_config_uses_the_engine_defaults():
    assert startup.healthcheck_config({"Test": ["CMD-SHELL", "true"]}) == {
        "start_period_s": 0, "interval_s": 30, "timeout_s": 30, "retries": 3, "start_interval_s": 5}
    assert startup.healthcheck_config({"Test": ["NONE"]}) is None and startup.healthcheck_config(None) is None


def test_split_timestamps_keeps_the_lines_as_they_were():
    raw = b"2026-05-01T10:00:01.123456789Z hello world\nno stamp here\n2026-05-01T10:00:02Z \n"
    times, text = startup.split_timestamps(raw)
    assert times == ["2026-05-01T10:00:01.123456789Z", None, "2026-05-01T10:00:02Z"]
    assert text.split("\n") == ["hello world", "no stamp here", ""]
    assert startup.split_timestamps(None) == ([], None)


def test_the_facts_pass_adds_the_timing_to_a_container_with_a_health_check():
    attrs = {"Config": {"Healthcheck": {"Test": ["CMD", "true"], "StartPeriod": 2 * 10 ** 9,
                                        "Interval": 2 * 10 ** 9, "Retries": 2}}}
    fact = {"started_at": START, "health": {"status": "unhealthy", "log": FAILING},
            "log_tail": ["warming", "warming"]}
    dr.add_startup(fact, attrs, [_at(0), _at(9)])
    assert fact["startup"]["verdict"] == "still-starting" and fact["ready_after_s"] is None
    bare = {"started_at": START, "health": None, "log_tail": []}
    dr.add_startup(bare, {}, [])
    assert "startup" not in bare


WRITTEN = {"test": ["CMD", "true"], "interval": "2s", "retries": 2, "start_period": "2s"}


@pytest.mark.parametrize("captures, api, want", [
    ({"ready_after_s": "43"}, "1.41", {"start_period": "65s"}),                  # 1.5 x 43, up to 5 s
    ({"ready_after_s": "8"}, "1.41", {"start_period": "20s"}),                   # at least +10 s
    ({"ready_after_s": "400"}, "1.41", {"start_period": "300s"}),                # capped
    ({"starting_for_s": "9"}, "1.41", {"start_period": "300s"}),                 # unknown: the cap
    ({"ready_after_s": "43"}, "1.44", {"start_period": "65s", "start_interval": "2s"}),
])
def test_start_period_plan_raises_above_the_start_up_time(captures, api, want):
    plan = cl.start_period_plan(WRITTEN, {"start_period": "2s"}, captures, 300, api)
    assert plan["set"] == want and plan["why"] == ""


def test_start_period_plan_is_idempotent_and_refuses_what_it_cannot_edit():
    assert cl.start_period_plan(WRITTEN, {"start_period": "1m5s"}, {"ready_after_s": "43"}, 300)["set"] == {}
    at_cap = cl.start_period_plan(WRITTEN, {"start_period": "5m0s"}, {"starting_for_s": "9"}, 300)
    assert at_cap["set"] == {} and "cap" in at_cap["why"]
    image = cl.start_period_plan({"interval": "2s"}, {"start_period": "0s"}, {"ready_after_s": "43"}, 300)
    assert image["set"] == {} and "from the image" in image["why"]
    variable = cl.start_period_plan(dict(WRITTEN, start_period="${START}"), {}, {"ready_after_s": "43"}, 300)
    assert variable["set"] == {} and "variable" in variable["why"]
    assert "not known" in cl.start_period_plan(WRITTEN, {}, {}, 300)["why"]


@pytest.mark.parametrize("text, seconds", [("1m30s", 90), ("90s", 90), ("500ms", 0.5), ("1h", 3600), (30, 30),
                                           ("", None), ("soon", None), ("5x", None)])
def test_duration_seconds(text, seconds):
    assert cl.duration_seconds(text) == seconds
