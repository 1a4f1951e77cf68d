"""Exact, fast, side-effect-free simulation of a torch LR scheduler.

The schedule is treated as a function of the step (timm's ``_get_lr(t)``): for every built-in torch scheduler a
vectorised *kernel* reproduces torch's own stepping (the chainable ``get_lr`` recurrences, evaluated with numpy's
sequential ``multiply.accumulate`` so the arithmetic is the same as torch's) from the scheduler's *current* state.
Nothing is stepped and nothing is written: kernels only read the scheduler's attributes and the optimizer's
``param_groups``. Schedulers without a kernel (custom classes, tensor LRs) are stepped exactly on a parameter-free
shadow copy, within a time budget.

Examples:
    >>> import torch
    >>> from torch.optim.lr_scheduler import LinearLR
    >>> from lightning_lrmon import simulate_schedule
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    >>> lrs = simulate_schedule(LinearLR(opt, start_factor=0.5, total_iters=100), 200)
    >>> lrs.shape
    (200, 1)
    >>> round(float(lrs[0, 0]), 12), round(float(lrs[100, 0]), 12)
    (0.0005, 0.001)
"""

from __future__ import annotations

import copy
import time
import types
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch.optim import Optimizer
from torch.optim import lr_scheduler as tls

from lightning_lrmon._schedulers import SchedulerRecord, lookup
from lightning_lrmon._schedulers.arith import KERNEL_CANNOT, NotIsolated, StepError, Unsupported, isolated_or_raise
from lightning_lrmon._schedulers.isolate import keep_rng
from lightning_lrmon._simulation.columns import Columns, chunk_rows_for

__all__ = [
    "DEFAULT_FALLBACK_BUDGET_S",
    "ChunkConsumer",
    "Simulation",
    "probe_lambda",
    "proportional_view",
    "simulate",
    "simulate_columns",
    "shadows",
    "simulate_schedule",
]

#: Seconds the exact-stepping fallback (custom scheduler classes) may spend before it stops and reports how far
#: it got.
DEFAULT_FALLBACK_BUDGET_S = 5.0


@dataclass
class Simulation:
    """What :func:`simulate` found out about a schedule.

    Attributes:
        lrs: array ``(total_steps, n_groups)``; row ``k`` is the LR of optimizer step ``k``. Rows after a
            stepping error or a budget stop are NaN.
        valid_steps: how many leading rows are real values.
        error: torch's message when stepping would raise (e.g. OneCycleLR overrun), else ``None``.
        error_step: the scheduler step (1-based count of ``.step()`` calls) that would raise.
        truncated: the fallback ran out of its time budget after ``valid_steps`` rows.
        method: ``"kernel"`` (vectorised), ``"shadow"`` (exact stepping of a copy), ``"lr-of-t"`` (a foreign
            class's pure ``_get_lr(t)``, e.g. timm's, on a copy), ``"static"``
            (ReduceLROnPlateau: depends on metrics, held constant) or ``"unavailable"`` (not simulated: ``notes``
            says why; ``truncated`` tells whether a copy ran out of time or none could be made safely).
        final_lrs: the LRs after the last simulated scheduler step (the one after the last optimizer step).

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> sim = simulate(torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10), 20)
        >>> sim.valid_steps, sim.error_step
        (11, 11)
    """

    lrs: np.ndarray
    valid_steps: int
    error: str | None = None
    error_step: int | None = None
    truncated: bool = False
    method: str = "kernel"
    final_lrs: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------------------------
# helpers


def _group_lrs(optimizer: Optimizer) -> np.ndarray:
    values = []
    for group in optimizer.param_groups:
        lr = group["lr"]
        if isinstance(lr, torch.Tensor):
            raise Unsupported("tensor lr")
        values.append(float(lr))
    return np.asarray(values, dtype=np.float64)


# ----------------------------------------------------------------------------------------------------------------
# exact fallback: step a parameter-free shadow


def _shadow(scheduler: Any) -> Any:
    """Deep-copy ``scheduler`` onto a parameter-free copy of its optimizer (no parameter tensor is copied)."""
    return shadows([scheduler])[0]


def shadows(schedulers: list[Any]) -> list[Any]:
    """Deep copies of ``schedulers`` (all on one optimizer) sharing one parameter-free copy of it, their user
    callables isolated: stepping them together never touches the originals."""
    opt: Optimizer = schedulers[0].optimizer
    shadow_opt = object.__new__(type(opt))
    shadow_opt.__dict__.update({k: v for k, v in opt.__dict__.items() if k not in ("state", "param_groups", "step")})
    shadow_opt.state = defaultdict(dict)
    memo: dict[int, Any] = {id(opt): shadow_opt, id(opt.state): shadow_opt.state}
    groups = []
    for group in opt.param_groups:
        new_group = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
        new_group["params"] = []
        memo[id(group)] = new_group
        for p in group["params"]:
            memo[id(p)] = p
        groups.append(new_group)
    shadow_opt.param_groups = groups
    shadow_opt.defaults = dict(opt.defaults)
    return [_isolate_attributes(copy.deepcopy(s, memo)) for s in schedulers]


