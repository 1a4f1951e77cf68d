"""`lrmon check` on the config patterns real LightningCLI users write (issue 24): every file here failed (exit 2,
or a traceback) on 0.2; LightningCLI reads each of them, so lrmon must review their schedule."""

from __future__ import annotations

import json
import os
import sys
import warnings

import pytest
from helpers import EXAMPLES, run_lrmon

from lightning_lrmon import LRMonitorNote
from lightning_lrmon._cli.main import main

PLATEAU = """\
trainer:
  max_epochs: 2
  accelerator: cpu
  logger: false
  enable_checkpointing: false
  enable_progress_bar: false
  enable_model_summary: false
optimizer:
  class_path: torch.optim.Adam
  init_args: {lr: 0.001}
lr_scheduler:
  class_path: ReduceLROnPlateau
  init_args: {monitor: train_loss, patience: 3, factor: 0.5}
seed_everything: 0
model: {lr: 0.01}
data: {samples: 32, batch_size: 8}
"""

FOREIGN = """\
trainer:
  max_epochs: 10
  logger:
    class_path: acme_research.loggers.FancyLogger
  callbacks:
    - class_path: acme_research.callbacks.EMA
      init_args: {decay: 0.999}
    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {monitor: val_loss}
optimizer:
  class_path: acme_research.optim.Lion
  init_args: {lr: 3.0e-4, betas: [0.9, 0.99]}
lr_scheduler:
  class_path: torch.optim.lr_scheduler.CosineAnnealingLR
  init_args: {T_max: 30}
"""

PL_NAMESPACE = """\
trainer:
  max_epochs: 10
  logger:
    class_path: pytorch_lightning.loggers.CSVLogger
    init_args: {save_dir: logs}
  callbacks:
    - class_path: pytorch_lightning.callbacks.ModelCheckpoint
      init_args: {monitor: val_loss}
    - class_path: pytorch_lightning.callbacks.LearningRateMonitor
      init_args: {logging_interval: step}
optimizer:
  class_path: torch.optim.SGD
  init_args: {lr: 0.1}
lr_scheduler:
  class_path: torch.optim.lr_scheduler.CosineAnnealingLR
  init_args: {T_max: 10}
"""

MAX_STEPS_EPOCH_SCHEDULER = """\
trainer:
  max_steps: 5000
optimizer:
  class_path: torch.optim.SGD
  init_args: {lr: 0.1}
lr_scheduler:
  class_path: torch.optim.lr_scheduler.CosineAnnealingLR
  init_args: {T_max: 50}
"""


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_bare_reduce_on_plateau_with_monitor_is_lightnings_class_as_under_lightningcli(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, "plateau.yaml", PLATEAU)
    assert main(["check", path, "--format", "json"]) == 0
    (sched,) = json.loads(capsys.readouterr().out)["schedules"]
    assert sched["scheduler"].startswith("ReduceLROnPlateau(monitor='train_loss'")
    # the same file trains under a real LightningCLI (Lightning's ReduceLROnPlateau takes `monitor`)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["main.py"])
    sys.path.insert(0, EXAMPLES)
    try:
        from main import main as cli_main

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LRMonitorNote)
            warnings.filterwarnings("ignore", "`Regressor.configure_optimizers` will be overridden")
            cli = cli_main(["fit", "--config", path])
    finally:
        sys.path.remove(EXAMPLES)
    assert type(cli.trainer.lr_scheduler_configs[0].scheduler).__module__ == "lightning.pytorch.cli"


def test_parts_that_do_not_import_here_are_one_note_and_the_schedule_is_still_reviewed(tmp_path, capsys):
    path = write(tmp_path, "foreign.yaml", FOREIGN)
    assert main(["check", path]) == 1  # T_max=30 for a 10-epoch run: reviewed, not refused
    out = capsys.readouterr().out
    assert "horizon-too-long" in out and "T_max=10" in out
    (note,) = [line for line in out.splitlines() if line.startswith("note: not importable here")]
    for part in (
        "trainer.callbacks[0] acme_research.callbacks.EMA",
        "trainer.logger acme_research.loggers.Fancy",
        "optimizer acme_research.optim.Lion",
    ):
        assert part in note
    assert "simulated on SGD(lr=0.0003)" in out and "0.0003 -> peak" in out  # the optimizer's own LR
    assert "ModelCheckpoint" not in note


def test_a_healthy_config_with_foreign_parts_exits_0(tmp_path, capsys):
    path = write(tmp_path, "foreign-ok.yaml", FOREIGN.replace("T_max: 30", "T_max: 10"))
    assert main(["check", path]) == 0
    assert "ok: no findings" in capsys.readouterr().out


