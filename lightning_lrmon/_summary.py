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

__all__ = ["format_markdown", "format_summary", "plan_points"]


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


def plan_points(lrs: np.ndarray, max_points: int = 1000) -> np.ndarray:
    """Row indices to log for the planned series: at most ~``max_points``, keeping every jump and both ends.

    A row is kept when it starts a change of slope (so straight stretches collapse to their ends) or lies on a
    uniform grid of ``max_points // 2`` rows where the LR moves (a cosine over millions of steps bends less than
    float noise per step); past ``max_points`` the first kept row of each of ``max_points`` equal stretches stays,
    and every row around a jump (a change larger than 5% of the range in one step) stays too.

    Example:
        >>> import numpy as np
        >>> lrs = np.concatenate([np.full(5000, 1.0), np.full(5000, 0.1)])[:, None]
        >>> plan_points(lrs).tolist()
        [0, 4999, 5000, 9999]
    """
    n = lrs.shape[0]
    if n <= 2:
        return np.arange(n)
    x = np.nan_to_num(lrs, nan=0.0)
    d = np.diff(x, axis=0)
    span = float(np.ptp(x)) or 1.0
    bend = np.any(np.abs(np.diff(d, axis=0)) > span * 1e-12, axis=1)
    keep = np.zeros(n, dtype=bool)
    keep[[0, n - 1]] = True
    keep[1:-1] |= bend
    if n > max_points:  # long runs: moving stretches may be too gentle to "bend" in float64
        grid = np.linspace(0, n - 2, max_points // 2).astype(np.int64)
        keep[grid[np.any(d[grid] != 0, axis=1)]] = True
    jumps = np.flatnonzero(np.any(np.abs(d) > 0.05 * span, axis=1))
    stride_mask = keep.copy()
    count = int(keep.sum())
    if count > max_points:  # thin by position: the first kept row of each of max_points equal stretches
        idx = np.flatnonzero(keep)
        bucket = (idx * max_points) // n
        stride_mask = np.zeros(n, dtype=bool)
        stride_mask[idx[np.r_[True, bucket[1:] != bucket[:-1]]]] = True
        stride_mask[[0, n - 1]] = True
    stride_mask[jumps] = True
    stride_mask[np.minimum(jumps + 1, n - 1)] = True
    return np.flatnonzero(stride_mask)
