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

import collections.abc
import difflib
import functools
import importlib
import inspect
import os
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from torch.optim import Optimizer
from torch.optim import lr_scheduler as tls

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._schedulers import Composer, arg_types_of, lookup, registered_names

__all__ = [
    "KNOWN_FACTORIES",
    "build_scheduler",
    "has_auto",
    "load_yaml",
    "is_per_optimizer",
    "normalize_spec",
    "resolve_class",
    "spec_identity",
    "split_per_optimizer",
    "yaml_error",
]

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_FIX_HINTS: dict[str, str] = {
    "Starting multiplicative factor": "start_factor",
    "Ending multiplicative factor": "end_factor",
    "Constant multiplicative factor": "factor",
    "total_steps": "total_steps",
    "steps_per_epoch": "steps_per_epoch",
    "epochs": "epochs",
    "pct_start": "pct_start",
    "anneal_strategy": "anneal_strategy",
    "T_0": "T_0",
    "T_mult": "T_mult",
    "eta_min": "eta_min",
    "mode is invalid": "mode",
    "lr_lambdas": "lr_lambda",
    "milestone": "milestones",
    "momentum": "cycle_momentum",
}


def _is_scheduler_class(obj: Any) -> bool:
    return inspect.isclass(obj) and issubclass(obj, (tls.LRScheduler, tls.ReduceLROnPlateau))


def _resolve_dotted(name: str, where: str) -> Callable[..., Any]:
    """Import ``module.attr`` and check it is a scheduler class or a factory declared to return one."""
    module_name, _, attr = name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise LRMonitorConfigError(
            f"`{where}` class_path {name!r}: cannot import module {module_name!r} ({err}). "
            "Check the spelling, or that the package is installed."
        ) from None
    except Exception as err:  # a user module may raise anything at import
        raise LRMonitorConfigError(
            f"`{where}` class_path {name!r}: importing module {module_name!r} raised {type(err).__name__}: {err}. "
            "Fix the module, or run the check where it imports."
        ) from None
    obj = getattr(module, attr, None)
    if obj is None:
        close = difflib.get_close_matches(attr, [n for n in dir(module) if not n.startswith("_")], n=3)
        suggestion = f" Did you mean {' or '.join(repr(f'{module_name}.{c}') for c in close)}?" if close else ""
        raise LRMonitorConfigError(
            f"`{where}` class_path {name!r}: module {module_name!r} has no {attr!r}.{suggestion}"
        )
    if _is_scheduler_class(obj):
        return obj  # type: ignore[no-any-return]
    if inspect.isfunction(obj):
        if _is_factory(obj):
            return obj
        raise LRMonitorConfigError(
            f"`{where}` class_path {name!r} is a function that does not declare it returns an LR scheduler "
            "(its return annotation) and is not a known scheduler factory. Only scheduler classes, factory "
            "functions annotated `-> torch.optim.lr_scheduler.LRScheduler`, and the factories in "
            "lightning_lrmon's table (transformers' get_*_schedule*) are called from a config."
        )
    raise LRMonitorConfigError(
        f"`{where}` class_path {name!r} resolves to {obj!r}, which is not an LR scheduler class. "
        "Name a subclass of torch.optim.lr_scheduler.LRScheduler (or a function returning one)."
    )


#: Factory functions a config may call although they carry no usable return annotation: transformers' schedule
#: factories (keyed by where they are defined). What they return is checked to be an LR scheduler before use.
KNOWN_FACTORIES: frozenset[str] = frozenset(
    f"transformers.optimization.{name}"
    for name in (
        "get_constant_schedule",
        "get_constant_schedule_with_warmup",
        "get_linear_schedule_with_warmup",
        "get_cosine_schedule_with_warmup",
        "get_cosine_with_hard_restarts_schedule_with_warmup",
        "get_cosine_with_min_lr_schedule_with_warmup",
        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
        "get_polynomial_decay_schedule_with_warmup",
        "get_inverse_sqrt_schedule",
        "get_wsd_schedule",
        "get_reduce_on_plateau_schedule",
    )
)


def _is_factory(fn: Any) -> bool:
    """A function a config may call: annotated to return an LR scheduler, or in :data:`KNOWN_FACTORIES`."""
    if f"{fn.__module__}.{fn.__qualname__}" in KNOWN_FACTORIES:
        return True
    returns = _hints(fn).get("return")
    return inspect.isclass(returns) and issubclass(returns, (tls.LRScheduler, tls.ReduceLROnPlateau))


