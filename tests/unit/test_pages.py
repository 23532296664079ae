# -*- coding: utf-8 -*-
"""audit.html and audit.md from the audit role's Jinja2 templates: structure, escaping, no Python
values or Markdown syntax in the page (the browser test in tests/integration drives the page itself)."""
import copy
import re
from html.parser import HTMLParser

import pytest

import audit_fixtures as fx
import audit_report
from ansible.module_utils.compose_doctor.analysis import rules
from ansible.module_utils.compose_doctor.output import pages, render, sections
from ansible.module_utils.compose_doctor.output import report as rp

HOSTILE = "<script>alert(1)</script>"


class Page(HTMLParser):
    """The tags of a page: [(tag, attrs dict)], plus the text outside <style> and <script>."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.text, self._raw = [], [], 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._raw += tag in ("style", "script")

    def handle_endtag(self, tag):
        self._raw -= tag in ("style", "script")

    def handle_data(self, data):
        if not self._raw:
            self.text.append(data)

    def find(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


@pytest.fixture(scope="module")
def lab():
    """The unit fixtures' broken lab, with a hostile service name on a finding and a container."""
    c, r = fx.lab_compose(), fx.lab_runtime()
    report = rp.build_report("lab1", c, r, rules.evaluate(c, r, {}), {}, fx.GENERATED_AT)
    report["findings"][0]["service"] = HOSTILE
    report["containers"][0]["service"] = HOSTILE
    return report


@pytest.fixture(scope="module")
def page(lab):
    return render.to_html(lab)


def test_every_finding_is_a_row_of_the_findings_table(lab, page):
    rows = Page(page).find("tr", **{"class": "finding"}) + Page(page).find("tr", **{"class": "finding alert"})
    assert sorted(r["data-id"] for r in rows) == sorted(f["id"] for f in lab["findings"])
    for row, f in zip([r for _t, r in Page(page).tags if r.get("data-id")], lab["findings"]):
        assert (row["data-id"], row["data-priority"], row["data-rule"]) == (f["id"], f["priority"], f["rule"])


def test_filters_offer_what_the_findings_have(lab, page):
    doc = Page(page)
    assert [s["data-filter"] for s in doc.find("select")] == ["priority", "rule", "service"]
    assert doc.find("input", id="finding-text")
    options = page.split('data-filter="priority"')[1].split("</select>")[0]
    assert re.findall(r"<option>(P\d)</option>", options) == sorted({f["priority"] for f in lab["findings"]})
    assert doc.find("table", id="findings-table", **{"class": "sortable"})


def test_sections_are_navigable(page):
    doc = Page(page)
    links = [a["href"][1:] for a in doc.find("a") if a.get("href", "").startswith("#") and "finding-" not in a["href"]]
    ids = [a["id"] for a in doc.find("section")]
    assert links == ids and len(ids) >= 14
    assert {"summary", "findings", "health", "loops", "resources", "plan"} <= set(ids)


def test_restarting_and_unhealthy_rows_stand_out(lab, page):
    alert_rows = page.count('<tr class="alert">')
    failing = [c for c in lab["containers"] if c.get("state") == "restarting" or c.get("health") == "unhealthy"]
    assert failing and alert_rows >= len(failing)
    loop_ids = {f["id"] for f in lab["findings"] if f["rule"] in sections.LOOP_RULES}
    assert loop_ids and loop_ids == {r["data-id"] for r in Page(page).find("tr", **{"class": "finding alert"})}


def test_no_python_values_no_markdown_and_everything_escaped(page):
    text = " ".join(Page(page).text)
    assert not re.search(r"\b(True|False|None)\b", text)
    assert "`" not in page
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.lower().count("<script") == 1  # the page's own audit.js
    assert fx.PLANTED not in page


def test_charts_are_inline_svg(page):
    assert 'aria-label="Findings by severity"' in page and 'aria-label="Memory use vs limit per container"' in page
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\';' in page


