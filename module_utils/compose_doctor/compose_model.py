# -*- coding: utf-8 -*-
"""Compose-side facts for compose-doctor.

Pure functions (text/dicts in, dicts out) do the work: discovery and classification of
compose files, active files, YAML loading with line numbers, ``${VAR}`` interpolation, the
compose merge (fallback when the ``docker compose`` CLI cannot be used), normalisation of
services to the shape of the shared contract, env file parsing, secret classification,
Dockerfile -> requirements discovery.  Filesystem and subprocess access is confined to the
``*_fs`` helpers and ``gather()`` at the bottom.

No function returns a secret value: environment values of secret-like keys are masked,
free text is passed through ``redact``.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import re
import stat
import subprocess

try:
    import yaml
    HAS_YAML = True
    YAML_IMPORT_ERROR = None
    try:
        _Loader = yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - libyaml missing
        _Loader = yaml.SafeLoader
except ImportError as _exc:  # pragma: no cover - exercised only without pyyaml
    yaml = None
    _Loader = None
    HAS_YAML = False
    YAML_IMPORT_ERROR = str(_exc)

from ansible.module_utils.compose_doctor.redact import (
    DEFAULT_CREDENTIALS, DEFAULT_SECRET_KEY_PATTERNS, is_secret_key, mask, redact_text,
)
from ansible.module_utils.compose_doctor.sizes import try_parse_size

# --------------------------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------------------------

DEFAULT_COMPOSE_FILES = ('compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml')
SKIP_DIRS = frozenset(['.git', '.hg', '.svn', 'node_modules', '__pycache__', '.venv', 'venv', '.tox',
                       '.mypy_cache', '.pytest_cache'])
COMPOSE_NAME_RE = re.compile(r'^(?:docker-)?compose(?:[.-][A-Za-z0-9_.-]+)?\.ya?ml$', re.IGNORECASE)
DOCKERFILE_RE = re.compile(r'^(?:dockerfile(?:\..+)?|.+\.dockerfile)$', re.IGNORECASE)
ENV_FILE_RE = re.compile(r'^(?:\.env(?:\..+)?|.+\.env)$')
TEMPLATE_RE = re.compile(r'(?:^|[._-])(?:example|sample|template|dist|tpl)(?:$|[._-])', re.IGNORECASE)
SECRET_DIR_RE = re.compile(r'^secrets', re.IGNORECASE)
OVERRIDE_RE = re.compile(r'override', re.IGNORECASE)


def is_compose_name(basename):
    return bool(COMPOSE_NAME_RE.match(basename))


def is_dockerfile_name(basename):
    return bool(DOCKERFILE_RE.match(basename))


def is_env_file_name(basename):
    return bool(ENV_FILE_RE.match(basename))


def compose_candidates(paths):
    """Compose files among relative ``paths`` (sorted: root first, then by path)."""
    found = [p for p in paths if is_compose_name(os.path.basename(p))]
    return sorted(found, key=lambda p: (p.count('/'), p))


def dockerfiles_in(paths):
    return sorted(p for p in paths if is_dockerfile_name(os.path.basename(p)))


def env_files_in(paths):
    return sorted(p for p in paths if is_env_file_name(os.path.basename(p)))


def secret_dir_files(paths):
    """Files below a directory whose name starts with ``secrets`` (secrets/, secrets_secure/...)."""
    out = []
    for p in paths:
        parts = p.split('/')[:-1]
        if any(SECRET_DIR_RE.match(part) for part in parts):
            out.append(p)
    return sorted(out)


def default_main_file(paths):
    """The file ``docker compose`` would pick in the project root, or None."""
    present = set(paths)
    for name in DEFAULT_COMPOSE_FILES:
        if name in present:
            return name
    return None


def default_override_file(main, paths):
    """The override file matching ``main`` (compose.yaml -> compose.override.yaml|yml)."""
    if not main:
        return None
    stem = main.rsplit('.', 1)[0]
    present = set(paths)
    for ext in ('yaml', 'yml'):
        cand = '%s.override.%s' % (stem, ext)
        if cand in present:
            return cand
    return None


def split_compose_file_var(value, separator=None):
    """Split a COMPOSE_FILE value (':' on POSIX or COMPOSE_PATH_SEPARATOR)."""
    if not value:
        return []
    sep = separator or os.pathsep
    return [p.strip() for p in str(value).split(sep) if p.strip()]


def relpath_in(project_dir, path):
    """``path`` (absolute or relative to project_dir) made relative to project_dir, normalised."""
    if not os.path.isabs(path):
        path = os.path.join(project_dir, path)
    return os.path.relpath(os.path.normpath(path), os.path.normpath(project_dir))


def resolve_active_files(project_dir, paths, files=None, dotenv=None, environ=None):
    """Active compose files (relative paths) and where the choice came from.

    Order: explicit ``files`` > COMPOSE_FILE in the environment > COMPOSE_FILE in .env >
    the default main file plus its matching override.
    Returns (list, source) with source in files|environment|dotenv|default|none.
    """
    environ = environ or {}
    dotenv = dotenv or {}
    if files:
        return [relpath_in(project_dir, f) for f in files], 'files'
    sep = environ.get('COMPOSE_PATH_SEPARATOR') or dotenv.get('COMPOSE_PATH_SEPARATOR')
    for source, env in (('environment', environ), ('dotenv', dotenv)):
        if env.get('COMPOSE_FILE'):
            return [relpath_in(project_dir, f) for f in split_compose_file_var(env['COMPOSE_FILE'], sep)], source
    main = default_main_file(paths)
    if not main:
        return [], 'none'
    active = [main]
    override = default_override_file(main, paths)
    if override:
        active.append(override)
    return active, 'default'


def classify_file(path, main, active):
    """main | override | alternate for one relative compose file path.

    main: the root default file (compose.yaml ... docker-compose.yml), or, without one, the first
    active file. override: any other active file, any file named ``*override*``, and variants of
    the main file in the root directory (``docker-compose.<x>.yml``, ``compose-<x>.yaml``) — the
    seed's "override files". alternate: other default-named files in the root (a second main),
    and compose files in sub-directories (other projects / alternative stacks).
    """
    if path == main:
        return 'main'
    if path in active:
        return 'override'
    base = os.path.basename(path)
    in_root = '/' not in path
    if OVERRIDE_RE.search(base):
        return 'override'
    if in_root and base.lower() not in DEFAULT_COMPOSE_FILES:
        return 'override'
    return 'alternate'


# --------------------------------------------------------------------------------------------
# YAML with line numbers and readable errors
# --------------------------------------------------------------------------------------------

class ComposeFileError(Exception):
    """A compose file that cannot be used; ``as_dict()`` is the contract's error shape."""

    def __init__(self, file, message, line=None, column=None):
        self.file = file
        self.message = message
        self.line = line
        self.column = column
        Exception.__init__(self, self.human())

    def human(self):
        where = self.file or '<compose>'
        if self.line:
            where += ' line %d' % self.line
            if self.column:
                where += ', column %d' % self.column
        return '%s: %s' % (where, self.message)

    def as_dict(self):
        return {'file': self.file, 'line': self.line, 'column': self.column, 'message': self.human()}


