"""Writing the report files: a host's audit files, the fleet summary, or the remediation summary.

One home for what the ``audit_report`` module and its action plugin (plugins/action/audit_report.py,
which runs it in the controller's worker) both do: the argument spec, the checks, rendering every
file before any write, atomic 0600 writes into a 0700 folder, and the kept runs (report_runs).
"""
from __future__ import absolute_import, division, print_function

import json
import os
import traceback

from ansible.module_utils.compose_doctor.change.safe_write import SafeWriteError, atomic_write
from ansible.module_utils.compose_doctor.output import pages, remediation, render, report_runs
from ansible.module_utils.compose_doctor.output.report import fleet_report

# (format, file, writer(report, templates directory)); md and html are Jinja2 templates
HOST_FILES = [
    ("json", "audit.json", lambda r, t: json.dumps(r, indent=2, sort_keys=True, default=str) + "\n"),
    ("md", "audit.md", render.to_markdown),
    ("html", "audit.html", render.to_html),
    ("sarif", "audit.sarif", lambda r, t: render.to_sarif(r)),
    ("junit", "junit.xml", lambda r, t: render.to_junit(r)),
    ("prom", "compose_doctor.prom", lambda r, t: render.to_prometheus(r)),
]
TEMPLATED = ("md", "html")
FILE_MODE = 0o600
DIR_MODE = 0o700

ARGUMENT_SPEC = dict(
    dest=dict(type="path", required=True),
    report=dict(type="dict"),
    templates=dict(type="path"),
    formats=dict(type="list", elements="str", choices=[f[0] for f in HOST_FILES], default=[f[0] for f in HOST_FILES]),
    fleet=dict(type="bool", default=False),
    reports=dict(type="list", elements="dict", default=[]),
    hosts=dict(type="list", elements="str", default=[]),
    unreachable=dict(type="list", elements="raw", default=[]),
    outcomes=dict(type="list", elements="dict", default=[]),
    before=dict(type="dict"),
    fixes=dict(type="list", elements="dict", default=[]),
    check_mode_run=dict(type="bool", default=False),
    keep=dict(type="int", default=0),
    before_run=dict(type="str"),
)
REQUIRED_IF = [("fleet", False, ("report",))]
# What compose_audit's report_files option takes: a host's files, written where the report is made.
HOST_OPTIONS = ("dest", "templates", "formats", "keep")
# Inputs that carry whole reports: named by their shape in the module's echoed invocation.
BULKY = ("report", "reports", "before", "outcomes")


class ReportFilesError(Exception):
    """Nothing usable was written: ``msg`` says why; ``files`` lists what was written before the
    failure; ``exception`` is the trace when rendering failed; ``missing_lib`` names a missing library."""

    def __init__(self, msg, files=None, exception=None, missing_lib=None):
        super(ReportFilesError, self).__init__(msg)
        self.msg, self.files, self.exception, self.missing_lib = msg, files, exception, missing_lib

    def as_result(self):
        """The failed task result an action plugin returns: failed, msg, and exception and files
        when known."""
        out = dict(failed=True, msg=self.msg)
        if self.exception:
            out["exception"] = self.exception
        if self.files is not None:
            out["files"] = self.files
        return out


def ensure_dir(path):
    if not os.path.isdir(path):
        os.makedirs(path, DIR_MODE)
        os.chmod(path, DIR_MODE)  # makedirs mode is masked by umask


