# -*- coding: utf-8 -*-
"""Suppressions and the baseline: which findings count, which are silenced, which are new.

Pure logic, stdlib only (the ignore file is read through ``compose_yaml``); the one home for
ignore entries and for comparing an audit with an earlier one.

**Suppressions** are written in two places, with the same fields ``{rule, reason, until}``
(plus, optionally, ``service`` and ``target`` to narrow them):

* in the compose files, Compose-native (Compose ignores ``x-`` keys):
  ``services.<name>.x-compose-doctor.ignore: [...]`` (scoped to that service) and the top-level
  ``x-compose-doctor.ignore: [...]`` (an entry may name ``service:``). Read from the files as
  written (``docker compose config --format json`` drops a service's ``x-`` keys), with lines.
  SARIF kind ``inSource``.
* per project, in the ignore file ``.compose-doctor-ignore.yml`` of the project dir (or the file
  the audit names): ``ignore: [...]``. SARIF kind ``external``.

An entry suppresses the findings of its ``rule`` (of its ``service`` / ``target`` when given) until
the end of its ``until`` day (ISO ``YYYY-MM-DD``, UTC, the audit's date); past it the finding is
reported again with the note "suppression expired on <date>". An entry without a reason, with an
unknown rule id, a date that is not ``YYYY-MM-DD`` or an unknown key is refused: it suppresses
nothing and becomes a ``suppression-refused`` finding naming the file, line and key. Nothing here
raises on odd input; a reason is masked (``redact.redact_text``) before it reaches a report.

**Baseline**: an earlier ``audit.json``. Findings whose stable id (``<rule>:<target>``) it holds
are ``known``, the others ``new``; its findings gone now are ``fixed``. Only findings that are
not ``known`` count for ``audit_fail_on`` (``gate_findings``).

Shapes:

* raw entry (``compose['suppressions']``, gathered on the host)::

    {kind: inSource|external, file, line, key, service, fields: {rule, reason, until, service,
     target: str}, unknown: [key], keys: {key: line}, error: str|None}

* suppression (a checked entry): ``{kind, rule, reason, until: 'YYYY-MM-DD'|None, service,
  target, file, line, by: 'file:line'}``
* refusal: ``{file, line, key, service, target, message}``
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import re

from ansible.module_utils.compose_doctor.facts.compose_yaml import (
    EXTENSION_KEY, MAX_COMPOSE_BYTES, ComposeFileError, load_ignore_text, plain,
)
from ansible.module_utils.compose_doctor.facts.project_paths import read_text_fs, relpath_in
from ansible.module_utils.compose_doctor.redact import redact_text

IGNORE_FILE = '.compose-doctor-ignore.yml'
REFUSED_RULE = 'suppression-refused'   # a refused suppression; itself never suppressible
FIELDS = ('rule', 'reason', 'until', 'service', 'target')
_DATE_RE = re.compile(r'^\d{4}-\d{2}-\d{2}$')


# --------------------------------------------------------------------------------------------
# gathering (on the host)
# --------------------------------------------------------------------------------------------

def _text(value):
    """A field as text: dates as ISO ``YYYY-MM-DD`` (YAML reads ``2026-12-31`` as a date)."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, (dict, list)):
        return value
    return str(value)


def _entry(kind, file, loc, key, service, item):
    out = {'kind': kind, 'file': file, 'line': loc.get('line'), 'key': key, 'service': service,
           'fields': {}, 'unknown': [], 'keys': dict(loc.get('keys') or {}), 'error': None}
    if not isinstance(item, dict):
        out['error'] = 'an ignore entry must be a mapping with rule, reason and until'
        return out
    for name, value in item.items():
        if str(name) == 'reason' and isinstance(value, str):
            out['fields']['reason'] = redact_text(value)   # free text: masked where it is read
        elif str(name) in FIELDS:
            out['fields'][str(name)] = _text(value)
        else:
            out['unknown'].append(str(name))
    return out


