"""Stepping a parameter-free shadow copy exactly: for schedulers without a kernel, within a time budget.

Also the result type of every simulation (``Simulation``) and the probe of a lambda's values."""

from __future__ import annotations

import copy
import inspect
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.optim import Optimizer
from torch.optim import lr_scheduler as tls

from lightning_lrmon._schedulers import lookup
from lightning_lrmon._schedulers.arith import NotIsolated, Unsupported, isolated_or_raise
from lightning_lrmon._schedulers.isolate import keep_rng

__all__ = ["DEFAULT_FALLBACK_BUDGET_S", "Simulation", "probe_lambda", "shadows"]


#: Seconds the exact-stepping fallback (custom scheduler classes) may spend before it stops and reports how far
#: it got.
DEFAULT_FALLBACK_BUDGET_S = 5.0


@dataclass
class Simulation:
    """What ``simulate`` found out about a schedule.

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
        >>> from lightning_lrmon._simulation.simulate import simulate
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


def group_lrs(optimizer: Optimizer) -> np.ndarray:
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


def isolated_view(s: Any) -> Any:
    """``s`` with every user callable it holds replaced by an isolated copy (a shallow copy; ``s`` is untouched)."""
    record = lookup(s)
    if record is None:
        return s
    view = record.user_code(s, isolated_or_raise) if record.user_code is not None else s
    if record.children is not None and record.with_children is not None:
        view = record.with_children(view, [isolated_view(c) for c in record.children(s)])
    return view


def simulate_shadow(scheduler: Any, steps: int, budget_s: float) -> Simulation:
    try:
        sched = _shadow(scheduler)
    except NotIsolated as err:
        return not_isolated(scheduler, steps, err)
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

    try:
        return _fill_rows(groups, steps, step_and_read, budget_s, "shadow")
    except NotIsolated as err:
        return not_isolated(scheduler, steps, err)


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
            except NotIsolated:  # user code did more than read through a view: not simulated, not an error
                raise
            except Exception as err:
                return _finish(out, k, steps, error=f"{type(err).__name__}: {err}", method=method)
            if (k & 255) == 0 and time.perf_counter() > deadline:
                sim = _finish(out, k + 1, steps, method=method)
                sim.truncated = True
                return sim
    return _finish(out, steps + 1, steps, method=method)


def not_isolated(scheduler: Any, steps: int, err: Exception) -> Simulation:
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


def not_torch(scheduler: Any, steps: int) -> Simulation:
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


def simulate_lr_of_t(scheduler: Any, steps: int, budget_s: float) -> Simulation:
    """A foreign scheduler whose LR is a pure function of t (timm's ``_get_lr(t)``), on an isolated copy.

    timm's convention holds: after the k-th step (``step(epoch=k)`` / ``step_update(num_updates=k)``) the LR is
    ``_get_lr(k)``; row 0 is the LR now.
    """
    try:
        shadow = _shadow(scheduler)
    except NotIsolated as err:
        return not_isolated(scheduler, steps, err)
    except Exception as err:
        return not_isolated(scheduler, steps, err)
    try:
        return _fill_rows(
            scheduler.optimizer.param_groups,
            steps,
            lambda k: [float(v) for v in shadow._get_lr(k)],
            budget_s,
            "lr-of-t",
        )
    except NotIsolated as err:
        return not_isolated(scheduler, steps, err)


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
        elif has_lr_of_t(scheduler):
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


def lr_function(scheduler: Any) -> Any:
    """``t -> [LR of each group]`` of a foreign scheduler with a pure LR of t (timm's ``_get_lr(t)``), computed on an
    isolated copy (the user's scheduler is never called); ``None`` when it has none or cannot be isolated.

    Examples:
        >>> import torch
        >>> class Halving:
        ...     def __init__(self, optimizer): self.optimizer = optimizer
        ...     def _get_lr(self, t): return [0.1 * 0.5 ** t for _ in self.optimizer.param_groups]
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> lr_function(Halving(opt))(2)
        [0.025]
    """
    if not has_lr_of_t(scheduler):
        return None
    try:
        shadow = _shadow(scheduler)
    except Exception:
        return None

    def lrs(t: int) -> list[float]:
        with keep_rng(), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [float(v) for v in shadow._get_lr(t)]

    return lrs


def has_lr_of_t(scheduler: Any) -> bool:
    """A foreign scheduler exposing its LR as a pure function of t (timm's ``_get_lr(t)``); a ``_get_lr()`` that
    takes no step (asteroid's schedulers read their own counter) is not one."""
    get_lr = getattr(scheduler, "_get_lr", None)
    return (
        not isinstance(scheduler, (tls.LRScheduler, tls.ReduceLROnPlateau))
        and callable(get_lr)
        and hasattr(scheduler, "optimizer")
        and _takes_one_argument(get_lr)
    )


def _takes_one_argument(fn: Any) -> bool:
    try:
        inspect.signature(fn).bind(0)
    except (TypeError, ValueError):
        return False
    return True
