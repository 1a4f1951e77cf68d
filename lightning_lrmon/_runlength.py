"""How many times Lightning will step a scheduler: one answer, for a live ``Trainer`` and for a config file.

Lightning steps an ``interval="step"`` scheduler after an optimizer step when ``(batch_idx + 1) % frequency == 0``,
where ``batch_idx`` counts *batches* (micro-batches under gradient accumulation) and restarts every epoch; an
``interval="epoch"`` scheduler on the last batch of every ``frequency``-th epoch (also when ``max_steps`` ends the
run on that batch). :class:`RunFacts` holds the numbers that decide it; the functions here count exactly that.

Example:
    >>> facts = RunFacts(max_steps=-1, max_epochs=8, batches_per_epoch=8, accumulate=2)
    >>> facts.optimizer_steps()
    32
    >>> scheduler_steps(facts, "step", 2)  # every optimizer step is on an even batch_idx + 1
    32
    >>> scheduler_steps(facts, "step", 3), scheduler_steps(facts, "epoch", 1)
    (8, 8)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = ["RunFacts", "opt_step_of_rows", "scheduler_steps", "steps_done", "unknown_length_reason"]

Interval = Literal["step", "epoch"]


@dataclass(frozen=True)
class RunFacts:
    """The numbers of a run that decide how often a scheduler is stepped.

    Attributes:
        max_steps: ``Trainer(max_steps)``; ``-1`` for no limit.
        max_epochs: ``Trainer(max_epochs)``; ``None`` or ``-1`` for no limit.
        batches_per_epoch: training batches per epoch on one rank (after ``limit_train_batches``); ``None`` when
            the loader has no length.
        accumulate: ``accumulate_grad_batches``.
    """

    max_steps: int = -1
    max_epochs: int | None = None
    batches_per_epoch: int | None = None
    accumulate: int = 1

    @property
    def epochs_limited(self) -> bool:
        return self.max_epochs is not None and self.max_epochs >= 0

    def optimizer_steps_per_epoch(self) -> int | None:
        """Optimizer steps in one epoch (the last, partial accumulation window steps too)."""
        if self.batches_per_epoch is None:
            return None
        return math.ceil(self.batches_per_epoch / max(1, self.accumulate))

    def optimizer_steps(self) -> int | None:
        """Optimizer steps in the whole run, or ``None`` when it is endless or unknown."""
        ope = self.optimizer_steps_per_epoch()
        by_epochs = ope * int(self.max_epochs) if ope is not None and self.epochs_limited else None  # type: ignore[arg-type]
        by_steps = self.max_steps if self.max_steps >= 0 else None
        known = [n for n in (by_epochs, by_steps) if n is not None]
        return min(known) if known else None


@functools.lru_cache(maxsize=32)
def _pattern(facts: RunFacts, frequency: int) -> np.ndarray:
    """Within-epoch optimizer-step indices after which an ``interval="step"`` scheduler steps.

    Cached (``RunFacts`` is frozen): the runtime stepping check asks for it during training.
    """
    b, acc = int(facts.batches_per_epoch or 0), max(1, facts.accumulate)
    batch = np.arange(1, b + 1, dtype=np.int64)  # batch_idx + 1
    optimizer_batches = batch[(batch % acc == 0) | (batch == b)]
    return np.flatnonzero(optimizer_batches % frequency == 0)


def scheduler_steps(facts: RunFacts, interval: Interval, frequency: int = 1) -> int | None:
    """Scheduler steps in the whole run (``None``: endless or unknown).

    Example:
        >>> scheduler_steps(RunFacts(max_steps=20, max_epochs=10, batches_per_epoch=8), "epoch")  # max_steps wins
        2
        >>> scheduler_steps(RunFacts(max_steps=100), "step", 1)  # a loader without length, bounded by max_steps
        100
    """
    total = facts.optimizer_steps()
    if interval == "epoch":
        ope = facts.optimizer_steps_per_epoch()
        if ope is None:
            return int(facts.max_epochs) // frequency if facts.epochs_limited and facts.max_steps < 0 else None  # type: ignore[arg-type]
        return None if total is None else (total // max(ope, 1)) // frequency
    if total is None:
        return None
    return steps_done(facts, interval, frequency, global_step=total, epoch=0)


def steps_done(facts: RunFacts, interval: Interval, frequency: int, *, global_step: int, epoch: int) -> int:
    """Scheduler steps Lightning has taken when the run is at ``global_step`` / ``epoch`` (e.g. after a resume).

    Example:
        >>> steps_done(RunFacts(batches_per_epoch=10), "step", 3, global_step=15, epoch=1)
        4
    """
    if interval == "epoch":
        return epoch // frequency
    if facts.batches_per_epoch is None:  # one endless epoch: batch_idx never restarts
        acc = max(1, facts.accumulate)
        return (global_step * acc) // math.lcm(acc, frequency)
    pattern = _pattern(facts, frequency)
    ope = max(1, facts.optimizer_steps_per_epoch() or 1)
    full, rest = divmod(global_step, ope)
    return full * len(pattern) + int(np.count_nonzero(pattern < rest))


def opt_step_of_rows(facts: RunFacts, interval: Interval, frequency: int, rows: np.ndarray, start: int) -> np.ndarray:
    """The first optimizer step that uses each simulated row (row 0: the LR now, at optimizer step ``start``).

    Example:
        >>> opt_step_of_rows(RunFacts(batches_per_epoch=6, accumulate=2), "step", 2, np.arange(4), 0).tolist()
        [0, 1, 2, 3]
        >>> opt_step_of_rows(RunFacts(batches_per_epoch=4), "epoch", 1, np.arange(3), 0).tolist()
        [0, 4, 8]
    """
    rows = np.asarray(rows, dtype=np.int64)
    ope = facts.optimizer_steps_per_epoch()
    if interval == "epoch":
        return start + rows * frequency * max(1, ope or 1)
    if ope is None:
        acc = max(1, facts.accumulate)
        per = math.lcm(acc, frequency) // acc
        return start + rows * per
    pattern = _pattern(facts, frequency)
    if pattern.size == 0:
        return np.full(rows.shape, start)
    done = steps_done(facts, interval, frequency, global_step=start, epoch=0)
    k = rows + done - 1  # the scheduler step that produced each row (0-based over the run)
    pos = (k // pattern.size) * ope + pattern[k % pattern.size] + 1
    return np.where(rows == 0, start, pos)


def unknown_length_reason(facts: RunFacts, interval: Interval) -> str:
    """Why the run's length in scheduler steps is unknown, and how to fix it (for errors and notes).

    Example:
        >>> unknown_length_reason(RunFacts(max_epochs=5), "step")[:47]
        'the training DataLoader has no length (e.g. an '
    """
    if facts.batches_per_epoch is None and (facts.epochs_limited or interval == "epoch"):
        return (
            "the training DataLoader has no length (e.g. an IterableDataset without __len__), so an epoch's "
            "number of steps is unknown. Set Trainer(max_steps=N), or give the dataset a __len__"
        )
    return "this run is endless (max_steps=-1, max_epochs=-1). Set Trainer(max_steps=...) or Trainer(max_epochs=...)"


def facts_from_trainer(trainer: Any) -> RunFacts:
    """Read :class:`RunFacts` from a live Lightning ``Trainer`` (public attributes only).

    ``estimated_stepping_batches`` is read first: it loads the training data, so ``num_training_batches`` is set.
    """
    _ = trainer.estimated_stepping_batches
    nb = trainer.num_training_batches
    batches = int(nb) if isinstance(nb, (int, float)) and math.isfinite(nb) else None
    max_epochs = trainer.max_epochs
    return RunFacts(
        max_steps=int(trainer.max_steps),
        max_epochs=None if max_epochs is None else int(max_epochs),
        batches_per_epoch=batches,
        accumulate=int(trainer.accumulate_grad_batches),
    )
