"""What every kernel shares: the errors a kernel raises, torch's multiply-step-after-step, epochs, base LRs, lambdas.

A *kernel* ``kernel(s, lr, e0, n)`` returns the ``(n, G)`` LRs after each of ``n`` scheduler steps, starting from
the groups' LRs ``lr`` with the scheduler at epoch ``e0``. It reads the scheduler's attributes and never steps it.

Examples:
    >>> import numpy as np
    >>> chain(np.array([1.0, 2.0]), np.array([0.5, 0.5])).tolist()
    [[0.5, 1.0], [0.25, 0.5]]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from lightning_lrmon._schedulers.isolate import NotIsolated, isolated

__all__ = [
    "KERNEL_CANNOT",
    "NotIsolated",
    "StepError",
    "Unsupported",
    "base_lrs",
    "chain",
    "epochs",
    "isolated_or_raise",
    "lambda_table",
]


class StepError(Exception):
    """Stepping the scheduler would raise at row ``row`` (0-based within the kernel's output); ``partial`` holds the
    rows before it when the kernel knows them."""

    def __init__(self, row: int, message: str, partial: np.ndarray | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.message = message
        self.partial = partial


class Unsupported(Exception):
    """The fast path cannot reproduce this configuration exactly; use the exact-stepping fallback."""


#: what a kernel raises when it cannot read a scheduler's attributes as numbers
KERNEL_CANNOT = (TypeError, ValueError, ArithmeticError, IndexError, KeyError, AttributeError)


def chain(lr: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Apply ``lr <- lr * f`` step after step, exactly as torch does, for every group.

    ``factors`` is ``(n,)`` (same for all groups) or ``(n, G)``. The result is ``(n, G)`` laid out group by group
    (each group's column contiguous: how it is made, and how the checks reduce it).
    """
    n = factors.shape[0]
    out = np.empty((lr.shape[0], n + 1), dtype=np.float64)
    out[:, 0] = lr
    out[:, 1:] = factors if factors.ndim == 1 else factors.T
    np.multiply.accumulate(out, axis=1, out=out)  # along each row, one step after the other: torch's arithmetic
    return out[:, 1:].T


def epochs(e0: int, n: int) -> np.ndarray:
    """The scheduler epochs of the next ``n`` steps from epoch ``e0``."""
    return np.arange(e0 + 1, e0 + n + 1, dtype=np.int64)


def base_lrs(s: Any) -> np.ndarray:
    """``s.base_lrs`` as floats (a tensor base LR: the fast path does not apply)."""
    vals = []
    for b in s.base_lrs:
        if isinstance(b, torch.Tensor):
            raise Unsupported("tensor base_lr")
        vals.append(float(b))
    return np.asarray(vals, dtype=np.float64)


def _call_lambda(fn: Callable[[int], Any], at: np.ndarray) -> np.ndarray:
    """Evaluate a user lambda at every epoch (``at`` is a contiguous range).

    The lambda is first tried on the whole numpy array; that result is used only when it has the right shape and
    equals scalar calls exactly at 17 probe points (any exception, e.g. an ``if`` on an array, means scalar calls).
    """
    n = at.shape[0]
    if n == 0:
        return np.empty(0)
    if n > 64:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vec = np.asarray(fn(at), dtype=np.float64)  # type: ignore[arg-type]
            if vec.shape == (n,):
                probe = np.unique(np.linspace(0, n - 1, 17).astype(np.int64))
                scalar = np.asarray([float(fn(int(at[i]))) for i in probe])
                if np.array_equal(scalar, vec[probe], equal_nan=True):
                    return vec
        except Exception:
            pass
    first = int(at[0])
    return np.fromiter(map(fn, range(first, first + n)), dtype=np.float64, count=n)


def lambda_table(fns: Sequence[Callable[[int], Any]], at: np.ndarray) -> np.ndarray:
    """``(n, G)``: each group's lambda at the epochs ``at`` (one lambda shared by groups is evaluated once)."""
    cache: dict[int, np.ndarray] = {}
    cols = []
    for fn in fns:
        key = id(fn)
        if key not in cache:
            cache[key] = _call_lambda(fn, at)
        cols.append(cache[key])
    return np.stack(cols, axis=1) if cols else np.empty((at.shape[0], 0))


def isolated_or_raise(fn: Any) -> Any:
    """An isolated copy of a user callable (see ``lightning_lrmon._schedulers.isolate``), or ``NotIsolated``."""
    out = isolated(fn)
    if out is None:
        raise NotIsolated(f"{getattr(fn, '__qualname__', type(fn).__name__)} cannot be copied safely")
    return out
