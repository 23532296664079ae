# -*- coding: utf-8 -*-
"""FALLBACK ONLY: an approximate Compose model for hosts without Compose v2.

``docker compose config`` is the model (``compose_model.run_compose_config``). This module is
used only when the audit runs with ``use_cli=false`` or the host has no ``docker compose``; it is
never computed when Compose answers. It applies, in file order, the layers ``compose_model``
already found (``include:``d files, ``extends:`` bases, each active file), with Compose's
interpolation (``$VAR``, ``${VAR}``, ``${VAR:-d}``, ``${VAR-d}``, ``${VAR:?e}``, ``${VAR:+a}``,
``$$``) and merge rules (mappings merged, ``ports``/``volumes`` merged by key, ``!reset`` removes,
``!override`` replaces). It does not resolve: ``include:`` ``env_file``/``project_directory``,
cross-file ``extends`` restrictions, profiles-based conflicts, or any validation Compose does;
the report says the model is approximate (``model_source: yaml``).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re

from ansible.module_utils.compose_doctor.facts.compose_values import (
    environment_to_dict, env_file_entries, split_volume_spec,
)
from ansible.module_utils.compose_doctor.facts.compose_yaml import Override, Reset, plain

_VAR_START_RE = re.compile(r'\$(?:(?P<esc>\$)|\{|(?P<name>[A-Za-z_][A-Za-z0-9_]*))')
_VAR_NAME_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


def _find_closing(text, start):
    """Index of the '}' closing a '${' whose body starts at ``start`` (handles nesting)."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith('${', i):
            depth += 1
            i += 2
            continue
        if text[i] == '}':
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _expand_braced(body, env, missing):
    match = _VAR_NAME_RE.match(body)
    if not match:
        return ''
    name = match.group(0)
    rest = body[match.end():]
    value = env.get(name)
    for op in (':-', ':?', ':+', '-', '?', '+'):
        if rest.startswith(op):
            arg = interpolate_string(rest[len(op):], env, missing)
            unset = value is None or (op.startswith(':') and value == '')
            if op in (':-', '-'):
                return arg if unset else value
            if op in (':+', '+'):
                return '' if unset else arg
            if unset:
                missing.append(name)
                return ''
            return value
    if value is None:
        missing.append(name)
        return ''
    return value


