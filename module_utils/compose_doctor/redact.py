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

# Secret words: a key holds a secret when one of its words (or word sequences: ``erlang_cookie``)
# is one of these (``DB_PASSWORD``, ``PIHOLE_PW``, ``adminPass``), when a compound word ends with a
# long one (``WEBPASSWORD``, ``ACCESSTOKEN``, ``TS_AUTHKEY``), or when its last word is ``key``
# (``SERVICE_ROLE_KEY``, ``VAULT_ENC_KEY``). Role default: audit_secret_key_patterns (this is the
# one copy in the code). Measured on tests/unit/secret_corpus.tsv (test_secret_corpus.py).
DEFAULT_SECRET_KEY_PATTERNS = (
    'password', 'passwd', 'pwd', 'pw', 'pass', 'passphrase', 'secret', 'token', 'apikey', 'credential',
    'credentials', 'salt', 'dsn', 'privatekey', 'secretkey', 'accesskey', 'auth_token', 'api_key',
    'private_key', 'access_key', 'authkey', 'erlang_cookie',
)
# A key ending with one of these words (or word sequences) names a property of a secret, or a
# public counterpart, not the secret (``*_PASS_SCHEME``, ``*_AUTH_METHOD``, ``*_PASSWORD_FILE``,
# ``*_KEY_ID``, ``VAPID_PUBLIC_KEY``, ``STRIPE_PUBLISHABLE_KEY``, ``RECAPTCHA_SITE_KEY``).
# Role default: audit_secret_key_qualifiers.
DEFAULT_SECRET_KEY_QUALIFIERS = (
    'method', 'type', 'scheme', 'host', 'hostname', 'port', 'user', 'username', 'login', 'enabled', 'enable',
    'disabled', 'file', 'path', 'dir', 'provider', 'url', 'uri', 'endpoint', 'id', 'name', 'size', 'length', 'len',
    'mode', 'algorithm', 'algo', 'policy', 'expiry', 'expires', 'expiration', 'ttl', 'timeout', 'lifetime',
    'version', 'format', 'header', 'prefix', 'suffix', 'count', 'min', 'max', 'strength', 'rounds', 'cost',
    'iterations', 'required', 'hint', 'field', 'backend', 'store', 'location', 'region', 'issuer', 'audience',
    'email', 'strategy', 'source', 'kind', 'encoding', 'regex', 'pattern', 'level', 'vendors', 'reset', 'rotation',
    'interval', 'retries', 'attempts', 'limit', 'flag', 'check', 'validation', 'complexity', 'hashers', 'hasher',
    'realm', 'public_key', 'publishable_key', 'site_key', 'authorized_keys',
)
_INDEX_WORD_RE = re.compile(r'^v?\d+$')
_NOT_COMPOUND = frozenset(['bypass', 'compass', 'surpass', 'overpass', 'underpass', 'trespass', 'passport'])

# Well-known defaults (whole value, case-insensitive, ``*`` wildcards): the images' documented
# values (``example`` in the Docker official images' docs, MinIO's ``minioadmin``, Harbor's
# ``Harbor12345``, Supabase's dashboard password). Role defaults: audit_default_credentials,
# env_secrets_default_credentials.
DEFAULT_CREDENTIALS = (
    'admin', 'password', 'changeme*', 'change_me*', 'change-me*', 'changeit', 'postgres', 'root', 'secret', 'guest',
    '123456', 'test', 'example', 'minioadmin', 'harbor12345', 'this_password_is_insecure_and_should_be_updated',
)
# Template values: <...>, [...], {{ ... }}, xxx (also inside a token's shape: sk-xxxx, ghp_XXXX),
# "your" as a word (your-api-key, xoxb-your-token), *-here, replace-me, TODO...
_PLACEHOLDER_RE = re.compile(
    r'^(?:<[^>]*>|\[[^\]]*\]|\{\{[^}]*\}\}|x{3,}|.*x{4,}.*|\*{3,}|\.{3,}|_+|-+|(?:.*[-_ .])?your[-_ ].*|.*[-_]here|'
    r'replace[-_ ]?me.*|todo|tbd|fixme|dummy|placeholder|example|none|null|nil|undefined)$', re.IGNORECASE)
