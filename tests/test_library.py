"""lightning-lrmon as a library a user installs (issue 22): the README's quickstart, the package's metadata and
imports, typed results, the plot call, warnings in Lightning's console, and `lrmon` without its `cli` extra."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest
import tomllib
import torch
from helpers import SGD, TinyModule, f32, loader, read_scalars, run_dir, series, trainer

import lightning_lrmon
from lightning_lrmon import LRMonitor, LRScheduleWarning, plot

ROOT = os.path.join(os.path.dirname(__file__), "..")


def read(path: str) -> str:
    with open(os.path.join(ROOT, path), encoding="utf-8") as fh:
        return fh.read()


README = read("README.md")


def python(*args: str, cwd: str = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False, env=env
    )


def test_the_readme_quickstart_runs_as_written(tmp_path):
    section = README[README.index("## Quickstart") :]
    code = section[section.index("```python\n") + 10 : section.index("```\n", section.index("```python\n"))]
    (tmp_path / "quickstart.py").write_text(code)
    proc = python("quickstart.py", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    # Lightning's console formatter keeps the category, and the place is the user's configure_optimizers
    assert re.search(r"quickstart\.py:\d+: LRScheduleWarning: decay-increases: LinearLR", proc.stderr)
    assert "Review(lr-SGD: LinearLR(start_factor=0.5, end_factor=1, total_iters=32), shape decay" in proc.stdout
    assert (tmp_path / "lightning_logs" / "version_0").is_dir()


def test_warnings_show_their_category_and_point_at_the_users_configure_optimizers(tmp_path):
    import lightning.fabric.utilities.warnings  # noqa: F401 - installs Lightning's console formatter

    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.001))
    cb = LRMonitor({"class_path": "LinearLR", "init_args": {"start_factor": 0.5, "total_iters": 10}})
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer(tmp_path, [cb], max_steps=10).fit(module, loader(64, 4))
    (w,) = [w for w in record if issubclass(w.category, LRScheduleWarning)]
    assert w.filename.endswith("helpers.py")  # TinyModule.configure_optimizers, not lightning_lrmon's internals
    text = warnings.formatwarning(w.message, w.category, w.filename, w.lineno)
    assert "LRScheduleWarning: decay-increases:" in text


def test_results_are_typed_for_a_users_mypy_strict(tmp_path):
    user = tmp_path / "user_code.py"
    user.write_text(
        "import torch\n"
        "from lightning_lrmon import LRMonitor, check_schedule, plot\n"
        "cb = LRMonitor()\n"
        "reveal_type(cb.findings)\n"
        "reveal_type(cb.reviews)\n"
        "reveal_type(cb.reviews[0].groups[0].peak)\n"
        "opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)\n"
        "reveal_type(check_schedule(torch.optim.lr_scheduler.StepLR(opt, 5), 10))\n"
        "reveal_type(plot(cb))\n"
    )
    proc = python("-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary", str(user))
    revealed = re.findall(r'Revealed type is "([^"]+)"', proc.stdout)
    assert revealed == [
        "list[lightning_lrmon._findings.Finding]",
        "list[lightning_lrmon._review.pipeline.Review]",
        "float | None",
        "list[lightning_lrmon._findings.Finding]",
        "matplotlib.figure.Figure",
    ], proc.stdout


def test_a_review_prints_short_in_a_notebook(tmp_path):
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
    trainer(tmp_path, [cb], max_steps=-1, max_epochs=2).fit(TinyModule(), loader(64, 4))
    text = repr(cb.reviews)
    assert "array(" not in text and len(text) < 300
    assert text.startswith("[Review(lr-SGD: CosineAnnealingLR(T_max=32, eta_min=0), shape decay, 32 scheduler steps")
    assert repr(cb.reviews[0].plan) == "PlannedSeries(32 points x 1 groups)"


def test_plot_draws_a_scheduler_a_spec_and_a_fitted_callback(tmp_path):
    from matplotlib.figure import Figure

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    fig = plot(torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=100), steps=100)
    assert isinstance(fig, Figure) and opt.param_groups[0]["lr"] == 0.0005  # the scheduler was not stepped
    (line,) = [x for x in fig.axes[0].get_lines() if x.get_label() == "group 0"]  # (the finding's mark is a line)
    assert line.get_ydata()[0] == pytest.approx(0.0005) and line.get_ydata()[-1] == pytest.approx(0.000995)
    assert "decay-increases" in [t.get_text() for t in fig.axes[0].texts]

    fig = plot({"class_path": "StepLR", "init_args": {"step_size": 5, "gamma": 0.5}}, steps=12, lr=0.1)
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == pytest.approx([0.1] * 5 + [0.05] * 5 + [0.025] * 2)

    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
    trainer(tmp_path, [cb], max_steps=24).fit(module, loader(64, 4))
    fig = plot(cb)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")}
    assert set(lines) == {"planned lr-SGD", "actual lr-SGD"}
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    np.testing.assert_array_equal(lines["actual lr-SGD"].get_ydata(), f32(applied))
    np.testing.assert_allclose(lines["planned lr-SGD"].get_ydata(), applied, rtol=1e-9)
    assert series(read_scalars(run_dir(tmp_path)), "lr-SGD")[0] == list(range(24))


def test_plot_asks_for_the_number_of_steps():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="`steps` must be a positive number"):
        plot(torch.optim.lr_scheduler.StepLR(opt, 5))


BLOCK_JSONARGPARSE = (
    "import sys; sys.modules['jsonargparse'] = None\n"  # import jsonargparse -> ImportError, as without the extra
    "from lightning_lrmon._cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_lrmon_without_the_cli_extra_checks_what_it_can(fmt):
    config = os.path.join(ROOT, "examples", "cli", "fixed.yaml")
    proc = python("-c", BLOCK_JSONARGPARSE, "check", config, "--format", fmt)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    if fmt == "json":
        report = json.loads(proc.stdout)  # one JSON object on stdout
        assert report["ok"] is True and "pip install 'lightning-lrmon[cli]'" in report["notes"][0]
        assert report["schedules"][0]["groups"][0].keys() >= {"first", "peak", "end"}
    else:
        assert "pip install 'lightning-lrmon[cli]'" in proc.stdout


def test_lrmon_without_the_cli_extra_exits_2_on_unusable_input_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("trainer: [unclosed\n")
    proc = python("-c", BLOCK_JSONARGPARSE, "check", str(bad))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("lrmon: error:")


def test_the_version_is_written_once_and_released_in_the_changelog():
    project = tomllib.loads(read("pyproject.toml"))["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert importlib.metadata.version("lightning-lrmon") == lightning_lrmon.__version__
    changelog = read("CHANGELOG.md")
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    assert released[0] == lightning_lrmon.__version__
    assert re.findall(r"^## \[([^\]]+)\]", changelog, re.M)[1:] == released  # every other heading is a release


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


def test_a_wheel_and_an_sdist_build_and_pass_the_metadata_check(tmp_path):
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    src = tmp_path / "src"
    for path in tracked:
        if os.path.isfile(os.path.join(ROOT, path)):
            os.makedirs(src / os.path.dirname(path), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, path), src / path)
    built = python("-m", "build", "--no-isolation", "--sdist", "--wheel", "-o", str(tmp_path / "dist"), str(src))
    assert built.returncode == 0, built.stderr[-2000:]
    dist = sorted(os.listdir(tmp_path / "dist"))
    assert dist == [
        f"lightning_lrmon-{lightning_lrmon.__version__}-py3-none-any.whl",
        f"lightning_lrmon-{lightning_lrmon.__version__}.tar.gz",
    ]
    check = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "twine"),
            "check",
            "--strict",
            *(str(tmp_path / "dist" / d) for d in dist),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0 and check.stdout.count("PASSED") == 2, check.stdout + check.stderr
    with zipfile.ZipFile(tmp_path / "dist" / dist[0]) as wheel:
        names = set(wheel.namelist())
        meta = wheel.read(f"lightning_lrmon-{lightning_lrmon.__version__}.dist-info/METADATA").decode()
    assert {
        "lightning_lrmon/py.typed",
        "lightning_lrmon/_schedulers/record.py",
        "lightning_lrmon/_simulation/stack.py",
    } <= names
    assert "Requires-Dist: typing_extensions" in meta and "Provides-Extra: cli" in meta and "Classifier: " in meta


PROJECT_MODEL = """
import lightning.pytorch as pl
import torch


