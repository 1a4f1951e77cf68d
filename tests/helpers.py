"""Real parts for the tests: tiny Lightning modules whose optimizers record the LR each step actually used,
and a reader for TensorBoard event files built on tensorboard's own EventAccumulator."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.util import tensor_util
from torch.utils.data import DataLoader, TensorDataset

#: where things are: the tests, the repository, the example configs, the helper programs
TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
EXAMPLES = os.path.join(ROOT, "examples", "cli")
SCRIPTS = os.path.join(TESTS, "scripts")


def _recording(base: type[torch.optim.Optimizer]) -> type[torch.optim.Optimizer]:
    class Recording(base):  # type: ignore[misc, valid-type]
        """Records, inside ``step``, after the closure ran, the LR of every group: the LR the update uses."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.applied: list[list[float]] = []

        def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            self.applied.append([float(g["lr"]) for g in self.param_groups])
            super().step()
            return loss

    Recording.__name__ = base.__name__
    Recording.__qualname__ = base.__name__
    return Recording


SGD = _recording(torch.optim.SGD)
Adam = _recording(torch.optim.Adam)


def dataset(n: int = 64, dim: int = 4) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(n, dim, generator=g), torch.randn(n, 1, generator=g))


class TinyModule(pl.LightningModule):
    """A linear regressor whose ``configure_optimizers`` is given as a function of the module."""

    def __init__(
        self,
        configure: Callable[[TinyModule], Any] | None = None,
        fail_at_step: int | None = None,
        interrupt_at_step: int | None = None,
        extra_step: bool = False,
        nan_at_step: int | None = None,
    ) -> None:
        super().__init__()
        self.body = torch.nn.Linear(4, 4)
        self.head = torch.nn.Linear(4, 1)
        self._configure = configure
        self.fail_at_step = fail_at_step
        self.interrupt_at_step = interrupt_at_step
        self.extra_step = extra_step
        self.nan_at_step = nan_at_step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.body(x)))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.fail_at_step is not None and self.global_step == self.fail_at_step:
            raise RuntimeError("boom: simulated crash")
        if self.interrupt_at_step is not None and self.global_step == self.interrupt_at_step:
            raise KeyboardInterrupt
        if self.nan_at_step is not None and self.global_step == self.nan_at_step:
            self.optimizers().param_groups[0]["lr"] = float("nan")  # something writes a NaN LR mid-run
        if self.extra_step:
            sched = self.lr_schedulers()
            (sched[0] if isinstance(sched, list) else sched).step()  # the classic mistake: stepping twice
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self) -> Any:
        if self._configure is None:
            return SGD(self.parameters(), lr=0.01)
        return self._configure(self)


class TwoOptimizerModule(TinyModule):
    """Manual optimization with two optimizers (GAN-style alternation on one batch)."""

    def __init__(self, configure: Callable[[TinyModule], Any]) -> None:
        super().__init__(configure)
        self.automatic_optimization = False

    def training_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        opts = self.optimizers()
        scheds = self.lr_schedulers()
        scheds = scheds if isinstance(scheds, list) else [scheds] if scheds is not None else []
        for opt in opts:
            loss = torch.nn.functional.mse_loss(self(x), y)
            opt.zero_grad()
            self.manual_backward(loss)
            opt.step()
        for sched in scheds:
            sched.step()


def trainer(
    tmp_path: Any, callbacks: list[Any], *, logger: Any = "tb", version: int | str = 0, **kwargs: Any
) -> pl.Trainer:
    if logger == "tb":
        logger = TensorBoardLogger(str(tmp_path), name="tb", version=version)
    defaults: dict[str, Any] = dict(
        accelerator="cpu",
        devices=1,
        max_steps=20,
        logger=logger,
        callbacks=callbacks,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=False,
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        default_root_dir=str(tmp_path),
    )
    defaults.update(kwargs)
    return pl.Trainer(**defaults)


def loader(n: int = 64, batch_size: int = 4) -> DataLoader:
    return DataLoader(dataset(n), batch_size=batch_size)


def read_scalars(log_dir: str) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series in ``log_dir`` as ``{tag: [(step, value), ...]}``, via tensorboard's loader."""
    acc = ea.EventAccumulator(log_dir, size_guidance={ea.TENSORS: 0, ea.SCALARS: 0})
    acc.Reload()
    out: dict[str, list[tuple[int, float]]] = {}
    for tag in acc.Tags()["scalars"]:
        out[tag] = [(e.step, float(e.value)) for e in acc.Scalars(tag)]
    for tag in acc.Tags()["tensors"]:
        events = acc.Tensors(tag)
        if events and events[0].tensor_proto.dtype in (1, 2):  # DT_FLOAT, DT_DOUBLE
            out[tag] = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events]
    return out


def read_texts(log_dir: str) -> dict[str, list[str]]:
    acc = ea.EventAccumulator(log_dir, size_guidance={ea.TENSORS: 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        events = acc.Tensors(tag)
        if events and events[0].tensor_proto.dtype == 7 and tag != "custom_scalars__config__":  # text
            out[tag] = [e.tensor_proto.string_val[0].decode() for e in events]
    return out


def lr_warnings(record: Any) -> list[str]:
    from lightning_lrmon import LRScheduleWarning

    return [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)]


def series(scalars: dict[str, list[tuple[int, float]]], tag: str) -> tuple[list[int], np.ndarray]:
    pts = scalars[tag]
    return [s for s, _ in pts], np.asarray([v for _, v in pts])


def run_dir(tmp_path: Any, version: int | str = 0) -> str:
    return os.path.join(str(tmp_path), "tb", f"version_{version}" if isinstance(version, int) else version)


def quiet() -> Any:
    ctx = warnings.catch_warnings(record=True)
    return ctx


def f32(values: Any) -> np.ndarray:
    """What TensorBoard stores for a float64 LR: its float32 rounding (TensorBoard scalars are float32)."""
    return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


def build_spec(spec: Any, total_steps: int = 10) -> Any:
    """LRMonitor's validation and build, as in on_fit_start, on a plain optimizer (no Trainer)."""
    from lightning_lrmon import LRMonitor
    from lightning_lrmon._spec.build import build_scheduler

    (one,) = LRMonitor(spec)._specs
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    return build_scheduler(one.spec, opt, total_steps=total_steps, where=one.where)


def run_lrmon(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """``lrmon ARGV`` in this process (what the console script calls): exit code, stdout, stderr."""
    from lightning_lrmon._cli.main import main

    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
