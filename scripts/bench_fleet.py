#!/usr/bin/env python3
"""What a fleet audit costs the controller: audit.yml over N inventory hosts on local connection,
each with its own copy of the lab's compose files (so each host gathers, evaluates and reports for
real), at --forks, for each N of --sizes. Prints wall seconds and controller CPU seconds (the
playbook and every process it starts) per host. Goals (issue "A real fleet"): CPU per host <= 0.8 s,
20 hosts <= 15 s wall on this 2-core machine.

Usage: .venv/bin/python scripts/bench_fleet.py [--sizes 1,5,20] [--forks 20] [--strict]
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


def inventory(tmp, n):
    hosts = {}
    for i in range(n):
        project = tmp / ("host%02d" % i)
        if not project.exists():
            shutil.copytree(LAB, project, symlinks=True)
        hosts["host%02d" % i] = {"ansible_connection": "local", "compose_project_dir": str(project),
                                 "ansible_python_interpreter": str(ROOT / ".venv" / "bin" / "python")}
    path = tmp / ("fleet-%d.yml" % n)
    path.write_text(json.dumps({"all": {"hosts": hosts}}))
    return path


def run(tmp, n, forks):
    """(wall s, CPU s) of one audit.yml over n hosts."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), COMPOSE_BAKE="false")
    return timed([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/audit.yml", "-f", str(forks),
                  "-i", str(inventory(tmp, n)), "-e", "audit_reports_dir=%s" % (tmp / "reports")], ROOT, env)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,5,20")
    ap.add_argument("--forks", type=int, default=20)
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args(argv)
    if not (LAB / "docker-compose.yml").is_file():
        sys.exit("no lab at %s: run make lab-up first" % LAB)
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            inventory(Path(tmp), n)     # copies made before the clock starts
            wall, cpu = run(Path(tmp), n, args.forks)
            print("fleet audit.yml, %2d hosts, -f %d: %5.1f s wall, %5.1f s CPU, %.2f s CPU per host" % (
                n, args.forks, wall, cpu, cpu / n))
            if cpu / n > CPU_PER_HOST_S:
                missed.append("%d hosts: %.2f s CPU per host > %.1f" % (n, cpu / n, CPU_PER_HOST_S))
            if n >= 20 and wall > WALL_20_S:
                missed.append("%d hosts: %.1f s wall > %.0f" % (n, wall, WALL_20_S))
    print("goals: CPU per host <= %.1f s, 20 hosts <= %.0f s wall: %s" % (
        CPU_PER_HOST_S, WALL_20_S, "; ".join(missed) if missed else "met"))
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