def entries_of(extension, kind, file, lines, prefix, service=None):
    """Raw entries of one ``ignore:`` holder.

    ``extension``: the plain mapping holding ``ignore`` (an ``x-compose-doctor`` value or an
    ignore file's top level), ``lines``: its ``compose_yaml.ignore_lines``, ``prefix``: the key
    path of ``extension`` (``services.web.x-compose-doctor``; ``''`` for an ignore file),
    ``service``: the service the entries are scoped to. Never raises: a wrong shape is one entry
    with ``error``.
    """
    dot = prefix + '.' if prefix else ''
    if extension is None:
        return []
    if not isinstance(extension, dict) or not isinstance(extension.get('ignore', []), list):
        return [dict(_entry(kind, file, {}, dot + 'ignore', service, {}),
                     error='%s must be a mapping whose ignore is a list of entries' % (prefix or 'the ignore file'))]
    return [_entry(kind, file, lines[i] if i < len(lines) else {}, '%signore[%d]' % (dot, i), service, item)
            for i, item in enumerate(extension.get('ignore') or [])]


def in_source_entries(sources, layers):
    """Raw ``inSource`` entries of the compose files Compose reads.

    ``sources``: ``{rel: {plain, index, via}}`` (``compose_model.load_sources``), ``layers``:
    ``{service: [{file, name, service}]}`` (``compose_model.service_layers``). A service's entries
    come from every layer of it (its ``extends:`` bases included), in merge order.
    """
    out = []
    for rel, src in sources.items():
        if src.get('via') != 'extends' and isinstance(src.get('plain'), dict):
            lines = ((src.get('index') or {}).get('ignore') or {}).get('', [])
            out += entries_of(src['plain'].get(EXTENSION_KEY), 'inSource', rel, lines, EXTENSION_KEY)
    for name in sorted(layers):
        for layer in layers[name]:
            svc = plain(layer.get('service')) or {}
            index = (sources.get(layer['file']) or {}).get('index') or {}
            lines = (index.get('ignore') or {}).get(layer['name'], [])
            out += entries_of(svc.get(EXTENSION_KEY), 'inSource', layer['file'], lines,
                              'services.%s.%s' % (layer['name'], EXTENSION_KEY), name)
    return out


def ignore_file_entries_fs(project_dir, path=None, max_bytes=MAX_COMPOSE_BYTES):
    """Raw ``external`` entries of the project's ignore file.

    ``path``: the file (absolute, or relative to ``project_dir``); empty means
    ``<project_dir>/.compose-doctor-ignore.yml``, which may be missing. A named file that is
    missing, too large (``max_bytes``) or does not parse is one entry with ``error``.
    """
    full = os.path.join(project_dir, path or IGNORE_FILE)
    rel = relpath_in(project_dir, full)
    shown = full if rel.startswith('..') else rel
    if not os.path.isfile(full):
        if not path:
            return []
        return [dict(_entry('external', shown, {}, 'ignore', None, {}), error='ignore file %s not found' % full)]
    try:
        if os.path.getsize(full) > max_bytes:
            raise ComposeFileError(shown, 'refused: over %d bytes' % max_bytes, 1, 1)
        data, lines = load_ignore_text(read_text_fs(full), shown)
    except ComposeFileError as exc:
        return [dict(_entry('external', shown, {'line': exc.line}, 'ignore', None, {}), error=exc.human())]
    except (IOError, OSError, ValueError) as exc:
        return [dict(_entry('external', shown, {}, 'ignore', None, {}),
                     error='cannot read %s: %s' % (shown, getattr(exc, 'strerror', None) or type(exc).__name__))]
    return entries_of(data, 'external', shown, lines, '')


# --------------------------------------------------------------------------------------------
# checking and applying (anywhere)
# --------------------------------------------------------------------------------------------

