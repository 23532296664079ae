# -*- coding: utf-8 -*-
"""Compose YAML as written: parse one file with line numbers, Compose's own tags, readable errors.

This is the only place compose-doctor reads compose YAML itself. It answers what Compose's
``docker compose config`` does not: which file and line define a service or a variable, which
services each file lists, and where a file that does not parse breaks. The effective model comes
from Compose (``compose_model``); the approximate fallback lives in ``compose_fallback``.

Compose tags: ``!reset`` and ``!override`` (Compose merge rules) load as :class:`Reset` /
:class:`Override` markers in the *tagged* tree and as their plain value in the *plain* tree;
any other local tag (``!foo``) loads as its plain value, so it never breaks the audit.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import yaml
    HAS_YAML = True
    YAML_IMPORT_ERROR = None
    try:
        _Base = yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - libyaml missing
        _Base = yaml.SafeLoader
except ImportError as _exc:  # pragma: no cover - exercised only without pyyaml
    yaml = None
    _Base = object
    HAS_YAML = False
    YAML_IMPORT_ERROR = str(_exc)

def safe_load(stream):
    """A plain YAML data file (no Compose tags, no lines) with the safe loader, libyaml's when there."""
    return yaml.load(stream, Loader=_Base)


# Bounded work on any input (role defaults audit_max_compose_bytes / audit_max_yaml_nodes): a file
# larger than this is refused before it is read, and a document whose aliases expand past this many
# nodes (a "billion laughs" file) is refused before it is constructed. A real 60-service project is
# ~100 KB and ~20,000 nodes.
MAX_COMPOSE_BYTES = 4 * 1024 * 1024
MAX_EXPANDED_NODES = 500000


class Reset(object):
    """``!reset`` marker: the key is removed from what earlier files set."""

    def __init__(self, value=None):
        self.value = value

    def __repr__(self):
        return 'Reset(%r)' % (self.value,)


class Override(object):
    """``!override`` marker: the value replaces what earlier files set instead of merging."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return 'Override(%r)' % (self.value,)


class ComposeFileError(Exception):
    """A compose file that cannot be used; ``as_dict()`` is the facts' error shape."""

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


