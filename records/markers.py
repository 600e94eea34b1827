"""Which tests prove which clause: the ``clause(id)`` markers of the test files, read with ``ast`` (fast, no
pytest collection, no imports of the tests).

A marker is ``pytest.mark.clause("5.8.1")`` (several ids allowed: ``clause("5.6.1", "7.1")``), either in the
module's ``pytestmark`` (a single mark or a list/tuple of marks: it covers every test of the module), in a
class's ``pytestmark`` or as a class decorator (every test of the class), or as a decorator of one test.
"""

import ast
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Marked:
    """The tests that name one clause: ``tests`` holds "path::name" of each test function."""

    tests: list[str] = field(default_factory=list)


def _clause_ids(node: ast.AST) -> list[str]:
    """The ids of ``pytest.mark.clause(...)`` / ``mark.clause(...)`` calls in ``node`` (a mark or a list)."""
    if isinstance(node, ast.List | ast.Tuple):
        return [cid for element in node.elts for cid in _clause_ids(element)]
    if not isinstance(node, ast.Call):
        return []
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr == "clause"):
        return []
    if not (isinstance(func.value, ast.Attribute) and func.value.attr == "mark"):
        return []
    return [str(arg.value) for arg in node.args if isinstance(arg, ast.Constant)]


def _pytestmark(body: list[ast.stmt]) -> list[str]:
    ids = []
    for statement in body:
        targets = []
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        if any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in targets):
            ids.extend(_clause_ids(value))
    return ids


def _is_test(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")


def file_markers(path: Path, label: str) -> dict[str, list[str]]:
    """{clause id: ["label::test", ...]} for one test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: dict[str, list[str]] = defaultdict(list)
    module_ids = _pytestmark(tree.body)
    for node in tree.body:
        if _is_test(node):
            tests = [(node.name, node)]
            outer = module_ids
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            outer = module_ids + _pytestmark(node.body) + [i for d in node.decorator_list for i in _clause_ids(d)]
            tests = [(f"{node.name}::{item.name}", item) for item in node.body if _is_test(item)]
        else:
            continue
        for name, function in tests:
            own = [i for d in function.decorator_list for i in _clause_ids(d)]
            for clause_id in dict.fromkeys(outer + own):
                found[clause_id].append(f"{label}::{name}")
    # A module marker on a file without tests still names its clause (the checker reports an unknown id).
    for clause_id in module_ids:
        found.setdefault(clause_id, [])
    return dict(found)


def collect(root: Path) -> dict[str, list[str]]:
    """{clause id: tests} over every ``test_*.py`` below ``root``."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("test_*.py")):
        label = str(path.relative_to(root.parent)) if root.parent != path else path.name
        for clause_id, tests in file_markers(path, label).items():
            found[clause_id].extend(tests)
    return dict(found)
