# -*- coding: utf-8 -*-
"""Redaction: decide which keys hold secrets and mask their values.

Nothing in here ever returns a secret value: ``mask`` always gives the same fixed
``'********'`` (no length hint), ``mask_text`` rewrites a free-text line so that
``KEY=VALUE`` / ``KEY: VALUE`` pairs with a secret-like key, ``--password value`` flags and
URL credentials (``scheme://user:pass@host``) are masked.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

MASK = '********'

# Secret words: a key holds a secret when one of its words is one of these (``DB_PASSWORD``,
# ``PIHOLE_PW``, ``adminPass``), when a compound word ends with a long one (``WEBPASSWORD``,
# ``ACCESSTOKEN``), or when its last word is ``key`` (``SERVICE_ROLE_KEY``, ``VAULT_ENC_KEY``).
# Role default: audit_secret_key_patterns (this is the one copy in the code).
DEFAULT_SECRET_KEY_PATTERNS = (
    'password', 'passwd', 'pwd', 'pw', 'pass', 'passphrase', 'secret', 'token', 'apikey', 'credential',
    'credentials', 'salt', 'dsn', 'privatekey', 'secretkey', 'accesskey', 'auth_token', 'api_key',
    'private_key', 'access_key',
)
# A key whose last word is one of these names a property of a secret, not the secret
# (``*_PASS_SCHEME``, ``*_AUTH_METHOD``, ``*_PASSWORD_FILE``, ``*_KEY_ID``). Role default:
# audit_secret_key_qualifiers.
DEFAULT_SECRET_KEY_QUALIFIERS = (
    'method', 'type', 'scheme', 'host', 'hostname', 'port', 'user', 'username', 'login', 'enabled', 'enable',
    'disabled', 'file', 'path', 'dir', 'provider', 'url', 'uri', 'endpoint', 'id', 'name', 'size', 'length', 'len',
    'mode', 'algorithm', 'algo', 'policy', 'expiry', 'expires', 'expiration', 'ttl', 'timeout', 'lifetime',
    'version', 'format', 'header', 'prefix', 'suffix', 'count', 'min', 'max', 'strength', 'rounds', 'cost',
    'iterations', 'required', 'hint', 'field', 'backend', 'store', 'location', 'region', 'issuer', 'audience',
    'email', 'strategy', 'source', 'kind', 'encoding', 'regex', 'pattern', 'level', 'vendors', 'reset', 'rotation',
    'interval', 'retries', 'attempts', 'limit', 'flag', 'check', 'validation', 'complexity', 'hashers', 'hasher',
)
_NOT_COMPOUND = frozenset(['bypass', 'compass', 'surpass', 'overpass', 'underpass', 'trespass', 'passport'])

DEFAULT_CREDENTIALS = (
    'admin', 'password', 'changeme*', 'change_me*', 'change-me*', 'changeit', 'postgres', 'root', 'secret', 'guest',
    '123456', 'test',
)
_PLACEHOLDER_RE = re.compile(
    r'^(?:<[^>]*>|\[[^\]]*\]|\{\{[^}]*\}\}|x{3,}|\*{3,}|\.{3,}|_+|-+|your[-_ ].*|.*[-_]here|replace[-_ ]?me.*|todo|tbd|'
    r'fixme|dummy|placeholder|example|none|null|nil|undefined)$', re.IGNORECASE)
_BOOL_WORDS = frozenset(['true', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', 'enabled', 'disabled'])
_DOTTED_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$')
_NUMBER_RE = re.compile(r'^[+-]?\d+(?:\.\d+)?[a-zA-Z]{0,2}$')

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


def key_words(key):
    """``SNAKE__CASE``, ``kebab-case``, ``dotted.name`` and ``camelCase`` -> lower-case words."""
    text = re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', str(key))
    text = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', text)
    return [w for w in re.split(r'[^A-Za-z0-9]+', text.lower()) if w]


def _patterns(patterns):
    if patterns is None:
        patterns = DEFAULT_SECRET_KEY_PATTERNS
    return [tuple(key_words(p)) for p in patterns if key_words(p)]


def is_secret_key(key, patterns=None, qualifiers=None):
    """True when the key names a secret, judged by its words (not substrings).

    Secret: a word (or word sequence) of ``patterns``, a compound word ending with a secret word
    of 4+ letters (``WEBPASSWORD``, ``requirepass``), or ``key`` as the last word. Not secret when
    the last word is a qualifier (``*_PASS_SCHEME``, ``*_AUTH_METHOD``, ``*_PASSWORD_FILE``,
    ``*_KEY_ID``). ``AUTH`` alone, ``WEBAUTHN``, ``AUTHENTIK_REDIS__HOST`` are not secrets.
    """
    if key is None:
        return False
    words = key_words(key)
    if not words:
        return False
    quals = DEFAULT_SECRET_KEY_QUALIFIERS if qualifiers is None else [str(q).lower() for q in qualifiers]
    if words[-1] in quals:
        return False
    if words[-1] == 'key':
        return True
    for pattern in _patterns(patterns):
        n = len(pattern)
        if any(tuple(words[i:i + n]) == pattern for i in range(len(words) - n + 1)):
            return True
        if n == 1 and len(pattern[0]) >= 4 and any(
                w.endswith(pattern[0]) and w != pattern[0] and w not in _NOT_COMPOUND for w in words):
            return True
    return False


def has_url_credentials(value):
    """True for a value holding ``scheme://user:password@host``."""
    return bool(value) and bool(_URL_CRED_RE.search(str(value)))


