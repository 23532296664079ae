# -*- coding: utf-8 -*-
"""Set keys on one service of a compose file, keeping the file's layout.

The edit is made on a ruamel.yaml round-trip model (comments, key order and quoting kept);
the output is then stitched back line by line: every line that the edit did not touch is
copied from the original text byte-for-byte (comment columns, indentation quirks, quoting),
only the edited keys' lines come from the dumper. When the dumper would restructure the file
(different line count than the original), the plain round-trip output is used and a warning
says so.

``set_service_keys(text, 'agent', {'group_add': ['105']})`` -> {text, changed, changed_keys,
warnings}. Nested dicts are merged; lists are merged without duplicates
(``list_merge='append_unique'``, items compared as text so ``105`` == ``"105"``) or replaced
(``'replace'``); ``remove`` takes dotted key paths to delete.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import io
import re

try:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
    HAS_RUAMEL = True
    RUAMEL_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without ruamel
    HAS_RUAMEL = False
    RUAMEL_IMPORT_ERROR = str(_exc)
    YAMLError = Exception

from ansible.module_utils.compose_doctor.facts.compose_values import has_reference, referenced_names

LIST_MERGE_MODES = ('append_unique', 'replace')


class ComposeEditError(Exception):
    """The file cannot be edited (not YAML, no such service, bad input); message says why."""


class ServiceNotFound(ComposeEditError):
    pass


def _require_ruamel():
    if not HAS_RUAMEL:
        raise ComposeEditError('ruamel.yaml is required on the managed host (pip install ruamel.yaml): %s'
                               % RUAMEL_IMPORT_ERROR)


# ------------------------------------------------------------------ layout detection

def _detect_indent(lines, service_line=None):
    """(mapping indent, sequence dash offset) as used in the file (near the service first)."""
    key_re = re.compile(r'^( *)([^\s#-][^:#]*|"[^"]*"|\'[^\']*\'):\s*(#.*)?$')
    dash_re = re.compile(r'^( *)- ')
    mapping, offsets = [], []
    order = list(range(len(lines)))
    if service_line is not None:
        order = list(range(service_line, len(lines))) + list(range(0, service_line))
    for i in order:
        match = key_re.match(lines[i].rstrip('\r\n'))
        if not match:
            continue
        parent = len(match.group(1))
        for j in range(i + 1, len(lines)):
            nxt = lines[j].rstrip('\r\n')
            if not nxt.strip() or nxt.lstrip().startswith('#'):
                continue
            child = len(nxt) - len(nxt.lstrip(' '))
            if dash_re.match(nxt):
                if child >= parent:
                    offsets.append(child - parent)
            elif child > parent:
                mapping.append(child - parent)
            break
        if len(mapping) >= 3 and offsets:
            break
    ind = mapping[0] if mapping else 2
    off = offsets[0] if offsets else 2
    return ind, off


def _yaml(indent=2, offset=2):
    yml = YAML(typ='rt')
    yml.preserve_quotes = True
    yml.width = 4096
    yml.indent(mapping=indent, sequence=offset + 2, offset=offset)
    return yml


def _dump(yml, data):
    stream = io.StringIO()
    yml.dump(data, stream)
    return stream.getvalue()


def load(text):
    """Round-trip load; returns the ruamel document. Raises ComposeEditError."""
    _require_ruamel()
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = ' at line %d column %d' % (mark.line + 1, mark.column + 1) if mark is not None else ''
        raise ComposeEditError('not valid YAML%s: %s' % (where, getattr(exc, 'problem', None) or exc)) from exc


# ------------------------------------------------------------------ merging

def _plain(value):
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _same(a, b):
    if isinstance(a, dict) or isinstance(b, dict) or isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return _plain(a) == _plain(b)
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    return a == b or str(a) == str(b)


def _quote_like(template, value):
    """A new str value quoted the way ``template`` (an existing scalar) is quoted."""
    if not isinstance(value, str) or not HAS_RUAMEL:
        return value
    if isinstance(template, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(value)
    if isinstance(template, SingleQuotedScalarString):
        return SingleQuotedScalarString(value)
    return value


def _needs_quotes(value):
    """A str that plain YAML would read back as something else (int, bool, null, ...)."""
    if not isinstance(value, str):
        return False
    try:
        import yaml as _pyyaml
        return not isinstance(_pyyaml.safe_load(value), str) if value.strip() else True
    except Exception:
        return bool(re.match(r'^([-+]?\d[\d_.]*|true|false|yes|no|on|off|null|~)$', value, re.IGNORECASE))


def _convert(value, quote_style):
    """Plain Python -> ruamel nodes (block style); strings that need quotes get ``quote_style``."""
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _convert(v, quote_style)
        return out
    if isinstance(value, (list, tuple)):
        return CommentedSeq([_convert(v, quote_style) for v in value])
    if isinstance(value, str) and _needs_quotes(value):
        return DoubleQuotedScalarString(value) if quote_style == '"' else SingleQuotedScalarString(value)
    return value


def _own_keys(mapping):
    own = getattr(mapping, '_ok', None)
    return set(own) if own is not None else set(mapping.keys())


def _detached(node):
    """Deep copy of a mapping/sequence without YAML anchors (the original keeps its own)."""
    if isinstance(node, dict):
        out = CommentedMap()
        for k, v in node.items():
            out[k] = _detached(v)
        return out
    if isinstance(node, (list, tuple)):
        return CommentedSeq([_detached(v) for v in node])
    return copy.deepcopy(node)


def _is_anchored(node):
    anchor = getattr(node, 'anchor', None)
    return bool(anchor is not None and getattr(anchor, 'value', None))


def _keep_anchor(node):
    """Keep emitting ``&name`` on a shared node even when no alias is left pointing at it."""
    if _is_anchored(node):
        node.yaml_set_anchor(node.anchor.value, always_dump=True)


def _move_trailing_comment(mapping, old_key, new_key):
    """The blank lines/comments after the old last key/item belong after the new last one."""
    holder, slot = mapping, old_key
    while True:
        value = holder[slot] if not isinstance(holder, CommentedSeq) else holder[slot]
        if isinstance(value, CommentedMap) and len(value):
            holder, slot = value, list(value.keys())[-1]
            continue
        if isinstance(value, CommentedSeq) and len(value):
            holder, slot = value, len(value) - 1
            continue
        break
    items = holder.ca.items.get(slot)
    if not items:
        return
    idx = 0 if isinstance(holder, CommentedSeq) else 2
    token = items[idx] if len(items) > idx else None
    if token is None or '\n' not in token.value:
        return
    head, tail = token.value.split('\n', 1)
    if not tail:
        return
    if head.strip():
        token.value = head + '\n'
    else:
        items[idx] = None
    new_token = copy.deepcopy(token)
    new_token.value = '\n' + tail
    target_holder, target_slot = mapping, new_key
    value = mapping[new_key]
    while True:
        if isinstance(value, CommentedMap) and len(value):
            target_holder, target_slot = value, list(value.keys())[-1]
            value = value[target_slot]
            continue
        if isinstance(value, CommentedSeq) and len(value):
            target_holder, target_slot = value, len(value) - 1
            value = value[target_slot]
            continue
        break
    if isinstance(target_holder, CommentedSeq):
        target_holder.ca.items[target_slot] = [new_token, None]
    else:
        target_holder.ca.items[target_slot] = [None, None, new_token, None]


def _merge(target, key, value, list_merge, quote_style, path, changed, warnings):
    """Merge ``value`` into ``target[key]``; append dotted paths of changed keys to ``changed``."""
    dotted = '.'.join(path + [str(key)])
    exists = key in target
    current = target.get(key) if exists else None
    if exists and key not in _own_keys(target):
        warnings.append('%s came from a YAML merge key (<<); it is now set on the service itself' % dotted)
    if isinstance(value, dict) and isinstance(current, dict):
        if _is_anchored(current) or key not in _own_keys(target):
            if _is_anchored(current):
                warnings.append('%s was a shared YAML anchor; the service now has its own copy' % dotted)
            before = len(changed)
            _keep_anchor(current)
            probe = _detached(current)
            for k, v in value.items():
                _merge(probe, k, v, list_merge, quote_style, path + [str(key)], changed, warnings)
            if len(changed) > before:
                target[key] = probe
            return
        for k, v in value.items():
            _merge(current, k, v, list_merge, quote_style, path + [str(key)], changed, warnings)
        return
    if isinstance(value, (list, tuple)) and isinstance(current, list) and list_merge == 'append_unique':
        missing = []
        for item in value:
            if not any(_same(item, have) for have in current) and not any(_same(item, m) for m in missing):
                missing.append(item)
        if not missing:
            return
        if _is_anchored(current) or key not in _own_keys(target):
            _keep_anchor(current)
            current = _detached(current)
            target[key] = current
            warnings.append('%s was shared (anchor/merge); the service now has its own copy' % dotted)
        template = current[-1] if len(current) else None
        old_last = len(current) - 1
        for item in missing:
            new = _convert(item, quote_style)
            if isinstance(item, str) and template is not None:
                new = _quote_like(template, item) if isinstance(template, str) else new
            current.append(new)
        if old_last >= 0 and isinstance(current, CommentedSeq):
            _move_trailing_comment(current, old_last, len(current) - 1)
        changed.append(dotted)
        return
    if exists and _same(current, value) and type(current) is not type(None):
        return
    if exists and current is None and value is None:
        return
    if has_reference(current):
        # ${MEM:-512m}: the value lives in the variable; writing a literal would silently drop it
        raise ComposeEditError('%s is an interpolation (%s), not a literal: change the variable where it is '
                               'defined (.env or the environment); nothing written'
                               % (dotted, ', '.join('${%s}' % n for n in referenced_names(current))))
    if isinstance(current, str) and isinstance(value, str) and not isinstance(value, dict):
        new = _quote_like(current, value)
        if new is value:
            new = _convert(value, quote_style)
    else:
        new = _convert(value, quote_style)
    if not exists and isinstance(target, CommentedMap) and len(target):
        last = list(target.keys())[-1]
        target[key] = new
        _move_trailing_comment(target, last, key)
    else:
        target[key] = new
    changed.append(dotted)


def _remove(target, keys, changed):
    node = target
    for part in keys[:-1]:
        if not isinstance(node, dict) or part not in node:
            return
        node = node[part]
    if isinstance(node, dict) and keys[-1] in node:
        all_keys = list(node.keys())
        position = all_keys.index(keys[-1])
        if position == len(all_keys) - 1 and position > 0:
            # keep the blank line that separated this key from what follows
            _move_trailing_comment(node, keys[-1], all_keys[position - 1])
        del node[keys[-1]]
        changed.append('.'.join(str(k) for k in keys))


def _quote_style(text):
    doubles = len(re.findall(r':\s+"|-\s+"', text))
    singles = len(re.findall(r":\s+'|-\s+'", text))
    return "'" if singles > doubles else '"'


# ------------------------------------------------------------------ main entry

_TRAILING_COMMENT = re.compile(r'^(?P<body>.*?\S)(?P<gap>\s+)(?P<comment>#.*)$')


def _replaced(old_lines, new_lines):
    """new_lines for a hunk that replaced old_lines. ruamel keeps a trailing comment's column,
    squeezing it to one space when the new value is longer; keep at least the original gap
    (up to 2 spaces, what yamllint asks) so an edit never makes a file fail its linter."""
    if len(old_lines) != len(new_lines):
        return list(new_lines)
    out = []
    for old, new in zip(old_lines, new_lines):
        mo, mn = _TRAILING_COMMENT.match(old.rstrip('\r\n')), _TRAILING_COMMENT.match(new.rstrip('\r\n'))
        want = min(len(mo.group('gap')), 2) if mo else 0
        if mo and mn and mo.group('comment') == mn.group('comment') and len(mn.group('gap')) < want:
            eol = new[len(new.rstrip('\r\n')):]
            new = mn.group('body') + ' ' * want + mn.group('comment') + eol
        out.append(new)
    return out


def _stitch(original_lines, rt_lines, new_lines):
    """Lines of new_lines, but unchanged ones taken from original_lines (1:1 with rt_lines)."""
    out = []
    matcher = difflib.SequenceMatcher(None, rt_lines, new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == 'equal':
            out.extend(original_lines[i1:i2])
        else:
            out.extend(_replaced(original_lines[i1:i2], new_lines[j1:j2]))
    return out


def _stitch_mapped(original_lines, rt_lines, new_lines):
    """Like _stitch when the round trip re-flowed some unrelated lines (e.g. a flow sequence
    spanning two lines): apply the edit's hunks (rt -> new) to the original text, provided each
    hunk sits on round-trip lines that map 1:1 onto original lines. None when one does not."""
    rt_to_orig = {}
    for i, j, n in difflib.SequenceMatcher(None, rt_lines, original_lines, autojunk=False).get_matching_blocks():
        for k in range(n):
            rt_to_orig[i + k] = j + k
    rt_to_orig[len(rt_lines)] = len(original_lines)
    out, pos = [], 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, rt_lines, new_lines, autojunk=False).get_opcodes():
        if op == 'equal':
            continue
        if any(k not in rt_to_orig for k in range(i1, i2 + 1)):
            return None
        start, end = rt_to_orig[i1], rt_to_orig[i2]
        if end - start != i2 - i1 or start < pos:
            return None
        out.extend(original_lines[pos:start])
        out.extend(_replaced(original_lines[start:end], new_lines[j1:j2]))
        pos = end
    out.extend(original_lines[pos:])
    return out


def _same_tokens(a, b):
    return a.split() == b.split() or a.replace(' ', '') == b.replace(' ', '')


def _remove_paths(remove):
    """Key paths to remove ('a.b' or [a, b]) -> [[a, b], ...]; ComposeEditError on an empty part."""
    remove_paths = []
    for item in remove or []:
        parts = item if isinstance(item, (list, tuple)) else str(item).split('.')
        if not parts or any(p == '' for p in parts):
            raise ComposeEditError('invalid key path to remove: %r' % (item,))
        remove_paths.append(list(parts))
    return remove_paths


def _service_map(doc, service):
    """-> (services, the service's mapping, created empty when it is null)."""
    services = doc.get('services') if isinstance(doc, dict) else None
    if not isinstance(services, dict) or service not in services:
        names = sorted(str(k) for k in services) if isinstance(services, dict) else []
        raise ServiceNotFound('service %r is not defined in this file (services here: %s)'
                              % (service, ', '.join(names) if names else 'none'))
    svc = services[service]
    if svc is None:
        svc = CommentedMap()
        services[service] = svc
    if not isinstance(svc, dict):
        raise ComposeEditError('service %r is not a mapping' % service)
    return services, svc


def _restitch(orig_lines, rt_text, new_text, warnings):
    """-> (text, layout): the original lines kept where the edit is elsewhere ('stitched'), or
    ruamel's whole dump when its round trip re-flowed lines it cannot map back ('reformatted')."""
    rt_lines, new_lines = rt_text.split('\n'), new_text.split('\n')
    if len(rt_lines) == len(orig_lines) and all(_same_tokens(a, b) for a, b in zip(orig_lines, rt_lines)):
        return '\n'.join(_stitch(orig_lines, rt_lines, new_lines)), 'stitched'
    # the round trip re-flowed some lines: keep the original ones where the edit is elsewhere
    mapped = _stitch_mapped(orig_lines, rt_lines, new_lines)
    if mapped is not None:
        return '\n'.join(mapped), 'stitched'
    warnings.append('ruamel.yaml could not reproduce this file line for line; unrelated lines may be '
                    're-indented or re-spaced (content and comments are kept)')
    return new_text, 'reformatted'


def set_service_keys(text, service, updates=None, list_merge='append_unique', remove=None):
    """Merge ``updates`` into ``services.<service>`` of compose ``text``.

    Returns {text, changed, changed_keys: [dotted paths], warnings: [str], layout: stitched|reformatted}.
    Raises ServiceNotFound / ComposeEditError.
    """
    _require_ruamel()
    if list_merge not in LIST_MERGE_MODES:
        raise ComposeEditError('list_merge must be one of %s' % ', '.join(LIST_MERGE_MODES))
    updates = updates or {}
    if not isinstance(updates, dict):
        raise ComposeEditError('keys to set must be a mapping, got %s' % type(updates).__name__)
    remove_paths = _remove_paths(remove)
    newline = '\r\n' if '\r\n' in text else '\n'
    body = text.replace('\r\n', '\n')
    prefix = ''
    match = re.match(r'^((?:%[^\n]*\n)*---[ \t]*\n)', body)
    if match:
        prefix, body = match.group(1), body[match.end():]
    doc = load(body)
    services, svc = _service_map(doc, service)
    warnings = []
    if _is_anchored(svc):
        warnings.append('service %r carries a YAML anchor; services that merge it inherit this change' % service)
    try:
        service_line = services.lc.key(service)[0]
    except Exception:
        service_line = None
    orig_lines = body.split('\n')
    indent, offset = _detect_indent(orig_lines, service_line)
    yml = _yaml(indent, offset)
    rt_text = _dump(yml, doc)
    changed = []
    for key, value in updates.items():
        _merge(svc, key, value, list_merge, _quote_style(body), [], changed, warnings)
    for parts in remove_paths:
        _remove(svc, parts, changed)
    if not changed:
        return {'text': text, 'changed': False, 'changed_keys': [], 'warnings': warnings, 'layout': 'unchanged'}
    result, layout = _restitch(orig_lines, rt_text, _dump(yml, doc), warnings)
    result = prefix + result
    if newline != '\n':
        result = result.replace('\n', newline)
    try:
        load(result.replace('\r\n', '\n')[len(prefix):])
    except ComposeEditError as exc:  # pragma: no cover - defensive
        raise ComposeEditError('edit produced invalid YAML, nothing written: %s' % exc) from exc
    return {'text': result, 'changed': result != text, 'changed_keys': changed, 'warnings': warnings,
            'layout': layout}


def get_service(text, service):
    """Plain dict of a service (for checks and tests)."""
    doc = load(text)
    services = doc.get('services') if isinstance(doc, dict) else None
    if not isinstance(services, dict) or service not in services:
        raise ServiceNotFound('service %r is not defined in this file' % service)
    return _plain(services[service] or {})
