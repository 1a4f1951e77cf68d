"""`lrmon check` and a real LightningCLI run on the same configs agree: what LightningCLI refuses is exit 2 with its
reason, what it runs is checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest
import yaml
from helpers import EXAMPLES, read_scalars

from lightning_lrmon import LRMonitorNote, LRScheduleWarning
from lightning_lrmon._cli.main import main

LRMON = "lightning_lrmon.LRMonitor"
DOTTED = {"class_path": "torch.optim.lr_scheduler.CosineAnnealingLR", "init_args": {"T_max": "auto"}}
BARE_NUMBERS = {"class_path": "CosineAnnealingLR", "init_args": {"T_max": 12}}
BARE_AUTO = {"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}}


def body(callbacks, **trainer):
    return {
        "trainer": {
            "max_steps": 12,
            "accelerator": "cpu",
            "enable_checkpointing": False,
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": False,
            "callbacks": callbacks,
            **trainer,
        },
        "seed_everything": 0,
        "model": {"lr": 0.01},
        "data": {"samples": 64, "batch_size": 8},
    }


CONFIGS = {
    "valid-dotted-auto": (body([{"class_path": LRMON, "init_args": {"scheduler": DOTTED}}]), 0),
    "valid-bare-numbers": (body([{"class_path": LRMON, "init_args": {"scheduler": BARE_NUMBERS}}]), 0),
    "single-mapping-callbacks": (body({"class_path": LRMON, "init_args": {"scheduler": DOTTED}}), 0),
    "fit-rooted": ({"fit": body([{"class_path": LRMON, "init_args": {"scheduler": DOTTED}}])}, 0),
    "bare-name-with-auto": (body([{"class_path": LRMON, "init_args": {"scheduler": BARE_AUTO}}]), 0),
    "unknown-scheduler": (
        body([{"class_path": LRMON, "init_args": {"scheduler": {"class_path": "CosineAnealingLR"}}}]),
        2,
    ),
    "misspelled-argument": (body([{"class_path": LRMON, "init_args": {"intervall": "step", "scheduler": DOTTED}}]), 2),
    "bad-literal": (body([{"class_path": LRMON, "init_args": {"on_misconfig": "explode", "scheduler": DOTTED}}]), 2),
    "interval-without-scheduler": (body([{"class_path": LRMON, "init_args": {"interval": "epoch"}}]), 2),
}


def run_lightningcli(path: str, rooted: bool, tmp_path, monkeypatch) -> bool:
    """A real LightningCLI fit of examples/cli; True when it trained, False when it stopped before training."""
    monkeypatch.setattr(sys, "argv", ["main.py"])
    monkeypatch.chdir(tmp_path)
    sys.path.insert(0, EXAMPLES)
    try:
        from main import main as cli_main

        args = ["--config", path, "fit"] if rooted else ["fit", "--config", path]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LRScheduleWarning)
            warnings.simplefilter("ignore", LRMonitorNote)  # no-logger: these configs train without one
            cli_main(args)
        return True
    except (SystemExit, ValueError):  # a parser error, or LRMonitorConfigError (a ValueError) at instantiation
        return False
    finally:
        sys.path.remove(EXAMPLES)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_lrmon_check_agrees_with_a_real_lightningcli(name, tmp_path, monkeypatch, capsys):
    config, expected = CONFIGS[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    code = main(["check", str(path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == expected, report
    assert report["version"] == 1
    if code == 2:
        assert "error" in report and "\n" not in report["error"]
    trained = run_lightningcli(str(path), "fit" in config, tmp_path, monkeypatch)
    assert trained == (code != 2)


def test_the_reason_is_one_line_naming_lightningclis_key(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(CONFIGS["bad-literal"][0]))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and 'Parser key "trainer.callbacks"' in err and "on_misconfig" in err


def test_the_readmes_natural_yaml_trains_under_lightningcli(tmp_path, monkeypatch):
    # a bare torch name with "auto": LightningCLI hands the spec to LRMonitor, which binds T_max to the run
    path = tmp_path / "bare.yaml"
    path.write_text(yaml.safe_dump(CONFIGS["bare-name-with-auto"][0]))
    assert run_lightningcli(str(path), False, tmp_path, monkeypatch)


def test_the_natural_yaml_trains_when_lightning_lrmon_is_imported_before_lightningcli(tmp_path):
    """A fresh interpreter that imports lightning-lrmon before ``lightning.pytorch.cli`` (a script's own import
    order): the bare name with "auto" still reaches LRMonitor untouched (0.3 registered its spec type only when
    jsonargparse was already loaded, and LightningCLI then refused the bare name)."""
    path = tmp_path / "bare.yaml"
    path.write_text(yaml.safe_dump(CONFIGS["bare-name-with-auto"][0]))
    code = (
        "import sys, warnings\n"
        "from lightning_lrmon import LRMonitor, LRMonitorNote\n"
        "warnings.simplefilter('ignore', LRMonitorNote)\n"
        f"sys.path.insert(0, {EXAMPLES!r})\n"
        "from main import main\n"
        f"cli = main(['fit', '--config', {str(path)!r}])\n"
        "print('trained', cli.trainer.global_step)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trained" in done.stdout


def test_fast_mode_skips_lightningclis_parser(tmp_path, capsys):
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(CONFIGS["misspelled-argument"][0]))
    assert main(["check", str(path), "--fast"]) == 0  # what only LightningCLI's parser refuses goes unnoticed
    assert "ok: no findings" in capsys.readouterr().out


def cfg(name: str) -> str:
    return os.path.join(EXAMPLES, name)


# ----------------------------------------------------------------------------------------------------------------
# a real LightningCLI fit, LRMonitor configured under trainer.callbacks


def _cli(config: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["main.py"])
    sys.path.insert(0, EXAMPLES)
    try:
        from main import main as cli_main  # examples/cli/main.py

        cli_main(
            [
                "fit",
                "--config",
                config,
                "--trainer.logger.init_args.save_dir",
                str(tmp_path),
                "--trainer.default_root_dir",
                str(tmp_path),
                "--trainer.enable_model_summary",
                "false",
            ]
        )
    finally:
        sys.path.remove(EXAMPLES)


def test_lightningcli_fit_from_yaml_warns_on_the_seed(tmp_path, monkeypatch):
    with pytest.warns(LRScheduleWarning, match="^decay-increases") as record:
        _cli(cfg("seed.yaml"), tmp_path, monkeypatch)
    assert len([w for w in record if issubclass(w.category, LRScheduleWarning)]) == 1
    scalars = read_scalars(os.path.join(str(tmp_path), "cli-seed", "version_0"))
    values = [v for _, v in scalars["lr-SGD"]]
    assert len(values) == 100 and values[0] == pytest.approx(0.0005) and values[-1] > values[0]


def test_lightningcli_fit_binds_auto_from_yaml(tmp_path, monkeypatch):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        _cli(cfg("good.yaml"), tmp_path, monkeypatch)
    scalars = read_scalars(os.path.join(str(tmp_path), "cli-good", "version_0"))
    steps = [s for s, _ in scalars["lr-SGD"]]
    values = [v for _, v in scalars["lr-SGD"]]
    assert steps == list(range(128))
    assert values[0] == pytest.approx(1e-5) and max(values) == pytest.approx(0.001) and values[-1] < 1e-6


TOP_LEVEL_ONE_CYCLE = """
seed_everything: 0
trainer:
  max_epochs: 4
  accelerator: cpu
  enable_checkpointing: false
  enable_progress_bar: false
  logger:
    class_path: lightning.pytorch.loggers.TensorBoardLogger
    init_args: {save_dir: runs, name: cli-top}
  callbacks:
    - class_path: lightning_lrmon.LRMonitor
optimizer:
  class_path: torch.optim.SGD
  init_args: {lr: 0.01}
lr_scheduler:
  class_path: torch.optim.lr_scheduler.OneCycleLR
  init_args: {max_lr: 0.1, total_steps: STEPS}
"""


def test_a_top_level_per_step_scheduler_under_lightningcli_gets_the_config_fix(tmp_path, monkeypatch):
    """LightningCLI steps its top-level lr_scheduler per epoch: the fix moves it under LRMonitor with interval: step
    (a configure_optimizers fix would not apply: LightningCLI writes configure_optimizers)."""
    import warnings

    from helpers import lr_warnings

    steps = 4 * 32  # the example's data: 32 batches an epoch
    path = tmp_path / "top.yaml"
    path.write_text(TOP_LEVEL_ONE_CYCLE.replace("STEPS", str(steps)))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _cli(str(path), tmp_path, monkeypatch)
    found = [w for w in lr_warnings(record) if w.startswith("horizon-too-long")]
    assert found and all("LightningCLI's interval 'epoch'" in w for w in found), lr_warnings(record)
    assert "move it under trainer.callbacks as LRMonitor's scheduler with interval: step" in found[0]
