"""The package's plan, checked from its code: which wing may import which, and no import cycle anywhere.

A wing is a folder of ``kanpaper`` holding one concern. Wings stand on one another in one order (``base`` at the
bottom; ``runs`` knows of the experiments only through their spec, and of training only its checkpoints); the
modules at the package root (the notebooks' face, the notebook runner, the ``make estimate`` report) may use any
wing. Every import counts, function-level ones included: a cycle hidden inside a function is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kanpaper"

# wing -> the wings (or, as "wing.module", the single modules of a wing) its modules may import
ALLOWED = {
    "base": set(),
    "analysis": {"base"},
    "nn": {"base"},
    "training": {"base", "nn"},
    "theory": {"base", "nn"},
    "experiments": {"base", "analysis", "nn", "training", "theory"},
    "runs": {"base", "experiments.spec", "training.checkpoint"},
}
ROOT_MODULES = {"kanpaper", "kanpaper.notebook", "kanpaper.run_notebooks", "kanpaper.estimate", "kanpaper.archive",
                "kanpaper.datapackage"}


def module_name(path: Path, package: Path) -> str:
    parts = (package.name, *path.relative_to(package).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, package: Path) -> set[str]:
    """The package's modules that the file at ``path`` imports, anywhere in it (``from a import b`` counts as
    ``a.b`` when ``a.b`` is a module)."""
    name = module_name(path, package)
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    modules = {module_name(p, package) for p in package.rglob("*.py")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in modules and t != name}
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    """Every module of ``package`` -> the package's modules it imports."""
    return {module_name(p, package): imports_of(p, package) for p in sorted(package.rglob("*.py"))}


def wing_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else None


def layout_violations(graph: dict[str, set[str]]) -> list[str]:
    """What breaks the plan: a module outside every wing that is not a root module, an import the wing order
    forbids, and each import cycle (as the modules along it)."""
    problems = []
    for module, deps in graph.items():
        wing = wing_of(module)
        if wing is None:
            if module not in ROOT_MODULES:
                problems.append(f"{module} is in no wing")
            continue
        if wing not in ALLOWED:
            problems.append(f"{module} is in {wing!r}, which is not one of the wings {sorted(ALLOWED)}")
            continue
        for dep in sorted(deps):
            dep_wing = wing_of(dep)
            if dep_wing == wing:
                continue
            if dep_wing is None or not ({dep_wing, ".".join(dep.split(".")[1:3])} & ALLOWED[wing]):
                problems.append(f"{module} imports {dep}: {wing} may import only {sorted(ALLOWED[wing]) or 'nothing'}")
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules that import one another (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in graph.get(node, ()):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                found.append(sorted(group) + [sorted(group)[0]])

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_every_wing_imports_only_the_wings_beneath_it_and_no_module_imports_itself_round():
    assert layout_violations(import_graph(PACKAGE)) == []


def test_the_modules_sit_in_the_planned_wings():
    wings = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert wings == set(ALLOWED)
    assert {m for m in import_graph(PACKAGE) if wing_of(m) is None} == ROOT_MODULES


def write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "kanpaper"
    for name, source in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for folder in {p.parent for p in package.rglob("*.py")}:
        (folder / "__init__.py").touch()
    return package


@pytest.mark.parametrize("files, expected", [
    ({"nn/mlp.py": "from kanpaper.training import loop\n", "training/loop.py": ""},
     "kanpaper.nn.mlp imports kanpaper.training.loop: nn may import only ['base']"),
    ({"runs/costs.py": "def f():\n    from ..experiments import grf\n", "experiments/grf.py": ""},
     "kanpaper.runs.costs imports kanpaper.experiments.grf"),
    ({"nn/a.py": "def f():\n    from . import b\n", "nn/b.py": "from kanpaper.nn.a import f\n"},
     "import cycle: kanpaper.nn.a -> kanpaper.nn.b -> kanpaper.nn.a"),
    ({"helpers.py": "x = 1\n"}, "kanpaper.helpers is in no wing"),
])
def test_the_check_catches_a_forbidden_import_a_hidden_cycle_and_a_stray_module(tmp_path, files, expected):
    problems = layout_violations(import_graph(write_package(tmp_path, files)))
    assert any(p.startswith(expected) for p in problems), problems


def test_the_check_accepts_imports_down_the_wing_order(tmp_path):
    package = write_package(tmp_path, {"base/checks.py": "", "nn/mlp.py": "from ..base import checks\n",
                                       "runs/pool.py": "from kanpaper.experiments.spec import x\n",
                                       "experiments/spec.py": "from kanpaper.nn.mlp import y\n"})
    assert layout_violations(import_graph(package)) == []
