# -*- coding: utf-8 -*-
"""Compose-side facts for compose-doctor: Compose's own model, plus where each thing is written.

One route to the effective model: ``docker compose config --format json`` (Compose v2, the binary
that runs the user's project) decides services, merge, ``include:``, ``extends:``, ``!reset`` /
``!override``, anchors, interpolation and profiles. Our own YAML reading (``compose_yaml``) only
answers what Compose does not print: which file and line define a service or a variable (also in
``include:``d and ``extends:`` files), the services each file lists (sprawl), and where a file
that does not parse breaks. Only when Compose v2 is absent (or ``use_cli=false``) does
``compose_fallback`` build an approximate model from the same layers; the facts then say
``model_source: yaml``.

Active files follow Compose: explicit files > ``COMPOSE_FILE`` (environment, then ``.env``;
``COMPOSE_PATH_SEPARATOR``) > the first of ``compose.yaml``, ``compose.yml``,
``docker-compose.yml``, ``docker-compose.yaml`` plus the first of ``compose.override.yml``,
``compose.override.yaml``, ``docker-compose.override.yml``, ``docker-compose.override.yaml``.

Values are parsed at the edge (``compose_values``): an odd value becomes a problem naming file,
service, key and the value's shape, never an exception. No function returns a secret value.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json
import os
import re
import stat
import subprocess

from ansible.module_utils.compose_doctor import suppressions
from ansible.module_utils.compose_doctor.facts import compose_fallback, kong_config
from ansible.module_utils.compose_doctor.change import env_file
from ansible.module_utils.compose_doctor.facts.compose_values import (
    compose_flag, environment_to_dict, env_file_entries, has_reference, isolation_facts, mapping, referenced_names,
    normalize_mounts, normalize_ports, scalar_str, shape, size_or_problem, string_list,
)
from ansible.module_utils.compose_doctor.facts.dockerfile import build_facts_fs
from ansible.module_utils.compose_doctor.facts.project_paths import devops_files, read_text_fs, relpath_in
from ansible.module_utils.compose_doctor.facts.compose_yaml import (  # noqa: F401 (re-exported for the module)
    HAS_YAML, MAX_COMPOSE_BYTES, MAX_EXPANDED_NODES, YAML_IMPORT_ERROR, ComposeFileError, load_compose_text, plain,
)
from ansible.module_utils.compose_doctor.redact import (
    SecretPolicy, has_url_credentials, is_secret_key, mask, redact_text,
)

interpolate_string = compose_fallback.interpolate_string

# --------------------------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------------------------

# Compose's own lists, in its order (compose-go cli.DefaultFileNames / DefaultOverrideFileNames).
DEFAULT_COMPOSE_FILES = ('compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml')
DEFAULT_OVERRIDE_FILES = ('compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml',
                          'docker-compose.override.yaml')
# Not the project's own files: VCS, dependencies vendored by package managers, caches.
SKIP_DIRS = frozenset(['.git', '.hg', '.svn', 'node_modules', '__pycache__', '.venv', 'venv', '.tox',
                       '.mypy_cache', '.pytest_cache', 'vendor', 'third_party', 'bower_components', 'site-packages'])
COMPOSE_NAME_RE = re.compile(r'^(?:docker-)?compose(?:[.-][A-Za-z0-9_.-]+)?\.ya?ml$', re.IGNORECASE)
DOCKERFILE_RE = re.compile(r'^(?:dockerfile(?:\..+)?|.+\.dockerfile)$', re.IGNORECASE)
ENV_FILE_RE = re.compile(r'^(?:\.env(?:\..+)?|.+\.env)$')
TEMPLATE_RE = re.compile(r'(?:^|[._-])(?:example|sample|template|dist|tpl|patch|orig|bak|diff)(?:$|[._-])',
                         re.IGNORECASE)
SECRET_DIR_RE = re.compile(r'^secrets', re.IGNORECASE)
OVERRIDE_RE = re.compile(r'override', re.IGNORECASE)
MAX_SOURCE_FILES = 500


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
    """The file ``docker compose`` picks in the project root, or None."""
    present = set(paths)
    for name in DEFAULT_COMPOSE_FILES:
        if name in present:
            return name
    return None


def default_override_file(main, paths):
    """The override file Compose applies on top of ``main`` (any stem: compose.yaml pairs with
    docker-compose.override.yml too), or None."""
    if not main:
        return None
    present = set(paths)
    for name in DEFAULT_OVERRIDE_FILES:
        if name in present:
            return name
    return None


def split_compose_file_var(value, separator=None):
    """Split a COMPOSE_FILE value (':' on POSIX or COMPOSE_PATH_SEPARATOR)."""
    if not value:
        return []
    sep = separator or os.pathsep
    return [p.strip() for p in str(value).split(sep) if p.strip()]


def resolve_active_files(project_dir, paths, files=None, dotenv=None, environ=None):
    """Active compose files (relative paths) and where the choice came from.

    Order: explicit ``files`` > COMPOSE_FILE in the environment > COMPOSE_FILE in .env >
    the default main file plus the default override file.
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


def classify_file(path, main, active, sources=()):
    """main | override | include | extends | alternate for one relative compose file path.

    main: the root default file (or, without one, the first active file). override: any other
    active file, any file named ``*override*``, and root variants of the main file
    (``docker-compose.<x>.yml``) — the seed's "override files". include / extends: pulled in by
    an active file. alternate: other default-named files and compose files in sub-directories.
    """
    if path == main:
        return 'main'
    if path in active:
        return 'override'
    if path in sources:
        return sources[path]
    base = os.path.basename(path)
    in_root = '/' not in path
    if OVERRIDE_RE.search(base):
        return 'override'
    if in_root and base.lower() not in DEFAULT_COMPOSE_FILES:
        return 'override'
    return 'alternate'


