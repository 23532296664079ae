#!/usr/bin/env python3
"""What the crash-loop doctor costs: audit.yml on the crash-loop lab with the catalogue and with
the doctor turned off (audit_crashloop_catalog={}), median of --repeat runs each, and the
difference against the budget (1 s). Brings the crash-loop lab up and down itself.

Usage: .venv/bin/python scripts/bench_crashloop.py [--repeat 3] [--strict]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 1.0
LAB = ROOT / ".lab-crashloops"


def audit(extra, reports):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    start = time.monotonic()
    subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/audit.yml", "-e",
                    "compose_project_dir=%s" % LAB, "-e", "audit_reports_dir=%s" % reports, *extra],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--strict", action="store_true", help="exit 1 when the doctor costs more than the budget")
    args = ap.parse_args(argv)
    lab = ["bash", str(ROOT / "scripts" / "crashloop_lab.sh")]
    subprocess.run(lab + ["up"], check=True, stdout=subprocess.DEVNULL)
    try:
        with tempfile.TemporaryDirectory() as reports:
            on, off = [], []
            for _ in range(args.repeat):   # interleaved: both see the same engine load
                on.append(audit([], reports))
                off.append(audit(["-e", '{"audit_crashloop_catalog": {}}'], reports))
    finally:
        subprocess.run(lab + ["down"], stdout=subprocess.DEVNULL)
    cost = statistics.median(on) - statistics.median(off)
    print("crash-loop lab audit.yml: doctor on %.2f s, off %.2f s (median of %d): doctor costs %+.2f s "
          "(budget %.1f s) %s" % (statistics.median(on), statistics.median(off), args.repeat, cost, BUDGET_S,
                                  "OK" if cost <= BUDGET_S else "OVER"))
    return 1 if args.strict and cost > BUDGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
