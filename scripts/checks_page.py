"""Write ``docs/checks.md``: a section per code of ``CODES`` (in its order) with its kind and severity from
``CODES``, what it finds and how (``scripts/checks_prose.md``), an example that triggers it, and the message that
example really gets, run here and now. ``tests/system/test_docs_site.py`` regenerates the page and compares.

Usage: python scripts/checks_page.py [--check]   (--check: exit 1 when docs/checks.md is not what this writes)
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import textwrap
import warnings
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "checks.md")
PROSE = os.path.join(ROOT, "scripts", "checks_prose.md")

#: run before every example; shown once on the page
PREAMBLE = '''
import torch
from torch.optim.lr_scheduler import *

from lightning_lrmon import LoopMonitor, LRMonitor, check_schedule


def sgd(lr=0.1, groups=1):
    """An SGD optimizer with one parameter per group; group i starts at lr / 10**i."""
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr / 10**i} for i in range(groups)]
    return torch.optim.SGD(params, lr=lr)


def loop(optimizer, steps, step_scheduler=lambda: None, write_lr=None):
    """A plain training loop: `steps` optimizer steps, the scheduler stepped by `step_scheduler` after each."""
    for it in range(steps):
        if write_lr is not None:
            optimizer.param_groups[0]["lr"] = write_lr(it)
        optimizer.step()
        step_scheduler()


def fit(configure_optimizers, *callbacks, validation=False, **trainer_args):
    """A real Lightning fit of a one-layer model, 16 batches per epoch, with `configure_optimizers(module)`."""
    import lightning.pytorch as pl
    from torch.utils.data import DataLoader, TensorDataset

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(4, 1)

        def training_step(self, batch, batch_idx):
            return self.net(batch[0]).pow(2).mean()

        def validation_step(self, batch, batch_idx):
            self.log("val_loss", self.net(batch[0]).pow(2).mean())

        def configure_optimizers(self):
            return configure_optimizers(self)

    data = DataLoader(TensorDataset(torch.randn(64, 4)), batch_size=4)
    args = dict(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                enable_model_summary=False, default_root_dir=TMP, callbacks=list(callbacks))
    trainer = pl.Trainer(**{**args, **trainer_args})
    trainer.fit(Module(), data, data if validation else None)
'''

#: code -> the example (it leaves the findings in ``found``); a code without one says why
EXAMPLES: dict[str, str] = {
    "scheduler-overrun": "found = check_schedule(OneCycleLR(sgd(), max_lr=0.1, total_steps=100), 150)",
    "lr-invalid": "found = check_schedule(LambdaLR(sgd(), lambda step: 1.0 - step / 50), 100)",
    "horizon-too-short": "found = check_schedule(CosineAnnealingLR(sgd(), T_max=100), 1000, steps_per_epoch=10)",
    "horizon-too-long": "found = check_schedule(CosineAnnealingLR(sgd(), T_max=1000), 100)",
    "decay-increases": "found = check_schedule(LinearLR(sgd(0.001), start_factor=0.5, total_iters=100), 100)",
    "warmup-too-long": """\
opt = sgd()
warmup, cosine = LinearLR(opt, 0.01, 1.0, total_iters=80), CosineAnnealingLR(opt, T_max=20)
found = check_schedule(SequentialLR(opt, [warmup, cosine], milestones=[80]), 100)""",
    "lr-zero-early": "found = check_schedule(ExponentialLR(sgd(), gamma=0.5), 1000)",
    "lr-jump": """\
opt = sgd()
decay, constant = ExponentialLR(opt, gamma=0.9), ConstantLR(opt, factor=1.0, total_iters=1)
found = check_schedule(SequentialLR(opt, [decay, constant], milestones=[50]), 100)""",
    "groups-collapsed": """\
opt = sgd(0.1, groups=2)  # groups at 0.1 and 0.01
found = check_schedule(OneCycleLR(opt, max_lr=0.1, total_steps=100), 100, configured_lrs=[0.1, 0.01])""",
    "schedulers-conflict": """\
