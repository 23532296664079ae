# -*- coding: utf-8 -*-
"""Memory right-sizing: from observed peaks to a compose memory limit (pure logic).

``recommend`` turns (current limit, observed peak, OOM-killed?, the audit rules that fired)
into ``{current, recommended, action, reason}``:

* target = max(peak x headroom, peak / max_usage_pct, floor), rounded up to a multiple of
  ``round`` (16 MiB). ``max_usage_pct`` (70 %) keeps the peak clearly under the audit's
  ``memory_pressure_pct`` (80 %): a peak x 1.15 limit alone would leave usage at 87 % of the
  limit and the re-audit would report memory pressure again.
* OOM-killed: at least max(current + oom_bump_min, current x oom_bump_factor).
* usage >= pressure_pct of the limit: raised, never lowered.
* no limit: capped at max(target, min_limit).
* over-provisioned: lowered to max(target, min_limit), never under peak x headroom.
* hysteresis: a limit inside [target x band_low, target x band_high] is kept, so a second run on
  a right-sized service does not flap with the noise of the samples.

The sampling loop (``sample_loop``) and the Prometheus response parser are here too, with the I/O
injected, so they are unit-tested with plain callables and dicts. Sizes are parsed and printed by
``sizes`` (no second size parser).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import time

from ansible.module_utils.compose_doctor.sizes import format_size, parse_size

MIB = 1024 ** 2

DEFAULT_POLICY = {
    "headroom": 1.15,
    "floor": "64MiB",
    "round": "16MiB",
    "max_usage_pct": 70,
    "oom_bump_min": "100MiB",
    "oom_bump_factor": 1.2,
    "pressure_pct": 80,
    "min_limit": "256MiB",
    "band_low": 0.9,
    "band_high": 1.5,
}
_SIZE_KEYS = ("floor", "round", "oom_bump_min", "min_limit")
_NUM_KEYS = ("headroom", "max_usage_pct", "oom_bump_factor", "pressure_pct", "band_low", "band_high")

# audit rule ids this role acts on
PRESSURE = "memory-pressure"
NO_LIMIT = "memory-no-limit"
OVERPROVISIONED = "memory-overprovisioned"
OOM = "oom-killed"


def normalize_policy(policy=None):
    """Defaults merged with ``policy`` (None values ignored); sizes parsed to bytes, numbers to
    float. Raises ValueError naming the bad key."""
    out = dict(DEFAULT_POLICY)
    for key, value in (policy or {}).items():
        if key in DEFAULT_POLICY and value is not None and value != "":
            out[key] = value
    for key in _SIZE_KEYS:
        try:
            out[key] = parse_size(out[key]) or 0
        except ValueError as exc:
            raise ValueError("policy %s: %s" % (key, exc)) from exc
    for key in _NUM_KEYS:
        try:
            out[key] = float(out[key])
        except (TypeError, ValueError):
            raise ValueError("policy %s: not a number: %r" % (key, out[key])) from None
    if out["headroom"] < 1:
        raise ValueError("policy headroom must be >= 1, got %s" % out["headroom"])
    if not 0 < out["max_usage_pct"] <= 100:
        raise ValueError("policy max_usage_pct must be in (0, 100], got %s" % out["max_usage_pct"])
    if not 0 < out["band_low"] <= 1 <= out["band_high"]:
        raise ValueError("policy band_low <= 1 <= band_high required, got %s / %s"
                         % (out["band_low"], out["band_high"]))
    if out["round"] <= 0:
        out["round"] = MIB
    return out


def round_up(num_bytes, step=16 * MIB):
    """Round up to a multiple of ``step`` (bytes)."""
    step = int(step) or MIB
    return int(math.ceil(float(num_bytes) / step) * step)


def compose_value(num_bytes):
    """Bytes (a MiB multiple) -> the compose/docker spelling ``'96M'``."""
    return "%dM" % int(math.ceil(float(num_bytes) / MIB))


def container_memory(container):
    """(usage, limit, percent) of a container's memory facts (docker_runtime.memory_from_stats);
    percent from usage/limit when the facts lack it, None values where unknown."""
    mem = (container or {}).get("memory") or {}
    usage, limit = mem.get("usage_bytes"), mem.get("limit_bytes")
    pct = mem.get("percent")
    if pct is None and usage is not None and limit:
        pct = 100.0 * usage / limit
    return usage, limit, pct


def target_limit(peak_bytes, policy):
    """max(peak x headroom, peak / max_usage_pct, floor), rounded up."""
    peak = float(peak_bytes or 0)
    base = max(peak * policy["headroom"], peak * 100.0 / policy["max_usage_pct"], policy["floor"])
    return round_up(base, policy["round"])


def in_band(current, target, policy):
    return target * policy["band_low"] <= current <= target * policy["band_high"]


def recommend(current_bytes, peak_bytes, oom_killed=False, reasons=(), policy=None):
    """Right-size one service. ``current_bytes`` None/0 = no limit; ``peak_bytes`` None = no
    usage observed (not running). ``reasons``: audit rule ids (or ``oom-killed``) that fired.

    Returns {current, recommended, action (raise|lower|cap|keep|skip), reason, peak, target}
    with sizes in bytes; ``recommended`` equals ``current`` for keep/skip.
    """
    p = normalize_policy(policy) if not (policy and policy.get("_normalized")) else policy
    current = int(current_bytes) if current_bytes else None
    peak = int(peak_bytes) if peak_bytes is not None else None
    reasons = set(reasons or ())
    oom = bool(oom_killed) or OOM in reasons

    def out(action, recommended, reason, target=None):
        return {"current": current, "recommended": recommended, "action": action, "reason": reason,
                "peak": peak, "target": target}

    if peak is None and not (oom and current):
        return out("skip", current, "no memory usage observed (container not running): nothing to size from")
    target = target_limit(peak or 0, p)
    if oom and current:
        bump = round_up(max(current + p["oom_bump_min"], current * p["oom_bump_factor"]), p["round"])
        rec = max(bump, target)
        return out("raise", rec, "OOM-killed at %s: raised to max(+%s, x%g) over the limit, and peak x headroom"
                   % (format_size(current), format_size(p["oom_bump_min"]), p["oom_bump_factor"]), target)
    if current is None:
        rec = max(target, p["min_limit"])
        return out("cap", rec, "no memory limit; peak %s -> capped at %s (min %s)"
                   % (format_size(peak), format_size(rec), format_size(p["min_limit"])), target)
    pct = 100.0 * peak / current
    if pct >= p["pressure_pct"]:
        rec = max(target, current)
        if rec == current:
            return out("keep", current, "usage %.0f%% of the limit but the limit already covers peak x headroom" % pct,
                       target)
        return out("raise", rec, "usage %.0f%% of %s (>= %g%%): raised so the peak stays <= %g%%"
                   % (pct, format_size(current), p["pressure_pct"], p["max_usage_pct"]), target)
    if current < target * p["band_low"]:
        return out("raise", target, "limit %s is below peak %s x headroom (target %s)"
                   % (format_size(current), format_size(peak), format_size(target)), target)
    lowered = max(target, p["min_limit"])
    if current > lowered * p["band_high"]:
        return out("lower", lowered, "usage %.1f%% of %s: lowered to %s (peak %s, min %s)"
                   % (pct, format_size(current), format_size(lowered), format_size(peak),
                      format_size(p["min_limit"])), target)
    return out("keep", current, "limit %s is within [%g, %g] x the recommendation %s: kept (hysteresis)"
               % (format_size(current), p["band_low"], p["band_high"], format_size(target)), target)


def audit_policy(policy):
    """The recommender's policy for the audit's estimates: headroom and floor from the audit
    policy (``rightsize_headroom``/``rightsize_floor``), the rest the resource_limits defaults, so
    a finding's recommended limit is what the fix would write."""
    p = normalize_policy({"headroom": (policy or {}).get("rightsize_headroom"),
                          "floor": (policy or {}).get("rightsize_floor")})
    p["_normalized"] = True
    return p


