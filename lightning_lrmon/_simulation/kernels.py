"""A record's kernel run in chunks over a scheduler's current state; one column for groups that stay proportional."""

from __future__ import annotations

import copy
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np
from torch.optim import lr_scheduler as tls

from lightning_lrmon._schedulers import SchedulerRecord, lookup
from lightning_lrmon._schedulers.arith import KERNEL_CANNOT, NotIsolated, StepError, Unsupported
from lightning_lrmon._schedulers.isolate import keep_rng
from lightning_lrmon._simulation.columns import Columns, chunk_rows_for
from lightning_lrmon._simulation.shadow import Simulation, group_lrs, isolated_view

__all__ = ["ChunkConsumer", "proportional_view"]


def _scales_with_groups(s: Any, ratios: np.ndarray) -> bool:
    """Whether every group's LR is ``ratio_g`` x group 0's at every step, from the class's own arithmetic (its
    record says so; a composite's children are asked one by one)."""
    base = getattr(s, "base_lrs", None)
    if base is not None:
        b = np.asarray([float(x) for x in base], dtype=np.float64)
        if b[0] == 0 or not np.allclose(b / b[0], ratios, rtol=1e-12, atol=0):
            return False
    record = lookup(s)
    if record is None:
        return False
    if record.children is not None:
        return all(_scales_with_groups(c, ratios) for c in record.children(s))
    return record.scales is not None and record.scales(s, ratios)


def _one_group(s: Any, record: SchedulerRecord, optimizer: Any) -> Any:
    """A shallow copy of ``s`` on a one-group ``optimizer``, its per-group attributes cut to group 0."""
    view = copy.copy(s)
    view.optimizer = optimizer
    for attr in record.one_group:
        if isinstance(getattr(s, attr, None), list):
            setattr(view, attr, getattr(s, attr)[:1])
    if record.children is not None and record.with_children is not None:
        kids = [_one_group(c, lookup(c) or _PLAIN, optimizer) for c in record.children(s)]
        view = record.with_children(view, kids)
    return view


_PLAIN = SchedulerRecord(object)  # the per-group attributes every torch scheduler has


