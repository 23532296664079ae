# -*- coding: utf-8 -*-
"""No function in library/, module_utils/ or plugins/ is over MAX_LINES lines (def to last line,
nested functions counted in their parent): long ones are split along their steps."""
import ast
from pathlib import Path

MAX_LINES = 80
ROOT = Path(__file__).resolve().parents[2]
DIRS = ("library", "module_utils", "plugins")


def long_functions(max_lines=MAX_LINES):
    out = []
    for folder in DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = node.end_lineno - node.lineno + 1
                    if length > max_lines:
                        out.append("%s:%d %s() is %d lines" % (path.relative_to(ROOT), node.lineno, node.name, length))
    return out


def test_no_function_over_max_lines():
    too_long = long_functions()
    assert not too_long, "functions over %d lines:\n  %s" % (MAX_LINES, "\n  ".join(too_long))


def test_the_check_sees_functions():
    assert long_functions(max_lines=1)  # it does walk the tree
