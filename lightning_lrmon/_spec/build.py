"""Scheduler specifications: parse, validate, bind ``"auto"`` horizons and build — with errors that teach.

A spec is one of:

* a callable ``optimizer -> LRScheduler`` (``functools.partial(LinearLR, ...)``, LightningCLI's
  ``LRSchedulerCallable``, or the ``functools.partial`` jsonargparse builds);
* a LightningCLI-style dict ``{"class_path": "LinearLR", "init_args": {...}}`` — ``class_path`` is a dotted path or
  a bare torch name; ``SequentialLR``/``ChainedScheduler`` take child specs in the same form;
* a YAML string (or a path to a ``.yaml`` file) holding such a dict.

Any init argument given as ``"auto"`` is bound to the run's scheduler steps, ``"N%"`` to that share of them
(inside a ``SequentialLR``, ``"auto"`` means the steps of that child's phase).

Examples:
    >>> import torch
    >>> from lightning_lrmon._spec.build import build_scheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> s = build_scheduler({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}}, opt, total_steps=500)
    >>> type(s).__name__, s.T_max
    ('CosineAnnealingLR', 500)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import Any

from torch.optim import Optimizer
from torch.optim import lr_scheduler as tls

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._schedulers import Composer, lookup
from lightning_lrmon._spec.arguments import check_args, check_types, construct
from lightning_lrmon._spec.bind import bind_value
from lightning_lrmon._spec.parse import normalize_spec
from lightning_lrmon._spec.resolve import resolve_class

__all__ = ["build_scheduler", "spec_identity"]


def build_scheduler(
    spec: Any,
    optimizer: Optimizer,
    *,
    total_steps: int | None = None,
    where: str = "scheduler",
    normalized: bool = False,
) -> Any:
    """Build the scheduler described by ``spec`` on ``optimizer``.

    Args:
        spec: a callable, a class_path/init_args dict, or YAML (see the module docs).
        optimizer: the optimizer to schedule.
        total_steps: the run's scheduler steps, for ``"auto"``/``"N%"`` (``None``: unknown).
        where: how error messages name the argument.
        normalized: ``spec`` is ``normalize_spec``'s output already (LRMonitor normalises at construction).

    Returns:
        The scheduler (nothing is written onto it: torch copies a scheduler's attributes into checkpoints).

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> spec = {"class_path": "SequentialLR", "init_args": {"milestones": ["10%"], "schedulers": [
        ...     {"class_path": "LinearLR", "init_args": {"start_factor": 0.01, "total_iters": "auto"}},
        ...     {"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}}]}}
        >>> s = build_scheduler(spec, opt, total_steps=1000)
        >>> s._milestones, s._schedulers[0].total_iters, s._schedulers[1].T_max
        ([100], 100, 900)
    """
    spec = spec if normalized else normalize_spec(spec, where=where)
    if not isinstance(spec, dict):
        try:
            sched = spec(optimizer)
        except (ValueError, TypeError, KeyError, ZeroDivisionError) as err:
            raise LRMonitorConfigError(f"`{where}`: calling {spec!r} on the optimizer failed: {err}") from None
        if not isinstance(sched, (tls.LRScheduler, tls.ReduceLROnPlateau)):
            raise LRMonitorConfigError(
                f"`{where}` callable returned {type(sched).__name__}, not an LR scheduler. Pass e.g. "
                "functools.partial(torch.optim.lr_scheduler.LinearLR, start_factor=1.0, end_factor=0.1)."
            )
        return sched
    cls = resolve_class(spec["class_path"], where=where)
    init_args = dict(spec["init_args"])
    record = lookup(cls) if inspect.isclass(cls) else None
    if record is not None and record.compose is not None and "schedulers" in init_args:
        return _build_composite(cls, record.compose, optimizer, init_args, total_steps, where)
    init_args = {k: bind_value(v, total_steps, where=f"{where}.init_args.{k}") for k, v in init_args.items()}
    check_args(cls, init_args, where=where)
    check_types(cls, init_args, where=where)
    sched = construct(cls, optimizer, init_args, where=where)
    return sched


def _build_composite(
    cls: Any, compose: Composer, optimizer: Optimizer, init_args: dict[str, Any], total_steps: int | None, where: str
) -> Any:
    """A scheduler made of child specs: the record binds its own arguments and each child's steps, the children are
    built like any spec, and the record puts them together."""
    children_specs = init_args.pop("schedulers")
    if not isinstance(children_specs, (list, tuple)) or not children_specs:
        raise LRMonitorConfigError(f"`{where}.init_args.schedulers` must be a non-empty list of specs.")

    def bind(value: Any, at: str) -> Any:
        return bind_value(value, total_steps, where=at)

    init_args, steps = compose.child_steps(init_args, len(children_specs), total_steps, bind, where)
    children = [
        build_scheduler(child, optimizer, total_steps=n, where=f"{where}.init_args.schedulers[{i}]", normalized=True)
        for i, (child, n) in enumerate(zip(children_specs, steps))
    ]
    check_args(cls, {**init_args, "schedulers": children}, where=where)

    def make(opt: Optimizer, **kwargs: Any) -> Any:
        return compose.make(cls, children, opt, kwargs)

    return construct(make, optimizer, init_args, where=where, name=cls.__name__)


def _callable_name(fn: Any) -> str:
    if isinstance(fn, functools.partial):
        args = [spec_identity(a) for a in fn.args] + [f"{k}={spec_identity(v)}" for k, v in sorted(fn.keywords.items())]
        return f"{_callable_name(fn.func)}({', '.join(args)})"
    if inspect.isfunction(fn) or inspect.isclass(fn) or inspect.isbuiltin(fn):
        return f"{fn.__module__}.{fn.__qualname__}"
    if inspect.ismethod(fn):
        return f"{_callable_name(fn.__func__)} of {type(fn.__self__).__qualname__}"
    return f"{type(fn).__module__}.{type(fn).__qualname__} instance"


def spec_identity(spec: Any) -> str:
    """What defines a spec, as readable text that is the same in every process (no memory addresses).

    A resume compares it with the checkpoint's to tell the user what changed.

    Examples:
        >>> spec_identity(functools.partial(tls.LinearLR, start_factor=1.0, total_iters=40))
        'torch.optim.lr_scheduler.LinearLR(start_factor=1.0, total_iters=40)'
        >>> spec_identity({"class_path": "StepLR", "init_args": {"step_size": "auto"}})
        "StepLR(step_size='auto')"
    """
    if isinstance(spec, Mapping) and "class_path" in spec:
        args = ", ".join(f"{k}={spec_identity(v)}" for k, v in sorted((spec.get("init_args") or {}).items()))
        return f"{spec['class_path']}({args})"
    if isinstance(spec, (list, tuple)):
        return "[" + ", ".join(spec_identity(v) for v in spec) + "]"
    if isinstance(spec, Mapping):
        return "{" + ", ".join(f"{k}: {spec_identity(v)}" for k, v in sorted(spec.items(), key=str)) + "}"
    if callable(spec):
        return _callable_name(spec)
    return repr(spec)