def _isolate_attributes(shadow: Any) -> Any:
    for key, value in list(vars(shadow).items()):
        if isinstance(value, (list, tuple)) and any(callable(v) for v in value):
            vars(shadow)[key] = type(value)(isolated_or_raise(v) if callable(v) else v for v in value)
        elif callable(value) and not isinstance(value, (Optimizer, tls.LRScheduler)):
            vars(shadow)[key] = isolated_or_raise(value)
    return shadow


def _isolated_view(s: Any) -> Any:
    """``s`` with every user callable it holds replaced by an isolated copy (a shallow copy; ``s`` is untouched)."""
    record = lookup(s)
    if record is None:
        return s
    view = record.user_code(s, isolated_or_raise) if record.user_code is not None else s
    if record.children is not None and record.with_children is not None:
        view = record.with_children(view, [_isolated_view(c) for c in record.children(s)])
    return view


def _simulate_shadow(scheduler: Any, steps: int, budget_s: float) -> Simulation:
    try:
        sched = _shadow(scheduler)
    except NotIsolated as err:
        return _not_isolated(scheduler, steps, err)
    except Exception as err:
        lr0 = np.asarray([float(g["lr"]) for g in scheduler.optimizer.param_groups], dtype=np.float64)
        lrs = np.full((steps, lr0.shape[0]), np.nan)
        return Simulation(
            lrs=lrs,
            valid_steps=0,
            truncated=True,
            method="unavailable",
            notes=[f"the scheduler could not be copied to step it ({type(err).__name__}: {err})"],
        )
    groups = sched.optimizer.param_groups

    def step_and_read(k: int) -> list[float]:
        sched.step()
        return [float(g["lr"]) for g in groups]

    return _fill_rows(groups, steps, step_and_read, budget_s, "shadow")


def _fill_rows(
    groups: list[dict[str, Any]], steps: int, row_at: Callable[[int], list[float]], budget_s: float, method: str
) -> Simulation:
    """Rows 1..steps from ``row_at(k)`` after row 0 (the LRs now), stopping at an error or the time budget."""
    out = np.full((steps + 1, len(groups)), np.nan, dtype=np.float64)
    out[0] = [float(g["lr"]) for g in groups]
    deadline = time.perf_counter() + budget_s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(1, steps + 1):
            try:
                out[k] = row_at(k)
            except Exception as err:
                return _finish(out, k, steps, error=f"{type(err).__name__}: {err}", method=method)
            if (k & 255) == 0 and time.perf_counter() > deadline:
                sim = _finish(out, k + 1, steps, method=method)
                sim.truncated = True
                return sim
    return _finish(out, steps + 1, steps, method=method)


def _not_isolated(scheduler: Any, steps: int, err: Exception) -> Simulation:
    n = len(scheduler.optimizer.param_groups)
    return Simulation(
        lrs=np.full((steps, n), np.nan),
        valid_steps=0,
        method="unavailable",
        notes=[f"it holds user code that cannot be run on a copy of its state ({err})"],
    )


def _finish(rows: np.ndarray, valid_rows: int, steps: int, *, error: str | None = None, method: str) -> Simulation:
    """``rows`` holds row 0 (now) and the LR after each scheduler step; ``valid_rows`` of them are real."""
    lrs = rows[:steps]
    valid = min(valid_rows, steps)
    if valid < steps:
        lrs[valid:] = np.nan
    final = rows[steps] if valid_rows > steps else None
    return Simulation(
        lrs=lrs,
        valid_steps=valid,
        error=error,
        error_step=valid_rows if error is not None else None,
        method=method,
        final_lrs=final,
    )


# ----------------------------------------------------------------------------------------------------------------
# public


def simulate(
    scheduler: Any, total_steps: int, *, budget_s: float = DEFAULT_FALLBACK_BUDGET_S, chunk_rows: int = 0
) -> Simulation:
    """Simulate ``total_steps`` steps of ``scheduler`` from its current state, reporting errors instead of raising.

    One scheduler step is assumed after each optimizer step (Lightning's ``interval="step"``); the step after the
    last optimizer step is simulated too, so a OneCycleLR that would crash there is reported.

    Args:
        scheduler: a torch ``LRScheduler`` (any class; built-ins take the fast exact path).
        total_steps: number of optimizer steps (rows) to simulate.
        budget_s: time budget of the exact-stepping fallback for custom classes.
        chunk_rows: rows a kernel computes at once (default
            :func:`~.chunk_rows_for`; the result does not depend on it).

    Returns:
        A :class:`Simulation`.

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> sim = simulate(torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5), 5)
        >>> sim.lrs[:, 0].tolist(), sim.method
        ([1.0, 1.0, 0.5, 0.5, 0.25], 'kernel')
    """
    if total_steps < 0:
        raise ValueError(f"`total_steps` must be >= 0, got {total_steps!r}")
    with keep_rng():
        return _simulate(scheduler, total_steps, budget_s, chunk_rows)


