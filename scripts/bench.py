#!/usr/bin/env python3
"""Benchmark the container-facts gathering against a naive CLI baseline.

Creates throwaway containers (local image compose-doctor/base:bookworm, `sleep infinity`,
label com.compose-doctor.bench=1, small memory limit), then at each size (default 16 and 100)
times, in the same run:

  * gather_runtime()        the module_utils logic called directly (median of --repeat runs),
                            memory from cgroup files when local (the module's default, auto)
  * gather_runtime(api)     the same with one-shot stats API calls for memory (8 workers, and
                            as many workers as containers: engines < API 1.42 answer a one-shot
                            request on their next 1 s collection tick)
  * ansible -m container_facts   the module end to end through ansible, once
  * naive CLI baseline      `docker inspect` + `docker stats --no-stream` per container
  * --audit-cmd             optionally, any shell command (e.g. the audit playbook), once

and prints a table with ratios and the budgets (facts <= 0.5 s at 16, <= 2 s at 100).
Containers are ALWAYS removed at the end (try/finally, by label), also on Ctrl-C/SIGTERM.

Usage: .venv/bin/python scripts/bench.py [--sizes 16,100] [--repeat 5]
                                          [--baseline-max N] [--audit-cmd 'make audit'] [--json out.json]
"""
import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import ansible.module_utils  # noqa: E402

if str(ROOT / "module_utils") not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(ROOT / "module_utils"))

import docker  # noqa: E402

from ansible.module_utils.compose_doctor.facts import docker_runtime  # noqa: E402

IMAGE = "compose-doctor/base:bookworm"
BENCH_LABEL = "com.compose-doctor.bench"
PROJECT = "cdbench"
BUDGETS = {16: 0.5, 100: 2.0}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def budget_for(n):
    """Linear between the two stated budgets; None outside them."""
    if n in BUDGETS:
        return BUDGETS[n]
    if 16 <= n <= 100:
        return 0.5 + (n - 16) * (2.0 - 0.5) / (100 - 16)
    return None


def create_containers(client, start, stop, mem_limit, workers=16):
    def one(i):
        return client.containers.run(
            IMAGE, ["sleep", "infinity"], detach=True, name="%s-svc%03d-1" % (PROJECT, i),
            mem_limit=mem_limit,
            labels={BENCH_LABEL: "1", "com.docker.compose.project": PROJECT,
                    "com.docker.compose.service": "svc%03d" % i},
        ).id

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        ids = list(pool.map(one, range(start, stop)))
    log("  created %d containers in %.1f s" % (len(ids), time.perf_counter() - t0))
    return ids


def cleanup(client):
    found = client.containers.list(all=True, filters={"label": BENCH_LABEL + "=1"}, sparse=True)
    if not found:
        return 0

    def rm(c):
        with contextlib.suppress(docker.errors.NotFound):
            c.remove(force=True)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(rm, found))
    return len(found)


def time_call(fn, repeat):
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), result


def time_gather(n, repeat, memory_source, workers=8):
    def run():
        return docker_runtime.gather_runtime(project=PROJECT, memory_source=memory_source,
                                             stats_workers=workers)

    med, best, rt = time_call(run, repeat)
    got = len(rt["containers"])
    with_mem = sum(1 for c in rt["containers"] if c["memory"])
    if got != n or with_mem != n:
        raise RuntimeError("gather(%s) saw %d containers, %d with memory; expected %d"
                           % (memory_source, got, with_mem, n))
    return med, best


