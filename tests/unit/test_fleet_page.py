# -*- coding: utf-8 -*-
"""fleet.html (and the context fleet.md shares with it): hosts x severity, worst host first, the
hosts without a report named with their state, counts linking to each host's audit.html."""
import copy
import json
import os
from html.parser import HTMLParser

import pytest

import audit_fixtures as fx
import audit_report
from ansible.module_utils.compose_doctor.analysis import rules
from ansible.module_utils.compose_doctor.analysis.rules import SEVERITIES
from ansible.module_utils.compose_doctor.output import render, sections
from ansible.module_utils.compose_doctor.output import report as rp
from test_pages import HOSTILE, Page

VOID = {"meta", "br", "input", "img", "link", "hr", "wbr"}


class Structure(HTMLParser):
    """Every non-void element is closed, in order (the page is well formed, not just parseable)."""

    def __init__(self, text):
        super().__init__()
        self.stack, self.errors = [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def _build(host, compose, runtime):
    return rp.build_report(host, compose, runtime, rules.evaluate(compose, runtime, {}), {}, fx.GENERATED_AT)


@pytest.fixture(scope="module")
def reports():
    """The broken lab (lowest score), the clean project, and the lab under a hostile host name."""
    lab = _build("lab1", fx.lab_compose(), fx.lab_runtime())
    clean = _build("clean", fx.clean_compose(), fx.clean_runtime())
    hostile = copy.deepcopy(lab)
    hostile["host"] = "zz" + HOSTILE
    hostile["summary"]["score"] = lab["summary"]["score"] + 1
    return [clean, lab, hostile]


@pytest.fixture(scope="module")
def fleet(reports):
    return rp.fleet_report(reports, ["db9", {"host": "db10", "error": "ssh: connect timed out"}], fx.GENERATED_AT)


def test_rows_worst_first_then_the_hosts_without_a_report(fleet, reports):
    rows = sections.fleet_rows(fleet)
    assert [r["host"] for r in rows] == ["lab1", "zz" + HOSTILE, "clean", "db10", "db9"]
    assert [r["state"] for r in rows] == ["audited"] * 3 + ["unreachable"] * 2
    assert rows[3]["detail"] == "ssh: connect timed out" and rows[3]["counts"] is None
    assert rows[4]["detail"] is None   # "unreachable: unreachable" says nothing more
    # fleet.md lists the audited hosts in the same order
    assert [h["host"] for h in sections.fleet_page(fleet)["hosts"]] == [r["host"] for r in rows[:3]]


def test_counts_per_severity_link_to_the_host_findings(fleet, reports):
    lab = sections.fleet_rows(fleet)[0]
    expected = dict((s, sum(1 for f in reports[1]["findings"] if f["severity"] == s)) for s in SEVERITIES)
    assert [(c["severity"], c["count"]) for c in lab["counts"]] == [(s, expected[s]) for s in SEVERITIES]
    assert expected["critical"] > 0
    for c in lab["counts"]:
        assert c["href"] == ("lab1/audit.html#findings" if c["count"] else None)
    hostile = sections.fleet_rows(fleet)[1]
    assert hostile["report"] == "zz%3Cscript%3Ealert%281%29%3C%2Fscript%3E/audit.html"  # never a path out


def test_remediation_outcomes_name_every_host(reports):
    outcomes = [{"host": "lab1", "state": "remediated", "detail": "2 fixes"},
                {"host": "db9", "state": "unreachable", "detail": "ssh: no route"},
                {"host": "web7", "state": "failed", "detail": "pre-audit failed"},
                {"host": "web8", "state": "not run", "detail": "rollout stopped after web7"}]
    fleet = rp.fleet_report(reports[:2], [outcomes[1]], fx.GENERATED_AT, outcomes=outcomes)
    rows = sections.fleet_rows(fleet)
    assert [(r["host"], r["state"]) for r in rows] == [("lab1", "audited"), ("clean", "audited"),
                                                       ("db9", "unreachable"), ("web7", "failed"),
                                                       ("web8", "not run")]
    assert rows[0]["outcome"]["state"] == "remediated" and rows[1]["outcome"] is None
    assert [r["alert"] for r in rows] == [False, False, True, True, True]
    page = render.fleet_html(fleet)
    doc = Page(page)
    assert [th for th in page.split("<thead>")[1].split("</thead>")[0].split("<th>")][3].startswith("Outcome")
    assert [a["data-host"] for a in doc.find("tr") if "data-host" in a] == [r["host"] for r in rows]
    assert "2 fixes" in page and "rollout stopped after web7" in page
    assert "Fleet remediation summary" in page


@pytest.fixture(scope="module")
def page(fleet):
    return render.fleet_html(fleet)


def test_page_is_well_formed_and_self_contained(page):
    structure = Structure(page)
    assert not structure.errors and not structure.stack
    assert page.startswith("<!DOCTYPE html>")
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\';' in page
    assert page.lower().count("<script") == 1 and "src=" not in page  # audit.js inline, nothing loaded
    doc = Page(page)
    assert doc.find("table", id="fleet-table", **{"class": "sortable"})
    assert "Outcome" not in page  # an audit has no remediation outcome column


def test_page_rows_counts_and_unreachable_hosts(page, fleet):
    doc = Page(page)
    rows = [a for a in doc.find("tr") if "data-host" in a]
    assert [(r["data-host"], r["data-state"]) for r in rows] == [
        ("lab1", "audited"), ("zz" + HOSTILE, "audited"), ("clean", "audited"),
        ("db10", "unreachable"), ("db9", "unreachable")]
    lab_links = [a for a in doc.find("a") if a.get("href", "").startswith("lab1/")]
    lab_counts = [c for c in sections.fleet_rows(fleet)[0]["counts"] if c["count"]]
    assert len(lab_links) == 1 + len(lab_counts)   # the host's page, then one link per non-zero count
    first_row = page.split('data-host="lab1"')[1].split("</tr>")[0]
    for c in lab_counts:
        assert '<a href="lab1/audit.html#findings" title="%d %s findings on lab1">%d</a>' % (
            c["count"], c["severity"], c["count"]) in first_row
    warn = page.split('id="not-audited"')[1].split("</p>")[0]
    assert "<b>db10</b> (unreachable)" in warn and "<b>db9</b> (unreachable)" in warn
    assert "ssh: connect timed out" in page
    total = page.split("<tfoot>")[1].split("</tfoot>")[0]
    assert '<th data-severity="critical">%d</th>' % fleet["totals"]["findings"]["critical"] in total


def test_page_escapes_everything_and_carries_no_secret(page, fleet):
    assert HOSTILE not in page and "zz&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = " ".join(Page(page).text)
    assert "None" not in text and "True" not in text and "False" not in text
    assert fx.PLANTED not in page and fx.PLANTED not in render.fleet_markdown(fleet)


def test_a_failed_audit_is_named_failed_in_both_pages(reports):
    fleet = rp.fleet_report(reports[:1], ["db9", {"host": "web7", "state": "failed", "error": "no baseline"}],
                            fx.GENERATED_AT)
    assert [(r["host"], r["state"], r["detail"]) for r in sections.fleet_rows(fleet)] == [
        ("clean", "audited", None), ("db9", "unreachable", None), ("web7", "failed", "no baseline")]
    page = render.fleet_html(fleet)
    assert '<tr class="alert" data-host="web7" data-state="failed">' in page and "1 failed)" in page
    assert "<b>web7</b> (failed)" in page.split('id="not-audited"')[1].split("</p>")[0]
    md = render.fleet_markdown(fleet)
    assert "(1 audited, 1 unreachable, 1 failed)" in md and "- **web7** (audit failed): no baseline" in md


def test_an_empty_fleet_renders():
    fleet = rp.fleet_report([], ["only"], fx.GENERATED_AT)
    page = render.fleet_html(fleet)
    assert not Structure(page).errors and "No findings." in page and "<b>only</b> (unreachable)" in page


def test_the_module_writes_fleet_html_0600(run_module, tmp_path, reports):
    out = run_module(audit_report, dict(dest=str(tmp_path / "r"), fleet=True, reports=copy.deepcopy(reports[:2]),
                                        unreachable=["db9"]))
    assert not out.get("failed"), out
    assert sorted(os.path.basename(p) for p in out["files"]) == ["fleet.html", "fleet.json", "fleet.md"]
    html = tmp_path / "r" / "fleet.html"
    assert oct(html.stat().st_mode & 0o777) == "0o600"
    assert all(h in html.read_text() for h in ("lab1", "clean", "db9"))
    assert json.loads((tmp_path / "r" / "fleet.json").read_text())["totals"]["hosts"] == 3
