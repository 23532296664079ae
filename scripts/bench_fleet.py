#!/usr/bin/env python3
"""What a fleet audit costs the controller: audit.yml over N inventory hosts on local connection,
each with its own copy of the lab's compose files (so each host gathers, evaluates and reports for
real), at --forks, for each N of --sizes. Prints wall seconds and CPU seconds per host, split in two:
the host's share (the module process and what it starts, the Compose CLI: on a real fleet this runs
on each managed host) and the controller's (ansible-playbook, its workers, the rules and the reports:
everything else). Each module is started through a small interpreter wrapper that records its CPU.
Goals (issue "A real fleet"), at 20 hosts: controller CPU per host <= 0.8 s (Ansible's start-up, about
1.2 s, is shared by the hosts; 1 host mostly measures it) and <= 15 s wall on this 2-core machine, where
the 20 hosts' modules and the one Docker engine they all read share the controller's two cores.

This machine's CPU speed varies by a third from one minute to the next (a shared VM): each size runs
--repeat times and the median run (by wall time) is reported.

Usage: .venv/bin/python scripts/bench_fleet.py [--sizes 1,5,20] [--forks 20] [--repeat 3] [--strict]
Needs the lab up (make lab-up): every copy is the lab's project, so the runtime facts are real.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench_lab import timed

ROOT = Path(__file__).resolve().parent.parent
LAB = Path(os.environ.get("LAB_DIR") or ROOT / ".lab")
CPU_PER_HOST_S, WALL_20_S = 0.8, 15.0
# The managed host's side: the module's interpreter, run as a child so that `times` (POSIX sh)
# reports its CPU and its children's (the Compose CLI) when it ends.
WRAPPER = """#!/bin/sh
"%(python)s" "$@"
rc=$?
times >> "%(log)s"
exit $rc
"""


def interpreter(tmp):
    """(wrapper path for ansible_python_interpreter, the log of its module runs' CPU)."""
    log, path = tmp / "module-cpu.log", tmp / "python-timed"
    if not path.exists():
        path.write_text(WRAPPER % {"python": ROOT / ".venv" / "bin" / "python", "log": log})
        path.chmod(0o755)
    return path, log


def module_cpu(log):
    """CPU seconds of the module runs recorded in ``log`` (the children line of each `times`), and
    how many runs; the log is emptied."""
    total, runs = 0.0, 0
    lines = log.read_text().splitlines() if log.exists() else []
    for line in lines[1::2]:    # `times`: the shell's own line, then its children's
        for field in line.split():
            minutes, _, seconds = field.rstrip("s").partition("m")
            total += int(minutes) * 60 + float(seconds)
        runs += 1
    log.write_text("")
    return total, runs


def inventory(tmp, n):
    hosts = {}
    python, _log = interpreter(tmp)
    for i in range(n):
        project = tmp / ("host%02d" % i)
        if not project.exists():
            shutil.copytree(LAB, project, symlinks=True)
        hosts["host%02d" % i] = {"ansible_connection": "local", "compose_project_dir": str(project),
                                 "ansible_python_interpreter": str(python)}
    path = tmp / ("fleet-%d.yml" % n)
    path.write_text(json.dumps({"all": {"hosts": hosts}}))
    return path


def run(tmp, n, forks):
    """(wall s, CPU s of everything, CPU s of the module runs) of one audit.yml over n hosts."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), COMPOSE_BAKE="false")
    hosts, log = inventory(tmp, n), interpreter(tmp)[1]
    module_cpu(log)     # empties it
    wall, cpu = timed([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/audit.yml", "-f", str(forks),
                       "-i", str(hosts), "-e", "audit_reports_dir=%s" % (tmp / "reports")], ROOT, env)
    modules, runs = module_cpu(log)
    if runs != n:
        sys.exit("expected one module run per host, recorded %d for %d hosts" % (runs, n))
    return wall, cpu, modules


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,5,20")
    ap.add_argument("--forks", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args(argv)
    if not (LAB / "docker-compose.yml").is_file():
        sys.exit("no lab at %s: run make lab-up first" % LAB)
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            inventory(Path(tmp), n)     # copies made before the clock starts
            runs = sorted(run(Path(tmp), n, args.forks) for _ in range(args.repeat))
            wall, cpu, modules = runs[len(runs) // 2]
            controller = cpu - modules
            print("fleet audit.yml, %2d hosts, -f %d: %5.1f s wall, %5.1f s CPU; per host %.2f s CPU on the "
                  "controller, %.2f s in the module (the managed host's share)" % (
                      n, args.forks, wall, cpu, controller / n, modules / n))
            if n >= 20 and controller / n > CPU_PER_HOST_S:     # a fleet's figure: 1 host is Ansible's start-up
                missed.append("%d hosts: %.2f s controller CPU per host > %.1f" % (n, controller / n, CPU_PER_HOST_S))
            if n >= 20 and wall > WALL_20_S:
                missed.append("%d hosts: %.1f s wall > %.0f" % (n, wall, WALL_20_S))
    print("goals at 20 hosts: controller CPU per host <= %.1f s, <= %.0f s wall: %s" % (
        CPU_PER_HOST_S, WALL_20_S, "; ".join(missed) if missed else "met"))
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
