"""The shape of the code: no import cycles, and no module, class or function too large to read.

Every module of ``sim/`` and ``agents/`` is parsed with ``ast`` (nothing is imported). An import
anywhere in a module, also inside a function, is an edge from that module to the module it names;
a cycle among those edges is a failure, as is a module over 500 lines, a class over 300 lines or a
function (or method) over 80 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "agents")
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 300
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            parts = f.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = f
    return mods


MODULES = _modules()
TREES = {name: ast.parse(path.read_text(encoding="utf-8"), filename=str(path)) for name, path in MODULES.items()}


def _known(name: str) -> str | None:
    """The module of ours that importing ``name`` loads (``sim.a.b.func`` -> ``sim.a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, tree: ast.Module) -> set[str]:
    is_package = MODULES[module].name == "__init__.py"
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".") if is_package else module.split(".")[:-1]
                pkg = pkg[:len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            # `from pkg import mod` imports pkg.mod when that is a module, else a name of pkg
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for t in targets:
            k = _known(t)
            if k is not None and k != module:
                out.add(k)
    return out


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def _sized(kind: type | tuple[type, ...]) -> list[tuple[int, str]]:
    out = []
    for module, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, kind):
                out.append((node.end_lineno - node.lineno + 1, f"{module}:{node.name} (line {node.lineno})"))
    return out


def test_the_scan_sees_the_code():
    """Guards the other tests against passing vacuously: the scan finds the modules, the import
    edges and the definitions it is meant to check."""
    edges = {m: _imports(m, t) for m, t in TREES.items()}
    assert {"sim.cli", "sim.model", "sim.config", "agents.retail"} <= set(MODULES)
    assert "sim.config" in edges["sim.model"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    assert len(_sized(ast.ClassDef)) > 10 and len(_sized((ast.FunctionDef, ast.AsyncFunctionDef))) > 100


def test_no_import_cycles():
    edges = {m: _imports(m, t) for m, t in TREES.items()}
    cycles = _cycles(edges)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("kind,limit", [("module", MAX_MODULE_LINES), ("class", MAX_CLASS_LINES),
                                        ("function", MAX_FUNCTION_LINES)])
def test_nothing_too_large(kind, limit):
    if kind == "module":
        sizes = [(len(p.read_text(encoding="utf-8").splitlines()), m) for m, p in MODULES.items()]
    elif kind == "class":
        sizes = _sized(ast.ClassDef)
    else:
        sizes = _sized((ast.FunctionDef, ast.AsyncFunctionDef))
    over = sorted((n, name) for n, name in sizes if n > limit)
    plural = "classes" if kind == "class" else f"{kind}s"
    assert not over, f"{plural} over {limit} lines:\n" + "\n".join(f"  {name}: {n}" for n, name in over)
