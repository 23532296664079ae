"""Print a short summary of an audit.json (and, if given, the remediation.json beside it)."""
import json
import sys
from pathlib import Path

report = json.loads(Path(sys.argv[1]).read_text())
s = report["summary"]
print(f"score {s['score']}/100 | running {s['services_running']}/{s['services_defined']} services defined "
      f"| restarting {s['containers_restarting']} | unhealthy {s['containers_unhealthy']} | findings {s['findings']}")
TOP = 12
findings = sorted(report["findings"], key=lambda f: (f["priority"], f["id"]))
for f in findings[:TOP]:
    fix = f"--tags {f['fix']['tag']}" if f.get("fix") else "report only"
    print(f"  {f['priority']} {f['id'][:58]:<58} {fix}")
if len(findings) > TOP:
    print(f"  +{len(findings) - TOP} more - see {Path(sys.argv[1]).parent / 'audit.md'} (or audit.html)")
if len(sys.argv) > 2:
    rem = json.loads(Path(sys.argv[2]).read_text())
    print(f"\nscore before -> after: {rem['score']['before']} -> {rem['score']['after']}; "
          f"resolved {len(rem['resolved'])}, remaining {len(rem['remaining'])}, new {len(rem['new'])}")
    for f in rem["resolved"]:
        print(f"  resolved {f['priority']} {f['id']}")
