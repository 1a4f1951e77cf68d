"""The shape of the package a user (and a maintainer) relies on: public surface, one pipeline, types, imports."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch
from helpers import SGD, TinyModule, loader, trainer
from lightning.pytorch.callbacks import ModelCheckpoint

import lightning_lrmon
from lightning_lrmon import LRMonitor, LRScheduleWarning
from lightning_lrmon._cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


SEED_YAML = """
trainer:
  max_steps: 100
  callbacks:
    - class_path: lightning_lrmon.LRMonitor
      init_args:
        scheduler: {class_path: torch.optim.lr_scheduler.LinearLR, init_args: {start_factor: 0.5, total_iters: auto}}
optimizer: {class_path: torch.optim.SGD, init_args: {lr: 0.001}}
"""


def test_the_callback_and_lrmon_give_the_same_report(tmp_path, capsys):
    path = tmp_path / "seed.yaml"
    path.write_text(SEED_YAML)
    assert main(["check", str(path), "--format", "json"]) == 1
    cli = json.loads(capsys.readouterr().out)["schedules"][0]
    cb = LRMonitor({"class_path": "LinearLR", "init_args": {"start_factor": 0.5, "total_iters": "auto"}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LRScheduleWarning)
        trainer(tmp_path, [cb], max_steps=100, max_epochs=-1).fit(
            TinyModule(lambda m: SGD(m.parameters(), lr=0.001)), loader(64, 1)
        )
    (review,) = cb.reviews
    assert [f.to_dict() for f in cb.findings] == cli["findings"]
    assert (review.scheduler, review.shape, review.steps) == (cli["scheduler"], cli["shape"], cli["steps"])
    assert cli["findings"][0]["code"] == "decay-increases" and "lr-SGD" in cli["findings"][0]["message"]


@pytest.mark.filterwarnings("ignore:You're resuming from a checkpoint that ended before the epoch ended")
def test_a_lambda_in_a_dict_spec_checkpoints_and_resumes(tmp_path):
    spec = {"class_path": "LambdaLR", "init_args": {"lr_lambda": lambda s: 0.9**s}}
    ckpt = ModelCheckpoint(dirpath=str(tmp_path / "ckpt"), every_n_train_steps=5, save_top_k=-1)
    first = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    t = trainer(tmp_path, [LRMonitor(spec), ckpt], max_steps=10, enable_checkpointing=True)
    t.fit(first, loader())
    assert not [k for k in vars(t.lr_scheduler_configs[0].scheduler) if k.startswith("_lrmon")]
    second = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    again = ModelCheckpoint(dirpath=str(tmp_path / "ckpt"), every_n_train_steps=5, save_top_k=-1)
    t2 = trainer(tmp_path, [LRMonitor(spec), again], max_steps=15, version=1, enable_checkpointing=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        t2.fit(second, loader(), ckpt_path=str(tmp_path / "ckpt" / "epoch=0-step=5.ckpt"))
    applied = [a[0] for a in second.optimizers().optimizer.applied]
    np.testing.assert_allclose(applied, [0.1 * 0.9**s for s in range(5, 15)], rtol=1e-12)


def test_a_users_mypy_rejects_a_typo_in_the_arguments(tmp_path):
    user = tmp_path / "user_code.py"
    user.write_text(
        textwrap.dedent(
            """
            from lightning_lrmon import LRMonitor

            ok = LRMonitor("StepLR", interval="step", on_misconfig="raise", expect="decay")
            bad = LRMonitor("StepLR", interval="epochs", frequency="2")
            """
        )
    )
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental", str(user)],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env={**os.environ, "MYPYPATH": ROOT},
    ).stdout
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 2, out
    assert all(":5:" in line for line in errors) and "interval" in out and "frequency" in out


def _imported(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(out.stdout.split())


def test_lrmon_help_imports_nothing_heavy():
    mods = _imported(
        "from lightning_lrmon._cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert not {"torch", "numpy", "lightning", "yaml"} & mods


def test_lrmon_check_imports_lightning_only_to_validate_like_lightningcli():
    config = os.path.join(ROOT, "examples", "cli", "seed.yaml")
    fast = _imported(f"from lightning_lrmon._cli.main import main\nmain(['check', {config!r}, '--fast'])")
    assert "torch" in fast and not {"lightning", "pytorch_lightning", "jsonargparse"} & fast
    full = _imported(f"from lightning_lrmon._cli.main import main\nmain(['check', {config!r}])")
    assert {"lightning", "jsonargparse"} <= full


def test_import_lightning_lrmon_imports_no_lightning():
    assert not {"lightning", "pytorch_lightning", "torch"} & _imported("import lightning_lrmon")


def test_nothing_is_written_onto_torch_objects(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    t = trainer(tmp_path, [LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})], max_steps=4)
    t.fit(module, loader())
    sched = t.lr_scheduler_configs[0].scheduler
    assert set(sched.state_dict()) == set(
        torch.optim.lr_scheduler.CosineAnnealingLR(
            torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), T_max=4
        ).state_dict()
    )


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
