"""A ``class_path`` resolved to a scheduler class or factory: torch's names, dotted paths, transformers' factories."""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from torch.optim import lr_scheduler as tls

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._schedulers import registered_names
from lightning_lrmon._spec.arguments import _hints

__all__ = ["KNOWN_FACTORIES", "resolve_class"]


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
    """A function a config may call: annotated to return an LR scheduler, or in ``KNOWN_FACTORIES``."""
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
