"""How many times Lightning will step a scheduler: one answer, for a live ``Trainer`` and for a config file.

Lightning steps an ``interval="step"`` scheduler after an optimizer step when ``(batch_idx + 1) % frequency == 0``,
where ``batch_idx`` counts *batches* (micro-batches under gradient accumulation) and restarts every epoch; an
``interval="epoch"`` scheduler on the last batch of every ``frequency``-th epoch (also when ``max_steps`` ends the
run on that batch). ``RunFacts`` holds the numbers that decide it; the functions here count exactly that.

Examples:
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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = [
    "RunFacts",
    "opt_step_of_rows",
    "scheduler_steps",
    "step_pattern",
    "steps_done",
    "unknown_length_reason",
]

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
        time_limited: a ``max_time`` (Lightning's ``Timer``) may end the run before its steps or epochs do.
        accumulate_schedule: ``(first epoch, factor)`` pairs of a ``GradientAccumulationScheduler`` (sorted).
    """

    max_steps: int = -1
    max_epochs: int | None = None
    batches_per_epoch: int | None = None
    accumulate: int = 1
    time_limited: bool = False
    accumulate_schedule: tuple[tuple[int, int], ...] = ()

    def accumulate_at(self, epoch: int) -> int:
        """The accumulation factor of ``epoch`` (``GradientAccumulationScheduler``'s rule: the last key <= epoch)."""
        factor = self.accumulate
        for first, value in self.accumulate_schedule:
            if first <= epoch:
                factor = value
        return max(1, factor)

    def varies(self) -> bool:
        """Whether the accumulation factor changes during the run (a ``GradientAccumulationScheduler``)."""
        return any(v != self.accumulate for _, v in self.accumulate_schedule) and self.batches_per_epoch is not None

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
        if by_epochs is not None and self.varies():
            epochs = int(self.max_epochs or 0)
            by_epochs = sum(_segment_opt_steps(seg) for seg in segments(self, epochs))
        by_steps = self.max_steps if self.max_steps >= 0 else None
        known = [n for n in (by_epochs, by_steps) if n is not None]
        return min(known) if known else None


def _pattern(facts: RunFacts, frequency: int) -> np.ndarray:
    """Within-epoch optimizer-step indices after which an ``interval="step"`` scheduler steps."""
    return step_pattern(int(facts.batches_per_epoch or 0), max(1, facts.accumulate), frequency)


@functools.lru_cache(maxsize=64)
def step_pattern(batches: int, acc: int, frequency: int) -> np.ndarray:
    """Cached: the runtime stepping check asks for it during training."""
    batch = np.arange(1, batches + 1, dtype=np.int64)  # batch_idx + 1
    optimizer_batches = batch[(batch % acc == 0) | (batch == batches)]
    return np.flatnonzero(optimizer_batches % frequency == 0)


@dataclass(frozen=True)
class Segment:
    """Epochs ``[first, stop)`` with one accumulation factor (``stop`` ``None``: to the end of the run)."""

    first: int
    stop: int | None
    batches: int
    acc: int

    @property
    def ope(self) -> int:
        return math.ceil(self.batches / self.acc)


def segments(facts: RunFacts, epochs: int | None = None) -> list[Segment]:
    """The run's epochs cut where the accumulation factor changes (up to ``epochs`` when given).

    Examples:
        >>> f = RunFacts(max_epochs=4, batches_per_epoch=16, accumulate_schedule=((0, 1), (2, 4)))
        >>> [(s.first, s.stop, s.ope) for s in segments(f, 4)]
        [(0, 2, 16), (2, 4, 4)]
    """
    b = int(facts.batches_per_epoch or 0)
    firsts = sorted({0, *(e for e, _ in facts.accumulate_schedule if e > 0)})
    if epochs is not None:
        firsts = [e for e in firsts if e < epochs] or [0]
    stops: list[int | None] = [*firsts[1:], epochs]
    return [Segment(a, z, b, facts.accumulate_at(a)) for a, z in zip(firsts, stops)]


def _segment_opt_steps(seg: Segment) -> int:
    assert seg.stop is not None
    return seg.ope * (seg.stop - seg.first)


def _passed(facts: RunFacts, global_step: int) -> Iterator[tuple[Segment, int, int | None]]:
    """The segments the run's first ``global_step`` optimizer steps go through: each with its whole epochs done,
    and, for the segment the run is in, the optimizer steps done in its current epoch (``None`` for one passed)."""
    left = global_step
    for seg in segments(facts):
        span = None if seg.stop is None else seg.stop - seg.first
        full = left // max(seg.ope, 1) if span is None else min(span, left // max(seg.ope, 1))
        left -= full * seg.ope
        inside = span is None or full < span
        yield seg, full, left if inside else None
        if inside:
            return