def _group_ratios(lr: np.ndarray, groups: list[dict[str, Any]]) -> np.ndarray | None:
    """Each group's LR over group 0's: from the LRs now, or, when every group is at 0 (a warmup from zero), from
    the LRs the scheduler was built on (``initial_lr``, what ``base_lrs`` holds)."""
    if not np.all(np.isfinite(lr)):
        return None
    if lr[0] > 0:
        return np.asarray(lr / lr[0], dtype=np.float64)
    if np.any(lr != 0):
        return None
    try:
        initial = np.asarray([float(g["initial_lr"]) for g in groups], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        return None
    if initial[0] <= 0 or not np.all(np.isfinite(initial)):
        return None
    return np.asarray(initial / initial[0], dtype=np.float64)


def proportional_view(scheduler: Any) -> tuple[Any, np.ndarray] | None:
    """A one-group view of ``scheduler`` and each group's ratio to group 0, when the groups stay proportional.

    The common case (one scheduler over groups with different base LRs) then needs one simulated column, not one per
    group: group ``g``'s LR is ``ratio[g]`` x the column (equal to torch's up to float rounding). ``None`` when the
    groups do not scale together, or the class is not one whose arithmetic says so.

    Examples:
        >>> import torch
        >>> p = lambda: [torch.nn.Parameter(torch.zeros(1))]
        >>> opt = torch.optim.SGD([{"params": p(), "lr": 0.1}, {"params": p(), "lr": 0.01}], lr=0.1)
        >>> view, ratios = proportional_view(torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10))
        >>> len(view.optimizer.param_groups), [round(r, 12) for r in ratios.tolist()]
        (1, [1.0, 0.1])
    """
    opt: Any = getattr(scheduler, "optimizer", None)
    groups = getattr(opt, "param_groups", None)
    if not groups or len(groups) < 2:
        return None
    try:
        lr = group_lrs(opt)
    except Unsupported:
        return None
    ratios = _group_ratios(lr, groups)
    record = lookup(scheduler)
    if ratios is None or record is None or not _scales_with_groups(scheduler, ratios):
        return None
    shadow = types.SimpleNamespace(
        param_groups=[{k: v for k, v in groups[0].items() if k != "params"}], defaults=dict(opt.defaults)
    )
    return _one_group(scheduler, record, shadow), ratios


class ChunkConsumer(Protocol):
    """Sees every chunk of a simulation's first pass, in order; ``reset()`` before each attempt (a streamed attempt
    that falls back to the whole matrix starts again from row 0), so it has seen exactly the returned rows."""

    def reset(self) -> None: ...

    def feed(self, x: np.ndarray) -> None: ...


def stream_kernel(
    scheduler: Any, total: int, feed: Callable[[np.ndarray], None] | None, chunk: int = 0
) -> tuple[Simulation, Columns] | None:
    """The kernel's rows as ``Columns`` (summaries from one pass, chunks re-made on demand), or ``None`` when
    the scheduler needs the whole-matrix path (no kernel, user code that cannot be isolated, a step error the
    kernel cannot place). The ``Simulation`` it returns has an empty ``lrs``: the rows are in the columns."""
    if not isinstance(scheduler, tls.LRScheduler):
        return None
    try:
        return KernelRun.of(scheduler, isolated_view(scheduler), total, chunk).columns(feed)
    except (NotIsolated, StepError, Unsupported, *KERNEL_CANNOT):
        return None


def _kernel_for(s: Any) -> SchedulerRecord:
    """The record of ``s`` when it has a kernel (``Unsupported`` otherwise)."""
    record = lookup(s)
    if record is None or (record.kernel is None and record.factors is None):
        raise Unsupported(type(s).__name__)
    return record


class KernelRun:
    """A kernel stepped in chunks, each started from the previous chunk's last row (every kernel is a function of the
    incoming LRs and the epoch): row 0 (the LRs now) opens chunk 0; chunk ``j`` is the kernel's block ``j`` (its rows
    ``pos + 1 ... pos + m``), made again from its stored incoming LRs when asked. A step at which torch would raise
    ends the run: the rows before it are kept when the kernel knew them, else ``pass_one`` raises
    ``StepError``."""

    def __init__(
        self, record: SchedulerRecord, view: Any, lr0: np.ndarray, e0: int, total: int, chunk: int = 0
    ) -> None:
        self.record, self.view, self.lr0, self.e0, self.total = record, view, lr0, e0, total
        c = chunk or chunk_rows_for(lr0.shape[0])
        self.blocks = [(pos, min(c, total - pos)) for pos in range(0, total, c)]
        self.lr_in: list[np.ndarray] = []
        self.pinned: dict[int, np.ndarray] = {}  # the block cut short by a step error
        self.valid_rows = total + 1  # rows of (row 0, the LR after each scheduler step) that are real
        self.error: str | None = None
        self.final: np.ndarray | None = None

    @classmethod
    def of(cls, scheduler: Any, view: Any, total: int, chunk: int = 0) -> KernelRun:
        """The run of ``scheduler``'s kernel on its isolated ``view`` (``Unsupported``: no kernel for it)."""
        return cls(_kernel_for(view), view, group_lrs(scheduler.optimizer), getattr(scheduler, "last_epoch", 0),
                   total, chunk)  # fmt: skip

    def matrix(self) -> Simulation:
        """Every row at once, as one ``(total, groups)`` matrix."""
        lrs = np.full((self.total, self.lr0.shape[0]), np.nan)
        at = 0
        for x in self._pass_one():
            lrs[at : at + x.shape[0]] = x
            at += x.shape[0]
        return self._simulation(lrs)

    def columns(self, feed: Callable[[np.ndarray], None] | None) -> tuple[Simulation, Columns]:
        """The rows as ``Columns`` (chunk summaries from one pass, chunks made again on demand); ``feed`` sees
        each chunk of the pass. The ``Simulation`` has an empty ``lrs``: the rows are in the columns."""
        cols = Columns(self.lr0.shape[0], self.remake).build(self._pass_one(), feed=feed)
        return self._simulation(np.empty((0, cols.groups))), cols

    def _simulation(self, lrs: np.ndarray) -> Simulation:
        """What the run found, with ``lrs`` as its rows (after a pass)."""
        error_step = self.valid_rows if self.error is not None else None
        valid = min(self.valid_rows, self.total)
        return Simulation(lrs, valid, error=self.error, error_step=error_step, method="kernel", final_lrs=self.final)

    def _rows(self, j: int, block: np.ndarray) -> np.ndarray:
        """Block ``j`` as rows of the run (row 0 added to chunk 0; the row after the last step cut off)."""
        pos = self.blocks[j][0]
        x = np.concatenate([self.lr0[None, :], block]) if j == 0 else block
        first = 0 if j == 0 else pos + 1
        return x[: max(0, min(self.total, self.valid_rows) - first)]

    def _block(self, j: int, lr: np.ndarray) -> np.ndarray:
        pos, m = self.blocks[j]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self.record.simulate(self.view, lr, self.e0 + pos, m))

    def _pass_one(self) -> Iterator[np.ndarray]:
        """Every chunk's rows, in order (none empty)."""
        lr = self.lr0
        for j, (pos, _) in enumerate(self.blocks):
            self.lr_in.append(lr)
            try:
                block = self._block(j, lr)
            except StepError as err:
                if err.partial is None or err.partial.shape[0] < err.row:
                    raise StepError(pos + err.row, err.message) from None
                block = self.pinned[j] = np.asarray(err.partial)[: err.row]
                self.error, self.valid_rows = err.message, pos + err.row + 1
                if self.valid_rows > self.total:  # it raises at the step after the last optimizer step
                    self.final = block[self.total - pos - 1]
                x = self._rows(j, block)
                if x.shape[0]:
                    yield x
                return
            x = self._rows(j, block)
            if x.shape[0]:
                yield x
            lr = block[-1].copy()  # not a view: it would keep the whole block alive
        self.final = np.asarray(lr, dtype=np.float64)

    def remake(self, j: int) -> np.ndarray:
        """Chunk ``j`` again (the same kernel call as the first pass: the same numbers)."""
        block = self.pinned.get(j)
        if block is None:
            with keep_rng():
                block = self._block(j, self.lr_in[j])
        return self._rows(j, block)
