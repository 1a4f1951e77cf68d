"""The record of one scheduler class, the table of records, and the questions every other module asks of them.

Everything lightning-lrmon knows of a scheduler class lives in its ``SchedulerRecord``: its inferred shape,
its horizon argument and how to read the horizon, its argument types, the fix texts of its mistakes, its kernel
(or per-step factors) for the simulation, how to isolate the user code it holds, how it splits into phases and how
a config builds it. Simulation, checks, spec binding and the CLI ask ``lookup``; none of them names a class.

A class without a record gets no inferred shape, is simulated by exact stepping of a copy, and has only the
validity checks. Subclasses get no record of their parent (they may change its behaviour).

Examples:
    >>> import torch
    >>> import lightning_lrmon._schedulers  # loads the built-in records
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)
    >>> lookup(s).shape, lookup(s).horizon_arg, horizon_of(s)
    ('decay', 'T_max', 50)
    >>> describe(s)
    'CosineAnnealingLR(T_max=50, eta_min=0)'
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lightning_lrmon._schedulers.arith import chain
from lightning_lrmon._vocab import Shape

__all__ = [
    "Composer",
    "Phases",
    "SchedulerRecord",
    "arg_types_of",
    "callable_text",
    "describe",
    "horizon_of",
    "init_args_of",
    "lookup",
    "named",
    "register",
    "register_scheduler",
    "registered_names",
]

#: ``kernel(s, lr, e0, n)``: the ``(n, G)`` LRs after ``n`` steps from group LRs ``lr`` at scheduler epoch ``e0``.
Kernel = Callable[[Any, np.ndarray, int, int], np.ndarray]
"""``kernel(scheduler, lrs, e0, n)``: the ``(n, G)`` LRs of the next ``n`` steps from the groups' LRs ``lrs`` at the
scheduler's epoch ``e0`` (vectorised: the simulation of a class without stepping it)."""
#: ``factors(s, e0, n)``: the ``(n,)`` or ``(n, G)`` factors a multiplicative (chainable) class applies per step.
Factors = Callable[[Any, int, int], np.ndarray]
#: ``reset0(s, lr)``: the ``(G,)`` LRs the class sets when a sequence restarts it at a milestone.
Reset = Callable[[Any, np.ndarray], np.ndarray]


def _generic_decay_hint(s: Any) -> str:
    return "Change the arguments so the LR never rises, or pass expect= with the shape you intend (e.g. 'warmup')."


@dataclass(frozen=True)
class Phases:
    """A scheduler made of children that take over one after another at milestones (scheduler epochs)."""

    children: list[Any]
    milestones: list[int]
    epoch: int  # the scheduler's own epoch now


@dataclass(frozen=True)
class Composer:
    """How a config builds a scheduler from child specs (``init_args.schedulers``).

    Attributes:
        child_steps: ``(init_args, n_children, total_steps, bind, where) -> (init_args, steps of each child)``;
            ``bind(value, where)`` binds one ``"auto"``/``"N%"`` value; raises
            ``LRMonitorConfigError`` naming ``where`` on bad arguments.
        make: ``(cls, children, optimizer, init_args) -> scheduler``.
    """

    child_steps: Callable[
        [dict[str, Any], int, int | None, Callable[[Any, str], Any], str], tuple[dict[str, Any], list[int | None]]
    ]
    make: Callable[[Any, list[Any], Any, dict[str, Any]], Any]


