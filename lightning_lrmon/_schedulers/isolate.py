"""Copies of user callables that the simulation may call as often as it likes without touching the user's state.

A ``LambdaLR`` lambda can keep state (a closure that updates a counter, a callable object, a bound method): calling
it more often than torch does would change the LR that training applies. The simulation therefore only ever calls
an *isolated* copy: a function rebuilt with deep copies of its closure cells and defaults, a deep-copied callable
object, a method bound to a deep copy of its object. What cannot be isolated (a function that assigns globals, an
object that cannot be copied, a method of a ``torch.nn.Module``) is not simulated at all: ``isolated`` returns
``None`` and the caller says so. Random-number generators are restored around the simulation (``keep_rng``),
so a lambda that draws random numbers does not shift the training run's draws. One case is beyond reach: a
function that mutates a module-level object through a method call (``HISTORY.append(step)``) changes that object.

Examples:
    >>> def make_warmup():
    ...     calls = [0]
    ...     def lam(step):
    ...         calls[0] += 1
    ...         return min(1.0, step / 10)
    ...     return lam, calls
    >>> lam, calls = make_warmup()
    >>> copy_of = isolated(lam)
    >>> [copy_of(s) for s in (0, 5, 20)], calls
    ([0.0, 0.5, 1.0], [0])
"""

from __future__ import annotations

import contextlib
import copy
import dis
import functools
import random
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

__all__ = ["isolated", "keep_rng"]

_WRITES_GLOBALS = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL"})
_MAX_DEPTH = 4


def _assigns_globals(code: types.CodeType) -> bool:
    if any(ins.opname in _WRITES_GLOBALS for ins in dis.get_instructions(code)):
        return True
    return any(isinstance(c, types.CodeType) and _assigns_globals(c) for c in code.co_consts)


def _heavy(obj: Any) -> bool:
    """Objects not worth copying for a simulation (and that a schedule formula should not carry)."""
    return isinstance(obj, (torch.nn.Module, torch.Tensor, torch.optim.Optimizer))


def _copy_value(value: Any, depth: int) -> Any:
    if isinstance(value, (types.FunctionType, functools.partial, types.MethodType)):
        return isolated(value, _depth=depth + 1)
    if _heavy(value):
        return None
    return copy.deepcopy(value)


def _function(fn: types.FunctionType, depth: int) -> Callable[..., Any] | None:
    if _assigns_globals(fn.__code__):
        return None
    cells = []
    for cell in fn.__closure__ or ():
        try:
            content = cell.cell_contents
        except ValueError:  # an empty cell (a name assigned later in the enclosing scope)
            cells.append(types.CellType())
            continue
        new = _copy_value(content, depth)
        if new is None and content is not None:
            return None
        cells.append(types.CellType(new))
    defaults = tuple(copy.deepcopy(fn.__defaults__)) if fn.__defaults__ else None
    out = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, defaults, tuple(cells) or None)
    out.__kwdefaults__ = copy.deepcopy(fn.__kwdefaults__)
    return out


def _partial(fn: functools.partial[Any], depth: int) -> Callable[..., Any] | None:
    inner = isolated(fn.func, _depth=depth + 1)
    if inner is None:
        return None
    if any(_heavy(a) for a in (*fn.args, *fn.keywords.values())):
        return None
    return functools.partial(inner, *copy.deepcopy(fn.args), **copy.deepcopy(fn.keywords))


def _method(fn: types.MethodType, depth: int) -> Callable[..., Any] | None:
    owner = fn.__self__
    if isinstance(owner, type):  # a classmethod: no instance state
        return fn
    if _heavy(owner):
        return None
    inner = isolated(fn.__func__, _depth=depth + 1)
    if inner is None:
        return None
    return types.MethodType(inner, copy.deepcopy(owner))


def isolated(fn: Any, *, _depth: int = 0) -> Callable[..., Any] | None:
    """A callable that computes what ``fn`` computes, on copies of every piece of state it can reach.

    Returns ``None`` when that cannot be done safely.

    Examples:
        >>> class Warmup:
        ...     def __init__(self): self.seen = 0
        ...     def __call__(self, step): self.seen += 1; return min(1.0, step / 10)
        >>> w = Warmup(); c = isolated(w); c(5), w.seen
        (0.5, 0)
    """
    if _depth > _MAX_DEPTH:
        return None
    if isinstance(fn, types.FunctionType):
        return _function(fn, _depth)
    if isinstance(fn, functools.partial):
        return _partial(fn, _depth)
    if isinstance(fn, types.MethodType):
        return _method(fn, _depth)
    if isinstance(fn, (types.BuiltinFunctionType, np.ufunc)):
        return fn  # C functions (math.cos, numpy ufuncs) keep no Python-visible state we could disturb
    if _heavy(fn) or not callable(fn):
        return None
    try:
        return copy.deepcopy(fn)  # type: ignore[no-any-return]
    except Exception:
        return None


@contextlib.contextmanager
def keep_rng() -> Iterator[None]:
    """Restore Python's, NumPy's and torch's global random states on exit.

    Examples:
        >>> import random
        >>> random.seed(0)
        >>> with keep_rng():
        ...     _ = random.random()
        >>> random.random() == (random.seed(0) or random.random())
        True
    """
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