def _not_torch(scheduler: Any, steps: int) -> Simulation:
    groups = getattr(getattr(scheduler, "optimizer", None), "param_groups", None) or []
    return Simulation(
        lrs=np.full((steps, len(groups)), np.nan),
        valid_steps=0,
        method="unavailable",
        notes=[
            f"{type(scheduler).__name__} is not a torch LR scheduler; Lightning steps it through the "
            "LightningModule's lr_scheduler_step, which the simulation cannot reproduce"
        ],
    )


def _simulate_lr_of_t(scheduler: Any, steps: int, budget_s: float) -> Simulation:
    """A foreign scheduler whose LR is a pure function of t (timm's ``_get_lr(t)``), on an isolated copy.

    timm's convention holds: after the k-th step (``step(epoch=k)`` / ``step_update(num_updates=k)``) the LR is
    ``_get_lr(k)``; row 0 is the LR now.
    """
    try:
        shadow = _shadow(scheduler)
    except NotIsolated as err:
        return _not_isolated(scheduler, steps, err)
    except Exception as err:
        return _not_isolated(scheduler, steps, err)
    return _fill_rows(
        scheduler.optimizer.param_groups, steps, lambda k: [float(v) for v in shadow._get_lr(k)], budget_s, "lr-of-t"
    )


def _simulate(scheduler: Any, total_steps: int, budget_s: float, chunk_rows: int = 0) -> Simulation:
    if not isinstance(scheduler, (tls.LRScheduler, tls.ReduceLROnPlateau)):
        if _has_lr_of_t(scheduler):
            return _simulate_lr_of_t(scheduler, total_steps, budget_s)
        return _not_torch(scheduler, total_steps)
    record = lookup(scheduler)
    if record is not None and record.static:
        lr0 = np.asarray([float(g["lr"]) for g in scheduler.optimizer.param_groups])
        return Simulation(lrs=np.tile(lr0, (total_steps, 1)), valid_steps=total_steps, method="static", final_lrs=lr0)
    try:
        view = _isolated_view(scheduler)
    except NotIsolated as err:
        return _not_isolated(scheduler, total_steps, err)
    try:
        return _KernelRun.of(scheduler, view, total_steps, chunk_rows).matrix()
    except (StepError, Unsupported, *KERNEL_CANNOT):
        # a step error the kernel cannot place, or attributes it cannot read as numbers (e.g. set after
        # construction): torch's own stepping decides
        return _simulate_shadow(scheduler, total_steps, budget_s)


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
        lr = _group_lrs(opt)
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


def _stream_kernel(
    scheduler: Any, total: int, feed: Callable[[np.ndarray], None] | None, chunk: int = 0
) -> tuple[Simulation, Columns] | None:
    """The kernel's rows as :class:`Columns` (summaries from one pass, chunks re-made on demand), or ``None`` when
    the scheduler needs the whole-matrix path (no kernel, user code that cannot be isolated, a step error the
    kernel cannot place). The :class:`Simulation` it returns has an empty ``lrs``: the rows are in the columns."""
    if not isinstance(scheduler, tls.LRScheduler):
        return None
    try:
        return _KernelRun.of(scheduler, _isolated_view(scheduler), total, chunk).columns(feed)
    except (NotIsolated, StepError, Unsupported, *KERNEL_CANNOT):
        return None


def _kernel_for(s: Any) -> SchedulerRecord:
    """The record of ``s`` when it has a kernel (``Unsupported`` otherwise)."""
    record = lookup(s)
    if record is None or (record.kernel is None and record.factors is None):
        raise Unsupported(type(s).__name__)
    return record