def parse_until(text):
    """``'YYYY-MM-DD'`` -> datetime.date; None for anything else (never raises)."""
    if not isinstance(text, str) or not _DATE_RE.match(text):
        return None
    try:
        return datetime.date(*(int(p) for p in text.split('-')))
    except ValueError:
        return None


def _refusal(entry, key, message):
    line = (entry.get('keys') or {}).get(key) or entry.get('line') if key else entry.get('line')
    path = '%s.%s' % (entry.get('key'), key) if key else entry.get('key')
    return {'file': entry.get('file'), 'line': line, 'key': path, 'service': entry.get('service'),
            'target': '%s#%s' % (entry.get('file'), path), 'message': message}


def check_entry(entry, known_rules):
    """(suppression, None) for a valid raw entry, (None, refusal) otherwise; ``known_rules``: ids."""
    fields = entry.get('fields') or {}
    rule, reason, until = fields.get('rule'), fields.get('reason'), fields.get('until')
    if entry.get('error'):
        return None, _refusal(entry, None, entry['error'])
    if entry.get('unknown'):
        return None, _refusal(entry, entry['unknown'][0], 'unknown key %r (known: %s)'
                              % (entry['unknown'][0], ', '.join(FIELDS)))
    if not rule:
        return None, _refusal(entry, None, 'the entry names no rule')
    if rule not in known_rules or rule == REFUSED_RULE:
        return None, _refusal(entry, 'rule', 'unknown rule id %r' % rule if rule != REFUSED_RULE
                              else '%s findings cannot be suppressed' % REFUSED_RULE)
    if not isinstance(reason, str) or not reason.strip():
        return None, _refusal(entry, 'reason' if 'reason' in fields else None,
                              'a suppression without a reason is refused (rule %s)' % rule)
    if until is not None and parse_until(until) is None:
        return None, _refusal(entry, 'until', 'until %r is not a date YYYY-MM-DD' % (until,))
    service = entry.get('service') or fields.get('service')
    return {'kind': entry.get('kind'), 'rule': rule, 'reason': redact_text(reason.strip()), 'until': until,
            'service': service, 'target': fields.get('target'), 'file': entry.get('file'),
            'line': entry.get('line'), 'by': '%s:%s' % (entry.get('file'), entry.get('line') or '?')}, None


def refused(entries, known_rules):
    """Refusals of ``entries`` (raw), in order: what the ``suppression-refused`` rule reports."""
    return [r for _s, r in (check_entry(e, known_rules) for e in entries or []) if r]


def _matches(sup, finding):
    return (sup['rule'] == finding.get('rule')
            and (not sup['service'] or sup['service'] == finding.get('service'))
            and (not sup['target'] or sup['target'] in (finding.get('target'), finding.get('id'))))


def _expired(sup, today):
    return bool(sup['until']) and parse_until(sup['until']) < today


def apply(findings, entries, known_rules, today):
    """Split ``findings`` by the valid suppressions among ``entries``.

    ``today``: datetime.date or ``'YYYY-MM-DD'`` (the audit's date). Returns ``{findings: open
    (an expired match gets ``suppression_expired`` and an evidence note), suppressed: findings
    with ``suppression``, notes: [info line], counts: {applied, expired, refused, unused}}``.
    Input findings are not modified.
    """
    today = parse_until(today) if isinstance(today, str) else today
    sups = [s for s, _r in (check_entry(e, known_rules) for e in entries or []) if s]
    used, opened, suppressed, notes = set(), [], [], []
    for finding in findings or []:
        f = dict(finding)
        hits = [s for s in sups if f.get('rule') != REFUSED_RULE and _matches(s, f)]
        live = [s for s in hits if not _expired(s, today)]
        if live:
            used.add(id(live[0]))
            f['suppression'] = dict((k, live[0][k]) for k in ('kind', 'reason', 'until', 'file', 'line', 'by'))
            suppressed.append(f)
            continue
        if hits:
            used.add(id(hits[0]))
            note = 'suppression expired on %s (%s)' % (hits[0]['until'], hits[0]['by'])
            f['suppression_expired'] = {'until': hits[0]['until'], 'reason': hits[0]['reason'], 'by': hits[0]['by']}
            f['evidence'] = '%s\n%s' % (f.get('evidence') or '', note)
            notes.append('%s: %s is reported again' % (note, f.get('id')))
        opened.append(f)
    unused = [s for s in sups if id(s) not in used]
    notes += ['suppression %s (rule %s) matched no finding' % (s['by'], s['rule']) for s in unused]
    if suppressed:
        notes.insert(0, '%d finding(s) suppressed, not counted in the score nor the gate' % len(suppressed))
    counts = {'applied': len(suppressed), 'expired': len([f for f in opened if f.get('suppression_expired')]),
              'refused': len(refused(entries, known_rules)), 'unused': len(unused)}
    return {'findings': opened, 'suppressed': suppressed, 'notes': notes, 'counts': counts}