def render_files(params, runs=None):
    """-> [(filename, text)] for the requested output; all rendering happens before any write.
    ``runs``: {before, after} run folder names the remediation summary links, when runs are kept."""
    if params.get("before"):
        summary = remediation.compare(params["before"], params["report"], params.get("fixes"),
                                      params.get("check_mode_run"), runs=runs)
        return [("remediation.json", json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n"),
                ("remediation.md", remediation.to_markdown(summary, params.get("templates")) + "\n")]
    if params.get("fleet"):
        fleet = fleet_report(params["reports"], params.get("unreachable") or [],
                             outcomes=params.get("outcomes") or [])
        return [("fleet.json", json.dumps(fleet, indent=2, sort_keys=True, default=str) + "\n"),
                ("fleet.md", render.fleet_markdown(fleet, params.get("templates"))),
                ("fleet.html", render.fleet_html(fleet, params.get("templates")))]
    report = params.get("report")
    wanted = params.get("formats") or [f[0] for f in HOST_FILES]
    return [(name, func(report, params.get("templates"))) for key, name, func in HOST_FILES if key in wanted]


def host_params(options, report=None):
    """compose_audit's ``report_files`` (HOST_OPTIONS) and its ``report`` -> every ARGUMENT_SPEC key,
    defaults filled in, for ``write`` (checked before the host is read: the report comes later).
    Raises ReportFilesError naming an unknown or invalid option."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    spec = dict((k, v) for k, v in ARGUMENT_SPEC.items() if k in HOST_OPTIONS)
    validated = ArgumentSpecValidator(spec).validate(dict(options or {}))
    if validated.error_messages:
        raise ReportFilesError("report_files: %s" % "; ".join(validated.error_messages))
    full = dict((k, v.get("default")) for k, v in ARGUMENT_SPEC.items())
    full.update(validated.validated_parameters, report=report)
    return full


def host_reports(dest, hosts):
    """The audit.json each of ``hosts`` has in ``dest``/<host>/ (what the audit role wrote there, the
    newest run when runs are kept): the fleet summary reads them from disk instead of taking every
    report through Ansible's variables. Raises ReportFilesError naming a host whose file is missing."""
    reports = []
    for host in hosts or []:
        path = os.path.join(dest, host, "audit.json")
        try:
            with open(path) as handle:
                reports.append(json.load(handle))
        except (IOError, OSError, ValueError) as exc:
            raise ReportFilesError("no audit.json for host %s in %s: %s" % (host, os.path.join(dest, host), exc)) from exc
    return reports


def check_params(p):
    """Raises ReportFilesError when a host report is not compose_audit's, or when a Markdown or HTML
    page is to be written (audit.md/html, fleet.md/html, remediation.md) and Jinja2 or its template is
    missing (saying which)."""
    report = p.get("report")
    if not p["fleet"] and (not isinstance(report, dict) or "schema_version" not in report):
        raise ReportFilesError("report must be the 'report' returned by compose_audit (no schema_version found)")
    if not (p["fleet"] or p.get("before")) and not set(p["formats"]) & set(TEMPLATED):
        return
    if pages.JINJA2_IMPORT_ERROR:
        raise ReportFilesError("Jinja2 is required for the Markdown and HTML reports", missing_lib="Jinja2",
                               exception=pages.JINJA2_IMPORT_ERROR)
    templates = p.get("templates") or pages.default_templates_dir()
    if p["fleet"]:
        needed = [pages.TEMPLATES["fleet"], pages.TEMPLATES["fleet_html"]]
    elif p.get("before"):
        needed = [pages.TEMPLATES["remediation"]]
    else:
        needed = [pages.TEMPLATES[f] for f in TEMPLATED if f in p["formats"]]
    missing = [n for n in needed if not templates or not os.path.isfile(os.path.join(templates, n))]
    if missing:
        raise ReportFilesError("report templates not found: %s in %s (set templates to the audit role's "
                               "templates/report)" % (", ".join(missing), templates or "no templates directory"))


def write(p, atomic_move=None):
    """Render, then write the files of ``p`` (ARGUMENT_SPEC's keys) -> {changed: False, dest, files,
    pruned, run?, remediation?}. ``atomic_move``: an AnsibleModule whose atomic_move places each
    file (keeps SELinux contexts), or None for os.replace. Raises ReportFilesError."""
    check_params(p)
    dest = p["dest"]
    if p["fleet"]:
        p = dict(p, reports=list(p.get("reports") or []) + host_reports(dest, p.get("hosts")))
    keep = 0 if p["fleet"] else p["keep"]
    runs = None
    if keep > 0 and p.get("before"):
        runs = {"before": p.get("before_run"), "after": report_runs.latest_run(dest)}
    try:
        outputs = render_files(p, runs)
    except Exception as exc:
        raise ReportFilesError("could not render the report: %s" % exc, exception=traceback.format_exc()) from exc
    written, result = [], dict(changed=False, dest=dest, pruned=[])
    try:
        ensure_dir(dest)
        folder = dest
        if keep > 0:
            run = (runs or {}).get("after") or report_runs.new_run(dest)
            folder, result["run"] = os.path.join(dest, run), run
        for name, text in outputs:
            written.append(atomic_write(os.path.join(folder, name), text, mode=FILE_MODE, module=atomic_move))
        if keep > 0:
            report_runs.point_latest(dest, result["run"], [name for name, _text in outputs])
            result["pruned"] = report_runs.prune(dest, keep)
    except (IOError, OSError, ValueError, SafeWriteError) as exc:
        raise ReportFilesError("could not write reports into %s: %s" % (dest, exc), files=written) from exc
    result["files"] = written
    if p.get("before"):
        result["remediation"] = json.loads(outputs[0][1])
    return result