_BOOL_WORDS = frozenset(['true', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', 'enabled', 'disabled'])
_DOTTED_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$')
# Pieces of an identifier: ``Argon2PasswordHasher`` -> Argon, 2, Password, Hasher (few, long);
# a token's segment (``CAESIJq8Lm2Xw7``) falls apart into many short ones.
_NAME_PIECE_RE = re.compile(r'[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+')
_NUMBER_RE = re.compile(r'^[+-]?\d+(?:\.\d+)?[a-zA-Z]{0,2}$')
_LONG_NUMBER_RE = re.compile(r'^\d{6,}$')
# Connection strings: ``Server=db;User Id=sa;Password=x``, ``AccountKey=...``, ``?password=x&...``
_CONN_PAIR_RE = re.compile(r'(?:^|[;?&])\s*(?P<k>[A-Za-z][A-Za-z0-9 _.-]*?)\s*=\s*(?P<v>[^;&]*)')
# ``mysql:host=db;dbname=app`` (a PDO DSN), ``Server=db;Database=app``: settings, no secret in it
_CONN_STRING_RE = re.compile(r'^(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?:[A-Za-z][A-Za-z0-9 _.-]*=[^;=]*;){1,}'
                             r'[A-Za-z][A-Za-z0-9 _.-]*=[^;=]*;?$')

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


class _Phrases(object):
    """A word list (secret key patterns or qualifiers) ready for matching: each entry as a tuple of
    words, in sets by length (a key's words are looked up, not compared with every entry)."""

    def __init__(self, items):
        phrases = [tuple(key_words(p)) for p in items]
        self.by_length = {}
        for phrase in phrases:
            if phrase:
                self.by_length.setdefault(len(phrase), set()).add(phrase)
        # single secret words of 4+ letters also match inside a compound word (see is_secret_key)
        self.long_words = sorted(set(p[0] for p in phrases if len(p) == 1 and len(p[0]) >= 4))

    def ends(self, words):
        """True when ``words`` end with one of the phrases."""
        return any(n <= len(words) and tuple(words[-n:]) in found for n, found in self.by_length.items())

    def within(self, words):
        """True when one of the phrases is a run of ``words``."""
        return any(tuple(words[i:i + n]) in found for n, found in self.by_length.items()
                   for i in range(len(words) - n + 1))


_PHRASES = {}


def _phrases(items):
    """``items`` as _Phrases, memoised: the role passes the same lists for every key of every host."""
    try:
        key = tuple(items)
        hash(key)
    except TypeError:
        key = tuple(str(p) for p in items)
    found = _PHRASES.get(key)
    if found is None:
        if len(_PHRASES) > 64:
            _PHRASES.clear()
        found = _PHRASES[key] = _Phrases(key)
    return found


_DEFAULT_PATTERN_PHRASES = _phrases(DEFAULT_SECRET_KEY_PATTERNS)
_DEFAULT_QUALIFIER_PHRASES = _phrases(DEFAULT_SECRET_KEY_QUALIFIERS)


def _patterns(patterns):
    return _DEFAULT_PATTERN_PHRASES if patterns is None else _phrases(patterns)


def _qualifiers(qualifiers):
    return _DEFAULT_QUALIFIER_PHRASES if qualifiers is None else _phrases(qualifiers)


def is_secret_key(key, patterns=None, qualifiers=None):
    """True when the key names a secret, judged by its words (not substrings).

    Secret: a word (or word sequence) of ``patterns``, a compound word ending with a secret word
    of 4+ letters (``WEBPASSWORD``, ``requirepass``) or its plural (``PASSWORDS``), or ``key`` /
    ``keys`` as the last word (a trailing index or version is skipped: ``KEY_V1``). Not secret when
    the key ends with a qualifier (``*_PASS_SCHEME``, ``*_AUTH_METHOD``, ``*_PASSWORD_FILE``,
    ``*_KEY_ID``, ``*_PUBLIC_KEY``). ``AUTH`` alone, ``WEBAUTHN``, ``AUTHENTIK_REDIS__HOST`` are not secrets.
    """
    if key is None:
        return False
    words = key_words(key)
    while len(words) > 1 and _INDEX_WORD_RE.match(words[-1]):
        words = words[:-1]  # API_KEY_2, _APP_OPENSSL_KEY_V1: a numbered or versioned secret
    if not words:
        return False
    if _qualifiers(qualifiers).ends(words):
        return False
    if words[-1] in ('key', 'keys'):
        return True
    patterns = _patterns(patterns)
    if patterns.within(words):
        return True
    # WEBPASSWORD, requirepass; plurals: KAFKA_CLIENT_PASSWORDS, API_TOKENS
    return any((w.endswith(p) and w != p and w not in _NOT_COMPOUND) or w == p + 's'
               for p in patterns.long_words for w in words)


def has_url_credentials(value):
    """True for a value holding credentials inline: ``scheme://user:password@host``, or a
    connection string's / query string's secret pair (``...;Password=x;...``, ``AccountKey=...``,
    ``?password=x``) with a real value (not empty, a reference or a placeholder)."""
    if not value:
        return False
    text = str(value)
    if _URL_CRED_RE.search(text):
        return True
    if '=' not in text:
        return False
    for match in _CONN_PAIR_RE.finditer(text):
        val = match.group('v').strip()
        if (val and not val.startswith('$') and not _PLACEHOLDER_RE.match(val) and val.lower() not in _BOOL_WORDS
                and is_secret_key(match.group('k'))):
            return True
    return False


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


def _name_segment(segment):
    """A dotted name's segment that reads as an identifier (``contrib``, ``Argon2PasswordHasher``,
    ``S3Boto3Storage``), not as a token's random segment (``CAESIJq8Lm2Xw7Zr4``, a JWT part)."""
    text = segment.replace('_', '')
    if len(text) <= 8:
        return True
    return len(text) >= 2.5 * len(_NAME_PIECE_RE.findall(text))


def _dotted_name(text):
    """``django.contrib.auth.hashers.Argon2PasswordHasher``, ``config.settings.production``,
    ``db.example.com`` -- but not ``hvs.CAESIJ...`` (a Vault token) or a JWT / SendGrid key."""
    if not _DOTTED_NAME_RE.match(text):
        return False
    segments = text.split('.')
    return not any(c.isdigit() for c in segments[0]) and all(_name_segment(seg) for seg in segments)


def looks_like_data(value, names=()):
    """Values that are not secrets whatever the key: booleans, numbers, paths, dotted module or
    class names, connection strings without a secret pair (``mysql:host=db;dbname=app``),
    ``localhost`` and the project's own service names (host names)."""
    text = str(value).strip()
    low = text.lower()
    return (low in _BOOL_WORDS or bool(_NUMBER_RE.match(text)) or text.startswith(('/', './', '../', '~/'))
            or _dotted_name(text) or bool(_CONN_STRING_RE.match(text)) and not has_url_credentials(text)
            or low == 'localhost' or text in set(names))


def _names_the_secret(key, patterns=None, qualifiers=None):
    """The key's last word is itself a secret word (``DB_PASSWORD``, ``SECURITY_PASSWORD_SALT``,
    ``API_KEY``), not a property of one (``PASSWORD_MIN_LENGTH``, ``PASS_MAX_DAYS``)."""
    words = [w for w in (key_words(key) if key is not None else []) if not _INDEX_WORD_RE.match(w)]
    return bool(words) and is_secret_key(words[-1], patterns, qualifiers)


def classify_value(key, value, literal=True, default_credentials=None, patterns=None, qualifiers=None, names=(),
                   secret_key=None):
    """One setting -> ``secret`` | ``default-credential`` | ``placeholder`` | ``not-secret`` |
    ``reference`` | ``empty``. Computed where the value is read; only the class leaves the host.

    ``secret_key``: force the key's verdict (a key referenced by a secret key is secret too).
    A URL with ``user:password@`` (or a connection string with ``Password=``) is a secret under any key.
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
    if _LONG_NUMBER_RE.match(text.strip()) and _names_the_secret(key, patterns, qualifiers):
        return 'secret'  # a numeric password or salt (DB_PASSWORD=83920174), not a flag or a length
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
