"""ReduceLROnPlateau and the validation metric it watches: when Lightning will step it without the metric there.

Lightning steps a ``ReduceLROnPlateau`` with the value of its ``monitor`` and raises when that metric is missing at a
step (unless the config's ``strict`` is ``False``). A validation metric exists only after a validation has run, so
the stepping must follow validation: these checks say so before the first batch, with the fix.

Examples:
    >>> f = plateau_every_epochs("val_loss", step=0, frequency=1, val_every=2, first_epoch=0, max_epochs=4)
    >>> f.hint.split(" (")[0]
    "set 'frequency': 2 in the lr_scheduler dict"
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lightning_lrmon._findings import Finding

__all__ = ["plateau_every_epochs", "plateau_monitor_missing", "plateau_per_step"]


def plateau_monitor_missing(monitor: str, *, epoch: int, available: Sequence[str], step: int) -> Finding:
    """``plateau-monitor-missing``: ReduceLROnPlateau's metric is not among the logged ones.

    Examples:
        >>> plateau_monitor_missing("val_los", epoch=0, available=["val_loss"], step=16).hint
        "self.log('val_los', ...) in training/validation, or set monitor to one of ['val_loss']."
    """
    names = sorted(available)
    return Finding(
        "plateau-monitor-missing",
        "warning",
        f"ReduceLROnPlateau watches {monitor!r}, but no such metric was logged in epoch {epoch}; available: {names}. "
        "It will never reduce the LR.",
        step,
        f"self.log({monitor!r}, ...) in training/validation, or set monitor to one of {names}.",
    )


_VALIDATION_METRIC = re.compile(r"(^|[_/.-])(val|valid|validation)([_/.-]|$)", re.IGNORECASE)


def plateau_per_step(
    monitor: str, *, step: int, frequency: int = 1, first_validation: int | None = None
) -> Finding | None:
    """``plateau-monitor-missing`` before the first batch: ReduceLROnPlateau stepped every ``frequency`` optimizer
    steps (``"interval": "step"``) on a validation metric, which does not exist before the first validation
    (``first_validation``: the batch after which it runs, ``None``: not in the first epoch): Lightning raises at the
    first step that comes before it. A ``frequency`` at or past the first validation (Lightning's documented
    ``"frequency": val_check_interval``) is fine: the metric is there, and stays, from then on.

    Examples:
        >>> plateau_per_step("val_loss", step=0).code
        'plateau-monitor-missing'
        >>> plateau_per_step("train_loss", step=0) is None
        True
        >>> plateau_per_step("val_loss", step=0, frequency=8, first_validation=8) is None
        True
    """
    if not _VALIDATION_METRIC.search(monitor):
        return None
    if first_validation is not None and frequency >= first_validation:
        return None
    every = "after every optimizer step" if frequency == 1 else f"every {frequency} optimizer steps"
    when = (
        "is logged only when validation runs"
        if first_validation is None
        else f"exists only after the first validation, after batch {first_validation}"
    )
    return Finding(
        "plateau-monitor-missing",
        "warning",
        f"ReduceLROnPlateau watches {monitor!r} with interval='step': Lightning steps it {every}, reading "
        f"{monitor!r} then, but a validation metric {when}, so Lightning will raise at its first step, after batch "
        f"{frequency} ('ReduceLROnPlateau conditioned on metric ... which is not available').",
        step,
        f"use 'interval': 'epoch' (Lightning steps it after validation, when {monitor!r} exists), set 'frequency' to "
        "the batches between validations (val_check_interval), or monitor a metric you self.log() in training_step.",
    )


def plateau_every_epochs(
    monitor: str, *, step: int, frequency: int, val_every: int | None, first_epoch: int, max_epochs: int | None
) -> Finding | None:
    """``plateau-monitor-missing`` before the first batch: ReduceLROnPlateau stepped at the end of every
    ``frequency``-th epoch (``"interval": "epoch"``) on a validation metric, while validation runs every
    ``val_every`` epochs (``check_val_every_n_epoch``): Lightning raises at the end of the first epoch it steps it
    without a validation before. ``None`` when every stepping epoch has one, or the run ends before.

    Examples:
        >>> plateau_every_epochs("val_loss", step=0, frequency=2, val_every=2, first_epoch=0, max_epochs=4) is None
        True
    """
    if not _VALIDATION_METRIC.search(monitor) or not val_every or val_every <= 1:
        return None
    last = max_epochs if max_epochs is not None and max_epochs >= 0 else first_epoch + frequency * val_every
    bare = [e for e in range(first_epoch, last) if (e + 1) % frequency == 0 and (e + 1) % val_every]
    if not bare:
        return None
    every = "at every epoch's end" if frequency == 1 else f"at the end of every {frequency} epochs"
    return Finding(
        "plateau-monitor-missing",
        "warning",
        f"ReduceLROnPlateau watches {monitor!r} with interval='epoch': Lightning steps it {every}, reading "
        f"{monitor!r} then, but validation runs every {val_every} epochs (check_val_every_n_epoch={val_every}), so "
        f"at the end of epoch {bare[0]} the metric is not there and Lightning will raise ('ReduceLROnPlateau "
        "conditioned on metric ... which is not available').",
        step,
        f"set 'frequency': {val_every} in the lr_scheduler dict (a step after each validation), 'strict': False to "
        "skip the steps without the metric, or monitor a metric you self.log() in training_step.",
    )