def no_project_error(paths, compose_rels, files_given):
    """The error when no compose file is active: lists what was found and how to choose."""
    if compose_rels:
        listing = ', '.join(compose_rels[:12]) + (' ...' if len(compose_rels) > 12 else '')
        message = ('no default compose file (%s) and no COMPOSE_FILE: Compose would not load any of the %d compose '
                   'file(s) found (%s); choose them with audit_compose_files (e.g. -e \'{"audit_compose_files": '
                   '["%s"]}\')' % (', '.join(DEFAULT_COMPOSE_FILES), len(compose_rels), listing, compose_rels[0]))
    else:
        message = ('no compose file in this directory (looked for %s and *compose*.y[a]ml at any depth); check '
                   'audit_project_dir or name the files with audit_compose_files' % ', '.join(DEFAULT_COMPOSE_FILES))
    return {'file': None, 'line': None, 'column': None, 'message': message, 'kind': 'no-project'}


# --------------------------------------------------------------------------------------------
# env files
# --------------------------------------------------------------------------------------------

def parse_env_entries(text):
    """Entries of an env file: [{key, value, line (1-based), quoted, quote}] — the one env-file
    parser, ``env_file.parse``, shared with the fix that edits these files (same quoting and
    escape rules, so audit and fix read the same value from a line). Single-quoted values are
    literal for Compose (no interpolation)."""
    out = []
    for entry in env_file.parse(text):
        quote = entry['quote'] or ''
        out.append({'key': entry['key'], 'value': entry['value'], 'line': entry['line'] + 1,
                    'quoted': bool(quote), 'quote': quote})
    return out


def parse_env_text(text):
    """KEY -> value dict of an env file (last wins)."""
    return dict((e['key'], e['value']) for e in parse_env_entries(text))


def normalize_project_name(name):
    """Compose's project name normalisation (lowercase, [a-z0-9_-], no leading '_'/'-')."""
    name = re.sub(r'[^a-z0-9_-]', '', str(name or '').lower())
    return name.lstrip('_-')


# --------------------------------------------------------------------------------------------
# sources: the files Compose reads for the active files (include: / extends:), and the layers
# of each service in merge order — for file/line, per-file services and the fallback
# --------------------------------------------------------------------------------------------

def include_paths(data):
    """Paths an ``include:`` lists (short strings or ``{path: str|[str]}``)."""
    inc = data.get('include') if isinstance(data, dict) else None
    items = inc if isinstance(inc, list) else ([inc] if inc else [])
    out = []
    for item in plain(items):
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            path = item.get('path')
            out.extend(p for p in (path if isinstance(path, list) else [path]) if isinstance(p, str))
    return out


def extends_of(svc):
    """(base service, file or None) of a service's ``extends``, or (None, None)."""
    ext = plain(svc.get('extends')) if isinstance(svc, dict) else None
    if isinstance(ext, str):
        return ext, None
    if isinstance(ext, dict) and isinstance(ext.get('service'), str):
        return ext['service'], ext.get('file') if isinstance(ext.get('file'), str) else None
    return None, None


def services_of(data):
    services = plain((data or {}).get('services')) if isinstance(data, dict) else None
    return services if isinstance(services, dict) else {}


def _ref_rel(project_dir, from_rel, path, env):
    """A path written in ``from_rel`` (include / extends file), relative to the project."""
    path = interpolate_string(path, env)
    base = os.path.dirname(os.path.join(project_dir, from_rel))
    return relpath_in(project_dir, os.path.join(base, path))


def load_sources(project_dir, active, env, loader):
    """{rel: entry} of every file the active files pull in, in discovery order.

    ``loader(rel) -> entry`` reads one file (``{'data', 'index', 'lines', 'error'}``); each entry
    gets ``via``: active | include | extends. Bounded (cycles, MAX_SOURCE_FILES).
    """
    sources = {}
    queue = [(rel, 'active') for rel in active]
    while queue and len(sources) < MAX_SOURCE_FILES:
        rel, via = queue.pop(0)
        if rel in sources:
            continue
        entry = loader(rel)
        entry['via'] = via
        sources[rel] = entry
        data = entry.get('data') or {}
        for path in include_paths(data):
            queue.append((_ref_rel(project_dir, rel, path, env), 'include'))
        for svc in services_of(data).values():
            _base, file = extends_of(svc)
            if file:
                queue.append((_ref_rel(project_dir, rel, file, env), 'extends'))
    return sources


def _layers_of(project_dir, sources, rel, name, env, chain):
    """[layer] of service ``name`` as defined in ``rel``: its extends bases first, then itself."""
    entry = sources.get(rel) or {}
    svc = ((entry.get('data') or {}).get('services') or {})
    svc = svc.get(name) if isinstance(svc, dict) else None
    if not isinstance(svc, dict) or (rel, name) in chain or len(chain) > 10:
        return []
    base, file = extends_of(svc)
    out = []
    if base:
        base_rel = _ref_rel(project_dir, rel, file, env) if file else rel
        out = [dict(layer, base=True) for layer in
               _layers_of(project_dir, sources, base_rel, base, env, chain + ((rel, name),))]
    out.append({'file': rel, 'name': name, 'service': svc, 'base': False})
    return out


