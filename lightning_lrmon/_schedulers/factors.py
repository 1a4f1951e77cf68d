"""Records of torch's chainable multiplicative schedulers: each step multiplies the LR by a factor of the epoch.

``LinearLR``, ``ConstantLR``, ``StepLR``, ``MultiStepLR``, ``ExponentialLR``, ``PolynomialLR`` and
``MultiplicativeLR``: torch's ``get_lr`` recurrences, as vectorised factors (the chain multiplies them in torch's
order), the closed forms a sequence restarts them with, and their fix texts.

Examples:
    >>> import torch
    >>> from lightning_lrmon._schedulers.record import lookup
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> s = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lookup(s).factors(s, 0, 4).tolist()
    [1.0, 0.5, 1.0, 0.5]
"""

from __future__ import annotations

import copy
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

import numpy as np
from torch.optim import lr_scheduler as tls

from lightning_lrmon._schedulers.arith import StepError, base_lrs, epochs, lambda_table
from lightning_lrmon._schedulers.record import SchedulerRecord, callable_text, register

__all__: list[str] = []


def _closed(fn: Callable[[Any, float, int], float]) -> Callable[[Any, np.ndarray], np.ndarray]:
    """A reset (the LRs at the class's epoch 0) from its closed form ``fn(s, base_lr, epoch)``."""

    def reset(s: Any, lr: np.ndarray) -> np.ndarray:
        return np.asarray([fn(s, b, 0) for b in base_lrs(s)], dtype=np.float64)

    return reset


def _proportional(s: Any, ratios: np.ndarray) -> bool:
    return True  # one factor for every group


def _hint_gamma(s: Any) -> str:
    return (
        f"gamma={s.gamma:g} is above 1, so every decay step multiplies the LR up. Use gamma={1 / s.gamma:.3g} "
        "(below 1) to decay; if the rise is intended, pass expect='warmup'."
    )


# -- LinearLR ----------------------------------------------------------------------------------------------------


def _f_linear(s: Any, e0: int, n: int) -> np.ndarray:
    e = epochs(e0, n).astype(np.float64)
    start, end, total = s.start_factor, s.end_factor, s.total_iters
    f = np.ones(n, dtype=np.float64)
    live = (e >= 1) & (e <= total)
    with np.errstate(all="ignore"):
        f[live] = 1.0 + (end - start) / (total * start + (e[live] - 1) * (end - start))
    f[e == 0] = start
    if not np.all(np.isfinite(f[live])):
        raise StepError(int(np.argmax(~np.isfinite(f) & live)), "float division by zero in LinearLR.get_lr")
    return f


def _linear_at(s: Any, b: float, e: int) -> float:
    return float(b * (s.start_factor + (s.end_factor - s.start_factor) * min(s.total_iters, e) / s.total_iters))


def _hint_linear(s: Any) -> str:
    return (
        f"LinearLR multiplies the LR by a factor moving linearly from start_factor={s.start_factor:g} to "
        f"end_factor={s.end_factor:g}, so it rises. To decay, start at start_factor=1.0 and end below it with "
        f"end_factor (e.g. start_factor=1.0, end_factor={min(s.start_factor, 0.1):g}); "
        "if the rise is an intended warmup, pass expect='warmup'."
    )


register(
    SchedulerRecord(
        tls.LinearLR,
        shape="decay",
        horizon_arg="total_iters",
        arg_types={"start_factor": float, "end_factor": float, "total_iters": int},
        decay_hint=_hint_linear,
        factors=_f_linear,
        reset0=_closed(_linear_at),
        scales=_proportional,
    )
)


# -- ConstantLR --------------------------------------------------------------------------------------------------


def _f_constant(s: Any, e0: int, n: int) -> np.ndarray:
    e = epochs(e0, n)
    f = np.ones(n, dtype=np.float64)
    hit = e == s.total_iters
    if np.any(hit):
        if s.factor == 0:
            raise StepError(int(np.argmax(hit)), "float division by zero in ConstantLR.get_lr (factor=0)")
        f[hit] = 1.0 / s.factor
    f[e == 0] = s.factor
    return f


def _hint_constant(s: Any) -> str:
    return (
        f"ConstantLR holds factor={s.factor:g} x LR for total_iters={s.total_iters} steps and then restores the full "
        "LR, so it rises at the end. To decay, use LinearLR(start_factor=1.0, end_factor="
        f"{s.factor:g}) or StepLR; if the rise is an intended warmup, pass expect='warmup'."
    )


register(
    SchedulerRecord(
        tls.ConstantLR,
        shape="decay",
        arg_types={"factor": float, "total_iters": int},
        judges_short_horizon=False,
        decay_hint=_hint_constant,
        factors=_f_constant,
        reset0=_closed(lambda s, b, e: b * (s.factor + (e >= s.total_iters) * (1 - s.factor))),
        scales=_proportional,
    )
)


# -- StepLR, MultiStepLR, ExponentialLR ----------------------------------------------------------------------------


def _f_step(s: Any, e0: int, n: int) -> np.ndarray:
    e = epochs(e0, n)
    if s.step_size == 0:
        raise StepError(0, "integer modulo by zero in StepLR.get_lr (step_size=0)")
    return np.where((e != 0) & (e % s.step_size == 0), s.gamma, 1.0).astype(np.float64)


