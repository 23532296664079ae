# -*- coding: utf-8 -*-
"""How long a service took to become ready, against what its health check allows (catalogue
row 22, ``healthcheck-start-period``).

Pure logic over facts the batched pass already read: ``.State.StartedAt``, the health log (Docker
keeps the last 5 probes with Start/End) and the log tail read with timestamps. The health check
gives up ``start_period + interval x retries`` seconds after start (the *window*); a service that
logs "ready" (or passes its first probe) later than that, and whose probes failed only with
refused / timed out before, is a slow starter, not a broken probe.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

# First "ready" line of common stacks; a service may log none (then only a passing probe tells).
READY_RE = re.compile(
    r"\bStarted \S+ in [\d.]+ seconds"                    # Spring Boot
    r"|\b(?:now )?listening (?:on|at)\b"                 # Node, ASP.NET, gunicorn "Listening at:"
    r"|Application startup complete|Uvicorn running on"  # uvicorn / FastAPI
    r"|\bserver (?:started|is ready|is up|listening)\b"  # Go and others
    r"|ready (?:to accept|for) connections"              # PostgreSQL, Redis, MySQL
    r"|Serving HTTP on|\bstartup complete\b",            # python -m http.server, generic
    re.IGNORECASE)
# What a probe says while nothing listens yet: refused, reset, timed out (engine: "exceeded timeout").
NOT_LISTENING_RE = re.compile(
    r"refused|timed? ?out|timeout|reset by peer|Errno 111|ECONNREFUSED|couldn'?t connect|failed to connect"
    r"|empty reply|Connection reset|no route to host|ECONNRESET|EOF",
    re.IGNORECASE)
_NS = 10 ** 9


def healthcheck_config(config_healthcheck):
    """``.Config.Healthcheck`` (nanoseconds; 0 or absent = engine default) -> seconds:
    {start_period_s, interval_s, timeout_s, retries, start_interval_s}; None without a test."""
    hc = config_healthcheck or {}
    test = hc.get("Test") or []
    if not test or test[0] == "NONE":
        return None

    def secs(key, default):
        value = hc.get(key)
        return int(value) / _NS if value else default
    return {"start_period_s": secs("StartPeriod", 0), "interval_s": secs("Interval", 30),
            "timeout_s": secs("Timeout", 30), "retries": int(hc.get("Retries") or 3),
            "start_interval_s": secs("StartInterval", 5)}


def split_timestamps(raw):
    """``docker logs --timestamps`` output (bytes or str) -> (times, text): each line's RFC 3339
    timestamp (None where a line has none) and the text without them, line for line."""
    if raw is None:
        return [], None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    times, lines = [], []
    for line in raw.splitlines():
        stamp, sep, rest = line.partition(" ")
        if sep and len(stamp) >= 20 and stamp[4:5] == "-" and stamp[10:11] == "T":
            times.append(stamp)
            lines.append(rest)
        else:
            times.append(None)
            lines.append(line)
    return times, "\n".join(lines)


def docker_time_or_none(value):
    """Docker timestamps: the zero time means 'never' -> None."""
    if not value or value.startswith("0001-01-01"):
        return None
    return value


def parse_docker_time(value):
    """'2024-05-01T10:00:00.123456789Z' -> aware datetime (nanoseconds truncated), or None."""
    value = docker_time_or_none(value)
    if not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # split off the zone, trim the fraction to microseconds
    zone = ""
    for sep in ("+", "-"):
        idx = text.rfind(sep)
        if idx > 10:  # past the date part
            zone = text[idx:]
            text = text[:idx]
            break
    if "." in text:
        main, frac = text.split(".", 1)
        text = main + "." + (frac + "000000")[:6]
    else:
        text += ".000000"
    try:
        return datetime.datetime.strptime(text + zone, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None


def _offsets(t0, values):
    out = []
    for value in values:
        t = parse_docker_time(value)
        out.append(round((t - t0).total_seconds(), 1) if t is not None else None)
    return out


def startup_timing(started_at, health_log, log_lines, log_times, hc):
    """What the evidence says of the start-up: None when it cannot say (no start time, no health
    check, no probe seen), else {ready_after_s, ready_source, observed_s, window_s,
    start_period_s, interval_s, retries, failed_probes, failures_not_listening,
    failures_after_ready, progress_after_failure, verdict, line}.

    ``health_log``: [{exit_code, output, start, end}] (normalize_health); ``log_lines`` and
    ``log_times``: the masked tail and its timestamps, line for line; ``hc``: healthcheck_config.
    verdict: ``slow-start`` (ready later than the window, probes failed only before it and only
    as refused / timed out), ``still-starting`` (not ready yet, probes refused / timed out, the
    app kept logging after they began failing), or None."""
    t0 = parse_docker_time(started_at)
    if t0 is None or not hc:
        return None
    probes = [(s, e, p) for s, e, p in zip(_offsets(t0, [p.get("start") for p in health_log or []]),
                                           _offsets(t0, [p.get("end") for p in health_log or []]), health_log or [])
              if s is not None and s >= 0]
    if not probes:
        return None
    line_at = [(t, line) for t, line in zip(_offsets(t0, log_times or []), log_lines or []) if t is not None and t >= 0]
    ready_line = next(((t, line) for t, line in line_at if READY_RE.search(line)), None)
    ok = next((s for s, _, p in probes if p.get("exit_code") == 0), None)
    ready = min([x for x in (ok, ready_line and ready_line[0]) if x is not None], default=None)
    fails = [(s, p) for s, _, p in probes if p.get("exit_code") != 0]
    window = hc["start_period_s"] + hc["interval_s"] * hc["retries"]
    out = {"ready_after_s": ready, "ready_source": None if ready is None else (
        "first passing probe" if ready == ok else "log: %s" % ready_line[1].strip()[:160]),
        "observed_s": max([e or s for s, e, _ in probes] + [t for t, _ in line_at]),
        "window_s": window, "start_period_s": hc["start_period_s"], "interval_s": hc["interval_s"],
        "retries": hc["retries"], "failed_probes": len(fails),
        "failures_not_listening": bool(fails) and all(NOT_LISTENING_RE.search(p.get("output") or "") or
                                                      (p.get("exit_code") == -1 and not p.get("output"))
                                                      for _, p in fails),
        # a probe that still fails once the service is ready is a wrong probe, not a slow start
        "failures_after_ready": len([s for s, _ in fails if ready is not None and s > ready + 1]),
        "progress_after_failure": bool(fails) and any(t > fails[0][0] for t, _ in line_at)}
    out["verdict"] = _verdict(out)
    out["line"] = _line(out)
    return out


def _verdict(t):
    if not t["failed_probes"] or not t["failures_not_listening"] or t["failures_after_ready"]:
        return None
    if t["ready_after_s"] is not None:
        return "slow-start" if t["ready_after_s"] > t["window_s"] else None
    return "still-starting" if t["progress_after_failure"] and t["observed_s"] > t["window_s"] else None


def _line(t):
    gives_up = "the health check gives up after %gs (start_period %gs + interval %gs x retries %d)" % (
        t["window_s"], t["start_period_s"], t["interval_s"], t["retries"])
    if t["verdict"] == "slow-start":
        return "ready %gs after start (%s), but %s; the probes before failed as refused / timed out" % (
            t["ready_after_s"], t["ready_source"], gives_up)
    if t["verdict"] == "still-starting":
        return ("still starting after %gs: no ready line and no passing probe yet, %d probe(s) refused / timed "
                "out while it keeps logging; %s" % (t["observed_s"], t["failed_probes"], gives_up))
    return None
