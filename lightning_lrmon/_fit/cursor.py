"""The plan read step by step: a window of planned rows at a time (bounded memory at any run length), so the LR each
step used can be held against its planned value at every step it is read, for well under a microsecond.

Examples:
    >>> import numpy as np
    >>> class Plan:
    ...     def rows(self, a, b): return np.array([[0.1 / (k + 1)] for k in range(a, min(b, 100))])
    >>> cursor = PlanCursor(Plan(), groups=1)
    >>> cursor.at(3), cursor.at(100)
    ([0.025], None)
    >>> parted([0.025], [0.025]), parted([0.0250000001], [0.025]), parted([0.03], [0.025])
    (False, False, True)
    >>> parted_groups([0.1, 0.03], [0.1, 0.025])
    [1]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["EpochRows", "PlanCursor", "parted", "parted_groups"]

#: planned values held at a time (a window of rows): 4096 floats, whatever the number of groups
_WINDOW_VALUES = 4096
#: float noise between a planned and an applied LR: a relative 1e-6 (closed forms against torch's recursive updates)
_NOISE = 1e-6
#: and an absolute 1e-12 near 0, where a closed form and a recursion part by a few ulps of the base LR (a cosine's
#: end: 5.6e-18 against torch 2.3's 0.0)
_TINY = 1e-12


class PlanCursor:
    """Row ``k`` of a plan (anything with ``rows(a, b)``), read forward a window at a time.

    Args:
        plan: the plan (``PlanRows``).
        groups: the param groups of a row (sizes the window).
    """

    def __init__(self, plan: Any, groups: int) -> None:
        self._plan = plan
        self._window = max(16, _WINDOW_VALUES // max(1, groups))
        #: the window: rows ``[a, a + len(rows))`` of the plan (the per-step path reads ``rows[n - 1 - a]`` for the
        #: ``n``-th step counted)
        self.a = 0
        self.rows: list[list[float]] = []
        #: the window's rows, and the first group's planned LR less and plus float noise at each (the per-step path
        #: holds the first group inside ``[lo[i], hi[i]]`` with two comparisons and no call)
        self.size = 0
        self.lo: list[float] = []
        self.hi: list[float] = []

    def at(self, k: int) -> list[float] | None:
        """Each group's planned LR at row ``k`` (``None`` past the plan, or when it cannot be read)."""
        i = k - self.a
        rows = self.rows
        if 0 <= i < len(rows):
            return rows[i]
        got = self._plan.rows(k, k + self._window) if k >= 0 else None
        if got is None or not len(got):
            return None
        got = np.asarray(got, dtype=np.float64)
        first = got[:, 0]
        noise = np.abs(first) * _NOISE + _TINY
        self.a, self.rows, self.size = k, got.tolist(), len(got)
        self.lo, self.hi = (first - noise).tolist(), (first + noise).tolist()
        return self.rows[0]


class EpochRows:
    """An epoch-interval scheduler's plan (a row per epoch) read per optimizer step: step ``k`` of the fit uses row
    ``k // steps_per_epoch``, so the run can be held against it at every step, like a per-step scheduler's.

    Examples:
        >>> import numpy as np
        >>> class Plan:
        ...     def rows(self, a, b): return np.array([[0.1 * 0.5**e] for e in range(a, min(b, 3))])
        >>> EpochRows(Plan(), 2).rows(1, 5).ravel().tolist()
        [0.1, 0.05, 0.05, 0.025]
    """

    def __init__(self, plan: Any, steps_per_epoch: int) -> None:
        self._plan, self._spe = plan, max(1, steps_per_epoch)

    def rows(self, a: int, b: int) -> np.ndarray | None:
        """Rows ``[a, b)`` by optimizer step (clipped to the plan's epochs; ``None`` when it cannot be read)."""
        spe = self._spe
        e_a, e_b = a // spe, (b - 1) // spe + 1
        got = self._plan.rows(e_a, e_b)
        if got is None or not len(got):
            return None
        per_step: np.ndarray = np.repeat(np.asarray(got, dtype=np.float64), spe, axis=0)
        return per_step[a - e_a * spe : b - e_a * spe]


def parted_groups(applied: Sequence[float], planned: Sequence[float]) -> list[int]:
    """The groups whose LR a step used parts from the planned one beyond float noise (a relative 1e-6, or 1e-12 near 0).

    Examples:
        >>> parted_groups([0.0, 0.1, 0.05], [5.6e-18, 0.1000000001, 0.1])
        [2]
    """
    close = math.isclose
    return [g for g, (a, p) in enumerate(zip(applied, planned)) if not close(a, p, rel_tol=_NOISE, abs_tol=_TINY)]


def parted(applied: Sequence[float], planned: Sequence[float]) -> bool:
    """Whether the LRs a step used part from the planned ones beyond float noise (see ``parted_groups``)."""
    return applied != planned and bool(parted_groups(applied, planned))