def resolve_class(class_path: Any, *, where: str = "scheduler") -> Callable[..., Any]:
    """Resolve ``class_path`` to a scheduler class (or a factory function returning one).

    Only the named module is imported; nothing is evaluated.

    Examples:
        >>> resolve_class("LinearLR").__name__
        'LinearLR'
        >>> resolve_class("torch.optim.lr_scheduler.StepLR").__name__
        'StepLR'
        >>> resolve_class("CosineAnealingLR")
        Traceback (most recent call last):
        ...
        lightning_lrmon.LRMonitorConfigError: `scheduler` class_path 'CosineAnealingLR' is not a ...
    """
    if _is_scheduler_class(class_path):
        return class_path  # type: ignore[no-any-return]
    if not isinstance(class_path, str) or not class_path.strip():
        raise LRMonitorConfigError(
            f"`{where}` class_path must be a scheduler name or dotted path string, got {class_path!r}. "
            "Example: {'class_path': 'CosineAnnealingLR', 'init_args': {'T_max': 'auto'}}."
        )
    name = class_path.strip()
    if "." not in name:
        obj = getattr(tls, name, None)
        if obj is not None and _is_scheduler_class(obj):
            return obj  # type: ignore[no-any-return]
        close = difflib.get_close_matches(name, registered_names(), n=3, cutoff=0.6)
        suggestion = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise LRMonitorConfigError(
            f"`{where}` class_path {name!r} is not a torch scheduler.{suggestion} Use a name from "
            "torch.optim.lr_scheduler or a dotted path such as 'mypkg.schedulers.MyScheduler'."
        )
    return _resolve_dotted(name, where)


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that reads ``1e-4`` as a number, as LightningCLI's parser (jsonargparse) does: YAML 1.1,
    PyYAML's rules, wants a dot and a signed exponent (``1.0e-4``) and reads ``1e-4`` as a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """Parse YAML safely (no Python objects), reading numbers as LightningCLI does.

    Examples:
        >>> load_yaml("lr: 1e-4\\neta_min: 5E-07\\nname: 1e-4x\\nsteps: 10")
        {'lr': 0.0001, 'eta_min': 5e-07, 'name': '1e-4x', 'steps': 10}
    """
    return yaml.load(text, Loader=_Loader)


def yaml_error(err: yaml.YAMLError) -> str:
    """``" at line L, column C: <problem>"`` for a YAML parse error (safe_load never builds Python objects).

    Examples:
        >>> try:
        ...     yaml.safe_load("a: [1")
        ... except yaml.YAMLError as err:
        ...     print(yaml_error(err))
         at line 1, column 6: expected ',' or ']', but got '<stream end>'
    """
    mark = getattr(err, "problem_mark", None)
    pos = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{pos}: {getattr(err, 'problem', err)}"


def _load_yaml(text: str, *, where: str) -> Any:
    try:
        data = load_yaml(text)
    except yaml.YAMLError as err:
        raise LRMonitorConfigError(f"`{where}` is not valid YAML{yaml_error(err)}.") from None
    if data is None:
        raise LRMonitorConfigError(f"`{where}` YAML is empty; expected a mapping with class_path and init_args.")
    return data


def _normalize_mapping(spec: Mapping[str, Any], where: str) -> dict[str, Any]:
    if "class_path" not in spec:
        raise LRMonitorConfigError(
            f"`{where}` dict needs a 'class_path' key, got keys {sorted(map(str, spec))}. "
            "Example: {'class_path': 'LinearLR', 'init_args': {'start_factor': 1.0, 'end_factor': 0.1}}."
        )
    extra = set(spec) - {"class_path", "init_args", "dict_kwargs"}
    if extra:
        raise LRMonitorConfigError(
            f"`{where}` has unknown keys {sorted(extra)}; a spec has only 'class_path' and 'init_args'. "
            "Put scheduler arguments under 'init_args'."
        )
    init_args = spec.get("init_args") or {}
    if not isinstance(init_args, Mapping):
        raise LRMonitorConfigError(f"`{where}.init_args` must be a mapping, got {init_args!r}.")
    init_args = dict(init_args)
    if spec.get("dict_kwargs"):
        init_args.update(dict(spec["dict_kwargs"]))
    if "schedulers" in init_args and isinstance(init_args["schedulers"], (list, tuple)):
        init_args["schedulers"] = [
            normalize_spec(child, where=f"{where}.init_args.schedulers[{i}]")
            for i, child in enumerate(init_args["schedulers"])
        ]
    return {"class_path": spec["class_path"], "init_args": init_args}


def normalize_spec(spec: Any, *, where: str = "scheduler") -> Any:
    """Turn a spec into a callable or a ``{"class_path", "init_args"}`` dict (children normalised too).

    Examples:
        >>> normalize_spec("class_path: StepLR\\ninit_args: {step_size: 10}")
        {'class_path': 'StepLR', 'init_args': {'step_size': 10}}
        >>> normalize_spec("ExponentialLR")
        {'class_path': 'ExponentialLR', 'init_args': {}}
    """
    if isinstance(spec, str):
        text = spec.strip()
        if text.endswith((".yaml", ".yml")) and "\n" not in text:
            if not os.path.isfile(text):
                raise LRMonitorConfigError(f"`{where}` YAML file {text!r} does not exist.")
            with open(text, encoding="utf-8") as fh:
                return normalize_spec(_load_yaml(fh.read(), where=where), where=where)
        if ":" in text or "\n" in text or text.startswith("{"):
            return normalize_spec(_load_yaml(text, where=where), where=where)
        return {"class_path": text, "init_args": {}}
    if isinstance(spec, Mapping):
        return _normalize_mapping(spec, where)
    if callable(spec):
        return spec
    raise LRMonitorConfigError(
        f"`{where}` must be a callable optimizer -> scheduler, a dict with class_path/init_args, or YAML; "
        f"got {type(spec).__name__} {spec!r}."
    )


def is_per_optimizer(spec: Any) -> bool:
    """Whether ``spec`` is ``{optimizer_index: spec}`` rather than one spec.

    Examples:
        >>> is_per_optimizer({0: "StepLR"}), is_per_optimizer({"class_path": "StepLR"}), is_per_optimizer("StepLR")
        (True, False, False)
    """
    return isinstance(spec, Mapping) and bool(spec) and "class_path" not in spec


def split_per_optimizer(spec: Any) -> dict[int, Any]:
    """``{optimizer_index: spec}``: a mapping with int (or digit-string) keys, else ``{0: spec}``.

    Examples:
        >>> sorted(split_per_optimizer({0: "StepLR", "1": "ExponentialLR"}))
        [0, 1]
    """
    if is_per_optimizer(spec):
        out: dict[int, Any] = {}
        for key, value in spec.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                out[int(key)] = value
            else:
                raise LRMonitorConfigError(
                    f"`scheduler` mapping keys must be optimizer indices (0, 1, ...), got {key!r}. "
                    "For one optimizer pass the spec itself: {'class_path': ..., 'init_args': ...}."
                )
        return out
    return {0: spec}


def has_auto(spec: Any) -> bool:
    """Whether a normalised spec contains ``"auto"`` or ``"N%"`` anywhere.

    Examples:
        >>> has_auto({"class_path": "StepLR", "init_args": {"step_size": "10%"}})
        True
    """
    if isinstance(spec, Mapping):
        return any(has_auto(v) for v in spec.values())
    if isinstance(spec, (list, tuple)):
        return any(has_auto(v) for v in spec)
    return isinstance(spec, str) and (spec.strip().lower() == "auto" or bool(_PERCENT.match(spec)))


def _bind_value(value: Any, steps: int | None, *, where: str) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(_bind_value(v, steps, where=f"{where}[{i}]") for i, v in enumerate(value))
    if not isinstance(value, str):
        return value
    is_auto = value.strip().lower() == "auto"
    pct = _PERCENT.match(value)
    if not is_auto and not pct:
        return value
    if steps is None or steps <= 0:
        raise LRMonitorConfigError(
            f"`{where}`={value!r} needs the run's length, but this run has no finite length "
            f"({'unknown' if steps is None else steps} scheduler steps). Set Trainer(max_steps=...) or "
            "Trainer(max_epochs=...), or give a number."
        )
    if is_auto:
        return int(steps)
    return max(1, int(round(float(pct.group(1)) / 100.0 * steps)))  # type: ignore[union-attr]


def _check_args(cls: Callable[..., Any], init_args: Mapping[str, Any], *, where: str) -> None:
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    valid = [n for n in params if n not in ("self", "optimizer")]
    for key in init_args:
        if key not in params or key == "optimizer":
            close = difflib.get_close_matches(key, valid, n=2)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise LRMonitorConfigError(
                f"`{where}.init_args` has unknown argument {key!r} for {getattr(cls, '__name__', cls)}.{hint} "
                f"Its arguments are: {', '.join(valid)}."
            )
    missing = [
        n
        for n, p in params.items()
        if n not in ("self", "optimizer")
        and p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and n not in init_args
    ]
    if missing:
        raise LRMonitorConfigError(
            f"`{where}.init_args` is missing required argument(s) {missing} for {getattr(cls, '__name__', cls)}. "
            f"Give them under init_args (a horizon can be 'auto' to use the run's length)."
        )


def _hints(cls: Any) -> dict[str, Any]:
    target = cls.__init__ if inspect.isclass(cls) else cls
    try:
        return typing.get_type_hints(target)
    except Exception:
        raw = getattr(target, "__annotations__", {}) or {}
        return {k: v for k, v in raw.items() if not isinstance(v, str)}


def _matches(value: Any, annotation: Any) -> bool | None:
    """Whether ``value`` fits ``annotation`` (``None``: cannot tell; accept)."""
    if annotation is Any or annotation is inspect.Parameter.empty:
        return None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        results = [_matches(value, arg) for arg in typing.get_args(annotation)]
        return any(r is not False for r in results)
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if origin in (list, tuple, collections.abc.Sequence, collections.abc.Iterable):
        return isinstance(value, (list, tuple))
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    return None


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return f"one of {list(typing.get_args(annotation))}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return "None"
    if origin is not None:
        return str(annotation).replace("typing.", "")
    name = getattr(annotation, "__name__", str(annotation))
    return {"int": "an int", "float": "a number", "bool": "true/false", "str": "a string"}.get(name, name)


def _check_types(cls: Any, init_args: Mapping[str, Any], *, where: str) -> None:
    known = arg_types_of(cls)
    hints = known if known is not None else _hints(cls)
    name = getattr(cls, "__name__", repr(cls))
    for key, value in init_args.items():
        if key in hints and _matches(value, hints[key]) is False:
            raise LRMonitorConfigError(
                f"`{where}.init_args.{key}`={value!r} does not fit {name}: `{key}` must be "
                f"{_type_name(hints[key])}."
                + (" A step count may also be 'auto' or 'N%'." if hints[key] is int else "")
            )


def _culprit(message: str, init_args: Mapping[str, Any]) -> str | None:
    for fragment, arg in _FIX_HINTS.items():
        if fragment in message and (arg in init_args or fragment == arg):
            return arg
    for arg in init_args:
        if arg in message:
            return arg
    return None


def _construct(
    cls: Callable[..., Any], optimizer: Optimizer, init_args: dict[str, Any], *, where: str, name: str | None = None
) -> Any:
    name = name or getattr(getattr(cls, "func", cls), "__name__", repr(cls))
    shown = ", ".join(f"{k}={v!r}" for k, v in init_args.items() if k != "schedulers")
    try:
        sched = cls(optimizer, **init_args)
    except (ValueError, TypeError, KeyError, ZeroDivisionError) as err:
        arg = _culprit(str(err), init_args)
        what = f"argument `{arg}`={init_args[arg]!r}" if arg and arg in init_args else f"arguments ({shown})"
        raise LRMonitorConfigError(
            f"`{where}`: torch rejected {name}({shown}): {what} — {err} "
            f"Fix {('`' + arg + '`') if arg else 'the arguments'} to a value torch accepts."
        ) from None
    if not isinstance(sched, (tls.LRScheduler, tls.ReduceLROnPlateau)):
        raise LRMonitorConfigError(
            f"`{where}`: {name} returned {type(sched).__name__}, not an LR scheduler. A factory must return an "
            "instance of torch.optim.lr_scheduler.LRScheduler."
        )
    return sched


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
        normalized: ``spec`` is :func:`normalize_spec`'s output already (LRMonitor normalises at construction).

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
    init_args = {k: _bind_value(v, total_steps, where=f"{where}.init_args.{k}") for k, v in init_args.items()}
    _check_args(cls, init_args, where=where)
    _check_types(cls, init_args, where=where)
    sched = _construct(cls, optimizer, init_args, where=where)
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
        return _bind_value(value, total_steps, where=at)

    init_args, steps = compose.child_steps(init_args, len(children_specs), total_steps, bind, where)
    children = [
        build_scheduler(child, optimizer, total_steps=n, where=f"{where}.init_args.schedulers[{i}]", normalized=True)
        for i, (child, n) in enumerate(zip(children_specs, steps))
    ]
    _check_args(cls, {**init_args, "schedulers": children}, where=where)

    def make(opt: Optimizer, **kwargs: Any) -> Any:
        return compose.make(cls, children, opt, kwargs)

    return _construct(make, optimizer, init_args, where=where, name=cls.__name__)


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
