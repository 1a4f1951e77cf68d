"""The package's layout holds: no import cycle, one home per scheduler class, small units, and one record is all a
new scheduler class needs (a toy class registered here is built, simulated, checked and logged like torch's own)."""

from __future__ import annotations

import ast
import os
import shutil

import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import LRScheduler
from toy_record import HalvingLR

import lightning_lrmon
from lightning_lrmon import check_schedule, simulate_schedule

PACKAGE = os.path.dirname(os.path.abspath(lightning_lrmon.__file__))


#: the package, bottom to top: a part imports only parts of lower rows (function-level and ``TYPE_CHECKING``
#: imports included); parts in one row do not import each other
LAYERS: list[tuple[str, ...]] = [
    ("_exceptions", "_version"),  # shared leaves
    ("_vocab", "_findings"),
    ("_schedulers",),  # one record per scheduler class
    ("_stepping",),  # who steps a scheduler, how often
    ("_spec",),  # config -> scheduler
    ("_simulation",),  # the schedule's LRs at every step
    ("_review",),  # checks, series, the one pipeline and renderer
    ("_tensorboard",),  # the event-file writer
    ("_fit",),  # what the hooks do
    ("_callback", "_loop"),  # LRMonitor, LoopMonitor
    ("_plot", "_cli"),
    ("pl", "__main__", "__init__"),  # the public face
]
RANK = {part: rank for rank, row in enumerate(LAYERS) for part in row}


def _modules(package: str = PACKAGE) -> dict[str, ast.Module]:
    """Every module of the package by dotted name (``_schedulers.record``), parsed."""
    out = {}
    for root, _, files in os.walk(package):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, package)[:-3].replace(os.sep, ".")
                rel = rel.removesuffix(".__init__") if rel != "__init__" else ""
                with open(path, encoding="utf-8") as fh:
                    out[rel] = ast.parse(fh.read())
    return out


