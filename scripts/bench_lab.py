#!/usr/bin/env python3
"""audit.yml on the running lab, this checkout against a reference commit, interleaved on the same
engine and lab files: median wall and CPU seconds (the playbook and its children) of --repeat runs
each, and their ratio against --max-ratio. The reference is checked out in a temporary git worktree
and uses this checkout's venv. Default reference: e7c58c3, the tree the CIS-coverage issue measured
"today's time" on (its target: within 10 %).

Usage: .venv/bin/python scripts/bench_lab.py [--reference REV] [--repeat 5] [--max-ratio 1.10] [--strict]
Needs the lab up (make lab-up) and the git history (a clone, not an archive).
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB = Path(os.environ.get("LAB_DIR") or ROOT / ".lab")


def timed(cmd, cwd, env):
    """(wall s, CPU s) of one command run to completion: CPU of it and every process it started.
    A command that fails exits with the end of its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("%s failed (rc %d):\n%s" % (" ".join(cmd[:2]), proc.returncode, proc.stdout[-6000:]))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def audit(tree, reports):
    """(wall s, CPU s) of one audit.yml run from checkout `tree`."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(tree / "ansible.cfg"), COMPOSE_BAKE="false")
    return timed([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/audit.yml", "-e",
                  "compose_project_dir=%s" % LAB, "-e", "audit_reports_dir=%s" % reports], tree, env)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", default="e7c58c3")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--max-ratio", type=float, default=1.10)
    ap.add_argument("--strict", action="store_true", help="exit 1 when the ratio is over --max-ratio")
    args = ap.parse_args(argv)
    if not (LAB / "docker-compose.yml").is_file():
        sys.exit("no lab at %s: run make lab-up first" % LAB)
    with tempfile.TemporaryDirectory() as tmp:
        ref = Path(tmp) / "reference"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(ref), args.reference], cwd=ROOT, check=True)
        try:
            runs = {"this": [], "reference": []}
            for _ in range(args.repeat):    # interleaved: both see the same engine load
                runs["this"].append(audit(ROOT, Path(tmp) / "r-this"))
                runs["reference"].append(audit(ref, Path(tmp) / "r-ref"))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(ref)], cwd=ROOT)
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in runs.items()}
    ratio = med["this"][0] / med["reference"][0]
    print("lab audit.yml, median of %d: this checkout %.2f s wall / %.2f s CPU, reference %s %.2f s / %.2f s: "
          "x%.2f wall, x%.2f CPU (max x%.2f) %s" % (
              args.repeat, med["this"][0], med["this"][1], args.reference, med["reference"][0], med["reference"][1],
              ratio, med["this"][1] / med["reference"][1], args.max_ratio, "OK" if ratio <= args.max_ratio else "OVER"))
    return 1 if args.strict and ratio > args.max_ratio else 0


if __name__ == "__main__":
    sys.exit(main())
