"""The planned series: which simulated rows become ``planned/<tag>`` points, at which optimizer steps.

A short run gets every step (the planned line lies under the actual one under any smoothing); a long one a few
hundred rows per group from ``SeriesSketch``, which sees the rows once, in chunks, as they are simulated.

Examples:
    >>> import numpy as np
    >>> from lightning_lrmon._simulation.columns import Columns
    >>> cols = Columns.of_array(np.array([[1.0], [1.0], [0.5]]))
    >>> series = planned_series(cols, None, lambda rows: rows * 2, None)
    >>> series.steps.tolist(), series.values[:, 0].tolist()
    ([0, 1, 2, 3, 4, 5], [1.0, 1.0, 1.0, 1.0, 0.5, 0.5])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lightning_lrmon._simulation.columns import Columns

__all__ = [
    "DENSE_PLAN_VALUES",
    "NO_SERIES",
    "PLAN_POINTS",
    "PlannedSeries",
    "RowSteps",
    "SeriesSketch",
    "planned_series",
]

#: row indices -> the optimizer step that first uses each row
RowSteps = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class PlannedSeries:
    """Points of the planned series (``planned/<tag>`` in TensorBoard): ``steps[i]`` is an optimizer step,
    ``values[i]`` the LRs of the groups there."""

    steps: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.steps.shape[0])

    def __repr__(self) -> str:
        """Short: how many points, not the arrays."""
        groups = self.values.shape[1] if self.values.ndim == 2 else 0
        return f"PlannedSeries({len(self)} points x {groups} groups)"


NO_SERIES = PlannedSeries(np.empty(0, dtype=np.int64), np.empty((0, 0)))


#: up to this many values (steps x groups) the plan is written at every optimizer step, like the actual series, so
#: the two lines overlap under any smoothing; past it, a few hundred points per group
DENSE_PLAN_VALUES = 200_000


def _dense(n: int, groups: int, row_steps: RowSteps) -> bool:
    span = int(row_steps(np.asarray([n]))[0] - row_steps(np.asarray([0]))[0])
    return span * max(1, groups) <= DENSE_PLAN_VALUES


def _plan_rows(cols: Columns, sketch: SeriesSketch | None, dense: bool) -> tuple[np.ndarray, np.ndarray]:
    """The plan's rows and their values: every row of a short run; else the sketch fed while simulating (or, when it
    did not see exactly these rows, one fed now from the chunks)."""
    n = cols.n
    if dense:
        return np.arange(n), cols.rows(0, n)
    if sketch is None or sketch.n != n or sketch.at != n:  # the run was cut short (a step error)
        sketch = SeriesSketch(n)
        for j in range(cols.chunks):
            sketch.feed(cols.chunk(j))
    return sketch.finish()


def planned_series(
    cols: Columns, sketch: SeriesSketch | None, row_steps: RowSteps, ratios: np.ndarray | None
) -> PlannedSeries:
    """Plan points: every step for short runs (see ``DENSE_PLAN_VALUES``), else the rows
    ``SeriesSketch`` keeps; a row held over several optimizer steps (epoch interval,
    frequency) gets every step or both ends. Built with numpy: a dense plan of a few hundred thousand points costs
    milliseconds, not a Python loop."""
    n = cols.n
    if n == 0:
        return NO_SERIES
    dense = _dense(n, cols.groups, row_steps)
    rows, values = _plan_rows(cols, sketch, dense)
    starts = row_steps(rows).astype(np.int64)
    ends = row_steps(np.minimum(rows + 1, n)).astype(np.int64)  # first step of the next row
    held = np.maximum(ends - starts, 1)
    counts = held if dense else 1 + (held > 1)  # every step of the row, or its first and last
    which = np.repeat(np.arange(rows.shape[0]), counts)
    pos = np.arange(which.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)  # index within the row
    steps = starts[which] + (pos if dense else pos * (held[which] - 1))
    if ratios is not None:
        values = values[:, :1] * ratios[None, :]
    return PlannedSeries(steps, values[which])


#: rows of the planned series of a long run (a few hundred: a smooth line in TensorBoard), besides jumps' rows
PLAN_POINTS = 400


class SeriesSketch:
    """The rows of the planned series and their values, from the run's rows fed once, in order, in any chunks.

    At most ~``max_points`` rows, keeping every jump and both ends. A row is kept when it starts a change of slope
    (so straight stretches collapse to their ends) or lies on a uniform grid of ``max_points // 2`` rows where the LR
    moves (a cosine over millions of steps bends less than float noise per step); past ``max_points`` the first kept
    row of each of ``max_points`` equal stretches stays, and both rows of every jump stay too. A bend is a second
    difference above ``1e-12`` and a jump a step above ``0.05`` times the span (``ptp``, NaN as 0) of the rows up to
    it: a rule of each row and the rows before it, so the result does not depend on how the rows are chunked, and
    nothing but the kept rows is held.

    Examples:
        >>> import numpy as np
        >>> sketch = SeriesSketch(4)
        >>> for x in (np.array([[1.0], [1.0]]), np.array([[0.5], [0.5]])):
        ...     sketch.feed(x)
        >>> rows, values = sketch.finish()
        >>> rows.tolist(), values[:, 0].tolist()
        ([0, 1, 2, 3], [1.0, 1.0, 0.5, 0.5])
    """

    def __init__(self, n: int, max_points: int = PLAN_POINTS) -> None:
        self.n, self.max_points = n, max_points
        self.grid = np.linspace(0, n - 2, max_points // 2).astype(np.int64) if n > max_points else np.empty(0, np.int64)
        self.reset()

    def reset(self) -> None:
        """Forget every row fed (a simulation that starts again from row 0)."""
        self.lo, self.hi = np.inf, -np.inf  # over the rows fed so far (NaN as 0)
        self.at = 0  # rows fed so far
        self.prev: np.ndarray | None = None  # the last two rows fed
        self.base: list[tuple[np.ndarray, np.ndarray]] = []  # (rows, values) while there are few
        self.jumps: list[tuple[np.ndarray, np.ndarray]] = []
        self.ends: list[tuple[np.ndarray, np.ndarray]] = []  # rows 0 and n - 1
        self.firsts: dict[int, tuple[int, np.ndarray]] = {}  # bucket -> its first kept row
        self.count = 0

    def feed(self, x: np.ndarray) -> None:
        """The next rows, in order."""
        with np.errstate(over="ignore", invalid="ignore"):  # an inf LR (lr-invalid's business) overflows a difference
            self._feed(x)

    def _feed(self, x: np.ndarray) -> None:
        s, e = self.at, self.at + x.shape[0]
        self.at = e
        if x.shape[0] == 0:
            return
        xx = x if self.prev is None else np.concatenate([self.prev, x])
        self.prev = xx[-2:]
        r0 = e - xx.shape[0]  # the row of xx[0]
        top, low = _row_max(xx), _row_min(xx)  # a NaN or an inf anywhere shows in its row's extremes
        if np.isfinite(top).all() and np.isfinite(low).all():
            zz = xx
        else:
            zz = np.nan_to_num(xx, nan=0.0)
            top, low = _row_max(zz), _row_min(zz)
        span = _Span(top, low, self.lo, self.hi)
        self.lo, self.hi = span.lo, span.hi
        d = np.diff(zz, axis=0)  # d[i]: from row r0 + i to the next
        i_lo, i_hi = max(s - 1, 0) - r0, e - 2 - r0  # xx indices whose bend and step are first known now
        ends = np.asarray([r - r0 for r, new in ((0, s == 0), (self.n - 1, e == self.n)) if new], dtype=np.int64)
        kept = [ends]
        a, b = max(i_lo, 1, 1 - r0), min(i_hi, self.n - 2 - r0)
        if b >= a:  # bends at xx index i: |d[i] - d[i - 1]| against the span of the rows up to i + 1
            bend = np.diff(d[a - 1 : b + 1], axis=0)
            kept.append(a + span.above(_row_max(np.abs(bend, out=bend)), a + 1, 1e-12))
        g = self.grid[(self.grid >= max(s - 1, 0)) & (self.grid <= e - 2)] - r0
        if g.size:  # grid rows where the LR moves
            kept.append(g[np.any(d[g] != 0, axis=1)])
        mask = np.zeros(xx.shape[0], dtype=bool)
        for k in kept:
            mask[k] = True
        rows = np.flatnonzero(mask)
        self._keep(r0 + rows, xx[rows])
        if ends.size:
            self.ends.append((r0 + ends, xx[ends]))
        if i_hi >= i_lo:  # steps from xx index i against the span of the rows up to i + 1 (d is not read after)
            i = i_lo + span.above(_row_max(np.abs(d[i_lo : i_hi + 1], out=d[i_lo : i_hi + 1])), i_lo + 1, 0.05)
            if i.size:
                self.jumps += [(r0 + i, xx[i]), (np.minimum(r0 + i + 1, self.n - 1), xx[i + 1])]

    def _keep(self, rows: np.ndarray, values: np.ndarray) -> None:
        if rows.size == 0:
            return
        self.count += rows.size
        if self.count <= self.max_points:
            self.base.append((rows, values))
        buckets = (rows * self.max_points) // self.n  # rows are sorted: each bucket's first row starts a run
        at = np.flatnonzero(np.concatenate([[True], buckets[1:] != buckets[:-1]]))
        for b, i in zip(buckets[at].tolist(), at.tolist()):
            if b not in self.firsts:
                self.firsts[b] = (int(rows[i]), values[i].copy())  # a copy: a view would keep the whole chunk

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, values)`` of the plan, sorted by row."""
        parts = list(self.jumps) + list(self.ends)
        if self.count > self.max_points:  # thin by position: the first kept row of each of max_points stretches
            firsts = sorted(self.firsts.values(), key=lambda rv: rv[0])
            parts.append((np.asarray([r for r, _ in firsts]), np.asarray([v for _, v in firsts])))
        else:
            parts += self.base
        parts = [(r, v) for r, v in parts if r.size]
        if not parts:
            return np.empty(0, dtype=np.int64), np.empty((0, 0))
        rows, at = np.unique(np.concatenate([r for r, _ in parts]).astype(np.int64), return_index=True)
        return rows, np.concatenate([v for _, v in parts])[at]