def test_markdown_escapes_table_cells_not_html(lab):
    md = render.to_markdown(lab)
    assert md.endswith("by compose-doctor\n") and "\n\n\n" not in md.split("CONFIGURATION SPRAWL")[0]
    row = next(line for line in md.splitlines() if line.startswith("| ") and HOSTILE in line)
    assert row.count(" | ") == 8  # the container table (9 columns): the name did not break the row


def test_minimal_report_renders():
    report = {"schema_version": "1.0", "host": "h", "docker": {"reachable": False, "error": "down"}}
    assert "No findings." in render.to_html(report) and "Nothing to do." in render.to_markdown(report)


def test_templates_are_required_where_the_module_cannot_find_them(run_module, tmp_path, lab, monkeypatch):
    role_templates = pages.default_templates_dir()
    monkeypatch.setattr(pages, "default_templates_dir", lambda: None)  # as in a module's payload
    out = run_module(audit_report, dict(dest=str(tmp_path / "r"), report=copy.deepcopy(lab)))
    assert out.get("failed") and "report templates not found" in out["msg"]
    out = run_module(audit_report, dict(dest=str(tmp_path / "r"), report=copy.deepcopy(lab), formats=["json"]))
    assert not out.get("failed"), out  # JSON alone needs no template
    out = run_module(audit_report, dict(dest=str(tmp_path / "r"), report=copy.deepcopy(lab),
                                        templates=role_templates))
    assert not out.get("failed"), out


SEED_REPORT_KEYS = {
    "kpis": {"availability": {"available": 3, "defined": 5, "pct": 60.0, "active": 4, "active_pct": 75.0},
             "health_pct": 66.7, "response_target_ms": 200,
             "response_times": [{"service": HOSTILE, "container": "c", "url": "http://127.0.0.1:1/health",
                                 "status": 200, "samples_ms": [3.0, 4.0, 5.0], "median_ms": 4.0, "error": None,
                                 "within_target": True}],
             "memory": {"utilisation_pct": 40.0, "target_pct": 80, "over_target": []},
             "restarts": {"total": 7, "containers": []}, "oom_kills": {"total": 1, "containers": ["c"]}},
    "networks": {"networks": [{"name": "p_default", "driver": "bridge", "internal": False,
                               "subnets": [{"subnet": "172.18.0.0/16", "gateway": "172.18.0.1"}],
                               "services": ["web", HOSTILE]}],
                 "default_only_services": ["web"], "host_network_services": [], "internal_only_services": ["db"],
                 "published_services": [{"service": "web", "ports": ["127.0.0.1:80->8080/tcp"],
                                         "all_interfaces": False}]},
    "databases": [{"service": "db", "kind": "postgres", "running": True, "ready": True, "probe_error": None,
                   "settings": {}, "volumes": [{"name": "p_data", "destination": "/var/lib/postgresql/data",
                                               "size_bytes": 47 * 1024 * 1024}],
                   "backup_command": "docker compose exec -T db pg_dumpall -U app > db-backup.sql"}],
    "monitoring_depth": {"components": [], "defined_not_running": ["loki"],
                         "prometheus": {"service": "prometheus", "running": True, "error": None, "targets_up": 2,
                                        "targets_down": 1, "rule_groups": 1, "rules": 4, "alerting_rules": 3,
                                        "recording_rules": 1,
                                        "targets": [{"job": "loki", "instance": "loki:3100", "health": "down",
                                                     "last_error": "connection refused"}]}},
}


def test_the_seed_sections_render_in_both_pages(lab):
    report = dict(copy.deepcopy(lab), **copy.deepcopy(SEED_REPORT_KEYS))
    md, page = render.to_markdown(report), render.to_html(report)
    for title in ("SUCCESS METRICS (KPIs)", "NETWORK ARCHITECTURE", "DATABASES", "MONITORING DEPTH: TARGETS AND RULES"):
        assert "## %s" % title in md
    assert "pg_dumpall -U app > db-backup.sql" in md and "172.18.0.1" in md and "connection refused" in md
    assert "p_data (47MiB)" in md
    parsed = Page(page)
    for sid in ("kpis", "networks", "databases", "monitoring-depth"):
        assert parsed.find("section", id=sid) and parsed.find("a", href="#" + sid)
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert "targets 2 up, 1 down" in page


