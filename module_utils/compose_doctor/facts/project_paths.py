# -*- coding: utf-8 -*-
"""Paths inside a Compose project: relative paths as the facts report them, and bounded reads."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


def relpath_in(project_dir, path):
    """``path`` (absolute or relative to project_dir) made relative to project_dir, normalised."""
    if not os.path.isabs(path):
        path = os.path.join(project_dir, path)
    return os.path.relpath(os.path.normpath(path), os.path.normpath(project_dir))


def read_text_fs(path, limit=5 * 1024 * 1024):
    """Text of a file (first ``limit`` bytes, undecodable bytes replaced)."""
    with open(path, 'rb') as handle:
        data = handle.read(limit)
    return data.decode('utf-8', 'replace')