def service_layers(project_dir, sources, active, env):
    """{service: [{file, name, service (tagged), base}]} in Compose's merge order:
    for each active file, its ``include:``d files first, then its own definitions (each after the
    ``extends:`` chain it names)."""
    layers = {}
    seen = set()

    def visit(rel, depth):
        if rel in seen or depth > 10 or rel not in sources:
            return
        seen.add(rel)
        data = sources[rel].get('data') or {}
        for path in include_paths(data):
            visit(_ref_rel(project_dir, rel, path, env), depth + 1)
        for name in services_of(data):
            layers.setdefault(name, []).extend(_layers_of(project_dir, sources, rel, name, env, ()))

    for rel in active:
        visit(rel, 0)
    return layers


def definition_of(layers):
    """(file, line) where a service is first defined (not an extends base)."""
    own = [layer for layer in layers if not layer['base']] or layers
    return (own[0]['file'], None) if own else (None, None)


# --------------------------------------------------------------------------------------------
# normalisation of services (Compose's model, or the fallback) -> facts
# --------------------------------------------------------------------------------------------

def memory_limits(svc, problems):
    """(limit_bytes, reservation_bytes, limit_source) from deploy.resources and mem_limit."""
    deploy = mapping(svc.get('deploy'), 'deploy', problems)
    resources = mapping(deploy.get('resources'), 'deploy.resources', problems)
    limits = mapping(resources.get('limits'), 'deploy.resources.limits', problems)
    reservations = mapping(resources.get('reservations'), 'deploy.resources.reservations', problems)
    deploy_limit = size_or_problem(limits.get('memory'), 'deploy.resources.limits.memory', problems)
    deploy_res = size_or_problem(reservations.get('memory'), 'deploy.resources.reservations.memory', problems)
    mem_limit = size_or_problem(svc.get('mem_limit'), 'mem_limit', problems)
    mem_res = size_or_problem(svc.get('mem_reservation'), 'mem_reservation', problems)
    if deploy_limit is not None:
        limit, source = deploy_limit, 'deploy'
    elif mem_limit is not None:
        limit, source = mem_limit, 'mem_limit'
    else:
        limit, source = None, None
    reservation = deploy_res if deploy_res is not None else mem_res
    return limit, reservation, source


def normalize_healthcheck(hc, problems, patterns=None, secret_values=None):
    if hc is None:
        return None
    if not isinstance(hc, dict):
        problems.append({'key': 'healthcheck', 'shape': shape(hc), 'message': 'expected a mapping'})
        return None
    test = hc.get('test')
    if isinstance(test, str):
        test = ['CMD-SHELL', test]
    test = [redact_text(str(t), patterns, secret_values) for t in (test if isinstance(test, list) else [])]
    disabled = hc.get('disable') is True or str(hc.get('disable')).lower() == 'true' or test[:1] == ['NONE']
    return {'test': test or None, 'disabled': disabled}


def normalize_logging(logging, problems, patterns=None, secret_values=None):
    if logging is None:
        return None
    if not isinstance(logging, dict):
        problems.append({'key': 'logging', 'shape': shape(logging), 'message': 'expected a mapping'})
        return None
    options = {}
    for key, value in mapping(logging.get('options'), 'logging.options', problems).items():
        if is_secret_key(key, patterns):
            options[key] = mask(value)
        else:
            options[key] = redact_text(scalar_str(value), patterns, secret_values)
    return {'driver': scalar_str(logging.get('driver')), 'options': options}


def environment_view(env, policy):
    """{KEY: {class, length}}: what the facts say about a service's environment — never a value
    (secret or not: values do not leave the module that reads them)."""
    out = {}
    for key, value in sorted(env.items()):
        out[key] = {'class': policy.classify(key, value), 'length': len(value) if isinstance(value, str) else 0}
    return out


def normalize_build(build, project_dir, problems):
    """{context (rel), dockerfile (rel to project), requirements: []} or None."""
    if build is None:
        return None
    if isinstance(build, str):
        build = {'context': build}
    if not isinstance(build, dict):
        problems.append({'key': 'build', 'shape': shape(build), 'message': 'expected a path or a mapping'})
        return None
    context = str(build.get('context') or '.')
    remote = bool(re.match(r'^(?:[a-z]+://|git@|github\.com/)', context))
    dockerfile = build.get('dockerfile')
    dockerfile = str(dockerfile) if isinstance(dockerfile, (str, int)) and dockerfile != '' else None
    if remote:
        return {'context': context, 'dockerfile': dockerfile, 'requirements': [], 'remote': True}
    context_rel = relpath_in(project_dir, context)
    if build.get('dockerfile_inline') and not dockerfile:
        dockerfile_rel = None
    else:
        dockerfile_rel = relpath_in(project_dir, os.path.join(project_dir, context_rel, dockerfile or 'Dockerfile'))
    return {'context': context_rel, 'dockerfile': dockerfile_rel, 'requirements': []}


def _depends_on_names(value):
    if isinstance(value, dict):
        return sorted(str(k) for k in value)
    if isinstance(value, list):
        return sorted(str(k) for k in value if isinstance(k, (str, int)))
    return []


