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

from typing import Any

import numpy as np
from torch.optim import lr_scheduler as tls

from lightning_lrmon._schedulers import lookup
from lightning_lrmon._schedulers.arith import KERNEL_CANNOT, NotIsolated, StepError, Unsupported
from lightning_lrmon._schedulers.isolate import keep_rng
from lightning_lrmon._simulation.columns import Columns
from lightning_lrmon._simulation.kernels import ChunkConsumer, KernelRun, proportional_view, stream_kernel
from lightning_lrmon._simulation.shadow import (
    DEFAULT_FALLBACK_BUDGET_S,
    Simulation,
    has_lr_of_t,
    isolated_view,
    not_isolated,
    not_torch,
    simulate_lr_of_t,
    simulate_shadow,
)

__all__ = ["simulate", "simulate_columns", "simulate_schedule"]


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
            ``chunk_rows_for``; the result does not depend on it).

    Returns:
        A ``Simulation``.

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


def _simulate(scheduler: Any, total_steps: int, budget_s: float, chunk_rows: int = 0) -> Simulation:
    if not isinstance(scheduler, (tls.LRScheduler, tls.ReduceLROnPlateau)):
        if has_lr_of_t(scheduler):
            return simulate_lr_of_t(scheduler, total_steps, budget_s)
        return not_torch(scheduler, total_steps)
    record = lookup(scheduler)
    if record is not None and record.static:
        lr0 = np.asarray([float(g["lr"]) for g in scheduler.optimizer.param_groups])
        return Simulation(lrs=np.tile(lr0, (total_steps, 1)), valid_steps=total_steps, method="static", final_lrs=lr0)
    try:
        view = isolated_view(scheduler)
    except NotIsolated as err:
        return not_isolated(scheduler, total_steps, err)
    try:
        return KernelRun.of(scheduler, view, total_steps, chunk_rows).matrix()
    except NotIsolated as err:  # user code did more than read through a view
        return not_isolated(scheduler, total_steps, err)
    except (StepError, Unsupported, *KERNEL_CANNOT):
        # a step error the kernel cannot place, or attributes it cannot read as numbers (e.g. set after
        # construction): torch's own stepping decides
        return simulate_shadow(scheduler, total_steps, budget_s)


def simulate_columns(
    scheduler: Any,
    total_steps: int,
    *,
    budget_s: float = DEFAULT_FALLBACK_BUDGET_S,
    consumer: ChunkConsumer | None = None,
    chunk_rows: int = 0,
) -> tuple[Simulation, Columns, np.ndarray | None]:
    """``simulate`` as ``Columns``, on one column when the groups stay proportional (then also each group's
    ratio to it, see ``proportional_view``): a kernel's rows are streamed (bounded memory however long the
    run), anything else is simulated whole and read in slices. ``consumer`` sees every chunk of the first pass in
    order (see ``ChunkConsumer``). ``chunk_rows``
    sets the rows per chunk (default ``chunk_rows_for``; no result depends on it).

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
            got = stream_kernel(view, total_steps, feed, chunk_rows)
            if got is not None:
                return got[0], got[1], ratios
        if consumer is not None:
            consumer.reset()
        sim = _simulate(scheduler, total_steps, budget_s, chunk_rows)
    return sim, Columns.of_array(sim.lrs[: sim.valid_steps], chunk_rows, feed=feed), None


def simulate_schedule(scheduler: Any, total_steps: int) -> np.ndarray:
    """The LR every param group will use at each of the next ``total_steps`` optimizer steps.

    Row ``k`` is the LR of step ``k`` starting from the scheduler's current state; it equals stepping the real
    scheduler with torch (one ``.step()`` per optimizer step). Neither the scheduler nor its optimizer is touched
    and no parameter tensor is copied. Rows after a step at which torch would raise (e.g. a OneCycleLR overrun)
    are NaN; ``lightning_lrmon.check_schedule`` reports it as ``scheduler-overrun``.

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
