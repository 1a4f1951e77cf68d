"""`lrmon check` and a real LightningCLI run on the same configs agree: what LightningCLI refuses is exit 2 with its
reason, what it runs is checked."""

from __future__ import annotations

import json
import os
import sys
import warnings

import pytest
import yaml

from lightning_lrmon import LRMonitorNote, LRScheduleWarning
from lightning_lrmon._cli.main import main

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples", "cli")

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


def test_fast_mode_skips_lightningclis_parser(tmp_path, capsys):
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(CONFIGS["misspelled-argument"][0]))
    assert main(["check", str(path), "--fast"]) == 0  # what only LightningCLI's parser refuses goes unnoticed
    assert "ok: no findings" in capsys.readouterr().out
