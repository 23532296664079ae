# -*- coding: utf-8 -*-
"""compose_audit runs on the controller, in the task's worker process.

The rules read only the facts gathered on the host; running them here spares each host a module
transfer, an interpreter start and a second round-trip of its facts, and the target needs nothing for
them. With ``gather`` the action runs compose_facts on the host itself, and with ``report_files`` it
writes the host's reports itself: the facts (~80 KB per host) and the report (~200 KB) then never pass
through Ansible's variables, templating and argument checks between tasks, which is most of what a
fleet audit costs the controller. The documentation, the argument spec and the logic are the
module's (library/compose_audit.py, module_utils/compose_doctor/audit.py, output/report_files.py).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import traceback

import ansible.module_utils
from ansible import constants as C
from ansible.plugins.action import ActionBase


# The project's module_utils on the controller: where Ansible is configured to find them (ansible.cfg,
# ANSIBLE_MODULE_UTILS, the EE's /usr/share/ansible/plugins/module_utils).
ansible.module_utils.__path__.extend(p for p in C.DEFAULT_MODULE_UTILS_PATH if p not in ansible.module_utils.__path__)

from ansible.module_utils.compose_doctor import audit  # noqa: E402
from ansible.module_utils.compose_doctor.output import pages, report_files  # noqa: E402

# Loaded here, in the playbook's main process (the strategy imports the action once, before it forks
# a worker per host), the report templates are compiled, and the audit role's data files read and its
# crash-loop catalogue compiled, once per run instead of once per host.
pages.preload(pages.default_templates_dir())
audit.preload(pages.default_role_dir("files"))


class ActionModule(ActionBase):
    _supports_check_mode = True     # read-only: the same in check mode (reports are output, see the role)
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=audit.ARGUMENT_SPEC,
                                                    mutually_exclusive=audit.MUTUALLY_EXCLUSIVE,
                                                    required_one_of=audit.REQUIRED_ONE_OF)
        params = dict(params, host=params.get("host") or (task_vars or {}).get("inventory_hostname"))
        try:
            params = audit.check_inputs(params)
            gather = audit.load_gather_data(params["gather"])
            files = None if params["report_files"] is None else report_files.host_params(params["report_files"])
        except audit.AuditInputError as exc:
            return dict(result, failed=True, msg=str(exc))
        except report_files.ReportFilesError as err:    # before the host is read
            return dict(result, **err.as_result())
        if gather is not None:
            facts = self._gather(gather, task_vars)
            if facts.get("failed"):
                return dict(result, **facts)
            result.update((k, facts[k]) for k in ("warnings", "deprecations", "missing_libraries") if facts.get(k))
            if facts.get("missing_libraries") and params["stop_on_missing_libraries"]:
                return dict(result, changed=False, msg="the host's Python lacks %s: not evaluated"
                            % ", ".join(facts["missing_libraries"]))
            params.update(compose=facts.get("compose") or {}, runtime=facts.get("runtime") or {})
        try:
            report = audit.run(params)
        except Exception as exc:  # a rule bug must not hide the facts: say which, with the trace
            return dict(result, failed=True, exception=traceback.format_exc(),
                        msg="compose_audit failed while evaluating the rules: %s" % exc)
        result.update(changed=False, **audit.result(report, params["fail_on"]))
        if files is not None:
            try:
                result.update(report_files.write(dict(files, report=report)))
            except report_files.ReportFilesError as err:
                return dict(result, **err.as_result())
            if result.get("files"):
                result["lines"][0] += "; reports in %s" % os.path.join(result["dest"], result.get("run") or "")
        return result

    def _gather(self, options, task_vars):
        """compose_facts' result for ``options`` on the task's host (its connection, become and
        environment), as the module returned it; a failure keeps the module's message."""
        try:
            facts = self._execute_module(module_name="compose_facts", module_args=options, task_vars=task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if facts.get("failed"):
            return dict(failed=True, msg="gather: %s" % facts.get("msg", "compose_facts failed"),
                        **dict((k, facts[k]) for k in ("exception", "module_stderr", "module_stdout", "rc")
                               if k in facts))
        return facts
