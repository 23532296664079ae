# -*- coding: utf-8 -*-
"""Filters of compose-doctor's roles and playbooks.

``healthcheck_candidates``: other probes for a health check whose tool the image lacks (the
crash-loop doctor's fix; the logic is module_utils/compose_doctor/analysis/crashloop.py).
``compose_error_lines``: the few lines of a failed Compose (or container) action a person needs,
without the result's container details. community.docker's Compose results list every container's
command line and environment, so the fixes register them ``no_log`` and print only this: the
error-looking lines of ``stderr`` and ``msg`` (last ``limit``), masked by the project's one
masker (``redact.mask_text``: secret ``KEY=value`` pairs, ``--password value`` flags, URL credentials).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re

import ansible.module_utils
from ansible import constants as C


# The project's module_utils on the controller: where Ansible is configured to find them (ansible.cfg,
# ANSIBLE_MODULE_UTILS, the EE's /usr/share/ansible/plugins/module_utils).
ansible.module_utils.__path__.extend(p for p in C.DEFAULT_MODULE_UTILS_PATH if p not in ansible.module_utils.__path__)

from ansible.module_utils.compose_doctor.analysis.crashloop import (  # noqa: E402
    executable_mode, gated_depends_on, joined_networks, mounted_host_path, pinned_image, port_probe_candidates,
    probe_candidates, shadow_mask_path, start_period_plan)
from ansible.module_utils.compose_doctor.change.hardening import plan as hardening_service_plan  # noqa: E402
from ansible.module_utils.compose_doctor.facts.dockerfile import copied_from_context  # noqa: E402
from ansible.module_utils.compose_doctor.redact import mask_text  # noqa: E402

_ERROR_RE = re.compile(r'error|failed|denied|not found|no such|unable|cannot|could not|no matching', re.IGNORECASE)


def _build_log_lines(stdout):
    """Lines of the build log: Compose's JSON progress on stdout carries each step's output
    base64-encoded under ``logs[].data`` (where pip says which package it could not find)."""
    for raw in (stdout or '').splitlines():
        if '"logs"' not in raw:
            continue
        try:
            logs = json.loads(raw).get('logs') or []
        except (ValueError, AttributeError):
            continue
        for log in logs:
            try:
                text = base64.b64decode(log.get('data') or '').decode('utf-8', 'replace')
            except (ValueError, TypeError, AttributeError):
                continue
            for line in text.splitlines():
                yield line


def _error_lines(lines, seen):
    out = []
    for line in lines:
        line = mask_text(line.strip())
        if line and _ERROR_RE.search(line) and line not in seen and line not in out:
            out.append(line)
    return out


def compose_error_lines(result, limit=6):
    """str: ``' | '``-joined error lines of one result (or of the failed items of a loop result):
    the last error lines of a failed build's log first, then Compose's own (``limit`` in all)."""
    results = result.get('results') if isinstance(result, dict) and 'results' in result else [result]
    build, compose = [], []
    for res in results:
        if not isinstance(res, dict) or not res.get('failed'):
            continue
        compose += _error_lines('\n'.join(str(res.get(k) or '') for k in ('stderr', 'msg')).splitlines(), compose)
        build += _error_lines(_build_log_lines(res.get('stdout')), build)
    keep = max(int(limit) // 2, 1) if build else 0
    lines = build[-keep:] + compose[-(int(limit) - keep):] if keep else compose[-int(limit):]
    return ' | '.join(lines) or '(Compose printed no error line)'


def healthcheck_candidates(test, missing_tool=None):
    """Health-check tests asking what ``test`` asks with other tools (crashloop.probe_candidates)."""
    return probe_candidates(test, missing_tool)


def port_healthcheck_candidates(port):
    """Health-check tests for a service listening on ``port`` (crashloop.port_probe_candidates)."""
    return port_probe_candidates(port)


def gate_dependency(depends_on, target):
    """depends_on with ``target`` gated on service_healthy (crashloop.gated_depends_on)."""
    return gated_depends_on(depends_on, target)


def script_executable_mode(mode):
    """Mode with execute where read is allowed, '' when that would be world-writable (crashloop.executable_mode)."""
    return executable_mode(mode) or ''


def host_path_in_mounts(mounts, path):
    """The host path of a container path through its bind/volume mount (crashloop.mounted_host_path)."""
    return mounted_host_path(mounts, path)


def join_network(networks, network):
    """A service's networks with ``network`` added, settings kept (crashloop.joined_networks)."""
    return joined_networks(networks, network)


def shadowed_path_mask(mounts, working_dir, captures):
    """The path to cover with an anonymous volume, '' when none helps (crashloop.shadow_mask_path)."""
    return shadow_mask_path(mounts, working_dir, captures or {}) or ''


def image_pinned_to(image, old, version_parts=None):
    """{'image': pinned ref or '', 'why': reason it cannot be pinned or ''} (crashloop.pinned_image)."""
    new, why = pinned_image(image, old, version_parts)
    return {'image': new or '', 'why': why or ''}


def dockerfile_source(text, image_path):
    """The build-context file a Dockerfile copies to ``image_path`` (dockerfile.copied_from_context)."""
    return copied_from_context(text, image_path)


def mask_line(line):
    """One line (a container's last log line) masked by the project's masker (redact.mask_text)."""
    return mask_text(str(line or ''))


def hardening_plan(service, pids_limit, cap_drop_all=False, localhost_ports=False, database_ports=()):
    """The keys the hardening fix writes on one raw service mapping (change/hardening.plan)."""
    return hardening_service_plan(service, pids_limit, cap_drop_all, localhost_ports, database_ports)


def start_period_raise(written, effective, captures, cap_s, api_version=None):
    """{'set': health-check keys, 'seconds', 'why': refusal or ''} (crashloop.start_period_plan)."""
    return start_period_plan(written, effective, captures or {}, cap_s, api_version)


class FilterModule(object):
    def filters(self):
        return {'compose_error_lines': compose_error_lines, 'healthcheck_candidates': healthcheck_candidates,
                'port_healthcheck_candidates': port_healthcheck_candidates, 'gate_dependency': gate_dependency,
                'dockerfile_source': dockerfile_source, 'executable_mode': script_executable_mode,
                'host_path_in_mounts': host_path_in_mounts, 'join_network': join_network,
                'hardening_plan': hardening_plan, 'mask_line': mask_line,
                'shadowed_path_mask': shadowed_path_mask, 'image_pinned_to': image_pinned_to,
                'start_period_raise': start_period_raise}