def recommend_all(items, policy=None):
    """items: [{name, current, peak, oom_killed, reasons}] -> {name: recommendation}."""
    p = normalize_policy(policy)
    p["_normalized"] = True
    return dict((i["name"], recommend(i.get("current"), i.get("peak"), i.get("oom_killed"), i.get("reasons"), p))
                for i in items)


def sample_loop(read, names, samples=5, window=10.0, sleep=time.sleep):
    """Call ``read(name)`` -> bytes|None for every name, ``samples`` times spread over
    ``window`` seconds (first read at once, last at the end of the window).

    Returns {name: [bytes, ...]} (None readings dropped)."""
    samples = max(1, int(samples))
    interval = float(window) / (samples - 1) if samples > 1 else 0.0
    out = dict((n, []) for n in names)
    for i in range(samples):
        if i:
            sleep(interval)
        for n in names:
            value = read(n)
            if value is not None:
                out[n].append(int(value))
    return out


def prometheus_query(container_name, window, metric="container_memory_working_set_bytes"):
    """PromQL for the peak working set of one container over ``window`` (``'1h'``, ``'600s'``)."""
    name = str(container_name).replace("\\", "\\\\").replace('"', '\\"')
    return 'max_over_time(%s{name="%s"}[%s])' % (metric, name, window)


def parse_prometheus_response(data):
    """/api/v1/query JSON (dict) -> the highest sample value in bytes, or None when the query
    matched no series. Raises ValueError with Prometheus' own error text on failure."""
    if not isinstance(data, dict):
        raise ValueError("Prometheus answer is not a JSON object")
    if data.get("status") != "success":
        raise ValueError("Prometheus query failed: %s: %s" % (data.get("errorType", "error"),
                                                             data.get("error", "no error text")))
    result = (data.get("data") or {}).get("result") or []
    values = []
    for series in result:
        value = series.get("value") or [None, None]
        try:
            number = float(value[1])
        except (TypeError, ValueError, IndexError):
            continue
        if not math.isnan(number) and number >= 0:
            values.append(int(number))
    return max(values) if values else None
