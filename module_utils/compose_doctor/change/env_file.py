# -*- coding: utf-8 -*-
"""Env files (Compose ``.env`` / ``env_file``): read and set ``KEY=VALUE`` lines in place.

Pure text logic, no I/O: ``set_values`` rewrites only the value part of the lines whose key is
set, keeping comments, blank lines, order, ``export`` prefixes, spacing around ``=``, the
value's quoting style, inline comments and the newline convention. ``mask_env_text`` gives a
diff-safe copy (values of the given keys and of secret-looking keys masked). ``generate_secret``
makes a strong URL-safe random value (``secrets.token_urlsafe``).

Values are never logged or returned by anything in here except ``get_value``/``parse``.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import secrets

from ansible.module_utils.compose_doctor.redact import MASK, is_default_credential, is_secret_key

_LINE_RE = re.compile(r'^(?P<lead>[ \t]*(?:export[ \t]+)?)(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)'
                      r'(?P<sep>[ \t]*=[ \t]*)(?P<rest>.*)$')
_SAFE_UNQUOTED_RE = re.compile(r'^[A-Za-z0-9_./:@+,%-]*$')


class EnvFileError(Exception):
    """A line cannot be rewritten safely (for example an unterminated quote)."""


def _split_eol(line):
    if line.endswith('\r\n'):
        return line[:-2], '\r\n'
    if line.endswith('\n'):
        return line[:-1], '\n'
    return line, ''


def _parse_rest(rest):
    """'value # c' -> (value, quote, raw_value, tail). Compose/dotenv quoting rules (subset)."""
    if rest[:1] == '"':
        i, out = 1, []
        while i < len(rest):
            ch = rest[i]
            if ch == '\\' and i + 1 < len(rest):
                nxt = rest[i + 1]
                out.append({'n': '\n', 't': '\t', 'r': '\r'}.get(nxt, nxt))
                i += 2
                continue
            if ch == '"':
                return ''.join(out), '"', rest[:i + 1], rest[i + 1:]
            out.append(ch)
            i += 1
        raise EnvFileError('unterminated double quote')
    if rest[:1] == "'":
        end = rest.find("'", 1)
        if end < 0:
            raise EnvFileError('unterminated single quote')
        return rest[1:end], "'", rest[:end + 1], rest[end + 1:]
    match = re.search(r'[ \t]+#', rest)
    raw = rest[:match.start()] if match else rest
    tail = rest[match.start():] if match else ''
    stripped = raw.rstrip(' \t')
    return stripped, '', stripped, raw[len(stripped):] + tail


def parse(text):
    """[{line (0-based), key, value, quote}] for every KEY=VALUE line (comments skipped)."""
    entries = []
    for index, line in enumerate(text.splitlines(True)):
        body, _eol = _split_eol(line)
        match = _LINE_RE.match(body)
        if not match or body.lstrip().startswith('#'):
            continue
        try:
            value, quote, _raw, _tail = _parse_rest(match.group('rest'))
        except EnvFileError:
            value, quote = match.group('rest'), None
        entries.append({'line': index, 'key': match.group('key'), 'value': value, 'quote': quote})
    return entries


def get_value(text, key):
    """Value of ``key`` (the last definition wins, as in Compose), or None."""
    found = None
    for entry in parse(text):
        if entry['key'] == key:
            found = entry['value']
    return found


def quote_value(value, quote):
    """Render ``value`` keeping the original quoting style when it can hold the value."""
    value = str(value)
    if quote == "'" and "'" not in value and '\n' not in value:
        return "'%s'" % value
    if quote == '' and _SAFE_UNQUOTED_RE.match(value):
        return value
    if quote in ('', "'") and "'" not in value and '\n' not in value:
        return "'%s'" % value
    escaped = value.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n').replace('$', '$$')
    return '"%s"' % escaped


def _matches(current, allowed, casefold):
    if allowed is None:
        return True
    if casefold:   # the audit's own test: whole value, case-insensitive, `*` wildcards
        return is_default_credential(current, allowed)
    return str(current) in set(str(a) for a in allowed)


def set_values(text, values, only_if_current_in=None, missing='skip', casefold=True):
    """Set ``values`` ({KEY: value}) in env-file ``text``.

    Every line defining a key is rewritten (value part only). ``only_if_current_in``: a list of
    values; a key is only replaced while its current value is one of them (case-insensitive
    with ``casefold``), which makes "rotate what is still a default" idempotent.
    ``missing``: ``skip`` (report), ``fail`` (raise EnvFileError) or ``append`` (add
    ``KEY=value`` at the end). Returns {text, changed (bool), changed_keys, skipped: {key:
    reason}} -- reasons never contain a value.
    """
    lines = text.splitlines(True)
    newline = '\r\n' if lines and lines[0].endswith('\r\n') else '\n'
    changed_keys, skipped = [], {}
    present = set()
    for index, line in enumerate(lines):
        body, eol = _split_eol(line)
        if body.lstrip().startswith('#'):
            continue
        match = _LINE_RE.match(body)
        if not match or match.group('key') not in values:
            continue
        key = match.group('key')
        present.add(key)
        try:
            current, quote, _raw, tail = _parse_rest(match.group('rest'))
        except EnvFileError as exc:
            raise EnvFileError('line %d (%s): %s' % (index + 1, key, exc)) from exc
        wanted = str(values[key])
        if current == wanted:
            continue
        if not _matches(current, only_if_current_in, casefold):
            skipped[key] = 'current value is not one of the values to replace'
            continue
        lines[index] = (match.group('lead') + key + match.group('sep') + quote_value(wanted, quote) + tail + eol)
        if key not in changed_keys:
            changed_keys.append(key)
    for key in values:
        if key in present or key in skipped:
            continue
        if missing == 'fail':
            raise EnvFileError('%s is not defined in the file' % key)
        if missing == 'append':
            if lines and not lines[-1].endswith(('\n', '\r')):
                lines[-1] += newline
            lines.append('%s=%s%s' % (key, quote_value(values[key], ''), newline))
            changed_keys.append(key)
        else:
            skipped[key] = 'not defined in the file'
    # a key that changed on one line but was skipped on another is still changed
    for key in changed_keys:
        skipped.pop(key, None)
    new_text = ''.join(lines)
    return {'text': new_text, 'changed': new_text != text, 'changed_keys': changed_keys, 'skipped': skipped}


def mask_env_text(text, keys=(), patterns=None):
    """Copy of env ``text`` with the values of ``keys`` and of secret-looking keys masked."""
    if text is None:
        return None
    keys = set(keys or ())
    out = []
    for line in text.splitlines(True):
        body, eol = _split_eol(line)
        match = _LINE_RE.match(body)
        if match and not body.lstrip().startswith('#') and (
                match.group('key') in keys or is_secret_key(match.group('key'), patterns)):
            try:
                _value, quote, _raw, tail = _parse_rest(match.group('rest'))
            except EnvFileError:
                quote, tail = '', ''
            quote = quote or ''
            body = match.group('lead') + match.group('key') + match.group('sep') + quote + MASK + quote + tail
        out.append(body + eol)
    return ''.join(out)


def generate_secret(nbytes=24):
    """A strong URL-safe random secret (``secrets.token_urlsafe``; 24 bytes -> 32 characters)."""
    return secrets.token_urlsafe(int(nbytes))