def _varying_steps_done(facts: RunFacts, frequency: int, global_step: int) -> int:
    """Scheduler steps of an ``interval="step"`` scheduler after ``global_step`` optimizer steps, epoch by epoch
    factors (whole segments at once)."""
    done = 0
    for seg, full, rest in _passed(facts, global_step):
        pattern = step_pattern(seg.batches, seg.acc, frequency)
        done += full * len(pattern) + (0 if rest is None else int(np.count_nonzero(pattern < rest)))
    return done


def _varying_epochs_done(facts: RunFacts, global_step: int) -> int:
    """Whole epochs completed after ``global_step`` optimizer steps."""
    return sum(full for _seg, full, _rest in _passed(facts, global_step))


def _epoch_start_steps(facts: RunFacts, epochs: np.ndarray) -> np.ndarray:
    """The optimizer step at which each epoch in ``epochs`` starts."""
    out = np.zeros(epochs.shape, dtype=np.int64)
    opt0 = 0
    for seg in segments(facts):
        inside = (epochs >= seg.first) if seg.stop is None else (epochs >= seg.first) & (epochs < seg.stop)
        out[inside] = opt0 + (epochs[inside] - seg.first) * seg.ope
        if seg.stop is None:
            break
        opt0 += (seg.stop - seg.first) * seg.ope
    return out