def _construct_plain(loader, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


if HAS_YAML:
    class _ComposeLoader(_Base):  # pylint: disable=too-many-ancestors
        """Safe loader that knows Compose's ``!reset`` / ``!override`` and tolerates other local tags."""

    _ComposeLoader.add_constructor('!reset', lambda loader, node: Reset(_construct_plain(loader, node)))
    _ComposeLoader.add_constructor('!override', lambda loader, node: Override(_construct_plain(loader, node)))
    _ComposeLoader.add_multi_constructor('!', lambda loader, suffix, node: _construct_plain(loader, node))


def plain(value):
    """The tagged tree without markers: ``Reset`` -> its value, ``Override`` -> its value."""
    if isinstance(value, (Reset, Override)):
        return plain(value.value)
    if isinstance(value, dict):
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


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


def _env_lines(env_node):
    lines = {}
    if isinstance(env_node, yaml.MappingNode):
        for k, _v in _mapping_items(env_node):
            if _key_text(k) is not None:
                lines[_key_text(k)] = k.start_mark.line + 1
    elif isinstance(env_node, yaml.SequenceNode):
        for item in env_node.value:
            if isinstance(item, yaml.ScalarNode):
                lines[str(item.value).split('=', 1)[0].strip()] = item.start_mark.line + 1
    return lines


EXTENSION_KEY = 'x-compose-doctor'   # compose-doctor's own Compose extension (Compose ignores x- keys)


def ignore_lines(node):
    """Lines (1-based) of the ``ignore:`` list of the mapping ``node`` (an ``x-compose-doctor``
    value, or the root of an ignore file): ``[{'line': entry line, 'keys': {key: line}}]`` in list
    order; ``[]`` when there is no such list."""
    found = _mapping_get(node, 'ignore') if node is not None else None
    if not found or not isinstance(found[1], yaml.SequenceNode):
        return []
    return [{'line': item.start_mark.line + 1,
             'keys': dict((_key_text(k), k.start_mark.line + 1) for k, _v in _mapping_items(item)
                          if _key_text(k) is not None)}
            for item in found[1].value]


def _extension_lines(node):
    found = _mapping_get(node, EXTENSION_KEY) if node is not None else None
    return ignore_lines(found[1]) if found else []


def index_lines(root):
    """Line numbers (1-based) from the composed node tree.

    Returns ``{'services': {name: line}, 'env': {service: {KEY: line}}, 'keys': {service: {key: line}},
    'ignore': {'' (top level) or service: ignore_lines of its x-compose-doctor}}``.
    """
    out = {'services': {}, 'env': {}, 'keys': {}, 'ignore': {'': _extension_lines(root)}}
    services = _mapping_get(root, 'services') if root is not None else None
    if not services:
        return out
    for key, value in _mapping_items(services[1]):
        name = _key_text(key)
        if name is None:
            continue
        out['services'].setdefault(name, key.start_mark.line + 1)
        out['keys'][name] = dict((_key_text(k), k.start_mark.line + 1) for k, _v in _mapping_items(value)
                                 if _key_text(k) is not None)
        env = _mapping_get(value, 'environment')
        out['env'][name] = _env_lines(env[1]) if env else {}
        out['ignore'][name] = _extension_lines(value)
    return out


def _count_expanded(node, budget):
    """Nodes the tree has once aliases are expanded; stops counting at ``budget``."""
    stack, count = [node], 0
    while stack and count <= budget:
        current = stack.pop()
        count += 1
        if isinstance(current, yaml.MappingNode):
            for k, v in current.value:
                stack.append(k)
                stack.append(v)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return count


def _load_mapping(text, file, max_nodes):
    """(tagged data dict, root node) of one YAML document whose top level is a mapping."""
    if not HAS_YAML:
        raise ComposeFileError(file, 'PyYAML is not installed')
    loader = _ComposeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None and _count_expanded(node, max_nodes) > max_nodes:
            raise ComposeFileError(file, 'refused: the YAML expands (aliases included) to more than %d nodes, the '
                                   'limit (audit_max_yaml_nodes); reading it would exhaust memory' % max_nodes, 1, 1)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _yaml_error(file, exc) from exc
    except (ValueError, TypeError, RecursionError) as exc:
        raise ComposeFileError(file, 'cannot load YAML: %s' % type(exc).__name__) from exc
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ComposeFileError(file, 'top-level must be a mapping, got %s' % type(data).__name__, 1, 1)
    return dict((str(k), v) for k, v in data.items()), node


def load_ignore_text(text, file='.compose-doctor-ignore.yml', max_nodes=MAX_EXPANDED_NODES):
    """Parse a compose-doctor ignore file -> (plain data dict, ``ignore_lines`` of its top-level
    ``ignore:`` list). Raises ComposeFileError (file, line, column) when it does not parse."""
    data, node = _load_mapping(text, file, max_nodes)
    return plain(data), ignore_lines(node)


def load_compose_text(text, file='<compose>', max_nodes=MAX_EXPANDED_NODES):
    """Parse compose YAML text -> (tagged data dict, line index). Raises ComposeFileError.

    The tagged data keeps ``Reset`` / ``Override`` markers; ``plain(data)`` drops them.
    """
    data, node = _load_mapping(text, file, max_nodes)
    for section in ('services', 'volumes', 'networks', 'secrets', 'configs'):
        if isinstance(data.get(section), dict):   # names are strings for Compose (`0:` is service "0")
            data[section] = dict((str(k), v) for k, v in data[section].items())
    services = data.get('services')
    if services is not None and not isinstance(plain(services), dict):
        line = None
        svc = _mapping_get(node, 'services')
        if svc:
            line = svc[0].start_mark.line + 1
        raise ComposeFileError(file, "'services' must be a mapping of service names", line, 1)
    return data, index_lines(node)