def normalize_service(name, svc, project_dir, env_files=None, env_lookup=None, patterns=None, secret_values=None,
                      home=None, policy=None):
    """One service of the effective model -> facts (without file/line/secret_env).

    ``svc``: Compose's JSON service (or the fallback's). ``env_files``: the service's env_file
    paths relative to the project (Compose's JSON drops them). Odd values land in ``problems``.
    """
    problems = []
    if not isinstance(svc, dict):
        problems.append({'key': '', 'shape': shape(svc), 'message': 'a service must be a mapping'})
        svc = {}
    limit, reservation, source = memory_limits(svc, problems)
    env = environment_to_dict(svc.get('environment'), env_lookup)
    user = svc.get('user')
    image = svc.get('image')
    facts = {
        'image': str(image) if isinstance(image, (str, int, float)) and not isinstance(image, bool) else None,
        'build': normalize_build(svc.get('build'), project_dir, problems),
        'user': scalar_str(user) if isinstance(user, (str, int)) and user != '' else None,
        'privileged': compose_flag(svc.get('privileged')),
        'network_mode': scalar_str(svc.get('network_mode')) if isinstance(svc.get('network_mode'), str) else None,
        'cap_add': string_list(svc.get('cap_add'), 'cap_add', problems),
        'group_add': string_list(svc.get('group_add'), 'group_add', problems),
        'ports': normalize_ports(svc.get('ports'), problems),
        'expose': string_list(svc.get('expose'), 'expose', problems),
        'mem_limit_bytes': limit,
        'mem_reservation_bytes': reservation,
        'limit_source': source,
        'mounts': normalize_mounts(svc.get('volumes'), svc.get('tmpfs'), project_dir, problems, home),
        'environment': environment_view(env, policy or SecretPolicy(patterns)),
        'healthcheck': normalize_healthcheck(svc.get('healthcheck'), problems, patterns, secret_values),
        'profiles': string_list(svc.get('profiles'), 'profiles', problems),
        'restart': scalar_str(svc.get('restart')) if isinstance(svc.get('restart'), str) else None,
        'logging': normalize_logging(svc.get('logging'), problems, patterns, secret_values),
        'labels': sorted(environment_to_dict(svc.get('labels'))),
        'env_file': list(env_files or []),
        'depends_on': _depends_on_names(svc.get('depends_on')),
        # Compose network keys the service joins; none written means Compose's default network
        'networks': _depends_on_names(svc.get('networks')) or ([] if svc.get('network_mode') else ['default']),
        'problems': problems,
    }
    facts.update(isolation_facts(svc, problems))
    return facts


def layer_env_files(project_dir, layers, env):
    """env_file paths of a service (relative to the project), from its layers in merge order."""
    out = []
    for layer in layers:
        for item in env_file_entries(plain(layer['service'].get('env_file'))):
            rel = _ref_rel(project_dir, layer['file'], item['path'], env)
            if rel not in out:
                out.append(rel)
    return out


# --------------------------------------------------------------------------------------------
# secrets
# --------------------------------------------------------------------------------------------

# Per-run key of the fingerprints: equal values compare equal within one audit, and a fingerprint
# cannot be tested against guesses later (the key is never stored or returned).
_RUN_KEY = os.urandom(32)


def fingerprint(value):
    """Keyed, non-reversible fingerprint of a value (HMAC-SHA256 with a per-run key, 16 hex)."""
    return hmac.new(_RUN_KEY, str(value).encode('utf-8', 'replace'), hashlib.sha256).hexdigest()[:16]


def classify_secret(policy, key, raw_value, effective_value, literal=None, secret_key=None):
    """{key, literal, class, default_credential, empty, length} of one setting — never its value.

    ``class`` (redact.classify_value) is judged on the effective value: ``${DB_PASSWORD}`` that
    resolves to ``postgres`` is a default credential even though the compose line is a reference.
    """
    value = effective_value if effective_value is not None else raw_value
    cls = policy.classify(key, value, literal=True, secret_key=secret_key)
    return {
        'key': key,
        'literal': (raw_value is not None and not has_reference(raw_value)) if literal is None else literal,
        'class': cls,
        'default_credential': cls == 'default-credential',
        'empty': cls == 'empty',
        'length': len(str(value)) if value not in (None, '') else 0,
        'fingerprint': fingerprint(value) if value not in (None, '') else None,
    }


def _wanted(policy, key, value, secret_refs):
    """A setting the secrets view lists: a secret key, a key a secret key refers to, a URL with credentials."""
    return policy.is_secret_key(key) or key in secret_refs or has_url_credentials(value)


def env_file_secrets(entries, env, policy, secret_refs=()):
    """Secret settings of a parsed env file: [{key, line, class, literal, default_credential, ...}].

    A single-quoted value is literal for Compose (``'Ph$Abc'`` is not a reference); a key that a
    secret key refers to (``WEBPASSWORD: ${PIHOLE_PW}``) is a secret whatever its name."""
    out = []
    for entry in entries:
        raw = entry['value']
        if not _wanted(policy, entry['key'], raw, secret_refs):
            continue
        single = entry.get('quote') == "'"
        effective = interpolate_string(raw, env) if isinstance(raw, str) and not single else raw
        item = classify_secret(policy, entry['key'], raw, effective, literal=True if single and raw is not None else None,
                               secret_key=True if entry['key'] in secret_refs else None)
        item['line'] = entry['line']
        out.append(item)
    return out


def service_secret_env(layers, sources, effective_env, env, policy):
    """Secret settings of one service from its layers (last layer wins), with file and line.

    ``effective_env``: the service's environment in the effective model (Compose's values), used
    for the class; references are otherwise resolved with ``env``.
    """
    found = {}
    for layer in layers:
        raw_env = environment_to_dict(plain(layer['service'].get('environment')))
        lines = ((sources.get(layer['file']) or {}).get('index') or {}).get('env', {}).get(layer['name'], {})
        for key, raw_value in raw_env.items():
            if key in effective_env:
                effective = effective_env[key]
            else:
                effective = interpolate_string(raw_value, env) if isinstance(raw_value, str) else env.get(key)
            if not _wanted(policy, key, effective, ()):
                continue
            item = classify_secret(policy, key, raw_value, effective)
            if raw_value is None:
                item['literal'] = False
            item.update({'file': layer['file'], 'line': lines.get(key)})
            found[key] = item
    return [found[k] for k in sorted(found)]