def _imports(tree: ast.Module, names: set[str]) -> set[str]:
    """The package modules ``tree`` imports anywhere: top level, in functions, under ``TYPE_CHECKING``."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lightning_lrmon":
            base = node.module.removeprefix("lightning_lrmon").lstrip(".")
            for alias in node.names:
                sub = f"{base}.{alias.name}".lstrip(".")
                out.add(sub if sub in names else base)
        elif isinstance(node, ast.Import):
            out |= {a.name.removeprefix("lightning_lrmon.") for a in node.names if a.name.startswith("lightning_lrmon")}
    return out


def _part(module: str) -> str:
    """The layer a module belongs to: its sub-package, or itself at the top (``""`` is ``__init__``)."""
    return module.split(".")[0] or "__init__"


def layer_violations(package: str = PACKAGE) -> list[str]:
    """Every import of a part from a part at the same or a higher row of :data:`LAYERS`, and every unlisted part."""
    modules = _modules(package)
    bad = [f"{_part(m)} is in no row of LAYERS" for m in modules if _part(m) not in RANK]
    for module, tree in sorted(modules.items()):
        me = _part(module)
        for dep in sorted(_imports(tree, set(modules)) - {module}):
            other = _part(dep)
            if other != me and RANK.get(other, -1) >= RANK.get(me, -1):
                bad.append(f"{module or '__init__'} imports {dep or '__init__'} ({other} is not below {me})")
    return sorted(set(bad))


def test_sub_packages_import_only_downward():
    assert layer_violations() == []


def test_the_layer_rule_catches_an_upward_import(tmp_path):
    """The rule above is not vacuous: a copy of the package where a low part imports a higher one fails it."""
    copy = tmp_path / "lightning_lrmon"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    leaf = copy / "_schedulers" / "arith.py"
    leaf.write_text(leaf.read_text() + "\n\ndef _up():\n    from lightning_lrmon._fit.options import Options\n")
    assert layer_violations(str(copy)) == ["_schedulers.arith imports _fit.options (_fit is not below _schedulers)"]


def test_no_module_imports_itself_back():
    modules = _modules()
    graph = {m: _imports(t, set(modules)) - {m, ""} for m, t in modules.items()}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        for dep in sorted(graph.get(node, ())):
            if dep in path:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in done:
                visit(dep, [*path, dep])
        done.add(node)

    done: set[str] = set()
    for m in sorted(graph):
        visit(m, [m])
    assert cycles == [], cycles


def test_the_top_of_the_package_is_its_face_and_a_few_leaves():
    files = sorted(f for f in os.listdir(PACKAGE) if os.path.isfile(os.path.join(PACKAGE, f)))
    assert len(files) <= 10, files
    for sub in (d for d in os.listdir(PACKAGE) if os.path.isdir(os.path.join(PACKAGE, d)) and d != "__pycache__"):
        with open(os.path.join(PACKAGE, sub, "__init__.py"), encoding="utf-8") as fh:
            assert ast.get_docstring(ast.parse(fh.read())), f"{sub}/__init__.py: say the sub-package's job"


@pytest.mark.parametrize("cls", ["SequentialLR", "ChainedScheduler", "OneCycleLR", "LambdaLR", "CyclicLR"])
def test_a_scheduler_class_is_named_in_one_home(cls):
    homes = [
        m
        for m, tree in _modules().items()
        if any(
            (isinstance(n, ast.Name) and n.id == cls) or (isinstance(n, ast.Attribute) and n.attr == cls)
            for n in ast.walk(tree)
        )
    ]
    assert len(homes) <= 2, homes
    assert all(h.startswith("_schedulers.") for h in homes), homes


#: the one size rule: a module's size follows its job, a function fits a screen, a class does one thing
MODULE_LINES, FUNCTION_BODY_LINES, CLASS_LINES = 400, 40, 300


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = node.body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(node.body) > 1
    start = node.body[1].lineno if has_doc else first.lineno
    return (node.end_lineno or 0) - start + 1


def test_modules_functions_and_classes_stay_small():
    """Every module of every sub-package: at most 400 lines; function bodies (docstring aside) at most 40; classes
    at most 300."""
    too_big = []
    for root, _, files in os.walk(PACKAGE):
        for name in (f for f in files if f.endswith(".py")):
            with open(os.path.join(root, name), encoding="utf-8") as fh:
                text = fh.read()
            rel = os.path.relpath(os.path.join(root, name), PACKAGE)
            if len(text.splitlines()) > MODULE_LINES:
                too_big.append(f"{rel}: {len(text.splitlines())} lines")
            for node in ast.walk(ast.parse(text)):
                if (
                    isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and _body_lines(node) > FUNCTION_BODY_LINES
                ):
                    too_big.append(f"{rel}:{node.name}: {_body_lines(node)} lines")
                if isinstance(node, ast.ClassDef) and (node.end_lineno or 0) - node.lineno + 1 > CLASS_LINES:
                    too_big.append(f"{rel}:{node.name} (class)")
    assert too_big == [], too_big


# -- a toy scheduler class, supported by one record ------------------------------------------------------------------


def _opt() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


def _stepped(sched: LRScheduler, n: int) -> list[float]:
    out = []
    for _ in range(n):
        out.append(sched.optimizer.param_groups[0]["lr"])
        sched.optimizer.step()
        sched.step()
    return out


def test_without_a_record_a_class_is_stepped_on_a_copy_and_has_no_shape():
    from lightning_lrmon._simulation.simulate import simulate

    rising = HalvingLR(_opt(), every=10, factor=2.0)
    assert simulate(rising, 50).method == "shadow"
    assert "decay-increases" not in [f.code for f in check_schedule(rising, 50)]


def test_one_record_gives_a_class_the_simulation_the_shape_and_the_fix(halving_record):
    from lightning_lrmon._simulation.simulate import simulate

    healthy = HalvingLR(_opt(), every=10)
    sim = simulate(healthy, 50)
    assert sim.method == "kernel"
    np.testing.assert_allclose(sim.lrs[:, 0], _stepped(HalvingLR(_opt(), every=10), 50), rtol=1e-15)
    np.testing.assert_allclose(simulate_schedule(healthy, 50)[:, 0], sim.lrs[:, 0])
    assert check_schedule(healthy, 50) == []
    (finding,) = check_schedule(HalvingLR(_opt(), every=10, factor=2.0), 50)
    assert finding.code == "decay-increases" and finding.hint == "factor=2 raises the LR; use a factor below 1."