class _KernelRun:
    """A kernel stepped in chunks, each started from the previous chunk's last row (every kernel is a function of the
    incoming LRs and the epoch): row 0 (the LRs now) opens chunk 0; chunk ``j`` is the kernel's block ``j`` (its rows
    ``pos + 1 ... pos + m``), made again from its stored incoming LRs when asked. A step at which torch would raise
    ends the run: the rows before it are kept when the kernel knew them, else :meth:`pass_one` raises
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
    def of(cls, scheduler: Any, view: Any, total: int, chunk: int = 0) -> _KernelRun:
        """The run of ``scheduler``'s kernel on its isolated ``view`` (``Unsupported``: no kernel for it)."""
        return cls(_kernel_for(view), view, _group_lrs(scheduler.optimizer), getattr(scheduler, "last_epoch", 0),
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
        """The rows as :class:`Columns` (chunk summaries from one pass, chunks made again on demand); ``feed`` sees
        each chunk of the pass. The :class:`Simulation` has an empty ``lrs``: the rows are in the columns."""
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


def simulate_columns(
    scheduler: Any,
    total_steps: int,
    *,
    budget_s: float = DEFAULT_FALLBACK_BUDGET_S,
    consumer: ChunkConsumer | None = None,
    chunk_rows: int = 0,
) -> tuple[Simulation, Columns, np.ndarray | None]:
    """:func:`simulate` as :class:`Columns`, on one column when the groups stay proportional (then also each group's
    ratio to it, see :func:`proportional_view`): a kernel's rows are streamed (bounded memory however long the
    run), anything else is simulated whole and read in slices. ``consumer`` sees every chunk of the first pass in
    order (see :class:`ChunkConsumer`). ``chunk_rows``
    sets the rows per chunk (default :func:`~.chunk_rows_for`; no result depends on it).

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> sim, cols, ratios = simulate_columns(torch.optim.lr_scheduler.StepLR(opt, 2, 0.5), 5)
        >>> cols.n, cols.rows(0, 5)[:, 0].tolist(), sim.method
        (5, [1.0, 1.0, 0.5, 0.5, 0.25], 'kernel')
    """
    if total_steps < 0:
        raise ValueError(f"`total_steps` must be >= 0, got {total_steps!r}")
    with keep_rng():
        reduced = proportional_view(scheduler)
        feed = consumer.feed if consumer is not None else None
        attempts = [(reduced[0], reduced[1])] if reduced is not None else []
        for view, ratios in [*attempts, (scheduler, None)]:
            if consumer is not None:
                consumer.reset()
            got = _stream_kernel(view, total_steps, feed, chunk_rows)
            if got is not None:
                return got[0], got[1], ratios
        if consumer is not None:
            consumer.reset()
        sim = _simulate(scheduler, total_steps, budget_s, chunk_rows)
    return sim, Columns.of_array(sim.lrs[: sim.valid_steps], chunk_rows, feed=feed), None


def probe_lambda(scheduler: Any, epochs: np.ndarray) -> np.ndarray | None:
    """The first group's LR as a function of t at scheduler epochs ``epochs`` (any, also past the run).

    The record's ``lr_of_t`` (``base_lr x lr_lambda(t)`` for a ``LambdaLR``), or ``_get_lr(t)`` for a foreign class
    with a pure LR of t (timm's), computed on isolated copies; ``None`` for anything else, or when it cannot be
    isolated or raises.

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> s = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: max(0.0, 1 - t / 100))
        >>> probe_lambda(s, np.array([0, 50, 200])).tolist()
        [0.1, 0.05, 0.0]
    """
    try:
        record = lookup(scheduler)
        if record is not None and record.lr_of_t is not None:
            value = record.lr_of_t(scheduler)
        elif _has_lr_of_t(scheduler):
            shadow = _shadow(scheduler)

            def value(t: int) -> float:
                return float(shadow._get_lr(t)[0])
        else:
            return None
        with keep_rng(), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray([value(int(t)) for t in epochs], dtype=np.float64)
    except Exception:
        return None


def _has_lr_of_t(scheduler: Any) -> bool:
    """A foreign scheduler exposing its LR as a pure function of t (timm's ``_get_lr``)."""
    return (
        not isinstance(scheduler, (tls.LRScheduler, tls.ReduceLROnPlateau))
        and callable(getattr(scheduler, "_get_lr", None))
        and hasattr(scheduler, "optimizer")
    )


def simulate_schedule(scheduler: Any, total_steps: int) -> np.ndarray:
    """The LR every param group will use at each of the next ``total_steps`` optimizer steps.

    Row ``k`` is the LR of step ``k`` starting from the scheduler's current state; it equals stepping the real
    scheduler with torch (one ``.step()`` per optimizer step). Neither the scheduler nor its optimizer is touched
    and no parameter tensor is copied. Rows after a step at which torch would raise (e.g. a OneCycleLR overrun)
    are NaN; :func:`lightning_lrmon.check_schedule` reports it as ``scheduler-overrun``.

    Args:
        scheduler: a torch LR scheduler.
        total_steps: number of optimizer steps to simulate.

    Returns:
        ``numpy.ndarray`` of shape ``(total_steps, n_param_groups)``.

    Examples:
        >>> import torch
        >>> from torch.optim.lr_scheduler import CosineAnnealingLR
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> lrs = simulate_schedule(CosineAnnealingLR(opt, T_max=4), 5)
        >>> [round(float(x), 4) for x in lrs[:, 0]]
        [0.1, 0.0854, 0.05, 0.0146, 0.0]
    """
    return simulate(scheduler, total_steps).lrs