def secret_refs_of(layers):
    """Names that secret keys refer to, across every service layer (``WEBPASSWORD: ${PIHOLE_PW}``)."""
    refs = set()
    for stack in layers.values():
        for layer in stack:
            for key, raw in environment_to_dict(plain(layer['service'].get('environment'))).items():
                if is_secret_key(key) and raw:
                    refs.update(referenced_names(raw))
    return refs


def secret_values_of(mappings, policy, secret_refs=()):
    """Every value classified secret (or default credential) across ``mappings``, whatever the key
    is called when it is a URL with credentials — used only to scrub free text on the host."""
    values = set()
    for mapping_ in mappings:
        for key, value in (mapping_ or {}).items():
            if not isinstance(value, str) or value == '':
                continue
            cls = policy.classify(key, value, secret_key=True if key in secret_refs else None)
            if cls in ('secret', 'default-credential'):
                values.add(value)
    return values


# --------------------------------------------------------------------------------------------
# edges: filesystem and subprocess
# --------------------------------------------------------------------------------------------

def walk_project_fs(project_dir, max_files=200000):
    """(paths, skipped): relative paths of regular files under project_dir, and the directories not
    walked (VCS, vendored dependencies, caches; see SKIP_DIRS). Symlinked directories are not followed."""
    out, skipped = [], []
    for root, dirs, files in os.walk(project_dir):
        rel_root = os.path.relpath(root, project_dir)
        for d in sorted(dirs):
            if d in SKIP_DIRS:
                skipped.append(d if rel_root == '.' else os.path.join(rel_root, d).replace(os.sep, '/'))
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for f in sorted(files):
            rel = f if rel_root == '.' else os.path.join(rel_root, f)
            out.append(rel.replace(os.sep, '/'))
            if len(out) >= max_files:
                return out, skipped
    return out, skipped


def file_facts_fs(project_dir, rel):
    """{path, exists, mode, owner, group, uid, gid, group_readable, world_readable}."""
    full = os.path.join(project_dir, rel)
    facts = {'path': rel, 'exists': False, 'mode': None, 'owner': None, 'group': None, 'uid': None,
             'gid': None, 'group_readable': None, 'world_readable': None}
    try:
        st = os.stat(full)
    except (OSError, ValueError):   # ValueError: a path with a NUL byte
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


_LOG_LINE_RE = re.compile(r'^time="[^"]*" level=(?P<level>\w+) msg="(?P<msg>.*)"$')


def compose_error_line(text):
    """The error Compose reports: its last line that is not a ``level=warning|info|debug`` log line
    (Compose prints warnings such as "variable is not set" before the error itself)."""
    lines = [line.strip() for line in (text or '').splitlines() if line.strip()]
    for line in reversed(lines):
        match = _LOG_LINE_RE.match(line)
        if match is None:
            return line
        if match.group('level') in ('error', 'fatal'):
            return match.group('msg')
    return lines[-1] if lines else ''


def run_compose_config(project_dir, active_abs, environ, docker_bin=None, timeout=60, runner=None):
    """(model dict, None) from ``docker compose config``, or (None, Compose's error line).
    No ``active_abs``: Compose finds the files itself (``COMPOSE_FILE`` of the environment or
    ``.env``, resolved from the project dir, where it runs)."""
    docker = find_docker_fs(docker_bin)
    if not docker:
        return None, 'docker CLI not found'
    env = dict(environ)
    if active_abs:
        env['COMPOSE_FILE'] = os.pathsep.join(active_abs)
    env.pop('COMPOSE_PROFILES', None)
    # The CLI and the plugin are short-lived Go processes: collecting at 4x the live heap instead of
    # Go's 2x takes about a third off their CPU (measured: 0.14 -> 0.10 s on the lab's 25 services);
    # the heap stays a few times the model's size. A GOGC the user set is kept.
    env.setdefault('GOGC', '400')
    cmd = compose_config_cmd(docker, project_dir, active_abs)
    run = runner or (lambda c, e, t: _run(c, e, t, cwd=project_dir))
    try:
        rc, out, err = run(cmd, env, timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, 'docker compose config could not run: %s' % type(exc).__name__
    if rc != 0:
        if 'is not a docker command' in (err or '') or "unknown command" in (err or ''):
            return None, 'docker CLI not found'   # Docker without the Compose v2 plugin
        return None, compose_error_line(err or out) or 'exit code %d' % rc
    try:
        model = json.loads(out)
    except ValueError:
        return None, 'docker compose config returned invalid JSON'
    if not isinstance(model, dict):
        return None, 'docker compose config returned no model'
    return model, None


def compose_project_name(project_dir, environ=None, docker_bin=None, runner=None):
    """The name Compose itself gives the project in ``project_dir`` (``config``'s ``name``: top-level
    ``name``, ``COMPOSE_PROJECT_NAME``, ``.env``), for a host whose Python cannot read YAML; the
    directory's name when Compose is absent or cannot say."""
    model, dummy = run_compose_config(project_dir, [], os.environ if environ is None else environ, docker_bin,
                                      runner=runner)
    name = (model or {}).get('name')
    return name if isinstance(name, str) and name else normalize_project_name(
        os.path.basename(os.path.abspath(project_dir)))


def _run(cmd, env, timeout, cwd=None):
    # Own process group: on timeout the compose plugin (a child of the docker CLI) dies too.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
                            cwd=cwd)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            proc.kill()
        proc.communicate()
        return 124, '', 'docker compose config timed out after %ss' % timeout
    return proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')


