"""The shape of the package a user (and a maintainer) relies on: public surface, one pipeline, types, imports."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import pkgutil
import re
import sys

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10, which pytest itself brings tomli to
    import tomli as tomllib
import torch
from helpers import ROOT

import lightning_lrmon
from lightning_lrmon import plot


def test_public_surface_is_pinned():
    assert lightning_lrmon.__all__ == [
        "CODES",
        "Finding",
        "GroupStats",
        "LRMonitor",
        "LRMonitorConfigError",
        "LRMonitorNote",
        "LRScheduleError",
        "LRScheduleWarning",
        "LoopMonitor",
        "Review",
        "SchedulerRecord",
        "check_schedule",
        "plot",
        "register_scheduler",
        "simulate_schedule",
    ]
    for name in lightning_lrmon.__all__:
        assert getattr(lightning_lrmon, name) is not None
    public = {m.name for m in pkgutil.iter_modules(lightning_lrmon.__path__) if not m.name.startswith("_")}
    assert public == {"pl"}


def test_cli_shares_the_shapes_the_checks_accept():
    from lightning_lrmon._cli.main import SHAPES as CLI_SHAPES
    from lightning_lrmon._schedulers import SHAPES

    assert CLI_SHAPES == SHAPES


def test_argument_types_cover_every_torch_scheduler_argument():
    # the checks use this table, not torch's annotations (absent in torch 2.3, unresolvable for some classes)
    import inspect

    from lightning_lrmon._schedulers import lookup, named, registered_names

    callables = {"lr_lambda", "scale_fn", "schedulers"}
    for name in registered_names():
        record = named(name)
        if record is None or not record.cls.__module__.startswith("torch."):
            continue  # a record a test registered
        params = set(inspect.signature(record.cls.__init__).parameters) - {"self", "optimizer", "last_epoch", "verbose"}
        expected = params - callables if name != "SequentialLR" else {"milestones"}
        assert record.arg_types is not None and set(record.arg_types) == expected, name
        assert lookup(record.cls) is record


def test_a_wrong_literal_is_refused_without_training():
    from helpers import build_spec

    with pytest.raises(lightning_lrmon.LRMonitorConfigError, match="`mode` must be one of"):
        build_spec({"class_path": "CyclicLR", "init_args": {"base_lr": 0.001, "max_lr": 0.1, "mode": "triangle"}})


def read(path: str) -> str:
    with open(os.path.join(ROOT, path), encoding="utf-8") as fh:
        return fh.read()


def _third_party_imports() -> set[str]:
    names = set()
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "lightning_lrmon")):
        for name in files:
            if name.endswith(".py"):
                tree = ast.parse(read(os.path.join(folder, name)))
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        names |= {a.name.split(".")[0] for a in node.names}
                    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                        names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"lightning_lrmon", "__future__"}


def test_plot_asks_for_the_number_of_steps():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="`steps` must be a positive number"):
        plot(torch.optim.lr_scheduler.StepLR(opt, 5))


def test_the_version_is_written_once_and_released_in_the_changelog():
    project = tomllib.loads(read("pyproject.toml"))["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert importlib.metadata.version("lightning-lrmon") == lightning_lrmon.__version__
    changelog = read("CHANGELOG.md")
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    assert released[0] == lightning_lrmon.__version__
    assert re.findall(r"^## \[([^\]]+)\]", changelog, re.M)[1:] == released  # every other heading is a release


def test_every_import_of_the_package_is_a_declared_dependency():
    project = tomllib.loads(read("pyproject.toml"))["project"]
    declared = {re.split(r"[<>=\[ ;]", d)[0].lower().replace("_", "-") for d in project["dependencies"]}
    extras = {
        re.split(r"[<>=\[ ;]", d)[0].lower().replace("_", "-")
        for name in ("cli", "plot")
        for d in project["optional-dependencies"][name]
    }
    # what the package imports only where it names its extra (or, pytorch_lightning, where the user runs it)
    optional = {"matplotlib", "plotext", "jsonargparse", "pytorch-lightning", "transformers"}
    dists = importlib.metadata.packages_distributions()
    for module in sorted(_third_party_imports()):
        dist = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        assert dist & (declared | extras | optional), f"{module} ({dist}) is imported but not declared"
    assert "typing-extensions" in declared


def test_check_schedule_spells_its_budget_default_as_the_simulation_does():
    """The API page shows the literal default; it must be the simulation's own budget."""
    import inspect

    from lightning_lrmon._simulation.shadow import DEFAULT_FALLBACK_BUDGET_S

    default = inspect.signature(lightning_lrmon.check_schedule).parameters["budget_s"].default
    assert default == DEFAULT_FALLBACK_BUDGET_S