def _yaml_error(file, exc):
    """ComposeFileError from a PyYAML exception: problem + position only, never the source snippet."""
    mark = getattr(exc, 'problem_mark', None) or getattr(exc, 'context_mark', None)
    problem = getattr(exc, 'problem', None) or getattr(exc, 'context', None) or 'invalid YAML'
    context = getattr(exc, 'context', None)
    message = str(problem)
    if context and context != problem and getattr(exc, 'problem', None):
        message = '%s (%s)' % (problem, context)
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return ComposeFileError(file, message, line, column)


def _key_text(node):
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _mapping_items(node, _depth=0):
    """(key_node, value_node) pairs of a MappingNode, following ``<<`` merge keys."""
    if not isinstance(node, yaml.MappingNode) or _depth > 20:
        return []
    items = []
    for key, value in node.value:
        if _key_text(key) == '<<' and key.tag in ('tag:yaml.org,2002:merge', 'tag:yaml.org,2002:str'):
            merged = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for sub in merged:
                items.extend(_mapping_items(sub, _depth + 1))
        else:
            items.append((key, value))
    return items


def _mapping_get(node, name):
    found = None
    for key, value in _mapping_items(node):
        if _key_text(key) == name:
            found = (key, value)
    return found


def index_lines(root):
    """Line numbers (1-based) from the composed node tree.

    Returns {'services': {name: line}, 'env': {service: {KEY: line}}}.
    """
    out = {'services': {}, 'env': {}}
    services = _mapping_get(root, 'services') if root is not None else None
    if not services:
        return out
    for key, value in _mapping_items(services[1]):
        name = _key_text(key)
        if name is None:
            continue
        out['services'].setdefault(name, key.start_mark.line + 1)
        env = _mapping_get(value, 'environment')
        lines = {}
        if env:
            env_node = env[1]
            if isinstance(env_node, yaml.MappingNode):
                for k, _v in _mapping_items(env_node):
                    if _key_text(k) is not None:
                        lines[_key_text(k)] = k.start_mark.line + 1
            elif isinstance(env_node, yaml.SequenceNode):
                for item in env_node.value:
                    if isinstance(item, yaml.ScalarNode):
                        lines[item.value.split('=', 1)[0].strip()] = item.start_mark.line + 1
        out['env'][name] = lines
    return out


def load_compose_text(text, file='<compose>'):
    """Parse compose YAML text -> (data dict, line index). Raises ComposeFileError."""
    if not HAS_YAML:
        raise ComposeFileError(file, 'PyYAML is not installed')
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _yaml_error(file, exc)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ComposeFileError(file, 'cannot load YAML: %s' % type(exc).__name__)
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ComposeFileError(file, 'top-level must be a mapping, got %s' % type(data).__name__, 1, 1)
    services = data.get('services')
    if services is not None and not isinstance(services, dict):
        line = None
        svc = _mapping_get(node, 'services')
        if svc:
            line = svc[0].start_mark.line + 1
        raise ComposeFileError(file, "'services' must be a mapping of service names", line, 1)
    return data, index_lines(node)


# --------------------------------------------------------------------------------------------
# env files and interpolation
# --------------------------------------------------------------------------------------------

_ENV_LINE_RE = re.compile(r'^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=\s*(?P<value>.*))?$')


def _unquote_env_value(raw):
    raw = raw.strip()
    if raw[:1] in ('"', "'"):
        quote = raw[0]
        end = raw.find(quote, 1)
        while quote == '"' and end > 0 and raw[end - 1] == '\\':
            end = raw.find(quote, end + 1)
        if end > 0:
            inner = raw[1:end]
            if quote == '"':
                inner = inner.replace('\\n', '\n').replace('\\"', '"').replace('\\\\', '\\')
            return inner, True
        return raw[1:], True
    # unquoted: an inline comment starts with ' #'
    cut = re.search(r'\s+#', raw)
    if cut:
        raw = raw[:cut.start()]
    return raw.strip(), False


def parse_env_entries(text):
    """Entries of an env file: [{key, value, line, quoted}]; comments/blank lines skipped.

    Supports ``KEY=VALUE``, ``export KEY=VALUE``, quotes, inline `` # comments`` and bare ``KEY``
    (value None).  Invalid lines are ignored (compose rejects them; the audit only reads).
    """
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        match = _ENV_LINE_RE.match(stripped)
        if not match:
            continue
        raw = match.group('value')
        if raw is None:
            entries.append({'key': match.group('key'), 'value': None, 'line': number, 'quoted': False})
            continue
        value, quoted = _unquote_env_value(raw)
        entries.append({'key': match.group('key'), 'value': value, 'line': number, 'quoted': quoted})
    return entries


def parse_env_text(text):
    """KEY -> value dict of an env file (last wins)."""
    return dict((e['key'], e['value']) for e in parse_env_entries(text))


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
    """Compose interpolation of one string: $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e},
    ${VAR:+a}, nested defaults, ``$$`` escape. Unset variables become '' (names appended to
    ``missing``)."""
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
    """Interpolate every string value (not keys) of a YAML structure."""
    if missing is None:
        missing = []
    if isinstance(obj, str):
        return interpolate_string(obj, env, missing)
    if isinstance(obj, dict):
        return dict((k, interpolate(v, env, missing)) for k, v in obj.items())
    if isinstance(obj, list):
        return [interpolate(v, env, missing) for v in obj]
    return obj


