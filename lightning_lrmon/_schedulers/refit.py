"""A scheduler as it would be with one horizon argument changed: what a finding's fix would build.

Findings suggest a value for one argument (``T_max=300``, ``num_training_steps=1200``). Before a finding suggests
it, the review simulates the scheduler with that value (``refit``): a shallow copy whose argument is replaced,
and whatever the class derived from it at construction re-derived. The copy shares the optimizer, which the
simulation only reads; the user's scheduler is never touched.

A record says how its class is refitted (``SchedulerRecord.refit``); without one, an ``int`` attribute of that
name is replaced (the class reads it at every step); a ``LambdaLR`` of ``partial``s gets the keyword replaced.

Examples:
    >>> import torch
    >>> import lightning_lrmon._schedulers  # the records
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)
    >>> refit(s, "T_max", 300).T_max, s.T_max
    (300, 1000)
    >>> refit(s, "gamma", 3) is None
    True
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from lightning_lrmon._schedulers.record import lookup

__all__ = ["refit", "refit_attribute", "refit_cycle", "refit_one_cycle"]


def refit_attribute(s: Any, arg: str, value: int) -> Any | None:
    """A copy of ``s`` with the int attribute ``arg`` set to ``value`` (``None``: ``s`` has no such attribute)."""
    current = getattr(s, arg, None)
    if not isinstance(current, int) or isinstance(current, bool):
        return None
    out = copy.copy(s)
    setattr(out, arg, value)
    return out


def _refit_partials(s: Any, arg: str, value: int) -> Any | None:
    """A ``LambdaLR`` copy whose ``partial`` lambdas take ``arg=value`` (``None``: not every lambda takes it)."""
    fns = getattr(s, "lr_lambdas", None)
    if not fns or not all(isinstance(f, functools.partial) and arg in f.keywords for f in fns):
        return None
    out = copy.copy(s)
    out.lr_lambdas = [functools.partial(f.func, *f.args, **{**f.keywords, arg: value}) for f in fns]
    return out


def refit_one_cycle(s: Any, arg: str, value: int) -> Any | None:
    """``OneCycleLR`` with ``total_steps=value``: its phases end at the same fractions of the new total."""
    if arg != "total_steps" or not getattr(s, "total_steps", 0):
        return None
    out = copy.copy(s)
    scale = value / s.total_steps
    phases = []
    for phase in s._schedule_phases:
        phases.append({**phase, "end_step": float((phase["end_step"] + 1) * scale - 1)})
    phases[-1]["end_step"] = float(value - 1)
    out._schedule_phases, out.total_steps = phases, value
    return out


def refit_cycle(s: Any, arg: str, value: int) -> Any | None:
    """``CyclicLR`` with ``step_size_up=value`` and ``step_size_down`` unset (one symmetric cycle of 2 x value)."""
    if arg != "step_size_up" or value < 1:
        return None
    out = copy.copy(s)
    out.total_size, out.step_ratio = float(2 * value), 0.5
    return out


def _refit_one(s: Any, arg: str, value: int) -> Any | None:
    record = lookup(s)
    if record is not None and record.refit is not None:
        return record.refit(s, arg, value)
    return _refit_partials(s, arg, value) or refit_attribute(s, arg, value)


def _refit_child(s: Any, arg: str, value: int, was: Any) -> Any | None:
    """A composite (``SequentialLR``, ``ChainedScheduler``) whose one child with ``arg=was`` takes ``value``."""
    record = lookup(s)
    if record is None or record.children is None or record.with_children is None or was is None:
        return None
    kids = list(record.children(s))
    which = [i for i, kid in enumerate(kids) if getattr(kid, arg, None) == was]
    if len(which) != 1:
        return None  # no child, or several, hold that value: which one the fix means is not known
    fixed = _refit_one(kids[which[0]], arg, value)
    if fixed is None:
        return None
    kids[which[0]] = fixed
    return record.with_children(s, kids)


def refit(s: Any, arg: str, value: int, was: Any = None) -> Any | None:
    """``s`` with ``arg=value`` (in ``s``, or in the one child of a composite whose ``arg`` is ``was``), ready to
    simulate; ``None`` when lightning-lrmon cannot build it."""
    try:
        return _refit_one(s, arg, value) or _refit_child(s, arg, value, was)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return None  # an odd state of a foreign class: the fix stays as the check wrote it
