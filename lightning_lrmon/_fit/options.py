"""LRMonitor's arguments checked and grouped: what it builds (``Options``), what it writes (``Output``), the specs.

Examples:
    >>> validate("StepLR", Options())[0].spec
    {'class_path': 'StepLR', 'init_args': {}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._spec.parse import is_per_optimizer, normalize_spec, split_per_optimizer
from lightning_lrmon._spec.resolve import resolve_class
from lightning_lrmon._vocab import INTERVALS, ON_MISCONFIG, SHAPES, Interval, check_word

__all__ = ["Options", "Output", "Spec", "check_every", "validate"]


@dataclass(frozen=True)
class Options:
    """The arguments of ``LRMonitor`` that shape the schedule it builds and how it reacts."""

    interval: str = "step"
    frequency: int = 1
    expect: str | None = None
    on_misconfig: str = "warn"
    name: str | None = None
    monitor: str | None = None


@dataclass(frozen=True)
class Output:
    """The arguments of ``LRMonitor`` that say what it writes, and where."""

    log_plan: bool = True
    log_every_n_steps: int | None = None
    logging_interval: Interval | None = None
    tensorboard_every_n_steps: int | None = None
    package: str = "lightning.pytorch"  # whose LearningRateMonitor would log the same tags


@dataclass(frozen=True)
class Spec:
    """One optimizer's spec, normalised, and how messages name it."""

    index: int
    spec: Any
    where: str


def _check_options(o: Options) -> None:
    check_word("interval", o.interval, INTERVALS)
    if isinstance(o.frequency, bool) or not isinstance(o.frequency, int) or o.frequency < 1:
        raise LRMonitorConfigError(
            f"`frequency` must be a positive int (step the scheduler every N intervals), got {o.frequency!r}."
        )
    check_word("expect", o.expect, SHAPES, none_ok=True)
    check_word("on_misconfig", o.on_misconfig, ON_MISCONFIG)


def _check_needs_scheduler(o: Options) -> None:
    given = {"interval": o.interval != "step", "frequency": o.frequency != 1, "expect": o.expect is not None}
    given |= {"name": o.name is not None, "monitor": o.monitor is not None}
    used = [k for k, v in given.items() if v]
    if used:
        raise LRMonitorConfigError(
            f"LRMonitor({', '.join(f'{k}=...' for k in used)}) without `scheduler`: these arguments describe the "
            "scheduler LRMonitor builds, and there is none. LRMonitor always logs the LR of every optimizer step "
            "(what the step used). Pass scheduler=... to build one, or drop "
            f"{' and '.join(f'`{k}`' for k in used)}; for a scheduler from configure_optimizers, set interval and "
            "frequency in its lr_scheduler dict."
        )


def validate(scheduler: Any, options: Options) -> list[Spec]:
    """Check the arguments and normalise the spec(s); raises ``LRMonitorConfigError`` with the fix."""
    _check_options(options)
    if scheduler is None:
        _check_needs_scheduler(options)
        return []
    per_optimizer = is_per_optimizer(scheduler)
    out = []
    for idx, spec in split_per_optimizer(scheduler).items():
        where = f"scheduler[{idx}]" if per_optimizer else "scheduler"
        norm = normalize_spec(spec, where=where)
        if isinstance(norm, dict):
            resolve_class(norm["class_path"], where=where)
        out.append(Spec(idx, norm, where))
    if options.name is not None and len(out) > 1:
        raise LRMonitorConfigError(
            f"`name`={options.name!r} with {len(out)} schedulers would log both optimizers under one tag. Drop "
            "`name` (tags are then lr-<Optimizer>, made unique like LearningRateMonitor's) or use one scheduler."
        )
    return out


_EVERY_DEFAULT = {
    "log_every_n_steps": "the Trainer's log_every_n_steps, the steps self.log writes at",
    "tensorboard_every_n_steps": "every step, thinned only for runs over 4M values",
}


def check_every(argument: str, value: Any) -> int | None:
    """Validate ``log_every_n_steps`` or ``tensorboard_every_n_steps``.

    Examples:
        >>> check_every("log_every_n_steps", 0)
        Traceback (most recent call last):
        ...
        lightning_lrmon.LRMonitorConfigError: `log_every_n_steps` must be a positive int or None (the Trainer's \
log_every_n_steps, the steps self.log writes at), got 0.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LRMonitorConfigError(
            f"`{argument}` must be a positive int or None ({_EVERY_DEFAULT[argument]}), got {value!r}."
        )
    return value