def has_reference(value):
    """True when a raw value refers to a variable ($VAR / ${VAR}) rather than being a literal."""
    if not isinstance(value, str):
        return False
    return bool(re.search(r'(?<!\$)\$(?:\{|[A-Za-z_])', value.replace('$$', '')))


# --------------------------------------------------------------------------------------------
# compose merge (fallback for the CLI)
# --------------------------------------------------------------------------------------------

def _scalar_str(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value is None:
        return None
    return str(value)


def environment_to_dict(env, lookup=None):
    """Service ``environment`` (list or mapping) -> dict; bare keys resolved from ``lookup``."""
    lookup = lookup or {}
    out = {}
    if isinstance(env, dict):
        for key, value in env.items():
            out[str(key)] = _scalar_str(value) if value is not None else lookup.get(str(key))
    elif isinstance(env, list):
        for item in env:
            item = str(item)
            if '=' in item:
                key, value = item.split('=', 1)
                out[key] = value
            else:
                out[item] = lookup.get(item)
    return out


def env_file_entries(value):
    """Service ``env_file`` (str, list of str, list of {path, required}) -> [{path, required}]."""
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        value = [value]
    out = []
    for item in value:
        if isinstance(item, dict):
            if item.get('path'):
                out.append({'path': str(item['path']), 'required': bool(item.get('required', True))})
        elif item is not None:
            out.append({'path': str(item), 'required': True})
    return out


def _volume_target(item):
    if isinstance(item, dict):
        return item.get('target')
    parts = split_volume_spec(str(item))
    return parts[1]


def _port_key(item):
    return json.dumps(item, sort_keys=True) if isinstance(item, dict) else str(item)


def _merge_unique(base, over, keyfunc):
    out = list(base or [])
    index = dict((keyfunc(v), i) for i, v in enumerate(out))
    for item in over or []:
        key = keyfunc(item)
        if key in index and key is not None:
            out[index[key]] = item
        else:
            index[key] = len(out)
            out.append(item)
    return out


def _merge_list_append(base, over):
    out = list(base or [])
    for item in over or []:
        if item not in out:
            out.append(item)
    return out


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _depends_on_dict(value):
    if isinstance(value, dict):
        return dict((k, v if isinstance(v, dict) else {}) for k, v in value.items())
    return dict((str(k), {}) for k in _as_list(value))


def deep_merge(base, over):
    """Mapping deep merge: override wins for scalars, lists replaced."""
    if not isinstance(base, dict) or not isinstance(over, dict):
        return copy.deepcopy(over)
    out = dict(base)
    for key, value in over.items():
        out[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
    return out


def merge_service(base, over):
    """Merge service ``over`` into ``base`` following the compose merge rules."""
    base = dict(base or {})
    over = dict(over or {})
    out = dict(base)
    for key, value in over.items():
        if key not in base or base[key] is None:
            out[key] = copy.deepcopy(value)
        elif key in ('command', 'entrypoint'):
            out[key] = copy.deepcopy(value)
        elif key in ('environment', 'labels', 'sysctls', 'annotations'):
            merged = environment_to_dict(base[key])
            merged.update(environment_to_dict(value))
            out[key] = merged
        elif key == 'build':
            b = {'context': base[key]} if isinstance(base[key], str) else base[key]
            o = {'context': value} if isinstance(value, str) else value
            out[key] = deep_merge(b, o)
        elif key == 'ports':
            out[key] = _merge_unique(base[key], value, _port_key)
        elif key == 'volumes':
            out[key] = _merge_unique(base[key], value, _volume_target)
        elif key == 'env_file':
            out[key] = _merge_unique(env_file_entries(base[key]), env_file_entries(value), lambda e: e['path'])
        elif key == 'depends_on':
            out[key] = deep_merge(_depends_on_dict(base[key]), _depends_on_dict(value))
        elif key == 'logging':
            bdrv, odrv = base[key].get('driver'), (value or {}).get('driver')
            if bdrv and odrv and bdrv != odrv:
                out[key] = copy.deepcopy(value)
            else:
                out[key] = deep_merge(base[key], value or {})
        elif key == 'healthcheck':
            merged = deep_merge(base[key], value or {})
            if isinstance(value, dict) and 'test' in value:
                merged['test'] = copy.deepcopy(value['test'])
            out[key] = merged
        elif key == 'tmpfs':
            out[key] = _merge_list_append(_as_list(base[key]), _as_list(value))
        elif isinstance(base[key], dict) and isinstance(value, dict):
            out[key] = deep_merge(base[key], value)
        elif isinstance(base[key], list) and isinstance(value, list):
            out[key] = _merge_list_append(base[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve_extends(services, loader=None, _seen=None):
    """Apply ``extends`` (same file, or ``file:`` through ``loader(path) -> services``)."""
    out = {}
    for name in services:
        out[name] = _resolve_one(name, services, loader, ())
    return out


def _resolve_one(name, services, loader, chain):
    svc = services.get(name) or {}
    ext = svc.get('extends')
    if not ext or name in chain or len(chain) > 10:
        return dict((k, v) for k, v in svc.items() if k != 'extends')
    if isinstance(ext, str):
        ext = {'service': ext}
    target = ext.get('service')
    pool = services
    if ext.get('file') and loader is not None:
        pool = loader(ext['file']) or {}
    if target not in pool:
        return dict((k, v) for k, v in svc.items() if k != 'extends')
    base = _resolve_one(target, pool, loader, chain + (name,))
    for key in ('depends_on', 'volumes_from', 'links', 'network_mode', 'ipc', 'pid'):
        if key in base and pool is not services:
            base.pop(key, None)
    own = dict((k, v) for k, v in svc.items() if k != 'extends')
    return merge_service(base, own)


def merge_documents(docs):
    """Merge interpolated compose documents (in -f order) into one model dict."""
    model = {}
    for doc in docs:
        for key, value in doc.items():
            if key.startswith('x-'):
                continue
            if key == 'services':
                services = model.setdefault('services', {})
                for name, svc in (value or {}).items():
                    svc = svc if isinstance(svc, dict) else {}
                    services[name] = merge_service(services.get(name), svc) if name in services else copy.deepcopy(svc)
            elif isinstance(value, dict) and isinstance(model.get(key), dict):
                model[key] = deep_merge(model[key], value)
            else:
                model[key] = copy.deepcopy(value)
    return model


def normalize_project_name(name):
    """Compose's project name normalisation (lowercase, [a-z0-9_-], no leading '_'/'-')."""
    name = re.sub(r'[^a-z0-9_-]', '', str(name or '').lower())
    return name.lstrip('_-')


# --------------------------------------------------------------------------------------------
# normalisation of services (CLI JSON or fallback merge -> contract shape)
# --------------------------------------------------------------------------------------------

def _port_range(text):
    text = str(text).strip()
    if not text:
        return []
    if '-' in text:
        lo, hi = text.split('-', 1)
        lo, hi = int(lo), int(hi)
        return list(range(lo, hi + 1))
    return [int(text)]


def parse_port_short(spec):
    """Short port syntax -> list of {host_ip, published, target, protocol}.

    ``"80"``, ``"8000:80"``, ``"127.0.0.1:5432:5432/tcp"``, ``"127.0.0.1::90"``, ``"[::1]:53:53/udp"``,
    ``"7000-7001:7000-7001"`` (expanded), ``"8000-8001:80"`` (one entry, first host port).
    """
    spec = str(spec).strip()
    protocol = 'tcp'
    if '/' in spec:
        spec, protocol = spec.rsplit('/', 1)
    host_ip = ''
    if spec.startswith('['):
        end = spec.index(']')
        host_ip = spec[1:end]
        spec = spec[end + 1:].lstrip(':')
        published, _, target = spec.rpartition(':')
    else:
        parts = spec.split(':')
        if len(parts) == 1:
            published, target = '', parts[0]
        elif len(parts) == 2:
            published, target = parts
        else:
            host_ip = ':'.join(parts[:-2])
            published, target = parts[-2], parts[-1]
    targets = _port_range(target)
    hosts = _port_range(published) if published else []
    out = []
    if hosts and len(hosts) == len(targets):
        for h, t in zip(hosts, targets):
            out.append({'host_ip': host_ip, 'published': h, 'target': t, 'protocol': protocol})
    else:
        first = hosts[0] if hosts else None
        for t in targets:
            out.append({'host_ip': host_ip, 'published': first, 'target': t, 'protocol': protocol})
    return out


def normalize_ports(ports):
    out = []
    for item in ports or []:
        if isinstance(item, dict):
            published = item.get('published')
            pub = None
            if published not in (None, ''):
                pub = _port_range(published)[0]
            targets = _port_range(item.get('target'))
            for t in targets:
                out.append({'host_ip': str(item.get('host_ip') or ''), 'published': pub, 'target': t,
                            'protocol': str(item.get('protocol') or 'tcp')})
        else:
            out.extend(parse_port_short(item))
    deduped = []
    for p in out:
        if p not in deduped:
            deduped.append(p)
    return deduped


def split_volume_spec(spec):
    """Short volume syntax -> (source|None, target, mode). ``/data`` is an anonymous volume."""
    parts = spec.split(':')
    if len(parts) == 1:
        return None, parts[0], ''
    if len(parts) == 2:
        if parts[1].startswith('/'):
            return parts[0], parts[1], ''
        return None, parts[0], parts[1]
    return ':'.join(parts[:-2]), parts[-2], parts[-1]


def _is_path_source(source):
    return source.startswith(('/', '.', '~'))


def _abs_source(source, project_dir, home=None):
    if source.startswith('~'):
        source = (home or os.path.expanduser('~')) + source[1:]
    if not os.path.isabs(source):
        source = os.path.join(project_dir, source)
    return os.path.normpath(source)


def normalize_mounts(volumes, tmpfs, project_dir, home=None):
    out = []
    for item in volumes or []:
        if isinstance(item, dict):
            mtype = item.get('type') or 'volume'
            source = item.get('source')
            if mtype == 'bind' and source:
                source = _abs_source(str(source), project_dir, home)
            out.append({'type': mtype, 'source': source or None, 'target': item.get('target'),
                        'read_only': bool(item.get('read_only', False))})
            continue
        source, target, mode = split_volume_spec(str(item))
        if source and _is_path_source(source):
            mtype, source = 'bind', _abs_source(source, project_dir, home)
        else:
            mtype = 'volume'
        out.append({'type': mtype, 'source': source or None, 'target': target,
                    'read_only': 'ro' in mode.split(',')})
    for item in _as_list(tmpfs):
        out.append({'type': 'tmpfs', 'source': None, 'target': str(item).split(':', 1)[0], 'read_only': False})
    return out


def memory_limits(svc):
    """(limit_bytes, reservation_bytes, limit_source) from deploy.resources and mem_limit."""
    resources = ((svc.get('deploy') or {}).get('resources') or {})
    deploy_limit = try_parse_size((resources.get('limits') or {}).get('memory'))
    deploy_res = try_parse_size((resources.get('reservations') or {}).get('memory'))
    mem_limit = try_parse_size(svc.get('mem_limit'))
    mem_res = try_parse_size(svc.get('mem_reservation'))
    if deploy_limit is not None:
        limit, source = deploy_limit, 'deploy'
    elif mem_limit is not None:
        limit, source = mem_limit, 'mem_limit'
    else:
        limit, source = None, None
    reservation = deploy_res if deploy_res is not None else mem_res
    return limit, reservation, source


def normalize_healthcheck(hc, patterns=None, secret_values=None):
    if not isinstance(hc, dict):
        return None
    test = hc.get('test')
    if isinstance(test, str):
        test = ['CMD-SHELL', test]
    test = [redact_text(str(t), patterns, secret_values) for t in (test or [])]
    disabled = bool(hc.get('disable')) or (test[:1] == ['NONE'])
    return {'test': test or None, 'disabled': disabled}


def normalize_logging(logging, patterns=None, secret_values=None):
    if not isinstance(logging, dict):
        return None
    options = {}
    for key, value in (logging.get('options') or {}).items():
        if is_secret_key(key, patterns):
            options[key] = mask(value)
        else:
            options[key] = redact_text(_scalar_str(value), patterns, secret_values)
    return {'driver': logging.get('driver'), 'options': options}


def mask_environment(env, patterns=None, secret_values=None):
    out = {}
    for key, value in sorted(env.items()):
        if is_secret_key(key, patterns):
            out[key] = mask(value)
        elif isinstance(value, str):
            out[key] = redact_text(value, patterns, secret_values)
        else:
            out[key] = value
    return out


def normalize_build(build, project_dir):
    """{context (rel), dockerfile (rel to project), requirements: []} or None."""
    if build is None:
        return None
    if isinstance(build, str):
        build = {'context': build}
    context = str(build.get('context') or '.')
    remote = bool(re.match(r'^(?:[a-z]+://|git@|github\.com/)', context))
    dockerfile = build.get('dockerfile')
    if remote:
        return {'context': context, 'dockerfile': dockerfile, 'requirements': [], 'remote': True}
    context_rel = relpath_in(project_dir, context)
    if build.get('dockerfile_inline') and not dockerfile:
        dockerfile_rel = None
    else:
        dockerfile_rel = relpath_in(project_dir, os.path.join(project_dir, context_rel, dockerfile or 'Dockerfile'))
    return {'context': context_rel, 'dockerfile': dockerfile_rel, 'requirements': []}


def _depends_on_names(value):
    return sorted(_depends_on_dict(value).keys()) if value else []


def normalize_service(name, svc, project_dir, raw=None, env_lookup=None, patterns=None, secret_values=None,
                      home=None):
    """One service of the effective model -> contract shape (without file/line/secret_env).

    ``svc`` is the CLI JSON service or the fallback-merged service; ``raw`` is the
    fallback-merged (interpolated) service, used for fields the CLI drops (``env_file``).
    """
    raw = raw if raw is not None else svc
    limit, reservation, source = memory_limits(svc)
    env = environment_to_dict(svc.get('environment'), env_lookup)
    user = svc.get('user')
    return {
        'image': svc.get('image'),
        'build': normalize_build(svc.get('build'), project_dir),
        'user': str(user) if user not in (None, '') else None,
        'privileged': bool(svc.get('privileged', False)),
        'cap_add': [str(c) for c in _as_list(svc.get('cap_add'))],
        'group_add': [str(g) for g in _as_list(svc.get('group_add'))],
        'ports': normalize_ports(svc.get('ports')),
        'mem_limit_bytes': limit,
        'mem_reservation_bytes': reservation,
        'limit_source': source,
        'mounts': normalize_mounts(svc.get('volumes'), svc.get('tmpfs'), project_dir, home),
        'environment': mask_environment(env, patterns, secret_values),
        'healthcheck': normalize_healthcheck(svc.get('healthcheck'), patterns, secret_values),
        'profiles': [str(p) for p in _as_list(svc.get('profiles'))],
        'restart': svc.get('restart'),
        'logging': normalize_logging(svc.get('logging'), patterns, secret_values),
        'env_file': [relpath_in(project_dir, e['path']) for e in env_file_entries(raw.get('env_file'))],
        'depends_on': _depends_on_names(svc.get('depends_on')),
    }


def effective_environment(svc, env_file_values, lookup):
    """Environment as compose computes it: env_file values, then ``environment`` on top."""
    out = {}
    for values in env_file_values:
        out.update(values)
    out.update(environment_to_dict(svc.get('environment'), lookup))
    return out


# --------------------------------------------------------------------------------------------
# secrets
# --------------------------------------------------------------------------------------------

def _is_secret_candidate(key, patterns):
    # *_FILE keys point at a secret file (the good practice), they are not secrets themselves
    return is_secret_key(key, patterns) and not re.search(r'_(?:FILE|PATH)$', str(key), re.IGNORECASE)


def classify_secret(key, raw_value, effective_value, default_credentials):
    """{key, literal, default_credential, masked, empty} for one secret-like setting."""
    creds = set(str(c).lower() for c in (default_credentials or []))
    value = effective_value if effective_value is not None else raw_value
    return {
        'key': key,
        'literal': raw_value is not None and not has_reference(raw_value),
        'default_credential': value is not None and str(value).strip().lower() in creds,
        'empty': value is None or str(value) == '',
        'masked': mask(value) if value not in (None, '') else '',
    }


def env_file_secrets(entries, env, patterns=None, default_credentials=None):
    """Secret-like entries of a parsed env file: [{key, line, masked, literal, default_credential}]."""
    out = []
    for entry in entries:
        if not _is_secret_candidate(entry['key'], patterns):
            continue
        raw = entry['value']
        effective = interpolate_string(raw, env) if isinstance(raw, str) and not entry.get('quoted_single') else raw
        item = classify_secret(entry['key'], raw, effective, default_credentials)
        item['line'] = entry['line']
        out.append(item)
    return out


def service_secret_env(active_docs, name, env, patterns=None, default_credentials=None):
    """secret_env of one service from the raw (uninterpolated) active documents; last file wins.

    ``active_docs``: [(relpath, raw_data, line_index)].
    """
    found = {}
    for path, raw, index in active_docs:
        svc = ((raw or {}).get('services') or {}).get(name)
        if not isinstance(svc, dict):
            continue
        raw_env = environment_to_dict(svc.get('environment'))
        lines = index.get('env', {}).get(name, {})
        for key, raw_value in raw_env.items():
            if not _is_secret_candidate(key, patterns):
                continue
            effective = interpolate_string(raw_value, env) if isinstance(raw_value, str) else env.get(key)
            item = classify_secret(key, raw_value, effective, default_credentials)
            if raw_value is None:
                item['literal'] = False
            item.update({'file': path, 'line': lines.get(key)})
            found[key] = item
    return [found[k] for k in sorted(found)]


def secret_values_of(mappings, patterns=None):
    """Every value of a secret-like key across ``mappings`` (used only to scrub free text)."""
    values = set()
    for mapping in mappings:
        for key, value in (mapping or {}).items():
            if is_secret_key(key, patterns) and value not in (None, '') and isinstance(value, str):
                values.add(value)
    return values


# --------------------------------------------------------------------------------------------
# Dockerfile -> requirements
# --------------------------------------------------------------------------------------------

def dockerfile_instructions(text):
    """[(INSTRUCTION, args)] with line continuations joined and comments dropped."""
    out = []
    current = ''
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith('#')):
            continue
        if current and stripped.startswith('#'):
            continue
        if stripped.endswith('\\'):
            current += stripped[:-1] + ' '
            continue
        current += stripped
        parts = current.split(None, 1)
        if parts:
            out.append((parts[0].upper(), parts[1] if len(parts) > 1 else ''))
        current = ''
    if current.strip():
        parts = current.split(None, 1)
        out.append((parts[0].upper(), parts[1] if len(parts) > 1 else ''))
    return out


def _copy_sources(args):
    args = args.strip()
    if args.startswith('['):
        try:
            items = json.loads(args)
        except ValueError:
            return []
        return [str(i) for i in items[:-1]]
    tokens = [t for t in args.split() if not t.startswith('--')]
    return tokens[:-1]


_PIP_R_RE = re.compile(r'(?:^|\s)(?:-r|--requirement)(?:\s+|=)?(?P<path>[^\s;&|]+)')


def dockerfile_requirement_refs(text):
    """Requirement files a Dockerfile installs, as paths to look up in the build context.

    From ``COPY/ADD requirements*.txt <dest>`` sources and ``pip install -r <path>``.
    Returns an ordered, de-duplicated list of candidate relative paths (may contain globs).
    """
    refs = []
    copied = []
    for instr, args in dockerfile_instructions(text):
        if instr in ('COPY', 'ADD'):
            if '--from' in args:
                continue
            copied.extend(_copy_sources(args))
            for src in _copy_sources(args):
                base = os.path.basename(src.rstrip('/'))
                if re.match(r'^requirements.*\.(?:txt|in)$', base, re.IGNORECASE) or \
                        ('*' in base and base.lower().startswith('requirements')):
                    refs.append(src[2:] if src.startswith('./') else src)
        elif instr == 'RUN' and 'pip' in args:
            for match in _PIP_R_RE.finditer(args):
                path = match.group('path').strip('"\'')
                # an in-image path: prefer the COPY source with the same file name
                same = [c for c in copied if os.path.basename(c.rstrip('/')) == os.path.basename(path)]
                refs.append(same[-1] if same else path)
    seen = []
    for r in refs:
        if r not in seen:
            seen.append(r)
    return seen


def candidate_paths(ref):
    """Context-relative candidates for an in-image path: /app/reqs/r.txt -> app/reqs/r.txt, reqs/r.txt, r.txt."""
    parts = [p for p in ref.replace('\\', '/').split('/') if p not in ('', '.')]
    return ['/'.join(parts[i:]) for i in range(len(parts))]


def normalize_dist_name(name):
    """PEP 503 normalisation: lowercase, runs of -_. -> '-'."""
    return re.sub(r'[-_.]+', '-', name).lower()


_REQ_NAME_RE = re.compile(r'^\s*([A-Za-z0-9][A-Za-z0-9._-]*)')
_EGG_RE = re.compile(r'#egg=([A-Za-z0-9][A-Za-z0-9._-]*)')


def parse_requirements(text):
    """(packages, includes) of a requirements file: normalized distribution names and ``-r`` files.

    Strips comments, version specifiers, extras, environment markers, hashes and options;
    ``-e git+...#egg=name`` and ``name @ url`` give ``name``.
    """
    packages = []
    includes = []
    joined = re.sub(r'\\\r?\n', ' ', text)
    for line in joined.splitlines():
        line = re.sub(r'(^|\s)#.*$', '', line).strip()
        if not line:
            continue
        if line.startswith('-'):
            inc = re.match(r'^(?:-r|--requirement|-c|--constraint)(?:\s+|=)?(\S+)', line)
            if inc and line.startswith(('-r', '--requirement')):
                includes.append(inc.group(1))
                continue
            egg = _EGG_RE.search(line)
            if egg and line.startswith(('-e', '--editable')):
                packages.append(normalize_dist_name(egg.group(1)))
            continue
        egg = _EGG_RE.search(line)
        if re.match(r'^[a-z+]+://', line):
            if egg:
                packages.append(normalize_dist_name(egg.group(1)))
            continue
        match = _REQ_NAME_RE.match(line)
        if match:
            name = normalize_dist_name(match.group(1))
            if name not in packages:
                packages.append(name)
    return packages, includes


# --------------------------------------------------------------------------------------------
# edges: filesystem and subprocess
# --------------------------------------------------------------------------------------------

def walk_project_fs(project_dir, max_files=200000):
    """Relative paths of all regular files under project_dir (skips VCS/venv dirs, no symlink dirs)."""
    out = []
    for root, dirs, files in os.walk(project_dir):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        rel_root = os.path.relpath(root, project_dir)
        for f in sorted(files):
            rel = f if rel_root == '.' else os.path.join(rel_root, f)
            out.append(rel.replace(os.sep, '/'))
            if len(out) >= max_files:
                return out
    return out


def read_text_fs(path, limit=5 * 1024 * 1024):
    with open(path, 'rb') as handle:
        data = handle.read(limit)
    return data.decode('utf-8', 'replace')


def file_facts_fs(project_dir, rel):
    """{path, exists, mode, owner, group, uid, gid, group_readable, world_readable}."""
    full = os.path.join(project_dir, rel)
    facts = {'path': rel, 'exists': False, 'mode': None, 'owner': None, 'group': None, 'uid': None,
             'gid': None, 'group_readable': None, 'world_readable': None}
    try:
        st = os.stat(full)
    except OSError:
        return facts
    mode = stat.S_IMODE(st.st_mode)
    facts.update({'exists': True, 'mode': '%04o' % mode, 'uid': st.st_uid, 'gid': st.st_gid,
                  'owner': _user_name(st.st_uid), 'group': _group_name(st.st_gid),
                  'group_readable': bool(mode & stat.S_IRGRP), 'world_readable': bool(mode & stat.S_IROTH)})
    return facts


def _user_name(uid):
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _group_name(gid):
    try:
        import grp
        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return str(gid)


def find_docker_fs(docker_bin=None):
    if docker_bin:
        return docker_bin if os.path.exists(docker_bin) else None
    for d in os.environ.get('PATH', '').split(os.pathsep) + ['/usr/bin', '/usr/local/bin']:
        cand = os.path.join(d, 'docker')
        if d and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def compose_config_cmd(docker, project_dir, active_abs):
    cmd = [docker, 'compose', '--project-directory', project_dir]
    for f in active_abs:
        cmd.extend(['-f', f])
    cmd.extend(['--profile', '*', 'config', '--format', 'json'])
    return cmd


def run_compose_config(project_dir, active_abs, environ, docker_bin=None, timeout=60, runner=None):
    """(model dict, None) from ``docker compose config``, or (None, error text)."""
    docker = find_docker_fs(docker_bin)
    if not docker:
        return None, 'docker CLI not found'
    env = dict(environ)
    env['COMPOSE_FILE'] = os.pathsep.join(active_abs)
    env.pop('COMPOSE_PROFILES', None)
    cmd = compose_config_cmd(docker, project_dir, active_abs)
    run = runner or _run
    try:
        rc, out, err = run(cmd, env, timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, 'docker compose config could not run: %s' % type(exc).__name__
    if rc != 0:
        return None, (err or out or 'exit code %d' % rc).strip()
    try:
        model = json.loads(out)
    except ValueError:
        return None, 'docker compose config returned invalid JSON'
    if not isinstance(model, dict):
        return None, 'docker compose config returned no model'
    return model, None


def _run(cmd, env, timeout):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return 124, '', 'docker compose config timed out after %ss' % timeout
    return proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')


def _cli_error_file(message, project_dir, active):
    match = re.search(r'validating (?P<path>\S+?):', message or '')
    if match:
        return relpath_in(project_dir, match.group('path'))
    return active[0] if active else None


def load_compose_files_fs(project_dir, rels):
    """{rel: {'data', 'index', 'lines', 'error'}} for every compose file."""
    out = {}
    for rel in rels:
        full = os.path.join(project_dir, rel)
        entry = {'data': None, 'index': {'services': {}, 'env': {}}, 'lines': 0, 'error': None}
        try:
            text = read_text_fs(full)
        except (IOError, OSError) as exc:
            entry['error'] = ComposeFileError(rel, 'cannot read file: %s' % (exc.strerror or type(exc).__name__))
            out[rel] = entry
            continue
        entry['lines'] = len(text.splitlines())
        try:
            entry['data'], entry['index'] = load_compose_text(text, rel)
        except ComposeFileError as exc:
            entry['error'] = exc
        out[rel] = entry
    return out


def requirements_for_build_fs(project_dir, build):
    """Fill build['requirements'] from the Dockerfile in the build context."""
    if not build or build.get('remote') or not build.get('dockerfile'):
        return build
    dockerfile = os.path.join(project_dir, build['dockerfile'])
    context = os.path.join(project_dir, build['context'])
    try:
        text = read_text_fs(dockerfile)
    except (IOError, OSError):
        return build
    found = []
    for ref in dockerfile_requirement_refs(text):
        for cand in candidate_paths(ref):
            matches = _glob_in(context, cand)
            if matches:
                for m in matches:
                    if m not in found:
                        found.append(m)
                break
    reqs = []
    for full in found:
        packages = _read_requirements_fs(full, set())
        reqs.append({'path': relpath_in(project_dir, full), 'packages': packages})
    build['requirements'] = reqs
    return build


def _glob_in(context, pattern):
    import glob
    full = os.path.join(context, pattern)
    if any(c in pattern for c in '*?['):
        return sorted(p for p in glob.glob(full) if os.path.isfile(p))
    return [os.path.normpath(full)] if os.path.isfile(full) else []


def _read_requirements_fs(path, seen, depth=0):
    if path in seen or depth > 5:
        return []
    seen.add(path)
    try:
        text = read_text_fs(path)
    except (IOError, OSError):
        return []
    packages, includes = parse_requirements(text)
    for inc in includes:
        for name in _read_requirements_fs(os.path.normpath(os.path.join(os.path.dirname(path), inc)), seen,
                                          depth + 1):
            if name not in packages:
                packages.append(name)
    return packages


# --------------------------------------------------------------------------------------------
# orchestration
# --------------------------------------------------------------------------------------------

def gather(project_dir, files=None, use_cli=True, secret_key_patterns=None, default_credentials=None,
           environ=None, docker_bin=None, runner=None):
    """All compose facts of ``project_dir`` as the contract's ``compose`` dict."""
    patterns = list(secret_key_patterns or DEFAULT_SECRET_KEY_PATTERNS)
    creds = list(default_credentials if default_credentials is not None else DEFAULT_CREDENTIALS)
    environ = dict(os.environ if environ is None else environ)
    project_dir = os.path.abspath(project_dir)
    paths = walk_project_fs(project_dir)

    dotenv_entries = []
    if os.path.isfile(os.path.join(project_dir, '.env')):
        dotenv_entries = parse_env_entries(read_text_fs(os.path.join(project_dir, '.env')))
    dotenv = dict((e['key'], e['value']) for e in dotenv_entries)
    interp_env = dict(dotenv)
    interp_env.update(environ)  # the shell environment wins over .env, as in compose

    active, active_source = resolve_active_files(project_dir, paths, files, dotenv, environ)
    compose_rels = compose_candidates(paths)
    for rel in active:
        if rel not in compose_rels:
            compose_rels.append(rel)
    loaded = load_compose_files_fs(project_dir, compose_rels)
    main = default_main_file(paths) or (active[0] if active else None)

    errors = []
    for rel in compose_rels:
        if loaded[rel]['error'] is not None:
            errors.append(loaded[rel]['error'].as_dict())
        elif rel in active and not os.path.isfile(os.path.join(project_dir, rel)):
            pass

    # fallback model: interpolate each active document, resolve extends, merge in order
    active_docs = []
    docs = []
    for rel in active:
        entry = loaded.get(rel)
        if entry is None or entry['data'] is None:
            continue
        active_docs.append((rel, entry['data'], entry['index']))
        doc = interpolate(entry['data'], interp_env)
        if isinstance(doc.get('services'), dict):
            doc['services'] = resolve_extends(
                dict((k, v if isinstance(v, dict) else {}) for k, v in doc['services'].items()),
                loader=_extends_loader(project_dir, rel, interp_env))
        docs.append(doc)
    yaml_model = merge_documents(docs)
    yaml_services = yaml_model.get('services') or {}

    # env_file values per service (for the fallback's environment and for scrubbing)
    env_file_values = {}
    for name, svc in yaml_services.items():
        values = []
        for ef in env_file_entries(svc.get('env_file')):
            full = os.path.join(project_dir, ef['path'])
            if os.path.isfile(full):
                values.append(dict((k, interpolate_string(v, interp_env) if isinstance(v, str) else v)
                                   for k, v in parse_env_text(read_text_fs(full)).items()))
        env_file_values[name] = values

    model, cli_error = None, None
    if use_cli and active:
        model, cli_error = run_compose_config(project_dir, [os.path.join(project_dir, f) for f in active],
                                              environ, docker_bin=docker_bin, runner=runner)
    elif not use_cli:
        cli_error = None
    model_source = 'cli' if model is not None else 'yaml'

    secret_values = secret_values_of([dotenv] + [v for vals in env_file_values.values() for v in vals], patterns)
    if model is not None:
        for svc in (model.get('services') or {}).values():
            secret_values |= secret_values_of([environment_to_dict(svc.get('environment'))], patterns)
    for svc in yaml_services.values():
        secret_values |= secret_values_of([environment_to_dict(svc.get('environment'))], patterns)

    if cli_error:
        cli_error = redact_text(cli_error, patterns, secret_values)
        active_broken = any(loaded.get(rel, {}).get('error') for rel in active)
        if use_cli and cli_error != 'docker CLI not found' and not active_broken:
            errors.append({'file': _cli_error_file(cli_error, project_dir, active), 'line': None, 'column': None,
                           'message': 'docker compose config: %s' % cli_error.splitlines()[0]})

    source_services = (model.get('services') if model is not None else yaml_services) or {}
    services = {}
    for name in sorted(source_services):
        svc = source_services[name] or {}
        raw = yaml_services.get(name, {})
        if model is None:
            svc = dict(svc)
            svc['environment'] = effective_environment(svc, env_file_values.get(name, []), interp_env)
        facts = normalize_service(name, svc, project_dir, raw=raw, env_lookup=interp_env, patterns=patterns,
                                  secret_values=secret_values)
        file_rel, line = _definition_of(name, active, loaded)
        facts['file'] = file_rel
        facts['line'] = line
        facts['secret_env'] = service_secret_env(active_docs, name, interp_env, patterns, creds)
        if facts['build']:
            facts['build'] = requirements_for_build_fs(project_dir, facts['build'])
        services[name] = facts

    project_name = None
    if model is not None and model.get('name'):
        project_name = model['name']
    elif yaml_model.get('name'):
        project_name = normalize_project_name(yaml_model['name'])
    else:
        project_name = normalize_project_name(
            environ.get('COMPOSE_PROJECT_NAME') or dotenv.get('COMPOSE_PROJECT_NAME') or os.path.basename(project_dir))

    files_out = []
    defined = set()
    order = dict((rel, i) for i, rel in enumerate(active))
    for rel in sorted(compose_rels, key=lambda r: (order.get(r, len(order)), r.count('/'), r)):
        entry = loaded[rel]
        names = list(((entry['data'] or {}).get('services') or {}).keys())
        defined.update(names)
        files_out.append({'path': rel, 'kind': classify_file(rel, main, active), 'active': rel in active,
                          'services': names, 'lines': entry['lines'],
                          'error': entry['error'].as_dict() if entry['error'] else None})

    env_file_refs = set()
    for rel in compose_rels:
        data = loaded[rel]['data'] or {}
        for svc in (data.get('services') or {}).values():
            if isinstance(svc, dict):
                for ef in env_file_entries(svc.get('env_file')):
                    if not has_reference(ef['path']):
                        env_file_refs.add(relpath_in(project_dir, ef['path']))
    env_files = []
    for rel in sorted(set(env_files_in(paths)) | env_file_refs):
        facts = file_facts_fs(project_dir, rel)
        entries = parse_env_entries(read_text_fs(os.path.join(project_dir, rel))) if facts['exists'] else []
        facts['template'] = bool(TEMPLATE_RE.search(os.path.basename(rel)))
        facts['secrets'] = env_file_secrets(entries, interp_env, patterns, creds)
        env_files.append(facts)

    secret_rels = set(secret_dir_files(paths))
    for rel in compose_rels:
        data = loaded[rel]['data'] or {}
        secrets = data.get('secrets') if isinstance(data.get('secrets'), dict) else {}
        for spec in secrets.values():
            if isinstance(spec, dict) and spec.get('file') and not has_reference(str(spec['file'])):
                secret_rels.add(relpath_in(project_dir, str(spec['file'])))
    secret_files = [file_facts_fs(project_dir, rel) for rel in sorted(secret_rels)]

    return {
        'project': {'name': project_name, 'dir': project_dir},
        'model_source': model_source,
        'cli_error': cli_error,
        'active_source': active_source,
        'files': files_out,
        'active_files': list(active),
        # COMPOSE_PROFILES as `docker compose up` sees it (environment over .env); '*' = all
        'active_profiles': [p.strip() for p in (interp_env.get('COMPOSE_PROFILES') or '').split(',') if p.strip()],
        'services_defined': sorted(defined),
        'services': services,
        'volumes': top_level_volumes(yaml_model, model, project_name),
        'dockerfiles': dockerfiles_in(paths),
        'env_files': env_files,
        'secret_files': secret_files,
        'errors': errors,
    }


def _extends_loader(project_dir, rel, env):
    base_dir = os.path.dirname(os.path.join(project_dir, rel))

    def load(path):
        full = os.path.normpath(os.path.join(base_dir, path))
        try:
            data, _index = load_compose_text(read_text_fs(full), relpath_in(project_dir, full))
        except (ComposeFileError, IOError, OSError):
            return {}
        return interpolate(data.get('services') or {}, env)
    return load


def _definition_of(name, active, loaded):
    for rel in active:
        entry = loaded.get(rel)
        if entry and entry['data'] and name in (entry['data'].get('services') or {}):
            return rel, entry['index']['services'].get(name)
    return None, None


def top_level_volumes(yaml_model, cli_model, project_name):
    """{name: {external, name}}: every declared volume (the CLI drops unused ones)."""
    out = {}
    for key, spec in (yaml_model.get('volumes') or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        ext = spec.get('external')
        external = bool(ext)
        real = spec.get('name')
        if isinstance(ext, dict) and ext.get('name'):
            real = ext['name']
        if not real:
            real = key if external else '%s_%s' % (project_name, key)
        out[key] = {'external': external, 'name': real}
    for key, spec in ((cli_model or {}).get('volumes') or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        out[key] = {'external': bool(spec.get('external')), 'name': spec.get('name') or out.get(key, {}).get('name')}
    return out
