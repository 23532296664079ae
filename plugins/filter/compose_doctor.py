# -*- coding: utf-8 -*-
"""Filters of compose-doctor's roles and playbooks.

``compose_error_lines``: the few lines of a failed Compose (or container) action a person needs,
without the result's container details. community.docker's Compose results list every container's
command line and environment, so the fixes register them ``no_log`` and print only this: the
error-looking lines of ``stderr`` and ``msg`` (last ``limit``), masked by the project's one
masker (``redact.mask_text``: secret ``KEY=value`` pairs, ``--password value`` flags, URL credentials).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import ansible.module_utils

# One masker for the project (module_utils/compose_doctor/redact.py): this controller-side plugin
# reaches the project's module_utils the way scripts/bench.py does.
_MODULE_UTILS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             'module_utils')
if os.path.isdir(_MODULE_UTILS) and _MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(_MODULE_UTILS)

from ansible.module_utils.compose_doctor.redact import mask_text  # noqa: E402

_ERROR_RE = re.compile(r'error|failed|denied|not found|no such|unable|cannot|could not|no matching', re.IGNORECASE)


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
            if line and _ERROR_RE.search(line) and mask_text(line) not in lines:
                lines.append(mask_text(line))
    return ' | '.join(lines[-int(limit):]) or '(Compose printed no error line)'


class FilterModule(object):
    def filters(self):
        return {'compose_error_lines': compose_error_lines}