def cli_error_location(message, project_dir, rels):
    """(file, line) a Compose error names: a path of one of ``rels`` in the message, ``line N``."""
    found = None
    for rel in sorted(rels, key=len, reverse=True):
        if os.path.join(project_dir, rel) in (message or '') or re.search(r'(?<![\w/.-])%s\b' % re.escape(rel),
                                                                          message or ''):
            found = rel
            break
    line = re.search(r'\bline (\d+)', message or '')
    return found, int(line.group(1)) if line else None


def load_compose_file_fs(project_dir, rel, limits=None):
    """{'data' (tagged), 'plain', 'index', 'lines', 'error'} of one compose file; ``limits``:
    {max_bytes, max_nodes} (compose_yaml's defaults) — past them the file is refused, not read."""
    limits = limits or {}
    max_bytes = int(limits.get('max_bytes') or MAX_COMPOSE_BYTES)
    full = os.path.join(project_dir, rel)
    entry = {'data': None, 'plain': None, 'index': {'services': {}, 'env': {}, 'keys': {}, 'ignore': {}}, 'lines': 0,
             'error': None}
    try:
        size = os.path.getsize(full)
        if size > max_bytes:
            entry['error'] = ComposeFileError(rel, 'refused: %d bytes, over the limit of %d (audit_max_compose_bytes); '
                                              'neither compose-doctor nor Compose reads it' % (size, max_bytes), 1, 1)
            return entry
        text = read_text_fs(full)
    except (IOError, OSError, ValueError) as exc:
        entry['error'] = ComposeFileError(rel, 'cannot read file: %s' % (getattr(exc, 'strerror', None)
                                                                        or type(exc).__name__))
        return entry
    entry['lines'] = len(text.splitlines())
    try:
        entry['data'], entry['index'] = load_compose_text(text, rel,
                                                          int(limits.get('max_nodes') or MAX_EXPANDED_NODES))
        entry['plain'] = plain(entry['data'])
    except ComposeFileError as exc:
        entry['error'] = exc
    return entry


# --------------------------------------------------------------------------------------------
# orchestration
# --------------------------------------------------------------------------------------------

def _project_env(project_dir, environ, env_cache):
    """(.env entries, .env dict, interpolation variables): the shell environment wins over .env."""
    entries = _env_entries_fs(os.path.join(project_dir, '.env'), env_cache)
    dotenv = dict((e['key'], e['value']) for e in entries)
    interp_env = dict(dotenv)
    interp_env.update(environ)
    return entries, dotenv, interp_env


def _data_dirs(project_dir, layers):
    """Project sub-directories bind-mounted into services (data, not the project's own files)."""
    out = set()
    for stack in layers.values():
        for layer in stack:
            volumes = plain(layer['service'].get('volumes'))
            for item in volumes if isinstance(volumes, list) else []:
                source = item.get('source') if isinstance(item, dict) else (
                    str(item).split(':', 1)[0] if isinstance(item, str) and ':' in str(item) else None)
                if isinstance(source, str) and source.startswith(('.', '/')):
                    rel = relpath_in(project_dir, os.path.join(os.path.dirname(layer['file']), source))
                    if rel not in ('.', '') and not rel.startswith('..'):
                        out.add(rel)
    return sorted(out)


def _effective_model(project_dir, active, sources, layers, environ, interp_env, use_cli, docker_bin, runner,
                     env_cache):
    """(services, model, source, cli_error): Compose's model, else the fallback's."""
    model, cli_error = None, None
    refused = [rel for rel in sources if sources[rel].get('error') is not None]
    if use_cli and active and refused:
        # Compose would fail on the same file (or, on a huge one, run for minutes): not started.
        cli_error = 'not run: %s cannot be read (see its finding)' % ', '.join(refused)
    elif use_cli and active:
        model, cli_error = run_compose_config(project_dir, [os.path.join(project_dir, f) for f in active],
                                              environ, docker_bin=docker_bin, runner=runner)
    if model is not None:
        return model.get('services') or {}, model, 'cli', cli_error
    fallback = compose_fallback.build_model(
        dict((name, [(layer['file'], layer['service']) for layer in stack]) for name, stack in layers.items()),
        [sources[rel]['data'] for rel in sources if sources[rel].get('data') and sources[rel]['via'] != 'extends'],
        interp_env)
    for name, svc in fallback['services'].items():   # env_file values under environment, as Compose does
        values = {}
        for rel in layer_env_files(project_dir, layers.get(name, []), interp_env):
            for e in _env_entries_fs(os.path.join(project_dir, rel), env_cache):
                single = e['quote'] == "'"
                values[e['key']] = interpolate_string(e['value'], interp_env) if isinstance(
                    e['value'], str) and not single else e['value']
        values.update(environment_to_dict(svc.get('environment'), interp_env))
        svc['environment'] = values
    return fallback['services'], fallback, 'yaml', cli_error


