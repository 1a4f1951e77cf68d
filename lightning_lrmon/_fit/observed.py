"""The stepping the user does, observed over the fit's first epoch: under manual optimization, and for schedulers
kept on the module that ``configure_optimizers`` does not return."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from lightning_lrmon._findings import Finding
from lightning_lrmon._fit.position import counts_steps, scheduler_position
from lightning_lrmon._fit.unreturned import restarted
from lightning_lrmon._review.checks import RUN_LENGTH_CODES
from lightning_lrmon._review.pipeline import Review
from lightning_lrmon._schedulers import describe
from lightning_lrmon._simulation.shadow import shadows
from lightning_lrmon._stepping.contract import gates_its_step

__all__ = ["ObservedStepping", "gated_configs", "hold_for_the_first_epoch"]


class ObservedStepping:
    """Under manual optimization Lightning steps no scheduler: how often the user steps each one, observed over the
    first epoch of the fit. Also for schedulers kept on the module and not returned (Lightning never sees those).

    Observation begins at the fit's first epoch start (``begin``), after every ``on_train_start``: a module that
    restores a scheduler of its own there is seen restored.

    Also for per-step schedulers stepped by an ``lr_scheduler_step`` override that steps on a condition of the run
    (``overridden``): Lightning calls it after every optimizer step, the override decides which calls step.

    Args:
        configs: the Trainer's scheduler configs (and those of schedulers kept on the module, not returned).
        names: the module attribute of each of the latter, by ``id`` of its config.
        built: ``id`` of the configs whose scheduler LRMonitor built from a spec.
        overridden: ``id`` of the configs stepped through such an override.
    """

    def __init__(
        self,
        configs: Sequence[Any],
        *,
        names: Mapping[int, str] | None = None,
        built: Collection[int] = (),
        overridden: Collection[int] = (),
    ) -> None:
        self._configs = [c for c in configs if not c.reduce_on_plateau]
        self._names = dict(names or {})  # by id of the config: a scheduler kept on the module, not returned
        self._built = set(built)
        self._overridden = set(overridden)
        self.g0 = 0  # the optimizer step the observation began at
        self._marks: tuple[int, dict[int, int]] | None = None  # step and positions as the first epoch ended
        self._cadence_seen = False
        self._start: list[tuple[Any, int]] = []
        self._epoch, self._seen, self.begun = 0, False, False
        self._waiting: list[tuple[Any, int]] = []
        self._at_start: dict[int, tuple[Any, int, int]] = {}

    def begin(self, epoch: int, global_step: int) -> list[Finding | None]:
        """Start observing (the fit's first epoch start); a scheduler kept on the module found at its step 0 on a
        resume is said (the checkpoint does not hold it)."""
        self.begun, self._epoch, self.g0 = True, epoch, global_step
        self._start = [(c, scheduler_position(c.scheduler)) for c in self._configs]
        # each scheduler as the fit starts (a parameter-free copy): judged from there, as the user counts its steps;
        # one LRMonitor built is judged from where it stands (its 'auto' was bound to the run's optimizer steps)
        own = [(c, p0) for c, p0 in self._start if id(c) not in self._built]
        self._at_start = {id(c): (copy, p0, global_step) for c, p0 in own if (copy := _copy(c.scheduler))}
        return [
            restarted(self._names[id(c)], describe(c.scheduler), position=p0, step=global_step)
            for c, p0 in self._start
            if id(c) in self._names
        ]

    def at_start(self, config: Any) -> tuple[Any, int, int] | None:
        """A copy of ``config``'s scheduler as the fit started, its step count then, and the fit's first optimizer
        step (``None``: it could not be copied apart from the run)."""
        return self._at_start.get(id(config))

    def by_override(self, config: Any) -> bool:
        """Whether ``config``'s scheduler is stepped by an ``lr_scheduler_step`` override that steps on a condition."""
        return id(config) in self._overridden

    def cadence(self, epoch: int, global_step: int, *, final: bool = False) -> list[tuple[Any, int, int, int]]:
        """Once, for the configs stepped by an ``lr_scheduler_step`` override on a condition: each with the steps it
        took and Lightning's calls over the fit's second epoch (the first may hold a warm-up written in
        ``optimizer_step``), and its steps since the fit began; over the first epoch for a fit that ends within it."""
        if self._cadence_seen or not self.begun or not self._overridden:
            return []
        moved = {id(c): scheduler_position(c.scheduler) for c, _ in self._start if id(c) in self._overridden}
        if self._marks is None and epoch > self._epoch and not final:
            self._marks = (global_step, moved)  # the first epoch is over: the second is the one measured
            return []
        if not final and epoch <= self._epoch + 1:
            return []
        self._cadence_seen = True
        step0, at = self._marks if self._marks is not None and global_step > self._marks[0] else (self.g0, {})
        out = []
        for c, p0 in self._start:
            if id(c) in moved:
                out.append((c, moved[id(c)] - at.get(id(c), p0), global_step - step0, moved[id(c)] - p0))
        return out

    def unreturned(self, config: Any) -> str | None:
        """The name of ``config``'s scheduler on the module (``self.scheduler``) when the Trainer does not have it."""
        return self._names.get(id(config))

    def first_epoch_ended(self, epoch: int, *, final: bool = False) -> list[tuple[Any, int]]:
        """Once, when the fit's first epoch is over (``epoch`` is past it, or ``final``: the fit ended): each config
        with the scheduler steps the user took in that epoch."""
        if self._seen or (epoch <= self._epoch and not final):
            return []
        self._seen = True
        return [(c, scheduler_position(c.scheduler) - p0) for c, p0 in self._start if id(c) not in self._overridden]

    def wait(self, config: Any) -> None:
        """Judge ``config`` (not stepped in the first epoch) later: stepped every few epochs, as Lightning's docs
        show (``if self.trainer.is_last_batch and (epoch + 1) % N == 0``), it has not moved yet."""
        self._waiting += [(c, p0) for c, p0 in self._start if c is config]

    def never_moved(self, *, final: bool) -> list[Any]:
        """The configs waited for that have not moved by the fit's end (``final``); those that moved are let go."""
        self._waiting = [(c, p0) for c, p0 in self._waiting if scheduler_position(c.scheduler) == p0]
        if not final:
            return []
        out, self._waiting = [c for c, _ in self._waiting], []
        return out


def gated_configs(pl_module: Any, configs: Any) -> list[Any]:
    """The per-step schedulers stepped by an ``lr_scheduler_step`` override that steps on a condition of the run
    (``if self.trainer.is_last_batch: scheduler.step()``): how often it steps them is observed in the first epoch."""
    if not getattr(pl_module, "automatic_optimization", True) or not gates_its_step(pl_module):
        return []
    return [
        c
        for c in configs
        if c.interval == "step"
        and max(1, int(c.frequency)) == 1
        and not c.reduce_on_plateau
        and counts_steps(c.scheduler)
    ]


def hold_for_the_first_epoch(r: Review, *, by_hook: bool = False) -> None:
    """Under manual optimization (or ``by_hook``: an ``lr_scheduler_step`` override that steps on a condition of the
    run) the config's interval says nothing of the stepping: the horizon findings wait for the stepping that really
    happens (judged once the first epoch is over)."""
    held = sorted({f.code for f in r.findings if f.code in RUN_LENGTH_CODES})
    r.findings[:] = [f for f in r.findings if f.code not in RUN_LENGTH_CODES]
    who = (
        "your lr_scheduler_step override steps this scheduler on a condition of the run"
        if by_hook
        else "manual optimization: Lightning does not step this scheduler; call sch.step() where you step the optimizer"
    )
    when = "its second epoch (the first may hold a warm-up)" if by_hook else "the first epoch"
    r.notes.append(
        f"{who}. Its horizon is judged once {when} is over, from the steps "
        f"{'it takes' if by_hook else 'you take'} (LRMonitor warns if it is never stepped)"
        + (f"; {', '.join(held)} held until then." if held else ".")
    )


def _copy(scheduler: Any) -> Any:
    """A deep copy of ``scheduler`` on a parameter-free copy of its optimizer, its callables isolated (``None``: one
    could not be isolated, or the copy failed: the scheduler is then judged from where it stands)."""
    try:
        return shadows([scheduler])[0]
    except Exception:  # a copy is a convenience: never what stops a run
        return None