# --------------------------------------------------------------------------------------------
# baseline
# --------------------------------------------------------------------------------------------

def check_baseline(baseline):
    """Raise ValueError unless ``baseline`` is None/{} or an audit.json dict (schema_version, findings list)."""
    if not baseline:
        return
    if not isinstance(baseline, dict) or 'schema_version' not in baseline or not isinstance(
            baseline.get('findings'), list):
        raise ValueError('the baseline must be an audit.json written by audit_report '
                         '(a mapping with schema_version and a findings list)')


def compare_baseline(findings, suppressed, baseline):
    """Mark ``findings`` and ``suppressed`` (lists of dicts, changed in place) with
    ``baseline_state`` ``new`` or ``known``; None when there is no baseline.

    Returns ``{generated_at, host, new, known, fixed: count, fixed_findings: [{id, rule, severity,
    priority, title, target, service, cis}]}``; a baseline finding (suppressed or not) whose id
    is gone is fixed. ValueError when ``baseline`` is not an audit.json (``check_baseline``).
    """
    check_baseline(baseline)
    if not baseline:
        return None
    before = list(baseline.get('findings') or []) + list(baseline.get('suppressed') or [])
    known = set(f.get('id') for f in before if isinstance(f, dict))
    now = set()
    for f in list(findings) + list(suppressed):
        f['baseline_state'] = 'known' if f.get('id') in known else 'new'
        now.add(f.get('id'))
    fixed = [dict((k, f.get(k)) for k in ('id', 'rule', 'severity', 'priority', 'title', 'target', 'service', 'cis'))
             for f in before if isinstance(f, dict) and f.get('id') not in now]
    return {'generated_at': baseline.get('generated_at'), 'host': baseline.get('host'),
            'new': len([f for f in findings if f['baseline_state'] == 'new']),
            'known': len([f for f in findings if f['baseline_state'] == 'known']),
            'fixed': len(fixed), 'fixed_findings': fixed}


def gate_findings(findings):
    """The findings ``audit_fail_on`` applies to: open findings the baseline did not know."""
    return [f for f in findings or [] if f.get('baseline_state') != 'known']


def annotate_report(report, outcome, baseline_summary):
    """Add the suppression and baseline blocks to a built report (changed in place, returned).

    Sets ``suppressed`` (findings with ``suppression``), ``suppressions`` ({applied, expired,
    refused, unused, notes}), ``baseline`` (``compare_baseline``'s dict or None) and in ``summary``
    ``suppressed`` (count) and ``baseline`` ({new, known, fixed} or None).
    """
    report['suppressed'] = list(outcome.get('suppressed') or [])
    report['suppressions'] = dict(outcome.get('counts') or {}, notes=list(outcome.get('notes') or []))
    report['baseline'] = baseline_summary
    summary = report.setdefault('summary', {})
    summary['suppressed'] = len(report['suppressed'])
    summary['baseline'] = dict((k, baseline_summary[k]) for k in ('new', 'known', 'fixed')) if baseline_summary else None
    return report