def _varying_rows(facts: RunFacts, frequency: int, k: np.ndarray) -> np.ndarray:
    """The optimizer step after which scheduler step ``k`` (0-based over the run) is taken, + 1."""
    out = np.zeros(k.shape, dtype=np.int64)
    sched0, opt0 = 0, 0
    for seg in segments(facts):
        pattern = step_pattern(seg.batches, seg.acc, frequency)
        span = None if seg.stop is None else seg.stop - seg.first
        n_sched = None if span is None else span * len(pattern)
        inside = (k >= sched0) if n_sched is None else (k >= sched0) & (k < sched0 + n_sched)
        if pattern.size:
            local = k[inside] - sched0
            out[inside] = opt0 + (local // pattern.size) * seg.ope + pattern[local % pattern.size] + 1
        if n_sched is None:
            break
        sched0, opt0 = sched0 + n_sched, opt0 + span * seg.ope  # type: ignore[operator]
    return out


def scheduler_steps(facts: RunFacts, interval: Interval, frequency: int = 1) -> int | None:
    """Scheduler steps in the whole run (``None``: endless or unknown).

    Examples:
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
        if total is not None and facts.varies():
            return _varying_epochs_done(facts, total) // frequency
        return None if total is None else (total // max(ope, 1)) // frequency
    if total is None:
        return None
    return steps_done(facts, interval, frequency, global_step=total, epoch=0)


def steps_done(facts: RunFacts, interval: Interval, frequency: int, *, global_step: int, epoch: int) -> int:
    """Scheduler steps Lightning has taken when the run is at ``global_step`` / ``epoch`` (e.g. after a resume).

    An epoch-interval scheduler is stepped at its epoch's last batch, before the validation that ends the epoch: a
    checkpoint saved at that validation holds the scheduler already stepped while ``current_epoch`` still names the
    epoch, so the epochs whose last batch ran are counted from ``global_step`` when the epoch length is known.

    Examples:
        >>> steps_done(RunFacts(batches_per_epoch=10), "step", 3, global_step=15, epoch=1)
        4
        >>> steps_done(RunFacts(batches_per_epoch=10), "epoch", 1, global_step=20, epoch=1)  # at validation end
        2
    """
    if interval == "epoch":
        return max(epoch, epochs_whose_last_batch_ran(facts, global_step)) // frequency
    if facts.batches_per_epoch is None:  # one endless epoch: batch_idx never restarts
        acc = max(1, facts.accumulate)
        return (global_step * acc) // math.lcm(acc, frequency)
    if facts.varies():
        return _varying_steps_done(facts, frequency, global_step)
    pattern = _pattern(facts, frequency)
    ope = max(1, facts.optimizer_steps_per_epoch() or 1)
    full, rest = divmod(global_step, ope)
    return full * len(pattern) + int(np.count_nonzero(pattern < rest))


def epochs_whose_last_batch_ran(facts: RunFacts, global_step: int) -> int:
    """Epochs whose last optimizer step is among the first ``global_step`` (0 when the epoch length is unknown)."""
    if facts.batches_per_epoch is None:
        return 0
    if facts.varies():
        return _varying_epochs_done(facts, global_step)
    return global_step // max(1, facts.optimizer_steps_per_epoch() or 1)


def opt_step_of_rows(facts: RunFacts, interval: Interval, frequency: int, rows: np.ndarray, start: int) -> np.ndarray:
    """The first optimizer step that uses each simulated row (row 0: the LR now, at optimizer step ``start``).

    Examples:
        >>> opt_step_of_rows(RunFacts(batches_per_epoch=6, accumulate=2), "step", 2, np.arange(4), 0).tolist()
        [0, 1, 2, 3]
        >>> opt_step_of_rows(RunFacts(batches_per_epoch=4), "epoch", 1, np.arange(3), 0).tolist()
        [0, 4, 8]
    """
    rows = np.asarray(rows, dtype=np.int64)
    ope = facts.optimizer_steps_per_epoch()
    if interval == "epoch":
        if facts.varies():
            first = _varying_epochs_done(facts, start) + rows * frequency
            return np.where(rows == 0, start, _epoch_start_steps(facts, first))
        return start + rows * frequency * max(1, ope or 1)
    if ope is None:
        acc = max(1, facts.accumulate)
        per = math.lcm(acc, frequency) // acc
        return start + rows * per
    if facts.varies():
        done = steps_done(facts, interval, frequency, global_step=start, epoch=0)
        return np.where(rows == 0, start, _varying_rows(facts, frequency, rows + done - 1))
    pattern = _pattern(facts, frequency)
    if pattern.size == 0:
        return np.full(rows.shape, start)
    done = steps_done(facts, interval, frequency, global_step=start, epoch=0)
    k = rows + done - 1  # the scheduler step that produced each row (0-based over the run)
    pos = (k // pattern.size) * ope + pattern[k % pattern.size] + 1
    return np.where(rows == 0, start, pos)


def unknown_length_reason(facts: RunFacts, interval: Interval) -> str:
    """Why the run's length in scheduler steps is unknown, and how to fix it (for errors and notes).

    Examples:
        >>> unknown_length_reason(RunFacts(max_epochs=5), "step")[:47]
        'the training DataLoader has no length (e.g. an '
    """
    if facts.time_limited and facts.max_steps < 0 and not facts.epochs_limited:
        return (
            "this run is limited only by max_time, so its number of steps is unknown. Set Trainer(max_steps=N) "
            "(max_time can stay as a safety limit)"
        )
    if facts.batches_per_epoch is None and (facts.epochs_limited or interval == "epoch"):
        return (
            "the training DataLoader has no length (e.g. an IterableDataset without __len__), so an epoch's "
            "number of steps is unknown. Set Trainer(max_steps=N), or give the dataset a __len__"
        )
    return "this run is endless (max_steps=-1, max_epochs=-1). Set Trainer(max_steps=...) or Trainer(max_epochs=...)"


def facts_from_trainer(trainer: Any) -> RunFacts:
    """Read ``RunFacts`` from a live Lightning ``Trainer`` (public attributes only).

    ``estimated_stepping_batches`` is read first: it loads the training data, so ``num_training_batches`` is set.
    """
    _ = trainer.estimated_stepping_batches
    nb = trainer.num_training_batches
    batches = int(nb) if isinstance(nb, (int, float)) and math.isfinite(nb) else None
    max_epochs = trainer.max_epochs
    swa = swa_start(trainer)
    if swa is not None and max_epochs is not None and max_epochs >= 0:
        max_epochs = min(int(max_epochs), max(swa, 1))  # SWA's SWALR takes the LR over from epoch `swa` on
    schedule = accumulation_schedule(trainer)
    return RunFacts(
        max_steps=int(trainer.max_steps),
        max_epochs=None if max_epochs is None else int(max_epochs),
        batches_per_epoch=batches,
        accumulate=dict(schedule).get(0, int(trainer.accumulate_grad_batches)),
        time_limited=time_limited(trainer),
        accumulate_schedule=schedule,
    )


def swa_start(trainer: Any) -> int | None:
    """The epoch from which ``StochasticWeightAveraging`` replaces the first scheduler with its SWALR (its public
    ``swa_start``, known once its ``on_fit_start`` ran), or ``None``."""
    for cb in getattr(trainer, "callbacks", []):
        if type(cb).__name__ == "StochasticWeightAveraging":
            try:
                start = cb.swa_start
            except Exception:  # its on_fit_start has not run yet (a fractional start is resolved there)
                return None
            return int(start) if isinstance(start, int) else None
    return None


def accumulation_schedule(trainer: Any) -> tuple[tuple[int, int], ...]:
    """``GradientAccumulationScheduler``'s ``{epoch: factor}`` as sorted pairs (empty without one): it sets
    ``accumulate_grad_batches`` at each epoch start, so the run's length depends on every factor, not today's."""
    for cb in getattr(trainer, "callbacks", []):
        scheduling = getattr(cb, "scheduling", None)
        if type(cb).__name__ == "GradientAccumulationScheduler" and isinstance(scheduling, dict):
            pairs = sorted((int(e), int(f)) for e, f in scheduling.items())
            return tuple(pairs) if pairs and pairs[0][0] == 0 else ((0, 1), *pairs)
    return ()


def time_limited(trainer: Any) -> bool:
    """Whether ``Trainer(max_time=...)`` (a ``Timer`` callback with a duration) may stop the run early."""
    return any(
        type(cb).__name__ == "Timer"
        and callable(getattr(cb, "time_remaining", None))
        and cb.time_remaining() is not None
        for cb in getattr(trainer, "callbacks", [])
    )
