"""A spec's init arguments checked against the class before it is built: names, types, torch's own refusals."""

from __future__ import annotations

import collections.abc
import difflib
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from torch.optim import Optimizer
from torch.optim import lr_scheduler as tls

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._schedulers import arg_types_of

__all__ = []


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


def check_args(cls: Callable[..., Any], init_args: Mapping[str, Any], *, where: str) -> None:
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


def check_types(cls: Any, init_args: Mapping[str, Any], *, where: str) -> None:
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


def construct(
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