@dataclass(frozen=True)
class SchedulerRecord:
    """Everything lightning-lrmon knows of one scheduler class.

    Attributes:
        cls: the class (records match the exact class).
        shape: the shape inferred when the user declares none (``None``: validity checks only).
        horizon_arg: the init argument that sets the schedule's length.
        horizon: reads the horizon from an instance (default: the ``horizon_arg`` attribute).
        arg_types: the init arguments' types, for teaching errors (``None``: read the class's annotations).
        periodic: past its horizon the schedule climbs back up instead of staying flat.
        judges_short_horizon: a horizon that ends early is a mistake (not for a step decay's period).
        decay_hint: the fix text for a rise in a schedule that should decay.
        long_horizon_fix: ``(s, span) -> (fix, value)`` when the horizon is longer than the run: the fix and the
            value it suggests for ``horizon_arg`` (default: the run's steps).
        refit: ``(s, arg, value) -> s'``: a copy of ``s`` with ``arg=value`` and what the class derives from it
            re-derived, to simulate a fix before suggesting it (default: the attribute replaced; see ``refit``).
        warmup_hint: ``(s, suggested_steps) -> fix`` for a warmup that takes most of the run.
        collapse_fix: ``(s, peak, configured) -> fix`` when the groups' different LRs collapse to one.
        kernel: the vectorised simulation (see ``Kernel``); ``factors`` builds one for chainable classes.
        factors: per-step factors of a multiplicative class (usable inside a chain of schedulers).
        reset0: the LRs the class sets when a sequence switches to it (``None``: it cannot follow a milestone).
        closed_form: its LR ignores the incoming LR (a chain's later children may overwrite it).
        static: its LR depends on metrics, not the step; simulated as held constant.
        scales: ``(s, ratios) -> bool``: the groups' LRs stay proportional by the class's own arithmetic (the
            base LRs are checked by the caller; children of a composite are asked on their own).
        user_code: ``(s, isolate) -> s'``: a shallow copy whose user callables are replaced by ``isolate(fn)``.
        one_group: attributes holding one entry per param group (trimmed to group 0 for a one-column view).
        lr_of_t: ``s -> (t -> LR of group 0)`` for a class whose LR is a user formula of the step (probed past
            the run to find where its decay ends).
        children: its child schedulers; ``with_children(s, kids)`` is a shallow copy holding ``kids`` instead.
        phases: children that take over at milestones (see ``Phases``); ``None`` with ``children`` means
            every child steps at every step, each on the LR the one before wrote.
        describe: ``ClassName(args)`` for messages (default: the init arguments read back).
        compose: how a config builds it from child specs.
        arg_value: the value of ``horizon_arg`` as the user wrote it, when ``horizon`` reads another number
            (CyclicLR's horizon is the whole cycle; ``step_size_up`` is its rising half).
    """

    cls: type
    shape: Shape | None = None
    horizon_arg: str | None = None
    horizon: Callable[[Any], int | None] | None = None
    arg_types: Mapping[str, Any] | None = None
    periodic: bool = False
    judges_short_horizon: bool = True
    decay_hint: Callable[[Any], str] = _generic_decay_hint
    long_horizon_fix: Callable[[Any, int], tuple[str, int | None]] | None = None
    refit: Callable[[Any, str, int], Any] | None = None
    warmup_hint: Callable[[Any, int], str] | None = None
    collapse_fix: Callable[[Any, float, list[float]], str] | None = None
    kernel: Kernel | None = None
    factors: Factors | None = None
    reset0: Reset | None = None
    closed_form: bool = False
    static: bool = False
    scales: Callable[[Any, np.ndarray], bool] | None = None
    user_code: Callable[[Any, Callable[[Any], Any]], Any] | None = None
    one_group: tuple[str, ...] = ("base_lrs", "_last_lr")
    lr_of_t: Callable[[Any], Callable[[int], float]] | None = None
    children: Callable[[Any], list[Any]] | None = None
    with_children: Callable[[Any, list[Any]], Any] | None = None
    phases: Callable[[Any], Phases] | None = None
    describe: Callable[[Any], str] | None = None
    compose: Composer | None = None
    arg_value: Callable[[Any], int | None] | None = None

    @property
    def name(self) -> str:
        return self.cls.__name__

    def simulate(self, s: Any, lr: np.ndarray, e0: int, n: int) -> np.ndarray | None:
        """The class's kernel on ``s`` (``None``: it has none)."""
        if self.kernel is not None:
            return self.kernel(s, lr, e0, n)
        if self.factors is not None:
            return chain(lr, self.factors(s, e0, n))
        return None

    def horizon_of(self, s: Any) -> int | None:
        """Where the schedule of ``s`` ends, counted from its epoch 0 (``None``: no horizon)."""
        if self.horizon_arg is None:
            return None
        if self.horizon is not None:
            return self.horizon(s)
        value = getattr(s, self.horizon_arg, None)
        return int(value) if isinstance(value, (int, float)) else None


_RECORDS: dict[type, SchedulerRecord] = {}