def test_the_fix_for_a_top_level_lr_scheduler_never_suggests_auto_which_lightningcli_rejects(tmp_path, capsys):
    path = write(tmp_path, "foreign.yaml", FOREIGN)
    assert main(["check", path]) == 1
    out = capsys.readouterr().out
    assert "Fix: use T_max=10 (the run's scheduler steps)." in out and "'auto'" not in out


def test_pytorch_lightning_namespace_configs_are_validated_by_pytorch_lightnings_own_parser(tmp_path, capsys):
    path = write(tmp_path, "pl.yaml", PL_NAMESPACE)
    assert main(["check", path]) == 0
    assert "ok: no findings" in capsys.readouterr().out
    # and pytorch_lightning's parser still refuses what its LightningCLI refuses
    bad = write(tmp_path, "pl-bad.yaml", PL_NAMESPACE.replace("logging_interval: step", "logging_interval: batch"))
    assert main(["check", bad]) == 2
    assert "logging_interval" in capsys.readouterr().err


def test_max_steps_with_an_epoch_stepped_scheduler_names_the_missing_steps_per_epoch(tmp_path, capsys):
    path = write(tmp_path, "max-steps.yaml", MAX_STEPS_EPOCH_SCHEDULER)
    assert main(["check", path]) == 2
    err = capsys.readouterr().err
    assert "steps once per epoch" in err and "trainer.max_steps=5000" in err and "--steps-per-epoch" in err
    assert "missing run length" not in err
    assert main(["check", path, "--steps-per-epoch", "100", "--format", "json"]) == 0  # 50 epochs: T_max=50 fits
    (sched,) = json.loads(capsys.readouterr().out)["schedules"]
    assert sched["steps"] == 50 and sched["interval"] == "epoch"


def test_a_cli_that_steps_the_top_level_scheduler_per_batch(tmp_path, capsys):
    path = write(tmp_path, "max-steps.yaml", MAX_STEPS_EPOCH_SCHEDULER)
    assert main(["check", path, "--lr-scheduler-interval", "step", "--format", "json"]) == 1
    (sched,) = json.loads(capsys.readouterr().out)["schedules"]
    assert sched["steps"] == 5000 and sched["interval"] == "step"
    assert sched["findings"][0]["code"] == "horizon-too-short" and "use T_max=5000" in sched["findings"][0]["hint"]


def test_one_scheduler_step_is_singular(tmp_path, capsys):
    path = write(tmp_path, "one.yaml", MAX_STEPS_EPOCH_SCHEDULER.replace("max_steps: 5000", "max_epochs: 1"))
    main(["check", path])
    assert "1 scheduler step (interval=epoch)" in capsys.readouterr().out


def folder(tmp_path):
    configs = tmp_path / "configs"
    (configs / "ablations").mkdir(parents=True)
    (configs / "healthy.yaml").write_text(FOREIGN.replace("T_max: 30", "T_max: 10"))
    (configs / "ablations" / "long.yml").write_text(FOREIGN)
    (configs / "data-only.yaml").write_text("data:\n  batch_size: 8\n")
    (configs / "notes.txt").write_text("not a config")
    return configs