def two_schedulers(module):
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    warmup = LambdaLR(opt, lambda step: min(1.0, (step + 1) / 8))  # sets lr = base x factor at every step
    decay = StepLR(opt, step_size=1, gamma=0.1)
    return [opt], [{"scheduler": warmup, "interval": "step"}, {"scheduler": decay, "interval": "epoch"}]

monitor = LRMonitor()
fit(two_schedulers, monitor, max_epochs=3)
found = monitor.findings""",
    "double-step": """\
opt = sgd()
scheduler = CosineAnnealingLR(opt, T_max=100)
monitor = LoopMonitor(opt, scheduler, total_steps=100)
loop(opt, 10, step_scheduler=lambda: (scheduler.step(), scheduler.step()))
found = monitor.findings""",
    "plateau-monitor-missing": """\
def plateau(module):
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": ReduceLROnPlateau(opt), "monitor": "val_los"}}

monitor = LRMonitor()
try:
    fit(plateau, monitor, validation=True)
except Exception:  # Lightning raises at the epoch's end, after LRMonitor said why
    pass
found = monitor.findings""",
    "resume-mismatch": """\
opt = sgd()
scheduler = CosineAnnealingLR(opt, T_max=100)  # a fresh scheduler: its state was not saved
monitor = LoopMonitor(opt, scheduler, total_steps=100)
monitor.load_state_dict({"steps": 40})  # the monitor's state says the run is at step 40
loop(opt, 1, step_scheduler=scheduler.step)
found = monitor.findings""",
    "scheduler-not-stepped": """\
opt = sgd()
monitor = LoopMonitor(opt, CosineAnnealingLR(opt, T_max=100), total_steps=100)
loop(opt, 10)  # nobody calls scheduler.step()
found = monitor.findings""",
    "run-length-changed": "",
    "scheduler-in-setup": """\
from lightning.fabric import Fabric

