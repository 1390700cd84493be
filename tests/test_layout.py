"""The layout stays readable: small modules, no import cycles, imports at the top.

docs/architecture.md says where each subsystem lives; these checks keep the packages honest as
they grow.
"""

import ast
from pathlib import Path

import grimp

BASE_DIR = Path(__file__).resolve().parent.parent
APP_PACKAGES = ("newsletter", "subscribers", "staff", "backups", "config", "outbox")
MAX_LINES = 400


# Not the project's code: migrations are generated, and benchmarks/work/ holds the peer's venv.
SKIPPED = ("migrations", "work")


def python_files(*folders):
    for folder in folders:
        for path in sorted((BASE_DIR / folder).rglob("*.py")):
            if not set(path.relative_to(BASE_DIR).parts) & set(SKIPPED):
                yield path


def function_local_imports(path):
    """(line, function) of each import inside a function, bar AppConfig.ready()."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if function.name == "ready" and path.name == "apps.py":
            continue  # connecting signals once the apps are loaded is Django's idiom
        found += [
            (node.lineno, function.name)
            for node in ast.walk(function)
            if isinstance(node, ast.Import | ast.ImportFrom)
        ]
    return found


def strongly_connected(graph):
    """Groups of modules that import each other, directly or not (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while module not in group:
                group.add(stack.pop())
            on_stack.difference_update(group)
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def test_no_module_is_over_400_lines():
    too_long = {
        str(path.relative_to(BASE_DIR)): lines
        for path in python_files(*APP_PACKAGES, "tests", "benchmarks")
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_no_module_imports_inside_a_function():
    local = {
        f"{path.relative_to(BASE_DIR)}:{line} in {function}()"
        for path in python_files(*APP_PACKAGES)
        for line, function in function_local_imports(path)
    }
    assert local == set()


def test_the_apps_have_no_import_cycle_lazy_imports_included():
    graph = grimp.build_graph(*APP_PACKAGES)  # reads imports in functions too
    assert strongly_connected(graph) == []


def test_the_cycle_check_finds_a_cycle():
    graph = grimp.ImportGraph()
    for importer, imported in (("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")):
        graph.add_import(importer=importer, imported=imported)
    assert strongly_connected(graph) == [["a", "b", "c"]]


def test_the_local_import_check_finds_one(tmp_path):
    module = tmp_path / "services.py"
    module.write_text("import os\n\n\ndef enqueue():\n    from tasks import send\n")
    assert function_local_imports(module) == [(5, "enqueue")]
