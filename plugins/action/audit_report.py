# -*- coding: utf-8 -*-
"""audit_report runs on the controller, in the task's worker process.

The reports are written on the controller anyway; running the writer here spares each host a
module payload, an interpreter start and a JSON round-trip of its whole report. Documentation,
argument spec and logic are the module's (library/audit_report.py,
module_utils/compose_doctor/output/report_files.py). Files are moved into place with os.replace
(the module uses AnsibleModule.atomic_move).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import ansible.module_utils
from ansible import constants as C
from ansible.plugins.action import ActionBase

# The same lookup as plugins/filter/compose_doctor.py (a plugin cannot import another's code).
def _reach_module_utils():
    """Make ``ansible.module_utils.compose_doctor`` importable on the controller: the first of
    Ansible's configured module_utils dirs (ansible.cfg, ANSIBLE_MODULE_UTILS, the EE's
    /usr/share/ansible/plugins/module_utils) that holds it, else the repository's own."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = list(C.config.get_config_value('DEFAULT_MODULE_UTILS_PATH') or [])
    candidates += [os.path.join(here, os.pardir, os.pardir, 'module_utils'), os.path.join(here, os.pardir, 'module_utils')]
    for path in candidates:
        path = os.path.realpath(path)
        if os.path.isdir(os.path.join(path, 'compose_doctor')):
            if path not in ansible.module_utils.__path__:
                ansible.module_utils.__path__.append(path)
            return


_reach_module_utils()

from ansible.module_utils.compose_doctor.output import report_files  # noqa: E402


class ActionModule(ActionBase):
    _supports_check_mode = True     # reports are output, written in check mode too (see the role)
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=report_files.ARGUMENT_SPEC,
                                                    required_if=report_files.REQUIRED_IF)
        try:
            result.update(report_files.write(params))
        except report_files.ReportFilesError as err:
            result.update(failed=True, msg=err.msg)
            if err.exception:
                result["exception"] = err.exception
            if err.files is not None:
                result["files"] = err.files
        return result