def is_default_credential(value, default_credentials=None):
    """Whole-value, case-insensitive match against the list (``*`` wildcards: ``change_me*``)."""
    if value is None:
        return False
    text = str(value).strip().lower()
    for cred in (DEFAULT_CREDENTIALS if default_credentials is None else default_credentials):
        pattern = str(cred).strip().lower()
        if pattern == text or ('*' in pattern and fnmatch.fnmatchcase(text, pattern)):
            return True
    return False


def looks_like_data(value, names=()):
    """Values that are not secrets whatever the key: booleans, numbers, paths, dotted module or
    class names, ``localhost`` and the project's own service names (host names)."""
    text = str(value).strip()
    low = text.lower()
    return (low in _BOOL_WORDS or bool(_NUMBER_RE.match(text)) or text.startswith(('/', './', '../', '~/'))
            or bool(_DOTTED_NAME_RE.match(text)) and not any(c.isdigit() for c in text.split('.')[0])
            or low == 'localhost' or text in set(names))


def classify_value(key, value, literal=True, default_credentials=None, patterns=None, qualifiers=None, names=(),
                   secret_key=None):
    """One setting -> ``secret`` | ``default-credential`` | ``placeholder`` | ``not-secret`` |
    ``reference`` | ``empty``. Computed where the value is read; only the class leaves the host.

    ``secret_key``: force the key's verdict (a key referenced by a secret key is secret too).
    A URL with ``user:password@`` is a secret under any key.
    """
    if value is None or str(value).strip() == '':
        return 'empty'
    if not literal:
        return 'reference'
    text = str(value)
    secret = is_secret_key(key, patterns, qualifiers) if secret_key is None else secret_key
    if not secret:
        return 'secret' if has_url_credentials(text) else 'not-secret'
    if is_default_credential(text, default_credentials):
        return 'default-credential'
    if _PLACEHOLDER_RE.match(text.strip()):
        return 'placeholder'
    if looks_like_data(text, names) and not has_url_credentials(text):
        return 'not-secret'
    return 'secret'


class SecretPolicy(object):
    """The classification settings in one object (role defaults: audit_secret_key_patterns,
    audit_secret_key_qualifiers, audit_default_credentials; ``names``: the project's service names)."""

    def __init__(self, patterns=None, qualifiers=None, default_credentials=None, names=()):
        self.patterns = list(DEFAULT_SECRET_KEY_PATTERNS if patterns is None else patterns)
        self.qualifiers = list(DEFAULT_SECRET_KEY_QUALIFIERS if qualifiers is None else qualifiers)
        self.default_credentials = list(DEFAULT_CREDENTIALS if default_credentials is None else default_credentials)
        self.names = tuple(names or ())

    def is_secret_key(self, key):
        return is_secret_key(key, self.patterns, self.qualifiers)

    def classify(self, key, value, literal=True, secret_key=None):
        return classify_value(key, value, literal, self.default_credentials, self.patterns, self.qualifiers,
                              self.names, secret_key)


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

    def _repl(match):
        key = match.group('key')
        bare = key.lstrip('-').strip('"\'')
        sep = match.group('sep')
        if not is_secret_key(bare, patterns):
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