def _step_size_fix(s: Any, span: int) -> tuple[str, int]:
    """A period that drops twice inside a run of ``span`` steps (at a third and two thirds of it)."""
    size = max(1, -(-span // 3))
    return (
        f"use step_size={size} (the LR drops at scheduler steps {size} and {2 * size} of the run's {span}), "
        "or MultiStepLR with milestones inside the run.",
        size,
    )


register(
    SchedulerRecord(
        tls.StepLR,
        shape="decay",
        horizon_arg="step_size",
        arg_types={"step_size": int, "gamma": float},
        judges_short_horizon=False,  # its horizon is the period of the steps, not where the decay ends
        decay_hint=_hint_gamma,
        long_horizon_fix=_step_size_fix,
        factors=_f_step,
        reset0=_closed(lambda s, b, e: b * s.gamma ** (e // s.step_size)),
        scales=_proportional,
    )
)


def _f_multistep(s: Any, e0: int, n: int) -> np.ndarray:
    f = np.ones(n, dtype=np.float64)
    for milestone, count in s.milestones.items():
        idx = milestone - (e0 + 1)
        if 0 <= idx < n:
            f[idx] = s.gamma**count
    return f


def _last_milestone(s: Any) -> int | None:
    return max(s.milestones) if s.milestones else None


register(
    SchedulerRecord(
        tls.MultiStepLR,
        shape="decay",
        horizon_arg="milestones",
        horizon=_last_milestone,
        arg_types={"milestones": list[int], "gamma": float},
        decay_hint=_hint_gamma,
        long_horizon_fix=lambda s, span: (
            f"put the milestones within the run's {span} scheduler steps (or use interval='step').",
            None,
        ),
        factors=_f_multistep,
        reset0=_closed(lambda s, b, e: b * s.gamma ** bisect_right(sorted(s.milestones.elements()), e)),
        scales=_proportional,
    )
)

register(
    SchedulerRecord(
        tls.ExponentialLR,
        shape="decay",
        arg_types={"gamma": float},
        decay_hint=_hint_gamma,
        factors=lambda s, e0, n: np.full(n, float(s.gamma)),
        reset0=_closed(lambda s, b, e: b * s.gamma**e),
        scales=_proportional,
    )
)


# -- PolynomialLR --------------------------------------------------------------------------------------------------


def _f_polynomial(s: Any, e0: int, n: int) -> np.ndarray:
    e = epochs(e0, n).astype(np.float64)
    total = s.total_iters
    f = np.ones(n, dtype=np.float64)
    live = np.flatnonzero(e <= total)
    with np.errstate(all="ignore"):
        ratio = (1.0 - e[live] / total) / (1.0 - (e[live] - 1) / total)
        if s.power < 0 and np.any(ratio == 0):
            raise StepError(int(live[np.argmax(ratio == 0)]), "0.0 cannot be raised to a negative power")
        f[live] = ratio**s.power
    return f


register(
    SchedulerRecord(
        tls.PolynomialLR,
        shape="decay",
        horizon_arg="total_iters",
        arg_types={"total_iters": int, "power": float},
        decay_hint=lambda s: f"power={s.power:g} makes PolynomialLR rise; use power >= 0 (1.0 is linear decay).",
        factors=_f_polynomial,
        reset0=_closed(lambda s, b, e: b * (1.0 - min(s.total_iters, e) / s.total_iters) ** s.power),
        scales=_proportional,
    )
)


# -- MultiplicativeLR (a user lambda per group gives the factor) ---------------------------------------------------


def _r_multiplicative(s: Any, lr: np.ndarray) -> np.ndarray:
    return np.asarray([x * float(fn(0)) for x, fn in zip(lr, s.lr_lambdas)], dtype=np.float64)


def isolate_lambdas(s: Any, isolate: Callable[[Any], Any]) -> Any:
    """A shallow copy whose ``lr_lambdas`` are isolated copies (torch repeats one lambda per group: copied once,
    so it is evaluated once)."""
    view = copy.copy(s)
    copies: dict[int, Any] = {}
    for fn in s.lr_lambdas:
        if id(fn) not in copies:
            copies[id(fn)] = isolate(fn)
    view.lr_lambdas = [copies[id(fn)] for fn in s.lr_lambdas]
    return view


def describe_lambdas(s: Any) -> str:
    """``Name(lr_lambda=...)``: the user's lambda by name (the list when groups differ)."""
    lambdas = s.lr_lambdas
    if not lambdas:
        return f"{type(s).__name__}()"
    unique = list({id(f): f for f in lambdas}.values())
    shown = callable_text(unique[0]) if len(unique) == 1 else "[" + ", ".join(map(callable_text, lambdas)) + "]"
    return f"{type(s).__name__}(lr_lambda={shown})"


def one_lambda(s: Any, ratios: np.ndarray) -> bool:
    """Groups stay proportional when they share one lambda."""
    return len({id(f) for f in s.lr_lambdas}) == 1


register(
    SchedulerRecord(
        tls.MultiplicativeLR,
        arg_types={},
        factors=lambda s, e0, n: lambda_table(s.lr_lambdas, epochs(e0, n)),
        reset0=_r_multiplicative,
        scales=one_lambda,
        user_code=isolate_lambdas,
        one_group=("base_lrs", "lr_lambdas", "_last_lr"),
        describe=describe_lambdas,
    )
)
