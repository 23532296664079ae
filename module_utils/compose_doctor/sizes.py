# -*- coding: utf-8 -*-
"""Byte sizes as Docker and Compose write them.

``parse_size`` turns ``'2G'``, ``'512m'``, ``'1.5GiB'``, ``'64m'``, ``'1024'`` or an int into
bytes. Like Docker (go-units ``RAMInBytes``) every unit is binary: ``k`` = 1024,
``m`` = 1024**2, ... with an optional ``i`` and/or ``b`` suffix (``mb``, ``mib``, ``MiB``).
``format_size`` renders bytes for people (``'512MiB'``, ``'1.5GiB'``).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_UNITS = {'': 1, 'b': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3, 't': 1024 ** 4, 'p': 1024 ** 5}
_SIZE_RE = re.compile(r'^\s*(?P<num>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>[kmgtp]?)(?:i?b)?\s*$', re.IGNORECASE)
_FORMAT_UNITS = (('PiB', 1024 ** 5), ('TiB', 1024 ** 4), ('GiB', 1024 ** 3), ('MiB', 1024 ** 2), ('KiB', 1024))


def parse_size(value):
    """Return the number of bytes in ``value`` (int), or None for None/''.

    Raises ValueError with a readable message for anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError('invalid size: %r (expected a number of bytes or e.g. 512m, 2G)' % (value,))
    if isinstance(value, int):
        if value < 0:
            raise ValueError('invalid size: %d (negative)' % value)
        return value
    if isinstance(value, float):
        if value != value or value in (float('inf'), float('-inf')):   # NaN or infinite (YAML .inf/.nan)
            raise ValueError('invalid size: %r (not a finite number)' % value)
        if value < 0:
            raise ValueError('invalid size: %r (negative)' % value)
        return int(value)
    text = str(value).strip()
    if text == '':
        return None
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError('invalid size: %r (expected a number of bytes or e.g. 512m, 1.5GiB, 2G)' % text[:40])
    number = float(match.group('num'))
    factor = _UNITS[match.group('unit').lower()]
    return int(number * factor)


def try_parse_size(value):
    """Like parse_size but returns None instead of raising."""
    try:
        return parse_size(value)
    except (TypeError, ValueError):
        return None


def format_size(num_bytes, precision=1, unknown=None):
    """Render bytes with binary units: 536870912 -> '512MiB', 1610612736 -> '1.5GiB'; None ->
    ``unknown`` (reports pass 'n/a')."""
    if num_bytes is None:
        return unknown
    num = int(num_bytes)
    sign = '-' if num < 0 else ''
    num = abs(num)
    for unit, factor in _FORMAT_UNITS:
        if num >= factor:
            text = ('%.*f' % (precision, num / factor)).rstrip('0').rstrip('.')
            return '%s%s%s' % (sign, text, unit)
    return '%s%dB' % (sign, num)
