"""A horizon that is not a number of steps: ``self.trainer.max_steps`` (-1 in a run that ``max_epochs`` ends) given
as a scheduler's horizon (``T_max=-1``), read by a lambda, or passed on as ``num_training_steps`` to a factory such as
transformers'."""

from __future__ import annotations

import functools
import re
from typing import Any

import torch

from lightning_lrmon._findings import Finding
from lightning_lrmon._review.context import CheckContext, Segment, finding
from lightning_lrmon._review.horizons import closure_values, module_values, steps_so_far
from lightning_lrmon._schedulers import describe

__all__ = ["lambda_negative", "negative_read", "phase_negative", "trainer_reads"]

#: the Trainer's run lengths a lambda may read through its module; -1 means "not set" for either
TRAINER_LENGTHS = ("max_steps", "max_epochs")
#: names of a length below zero that a lambda reads (a negative one is never meant; wider than ``HORIZON_NAME``)
LENGTH_NAME = re.compile(r"step|iter|epoch|total|horizon|t_max|updates|len")


def _owners(fn: Any) -> list[tuple[str, Any]]:
    """The objects a lambda reads by name: its closure cells (by variable) and a bound method's ``self``."""
    owner = getattr(fn, "__self__", None)
    return closure_values(fn) + ([("self", owner)] if owner is not None else [])


def trainer_reads(fn: Any) -> dict[str, Any]:
    """The run lengths a lambda reads through its module's ``trainer`` (the public property), keyed as written.

    Examples:
        >>> trainer_reads(lambda step: 1.0)
        {}
    """
    code = getattr(fn, "__code__", None)
    names = set(code.co_names) if code is not None else set()
    if "trainer" not in names or "estimated_stepping_batches" in names:  # the latter: it handles -1 itself
        return {}
    out: dict[str, Any] = {}
    for var, obj in _owners(fn):
        if not isinstance(obj, torch.nn.Module):
            continue
        try:
            trainer = obj.trainer  # a LightningModule's public property; raises when no trainer is attached
        except Exception:  # a module without a trainer reads nothing from it
            continue
        out.update({f"{var}.trainer.{n}": getattr(trainer, n, None) for n in TRAINER_LENGTHS if n in names})
    return out


def _reads(fn: Any) -> dict[str, Any]:
    """What a lambda's formula reads: a ``partial``'s keywords, or its closure's values, module values and trainer."""
    if isinstance(fn, functools.partial):
        return dict(fn.keywords)
    plain = {var: v for var, v in _owners(fn) if var != "self" or not isinstance(v, torch.nn.Module)}
    return {**plain, **module_values(fn), **trainer_reads(fn)}


def negative_read(scheduler: Any) -> tuple[str, int] | None:
    """The first horizon-like value below zero that a ``LambdaLR``-style scheduler's lambdas read, with its name.

    Examples:
        >>> import functools, torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> f = functools.partial(lambda s, num_training_steps: 1 - s / num_training_steps, num_training_steps=-1)
        >>> negative_read(torch.optim.lr_scheduler.LambdaLR(opt, f))
        ('num_training_steps', -1)
    """
    for fn in getattr(scheduler, "lr_lambdas", None) or ():
        for key, v in _reads(fn).items():
            last = key.rsplit(".", 1)[-1].lower()
            if isinstance(v, int) and not isinstance(v, bool) and v < 0 and LENGTH_NAME.search(last):
                return key, v
    return None


def _why(key: str, value: int) -> str:
    """Where a -1 comes from, in Lightning's terms."""
    if value != -1:
        return ""
    if key.endswith("trainer.max_epochs"):
        return " (Trainer.max_epochs is -1 when max_steps ends the run)"
    if key.endswith("trainer.max_steps"):
        return " (Trainer.max_steps is -1 when max_epochs ends the run)"
    return " (-1 is Trainer.max_steps when max_epochs ends the run: self.trainer.max_steps)"


def lambda_negative(ctx: CheckContext) -> list[Finding]:
    """``horizon-too-short`` of a lambda that divides by a negative horizon: its formula runs backwards (the LR
    climbs without end, or drops to 0 at once), so the whole run is claimed and not reported again as a long
    warm-up, an early zero or a jump."""
    named = negative_read(ctx.scheduler)
    n = ctx.cols.n
    if named is None or n < 1:
        return []
    key, value = named
    wanted = n + steps_so_far(ctx.scheduler)
    first, last = float(ctx.cols.row(0).max()), float(ctx.cols.row(n - 1).max())
    p = ctx.cols.first_at_least(0, n, 0, float(ctx.cols.mx[:, 0].max()) * (1 - 1e-9)) or 0
    peak = float(ctx.cols.row(p).max())
    shown = f" (peak {peak:.3g} at step {ctx.at(p)})" if peak > max(first, last) * (1 + 1e-6) else ""
    msg = (
        f"{describe(ctx.scheduler)} on {ctx.optimizer_label}: its lambda reads {key}={value}{_why(key, value)}, a "
        f"horizon that is not a number of steps, so over the run's {n} scheduler steps its LR goes from {first:.3g} "
        f"to {last:.3g}{shown}, not the schedule the formula was written for."
    )
    per_step = ", self.trainer.estimated_stepping_batches" if ctx.steps_per_epoch is not None else ""
    if ".trainer." in key:
        hint = f"size it with the run's scheduler steps ({wanted}{per_step}) in place of {key}."
    else:
        hint = f"use {key}={wanted} (the run's scheduler steps{per_step}){ctx.or_auto(key)}."
    ctx.claim(0, n)
    return [finding(ctx, "horizon-too-short", "warning", msg, None, hint, arg=key, value=value, suggested=wanted)]


def phase_negative(ctx: CheckContext, seg: Segment, arg: str, h: int, steps_before: int) -> Finding:
    """``horizon-too-short`` of a phase whose horizon ``arg`` is negative (``T_max=self.trainer.max_steps`` in a run
    that ``max_epochs`` ends; ``steps_before``: the scheduler's steps before the review): the formula runs backwards,
    so the phase is claimed whole and not reported again as a rising decay or a jump."""
    wanted = ctx.total_steps - seg.start + steps_before
    msg = (
        f"{describe(seg.scheduler)} on {ctx.optimizer_label}: its horizon {arg}={h} is not a number of steps"
        f"{_why(arg, h)}, so the LR it gives over the run's {seg.stop - seg.start} scheduler steps is not the schedule "
        "its class documents."
    )
    ctx.claim(seg.start, seg.stop)
    hint = f"use {arg}={wanted} (the run's scheduler steps, self.trainer.estimated_stepping_batches){ctx.or_auto(arg)}."
    return finding(ctx, "horizon-too-short", "warning", msg, None, hint, arg=arg, value=h, suggested=wanted)
