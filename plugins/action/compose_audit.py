# -*- coding: utf-8 -*-
"""compose_audit runs on the controller, in the task's worker process.

The rules read only the facts the two facts modules gathered on the host; running them here spares
each host a module transfer, an interpreter start and a second round-trip of its facts (about a
third of a second per host), and the target needs nothing for them. The documentation, the argument
spec and the logic are the module's (library/compose_audit.py, module_utils/compose_doctor/audit.py).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

import ansible.module_utils
from ansible import constants as C
from ansible.plugins.action import ActionBase


# The project's module_utils on the controller: where Ansible is configured to find them (ansible.cfg,
# ANSIBLE_MODULE_UTILS, the EE's /usr/share/ansible/plugins/module_utils).
ansible.module_utils.__path__.extend(p for p in C.DEFAULT_MODULE_UTILS_PATH if p not in ansible.module_utils.__path__)

from ansible.module_utils.compose_doctor import audit  # noqa: E402


class ActionModule(ActionBase):
    _supports_check_mode = True     # read-only: the same in check mode
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=audit.ARGUMENT_SPEC)
        params = dict(params, host=params.get("host") or (task_vars or {}).get("inventory_hostname"))
        try:
            policy = audit.check_inputs(params)
        except audit.AuditInputError as exc:
            return dict(result, failed=True, msg=str(exc))
        try:
            report = audit.run(dict(params, policy=policy))
        except Exception as exc:  # a rule bug must not hide the facts: say which, with the trace
            return dict(result, failed=True, exception=traceback.format_exc(),
                        msg="compose_audit failed while evaluating the rules: %s" % exc)
        result.update(changed=False, **audit.result(report))
        return result