def _services_facts(project_dir, services, layers, sources, interp_env, policy, secret_values):
    out = {}
    for name in sorted(services):
        svc = services[name]
        stack = layers.get(name, [])
        facts = normalize_service(name, svc, project_dir, env_files=layer_env_files(project_dir, stack, interp_env),
                                  env_lookup=interp_env, patterns=policy.patterns, secret_values=secret_values,
                                  policy=policy)
        file_rel, _line = definition_of(stack)
        facts['file'] = file_rel
        first = next((layer for layer in stack if layer['file'] == file_rel and not layer['base']), None)
        index = (sources.get(file_rel) or {}).get('index') or {}
        facts['line'] = index.get('services', {}).get(first['name']) if first else None
        for problem in facts['problems']:
            key = problem['key'].split('.', 1)[0]
            owner = next((layer for layer in reversed(stack) if key in (layer['service'] or {})), first)
            if owner:
                keys = ((sources.get(owner['file']) or {}).get('index') or {}).get('keys', {}).get(owner['name'], {})
                problem.update({'file': owner['file'], 'line': keys.get(key)})
        effective = environment_to_dict(svc.get('environment') if isinstance(svc, dict) else None, interp_env)
        facts['secret_env'] = service_secret_env(stack, sources, effective, interp_env, policy)
        if facts['build']:
            facts['build'] = build_facts_fs(project_dir, facts['build'], svc.get('build') if isinstance(svc, dict)
                                            else None, policy)
        out[name] = facts
    return out


def _env_and_secret_files(project_dir, paths, compose_rels, loaded, interp_env, policy, secret_refs, env_cache):
    """(env_files, secret_files) facts: files Compose reads (.env, env_file:, secrets: file:) and
    secrets* directories; templates (example.env, .env.example) are marked, not read as live."""
    env_refs, secret_rels = set(), set(secret_dir_files(paths))
    for rel in compose_rels:
        data = loaded[rel].get('plain') or {}
        for svc in services_of(data).values():
            if isinstance(svc, dict):
                for ef in env_file_entries(svc.get('env_file')):
                    if ef['path'].strip() and not has_reference(ef['path']):
                        env_refs.add(_ref_rel(project_dir, rel, ef['path'], interp_env))
        for spec in (data.get('secrets') if isinstance(data.get('secrets'), dict) else {}).values():
            if isinstance(spec, dict) and isinstance(spec.get('file'), str) and not has_reference(spec['file']):
                secret_rels.add(_ref_rel(project_dir, rel, spec['file'], interp_env))
    env_files = []
    for rel in sorted(set(env_files_in(paths)) | env_refs):
        facts = file_facts_fs(project_dir, rel)
        entries = _env_entries_fs(os.path.join(project_dir, rel), env_cache)
        facts['referenced'] = rel in env_refs or rel == '.env'
        facts['template'] = not facts['referenced'] and bool(TEMPLATE_RE.search(os.path.basename(rel)))
        facts['secrets'] = env_file_secrets(entries, interp_env, policy, secret_refs)
        env_files.append(facts)
    return env_files, [file_facts_fs(project_dir, rel) for rel in sorted(secret_rels)]


def _secret_file_values(project_dir, secret_files, limit=4096):
    """Contents of small ``secrets:`` files (stripped), only to scrub free text on the host."""
    values = set()
    for f in secret_files:
        full = os.path.join(project_dir, f['path'])
        try:
            if os.path.isfile(full) and os.path.getsize(full) <= limit:
                text = read_text_fs(full, limit).strip()
                if len(text) >= 4:
                    values.add(text)
        except (IOError, OSError, ValueError):
            continue
    return values


def _env_entries_fs(path, cache):
    """Entries of an env file, read and parsed once per audit (``cache``: path -> entries);
    [] when it is missing, not a regular file or unreadable."""
    path = os.path.normpath(path)
    if path not in cache:
        try:
            cache[path] = parse_env_entries(read_text_fs(path)) if os.path.isfile(path) else []
        except (IOError, OSError, ValueError):
            cache[path] = []
    return cache[path]


def _files_facts(compose_rels, loaded, sources, main, active):
    out, defined = [], set()
    order = dict((rel, i) for i, rel in enumerate(active))
    vias = dict((rel, entry['via']) for rel, entry in sources.items() if entry['via'] != 'active')
    for rel in sorted(compose_rels, key=lambda r: (order.get(r, len(order)), r.count('/'), r)):
        entry = loaded[rel]
        names = list(services_of(entry.get('plain')).keys())
        defined.update(names)   # every file's services, active or not (the seed's "defined")
        out.append({'path': rel, 'kind': classify_file(rel, main, active, vias), 'active': rel in sources,
                    'services': names, 'lines': entry['lines'],
                    'error': entry['error'].as_dict() if entry['error'] else None})
    return out, defined


