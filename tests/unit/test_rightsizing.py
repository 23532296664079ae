# -*- coding: utf-8 -*-
"""Right-sizing recommender, sampling loop and Prometheus parsing (plain inputs)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.module_utils.compose_doctor.analysis import rightsizing as rs
from ansible.module_utils.compose_doctor.sizes import parse_size

M = 1024 ** 2


@pytest.mark.parametrize("current, peak, oom, reasons, action, recommended", [
    # lab ollama-integration: 54.6MiB of 64m -> peak/0.70 = 78MiB -> 80MiB
    (64 * M, 57221120, False, ["memory-pressure"], "raise", 80 * M),
    # pressure without the finding is still a raise, never a lowering
    (100 * M, 95 * M, False, [], "raise", 144 * M),
    # OOM-killed: max(+100MiB, x1.2) over the current limit
    (128 * M, 120 * M, True, ["memory-pressure"], "raise", 240 * M),
    (1024 * M, 100 * M, False, ["oom-killed"], "raise", 1232 * M),
    # OOM-killed and not running: bump from the limit alone
    (64 * M, None, True, [], "raise", 176 * M),
    # no limit: capped at max(target, min_limit)
    (None, 14 * M, False, ["memory-no-limit"], "cap", 256 * M),
    (None, 400 * M, False, ["memory-no-limit"], "cap", 576 * M),
    # over-provisioned 2G for 4MiB: lowered to the min limit
    (2048 * M, 4 * M, False, ["memory-overprovisioned"], "lower", 256 * M),
    (4096 * M, 300 * M, False, ["memory-overprovisioned"], "lower", 432 * M),
    # right-sized already (second run): kept, no flapping
    (80 * M, 57221120, False, ["memory-pressure"], "keep", 80 * M),
    (80 * M, 52 * M, False, [], "keep", 80 * M),
    (256 * M, 4 * M, False, ["memory-overprovisioned"], "keep", 256 * M),
    # too tight but not yet under pressure: raised to the target
    (60 * M, 46 * M, False, [], "raise", 80 * M),
    # not running, not OOM: nothing to size from
    (64 * M, None, False, ["memory-no-limit"], "skip", 64 * M),
    (None, None, False, ["memory-no-limit"], "skip", None),
])
def test_recommend(current, peak, oom, reasons, action, recommended):
    rec = rs.recommend(current, peak, oom, reasons)
    assert rec["action"] == action, rec
    assert rec["recommended"] == recommended, rec
    assert rec["reason"]
    if rec["recommended"] and peak and action in ("lower", "cap", "raise"):
        # never below usage x headroom, and the re-audit sees no pressure
        assert rec["recommended"] >= peak * 1.15
        assert 100.0 * peak / rec["recommended"] < 80


@pytest.mark.parametrize("peak", [1 * M, 20 * M, 54 * M, 57221120, 300 * M, 3000 * M])
def test_second_run_keeps_the_first_recommendation(peak):
    first = rs.recommend(None, peak)
    for jitter in (0.92, 1.0, 1.08):
        again = rs.recommend(first["recommended"], int(peak * jitter))
        assert again["action"] == "keep", (first, again)


@pytest.mark.parametrize("value, step, expected", [
    (1, 16 * M, 16 * M), (16 * M, 16 * M, 16 * M), (16 * M + 1, 16 * M, 32 * M), (0, 16 * M, 0),
    (5, 0, M),
])
def test_round_up(value, step, expected):
    assert rs.round_up(value, step) == expected


@pytest.mark.parametrize("num, text", [(80 * M, "80M"), (256 * M, "256M"), (1232 * M, "1232M")])
def test_compose_value_parses_back(num, text):
    assert rs.compose_value(num) == text
    assert parse_size(text) == num


@pytest.mark.parametrize("policy, key", [
    ({"floor": "lots"}, "floor"), ({"headroom": 0.5}, "headroom"), ({"max_usage_pct": 0}, "max_usage_pct"),
    ({"band_low": 1.2}, "band_low"), ({"headroom": "x"}, "headroom"),
])
def test_bad_policy(policy, key):
    with pytest.raises(ValueError, match=key):
        rs.normalize_policy(policy)


def test_policy_is_data():
    rec = rs.recommend(None, 10 * M, policy={"min_limit": "128m", "round": "32MiB"})
    assert rec["recommended"] == 128 * M
    rec = rs.recommend(None, 100 * M, policy={"max_usage_pct": 100, "headroom": 1.15, "round": "1MiB",
                                               "min_limit": 0})
    assert rec["recommended"] == 115 * M


def test_recommend_all():
    recs = rs.recommend_all([{"name": "a", "current": None, "peak": M, "reasons": ["memory-no-limit"]},
                             {"name": "b", "current": 64 * M, "peak": 60 * M}])
    assert recs["a"]["action"] == "cap" and recs["b"]["action"] == "raise"


def test_sample_loop_spreads_readings_over_the_window():
    sleeps = []
    values = {"a": iter([10, 30, 20]), "b": iter([None, None, None])}
    out = rs.sample_loop(lambda n: next(values[n]), ["a", "b"], samples=3, window=10, sleep=sleeps.append)
    assert out == {"a": [10, 30, 20], "b": []}
    assert sleeps == [5.0, 5.0]


def test_sample_loop_single_reading_does_not_sleep():
    sleeps = []
    assert rs.sample_loop(lambda n: 7, ["a"], samples=1, window=10, sleep=sleeps.append) == {"a": [7]}
    assert sleeps == []


def test_prometheus_query_escapes_the_name():
    q = rs.prometheus_query('we"ird', "1h")
    assert q == 'max_over_time(container_memory_working_set_bytes{name="we\\"ird"}[1h])'


@pytest.mark.parametrize("data, expected", [
    ({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"name": "sutazai-redis-1"}, "value": [1714557600.0, "4063232"]}]}}, 4063232),
    ({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"id": "/a"}, "value": [1, "100"]}, {"metric": {"id": "/b"}, "value": [1, "2.5e3"]}]}}, 2500),
    ({"status": "success", "data": {"resultType": "vector", "result": []}}, None),
    ({"status": "success", "data": {"result": [{"value": [1, "NaN"]}]}}, None),
])
def test_parse_prometheus_response(data, expected):
    assert rs.parse_prometheus_response(data) == expected


@pytest.mark.parametrize("data, text", [
    ({"status": "error", "errorType": "bad_data", "error": "parse error at char 5"}, "parse error"),
    (["not", "a", "dict"], "JSON object"),
])
def test_parse_prometheus_errors(data, text):
    with pytest.raises(ValueError, match=text):
        rs.parse_prometheus_response(data)


@pytest.mark.parametrize("facts, expected", [
    ({"memory": {"usage_bytes": 50 * M, "limit_bytes": 100 * M, "percent": 50.0}}, (50 * M, 100 * M, 50.0)),
    ({"memory": {"usage_bytes": 25 * M, "limit_bytes": 100 * M}}, (25 * M, 100 * M, 25.0)),
    ({"memory": {"usage_bytes": 25 * M, "limit_bytes": None, "percent": None}}, (25 * M, None, None)),
    ({"memory": None}, (None, None, None)),
    ({}, (None, None, None)),
])
def test_container_memory(facts, expected):
    assert rs.container_memory(facts) == expected
