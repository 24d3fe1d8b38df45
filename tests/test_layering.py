"""The layers of the code, read from the source with `ast` (nothing is imported):
`teams` (people, places, who may see what) is the lower app and imports nothing from
`worklog` (the notebook and its totals), and our modules import one another without a
cycle. Imports inside functions count as much as those at the top. No module outside the
migrations runs past MAX_LINES: past that, a module holds more than one room."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("teams", "worklog")

# Cycles known and being removed, each by the point of issue 12 named beside it. A cycle
# not listed here fails the test; take an entry off once its cycle is gone.
KNOWN_CYCLES = []

MAX_LINES = 400
# Modules known to be longer and being split, each by the branch named beside it. A module
# not listed here that runs past MAX_LINES fails the test, and so does an entry whose module
# is no longer long or no longer there: take it off once its split has landed.
KNOWN_LONG = {
    "worklog/models.py",  # h-drift: split by responsibility
}


def _modules():
    """{dotted name: path} of every module of our apps."""
    modules = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _imported(node, module, is_package):
    """Dotted names an import statement names (a `from a import b` names `a.b` and `a`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: from the module's package upwards
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([base] if base else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _imports(modules):
    """{module: set of our modules it imports}, at module level or inside functions: an
    import deferred into a function hides a cycle, it does not remove it."""
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update(
                    target for target in _imported(node, name, is_package)
                    if target in modules and target != name
                )
        graph[name] = found
    return graph


def _cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_teams_imports_nothing_from_worklog():
    graph = _imports(_modules())
    upward = {
        f"{module} imports {target}"
        for module, targets in graph.items() if module.split(".")[0] == "teams"
        for target in targets if target.split(".")[0] == "worklog"
    }
    assert not upward


def test_no_import_cycle():
    cycles = _cycles(_imports(_modules()))
    unknown = [sorted(cycle) for cycle in cycles if cycle not in KNOWN_CYCLES]
    assert not unknown


def test_the_checks_see_an_import_cycle_and_an_upward_import():
    """The walk itself: a made-up graph with a cycle is found, and an import inside a
    function is read."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    tree = ast.parse("def f():\n    from worklog.models import Entry\n")
    node = tree.body[0].body[0]
    assert "worklog.models" in _imported(node, "teams.views", is_package=False)


def _long_modules():
    """Paths (from the repository root) of our modules, migrations aside, past MAX_LINES."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in _modules().values()
        if "migrations" not in path.relative_to(ROOT).parts
        and len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }


def test_no_module_is_too_long():
    long_modules = _long_modules()
    assert sorted(long_modules - KNOWN_LONG) == []
    assert sorted(KNOWN_LONG - long_modules) == []  # split, shortened or gone: take it off
