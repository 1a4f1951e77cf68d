"""``plot``: look at a schedule from Python (a notebook) — a scheduler, a spec, or a fitted ``LRMonitor``.

Returns a matplotlib ``Figure`` (the ``plot`` extra: ``pip install 'lightning-lrmon[plot]'``), built without pyplot,
so it works headless and a notebook shows it. Findings are marked where they have a step.

Examples:
    >>> import torch
    >>> from torch.optim.lr_scheduler import LinearLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    >>> fig = plot(LinearLR(opt, start_factor=0.5, total_iters=100), steps=100)
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:1], fig.axes[0].get_title()[:8]
    (['group 0'], 'LinearLR')
    >>> fig = plot({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}}, steps=50, lr=0.1)
    >>> round(float(fig.axes[0].get_lines()[0].get_ydata()[-1]), 6)
    9.9e-05
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from lightning_lrmon._findings import Finding
    from lightning_lrmon._review.pipeline import Review

__all__ = ["plot"]


def _figure(panels: int) -> tuple[Figure, list[Axes]]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plot() needs matplotlib: pip install 'lightning-lrmon[plot]'") from None
    fig = Figure(figsize=(9, 3.2 * panels), layout="constrained")
    return fig, [fig.add_subplot(panels, 1, i + 1) for i in range(panels)]


def _mark(ax: Axes, findings: Sequence[Finding]) -> None:
    for f in findings:
        if f.step is not None:
            ax.axvline(f.step, color="crimson", linestyle="--", linewidth=1)
            ax.annotate(
                f.code,
                (f.step, 1.0),
                xycoords=("data", "axes fraction"),
                color="crimson",
                fontsize=8,
                textcoords="offset points",
                xytext=(4, -12),
            )


def _decorate(ax: Axes, title: str, log: bool = False) -> None:
    ax.set_title(textwrap.fill(title, 100), fontsize=9)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3)
    if ax.get_lines():
        ax.legend(fontsize=8)


def _scheduler_figure(scheduler: Any, steps: int, log: bool = False) -> Figure:
    from lightning_lrmon._review.pipeline import check_schedule
    from lightning_lrmon._schedulers import describe
    from lightning_lrmon._simulation.simulate import simulate_schedule

    lrs = simulate_schedule(scheduler, steps)
    fig, (ax,) = _figure(1)
    for g in range(lrs.shape[1]):
        ax.plot(np.arange(lrs.shape[0]), lrs[:, g], label=f"group {g}")
    _mark(ax, check_schedule(scheduler, steps))
    _decorate(ax, describe(scheduler), log)
    return fig


def _spec_figure(spec: Any, steps: int, lr: float, log: bool = False) -> Figure:
    import torch

    from lightning_lrmon._spec.build import build_scheduler

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(0))], lr=lr)
    return _scheduler_figure(build_scheduler(spec, opt, total_steps=steps, where="plot"), steps, log)


def _actual(
    event_file: str | None, tags: Sequence[str], kept: Mapping[str, tuple[np.ndarray, np.ndarray]]
) -> Mapping[str, tuple[np.ndarray, np.ndarray]]:
    """The logged LR per tag, read back from the event file with tensorboard's own loader; without one (a CSV,
    MLflow or W&B logger), what the monitor kept of what it logged."""
    if event_file is None:
        return kept
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(event_file, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    known = set(acc.Tags().get("scalars", []))
    out = {}
    for tag in tags:
        if tag in known:
            events = acc.Scalars(tag)
            out[tag] = (np.asarray([e.step for e in events]), np.asarray([e.value for e in events]))
    return out


def _monitor_figure(monitor: Any, log: bool) -> Figure:
    reviews: Sequence[Review] = monitor.reviews
    fig, axes = _figure(max(1, len(reviews)))
    for ax, r in zip(axes, reviews):
        tags = [g.tag for g in r.groups]
        actual = _actual(monitor.event_file, tags, monitor.logged)
        for g, tag in enumerate(tags):
            if len(r.plan) and r.plan.values.shape[1] > g:
                ax.plot(r.plan.steps, r.plan.values[:, g], linestyle="--", label=f"planned {tag}")
            if tag in actual:
                ax.plot(*actual[tag], label=f"actual {tag}")
        _mark(ax, r.findings)
        _decorate(ax, f"{r.label}: {r.scheduler}", log)
    return fig


def plot(source: Any, steps: int | None = None, *, lr: float = 1.0, log: bool = False) -> Figure:
    """A matplotlib figure of a schedule: the LR of every param group per optimizer step, findings marked.

    Args:
        source: a torch LR scheduler (simulated from its current state, never stepped), a spec as ``LRMonitor``
            takes it (``class_path``/``init_args`` dict, YAML, or a callable; ``"auto"`` binds to ``steps``), or a
            fitted ``LRMonitor`` or a ``LoopMonitor`` (its planned series against the LRs it logged, one panel per
            optimizer: read back from its TensorBoard event file, or kept by the monitor with any other logger).
        steps: optimizer steps to draw (required for a scheduler or a spec).
        lr: the optimizer LR a spec is drawn on (default 1.0: the curve reads as multiples of your LR).
        log: a logarithmic LR axis (for groups whose LRs are orders of magnitude apart).

    Returns:
        ``matplotlib.figure.Figure``.
    """
    if hasattr(source, "reviews") and hasattr(source, "logged"):  # LRMonitor, LoopMonitor
        return _monitor_figure(source, log)
    if steps is None or isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        raise ValueError(f"`steps` must be a positive number of optimizer steps to draw, got {steps!r}")
    from torch.optim import lr_scheduler as tls

    if isinstance(source, (tls.LRScheduler, tls.ReduceLROnPlateau)):
        return _scheduler_figure(source, steps, log)
    return _spec_figure(source, steps, lr, log)