def test_a_folder_of_configs_gets_one_summary_table_and_one_exit_code(tmp_path, capsys):
    configs = folder(tmp_path)
    assert main(["check", str(configs)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    table = lines[next(i for i, line in enumerate(lines) if line.startswith("config ")) :]
    assert len(table) == 5 and table[-1] == "3 configs: 1 ok, 1 with findings, 0 unusable, 1 without a schedule"
    rows = {line.split()[0]: line for line in table[1:-1]}
    assert rows[str(configs / "ablations" / "long.yml")].endswith("1 finding")
    assert rows[str(configs / "healthy.yaml")].endswith("ok")
    assert rows[str(configs / "data-only.yaml")].endswith("no schedule")


def test_an_unusable_file_among_many_makes_the_set_exit_2_and_json_has_every_file(tmp_path, capsys):
    configs = folder(tmp_path)
    broken = write(tmp_path, "broken.yaml", "trainer: [unclosed\n")
    assert main(["check", str(configs), broken, "--format", "json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and [f["code"] for f in report["files"]] == [1, 0, 0, 2]
    assert report["files"][-1]["path"] == broken and "not valid YAML" in report["files"][-1]["error"]
    assert report["files"][0]["schedules"][0]["groups"][0]["first"] == pytest.approx(3e-4)


TEMPLATE = """\
lr_scheduler:
  class_path: torch.optim.lr_scheduler.OneCycleLR
  init_args: {max_lr: $TARGET_LR, total_steps: $MAX_STEPS, pct_start: 0.1}
optimizer:
  class_path: torch.optim.AdamW
  init_args: {lr: $TARGET_LR, weight_decay: 5e-7}
trainer:
  max_steps: ${MAX_STEPS}
"""


def test_a_template_config_is_filled_from_the_environment_or_names_its_unset_placeholders(
    tmp_path, monkeypatch, capsys
):
    path = write(tmp_path, "template.yaml", TEMPLATE)
    assert main(["check", path]) == 2
    assert "$TARGET_LR, $MAX_STEPS are not set" in capsys.readouterr().err
    monkeypatch.setenv("TARGET_LR", "1e-3")
    monkeypatch.setenv("MAX_STEPS", "1000")
    assert main(["check", path, "--lr-scheduler-interval", "step", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (sched,) = report["schedules"]
    assert sched["steps"] == 1000 and sched["groups"][0]["peak"] == pytest.approx(1e-3)
    assert report["notes"] == [
        "filled $TARGET_LR, $MAX_STEPS from the environment, as a template step (envsubst) would"
    ]


def test_pytorch_lightnings_own_reduce_on_plateau_by_dotted_path(tmp_path, capsys):
    text = PLATEAU.replace("class_path: ReduceLROnPlateau", "class_path: pytorch_lightning.cli.ReduceLROnPlateau")
    assert main(["check", write(tmp_path, "pl-plateau.yaml", text), "--fast"]) == 0
    out = capsys.readouterr().out
    assert "ReduceLROnPlateau(monitor='train_loss'" in out and "ok: no findings" in out


RAISES_AT_IMPORT = """\
trainer:
  max_steps: 100
  callbacks:
    - class_path: lightning_lrmon.LRMonitor
      init_args:
        scheduler: {class_path: gpu_only_schedules.Warmup, init_args: {}}
"""


@pytest.mark.parametrize("fast", [True, False])
def test_a_module_that_raises_at_import_is_exit_2_with_one_line(tmp_path, monkeypatch, capsys, fast):
    (tmp_path / "gpu_only_schedules.py").write_text("raise RuntimeError('CUDA driver not found')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = write(tmp_path, "raises.yaml", RAISES_AT_IMPORT)
    code, out, err = run_lrmon(capsys, "check", path, *(["--fast"] if fast else []))
    out += err
    assert code == 2 and "Traceback" not in out
    assert out.strip().count("\n") == 0 and "RuntimeError: CUDA driver not found" in out


def without_jsonargparse(monkeypatch) -> None:
    """``import jsonargparse`` raises ImportError, as in an install without the ``cli`` extra."""
    monkeypatch.setitem(sys.modules, "jsonargparse", None)


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


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_lrmon_without_the_cli_extra_checks_what_it_can(monkeypatch, capsys, fmt):
    without_jsonargparse(monkeypatch)
    code, out, err = run_lrmon(capsys, "check", os.path.join(EXAMPLES, "fixed.yaml"), "--format", fmt)
    assert code == 0 and "Traceback" not in err, err
    if fmt == "json":
        report = json.loads(out)  # one JSON object on stdout
        assert report["ok"] is True and "pip install 'lightning-lrmon[cli]'" in report["notes"][0]
        assert report["schedules"][0]["groups"][0].keys() >= {"first", "peak", "end"}
    else:
        assert "pip install 'lightning-lrmon[cli]'" in out


def test_lrmon_without_the_cli_extra_exits_2_on_unusable_input_with_one_line(tmp_path, monkeypatch, capsys):
    without_jsonargparse(monkeypatch)
    bad = tmp_path / "bad.yaml"
    bad.write_text("trainer: [unclosed\n")
    code, _, err = run_lrmon(capsys, "check", str(bad))
    assert code == 2 and "Traceback" not in err
    assert err.strip().count("\n") == 0 and err.startswith("lrmon: error:")


def test_lrmon_reviews_what_the_models_configure_optimizers_returns_when_asked(tmp_path, monkeypatch, capsys):
    (tmp_path / "proj_model.py").write_text(PROJECT_MODEL)
    config = tmp_path / "fit.yaml"
    config.write_text("trainer:\n  max_steps: 1000\nmodel:\n  class_path: proj_model.Net\n  init_args: {lr: 3.0e-4}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = run_lrmon(capsys, "check", str(config), "--model", "--format", "json")
    assert code == 1, err
    (sched,) = json.loads(out)["schedules"]
    assert sched["source"] == "model Net.configure_optimizers()[0]" and sched["steps"] == 1000
    (finding,) = sched["findings"]
    assert finding["code"] == "horizon-too-short" and finding["hint"] == "use T_max=1000 (the run's scheduler steps)."
    assert sched["groups"][0]["first"] == pytest.approx(3e-4)
    # without --model nothing of the user's code runs: the config has no schedule of its own
    code, _, err = run_lrmon(capsys, "check", str(config))
    assert code == 2 and "pass --model" in err
    # a configure_optimizers that needs the Trainer: one line, exit 2
    code, _, err = run_lrmon(capsys, "check", str(config), "--model", "proj_model.NeedsTrainer")
    assert code == 2 and "Traceback" not in err and "not attached to a `Trainer`" in err