class Net(pl.LightningModule):
    def __init__(self, lr: float = 0.1, t_max: int = 100) -> None:
        super().__init__()
        self.lr, self.t_max = lr, t_max
        self.layer = torch.nn.Linear(4, 1)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.t_max)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class NeedsTrainer(Net):
    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr)
        total = self.trainer.estimated_stepping_batches
        return [opt], [torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=total)]
"""


def test_lrmon_reviews_what_the_models_configure_optimizers_returns_when_asked(tmp_path):
    (tmp_path / "proj_model.py").write_text(PROJECT_MODEL)
    config = tmp_path / "fit.yaml"
    config.write_text("trainer:\n  max_steps: 1000\nmodel:\n  class_path: proj_model.Net\n  init_args: {lr: 3.0e-4}\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = python("-m", "lightning_lrmon", "check", str(config), "--model", "--format", "json", env=env)
    assert proc.returncode == 1, proc.stderr
    (sched,) = json.loads(proc.stdout)["schedules"]
    assert sched["source"] == "model Net.configure_optimizers()[0]" and sched["steps"] == 1000
    (finding,) = sched["findings"]
    assert finding["code"] == "horizon-too-short" and finding["hint"] == "use T_max=1000 (the run's scheduler steps)."
    assert sched["groups"][0]["first"] == pytest.approx(3e-4)
    # without --model nothing of the user's code runs: the config has no schedule of its own
    proc = python("-m", "lightning_lrmon", "check", str(config), env=env)
    assert proc.returncode == 2 and "pass --model" in proc.stderr
    # a configure_optimizers that needs the Trainer: one line, exit 2
    proc = python("-m", "lightning_lrmon", "check", str(config), "--model", "proj_model.NeedsTrainer", env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "not attached to a `Trainer`" in proc.stderr
