"""The package's structure stays as docs/design.md draws it.

Read from the source with :mod:`ast` (nothing is imported or run):

* no module over :data:`MAX_MODULE_LINES` lines, no function over
  :data:`MAX_FUNCTION_LINES` lines of code (its docstring not counted);
* no import inside a function, except the command line's deliberate lazy imports
  (``matchmaker/cli.py`` imports a command's machinery only when it runs);
* the import graph of the package's modules has no cycle (networkx);
* every import runs down the layers of :data:`LAYERS` (or stays in its own layer).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "matchmaker"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
LAZY_IMPORTS_ALLOWED = {"matchmaker.cli"}

#: The layers, bottom first: a module may import only from its own layer or a lower one.
#: A layer is a sub-package (``matchmaker.solve``) or a top-level module (``matchmaker.solver``).
LAYERS = (
    ("matchmaker.common",),
    ("matchmaker.inputs",),
    ("matchmaker.rules", "matchmaker.constraints"),
    ("matchmaker.criteria", "matchmaker.scoring"),
    ("matchmaker.pairs",),
    ("matchmaker.solve", "matchmaker.solver"),
    ("matchmaker.proposals", "matchmaker.quality"),
    ("matchmaker.run", "matchmaker.compare"),
    ("matchmaker.ledger",),
    ("matchmaker.report", "matchmaker.generator", "matchmaker.building"),
    ("matchmaker.ui",),
    ("matchmaker.cli", "matchmaker.cli_checks", "matchmaker.cli_errors"),
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(), filename=str(path)) for name, path in MODULES.items()}


def _layer(module: str) -> int:
    for i, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return i
    if module == "matchmaker":
        return -1
    raise AssertionError(f"{module} is in no layer of tests/test_structure.py: add it to LAYERS and docs/design.md")


def _imported(module: str, node: ast.AST) -> list[str]:
    """The package's modules that one import statement names."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        # the package imports absolutely (ruff's TID252 refuses relative imports)
        prefix = node.module or ""
        names = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names]
    else:
        return []
    return sorted({n for n in names if n in MODULES and n != "matchmaker"})


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(MODULES)
    for module, tree in TREES.items():
        for node in ast.walk(tree):
            for target in _imported(module, node):
                graph.add_edge(module, target)
    return graph


def _code_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    lines = fn.end_lineno - fn.lineno + 1
    first = fn.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        lines -= first.end_lineno - first.lineno + 1
    return lines


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_small(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{MODULES[module]} has {lines} lines (at most {MAX_MODULE_LINES}): split it"


def test_functions_are_short():
    long = [f"{MODULES[m].relative_to(PACKAGE.parent)}:{fn.lineno} {fn.name} ({_code_lines(fn)} lines)"
            for m, tree in TREES.items() for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and _code_lines(fn) > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines of code:\n" + "\n".join(long)


def test_no_import_inside_a_function():
    found = []
    for module, tree in TREES.items():
        if module in LAZY_IMPORTS_ALLOWED:
            continue
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                found += [f"{MODULES[module].relative_to(PACKAGE.parent)}:{n.lineno}" for n in ast.walk(fn)
                          if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not found, "imports inside functions (they hide a dependency; import at the top):\n" + "\n".join(found)


def test_import_graph_has_no_cycle():
    cycles = list(nx.simple_cycles(import_graph()))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c + c[:1]) for c in cycles[:10])


def test_imports_run_down_the_layers():
    upward = [f"{a} -> {b}" for a, b in import_graph().edges if _layer(a) < _layer(b)]
    assert not upward, "imports that run back up the layers of docs/design.md:\n" + "\n".join(sorted(upward))


def _public_functions():
    """(module, function) for every public function and public method of a public class."""
    for module, tree in TREES.items():
        scopes = [(tree, "")] + [(c, c.name + ".") for c in tree.body
                                if isinstance(c, ast.ClassDef) and not c.name.startswith("_")]
        for scope, prefix in scopes:
            for fn in scope.body:
                if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and not fn.name.startswith("_"):
                    yield module, prefix, fn


def test_public_functions_have_type_hints():
    missing = []
    for module, prefix, fn in _public_functions():
        args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
        if prefix and args and not any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list):
            args = args[1:]  # self or cls
        untyped = [a.arg for a in args if a.annotation is None]
        untyped += [f"*{a.arg}" for a in (fn.args.vararg, fn.args.kwarg) if a is not None and a.annotation is None]
        if untyped or fn.returns is None:
            what = ", ".join(untyped + ([] if fn.returns is not None else ["return"]))
            missing.append(f"{MODULES[module].relative_to(PACKAGE.parent)}:{fn.lineno} {prefix}{fn.name}: {what}")
    assert not missing, "public functions without type hints:\n" + "\n".join(missing)