def _row_max(x: np.ndarray) -> np.ndarray:
    """Each row's max (the column itself for one group)."""
    return np.asarray(x[:, 0] if x.shape[1] == 1 else x.max(axis=1))


def _row_min(x: np.ndarray) -> np.ndarray:
    """Each row's min (the column itself for one group)."""
    return np.asarray(x[:, 0] if x.shape[1] == 1 else x.min(axis=1))


class _Span:
    """The span (``ptp``) of every row up to each row of a chunk, from each row's extremes ``top``/``low`` and the
    ``lo``/``hi`` of the rows before it.

    ``above`` tests magnitudes against it from two bounds (the span before the chunk and after it) and computes
    the running span only for the few values between them: most chunks of a long run never need it.
    """

    def __init__(self, top: np.ndarray, low: np.ndarray, lo: float, hi: float) -> None:
        self.lo0, self.hi0 = lo, hi
        self.top, self.low = top, low
        self.lo, self.hi = min(lo, float(self.low.min())), max(hi, float(self.top.max()))
        self._running: np.ndarray | None = None

    def above(self, mag: np.ndarray, at: int, factor: float) -> np.ndarray:
        """Indices ``k`` with ``mag[k] > factor x`` the span of the rows up to index ``at + k`` of the chunk."""
        before = self.hi0 - self.lo0 if self.hi0 >= self.lo0 else 0.0  # the span only grows along the rows
        cand = np.flatnonzero(mag > factor * before)
        if cand.size == 0 or bool(np.all(mag[cand] > factor * (self.hi - self.lo))):
            return cand
        if self._running is None:
            hi = np.maximum.accumulate(np.maximum(self.top, self.hi0))
            lo = np.minimum.accumulate(np.minimum(self.low, self.lo0))
            self._running = hi - lo
        return cand[mag[cand] > factor * self._running[at + cand]]
