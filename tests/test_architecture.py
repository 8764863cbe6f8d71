"""The structure is enforced, not just described: layers go one way, no module cycle, one home per fact.

Layers, lowest first (``docs/architecture.md``): the core (``lfi`` without ``lfi.workflows`` and ``lfi.cli``)
→ ``estimators`` and ``simulators`` (siblings: neither imports the other) → ``lfi.workflows`` → ``lfi.cli``.
Every import counts, lazy ones inside functions too, and so do the module names that lazy ``__getattr__``
tables (``_LAZY``, registries) and ``importlib.import_module("...")`` calls name. The one exception is a
deprecated old path (``lfi._lazy.moved_module``), which forwards upward with a ``FutureWarning`` for one
release.
"""

from __future__ import annotations

import ast
import importlib
import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lfi", "estimators", "simulators")
_LAYER_NAMES = ("core", "estimators/simulators", "workflows", "cli")


# ---------------------------------------------------------------------------------------------------- the checker
def discover(root: Path) -> dict[str, Path]:
    """Module name → file for every module of the project's packages under ``root``."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def layer(module: str) -> int | None:
    """0 core, 1 estimators/simulators, 2 workflows, 3 cli (``lfi.__main__``, the ``python -m lfi`` entry point, runs
    the command line); None for the ``lfi`` package root (a lazy namespace)."""
    if module == "lfi":
        return None
    if module in ("lfi.cli", "lfi.__main__") or module.startswith("lfi.cli."):
        return 3
    if module == "lfi.workflows" or module.startswith("lfi.workflows."):
        return 2
    if module.split(".")[0] in ("estimators", "simulators"):
        return 1
    return 0


def may_import(source: str, target: str) -> bool:
    low, high = layer(source), layer(target)
    if low is None or high is None:
        return True
    if high > low:
        return False
    return not (low == high == 1 and source.split(".")[0] != target.split(".")[0])


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of a dotted name that is a project module."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def edges_of(module: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], set[tuple[str, tuple[str, ...]]]]:
    """(imported project modules, deprecated forwards as (target, names)) of one module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    moved: set[tuple[str, tuple[str, ...]]] = set()

    def add(name: str | None) -> None:
        target = _resolve(name, modules) if name else None
        if target and target != module:
            found.add(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = module.split(".")
                base_parts = base_parts if is_package else base_parts[:-1]
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            strings = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if called == "import_module" and strings:
                add(strings[0])
            elif called == "moved_module" and strings:
                moved.add((strings[0], tuple(ast.literal_eval(node.args[2]))))
    for node in tree.body:  # lazy tables: {"name": "module" or "module:Class"}
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if isinstance(value, ast.Dict):
            for item in value.values:
                if isinstance(item, ast.Constant) and isinstance(item.value, str) and re.fullmatch(r"[\w.]+(:\w+)?", item.value):
                    add(item.value.split(":")[0])
    return found, moved


def import_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, set[tuple[str, tuple[str, ...]]]]]:
    modules = discover(root)
    graph, moved = {}, {}
    for name, path in modules.items():
        graph[name], moved[name] = edges_of(name, path, modules)
    return graph, moved


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{src} ({_LAYER_NAMES[layer(src)]}) imports {dst} ({_LAYER_NAMES[layer(dst)]})"
                  for src, targets in graph.items() for dst in targets if not may_import(src, dst))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


# ---------------------------------------------------------------------------------------------------- the tests
GRAPH, MOVED = import_graph(ROOT)


def test_every_import_goes_down_the_layers():
    assert layer_violations(GRAPH) == []


def test_no_module_cycle():
    assert cycles(GRAPH) == []


def test_the_checker_finds_a_wrong_way_import_and_a_cycle(tmp_path):
    files = {
        "lfi/__init__.py": "",
        "lfi/core.py": "def f():\n    from estimators.net import Net  # lazy, still an edge\n",
        "lfi/workflows/__init__.py": "",
        "lfi/cli/__init__.py": "import importlib\nimportlib.import_module('lfi.workflows')\n",
        "estimators/__init__.py": "_LAZY = {'Net': 'estimators.net:Net'}\n",
        "estimators/net.py": "import lfi.core\nfrom simulators import toy\n",
        "simulators/__init__.py": "",
        "simulators/toy.py": "from lfi.workflows import run\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph, _ = import_graph(tmp_path)
    assert layer_violations(graph) == [
        "estimators.net (estimators/simulators) imports simulators.toy (estimators/simulators)",
        "lfi.core (core) imports estimators.net (estimators/simulators)",
        "simulators.toy (estimators/simulators) imports lfi.workflows (workflows)",
    ]
    assert cycles(graph) == [["estimators.net", "lfi.core"]]
    assert "lfi.workflows" in graph["lfi.cli"] and "estimators.net" in graph["estimators"]


def test_deprecated_paths_warn_and_forward_to_the_new_home():
    forwards = [(old, new, names) for old, targets in MOVED.items() for new, names in targets]
    assert {old for old, _, _ in forwards} >= {"lfi.train", "lfi.train.pipeline", "simulators.io.madminer"}
    for old, new, names in forwards:
        assert new in GRAPH, f"{old} forwards to a module that does not exist: {new}"
        for name in names:
            with pytest.warns(FutureWarning, match=f"import {name} from {new}"):
                value = getattr(importlib.import_module(old), name)
            assert value is getattr(importlib.import_module(new), name)


def _sources(exclude: tuple[str, ...]) -> dict[str, str]:
    return {name: path.read_text() for name, path in discover(ROOT).items() if name not in exclude}


@pytest.mark.parametrize("fact, pattern, home", [
    ("atomic write", r"mkstemp|os\.replace\(", ("lfi.files",)),
    ("object type names", r"\"b-jet\"", ("lfi.objects",)),
    ("object type codes by PDG id", r"\{\s*11\s*:", ("lfi.objects",)),
    ("pseudorapidity", r"arcsinh|arctanh", ("lfi.objects",)),
    ("method list", r"(?m)^\s*\"sallino\"\s*:|\"cascal\",\s*\"sally\"", ("lfi.train.methods",)),
])
def test_one_home_per_fact(fact, pattern, home):
    copies = sorted(name for name, text in _sources(home).items() if re.search(pattern, text))
    assert copies == [], f"{fact} has copies outside {home}: {copies}"


def test_no_citation_outside_the_repository():
    """Code, help texts and tests cite ``docs/…`` or papers, never planning files the repository lacks."""
    pattern = re.compile(r"PHYSICS\s*§|DESIGN\s*§|STYLE\.md|GENERATOR\.md|PHYSICS\.md|DESIGN\.md|\bissue \d+|seed 0\d\d")
    files = [p for d in (*PACKAGES, "tests", "bench") for p in (ROOT / d).rglob("*.py")] + [ROOT / "README.md"]
    hits = sorted(f"{p.relative_to(ROOT)}:{i}" for p in files for i, line in enumerate(p.read_text().splitlines(), 1)
                  if pattern.search(line) and p.name != "test_architecture.py")
    assert hits == []
    cited = {m.group(1) for p in files for m in re.finditer(r"docs/([\w-]+\.md)", p.read_text())}
    assert cited and all((ROOT / "docs" / name).is_file() for name in cited), sorted(cited)


def test_the_events_format_has_one_module_that_reads_and_writes_it():
    from lfi.events import hdf5

    assert callable(hdf5.write) and callable(hdf5.read_fields) and callable(hdf5.read_info)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.import_module("lfi.events")  # importing the package warns about nothing
