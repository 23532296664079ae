#!/usr/bin/env python3
"""Benchmark the audit end to end on a generated 60-service Compose project.

Writes a project the way real ones look (x- anchors with merge keys, `include:`, `extends:` with
`file:`, env files, profiles, override and variant files, one Dockerfile per built service) into a
temporary directory, then times `ansible-playbook playbooks/audit.yml` on it (Compose's own model,
`docker compose config`, plus the engine pass) --repeat times and prints the median against the
budget (10 s; issue "Audit any real Compose project right"). The project is never started.

Usage: .venv/bin/python scripts/bench_project.py [--services 60] [--repeat 3] [--strict] [--keep DIR]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 10.0


def write_project(root, n):
    """A project of ``n`` services spread over main, included and extended files."""
    (root / "common").mkdir()
    (root / "stack").mkdir()
    (root / ".env").write_text("TAG=1.0\nDB_PASSWORD=bench-not-a-secret\nCOMPOSE_PROFILES=core\n")
    (root / "common" / "base.yml").write_text(
        "services:\n  base:\n    image: example/base:${TAG}\n    restart: unless-stopped\n"
        "    logging: {driver: json-file, options: {max-size: 10m}}\n")
    main = ["x-defaults: &defaults", "  restart: unless-stopped", "  mem_limit: 128m",
            "  logging: {driver: json-file, options: {max-size: 10m}}", "include:", "  - stack/compose.yaml",
            "services:"]
    stack = ["services:"]
    for i in range(n):
        name = "svc%02d" % i
        if i % 3 == 0:
            lines, indent = stack, "  "
        else:
            lines, indent = main, "  "
        lines.append("%s%s:" % (indent, name))
        if i % 5 == 1:
            base = "common/base.yml" if lines is main else "../common/base.yml"
            lines.append("%s  extends: {file: %s, service: base}" % (indent, base))
        else:
            lines.append("%s  <<: *defaults" % indent if lines is main else "%s  mem_limit: 64m" % indent)
            lines.append("%s  image: example/%s:${TAG:-latest}" % (indent, name))
        if i % 7 == 0:
            ctx = root / "build" / name
            ctx.mkdir(parents=True)
            (ctx / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY requirements.txt .\n"
                                            "RUN pip install -r requirements.txt\n")
            (ctx / "requirements.txt").write_text("requests==2.32.0\n")
            lines.append("%s  build: %s" % (indent, os.path.relpath(ctx, root if lines is main else root / "stack")))
        lines.append("%s  ports: [\"%d:80\"]" % (indent, 20000 + i))
        lines.append("%s  environment:" % indent)
        lines.append("%s    DB_PASSWORD: ${DB_PASSWORD}" % indent)
        lines.append("%s    MODE: bench" % indent)
        if i % 4 == 0:
            lines.append("%s  profiles: [%s]" % (indent, "core" if i % 8 == 0 else "extra"))
        if i % 6 == 0:
            lines.append("%s  volumes: [\"./data/%s:/data\", \"cache:/cache\"]" % (indent, name))
    main += ["volumes:", "  cache: {}"]
    (root / "compose.yaml").write_text("\n".join(main) + "\n")
    (root / "stack" / "compose.yaml").write_text("\n".join(stack) + "\n")
    (root / "compose.override.yaml").write_text("services:\n  svc01:\n    environment: {DEBUG: '1'}\n")
    for variant in ("prod", "dev", "gpu"):
        (root / ("docker-compose.%s.yml" % variant)).write_text("services:\n  svc02:\n    mem_limit: 256m\n")


def time_audit(project, reports):
    cmd = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), str(ROOT / "playbooks" / "audit.yml"),
           "-e", "compose_project_dir=%s" % project, "-e", "audit_reports_dir=%s" % reports]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-2000:])
        raise SystemExit("audit failed (rc %d)" % proc.returncode)
    return took


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--strict", action="store_true", help="exit 1 when the median exceeds the budget")
    ap.add_argument("--keep", help="write the project here and keep it")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="cdbench-project-"))
    try:
        project = Path(args.keep) if args.keep else tmp / "project"
        project.mkdir(parents=True, exist_ok=True)
        write_project(project, args.services)
        times = [time_audit(project, tmp / "reports") for _ in range(args.repeat)]
        med = statistics.median(times)
        ok = med <= BUDGET_S
        print("audit.yml on a %d-service project: median %.2f s of %s (budget %.0f s) %s" % (
            args.services, med, ", ".join("%.2f" % t for t in times), BUDGET_S, "ok" if ok else "OVER BUDGET"))
        return 1 if args.strict and not ok else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
