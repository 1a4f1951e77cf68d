"""The fit-start summary: one short block per scheduler, like Lightning's model summary.

Example:
    >>> from lightning_lrmon._review import GroupStats, Review
    >>> r = Review("lr-SGD", "CosineAnnealingLR(T_max=100)", "decay", "step", 100,
    ...            [GroupStats("lr-SGD", 0.1, 0.1, 0, 0.0)])
    >>> print(format_summary([r]))
    LR schedule (lightning-lrmon)
      lr-SGD  CosineAnnealingLR(T_max=100)
        shape decay, 100 scheduler steps (interval=step)
        lr-SGD: 0.1 -> peak 0.1 @0 -> 0 (end)
        no findings
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lightning_lrmon._review import Review

__all__ = ["PASS_ROWS", "format_markdown", "format_summary", "plan_points", "row_ranges"]


def format_summary(reviews: Sequence[Review]) -> str:
    """Plain-text block for the console."""
    lines = ["LR schedule (lightning-lrmon)"]
    for r in reviews:
        lines.append(f"  {r.label}  {r.scheduler}")
        lines.append(f"    shape {r.shape}, {r.steps} scheduler steps (interval={r.interval})")
        lines.extend(f"    {g.line()}" for g in r.groups)
        lines.extend(f"    note: {n}" for n in r.notes)
        if r.findings:
            lines.extend(f"    ! {f.code}" + (f" (step {f.step})" if f.step is not None else "") for f in r.findings)
        else:
            lines.append("    no findings")
    return "\n".join(lines)


def format_markdown(reviews: Sequence[Review]) -> str:
    """Markdown for TensorBoard's Text tab (the findings in full).

    Example:
        >>> format_markdown([]).splitlines()[0]
        '### LR schedule (lightning-lrmon)'
    """
    lines = ["### LR schedule (lightning-lrmon)", ""]
    for r in reviews:
        lines.append(
            f"**{r.label}**: `{r.scheduler}` — shape {r.shape}, {r.steps} scheduler steps (interval={r.interval})"
        )
        lines.append("")
        lines.extend(f"- {g.line()}" for g in r.groups)
        lines.extend(f"- note: {n}" for n in r.notes)
        lines.append("")
        for f in r.findings:
            at = f" (step {f.step})" if f.step is not None else ""
            lines.append(f"- **{f.code}**{at}: {f.message} *Fix:* {f.hint}")
        if not r.findings:
            lines.append("- no findings")
        lines.append("")
    return "\n".join(lines)


#: rows a chunked pass over a simulated matrix handles at once (its temporaries stay a few MiB)
PASS_ROWS = 1 << 16


def row_ranges(n: int, rows: int = PASS_ROWS) -> list[tuple[int, int]]:
    """``[a, b)`` ranges of at most ``rows`` rows covering ``range(n)``.

    Example:
        >>> row_ranges(5, 2)
        [(0, 2), (2, 4), (4, 5)]
    """
    return [(a, min(a + rows, n)) for a in range(0, n, rows)]


def plan_points(lrs: np.ndarray, max_points: int = 1000) -> np.ndarray:
    """Row indices to log for the planned series: at most ~``max_points``, keeping every jump and both ends.

    A row is kept when it starts a change of slope (so straight stretches collapse to their ends) or lies on a
    uniform grid of ``max_points // 2`` rows where the LR moves (a cosine over millions of steps bends less than
    float noise per step); past ``max_points`` the first kept row of each of ``max_points`` equal stretches stays,
    and every row around a jump (a change larger than 5% of the range in one step) stays too. Computed in chunks
    of :data:`PASS_ROWS` rows: the temporaries stay small however long the run is.

    Example:
        >>> import numpy as np
        >>> lrs = np.concatenate([np.full(5000, 1.0), np.full(5000, 0.1)])[:, None]
        >>> plan_points(lrs).tolist()
        [0, 4999, 5000, 9999]
    """
    n = lrs.shape[0]
    if n <= 2:
        return np.arange(n)
    span = _span(lrs) or 1.0
    grid = np.linspace(0, n - 2, max_points // 2).astype(np.int64) if n > max_points else np.empty(0, np.int64)
    kept: list[np.ndarray] = []  # every kept row while there are few; past max_points only the bucket firsts
    firsts: dict[int, int] = {}
    count = 0
    jumps: list[np.ndarray] = []
    for a, b in row_ranges(n - 1):  # d[i] = x[i+1] - x[i] for i in [a, b)
        x = np.nan_to_num(lrs[max(a - 1, 0) : b + 1], nan=0.0)
        d = np.diff(x, axis=0)
        lead = 1 if a > 0 else 0  # d[a-1] is there too, for the second difference at row a
        rows = _kept_rows(a, b, n, d, lead, span, grid)
        jumps.append(a + np.flatnonzero(np.any(np.abs(d[lead:]) > 0.05 * span, axis=1)))
        count += rows.size
        if count <= max_points:
            kept.append(rows)
        buckets, at = np.unique((rows * max_points) // n, return_index=True)  # rows are sorted
        for bucket, r in zip(buckets.tolist(), rows[at].tolist()):
            firsts.setdefault(bucket, r)
    keep = np.zeros(n, dtype=bool)
    if count > max_points:  # thin by position: the first kept row of each of max_points equal stretches
        keep[list(firsts.values())] = True
    else:
        keep[np.concatenate(kept)] = True
    keep[[0, n - 1]] = True
    j = np.concatenate(jumps)
    keep[j] = True
    keep[np.minimum(j + 1, n - 1)] = True
    return np.flatnonzero(keep)


def _span(lrs: np.ndarray) -> float:
    """``ptp`` of the matrix with NaN as 0, in chunks."""
    lo, hi = np.inf, -np.inf
    for a, b in row_ranges(lrs.shape[0]):
        x = np.nan_to_num(lrs[a:b], nan=0.0)
        lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
    return hi - lo


def _kept_rows(a: int, b: int, n: int, d: np.ndarray, lead: int, span: float, grid: np.ndarray) -> np.ndarray:
    """Rows of ``[a, b]`` kept for a bend (second difference above float noise), the ends, or the grid."""
    mask = np.zeros(b - a + 1, dtype=bool)  # rows a..b
    bend = np.flatnonzero(np.any(np.abs(np.diff(d, axis=0)) > span * 1e-12, axis=1)) + (1 - lead)
    mask[bend[(bend + a >= 1) & (bend + a <= n - 2)]] = True
    mask[0] |= a == 0
    mask[-1] |= b == n - 1
    g = grid[(grid >= a) & (grid < b)]
    if g.size:
        mask[g[np.any(d[g - a + lead] != 0, axis=1)] - a] = True
    return a + np.flatnonzero(mask)
