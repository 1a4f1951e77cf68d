"""The checks of a schedule's values and shape: invalid LRs, a decay that rises, jumps, collapsed groups."""

from __future__ import annotations

import numpy as np

from lightning_lrmon._findings import Finding
from lightning_lrmon._review.context import JUMP_PEAK_FRACTION, CheckContext, Segment, finding
from lightning_lrmon._schedulers import describe, lookup
from lightning_lrmon._simulation.columns import JUMP_RATIO

__all__ = ["check_decay_increases", "check_groups_collapsed", "check_lr_invalid", "check_lr_jump"]


def check_lr_invalid(ctx: CheckContext) -> list[Finding]:
    cols = ctx.cols
    bad_chunks = np.flatnonzero(~(cols.finite & cols.nonneg).all(axis=1))  # NaN fails `>= 0`
    if cols.n == 0 or bad_chunks.size == 0:
        return []
    j = int(bad_chunks[0])
    x = cols.chunk(j)
    k, g = np.argwhere(~np.isfinite(x) | (x < 0))[0].tolist()
    value = float(x[k, g])
    k += int(cols.bounds[j])
    prev = f" (step {ctx.at(k - 1)}: {float(cols.row(k - 1)[g]):.4g})" if k > 0 else ""
    msg = (
        f"{describe(ctx.scheduler)} gives {ctx.where(g)} an invalid LR {value!r} at step {ctx.at(k)}{prev}; "
        "training with it diverges or fails."
    )
    hint = (
        "if a LambdaLR formula goes past its domain (e.g. 1 - step/total after total), clamp it "
        "(max(0.0, ...)) or make its horizon match the run's steps" + (" ('auto')." if ctx.auto_ok else ".")
    )
    return [finding(ctx, "lr-invalid", "error", msg, k, hint, group=g)]


def _rise_finding(ctx: CheckContext, seg: Segment, g: int, k: int, stop: int) -> Finding:
    """The ``decay-increases`` finding for the rise of group ``g`` that starts at row ``k`` and goes on while the LR
    does not fall, before row ``stop`` (claims its steps)."""
    cols = ctx.cols
    j = stop - 1
    for row0, x in cols.windows(k + 1, stop, g, None):
        with np.errstate(invalid="ignore"):
            falls = np.flatnonzero(~(x[1:] >= x[:-1]))
        if falls.size:
            j = row0 + int(falls[0])
            break
    j = max(j, k + 1)
    a, b = float(cols.row(k)[g]), float(cols.row(j)[g])
    step = k
    info = lookup(seg.scheduler)
    hint = (
        info.decay_hint(seg.scheduler)
        if info
        else ("change the arguments so the LR never rises, or pass expect= with the shape you intend.")
    )
    declared = "declared" if ctx.expect else "documented"
    what = {"decay": "a decay", "warmup_decay": "a warmup followed by a decay"}[seg.shape or "decay"]
    msg = (
        f"{describe(seg.scheduler)} on {ctx.where(g)} is {declared} as {what} but raises the LR from "
        f"{a:.4g} to {b:.4g} ({b / a if a else float('inf'):.3g}x) over steps "
        f"{ctx.at(step)}-{ctx.at(j)} "
        f"({j - k} step{'s' if j - k != 1 else ''})."
    )
    ctx.claim(k, j, g)
    return finding(ctx, "decay-increases", "warning", msg, step, hint, group=g, lr_from=a, lr_to=b)


def check_decay_increases(ctx: CheckContext) -> list[Finding]:
    cols, limit = ctx.cols, ctx.cols.n
    if ctx.sim.error_step is not None:  # torch's last steps before a crash are not a shape
        limit = min(limit, max(ctx.sim.error_step - 2, 0))
    for seg in ctx.segments:
        if seg.shape not in ("decay", "warmup_decay"):
            continue
        start, stop = seg.start, min(seg.stop, limit)
        if stop - start < 2:
            continue
        for g in range(cols.groups):
            offset = start
            if seg.shape == "warmup_decay":
                if not cols.all_finite(start, stop, g):
                    continue
                offset = cols.first_at_least(start, stop, g, cols.max(start, stop, g) * (1 - 1e-9)) or start
            k = next((k for k in cols.rises(offset, stop, g) if not ctx.claimed(g, k)), None)
            if k is not None:
                return [_rise_finding(ctx, seg, g, k, stop)]
    return []


