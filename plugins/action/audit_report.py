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


import ansible.module_utils
from ansible import constants as C
from ansible.plugins.action import ActionBase

# The project's module_utils on the controller: where Ansible is configured to find them (ansible.cfg,
# ANSIBLE_MODULE_UTILS, the EE's /usr/share/ansible/plugins/module_utils).
ansible.module_utils.__path__.extend(p for p in C.DEFAULT_MODULE_UTILS_PATH if p not in ansible.module_utils.__path__)

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
            result.update(err.as_result())
        return result
