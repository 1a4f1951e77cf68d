"""Copies of user callables that the simulation may call as often as it likes without touching the user's state.

A ``LambdaLR`` lambda can keep state (a closure that updates a counter, a callable object, a bound method): calling
it more often than torch does would change the LR that training applies. The simulation therefore only ever calls
an *isolated* copy: a function rebuilt with deep copies of its closure cells and defaults, a deep-copied callable
object, a method bound to a deep copy of its object. The ``LightningModule`` a lambda reads (``self.warmup_steps``,
``self.hparams.lr``, ``self.trainer.estimated_stepping_batches``, or a method of the module) is not copied: the
copy reads it through a ``ReadOnlyView``, which hands out plain values looked up as the code runs and refuses
anything else (a write, a method call, a tensor). What cannot be isolated (a function that assigns globals, an
object that cannot be copied, code that does more than read through a view) is not simulated: ``isolated``
returns ``None`` or the copy raises ``NotIsolated``, and the caller says so. Random-number generators are restored
around the simulation (``keep_rng``), so a lambda that draws random numbers does not shift the training run's
draws. Beyond reach: a function that mutates a module-level object through a method call (``HISTORY.append(step)``)
changes that object, and a property of the module with side effects runs them when the lambda reads it.

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

__all__ = ["NotIsolated", "ReadOnlyView", "ViewRefused", "isolated", "keep_rng"]

_WRITES_GLOBALS = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL"})
_MAX_DEPTH = 4


def _assigns_globals(code: types.CodeType) -> bool:
    if any(ins.opname in _WRITES_GLOBALS for ins in dis.get_instructions(code)):
        return True
    return any(isinstance(c, types.CodeType) and _assigns_globals(c) for c in code.co_consts)


def _heavy(obj: Any) -> bool:
    """Objects not worth copying for a simulation (and that a schedule formula should not carry)."""
    return isinstance(obj, (torch.nn.Module, torch.Tensor, torch.optim.Optimizer))


class NotIsolated(Exception):
    """User code inside the scheduler cannot be called on copies of its state: do not simulate."""


class ViewRefused(NotIsolated):
    """User code did something through a ``ReadOnlyView`` other than reading a value: do not simulate it."""


#: the run's counters (a ``LightningModule``'s and the ``Trainer``'s): a formula that reads one follows the live run,
#: which a simulation made at fit start cannot (Lightning #18588: a warm-up of ``self.trainer.global_step``)
LIVE_COUNTERS = frozenset({"global_step", "current_epoch", "is_last_batch"})

#: what a view hands out as it is: values nothing can change through
_PLAIN = (int, float, bool, str, bytes, complex, type(None), np.number, np.bool_, torch.device, torch.dtype)


def _viewed(value: Any, what: str) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, np.ndarray):  # a table of values: a read-only copy, so numpy functions take it
        out = value.copy()
        out.flags.writeable = False
        return out
    if isinstance(value, torch.Tensor) or (
        type(value).__module__.startswith("torch") and not isinstance(value, torch.nn.Module)
    ):
        raise ViewRefused(f"reads {what} ({type(value).__name__})")
    if isinstance(value, (types.MethodType, types.BuiltinMethodType, functools.partial)) or (
        callable(value) and not isinstance(value, type) and not hasattr(value, "__dict__")
    ):
        return _Refusing(what)
    return ReadOnlyView(value, what)


class _Refusing:
    """A method reached through a view: calling it might change state, so it refuses."""

    __slots__ = ("_what",)

    def __init__(self, what: str) -> None:
        self._what = what

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise ViewRefused(f"calls {self._what}()")


class ReadOnlyView:
    """What a schedule's user code reads from a ``LightningModule`` (and what hangs off it: ``self.hparams``,
    ``self.trainer``): plain values, looked up on the real object as the code runs, never copied. Anything else
    (writing an attribute, calling a method, reading a tensor) raises ``ViewRefused``, and the schedule is not
    simulated.

    Examples:
        >>> import torch
        >>> class Module(torch.nn.Module):
        ...     def __init__(self): super().__init__(); self.warmup = 10
        >>> view = ReadOnlyView(Module())
        >>> view.warmup, [min(1.0, s / view.warmup) for s in (5, 20)]
        (10, [0.5, 1.0])
        >>> view.train()
        Traceback (most recent call last):
        ...
        lightning_lrmon._schedulers.isolate.ViewRefused: calls self.train()
    """

    __slots__ = ("_lrmon_target", "_lrmon_what")

    def __init__(self, target: Any, what: str = "self") -> None:
        object.__setattr__(self, "_lrmon_target", target)
        object.__setattr__(self, "_lrmon_what", what)

    def __getattr__(self, name: str) -> Any:
        what = f"{self._lrmon_what}.{name}"
        if name in LIVE_COUNTERS:  # a simulation at fit start would hold it at its start value
            raise ViewRefused(f"reads {what}, which changes as training runs")
        return _viewed(getattr(self._lrmon_target, name), what)

    def __getitem__(self, key: Any) -> Any:
        return _viewed(self._lrmon_target[key], f"{self._lrmon_what}[{key!r}]")

    def __len__(self) -> int:
        return len(self._lrmon_target)

    def __iter__(self) -> Iterator[Any]:
        return iter([_viewed(v, f"an item of {self._lrmon_what}") for v in self._lrmon_target])

    def __contains__(self, item: Any) -> bool:
        return item in self._lrmon_target

    def __setattr__(self, name: str, value: Any) -> None:
        raise ViewRefused(f"writes {self._lrmon_what}.{name}")

    def __delattr__(self, name: str) -> None:
        raise ViewRefused(f"deletes {self._lrmon_what}.{name}")

    def __setitem__(self, key: Any, value: Any) -> None:
        raise ViewRefused(f"writes {self._lrmon_what}[{key!r}]")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise ViewRefused(f"calls {self._lrmon_what}()")

    def __deepcopy__(self, memo: dict[int, Any]) -> ReadOnlyView:
        return self  # nothing to copy: it holds no state of its own and changes nothing

    def __repr__(self) -> str:
        return f"ReadOnlyView({self._lrmon_what})"


def _content(cell: types.CellType) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _through_view(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (which reads a ``ReadOnlyView``), with the errors a view can cause in code that works on the real
    object (a view passed where a module is expected) turned into ``ViewRefused``: not simulated, never a finding."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (TypeError, AttributeError) as err:
            raise ViewRefused(f"uses the module as a read-only view cannot ({type(err).__name__}: {err})") from err

    call.__name__ = getattr(fn, "__name__", "call")
    call.__qualname__ = getattr(fn, "__qualname__", call.__name__)
    return call


def _copy_value(value: Any, depth: int) -> Any:
    if isinstance(value, (types.FunctionType, functools.partial, types.MethodType)):
        return isolated(value, _depth=depth + 1)
    if isinstance(value, torch.nn.Module):  # the LightningModule a lambda reads (self.warmup_steps): viewed
        return ReadOnlyView(value)
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
    if any(isinstance(_content(c), ReadOnlyView) for c in cells):
        return _through_view(out)
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
    if isinstance(owner, torch.nn.Module):  # a method of the LightningModule: run on a read-only view of it
        inner = isolated(fn.__func__, _depth=depth + 1)
        return None if inner is None else _through_view(types.MethodType(inner, ReadOnlyView(owner)))
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