def check_lr_jump(ctx: CheckContext) -> list[Finding]:
    cols, n = ctx.cols, ctx.cols.n
    if n < 2 or any(seg.shape == "cyclic" for seg in ctx.segments) or ctx.expect in ("cyclic", "warmup"):
        return []
    if not cols.double.any():  # cheap pre-filter: no step even doubles the LR
        return []
    for g in range(cols.groups):
        if not cols.finite[:, g].all():
            continue
        peak = float(cols.mx[:, g].max())
        if peak <= 0:
            continue
        k = _first_jump(ctx, g, peak)
        if k is None:
            continue
        a, b = float(cols.row(k)[g]), float(cols.row(k + 1)[g])
        phase = ""
        record = lookup(ctx.scheduler)
        if record is not None and record.phases is not None:
            phase = f" at a {record.name} milestone (the next scheduler starts again from the base LR)"
        msg = (
            f"{describe(ctx.scheduler)} on {ctx.where(g)} jumps the LR from {a:.4g} to {b:.4g} "
            f"({b / a if a else float('inf'):.3g}x) in one step, at step {ctx.at(k + 1)}{phase}."
        )
        hint = (
            "make the next phase continue from where the previous one ended (e.g. a ConstantLR/LinearLR "
            "factor equal to the decayed ratio), or end the decay at the run's end instead of resetting."
        )
        return [finding(ctx, "lr-jump", "warning", msg, k + 1, hint, group=g, lr_from=a, lr_to=b)]
    return []


def _first_jump(ctx: CheckContext, g: int, peak: float) -> int | None:
    """The first unclaimed row after which group ``g``'s LR, having come down from its running max, at least
    doubles by a good part of its peak (only chunks with a doubling pair are read)."""
    cols = ctx.cols
    for row0, x in cols.windows(0, cols.n, g, cols.double[:, g]):
        j = cols.chunk_of(row0 + 1)
        before = float(cols.mx[:j, g].max()) if j else -np.inf  # the running max up to the chunk
        run_max = np.maximum.accumulate(np.maximum(x, before))
        prev, nxt = x[:-1], x[1:]
        came_down = prev < run_max[:-1] * (1 - 1e-9)
        jump = came_down & (nxt >= prev * JUMP_RATIO) & (nxt - prev >= JUMP_PEAK_FRACTION * peak)
        for i in np.flatnonzero(jump).tolist():
            if not ctx.claimed(g, row0 + i):
                return row0 + i
    return None


def _share_one_lr(ctx: CheckContext, first: np.ndarray) -> bool:
    """Every group gets the same LR at every step."""
    if ctx.ratios is not None:  # proportional groups (also from a warmup at 0): one LR exactly when every ratio is 1
        return bool(np.allclose(ctx.ratios, 1.0, rtol=1e-12, atol=0))
    return bool(np.allclose(first, first[0], rtol=1e-12, atol=0) and ctx.cols.all_same())


def check_groups_collapsed(ctx: CheckContext) -> list[Finding]:
    if ctx.cols.n == 0:
        return []
    first = ctx.cols.row(0) if ctx.ratios is None else ctx.cols.row(0)[:1] * ctx.ratios
    configured = ctx.configured_lrs
    if configured is None:
        configured = [float(b) for b in getattr(ctx.scheduler, "base_lrs", [])]
    if len(configured) < 2 or first.shape[0] < 2:
        return []
    cfg = np.asarray(configured, dtype=np.float64)
    if np.allclose(cfg, cfg[0], rtol=1e-9, atol=0):
        return []
    if not _share_one_lr(ctx, first):
        return []
    s = ctx.scheduler
    record = lookup(s)
    if record is not None and record.collapse_fix is not None:
        peak = float(np.fmax.reduce(ctx.cols.mx, axis=None)) * (
            float(ctx.ratios.max()) if ctx.ratios is not None else 1.0
        )
        fix = record.collapse_fix(s, peak, [float(c) for c in cfg])
    else:
        fix = "build the schedule from each group's own LR (group['initial_lr']) rather than one global value."
    msg = (
        f"{describe(s)} on {ctx.optimizer_label}: the param groups were configured with different LRs "
        f"{[float(f'{c:.4g}') for c in cfg]} but all get the same LR ({float(first[0]):.4g} at step 0)."
    )
    return [finding(ctx, "groups-collapsed", "warning", msg, 0, fix)]