def test_the_seed_sections_are_left_out_without_data(lab):
    report = copy.deepcopy(lab)
    for key in SEED_REPORT_KEYS:
        report.pop(key, None)
    report.pop("disk_usage", None), report.pop("mesh_depth", None)
    # what needs no engine call of its own stays: DevOps practices, the cost of the limits, the runbook
    assert [sec["id"] for sec in sections.page(report)["seed"]] == ["devops", "cost", "runbook"]


def test_runbook_cost_and_plan_use_the_project(lab):
    report = dict(copy.deepcopy(lab), **copy.deepcopy(SEED_REPORT_KEYS))
    md = render.to_markdown(report)
    runbook = md.split("## EMERGENCY RUNBOOK")[1].split("\n## ")[0]
    assert "cd /opt/shop && docker compose logs --tail 100 " in runbook and "playbooks/rollback.yml" in runbook
    assert "pg_dumpall -U app > db-backup.sql" in md.split("## EMERGENCY RUNBOOK")[1]
    assert "## COST OPTIMIZATION" in md and "right-sizing over-provisioned limits reclaims" in md
    plan = sections.page(report)["plan"]
    assert {(r["severity"], r["timeline"]) for r in plan} <= {("critical", "0-24 h"), ("high", "1-7 days"),
                                                               ("medium", "1-4 weeks"), ("low", "1-4 weeks"),
                                                               ("info", "backlog")}
    assert all(r["effort"] == "low (automated)" for r in plan if r["fix"])
    assert "| Effort | Timeline |" in md


def test_devops_practices_and_strengths(lab):
    report = copy.deepcopy(lab)
    report["compose"]["devops_files"] = {"ci": ["../.gitlab-ci.yml"], "deploy": ["deploy.sh"], "iac": []}
    md = render.to_markdown(report)
    devops = md.split("## DEVOPS PRACTICES ASSESSMENT")[1].split("\n## ")[0]
    assert "CI/CD: ../.gitlab-ci.yml" in devops and "Deployment: deploy.sh" in devops
    row = next(line for line in devops.splitlines() if line.startswith("| Health check |"))
    lacking = {f["service"] for f in report["findings"] if f["rule"] == "no-healthcheck"}
    assert "%d of %d" % (len(report["services"]) - len(lacking), len(report["services"])) in row
    assert "**Key strengths:**" in md
    assert "no crash loop" not in md.split("**Key strengths:**")[1].split("\n")[0]   # the lab has one


def test_devops_files_by_kind(tmp_path):
    from ansible.module_utils.compose_doctor.facts.project_paths import devops_files
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    project = repo / "deploy" / "compose"
    project.mkdir(parents=True)
    found = devops_files(str(project), ["compose.yaml", "Makefile", "infra/main.tf", "notes.txt"])
    assert found == {"ci": ["../../.github/workflows/ci.yml"], "deploy": ["Makefile"], "iac": ["infra/main.tf"]}
    assert devops_files(str(tmp_path), []) == {"ci": [], "deploy": [], "iac": []}   # no checkout above: nothing


def test_preload_compiles_the_pages_once_for_the_workers(tmp_path):
    """The action plugins preload the templates in the playbook's main process: every worker forked
    after it renders with the compiled templates; a missing or broken template is left to the render
    that needs it (which names it)."""
    templates = pages.default_templates_dir()
    pages.preload(templates)
    env = pages.environment(templates, "html")
    compiled = env.get_template(pages.TEMPLATES["html"])
    assert env.get_template(pages.TEMPLATES["html"]) is compiled     # cached, not compiled again
    (tmp_path / "audit.md.j2").write_text("{% if %}")                 # does not compile
    pages.preload(str(tmp_path))                                       # no exception
    pages.preload(None)
    with pytest.raises(pages.jinja2.TemplateSyntaxError) as err:
        pages.render({}, "md", str(tmp_path))
    assert err.value.name == "audit.md.j2"