def gather(project_dir, files=None, use_cli=True, secret_key_patterns=None, default_credentials=None,
           environ=None, docker_bin=None, runner=None, secret_key_qualifiers=None, limits=None):
    """All compose facts of ``project_dir`` (the ``compose`` dict compose_facts returns)."""
    policy = SecretPolicy(secret_key_patterns, secret_key_qualifiers, default_credentials)
    patterns = policy.patterns
    environ = dict(os.environ if environ is None else environ)
    project_dir = os.path.abspath(project_dir)
    paths, skipped = walk_project_fs(project_dir)
    env_cache = {}   # every env file is read once, with one parser
    dotenv_entries, dotenv, interp_env = _project_env(project_dir, environ, env_cache)
    active, active_source = resolve_active_files(project_dir, paths, files, dotenv, environ)
    loaded = {}

    def loader(rel):
        if rel not in loaded:
            loaded[rel] = load_compose_file_fs(project_dir, rel, limits)
        return loaded[rel]

    sources = load_sources(project_dir, active, interp_env, loader)
    layers = service_layers(project_dir, sources, active, interp_env)
    data_dirs = _data_dirs(project_dir, layers)
    compose_rels = [rel for rel in compose_candidates(paths)
                    if not any(rel.startswith(d + '/') for d in data_dirs)] + [r for r in sources]
    compose_rels = list(dict.fromkeys(compose_rels))
    for rel in compose_rels:
        loader(rel)
    errors = [loaded[rel]['error'].as_dict() for rel in compose_rels if loaded[rel]['error'] is not None]
    if not active:
        errors.append(no_project_error(paths, compose_rels, files))

    services, model, model_source, cli_error = _effective_model(
        project_dir, active, sources, layers, environ, interp_env, use_cli, docker_bin, runner, env_cache)
    policy.names = tuple(services) + tuple(layers)   # a service name as a value is a host name
    secret_refs = secret_refs_of(layers)
    secret_values = secret_values_of([dotenv], policy, secret_refs)
    for svc in services.values():
        secret_values |= secret_values_of([environment_to_dict(svc.get('environment') if isinstance(svc, dict)
                                                               else None)], policy, secret_refs)
    if cli_error:
        cli_error = redact_text(cli_error, patterns, secret_values)
        active_broken = any(loaded[rel]['error'] for rel in sources)
        if use_cli and cli_error != 'docker CLI not found' and not active_broken:
            where, line = cli_error_location(cli_error, project_dir, list(sources))
            errors.append({'file': where or (active[0] if active else None), 'line': line, 'column': None,
                           'message': 'docker compose config: %s' % cli_error})

    env_files, secret_files = _env_and_secret_files(project_dir, paths, compose_rels, loaded, interp_env,
                                                    policy, secret_refs, env_cache)
    secret_values |= _secret_file_values(project_dir, secret_files)
    facts_services = _services_facts(project_dir, services, layers, sources, interp_env, policy, secret_values)
    if model.get('name'):
        project_name = normalize_project_name(model['name'])
    else:
        project_name = normalize_project_name(
            environ.get('COMPOSE_PROJECT_NAME') or dotenv.get('COMPOSE_PROJECT_NAME') or os.path.basename(project_dir))
    main = default_main_file(paths) or (active[0] if active else None)
    files_out, defined = _files_facts(compose_rels, loaded, sources, main, active)
    return {
        'project': {'name': project_name, 'dir': project_dir},
        'model_source': model_source,
        'cli_error': cli_error,
        'active_source': active_source,
        'files': files_out,
        'active_files': list(active),
        'skipped_dirs': sorted(set(skipped) | set(data_dirs)),
        # COMPOSE_PROFILES as `docker compose up` sees it (environment over .env); '*' = all
        'active_profiles': [p.strip() for p in (interp_env.get('COMPOSE_PROFILES') or '').split(',') if p.strip()],
        'services_defined': sorted(defined | set(facts_services)),
        'services': facts_services,
        'volumes': top_level_volumes(model, project_name, declared_volumes(sources, interp_env)),
        'dockerfiles': [d for d in dockerfiles_in(paths) if not any(d.startswith(x + '/') for x in data_dirs)],
        'env_files': env_files,
        'secret_files': secret_files,
        # Kong declarative files (services and routes only): the report's mesh section
        'kong_declarative': kong_config.read_declarative(project_dir, paths, facts_services),
        # CI, deploy and infrastructure-as-code files by kind (names only): the report's DevOps section
        'devops_files': devops_files(project_dir, paths),
        'errors': errors,
        'suppressions': suppressions.in_source_entries(sources, layers),   # the ignore file's: compose_facts
    }


def empty_facts(project_dir, message, name=None):
    """The facts of a project that could not be read at all (gather raised): the shape gather
    returns, no services, and ``message`` (already masked) as the one error, so the audit reports
    it as compose-invalid and goes on with the engine's facts. ``name``: the project's name when
    known (else the directory's)."""
    project_dir = os.path.abspath(project_dir)
    return {
        'project': {'name': name or normalize_project_name(os.path.basename(project_dir)), 'dir': project_dir},
        'model_source': 'none', 'cli_error': None, 'active_source': None, 'files': [], 'active_files': [],
        'skipped_dirs': [], 'active_profiles': [], 'services_defined': [], 'services': {}, 'volumes': {},
        'dockerfiles': [], 'env_files': [], 'secret_files': [], 'kong_declarative': [], 'devops_files': {},
        'errors': [{'file': None, 'line': None, 'column': None, 'message': message}], 'suppressions': [],
    }


def declared_volumes(sources, env):
    """Top-level ``volumes`` the files Compose reads declare (interpolated, merged in file order).
    Compose's model drops the ones no service mounts; the audit still reports them (volume-unused)."""
    docs = [entry['data'] for entry in sources.values() if entry.get('data') and entry.get('via') != 'extends']
    volumes = compose_fallback.build_model({}, docs, env).get('volumes')
    return volumes if isinstance(volumes, dict) else {}


def top_level_volumes(model, project_name, declared=None):
    """{name: {external, name}}: every declared volume of the effective model, plus ``declared``
    ones the model dropped (Compose's model keeps only the volumes a service mounts)."""
    out = {}
    volumes = dict(declared or {})
    if isinstance(model.get('volumes'), dict):
        volumes.update(model['volumes'])
    for key, spec in volumes.items():
        spec = spec if isinstance(spec, dict) else {}
        ext = spec.get('external')
        real = spec.get('name')
        if isinstance(ext, dict) and ext.get('name'):
            real = ext['name']
        if not real:
            real = key if ext else '%s_%s' % (project_name, key)
        out[key] = {'external': bool(ext), 'name': real}
    return out
