"""Records of torch's cycle schedulers, closed forms of the step: ``CyclicLR`` and ``OneCycleLR``.

Both overwrite the groups' LRs when built (from ``base_lr``/``max_lr``), so a single ``max_lr`` collapses groups
configured with different LRs; their fix texts say how to keep the groups apart.

Examples:
    >>> import numpy as np, torch
    >>> from lightning_lrmon._schedulers.record import fmt, lookup
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> s = torch.optim.lr_scheduler.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=2)
    >>> lookup(s).simulate(s, np.array([0.0]), 0, 4)[:, 0].tolist()
    [0.5, 1.0, 0.5, 0.0]
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal, Optional, Union

import numpy as np
from torch.optim import lr_scheduler as tls

from lightning_lrmon._schedulers.arith import StepError, Unsupported, base_lrs, epochs
from lightning_lrmon._schedulers.record import SchedulerRecord, fmt, register
from lightning_lrmon._schedulers.refit import refit_cycle, refit_one_cycle

__all__: list[str] = []

_FloatOrList = Union[float, list[float]]

# -- CyclicLR ------------------------------------------------------------------------------------------------------


def _cyclic_at(s: Any, e: np.ndarray) -> np.ndarray:
    ef = e.astype(np.float64)
    cycle = np.floor(1 + ef / s.total_size)
    x = 1.0 + ef / s.total_size - cycle
    with np.errstate(all="ignore"):
        scale = np.where(x <= s.step_ratio, x / s.step_ratio, (x - 1) / (s.step_ratio - 1))
    if s._scale_fn_custom is None and s.mode == "triangular":
        sf = np.ones_like(ef)
    elif s._scale_fn_custom is None and s.mode == "triangular2":
        sf = 1 / (2.0 ** (cycle - 1))
    elif s._scale_fn_custom is None and s.mode == "exp_range":
        sf = np.asarray([s.gamma**k for k in e.tolist()], dtype=np.float64)
    else:
        arg = cycle if s.scale_mode == "cycle" else ef
        uniq, inv = np.unique(arg, return_inverse=True)
        vals = np.asarray([float(s.scale_fn(u)) for u in uniq.tolist()], dtype=np.float64)
        sf = vals[inv]
    base = base_lrs(s)
    maxes = np.asarray([float(m) for m in s.max_lrs], dtype=np.float64)
    height = (maxes - base)[None, :] * scale[:, None]
    return np.asarray(base[None, :] + height * sf[:, None], dtype=np.float64)


def _isolate_scale_fn(s: Any, isolate: Callable[[Any], Any]) -> Any:
    if getattr(s, "_scale_fn_custom", None) is None:
        return s
    view = copy.copy(s)
    view._scale_fn_custom = isolate(s._scale_fn_custom)
    return view


register(
    SchedulerRecord(
        tls.CyclicLR,
        shape="cyclic",
        horizon_arg="step_size_up",
        horizon=lambda s: int(s.total_size),
        arg_value=lambda s: int(round(s.total_size * s.step_ratio)),
        long_horizon_fix=lambda s, span: (
            f"use step_size_up={max(1, span // 2)} (step_size_down unset: one whole cycle, up and down, over the "
            f"run's {span} scheduler steps).",
            max(1, span // 2),
        ),
        refit=refit_cycle,
        arg_types={
            "base_lr": _FloatOrList,
            "max_lr": _FloatOrList,
            "step_size_up": int,
            "step_size_down": Optional[int],  # noqa: UP045
            "mode": Literal["triangular", "triangular2", "exp_range"],
            "gamma": float,
            "scale_mode": Literal["cycle", "iterations"],
            "cycle_momentum": bool,
            "base_momentum": _FloatOrList,
            "max_momentum": _FloatOrList,
        },
        collapse_fix=lambda s, peak, cfg: (
            "pass base_lr and max_lr as lists, one value per param group, keeping the groups' ratios."
        ),
        kernel=lambda s, lr, e0, n: _cyclic_at(s, epochs(e0, n)),
        reset0=lambda s, lr: np.asarray(_cyclic_at(s, np.zeros(1, dtype=np.int64))[0], dtype=np.float64),
        closed_form=True,
        user_code=_isolate_scale_fn,
    )
)


# -- OneCycleLR ----------------------------------------------------------------------------------------------------


def _k_onecycle(s: Any, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    e = epochs(e0, n)
    over = np.flatnonzero(e > s.total_steps)
    limit = int(over[0]) if over.size else n
    vals = _onecycle_at(s, e[:limit])
    if over.size:
        raise StepError(
            limit,
            f"Tried to step {int(e[limit])} times. The specified number of total steps is {s.total_steps}",
            vals,
        )
    return vals


def _onecycle_at(s: Any, e: np.ndarray) -> np.ndarray:
    groups = s.optimizer.param_groups
    out = np.empty((e.shape[0], len(groups)), dtype=np.float64)
    ef = e.astype(np.float64)
    phases = s._schedule_phases
    if getattr(s, "_anneal_func_type", None) not in ("cos", "linear"):
        raise Unsupported("custom anneal_func")
    cos = s._anneal_func_type == "cos"
    assigned = np.zeros(e.shape[0], dtype=bool)
    start_step = 0.0
    for i, phase in enumerate(phases):
        end_step = phase["end_step"]
        mask = ~assigned if i == len(phases) - 1 else (~assigned & (ef <= end_step))
        if np.any(mask):
            if end_step - start_step == 0:
                raise StepError(int(np.argmax(mask)), "float division by zero in OneCycleLR.get_lr")
            pct = (ef[mask] - start_step) / (end_step - start_step)
            for g, group in enumerate(groups):
                start, end = float(group[phase["start_lr"]]), float(group[phase["end_lr"]])
                if cos:
                    out[mask, g] = end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1)
                else:
                    out[mask, g] = (end - start) * pct + start
            assigned |= mask
        start_step = end_step
    return out


def _onecycle_scales(s: Any, ratios: np.ndarray) -> bool:
    keys = ("initial_lr", "max_lr", "min_lr")
    vals = np.asarray([[float(g[k]) for k in keys] for g in s.optimizer.param_groups], dtype=np.float64)
    return bool(np.all(vals[0] > 0) and np.allclose(vals / vals[0], ratios[:, None], rtol=1e-12, atol=0))


def _onecycle_collapse_fix(s: Any, peak: float, configured: list[float]) -> str:
    ratio = peak / max(configured) if max(configured) else 1.0
    return f"pass max_lr as a list, one per group, e.g. max_lr={[float(f'{c * ratio:.3g}') for c in configured]}."


def _describe_onecycle(s: Any) -> str:
    """OneCycleLR with the arguments that shape it: ``max_lr``, ``pct_start`` and the div factors live only in the
    param groups and the phases, so the generic description (init arguments read back) would show none of them.

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> _describe_onecycle(tls.OneCycleLR(opt, max_lr=0.3, total_steps=200, pct_start=0.25))
        'OneCycleLR(max_lr=0.3, total_steps=200, pct_start=0.25, div_factor=25, final_div_factor=10000)'
    """
    groups = s.optimizer.param_groups
    peaks = [float(g["max_lr"]) for g in groups]
    g0 = groups[0]
    parts = [
        f"max_lr={fmt(peaks[0]) if len(set(peaks)) == 1 else fmt(peaks)}",
        f"total_steps={s.total_steps}",
        f"pct_start={(float(s._schedule_phases[0]['end_step']) + 1) / s.total_steps:.3g}",
        f"div_factor={float(g0['max_lr']) / float(g0['initial_lr']):.6g}",
        f"final_div_factor={float(g0['initial_lr']) / float(g0['min_lr']):.6g}",
    ]
    if len(s._schedule_phases) == 3:
        parts.append("three_phase=True")
    if getattr(s, "_anneal_func_type", "cos") != "cos":
        parts.append(f"anneal_strategy={s._anneal_func_type!r}")
    if not s.cycle_momentum:
        parts.append("cycle_momentum=False")
    return f"OneCycleLR({', '.join(parts)})"


def _safe_describe_onecycle(s: Any) -> str:
    try:
        return _describe_onecycle(s)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError, ZeroDivisionError):
        return f"OneCycleLR(total_steps={getattr(s, 'total_steps', '?')})"  # an odd or foreign state: the basics


register(
    SchedulerRecord(
        tls.OneCycleLR,
        describe=_safe_describe_onecycle,
        refit=refit_one_cycle,
        shape="warmup_decay",
        horizon_arg="total_steps",
        arg_types={
            "max_lr": _FloatOrList,
            "total_steps": Optional[int],  # noqa: UP045
            "epochs": Optional[int],  # noqa: UP045
            "steps_per_epoch": Optional[int],  # noqa: UP045
            "pct_start": float,
            "anneal_strategy": Literal["cos", "linear"],
            "cycle_momentum": bool,
            "base_momentum": _FloatOrList,
            "max_momentum": _FloatOrList,
            "div_factor": float,
            "final_div_factor": float,
            "three_phase": bool,
        },
        warmup_hint=lambda s, suggested: (
            "lower pct_start (0.3 is the default) or check total_steps against the run's steps ('auto')."
        ),
        collapse_fix=_onecycle_collapse_fix,
        kernel=_k_onecycle,
        reset0=lambda s, lr: np.asarray(_onecycle_at(s, np.zeros(1, dtype=np.int64))[0], dtype=np.float64),
        closed_form=True,
        scales=_onecycle_scales,
    )
)
