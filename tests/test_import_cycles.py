"""Modules import in one direction (issue 12, point 4): amendments sit above the services
and the month locks, so that neither imports the other back — not even inside a function."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path):
    """The worklog modules a file imports, at its top or inside its functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("worklog.")}


def graph():
    modules = {}
    for path in (ROOT / "worklog").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    return {name: imports_of(path) & modules.keys() - {name} for name, path in modules.items()}


def reaches(edges, start, goal):
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module == goal:
            return True
        if module not in seen:
            seen.add(module)
            todo.extend(edges.get(module, ()))
    return False


def test_the_services_and_the_month_locks_are_in_no_import_cycle():
    edges = graph()
    for module in ("worklog.services", "worklog.locking", "worklog.amendments"):
        cycle = [other for other in edges[module] if reaches(edges, other, module)]
        assert not cycle, f"{module} imports {cycle}, which import it back"
