"""Exact, fast, side-effect-free simulation of a torch LR scheduler.

The schedule is treated as a function of the step (timm's ``_get_lr(t)``): for every built-in torch scheduler a
vectorised *kernel* reproduces torch's own stepping (the chainable ``get_lr`` recurrences, evaluated with numpy's
sequential ``multiply.accumulate`` so the arithmetic is the same as torch's) from the scheduler's *current* state.
Nothing is stepped and nothing is written: kernels only read the scheduler's attributes and the optimizer's
``param_groups``. Schedulers without a kernel (custom classes, tensor LRs) are stepped exactly on a parameter-free
shadow copy, within a time budget.

Example:
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
import math
import time
import types
import warnings
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.optim import Optimizer
from torch.optim import lr_scheduler as tls

from lightning_lrmon._columns import Columns, chunk_rows_for
from lightning_lrmon._isolate import isolated, keep_rng

__all__ = [
    "DEFAULT_FALLBACK_BUDGET_S",
    "Simulation",
    "probe_lambda",
    "proportional_view",
    "simulate",
    "simulate_columns",
    "simulate_schedule",
]

#: Seconds the exact-stepping fallback (custom scheduler classes) may spend before it stops and reports how far
#: it got.
DEFAULT_FALLBACK_BUDGET_S = 5.0


class _StepError(Exception):
    """Stepping the scheduler would raise at row ``row`` (0-based within the kernel's output)."""

    def __init__(self, row: int, message: str, partial: np.ndarray | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.message = message
        self.partial = partial


class _Unsupported(Exception):
    """The fast path cannot reproduce this configuration exactly; use the shadow fallback."""


class _NotIsolated(Exception):
    """User code inside the scheduler cannot be called on copies of its state: do not simulate."""


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

    Example:
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
            raise _Unsupported("tensor lr")
        values.append(float(lr))
    return np.asarray(values, dtype=np.float64)


def _chain(lr: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Apply ``lr <- lr * f`` step after step, exactly as torch does, for every group.

    ``factors`` is ``(n,)`` (same for all groups) or ``(n, G)``.
    """
    n = factors.shape[0]
    out = np.empty((n, lr.shape[0]), dtype=np.float64)
    buf = np.empty(n + 1, dtype=np.float64)
    for g in range(lr.shape[0]):
        buf[0] = lr[g]
        buf[1:] = factors if factors.ndim == 1 else factors[:, g]
        np.multiply.accumulate(buf, out=buf)
        out[:, g] = buf[1:]
    return out


def _epochs(e0: int, n: int) -> np.ndarray:
    return np.arange(e0 + 1, e0 + n + 1, dtype=np.int64)


def _call_lambda(fn: Callable[[int], Any], epochs: np.ndarray) -> np.ndarray:
    """Evaluate a user lambda at every epoch (``epochs`` is a contiguous range).

    The lambda is first tried on the whole numpy array; that result is used only when it has the right shape and
    equals scalar calls exactly at 17 probe points (any exception, e.g. an ``if`` on an array, means scalar calls).
    """
    n = epochs.shape[0]
    if n == 0:
        return np.empty(0)
    if n > 64:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vec = np.asarray(fn(epochs), dtype=np.float64)  # type: ignore[arg-type]
            if vec.shape == (n,):
                probe = np.unique(np.linspace(0, n - 1, 17).astype(np.int64))
                scalar = np.asarray([float(fn(int(epochs[i]))) for i in probe])
                if np.array_equal(scalar, vec[probe], equal_nan=True):
                    return vec
        except Exception:
            pass
    first = int(epochs[0])
    return np.fromiter(map(fn, range(first, first + n)), dtype=np.float64, count=n)


def _lambda_table(fns: Sequence[Callable[[int], Any]], epochs: np.ndarray) -> np.ndarray:
    cache: dict[int, np.ndarray] = {}
    cols = []
    for fn in fns:
        key = id(fn)
        if key not in cache:
            cache[key] = _call_lambda(fn, epochs)
        cols.append(cache[key])
    return np.stack(cols, axis=1) if cols else np.empty((epochs.shape[0], 0))


# ----------------------------------------------------------------------------------------------------------------
# kernels: kernel(s, lr, e0, n) -> (n, G) LRs after each of n steps, starting from group LRs ``lr`` at epoch e0.
# reset0(s, lr) -> (G,) the LR SequentialLR sets when it switches to ``s`` at a milestone (``_update_lr(0)``).


@dataclass(frozen=True)
class _Kernel:
    simulate: Callable[[Any, np.ndarray, int, int], np.ndarray]
    reset0: Callable[[Any, np.ndarray], np.ndarray] | None = None


def _base(s: Any) -> np.ndarray:
    vals = []
    for b in s.base_lrs:
        if isinstance(b, torch.Tensor):
            raise _Unsupported("tensor base_lr")
        vals.append(float(b))
    return np.asarray(vals, dtype=np.float64)


def _f_linear(s: tls.LinearLR, e0: int, n: int) -> np.ndarray:
    e = _epochs(e0, n).astype(np.float64)
    start, end, total = s.start_factor, s.end_factor, s.total_iters
    f = np.ones(n, dtype=np.float64)
    live = (e >= 1) & (e <= total)
    with np.errstate(all="ignore"):
        f[live] = 1.0 + (end - start) / (total * start + (e[live] - 1) * (end - start))
    zero = e == 0
    f[zero] = start
    if not np.all(np.isfinite(f[live])):
        bad = int(np.argmax(~np.isfinite(f) & live))
        raise _StepError(bad, "float division by zero in LinearLR.get_lr")
    return f


def _r_closed(fn: Callable[[Any, float, int], float]) -> Callable[[Any, np.ndarray], np.ndarray]:
    def reset(s: Any, lr: np.ndarray) -> np.ndarray:
        return np.asarray([fn(s, b, 0) for b in _base(s)], dtype=np.float64)

    return reset


def _f_constant(s: tls.ConstantLR, e0: int, n: int) -> np.ndarray:
    e = _epochs(e0, n)
    f = np.ones(n, dtype=np.float64)
    hit = e == s.total_iters
    if np.any(hit):
        if s.factor == 0:
            raise _StepError(int(np.argmax(hit)), "float division by zero in ConstantLR.get_lr (factor=0)")
        f[hit] = 1.0 / s.factor
    f[e == 0] = s.factor
    return f


def _f_step(s: tls.StepLR, e0: int, n: int) -> np.ndarray:
    e = _epochs(e0, n)
    if s.step_size == 0:
        raise _StepError(0, "integer modulo by zero in StepLR.get_lr (step_size=0)")
    f = np.where((e != 0) & (e % s.step_size == 0), s.gamma, 1.0).astype(np.float64)
    return f


def _f_multistep(s: tls.MultiStepLR, e0: int, n: int) -> np.ndarray:
    f = np.ones(n, dtype=np.float64)
    for milestone, count in s.milestones.items():
        idx = milestone - (e0 + 1)
        if 0 <= idx < n:
            f[idx] = s.gamma**count
    return f


def _f_exponential(s: tls.ExponentialLR, e0: int, n: int) -> np.ndarray:
    return np.full(n, float(s.gamma))


def _f_polynomial(s: tls.PolynomialLR, e0: int, n: int) -> np.ndarray:
    e = _epochs(e0, n).astype(np.float64)
    total = s.total_iters
    f = np.ones(n, dtype=np.float64)
    live = np.flatnonzero(e <= total)
    with np.errstate(all="ignore"):
        ratio = (1.0 - e[live] / total) / (1.0 - (e[live] - 1) / total)
        if s.power < 0 and np.any(ratio == 0):
            raise _StepError(int(live[np.argmax(ratio == 0)]), "0.0 cannot be raised to a negative power")
        f[live] = ratio**s.power
    return f


def _k_cosine(s: tls.CosineAnnealingLR, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    T, eta = s.T_max, s.eta_min
    base = _base(s)
    cuts = _cosine_restarts(T, e0, n)  # rows where torch's closed-form "restart" branch applies
    cos = 1 + np.cos(np.pi * np.arange(e0, e0 + n + 1, dtype=np.float64) / T)
    with np.errstate(all="ignore"):
        ratio = cos[1:] / cos[:-1]
    ratio[cuts] = 1.0
    if 0 <= -e0 - 1 < n:
        ratio[-e0 - 1] = np.nan  # epoch 0: only reached via reset0
    bump = (base - eta) * (1 - math.cos(math.pi / T)) / 2
    out = np.empty((n, lr.shape[0]), dtype=np.float64)
    y = lr - eta
    start = 0
    for cut in [*cuts, n]:
        if cut > start:
            seg = _chain(y, ratio[start:cut])
            out[start:cut] = seg
            y = seg[-1]
        if cut < n:
            y = (y + eta + bump) - eta
            out[cut] = y
            start = cut + 1
    out += eta
    return out


def _cosine_restarts(T: Any, e0: int, n: int) -> list[int]:
    """Rows ``i`` (epoch ``e0 + 1 + i``) with ``(epoch - 1 - T_max) % (2 T_max) == 0``: one every ``2 T_max`` rows,
    found without a pass over the rows when ``T_max`` is whole."""
    if isinstance(T, (int, np.integer)) or (isinstance(T, float) and T.is_integer()):
        t = int(T)
        if t > 0:
            return list(range((t - e0) % (2 * t), n, 2 * t))
    e = _epochs(e0, n)
    return np.flatnonzero(((e - 1 - T) % (2 * T)) == 0).tolist()


def _r_cosine(s: tls.CosineAnnealingLR, lr: np.ndarray) -> np.ndarray:
    return s.eta_min + (_base(s) - s.eta_min) * (1 + math.cos(0.0)) / 2


def _k_lambda(s: tls.LambdaLR, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    return np.asarray(_base(s)[None, :] * _lambda_table(s.lr_lambdas, _epochs(e0, n)), dtype=np.float64)


def _r_lambda(s: tls.LambdaLR, lr: np.ndarray) -> np.ndarray:
    return np.asarray([b * float(fn(0)) for b, fn in zip(_base(s), s.lr_lambdas)], dtype=np.float64)


def _f_multiplicative(s: tls.MultiplicativeLR, e0: int, n: int) -> np.ndarray:
    return _lambda_table(s.lr_lambdas, _epochs(e0, n))


def _r_multiplicative(s: tls.MultiplicativeLR, lr: np.ndarray) -> np.ndarray:
    return np.asarray([x * float(fn(0)) for x, fn in zip(lr, s.lr_lambdas)], dtype=np.float64)


def _k_cyclic(s: tls.CyclicLR, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    return _cyclic_at(s, _epochs(e0, n))


def _cyclic_at(s: tls.CyclicLR, e: np.ndarray) -> np.ndarray:
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
    base = _base(s)
    maxes = np.asarray([float(m) for m in s.max_lrs], dtype=np.float64)
    height = (maxes - base)[None, :] * scale[:, None]
    return np.asarray(base[None, :] + height * sf[:, None], dtype=np.float64)


def _r_cyclic(s: tls.CyclicLR, lr: np.ndarray) -> np.ndarray:
    return np.asarray(_cyclic_at(s, np.zeros(1, dtype=np.int64))[0], dtype=np.float64)


def _k_onecycle(s: tls.OneCycleLR, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    e = _epochs(e0, n)
    over = np.flatnonzero(e > s.total_steps)
    limit = int(over[0]) if over.size else n
    vals = _onecycle_at(s, e[:limit])
    if over.size:
        raise _StepError(
            limit,
            f"Tried to step {int(e[limit])} times. The specified number of total steps is {s.total_steps}",
            vals,
        )
    return vals


def _onecycle_at(s: tls.OneCycleLR, e: np.ndarray) -> np.ndarray:
    groups = s.optimizer.param_groups
    out = np.empty((e.shape[0], len(groups)), dtype=np.float64)
    ef = e.astype(np.float64)
    phases = s._schedule_phases
    kind = getattr(s, "_anneal_func_type", None)
    if kind not in ("cos", "linear"):
        raise _Unsupported("custom anneal_func")
    assigned = np.zeros(e.shape[0], dtype=bool)
    start_step = 0.0
    for i, phase in enumerate(phases):
        end_step = phase["end_step"]
        mask = ~assigned if i == len(phases) - 1 else (~assigned & (ef <= end_step))
        if np.any(mask):
            if end_step - start_step == 0:
                raise _StepError(int(np.argmax(mask)), "float division by zero in OneCycleLR.get_lr")
            pct = (ef[mask] - start_step) / (end_step - start_step)
            for g, group in enumerate(groups):
                start, end = float(group[phase["start_lr"]]), float(group[phase["end_lr"]])
                if kind == "cos":
                    out[mask, g] = end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1)
                else:
                    out[mask, g] = (end - start) * pct + start
            assigned |= mask
        start_step = end_step
    return out


def _r_onecycle(s: tls.OneCycleLR, lr: np.ndarray) -> np.ndarray:
    return np.asarray(_onecycle_at(s, np.zeros(1, dtype=np.int64))[0], dtype=np.float64)


def _warm_pieces(cur: int, ti: int, mult: int, n: int) -> Iterator[tuple[int, int, int]]:
    """The next ``n`` steps of warm restarts as ``(first T_cur, T_i, steps)`` pieces: a run of ``T_cur`` counting up
    within one cycle, or the restart step (``T_cur`` reaches ``T_i``) alone."""
    done = 0
    while done < n:
        if cur + 1 >= ti:
            cur, ti = (cur + 1) % ti, ti * mult
            yield cur, ti, 1
            done += 1
            continue
        m = min(ti - cur - 1, n - done)
        yield cur + 1, ti, m
        cur, done = cur + m, done + m


def _warm_advance(cur: int, ti: int, mult: int, steps: int) -> tuple[int, int]:
    """``(T_cur, T_i)`` after ``steps`` more steps (one cycle length for good: a modulo)."""
    if mult == 1 and 0 <= cur < ti:
        return (cur + steps) % ti, ti
    at = (cur, ti)
    for first, cycle, m in _warm_pieces(cur, ti, mult, steps):
        at = (first + m - 1, cycle)
    return at


def _k_warm_restarts(s: tls.CosineAnnealingWarmRestarts, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    t_cur = np.empty(n, dtype=np.float64)
    t_i = np.empty(n, dtype=np.float64)
    cur, ti, mult = s.T_cur, s.T_i, s.T_mult
    if not isinstance(cur, int) or not isinstance(ti, int):
        raise _Unsupported("fractional T_cur")
    cur, ti = _warm_advance(cur, ti, mult, e0 - s.last_epoch)  # a later chunk starts e0 - last_epoch steps on
    pos = 0
    for first, cycle, m in _warm_pieces(cur, ti, mult, n):
        t_cur[pos : pos + m] = np.arange(first, first + m)
        t_i[pos : pos + m] = cycle
        pos += m
    base = _base(s)
    eta = s.eta_min
    return np.asarray(eta + (base[None, :] - eta) * (1 + np.cos(np.pi * t_cur / t_i))[:, None] / 2, dtype=np.float64)


def _sequential_pieces(milestones: list[int], epoch: int, n: int) -> Iterator[tuple[int, int, bool]]:
    """SequentialLR's next ``n`` steps from ``epoch`` as ``(child index, steps, reset)`` pieces: the step onto a
    milestone is a piece of its own that restarts its child, every other piece steps one child on."""
    done = 0
    while done < n:
        at = epoch + done
        idx = bisect_right(milestones, at + 1)
        if idx > 0 and milestones[idx - 1] == at + 1:
            yield idx, 1, True
            done += 1
            continue
        seg_end = milestones[idx] - 1 if idx < len(milestones) else epoch + n
        m = min(seg_end - at, n - done)
        yield idx, m, False
        done += m


def _k_sequential(s: tls.SequentialLR, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    children = list(s._schedulers)
    milestones = list(s._milestones)
    for child in children[1:]:
        kern = _kernel_for(child)
        if kern.reset0 is None:
            raise _Unsupported(f"{type(child).__name__} after a SequentialLR milestone")
    child_epochs = [c.last_epoch for c in children]
    for idx, m, reset in _sequential_pieces(milestones, s.last_epoch, e0 - s.last_epoch):  # a later chunk
        child_epochs[idx] = 0 if reset else child_epochs[idx] + m
    out = np.empty((n, lr.shape[0]), dtype=np.float64)
    cur = lr.copy()
    pos = 0
    for idx, m, reset in _sequential_pieces(milestones, e0, n):
        child = children[idx]
        kern = _kernel_for(child)
        if reset:
            assert kern.reset0 is not None
            cur = kern.reset0(child, cur)
            child_epochs[idx] = 0
            out[pos] = cur
        else:
            try:
                seg = kern.simulate(child, cur, child_epochs[idx], m)
            except _StepError as err:
                raise _StepError(pos + err.row, err.message) from None
            out[pos : pos + m] = seg
            cur = seg[-1]
            child_epochs[idx] += m
        pos += m
    return out


def _mult(factors: Callable[[Any, int, int], np.ndarray]) -> Callable[[Any, np.ndarray, int, int], np.ndarray]:
    def kernel(s: Any, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
        return _chain(lr, factors(s, e0, n))

    return kernel


_FACTORS: dict[type, Callable[[Any, int, int], np.ndarray]] = {
    tls.LinearLR: _f_linear,
    tls.ConstantLR: _f_constant,
    tls.StepLR: _f_step,
    tls.MultiStepLR: _f_multistep,
    tls.ExponentialLR: _f_exponential,
    tls.PolynomialLR: _f_polynomial,
    tls.MultiplicativeLR: _f_multiplicative,
}

_KERNELS: dict[type, _Kernel] = {
    tls.LinearLR: _Kernel(
        _mult(_f_linear),
        _r_closed(
            lambda s, b, e: (
                b * (s.start_factor + (s.end_factor - s.start_factor) * min(s.total_iters, e) / s.total_iters)
            )
        ),
    ),
    tls.ConstantLR: _Kernel(
        _mult(_f_constant), _r_closed(lambda s, b, e: b * (s.factor + (e >= s.total_iters) * (1 - s.factor)))
    ),
    tls.StepLR: _Kernel(_mult(_f_step), _r_closed(lambda s, b, e: b * s.gamma ** (e // s.step_size))),
    tls.MultiStepLR: _Kernel(
        _mult(_f_multistep), _r_closed(lambda s, b, e: b * s.gamma ** bisect_right(sorted(s.milestones.elements()), e))
    ),
    tls.ExponentialLR: _Kernel(_mult(_f_exponential), _r_closed(lambda s, b, e: b * s.gamma**e)),
    tls.PolynomialLR: _Kernel(
        _mult(_f_polynomial), _r_closed(lambda s, b, e: b * (1.0 - min(s.total_iters, e) / s.total_iters) ** s.power)
    ),
    tls.CosineAnnealingLR: _Kernel(_k_cosine, _r_cosine),
    tls.LambdaLR: _Kernel(_k_lambda, _r_lambda),
    tls.MultiplicativeLR: _Kernel(_mult(_f_multiplicative), _r_multiplicative),
    tls.CyclicLR: _Kernel(_k_cyclic, _r_cyclic),
    tls.OneCycleLR: _Kernel(_k_onecycle, _r_onecycle),
    tls.CosineAnnealingWarmRestarts: _Kernel(_k_warm_restarts, None),
    tls.SequentialLR: _Kernel(_k_sequential, None),
}


_CLOSED_FORM = (tls.LambdaLR, tls.CyclicLR, tls.OneCycleLR, tls.CosineAnnealingWarmRestarts)


def _k_chained(s: tls.ChainedScheduler, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    """ChainedScheduler steps every child each step, each child reading the LR the previous one wrote.

    Multiplicative children contribute a factor per step and closed-form children (which ignore the incoming LR)
    a value per step, both computed vectorised once; when every child multiplies, the chain is one cumulative
    product, otherwise the children are applied in order step by step on those precomputed series.
    """
    children = list(s._schedulers)
    g = lr.shape[0]
    shift = e0 - getattr(s, "last_epoch", 0)  # a later chunk: every child is that many steps further on
    ops: list[tuple[str, np.ndarray]] = []
    for c in children:
        if type(c) in _FACTORS:
            f = _FACTORS[type(c)](c, c.last_epoch + shift, n)
            ops.append(("mul", np.broadcast_to(f if f.ndim == 2 else f[:, None], (n, g))))
        elif type(c) in _CLOSED_FORM:
            ops.append(("set", _KERNELS[type(c)].simulate(c, lr, c.last_epoch + shift, n)))
        else:
            raise _Unsupported(f"{type(c).__name__} inside ChainedScheduler")
    if all(kind == "mul" for kind, _ in ops):
        if n == 0:
            return np.empty((0, g))
        # torch multiplies the running LR by each child's factor in turn: keep that order exactly
        stacked = np.stack([f for _, f in ops], axis=1)  # (n, k, G)
        full = _chain(lr, stacked.reshape(n * len(ops), g))
        return full[len(ops) - 1 :: len(ops)]
    last_set = max(i for i, (kind, _) in enumerate(ops) if kind == "set")
    out = ops[last_set][1].copy()
    for _, factors in ops[last_set + 1 :]:
        out *= factors
    return out


_KERNELS[tls.ChainedScheduler] = _Kernel(_k_chained, None)


def _kernel_for(s: Any) -> _Kernel:
    kern = _KERNELS.get(type(s))
    if kern is None:
        raise _Unsupported(type(s).__name__)
    return kern


# ----------------------------------------------------------------------------------------------------------------
# exact fallback: step a parameter-free shadow


def _shadow(scheduler: Any) -> Any:
    """Deep-copy ``scheduler`` onto a parameter-free copy of its optimizer (no parameter tensor is copied)."""
    opt: Optimizer = scheduler.optimizer
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
    shadow = copy.deepcopy(scheduler, memo)
    for key, value in list(vars(shadow).items()):
        if isinstance(value, (list, tuple)) and any(callable(v) for v in value):
            vars(shadow)[key] = type(value)(_isolated_or_raise(v) if callable(v) else v for v in value)
        elif callable(value) and not isinstance(value, (Optimizer, tls.LRScheduler)):
            vars(shadow)[key] = _isolated_or_raise(value)
    return shadow


def _isolated_or_raise(fn: Any) -> Any:
    out = isolated(fn)
    if out is None:
        raise _NotIsolated(f"{getattr(fn, '__qualname__', type(fn).__name__)} cannot be copied safely")
    return out


def _isolated_view(s: Any) -> Any:
    """``s`` with every user callable it holds replaced by an isolated copy (a shallow copy; ``s`` is untouched)."""
    if isinstance(s, (tls.LambdaLR, tls.MultiplicativeLR)):
        view = copy.copy(s)
        copies: dict[int, Any] = {}
        for fn in s.lr_lambdas:  # torch repeats one lambda per group: copy it once, so it is evaluated once
            if id(fn) not in copies:
                copies[id(fn)] = _isolated_or_raise(fn)
        view.lr_lambdas = [copies[id(fn)] for fn in s.lr_lambdas]
        return view
    if isinstance(s, tls.CyclicLR) and getattr(s, "_scale_fn_custom", None) is not None:
        cyclic = copy.copy(s)
        cyclic._scale_fn_custom = _isolated_or_raise(s._scale_fn_custom)
        return cyclic
    if isinstance(s, (tls.SequentialLR, tls.ChainedScheduler)):
        composite = copy.copy(s)
        composite._schedulers = [_isolated_view(c) for c in s._schedulers]
        return composite
    return s


def _simulate_shadow(scheduler: Any, steps: int, budget_s: float) -> Simulation:
    try:
        sched = _shadow(scheduler)
    except _NotIsolated as err:
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
            :func:`~lightning_lrmon._columns.chunk_rows_for`; the result does not depend on it).

    Returns:
        A :class:`Simulation`.

    Example:
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
    except _NotIsolated as err:
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
    if isinstance(scheduler, tls.ReduceLROnPlateau):
        lr0 = np.asarray([float(g["lr"]) for g in scheduler.optimizer.param_groups])
        return Simulation(lrs=np.tile(lr0, (total_steps, 1)), valid_steps=total_steps, method="static", final_lrs=lr0)
    try:
        view = _isolated_view(scheduler)
    except _NotIsolated as err:
        return _not_isolated(scheduler, total_steps, err)
    try:
        run = _KernelRun.of(scheduler, view, total_steps, chunk_rows)
        lrs = np.full((total_steps, run.lr0.shape[0]), np.nan)
        at = 0
        for x in run.pass_one():
            lrs[at : at + x.shape[0]] = x
            at += x.shape[0]
    except (_StepError, _Unsupported, *_KERNEL_CANNOT):
        # a step error the kernel cannot place, or attributes it cannot read as numbers (e.g. set after
        # construction): torch's own stepping decides
        return _simulate_shadow(scheduler, total_steps, budget_s)
    return run.simulation(lrs)


_FACTOR_TYPES = (tls.LinearLR, tls.ConstantLR, tls.StepLR, tls.MultiStepLR, tls.ExponentialLR, tls.PolynomialLR)


def _scales_with_groups(s: Any, ratios: np.ndarray) -> bool:
    """Whether every group's LR is ``ratio_g`` x group 0's at every step, from the class's own arithmetic."""
    base = getattr(s, "base_lrs", None)
    if base is not None:
        b = np.asarray([float(x) for x in base], dtype=np.float64)
        if b[0] == 0 or not np.allclose(b / b[0], ratios, rtol=1e-12, atol=0):
            return False
    if type(s) in _FACTOR_TYPES:
        return True
    if type(s) in (tls.LambdaLR, tls.MultiplicativeLR):
        return len({id(f) for f in s.lr_lambdas}) == 1
    if type(s) in (tls.CosineAnnealingLR, tls.CosineAnnealingWarmRestarts):
        return bool(s.eta_min == 0)
    if type(s) in (tls.SequentialLR, tls.ChainedScheduler):
        return all(_scales_with_groups(c, ratios) for c in s._schedulers)
    if type(s) is tls.OneCycleLR:
        keys = ("initial_lr", "max_lr", "min_lr")
        vals = np.asarray([[float(g[k]) for k in keys] for g in s.optimizer.param_groups], dtype=np.float64)
        return bool(np.all(vals[0] > 0) and np.allclose(vals / vals[0], ratios[:, None], rtol=1e-12, atol=0))
    return False


def _one_group(s: Any, optimizer: Any) -> Any:
    view = copy.copy(s)
    view.optimizer = optimizer
    for attr in ("base_lrs", "lr_lambdas", "_last_lr"):
        if isinstance(getattr(s, attr, None), list):
            setattr(view, attr, getattr(s, attr)[:1])
    if isinstance(s, (tls.SequentialLR, tls.ChainedScheduler)):
        view._schedulers = [_one_group(c, optimizer) for c in s._schedulers]
    return view


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

    Example:
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
    except _Unsupported:
        return None
    ratios = _group_ratios(lr, groups)
    if ratios is None or not _scales_with_groups(scheduler, ratios):
        return None
    shadow = types.SimpleNamespace(
        param_groups=[{k: v for k, v in groups[0].items() if k != "params"}], defaults=dict(opt.defaults)
    )
    return _one_group(scheduler, shadow), ratios


Feed = Callable[[np.ndarray], None]


def _stream_kernel(scheduler: Any, total: int, feed: Feed, chunk: int = 0) -> tuple[Simulation, Columns] | None:
    """The kernel's rows as :class:`Columns` (summaries from one pass, chunks re-made on demand), or ``None`` when
    the scheduler needs the whole-matrix path (no kernel, user code that cannot be isolated, a step error the
    kernel cannot place). The :class:`Simulation` it returns has an empty ``lrs``: the rows are in the columns."""
    if not isinstance(scheduler, tls.LRScheduler):
        return None
    try:
        run = _KernelRun.of(scheduler, _isolated_view(scheduler), total, chunk)
        cols = Columns(run.lr0.shape[0], run.remake).build(run.pass_one(), feed=feed)
    except (_NotIsolated, _StepError, _Unsupported, *_KERNEL_CANNOT):
        return None
    return run.simulation(np.empty((0, cols.groups))), cols


#: what a kernel raises when it cannot read a scheduler's attributes as numbers
_KERNEL_CANNOT = (TypeError, ValueError, ArithmeticError, IndexError, KeyError, AttributeError)


class _KernelRun:
    """A kernel stepped in chunks, each started from the previous chunk's last row (every kernel is a function of the
    incoming LRs and the epoch): row 0 (the LRs now) opens chunk 0; chunk ``j`` is the kernel's block ``j`` (its rows
    ``pos + 1 ... pos + m``), made again from its stored incoming LRs when asked. A step at which torch would raise
    ends the run: the rows before it are kept when the kernel knew them, else :meth:`pass_one` raises
    ``_StepError``."""

    def __init__(self, kern: _Kernel, view: Any, lr0: np.ndarray, e0: int, total: int, chunk: int = 0) -> None:
        self.kern, self.view, self.lr0, self.e0, self.total = kern, view, lr0, e0, total
        c = chunk or chunk_rows_for(lr0.shape[0])
        self.plan = [(pos, min(c, total - pos)) for pos in range(0, total, c)]
        self.lr_in: list[np.ndarray] = []
        self.pinned: dict[int, np.ndarray] = {}  # the block cut short by a step error
        self.valid_rows = total + 1  # rows of (row 0, the LR after each scheduler step) that are real
        self.error: str | None = None
        self.final: np.ndarray | None = None

    @classmethod
    def of(cls, scheduler: Any, view: Any, total: int, chunk: int = 0) -> _KernelRun:
        """The run of ``scheduler``'s kernel on its isolated ``view`` (``_Unsupported``: no kernel for it)."""
        return cls(_kernel_for(view), view, _group_lrs(scheduler.optimizer), getattr(scheduler, "last_epoch", 0),
                   total, chunk)  # fmt: skip

    def simulation(self, lrs: np.ndarray) -> Simulation:
        """What the run found, with ``lrs`` as its rows."""
        error_step = self.valid_rows if self.error is not None else None
        valid = min(self.valid_rows, self.total)
        return Simulation(lrs, valid, error=self.error, error_step=error_step, method="kernel", final_lrs=self.final)

    def _rows(self, j: int, block: np.ndarray) -> np.ndarray:
        """Block ``j`` as rows of the run (row 0 added to chunk 0; the row after the last step cut off)."""
        pos = self.plan[j][0]
        x = np.concatenate([self.lr0[None, :], block]) if j == 0 else block
        first = 0 if j == 0 else pos + 1
        return x[: max(0, min(self.total, self.valid_rows) - first)]

    def _block(self, j: int, lr: np.ndarray) -> np.ndarray:
        pos, m = self.plan[j]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self.kern.simulate(self.view, lr, self.e0 + pos, m))

    def pass_one(self) -> Iterator[np.ndarray]:
        """Every chunk's rows, in order (none empty)."""
        lr = self.lr0
        for j, (pos, _) in enumerate(self.plan):
            self.lr_in.append(lr)
            try:
                block = self._block(j, lr)
            except _StepError as err:
                if err.partial is None or err.partial.shape[0] < err.row:
                    raise _StepError(pos + err.row, err.message) from None
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
    new_feed: Callable[[], Feed] | None = None,
    chunk_rows: int = 0,
) -> tuple[Simulation, Columns, np.ndarray | None]:
    """:func:`simulate` as :class:`Columns`, on one column when the groups stay proportional (then also each group's
    ratio to it, see :func:`proportional_view`): a kernel's rows are streamed (bounded memory however long the
    run), anything else is simulated whole and read in slices. ``new_feed()`` makes a consumer that sees every
    chunk of the first pass in order; each attempt (a streamed one that falls back to the whole matrix starts
    again from row 0) makes a new one, so the last one made has seen exactly the returned rows. ``chunk_rows``
    sets the rows per chunk (default :func:`~lightning_lrmon._columns.chunk_rows_for`; no result depends on it).

    Example:
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
        feed = new_feed or (lambda: _ignore)
        if reduced is not None:
            got = _stream_kernel(reduced[0], total_steps, feed(), chunk_rows)
            if got is not None:
                return got[0], got[1], reduced[1]
        got = _stream_kernel(scheduler, total_steps, feed(), chunk_rows)
        if got is not None:
            return got[0], got[1], None
        sim = _simulate(scheduler, total_steps, budget_s, chunk_rows)
    return sim, Columns.of_array(sim.lrs[: sim.valid_steps], chunk_rows, feed=feed()), None


def _ignore(x: np.ndarray) -> None:
    """A consumer that keeps nothing."""


def probe_lambda(scheduler: Any, epochs: np.ndarray) -> np.ndarray | None:
    """The first group's LR as a function of t at scheduler epochs ``epochs`` (any, also past the run).

    ``base_lr x lr_lambda(t)`` for a ``LambdaLR``, ``_get_lr(t)`` for a foreign class with a pure LR of t (timm's),
    computed on isolated copies; ``None`` for anything else, or when it cannot be isolated or raises.

    Example:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> s = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: max(0.0, 1 - t / 100))
        >>> probe_lambda(s, np.array([0, 50, 200])).tolist()
        [0.1, 0.05, 0.0]
    """
    try:
        if isinstance(scheduler, tls.LambdaLR) and scheduler.lr_lambdas:
            fn = _isolated_or_raise(scheduler.lr_lambdas[0])
            base = float(scheduler.base_lrs[0])

            def value(t: int) -> float:
                return base * float(fn(t))
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

    Example:
        >>> import torch
        >>> from torch.optim.lr_scheduler import CosineAnnealingLR
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> lrs = simulate_schedule(CosineAnnealingLR(opt, T_max=4), 5)
        >>> [round(float(x), 4) for x in lrs[:, 0]]
        [0.1, 0.0854, 0.05, 0.0146, 0.0]
    """
    return simulate(scheduler, total_steps).lrs
