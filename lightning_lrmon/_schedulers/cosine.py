"""Records of torch's cosine schedulers: ``CosineAnnealingLR`` (chainable recurrence, climbs back past ``T_max``)
and ``CosineAnnealingWarmRestarts`` (closed form of ``T_cur``/``T_i``).

Examples:
    >>> import numpy as np, torch
    >>> from lightning_lrmon._schedulers.record import lookup
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    >>> [round(float(x), 4) for x in lookup(s).simulate(s, np.array([0.1]), 0, 4)[:, 0]]
    [0.0854, 0.05, 0.0146, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from torch.optim import lr_scheduler as tls

from lightning_lrmon._schedulers.arith import Unsupported, base_lrs, chain, epochs
from lightning_lrmon._schedulers.record import SchedulerRecord, register

__all__: list[str] = []


def _k_cosine(s: Any, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    T, eta = s.T_max, s.eta_min
    cuts = _cosine_restarts(T, e0, n)  # rows where torch's closed-form "restart" branch applies
    cos = 1 + np.cos(np.pi * np.arange(e0, e0 + n + 1, dtype=np.float64) / T)
    with np.errstate(all="ignore"):
        ratio = cos[1:] / cos[:-1]
    ratio[cuts] = 1.0
    if 0 <= -e0 - 1 < n:
        ratio[-e0 - 1] = np.nan  # epoch 0: only reached via reset0
    y = lr - eta
    run = chain if eta == 0 else _floored
    if not cuts:  # the common case: one stretch of the recurrence
        seg = run(y, ratio)
        seg += eta
        return seg
    bump = (base_lrs(s) - eta) * (1 - math.cos(math.pi / T)) / 2
    out = np.empty((lr.shape[0], n), dtype=np.float64)  # group by group, as chain() makes its rows
    start = 0
    for cut in [*cuts, n]:
        if cut > start:
            seg = run(y, ratio[start:cut])
            out[:, start:cut] = seg.T
            y = seg[-1].copy()
        if cut < n:
            y = (y + eta + bump) - eta
            out[:, cut] = y
            start = cut + 1
    out += eta
    return out.T


def _floored(y: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """``y`` times the running product of ``ratio``, for a cosine with a floor (``y = lr - eta_min``): the product is
    taken once for every group (torch's own steps round ``(lr - eta) * r + eta`` each time, which no chain matches
    bit for bit; this stays within 1e-9 of it, tested against torch) and each group is one vectorised product,
    instead of one sequential chain per group. Laid out group by group, as ``chain`` returns it."""
    product = np.multiply.accumulate(ratio)
    out = np.empty((y.shape[0], ratio.shape[0]), dtype=np.float64)
    np.multiply(y[:, None], product[None, :], out=out)
    return out.T


def _cosine_restarts(T: Any, e0: int, n: int) -> list[int]:
    """Rows ``i`` (epoch ``e0 + 1 + i``) with ``(epoch - 1 - T_max) % (2 T_max) == 0``: one every ``2 T_max`` rows,
    found without a pass over the rows when ``T_max`` is whole."""
    if isinstance(T, (int, np.integer)) or (isinstance(T, float) and T.is_integer()):
        t = int(T)
        if t > 0:
            return list(range((t - e0) % (2 * t), n, 2 * t))
    e = epochs(e0, n)
    return np.flatnonzero(((e - 1 - T) % (2 * T)) == 0).tolist()


def _r_cosine(s: Any, lr: np.ndarray) -> np.ndarray:
    return np.asarray(s.eta_min + (base_lrs(s) - s.eta_min) * (1 + math.cos(0.0)) / 2, dtype=np.float64)


def _no_floor(s: Any, ratios: np.ndarray) -> bool:
    return bool(s.eta_min == 0)  # an absolute floor is the same for every group: they no longer scale together


register(
    SchedulerRecord(
        tls.CosineAnnealingLR,
        shape="decay",
        horizon_arg="T_max",
        arg_types={"T_max": int, "eta_min": float},
        periodic=True,
        decay_hint=lambda s: (
            f"eta_min={s.eta_min:g} is the cosine's final LR; it must be below the starting LR to decay. "
            "Use a smaller eta_min (e.g. 0)."
        ),
        kernel=_k_cosine,
        reset0=_r_cosine,
        scales=_no_floor,
    )
)


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


def _k_warm_restarts(s: Any, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    t_cur = np.empty(n, dtype=np.float64)
    t_i = np.empty(n, dtype=np.float64)
    cur, ti, mult = s.T_cur, s.T_i, s.T_mult
    if not isinstance(cur, int) or not isinstance(ti, int):
        raise Unsupported("fractional T_cur")
    cur, ti = _warm_advance(cur, ti, mult, e0 - s.last_epoch)  # a later chunk starts e0 - last_epoch steps on
    pos = 0
    for first, cycle, m in _warm_pieces(cur, ti, mult, n):
        t_cur[pos : pos + m] = np.arange(first, first + m)
        t_i[pos : pos + m] = cycle
        pos += m
    base = base_lrs(s)
    eta = s.eta_min
    return np.asarray(eta + (base[None, :] - eta) * (1 + np.cos(np.pi * t_cur / t_i))[:, None] / 2, dtype=np.float64)


register(
    SchedulerRecord(
        tls.CosineAnnealingWarmRestarts,
        shape="cyclic",
        horizon_arg="T_0",
        arg_types={"T_0": int, "T_mult": int, "eta_min": float},
        kernel=_k_warm_restarts,
        closed_form=True,
        scales=_no_floor,
    )
)