def time_ansible(n):
    ansible = str(Path(sys.executable).parent / "ansible")
    env = dict(os.environ, ANSIBLE_LIBRARY=str(ROOT / "library"),
               ANSIBLE_MODULE_UTILS=str(ROOT / "module_utils"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    cmd = [ansible, "localhost", "-m", "container_facts", "-a", "project=%s" % PROJECT,
           "-e", "ansible_python_interpreter=%s" % sys.executable]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError("ansible -m container_facts failed:\n%s%s" % (proc.stdout, proc.stderr))
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{"):])  # profile_tasks prints first
        res = data["plays"][0]["tasks"][0]["hosts"]["localhost"]
        got = len(res["runtime"]["containers"])
    except (ValueError, KeyError, IndexError):
        got = None
    if got is not None and got != n:
        raise RuntimeError("ansible container_facts saw %s containers, expected %d" % (got, n))
    return elapsed


def time_naive(ids, sample):
    """The naive way: one `docker inspect` and one `docker stats --no-stream` CLI per container."""
    subset = ids[:sample] if sample else ids
    t0 = time.perf_counter()
    for cid in subset:
        subprocess.run(["docker", "inspect", cid], check=True, capture_output=True)
        subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", cid],
                       check=True, capture_output=True)
    elapsed = time.perf_counter() - t0
    if len(subset) < len(ids):
        return elapsed * len(ids) / len(subset), True
    return elapsed, False


def time_shell(cmd, n):
    env = dict(os.environ, CD_BENCH_PROJECT=PROJECT, CD_BENCH_COUNT=str(n))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, shell=True, cwd=str(ROOT), env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        log("  audit-cmd exited %d: %s" % (proc.returncode, proc.stderr.strip()[-500:]))
    return elapsed, proc.returncode


def fmt(sec):
    return "-" if sec is None else "%.3f" % sec


def print_table(rows, audit):
    headers = ["containers", "gather auto (s)", "best (s)", "gather api (s)", "api wide (s)",
               "ansible -m (s)",
               "naive CLI (s)", "naive/gather", "budget (s)", "within"]
    if audit:
        headers.insert(-2, "audit-cmd (s)")
    lines = []
    for r in rows:
        naive = fmt(r["naive"]) + ("*" if r["naive_extrapolated"] else "")
        cells = [str(r["n"]), fmt(r["gather"]), fmt(r["gather_best"]), fmt(r["gather_api"]),
                 fmt(r["gather_api_wide"]), fmt(r["ansible"]), naive, "%.0fx" % (r["naive"] / r["gather"]),
                 fmt(r["budget"]), "yes" if r["ok"] else "NO"]
        if audit:
            cells.insert(-2, fmt(r.get("audit")) + ("" if r.get("audit_rc", 0) == 0 else " (rc %d)" % r["audit_rc"]))
        lines.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(headers)]
    out = ["  ".join(h.rjust(w) for h, w in zip(headers, widths)),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(cells, widths)) for cells in lines]
    print("\n".join(out))
    if any(r["naive_extrapolated"] for r in rows):
        print("* naive baseline extrapolated linearly from a sample (--baseline-max)")
    print("gather = module_utils gather_runtime() on project %r, median of the runs; "
          "'gather api' = memory via one-shot stats API (stats_workers=8), "
          "'api wide' = the same with stats_workers=<containers>; "
          "'ansible -m' includes ansible's own start-up." % PROJECT)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="16,100", help="container counts to measure at (ascending)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of gather_runtime per size")
    ap.add_argument("--mem-limit", default="16m", help="memory limit of each bench container")
    ap.add_argument("--baseline-max", type=int, default=0,
                    help="time the naive CLI baseline on at most N containers and extrapolate "
                         "(0 = all; the baseline costs ~1-2 s per container)")
    ap.add_argument("--audit-cmd", help="shell command to time at each size (run from the repo "
                                        "root; gets CD_BENCH_PROJECT and CD_BENCH_COUNT)")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a budget is exceeded")
    args = ap.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    client = docker.from_env(version="auto", max_pool_size=32)
    client.images.get(IMAGE)  # fail early when the base image is missing

    def on_term(signum, frame):
        # a second TERM/HUP must not interrupt the cleanup below
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    rows = []
    try:
        stale = cleanup(client)
        if stale:
            log("removed %d stale bench containers" % stale)
        ids = []
        for n in sizes:
            log("== %d containers" % n)
            if len(ids) < n:
                ids += create_containers(client, len(ids), n, args.mem_limit)
            time_gather(n, 1, "auto")  # warm-up: imports, connection, page cache
            med, best = time_gather(n, args.repeat, "auto")
            log("  gather auto   %.3f s (best %.3f)" % (med, best))
            api_med, _ = time_gather(n, 1, "api")
            log("  gather api    %.3f s" % api_med)
            wide_med, _ = time_gather(n, 1, "api", workers=n)
            log("  gather api/%-3d %.3f s" % (n, wide_med))
            ans = time_ansible(n)
            log("  ansible -m    %.3f s" % ans)
            naive, extrapolated = time_naive(ids, args.baseline_max)
            log("  naive CLI     %.3f s%s" % (naive, " (extrapolated)" if extrapolated else ""))
            budget = budget_for(n)
            row = {"n": n, "gather": med, "gather_best": best, "gather_api": api_med, "gather_api_wide": wide_med,
                   "ansible": ans, "naive": naive, "naive_extrapolated": extrapolated,
                   "budget": budget, "ok": budget is None or med <= budget}
            if args.audit_cmd:
                row["audit"], row["audit_rc"] = time_shell(args.audit_cmd, n)
                log("  audit-cmd     %.3f s (rc %d)" % (row["audit"], row["audit_rc"]))
            rows.append(row)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        log("removing bench containers ...")
        log("removed %d" % cleanup(client))
        client.close()

    print_table(rows, bool(args.audit_cmd))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    if args.strict and not all(r["ok"] for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
