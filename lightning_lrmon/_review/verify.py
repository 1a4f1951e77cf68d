"""A fix's value is simulated before a finding suggests it.

A run-length finding (``horizon-too-long``, ``horizon-too-short``, ``lr-zero-early``) suggests a value for one
argument (``T_max=300``). ``verify_fix`` builds the scheduler as it would be with that value (``refit``), simulates
it over the same run and reviews it again: the value is suggested as it is only when the fixed schedule has none of
those findings and its LR moves inside the run. Otherwise the fix says what the simulation showed, and that the
horizon must be sized by hand. A scheduler that cannot be refitted (a child of a composite, a foreign state) keeps
its fix, marked unverified (``verified=None`` in the finding's data).

Examples:
    >>> import torch
    >>> from lightning_lrmon import check_schedule
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> [f] = check_schedule(torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000), 300)
    >>> f.hint, f.data["verified"]
    ("use T_max=300 (the run's scheduler steps) or T_max='auto'.", True)
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from lightning_lrmon._findings import Finding
from lightning_lrmon._review.context import CheckContext
from lightning_lrmon._review.horizons import HORIZON_NAME, steps_so_far
from lightning_lrmon._schedulers import lookup
from lightning_lrmon._schedulers.refit import refit

__all__ = ["FIX_CODES", "verify_fixes"]

#: the findings whose fix sizes one argument to the run, and which the fixed schedule must no longer have
FIX_CODES = frozenset({"horizon-too-long", "horizon-too-short", "lr-zero-early"})

#: ``review(scheduler, steps) -> (findings, simulated LRs)`` of the fixed schedule (given by ``run_checks``, so
#: this module imports no check)
Review = Callable[[Any, int], "tuple[list[Finding], np.ndarray]"]

#: the phase keywords of a schedule made of phases (transformers' warmup-stable-decay: warm-up, stable, decay)
PHASE_NAME = re.compile(r"^num_\w+_steps$")

_VERIFYING: contextvars.ContextVar[bool] = contextvars.ContextVar("lrmon_verifying", default=False)


def _what_is_wrong(fixed: Any, steps: int, review: Review) -> str | None:
    """What the fixed schedule still shows over ``steps`` steps (``None``: it ends with the run)."""
    token = _VERIFYING.set(True)
    try:
        found, lrs = review(fixed, steps)
    finally:
        _VERIFYING.reset(token)
    left = [f for f in found if f.code in FIX_CODES]
    if left:
        return f"it still has {left[0].code} ({left[0].message.split(': ', 1)[-1]})"
    if not _moves(lrs):
        return "its LR never changes inside the run"
    return None


def _restored(scheduler: Any, arg: str) -> bool:
    """A resumed scheduler whose state (what ``load_state_dict`` restores: its attributes, its children's) holds
    ``arg``: changing the argument in code does not change the resumed run."""
    if steps_so_far(scheduler) == 0:
        return False
    record = lookup(scheduler)
    kids = record.children(scheduler) if record is not None and record.children is not None else []
    return any(arg in vars(s) for s in [scheduler, *kids] if hasattr(s, "__dict__"))


def _moves(lrs: np.ndarray) -> bool:
    finite = lrs[np.isfinite(lrs)]
    return bool(finite.size) and float(finite.max()) > float(finite.min())


def _check(f: Finding, ctx: CheckContext, review: Review) -> Finding:
    arg, value = f.data.get("arg"), f.data.get("suggested")
    if f.code not in FIX_CODES or not isinstance(value, int):
        return f
    if arg is None:
        return _named_by_simulation(f, ctx, review, value)
    if not isinstance(arg, str):
        return f
    if ctx.resumed is not False and _restored(ctx.scheduler, arg):
        remark = (
            f" A resume restores {arg}={f.data.get('value')} with the scheduler's state (Lightning loads it from "
            "the checkpoint), so the new value takes effect in a run started afresh."
        )
        return dataclasses.replace(f, hint=f.hint + remark, data={**f.data, "verified": None})
    fixed = refit(ctx.scheduler, arg, value, was=f.data.get("value"))
    if fixed is None:
        return dataclasses.replace(f, data={**f.data, "verified": None})
    n = ctx.cols.n
    why = _what_is_wrong(fixed, n, review)
    if why is None:
        return dataclasses.replace(f, data={**f.data, "verified": True})
    scaled = _warmup_scaled(ctx.scheduler, fixed, arg, value)
    if scaled is not None and _what_is_wrong(scaled[0], n, review) is None:
        key, old, new = scaled[1:]
        hint = (
            f"{f.hint} Also use {key}={new}: with {key}={old} the warm-up takes most of the fixed schedule "
            f"(lightning-lrmon simulated both values: the decay then ends with the run)."
        )
        return dataclasses.replace(f, hint=hint, data={**f.data, "verified": True, "also": {key: new}})
    hint = f"{f.hint} Check its other arguments against the run too: lightning-lrmon simulated {arg}={value} and {why}."
    return dataclasses.replace(f, hint=hint, data={**f.data, "verified": False})


def _keywords(scheduler: Any) -> dict[str, int]:
    """The positive int keywords shared by every ``partial`` lambda of ``scheduler`` (none for another class)."""
    fns = getattr(scheduler, "lr_lambdas", None) or []
    if not fns or not all(isinstance(fn, functools.partial) for fn in fns):
        return {}
    first = fns[0].keywords
    return {
        k: v
        for k, v in first.items()
        if isinstance(v, int) and not isinstance(v, bool) and v > 0 and all(fn.keywords.get(k) == v for fn in fns)
    }


def _phases(keywords: dict[str, int], value: int) -> dict[str, int] | None:
    """The phase lengths (``num_*_steps``: warm-up, stable, decay) scaled to sum to ``value`` (``None``: fewer
    than two phases)."""
    keys = [k for k in keywords if PHASE_NAME.match(k)]
    total = sum(keywords[k] for k in keys)
    if len(keys) < 2 or total <= 0:
        return None
    out = {k: max(0, round(keywords[k] * value / total)) for k in keys}
    out[keys[-1]] += value - sum(out.values())
    return out if out[keys[-1]] >= 0 else None


def _named_by_simulation(f: Finding, ctx: CheckContext, review: Review, value: int) -> Finding:
    """A lambda whose horizon no keyword equals (a decay that ends at a cycle's end, or at the sum of its phases):
    each horizon-like keyword sized to the run is simulated, then the phases scaled together; the first fix whose
    schedule ends with the run is named. Otherwise the finding is left as it is."""
    keywords, n, s = _keywords(ctx.scheduler), ctx.cols.n, ctx.scheduler
    if _VERIFYING.get() or not keywords or steps_so_far(s) > 0:
        return f
    for key in [k for k in keywords if HORIZON_NAME.match(k.lower())]:
        fixed = refit(s, key, value)
        if fixed is not None and _what_is_wrong(fixed, n, review) is None:
            hint = f"use {key}={value} (the run's scheduler steps){ctx.or_auto(key)}."
            return dataclasses.replace(f, hint=hint, data={**f.data, "arg": key, "verified": True})
    phases = _phases(keywords, value)
    fixed = s
    for key, v in (phases or {}).items():
        fixed = refit(fixed, key, v) if fixed is not None else None
    if phases is None or fixed is None or _what_is_wrong(fixed, n, review) is not None:
        return f
    was = " + ".join(f"{k}={keywords[k]}" for k in phases)
    hint = (
        f"use {', '.join(f'{k}={v}' for k, v in phases.items())}: the phases ({was}) scaled to the run's {value} "
        "scheduler steps (lightning-lrmon simulated them: the decay then ends with the run)."
    )
    return dataclasses.replace(f, hint=hint, data={**f.data, "arg": list(phases), "also": phases, "verified": True})


#: the warm-up keyword of transformers' factories (a ``partial``'s), scaled with the horizon it precedes
WARMUP_KEYWORD = "num_warmup_steps"


def _warmup_scaled(scheduler: Any, fixed: Any, arg: str, value: int) -> tuple[Any, str, int, int] | None:
    """``fixed`` with its warm-up scaled as its horizon was (``None``: it has no warm-up keyword)."""
    keywords = _keywords(scheduler)  # a warm-up or horizon of 0 (or not an int) has nothing to scale
    if arg not in keywords or WARMUP_KEYWORD not in keywords:
        return None
    old, horizon = keywords[WARMUP_KEYWORD], keywords[arg]
    new = max(0, round(old * value / horizon))
    scaled = refit(fixed, WARMUP_KEYWORD, new)
    return None if scaled is None or new == old else (scaled, WARMUP_KEYWORD, old, new)


def verify_fixes(ctx: CheckContext, found: list[Finding], review: Review) -> list[Finding]:
    """``found`` with each suggested value simulated (see the module); unchanged inside a verification."""
    if _VERIFYING.get():
        return found
    return [_check(f, ctx, review) for f in found]
