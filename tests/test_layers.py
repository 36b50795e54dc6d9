"""The layers of ../shared/docs/DESIGN.md point one way: a module imports only its own layer and the
layers below it, at the top of the file or inside a function."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "harness"

# bottom up; the run directory is the contract after the search, suites read captions into it
LAYERS = [
    ["harness", "harness.errors", "harness.plugins"],
    ["harness.config"],
    ["harness.models"],
    ["harness.generators", "harness.critics"],
    ["harness.judges"],
    ["harness.tiny", "harness.probe"],
    ["harness.search"],
    ["harness.rundir"],
    ["harness.suites"],
    ["harness.executors"],
    ["harness.metrics"],
    ["harness.report"],
    ["harness.analysis"],
    ["harness.cli", "harness.__main__"],
]


def layer_of(module: str) -> int:
    best, level = "", None
    for i, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > len(best):
                best, level = name, i
    assert level is not None, f"{module} is in no layer: add its package to LAYERS and to the README"
    return level


def module_name(path: Path, package: Path | None = None) -> str:
    parts = path.relative_to((package or PACKAGE).parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every harness import anywhere in the file, functions included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "harness"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and \
                node.module.split(".")[0] == "harness":
            out += [(node.lineno, f"{node.module}.{a.name}" if node.module == "harness" else node.module)
                    for a in node.names]
    return out


def upward_imports() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = module_name(path)
        for line, target in imports(path):
            if layer_of(target) > layer_of(me):
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({me}) imports {target}")
    return bad


def test_no_module_imports_a_higher_layer():
    assert upward_imports() == []


def test_the_check_sees_imports_inside_functions(tmp_path, monkeypatch):
    fake = tmp_path / "harness"
    (fake / "config").mkdir(parents=True)
    (fake / "config" / "bad.py").write_text("def f():\n    from harness.cli.main import app\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert upward_imports() == ["harness/config/bad.py:2 (harness.config.bad) imports harness.cli.main"]


def test_nothing_below_the_cli_imports_it():
    for path in PACKAGE.rglob("*.py"):
        if layer_of(module_name(path)) < layer_of("harness.cli"):
            assert not any(t.startswith("harness.cli") for _, t in imports(path)), path


def module_graph(package=None) -> dict[str, set[str]]:
    """module -> the package's modules it imports (anywhere in the file); `from pkg import name` is an import of
    the module pkg.name when that is a module, else of pkg itself (its __init__)."""
    package = package or PACKAGE
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    graph = {}
    for me, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != me:
                    deps.add(t)
        graph[me] = deps
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected groups of more than one module (scipy's connected_components)."""
    import numpy as np
    from scipy.sparse import lil_matrix
    from scipy.sparse.csgraph import connected_components

    names = sorted(graph)
    index = {n: i for i, n in enumerate(names)}
    edges = lil_matrix((len(names), len(names)))
    for me, deps in graph.items():
        for d in deps:
            edges[index[me], index[d]] = 1
    _, labels = connected_components(edges, directed=True, connection="strong")
    groups = [[names[i] for i in np.nonzero(labels == g)[0]] for g in np.unique(labels)]
    return [g for g in groups if len(g) > 1]


def test_no_import_circle_anywhere():
    assert circles(module_graph()) == []


def test_the_circle_check_sees_a_circle_through_a_function(tmp_path):
    fake = tmp_path / "harness"
    (fake / "a").mkdir(parents=True)
    (fake / "a" / "x.py").write_text("from harness.a import y\n")
    (fake / "a" / "y.py").write_text("def f():\n    from harness.a.x import g\n")
    (fake / "a" / "z.py").write_text("import harness.a.y\n")
    assert circles(module_graph(fake)) == [["harness.a.x", "harness.a.y"]]