def register_scheduler(record: SchedulerRecord) -> SchedulerRecord:
    """Add (or replace) the record of ``record.cls``; every part of lightning-lrmon uses it from then on.

    Examples:
        >>> import torch
        >>> class Halving(torch.optim.lr_scheduler.LRScheduler):
        ...     def get_lr(self):
        ...         return [g["lr"] * 0.5 for g in self.optimizer.param_groups]
        >>> _ = register_scheduler(SchedulerRecord(Halving, shape="decay", factors=lambda s, e0, n: np.full(n, 0.5)))
        >>> lookup(Halving(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0))).shape
        'decay'
    """
    if not isinstance(record, SchedulerRecord) or not inspect.isclass(record.cls):
        raise TypeError(f"register() takes a SchedulerRecord of a class, got {record!r}")
    _RECORDS[record.cls] = record
    return record


#: The methods that make a scheduler's schedule: a subclass defining none of them (Lightning's
#: ``ReduceLROnPlateau``, which only adds ``monitor`` to the constructor) steps exactly as its parent does.
SCHEDULE_METHODS = ("get_lr", "_get_closed_form_lr", "step", "_reduce_lr", "is_better", "_init_is_better")


#: the name the record modules use
register = register_scheduler


def lookup(scheduler: Any) -> SchedulerRecord | None:
    """The record of ``scheduler``'s class (or of the class itself), ``None`` for any other.

    A subclass that changes none of ``SCHEDULE_METHODS`` has its parent's record; one that overrides any of
    them is a class of its own (no record).
    """
    cls = scheduler if inspect.isclass(scheduler) else type(scheduler)
    for klass in cls.__mro__:
        record = _RECORDS.get(klass)
        if record is not None:
            return record
        if any(name in vars(klass) for name in SCHEDULE_METHODS):
            return None
    return None


def named(name: str) -> SchedulerRecord | None:
    """The record of the class called ``name`` (torch's bare names), ``None`` if there is none."""
    return next((r for r in _RECORDS.values() if r.name == name), None)


def registered_names() -> list[str]:
    """The names of every class with a record, in registration order."""
    return [r.name for r in _RECORDS.values()]


def arg_types_of(cls: Any) -> Mapping[str, Any] | None:
    """The argument types a record gives ``cls`` (``None``: read its annotations)."""
    record = lookup(cls) if inspect.isclass(cls) else None
    return record.arg_types if record is not None else None


def horizon_of(scheduler: Any) -> int | None:
    """The step at which the scheduler's own schedule ends, counted from its epoch 0, or ``None``."""
    record = lookup(scheduler)
    return record.horizon_of(scheduler) if record is not None else None


_SKIP = {"self", "optimizer", "last_epoch", "verbose", "schedulers"}


def init_args_of(scheduler: Any) -> dict[str, Any]:
    """The init arguments of ``scheduler``, read back from its attributes (named as in its signature).

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> init_args_of(torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=100))
        {'start_factor': 0.5, 'end_factor': 1.0, 'total_iters': 100}
    """
    out: dict[str, Any] = {}
    try:
        params = inspect.signature(type(scheduler).__init__).parameters
    except (TypeError, ValueError):
        return out
    for name in params:
        if name in _SKIP or not hasattr(scheduler, name):
            continue
        value = getattr(scheduler, name)
        if callable(value):
            continue
        if isinstance(value, dict):  # a Counter of milestones
            value = sorted(value.elements()) if hasattr(value, "elements") else value
        out[name] = value
    return out


def describe(scheduler: Any) -> str:
    """``ClassName(arg=value, ...)`` for messages.

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> describe(torch.optim.lr_scheduler.StepLR(opt, step_size=5))
        'StepLR(step_size=5, gamma=0.1)'
    """
    record = lookup(scheduler)
    if record is not None and record.describe is not None:
        return record.describe(scheduler)
    text = getattr(scheduler, "lrmon_description", None)  # a view that names itself (schedulers stacked)
    if isinstance(text, str):
        return text
    args = ", ".join(f"{k}={fmt(v)}" for k, v in init_args_of(scheduler).items())
    return f"{type(scheduler).__name__}({args})"


def callable_text(fn: Any) -> str:
    """A short, address-free name for a user callable (a ``partial`` shows its arguments).

    Examples:
        >>> import functools, math
        >>> callable_text(functools.partial(math.pow, 0.5))
        'pow(0.5)'
        >>> callable_text(lambda s: 1.0)
        '<lambda>'
    """
    if isinstance(fn, functools.partial):
        args = [fmt(a) for a in fn.args] + [f"{k}={fmt(v)}" for k, v in fn.keywords.items()]
        return f"{callable_text(fn.func)}({', '.join(args)})"
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__name__


def fmt(value: Any) -> str:
    """A number as ``%g``, anything else as its ``repr``."""
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)
