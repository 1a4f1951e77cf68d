"""`lrmon check/preview` on real config files, and a real LightningCLI fit configured from YAML."""

from __future__ import annotations

import json
import os

import pytest
from helpers import EXAMPLES

from lightning_lrmon._cli.main import main


def cfg(name: str) -> str:
    return os.path.join(EXAMPLES, name)


def test_check_seed_exits_1_naming_decay_increases(capsys):
    assert main(["check", cfg("seed.yaml"), "--lr", "0.001"]) == 1
    out = capsys.readouterr().out
    assert "decay-increases" in out and "end_factor" in out and "0.0005" in out


def test_check_fix_exits_0(capsys):
    assert main(["check", cfg("fixed.yaml")]) == 0
    assert "ok: no findings" in capsys.readouterr().out


def test_check_good_with_auto_and_percent_milestones(capsys):
    assert main(["check", cfg("good.yaml"), "--steps-per-epoch", "32", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    (sched,) = report["schedules"]
    assert sched["steps"] == 128 and "milestones=[6]" in sched["scheduler"] and "T_max=122" in sched["scheduler"]


def test_lightningcli_lr_scheduler_is_stepped_per_epoch_and_says_so(capsys):
    assert main(["check", cfg("epochs.yaml")]) == 1
    out = capsys.readouterr().out
    assert "once per EPOCH" in out and "horizon-too-long" in out and "T_max=10" in out


def test_json_output_is_machine_readable(capsys):
    assert main(["check", cfg("seed.yaml"), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["schedules"][0]["findings"][0]["code"] == "decay-increases"


BROKEN = {
    "malformed.yaml": "trainer: [unclosed\n",
    "empty.yaml": "",
    "list.yaml": "- a\n- b\n",
    "unknown-class.yaml": (
        "trainer:\n  max_steps: 10\nlr_scheduler:\n  class_path: CosineAnealingLR\n  init_args: {T_max: 5}\n"
    ),
    "no-length.yaml": "lr_scheduler:\n  class_path: StepLR\n  init_args: {step_size: 5}\n",
    "no-schedule.yaml": "trainer:\n  max_steps: 10\n",
    "bad-arg.yaml": (
        "trainer:\n  max_epochs: 5\nlr_scheduler:\n  class_path: LinearLR\n  init_args: {start_factor: 0}\n"
    ),
    "not-a-scheduler.yaml": "trainer:\n  max_epochs: 5\nlr_scheduler:\n  class_path: torch.nn.Linear\n",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_unusable_input_exits_2_with_one_line(tmp_path, name, capsys):
    path = tmp_path / name
    path.write_text(BROKEN[name])
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("lrmon: error:")


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_preview_terminal_and_png(tmp_path, capsys):
    assert main(["preview", cfg("seed.yaml"), "--lr", "0.001"]) == 1
    out = capsys.readouterr().out
    assert "decay-increases at step 0" in out and "LinearLR" in out
    assert "lr-SGD" in out and "group 0" not in out  # the series has the tag every other output uses
    assert "simulated on lr=1.0" not in out
    assert main(["preview", cfg("seed.yaml")]) == 1  # the LR is in the model's code: the curve is in multiples of it
    assert "note: no `optimizer:` in the config: simulated on lr=1.0" in capsys.readouterr().out
    png = tmp_path / "schedule.png"
    assert main(["preview", cfg("good.yaml"), "--steps-per-epoch", "32", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


SCIENTIFIC = """
trainer:
  max_steps: 1000
  callbacks:
    - class_path: lightning_lrmon.LRMonitor
      init_args:
        scheduler:
          class_path: CosineAnnealingLR
          init_args: {T_max: auto, eta_min: 1e-07}
optimizer:
  class_path: torch.optim.AdamW
  init_args: {lr: 5e-4, weight_decay: 1e-2}
"""


def test_numbers_written_like_1e_4_are_numbers_as_lightningcli_reads_them(tmp_path, capsys):
    path = tmp_path / "sci.yaml"
    path.write_text(SCIENTIFIC)
    assert main(["check", str(path), "--format", "json"]) == 0
    (sched,) = json.loads(capsys.readouterr().out)["schedules"]
    assert sched["scheduler"] == "CosineAnnealingLR(T_max=1000, eta_min=1e-07)"
    assert sched["groups"][0]["first"] == 5e-4 and sched["groups"][0]["end"] > 1e-07