def interpolate_string(text, env, missing=None):
    """Compose interpolation of one string; unset variables become '' (names appended to ``missing``)."""
    if missing is None:
        missing = []
    if '$' not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        j = text.find('$', i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        match = _VAR_START_RE.match(text, j)
        if not match:
            out.append('$')
            i = j + 1
            continue
        if match.group('esc'):
            out.append('$')
            i = match.end()
        elif match.group('name'):
            value = env.get(match.group('name'))
            if value is None:
                missing.append(match.group('name'))
            out.append(value or '')
            i = match.end()
        else:
            end = _find_closing(text, j + 2)
            if end < 0:
                out.append(text[j:])
                break
            out.append(_expand_braced(text[j + 2:end], env, missing))
            i = end + 1
    return ''.join(out)


def interpolate(obj, env, missing=None):
    """Interpolate every string value (not keys) of a YAML structure; markers are kept."""
    if missing is None:
        missing = []
    if isinstance(obj, str):
        return interpolate_string(obj, env, missing)
    if isinstance(obj, Reset):
        return Reset(interpolate(obj.value, env, missing))
    if isinstance(obj, Override):
        return Override(interpolate(obj.value, env, missing))
    if isinstance(obj, dict):
        return dict((k, interpolate(v, env, missing)) for k, v in obj.items())
    if isinstance(obj, list):
        return [interpolate(v, env, missing) for v in obj]
    return obj


def _volume_target(item):
    if isinstance(item, dict):
        return item.get('target')
    return split_volume_spec(str(item))[1]


def _port_key(item):
    return json.dumps(item, sort_keys=True, default=str) if isinstance(item, dict) else str(item)


def _merge_unique(base, over, keyfunc):
    out = list(base if isinstance(base, list) else [])
    index = dict((keyfunc(v), i) for i, v in enumerate(out))
    for item in over if isinstance(over, list) else []:
        key = keyfunc(item)
        if key in index and key is not None:
            out[index[key]] = item
        else:
            index[key] = len(out)
            out.append(item)
    return out


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _append_unique(base, over):
    out = list(_as_list(base))
    for item in _as_list(over):
        if item not in out:
            out.append(item)
    return out


def _depends_on_dict(value):
    if isinstance(value, dict):
        return dict((k, v if isinstance(v, dict) else {}) for k, v in value.items())
    return dict((str(k), {}) for k in _as_list(value) if not isinstance(k, (dict, list)))


def deep_merge(base, over):
    """Mapping deep merge: override wins for scalars, lists replaced; markers applied."""
    if isinstance(over, Override):
        return copy.deepcopy(plain(over.value))
    if not isinstance(base, dict) or not isinstance(over, dict):
        return copy.deepcopy(plain(over))
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Reset):
            out.pop(key, None)
        else:
            out[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(plain(value))
    return out


def _merge_key(key, base, value):
    """One service key of ``over`` merged onto ``base`` (plain); ``value`` may still hold nested
    ``!reset`` / ``!override`` markers (``environment: {FOO: !reset null}`` removes FOO)."""
    if key in ('environment', 'labels', 'sysctls', 'annotations'):
        merged = environment_to_dict(base)
        if isinstance(value, dict):
            for k in [k for k, v in value.items() if isinstance(v, Reset)]:
                merged.pop(str(k), None)
            value = dict((k, v) for k, v in value.items() if not isinstance(v, Reset))
        merged.update(environment_to_dict(plain(value)))
        return merged
    if key == 'build':
        b = {'context': base} if isinstance(base, str) else base
        o = {'context': value} if isinstance(value, str) else value
        return deep_merge(b, o)
    if key == 'logging' and isinstance(base, dict) and isinstance(value, dict):
        driver, new_driver = base.get('driver'), plain(value.get('driver'))
        if driver and new_driver and driver != new_driver:
            return copy.deepcopy(plain(value))   # another driver: Compose drops the old driver's options
        return deep_merge(base, value)
    if key == 'healthcheck' and isinstance(base, dict) and isinstance(value, dict):
        merged = deep_merge(base, value)
        if 'test' in value:
            merged['test'] = copy.deepcopy(plain(value['test']))
        return merged
    if isinstance(base, dict) and isinstance(value, dict) and key not in ('depends_on', 'env_file'):
        return deep_merge(base, value)
    value = plain(value)
    if key == 'ports':
        return _merge_unique(base, value, _port_key)
    if key == 'volumes':
        return _merge_unique(base, value, _volume_target)
    if key == 'env_file':
        return _merge_unique(env_file_entries(base), env_file_entries(value), lambda e: e['path'])
    if key == 'depends_on':
        return deep_merge(_depends_on_dict(base), _depends_on_dict(value))
    if key in ('command', 'entrypoint'):
        return copy.deepcopy(value)
    if isinstance(base, list) and isinstance(value, list) or key in ('tmpfs', 'dns', 'cap_add', 'cap_drop'):
        return _append_unique(base, value)
    return copy.deepcopy(value)


def merge_service(base, over):
    """Merge service ``over`` (may hold ``!reset``/``!override`` markers) into ``base``."""
    out = dict(base or {})
    for key, value in (over or {}).items():
        if key == 'extends':
            continue
        if isinstance(value, Reset):
            out.pop(key, None)
        elif isinstance(value, Override) or key not in out or out[key] is None:
            out[key] = copy.deepcopy(plain(value))
        else:
            out[key] = _merge_key(key, out[key], value)
    return out


def build_model(layers, top_docs, env):
    """The approximate effective model.

    ``layers``: {service: [(file, tagged service dict), ...]} in merge order (see
    ``compose_model.service_layers``); ``top_docs``: tagged documents in merge order (for the
    top-level ``name``, ``volumes``, ``networks``, ``secrets``); ``env``: interpolation variables.
    Returns ``{'name', 'services', 'volumes', 'networks', 'secrets'}`` with plain values.
    """
    services = {}
    for name, stack in layers.items():
        svc = {}
        for _file, raw in stack:
            svc = merge_service(svc, interpolate(raw, env))
        services[name] = svc
    model = {'services': services}
    for doc in top_docs:
        for key in ('name', 'volumes', 'networks', 'secrets', 'configs'):
            if key in doc:
                value = interpolate(doc[key], env)
                model[key] = deep_merge(model.get(key), value) if isinstance(model.get(key), dict) else plain(value)
    return model
