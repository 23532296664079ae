# -*- coding: utf-8 -*-
"""Filters of compose-doctor's roles and playbooks.

``compose_error_lines``: the few lines of a failed Compose (or container) action a person needs,
without the result's container details. community.docker's Compose results list every container's
command line and environment, so the fixes register them ``no_log`` and print only this: the
error-looking lines of ``stderr`` and ``msg`` (last ``limit``), with ``KEY=value`` pairs of
secret-looking keys, ``--password value`` flags and URL credentials masked.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MASK = '********'
_ERROR_RE = re.compile(r'error|failed|denied|not found|no such|unable|cannot|could not|no matching', re.IGNORECASE)
_SECRET_WORD = r'(?:pass(?:word|wd)?|pwd|secret|token|api[-_]?key|auth[-_]?key|credential|private[-_]?key|[a-z]*key)'
_PAIR_RE = re.compile(r'(?i)(\b[\w.-]*' + _SECRET_WORD + r'[\w.-]*\s*[=:]\s*)("[^"]*"|\'[^\']*\'|\S+)')
_FLAG_RE = re.compile(r'(?i)(--?[\w-]*' + _SECRET_WORD + r'[\w-]*[ =])(\S+)')
_URL_RE = re.compile(r'(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@')


def _mask(line):
    line = _URL_RE.sub(r'\1' + MASK + '@', line)
    line = _FLAG_RE.sub(r'\1' + MASK, line)
    return _PAIR_RE.sub(r'\1' + MASK, line)


def compose_error_lines(result, limit=6):
    """str: ``' | '``-joined error lines of one result (or of the failed items of a loop result)."""
    results = result.get('results') if isinstance(result, dict) and 'results' in result else [result]
    lines = []
    for res in results:
        if not isinstance(res, dict) or not res.get('failed'):
            continue
        text = '\n'.join(str(res.get(k) or '') for k in ('stderr', 'msg'))
        for line in text.splitlines():
            line = line.strip()
            if line and _ERROR_RE.search(line) and _mask(line) not in lines:
                lines.append(_mask(line))
    return ' | '.join(lines[-int(limit):]) or '(Compose printed no error line)'


class FilterModule(object):
    def filters(self):
        return {'compose_error_lines': compose_error_lines}
