# -*- coding: utf-8 -*-
"""Redaction: decide which keys hold secrets and mask their values.

Nothing in here ever returns a secret value: ``mask`` always gives the same fixed
``'********'`` (no length hint), ``mask_text`` rewrites a free-text line so that
``KEY=VALUE`` / ``KEY: VALUE`` pairs with a secret-like key, ``--password value`` flags and
URL credentials (``scheme://user:pass@host``) are masked.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MASK = '********'

DEFAULT_SECRET_KEY_PATTERNS = (
    'PASSWORD', 'PASSWD', 'PASS', 'SECRET', 'TOKEN', 'API_KEY', 'APIKEY',
    'PRIVATE_KEY', 'CREDENTIAL', 'ACCESS_KEY', 'AUTH',
)

DEFAULT_CREDENTIALS = (
    'admin', 'password', 'changeme', 'change_me', 'postgres', 'root', 'secret', 'guest', '123456', 'test',
)

# scheme://user:password@host  ->  scheme://user:********@host
_URL_CRED_RE = re.compile(r'(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)(?P<pw>[^\s@/]+)(?P<at>@)')
# KEY=VALUE, KEY: VALUE, "KEY": "VALUE", --key=value
_PAIR_RE = re.compile(
    r'''(?P<key>(?:--?)?["']?[A-Za-z_][A-Za-z0-9_.-]*["']?)'''
    r'''(?P<sep>\s*=\s*|\s*:\s+|\s*:(?=["']))'''
    r'''(?P<val>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;&|)}\]]+)'''
)
# --password value
_FLAG_RE = re.compile(r'''(?P<key>(?<![\w-])--?[A-Za-z][A-Za-z0-9_-]*)(?P<sep>\s+)(?P<val>"[^"]*"|'[^']*'|[^\s-][^\s]*)''')
# Authorization: Bearer xyz
_AUTH_SCHEME_RE = re.compile(r'\b(?P<scheme>Bearer|Basic|Token|Digest)\s+(?P<val>[^\s,;]+)', re.IGNORECASE)


def _patterns(patterns):
    if patterns is None:
        patterns = DEFAULT_SECRET_KEY_PATTERNS
    return [str(p).upper() for p in patterns if str(p)]


def is_secret_key(key, patterns=None):
    """True when ``key`` contains one of ``patterns`` (case-insensitive substring)."""
    if key is None:
        return False
    upper = str(key).upper()
    return any(p in upper for p in _patterns(patterns))


def mask(value):
    """Return the fixed mask for any value (None stays None)."""
    if value is None:
        return None
    return MASK


def mask_url_credentials(text):
    """Mask the password part of ``scheme://user:pass@host`` URLs."""
    if not text:
        return text
    return _URL_CRED_RE.sub(lambda m: m.group('head') + MASK + m.group('at'), text)


def mask_text(line, patterns=None):
    """Mask secret-looking values in one line of free text.

    ``DB_PASSWORD=hunter2`` -> ``DB_PASSWORD=********``, ``password: x`` -> ``password: ********``,
    ``--password x`` -> ``--password ********`` and ``postgres://u:p@h`` -> ``postgres://u:********@h``.
    """
    if line is None:
        return None
    text = mask_url_credentials(str(line))
    pats = _patterns(patterns)

    def _repl(match):
        key = match.group('key')
        bare = key.lstrip('-').strip('"\'')
        sep = match.group('sep')
        if not any(p in bare.upper() for p in pats):
            return match.group(0)
        val = match.group('val')
        if val == MASK or MASK in val:
            return match.group(0)
        quote = val[0] if val[:1] in ('"', "'") else ''
        return key + sep + quote + MASK + quote
    text = _AUTH_SCHEME_RE.sub(lambda m: m.group('scheme') + ' ' + MASK, text)
    text = _FLAG_RE.sub(_repl, text)
    return _PAIR_RE.sub(_repl, text)


def scrub(text, secret_values, min_length=4):
    """Replace every occurrence of a known secret value in ``text`` with the mask.

    Used on free text (CLI errors, healthcheck commands, log options) where a value may
    have been interpolated. Values shorter than ``min_length`` are skipped (too ambiguous).
    """
    if text is None or not secret_values:
        return text
    out = str(text)
    for value in sorted({str(v) for v in secret_values if v is not None}, key=len, reverse=True):
        if len(value) >= min_length and value != MASK:
            out = out.replace(value, MASK)
    return out


def redact_text(text, patterns=None, secret_values=None):
    """mask_text + scrub of known values, line by line."""
    if text is None:
        return None
    lines = [mask_text(scrub(line, secret_values), patterns) for line in str(text).split('\n')]
    return '\n'.join(lines)


def mask_mapping(mapping, patterns=None):
    """Copy of ``mapping`` with secret-like keys masked and URL credentials masked elsewhere."""
    out = {}
    for key, value in (mapping or {}).items():
        if is_secret_key(key, patterns):
            out[key] = mask(value)
        elif isinstance(value, str):
            out[key] = mask_text(value, patterns)
        else:
            out[key] = value
    return out
