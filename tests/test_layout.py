"""The package's shape, read statically (ast): no import cycles, models independent of the trainer and the
evaluator, modules and public functions of a readable size."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tsrec"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80
FORBIDDEN_FOR_MODELS = ("tsrec.training", "tsrec.evaluate")


def module_name(path: Path) -> str:
    """tsrec/a/b.py -> tsrec.a.b; tsrec/a/__init__.py -> tsrec.a (a package is the node of its __init__)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve_relative(name: str, node: ast.ImportFrom) -> str:
    """The absolute module of ``from ..x import y`` inside module ``name``."""
    package = name if is_package(name) else name.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _known(target: str) -> str | None:
    """``target`` or its nearest enclosing tsrec module (``import tsrec.x.y.z`` where z is a name)."""
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


def imports_of(name: str) -> dict[str, int]:
    """tsrec modules that module ``name`` imports (anywhere: top level, in functions, in TYPE_CHECKING blocks)
    -> the first line that does. ``from P import x`` goes to P.x when that is a module, else to P."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"), filename=str(MODULES[name]))
    found: dict[str, int] = {}

    def add(target: str | None, line: int) -> None:
        if target is not None and target != name:
            found.setdefault(target, line)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "tsrec" or alias.name.startswith("tsrec."):
                    add(_known(alias.name), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(name, node) if node.level else (node.module or "")
            if base != "tsrec" and not base.startswith("tsrec."):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                add(sub if sub in MODULES else _known(base), node.lineno)
    return found


GRAPH: dict[str, dict[str, int]] = {name: imports_of(name) for name in MODULES}


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (a path a -> ... -> a) in every strongly connected component that has one (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                components.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return [_cycle_in(graph, set(comp), comp[0]) for comp in components]


def _cycle_in(graph: dict[str, dict[str, int]], comp: set[str], start: str) -> list[str]:
    """A shortest path start -> ... -> start inside one strongly connected component (breadth first)."""
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w not in comp:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start, *reversed(path[:-1]), start] if v != start else [start, start]
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")  # unreachable for a strongly connected component


def _describe(graph: dict[str, dict[str, int]], path: list[str]) -> str:
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in zip(path, path[1:])) + f" -> {path[-1]}"


def reachable(graph: dict[str, dict[str, int]], start: str) -> dict[str, list[str]]:
    """Every module reachable from ``start`` -> one import chain that reaches it."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    return paths


def _forbidden(target: str) -> bool:
    return any(target == f or target.startswith(f + ".") for f in FORBIDDEN_FOR_MODELS)


# ----------------------------------------------------------------------------- the checker checks itself
def test_the_import_graph_is_read_correctly():
    assert "tsrec" in MODULES and "tsrec.models.sequential" in MODULES and is_package("tsrec.models.sequential")
    # ``from tsrec.training.loop import ...`` inside a function body of the training package counts, and a
    # submodule imported by name from a package is an edge to the submodule, not to the package
    assert "tsrec.training.loop" in GRAPH["tsrec.training"]
    assert "tsrec.models.sequential" in GRAPH["tsrec.training.recipes"]
    assert "tsrec.online" in GRAPH["tsrec.cli"]  # only imported inside cmd_prequential
    toy = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3, "d": 4}, "d": {}, "e": {"e": 5}}
    cycles = find_cycles(toy)
    assert sorted(map(tuple, cycles)) == [("a", "b", "c", "a"), ("e", "e")]
    assert _describe(toy, cycles[0]) == "a (line 1) -> b (line 2) -> c (line 3) -> a"
    assert reachable(toy, "b")["d"] == ["b", "c", "d"]


# ----------------------------------------------------------------------------- the package
def test_no_import_cycles_between_tsrec_modules():
    cycles = find_cycles(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(_describe(GRAPH, c) for c in cycles)


def test_models_import_neither_the_trainer_nor_the_evaluator():
    offenders = []
    for name in MODULES:
        if name != "tsrec.models" and not name.startswith("tsrec.models."):
            continue
        for target, chain in reachable(GRAPH, name).items():
            if _forbidden(target):
                direct = "directly" if len(chain) == 2 else "via " + " -> ".join(chain[1:-1])
                offenders.append(f"{name} imports {target} {direct}")
    assert not offenders, "\n".join(offenders)


def test_no_module_is_longer_than_450_lines():
    sizes = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in MODULES.values()}
    offenders = [f"{path.relative_to(PACKAGE.parent)} ({n} lines)"
                 for path, n in sorted(sizes.items()) if n > MAX_MODULE_LINES]
    assert not offenders, f"modules over {MAX_MODULE_LINES} lines (split them):\n" + "\n".join(offenders)


def _public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def long_public_functions(tree: ast.AST, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int, int]]:
    """(qualified name, line, body lines) of public functions and methods whose body has more than ``limit``
    lines. Public: the name and every enclosing class name lack a leading underscore (dunders are public)."""
    out = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef) and _public(child.name):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(child.name):
                lines = child.end_lineno - child.body[0].lineno + 1
                if lines > limit:
                    out.append((prefix + child.name, child.lineno, lines))

    visit(tree, "")
    return out


def test_long_function_finder_on_a_sample():
    body = "\n".join(f"    x{i} = {i}" for i in range(81))
    src = (f"def long():\n{body}\n\ndef short():\n    return 1\n\ndef _private():\n{body}\n\n"
           f"class A:\n    def method(self):\n{body.replace('    ', '        ')}\n\n"
           f"class _B:\n    def method(self):\n{body.replace('    ', '        ')}\n")
    assert long_public_functions(ast.parse(src)) == [("long", 1, 81), ("A.method", 171, 81)]


def test_no_public_function_body_is_longer_than_80_lines():
    offenders = []
    for name, path in MODULES.items():
        for qual, line, lines in long_public_functions(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} {qual} ({lines} lines)")
    assert not offenders, f"public functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(offenders)
