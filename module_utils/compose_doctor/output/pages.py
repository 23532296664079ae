# -*- coding: utf-8 -*-
"""audit.md and audit.html: the page context of ``sections.page`` rendered by Jinja2 templates.

The templates are files of the audit role (roles/audit/templates/report/); audit_report runs on the
controller (delegate_to: localhost, Ansible's own Python, which has Jinja2 as ansible-core does) and
is given their directory. HTML autoescapes everything; Markdown escapes each table cell (``md``).
"""
from __future__ import absolute_import, division, print_function

import contextlib
import os
import re
import traceback

try:
    import jinja2
    from markupsafe import Markup, escape
    JINJA2_IMPORT_ERROR = None
except ImportError:  # only the md and html formats need it; the module says so
    jinja2 = None
    JINJA2_IMPORT_ERROR = traceback.format_exc()

from ansible.module_utils.compose_doctor.output import sections

TEMPLATES = {"md": "audit.md.j2", "html": "audit.html.j2", "fleet": "fleet.md.j2", "fleet_html": "fleet.html.j2",
             "remediation": "remediation.md.j2"}
HTML_PAGES = ("html", "fleet_html")  # autoescaped; the others are Markdown
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_ENVIRONMENTS = {}


def default_role_dir(*parts):
    """A folder of the audit role beside this checkout's module_utils (e.g. "templates", "report");
    None when it is not there (this file runs from a module's payload: the caller names the folder)."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.normpath(os.path.join(here, "..", "..", "..", "roles", "audit", *parts))
    return path if os.path.isdir(path) else None


def default_templates_dir():
    """The audit role's report templates beside this checkout's module_utils (tests, scripts); None
    when this file runs from a module's payload, where the caller names the directory."""
    return default_role_dir("templates", "report")


def md_cell(text):
    """Escape for a Markdown table cell / inline text."""
    if text is None or (jinja2 and isinstance(text, jinja2.Undefined)):
        return "-"
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def md_code(text):
    """Body of a fenced code block: no fence can be closed from inside."""
    return str(text or "").replace("```", "'''")


def html_inline(text):
    """Escaped HTML with the report's `code spans` as <code> (no raw backtick reaches the page)."""
    if text is None or isinstance(text, jinja2.Undefined):
        return Markup("-")
    escaped = str(escape(str(text)))
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", escaped).replace("`", "&#96;"))


def html_value(value):
    """Every {{ }} of the HTML page: no Python None/True/False ever reaches it."""
    if value is None:
        return "-"
    if value is True or value is False:
        return "yes" if value else "no"
    return value


def preload(templates_dir):
    """Compile every page template of ``templates_dir`` now (None or no Jinja2: nothing). The action
    plugins call it in the playbook's main process, so the workers forked per host inherit the
    compiled templates (Jinja2 still reloads a template whose file changed)."""
    if jinja2 is None or not templates_dir:
        return
    for fmt, name in TEMPLATES.items():
        # missing or broken: the report that needs it says so when it renders
        with contextlib.suppress(jinja2.TemplateError):
            environment(templates_dir, "html" if fmt in HTML_PAGES else "md").get_template(name)


def environment(templates_dir, fmt):
    """The Jinja2 environment for ``fmt`` ('md' or 'html') over ``templates_dir``, built once."""
    templates_dir = os.path.realpath(templates_dir)
    key = (templates_dir, fmt)
    if key not in _ENVIRONMENTS:
        loader = jinja2.FileSystemLoader(templates_dir)
        env = jinja2.Environment(loader=loader, autoescape=fmt == "html", trim_blocks=True, lstrip_blocks=True,
                                 keep_trailing_newline=True, finalize=html_value if fmt == "html" else None)
        env.filters.update(md=md_cell, code=md_code, inline=html_inline)
        # CSS and JS are plain files inlined as they are (the page loads nothing): never parsed as templates
        env.globals.update(sev_icon=sections.SEV_ICON, pct=sections.pct, priority=sections.PRIORITY,
                           severities=sections.SEVERITIES,
                           asset=lambda name: Markup(loader.get_source(env, name)[0]))
        _ENVIRONMENTS[key] = env
    return _ENVIRONMENTS[key]


def render(report, fmt, templates_dir=None, context=None):
    """The text of page ``fmt`` (a TEMPLATES key: 'md' audit.md, 'html' audit.html, 'fleet' fleet.md,
    'fleet_html' fleet.html, 'remediation' remediation.md) for ``report``, or for ``context`` when given (fleet, remediation)."""
    if jinja2 is None:
        raise RuntimeError("Jinja2 is required to render %s: %s" % (TEMPLATES[fmt], JINJA2_IMPORT_ERROR))
    templates_dir = templates_dir or default_templates_dir()
    if not templates_dir:
        raise ValueError("no report templates: pass the audit role's templates/report directory")
    env = environment(templates_dir, "html" if fmt in HTML_PAGES else "md")
    return env.get_template(TEMPLATES[fmt]).render(context if context is not None else sections.page(report))