fabric = Fabric(accelerator="cpu", devices=1)
model = torch.nn.Linear(4, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
model, opt, scheduler = fabric.setup(model, opt, CosineAnnealingLR(opt, T_max=100))
monitor = LoopMonitor(opt, scheduler, total_steps=100, fabric=fabric)
monitor.start()
found = monitor.findings""",
    "simulation-truncated": """\
class Halving(LRScheduler):  # no record: stepped exactly on a copy, within a time budget
    def get_lr(self):
        every = self.last_epoch and self.last_epoch % 1000 == 0
        return [group["lr"] * (0.5 if every else 1.0) for group in self.optimizer.param_groups]

found = check_schedule(Halving(sgd()), 200_000, budget_s=0.01)""",
    "not-simulated": """\
class Foreign:  # not a torch scheduler, no pure LR of t to simulate
    def __init__(self, optimizer):
        self.optimizer = optimizer

    def step(self):
        pass

found = check_schedule(Foreign(sgd()), 100)""",
    "check-failed": "",
    "no-logger": """\
opt = sgd()
monitor = LoopMonitor(opt, CosineAnnealingLR(opt, T_max=10), total_steps=10)
loop(opt, 1)
found = monitor.findings""",
    "logger-failed": """\
class Broken:
    def log_metrics(self, metrics, step):
        raise OSError("No space left on device")

opt = sgd()
monitor = LoopMonitor(opt, None, total_steps=10, logger=Broken(), log_every_n_steps=1)
loop(opt, 1)
found = monitor.findings""",
    "lr-outside-plan": """\
opt = sgd()
monitor = LoopMonitor(opt, lr_fn=lambda step: 0.1 * (1 - step / 100), total_steps=100)
loop(opt, 3, write_lr=lambda it: 0.1 * (1 - 4 * it / 100))  # called with a micro-batch count
found = monitor.findings""",
    "log-momentum-unavailable": """\
monitor = LRMonitor(log_momentum=True)
fit(lambda module: torch.optim.Adagrad(module.parameters(), lr=0.1), monitor, logger=True)
found = monitor.findings""",
    "lr-logged-twice": """\
from lightning.pytorch.callbacks import LearningRateMonitor

monitor = LRMonitor()
fit(lambda module: torch.optim.SGD(module.parameters(), lr=0.1), monitor, LearningRateMonitor(), logger=True)
found = monitor.findings""",
    "not-judged": """\
opt = sgd()
monitor = LoopMonitor(opt, CosineAnnealingLR(opt, T_max=100), total_steps=None)
loop(opt, 1)
found = monitor.findings""",
}

#: why a code has no short example
NO_EXAMPLE = {
    "run-length-changed": "it needs a loader whose length changes between epochs (`reload_dataloaders_every_n_epochs`);"
    " `tests/fit/test_runs_that_move.py` runs one.",
    "check-failed": "it reports a failure of lightning-lrmon itself; no healthy input triggers it.",
}


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^# ", text, flags=re.M)[1:]
    return {p.split("\n", 1)[0].strip(): p.split("\n", 1)[1].strip() for p in parts}


def _real_message(code: str, source: str, tmp: str) -> str:
    namespace: dict[str, Any] = {"TMP": tmp}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(PREAMBLE, namespace)
        exec(source, namespace)
    found = [f for f in namespace["found"] if f.code == code]
    if not found:
        raise SystemExit(f"the example of {code!r} no longer triggers it: {[f.code for f in namespace['found']]}")
    return str(found[0]).replace(tmp, "<tmp>")


def _kind(code: str) -> str:
    from lightning_lrmon import CODES

    info = CODES[code]
    if info.kind == "tooling":
        return "*tooling note (`LRMonitorNote`), never stops a run.*"
    when = "fit-start" if info.when == "static" else "runtime"
    return f"*{when} check, {info.severity} (`LRScheduleWarning`).*"


def page() -> str:
    """The page, every example run now."""
    from lightning_lrmon import CODES

    with open(PROSE, encoding="utf-8") as fh:
        prose = _sections(fh.read())
    missing = [c for c in CODES if c not in prose or c not in EXAMPLES]
    if missing:
        raise SystemExit(f"codes without prose or example entry: {missing}")
    out = ["# The checks\n", prose["intro"], ""]
    out.append("The examples use a few helpers (`sgd`, `loop`, `fit`); each message is that example's real output:")
    out.append("\n```python" + PREAMBLE.rstrip() + "\n```\n")
    with tempfile.TemporaryDirectory() as tmp:
        for code in CODES:
            out += [f"## `{code}`\n", _kind(code) + " " + prose[code], ""]
            if not EXAMPLES[code]:
                out += [f"No short example: {NO_EXAMPLE[code]}", ""]
                continue
            message = _real_message(code, EXAMPLES[code], tmp)
            out += ["Example:\n", "```python\n" + EXAMPLES[code].rstrip() + "\n```\n", "Real message:\n"]
            out += ["```text\n" + "\n".join(textwrap.wrap(message, 116, break_on_hyphens=False)) + "\n```\n"]
    out.append(prose["tail"])
    return "\n".join(out).rstrip() + "\n"


def comparable(text: str) -> str:
    """``text`` without what depends on the machine's speed (how far a time budget got)."""
    return re.sub(r"\b\d+ of (\d+) steps\s+were checked", r"N of \1 steps were checked", text)


def main() -> None:
    text = page()
    if "--check" in sys.argv:
        with open(PAGE, encoding="utf-8") as fh:
            same = comparable(fh.read()) == comparable(text)
        print("docs/checks.md is up to date" if same else "docs/checks.md differs: run python scripts/checks_page.py")
        sys.exit(0 if same else 1)
    with open(PAGE, "w", encoding="utf-8") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
