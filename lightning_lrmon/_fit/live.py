"""The objects that watch the live run: the stepping check (double and stalled steps, the plan held against
the applied LR), the length watch (a loader whose length changes)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from lightning_lrmon._findings import Finding
from lightning_lrmon._fit.cursor import EpochRows, PlanCursor, parted, parted_groups
from lightning_lrmon._fit.position import counts_steps, fractional_epochs, scheduler_position
from lightning_lrmon._fit.runtime import (
    HOOK_STALLS,
    double_step,
    loader_length_changed,
    lr_outside_plan,
    off_count,
    stalled,
)
from lightning_lrmon._fit.timm import t_mismatch
from lightning_lrmon._fit.voice import LIGHTNING, Voice
from lightning_lrmon._schedulers import describe
from lightning_lrmon._simulation.shadow import lr_function
from lightning_lrmon._stepping.contract import t_unit
from lightning_lrmon._stepping.runlength import RunFacts, scheduler_steps, steps_done

__all__ = ["LengthWatch", "SteppingCheck"]


class SteppingCheck:
    """``double-step`` for the step-interval schedulers of a fit: how far each moved against how often Lightning
    steps it, from the optimizer steps a hook counted (``n`` calls since the check began).

    Args:
        configs: the Trainer's scheduler configs (``scheduler``, ``interval``, ``frequency``).
        facts: the run's numbers (for steps a ``frequency`` allows).
        global_step: the optimizer step the check begins at.
        epoch: the epoch it begins at.
        hook: what the module's ``lr_scheduler_step`` override calls (``stepping_hook``; "": none).
        owner: what holds the run's configs as ``lr_scheduler_configs`` (the Trainer's strategy): a config it no
            longer holds (``StochasticWeightAveraging`` swaps in its SWALR) is not checked any more.
        gated: the configs an ``lr_scheduler_step`` override steps on a condition of the run: while it steps them on
            fewer than half of Lightning's calls (once per epoch, every few steps, not yet) that is its cadence,
            judged from the steps it takes (``ObservedStepping.cadence``), not a stall.
        voice: who the findings say steps the schedulers (Lightning, or the user's loop).
    """

    def __init__(
        self,
        configs: Sequence[Any],
        facts: RunFacts,
        global_step: int,
        *,
        epoch: int = 0,
        hook: str = "",
        owner: Any = None,
        gated: Sequence[Any] = (),
        voice: Voice = LIGHTNING,
    ) -> None:
        self._owner, self._voice, self._gated = owner, voice, {id(c) for c in gated}
        self._facts, self._g0, self._hook = facts, global_step, hook
        self._plans: dict[int, Any] = {}
        self._first_part: dict[int, tuple[int, int, float, float]] = {}  # by id of the config
        self._epoch_part: dict[int, tuple[int, int, float, float]] = {}  # the same, seen at a step this epoch
        self._epoch_held: dict[int, Any] = {}  # by id of the optimizer: its epoch scheduler, held at every step
        self._stepwise: set[int] = set()  # ids of epoch configs whose first part was seen at a step
        self._cursors: dict[int, PlanCursor] = {}  # by id of the optimizer: its per-step scheduler's plan, read on
        self._by_epoch = [  # epoch-interval schedulers, checked at epoch boundaries (a user's extra step() shows there)
            (c, scheduler_position(c.scheduler), epoch, describe(c.scheduler))
            for c in configs
            if c.interval == "epoch" and not c.reduce_on_plateau
        ]
        self._n0: dict[int, int] = {}  # optimizer steps counted before a rebase, by optimizer
        self._first: dict[int, tuple[int, int]] = {}  # (moved, allowed) at a per-step scheduler's first check
        self._watched = [
            (
                c,
                scheduler_position(c.scheduler),
                steps_done(facts, "step", max(1, int(c.frequency)), global_step=global_step, epoch=0),
                describe(c.scheduler),  # once: describing a scheduler costs far more than the check
            )
            for c in configs
            if c.interval == "step" and not c.reduce_on_plateau  # a plateau's cuts follow its metric, not a plan
        ]
        # foreign schedulers with a pure LR of t and no step counter (timm's): the t a step used, read off its LR
        self._by_t = [
            (c, fn, t_unit(c.scheduler) or c.interval, describe(c.scheduler))
            for c in configs
            if hook and not counts_steps(c.scheduler) and (fn := lr_function(c.scheduler)) is not None
        ]
        self._epoch_start = (epoch, global_step)  # the epoch under way and the optimizer step it began at
        self._e0 = epoch  # the fit's first epoch

    def check(self, optimizer: Any, n: int, step: int, *, epochs: int | None = None) -> list[Finding | None]:
        """The findings for ``optimizer``'s schedulers after its ``n``-th step since the check began (``epochs``: the
        epochs this fit has ended, when called at an epoch boundary)."""
        opt = getattr(optimizer, "optimizer", optimizer)
        if id(opt) in self._epoch_held:  # the check counts skip the per-step band: hold the epoch scheduler here
            self.compare(optimizer, n, step, [float(g["lr"]) for g in opt.param_groups])
        out: list[Finding | None] = []
        live = self._live()
        for config, pos0, done0, name in self._watched:
            if config.scheduler.optimizer is not opt or (live is not None and id(config) not in live):
                continue
            done = n - 1 - self._n0.get(id(opt), 0)
            freq = max(1, int(config.frequency))
            # the Trainer's step when it is ahead of the count: an optimizer_step that skips optimizer.step() on some
            # batches, which Lightning still counts and steps a per-step scheduler after
            at = max(self._g0 + done, step)
            allowed = steps_done(self._facts, "step", freq, global_step=at, epoch=0) - done0
            moved = scheduler_position(config.scheduler) - pos0
            v = self._voice
            found = self._double_step(config, name, moved, allowed, done, step)
            if found is None and id(config) in self._gated and 2 * moved < allowed:
                out.append(None)  # the override's own cadence: judged by ObservedStepping.cadence
                continue
            if found is None and counts_steps(config.scheduler) and not fractional_epochs(config.scheduler):
                hook = self._stall_cause(moved, epochs)
                if hook is not None:
                    found = stalled(name, moved=moved, allowed=allowed, done=done, step=step, hook=hook, voice=v)
            wait = self._hook == "steps" and epochs is None  # the override's stepping is judged at the epoch's end
            out.append(self._held_against_the_plan(config, name, allowed, moved, found, step, wait=wait))
        return out

    def _stall_cause(self, moved: int, epochs: int | None) -> str | None:
        """What a stall is put down to (a key of ``HOOK_STALLS``, "" for none known); ``None``: not judged yet. An
        ``lr_scheduler_step`` override that calls a step is judged at the epoch's end, where passing the epoch shows
        as one step per epoch, apart from an override that steps on some calls only (a delayed start, say)."""
        if self._hook != "steps":
            return self._hook
        if epochs is None:
            return None
        return "steps" if moved <= epochs + 1 else "some"

    def _double_step(self, config: Any, name: str, moved: int, allowed: int, done: int, step: int) -> Finding | None:
        """``double-step`` with the rate measured between this check and the first: a step() the user makes in
        ``training_step`` has already run for the step under way when the check reads the count, so the counts
        since the start overstate the rate (3 in 1 step for a scheduler stepped twice per step)."""
        first = self._first.setdefault(id(config), (moved, allowed))
        if allowed <= first[1]:
            return None
        rate = (moved - first[0]) / (allowed - first[1])
        return double_step(name, moved=moved, allowed=allowed, done=done, step=step, voice=self._voice, rate=rate)

    @property
    def needs_every_step(self) -> bool:
        """A timm-style scheduler is watched: it is judged from the LRs each epoch's last step used."""
        return bool(self._by_t)

    def _live(self) -> set[int] | None:
        """The configs the run still steps (``None``: unknown, all of them)."""
        configs = getattr(self._owner, "lr_scheduler_configs", None)
        return None if configs is None else {id(c) for c in configs}

    def follow(self, plans: Mapping[int, Any]) -> None:
        """The planned LRs (a ``PlanRows`` by ``id`` of the scheduler config) the run is held against from now on:
        at the check counts, and at every step read for a per-step scheduler stepped at every optimizer step."""
        self._plans = dict(plans)
        self._cursors = {}
        for config, _pos, _done, _name in self._watched:
            plan, opt = self._plans.get(id(config)), config.scheduler.optimizer
            if plan is not None and max(1, int(config.frequency)) == 1:
                self._cursors[id(getattr(opt, "optimizer", opt))] = PlanCursor(plan, len(opt.param_groups))
        self._follow_epochs()

    def _follow_epochs(self) -> None:
        """An epoch-interval scheduler alone on its optimizer, stepped every epoch in a run of equal epochs that
        starts at an epoch's start: held at every step read too, so a finding names the step where the run parted
        (it is still said at the epoch's end, where the count shows the cause)."""
        facts, self._epoch_held = self._facts, {}
        batches, acc = facts.batches_per_epoch, facts.accumulate
        if not batches or facts.accumulate_schedule:
            return
        spe = -(-batches // max(1, acc))  # Lightning steps the optimizer on each epoch's last batch too
        epoch0 = self._epoch_start[0]
        for config, _pos, _epoch, _name in self._by_epoch:
            plan, opt = self._plans.get(id(config)), config.scheduler.optimizer
            key = id(getattr(opt, "optimizer", opt))
            if plan is None or max(1, int(config.frequency)) != 1 or key in self._cursors or self._g0 != epoch0 * spe:
                continue
            self._cursors[key] = PlanCursor(EpochRows(plan, spe), len(opt.param_groups))
            self._epoch_held[key] = config

    def cursor_of(self, optimizer: Any) -> PlanCursor | None:
        """The plan of ``optimizer``'s per-step scheduler, read step by step (``None``: not held every step)."""
        return self._cursors.get(id(getattr(optimizer, "optimizer", optimizer)))

    def compare(
        self, optimizer: Any, n: int, step: int, values: Sequence[float]
    ) -> tuple[Sequence[Finding | None], bool]:
        """At the ``n``-th step of ``optimizer`` since the check began, which used ``values`` (its first group off
        the plan's, or past the cursor's window): every group against the plan; where they part, the check's
        findings at that very step. Also whether to keep comparing (not once a finding is said)."""
        cursor = self.cursor_of(optimizer)
        if cursor is None:
            return (), False
        planned = cursor.at(n - 1)
        if planned is None:  # past the plan, or a plan that cannot be read again: held at the check counts only
            self._cursors.pop(id(getattr(optimizer, "optimizer", optimizer)), None)
            return (), False
        if len(values) != len(planned):
            values = values[: len(planned)]
        if not parted(values, planned):
            return (), True
        key = id(getattr(optimizer, "optimizer", optimizer))
        config = self._epoch_held.pop(key, None)
        if config is not None:  # an epoch scheduler: the cause shows in its count at the epoch's end
            g = parted_groups(values, planned)[0]
            self._epoch_part.setdefault(id(config), (step, g, float(values[g]), float(planned[g])))
            self._cursors.pop(key, None)
            return (), False
        found = self.check(optimizer, n, step)
        if any(f is not None for f in found) or n > 4:  # said, or past the steps a stall needs to show
            self._cursors.pop(key, None)
            return found, False
        return found, True

    def _held_against_the_plan(
        self, config: Any, name: str, allowed: int, moved: int, found: Finding | None, step: int, *, wait: bool = False
    ) -> Finding | None:
        """``found`` (a stepping finding) with the step where the applied LR left the plan and both values; with no
        stepping cause, an LR written outside the scheduler is an ``lr-outside-plan`` note."""
        seen = self._epoch_part.pop(id(config), None)  # where a step read this epoch parted (an epoch scheduler)
        plan = self._plans.get(id(config))
        planned = plan.at(allowed) if plan is not None else None
        if planned is None:
            return found
        applied = [float(g["lr"]) for g in config.scheduler.optimizer.param_groups]
        groups = parted_groups(applied, planned)
        if not groups or len(applied) != len(planned):
            return found
        g = groups[0]
        if id(config) not in self._first_part and seen is not None:
            self._stepwise.add(id(config))
        first = self._first_part.setdefault(id(config), seen or (step, g, applied[g], float(planned[g])))
        early = allowed < 4 or wait  # too few steps to tell a stall or a double step from one stray call: wait
        steps_by_count = counts_steps(config.scheduler) and not fractional_epochs(config.scheduler)
        if found is None and moved != allowed and not early and steps_by_count:
            found = off_count(name, moved=moved, allowed=allowed, step=step, voice=self._voice)
            if moved < allowed and self._hook == "steps":  # the module's lr_scheduler_step skips calls
                found = dataclasses.replace(found, hint=HOOK_STALLS["some"][1])
        if found is not None:
            at, g0, a0, p0 = first  # the first step seen to part, which may be before the cause shows
            where = f"optimizer step {at}, group {g0} uses {a0:.6g} where the plan has {p0:.6g}"
            # an epoch-interval scheduler not held at every step is seen off its plan at the epoch's end, not where
            # it left it
            stepwise = id(config) in self._stepwise or config.interval != "epoch"
            left = "left the plan" if stepwise else "is off the plan at the epoch's end"
            return dataclasses.replace(found, message=f"{found.message} The applied LR {left}: at {where}.")
        if moved != allowed or sum(p is plan for p in self._plans.values()) > 1:
            return None  # another scheduler of a stack (sharing this plan) may be the one out of place
        return lr_outside_plan(name, group=g, applied=applied[g], planned=planned[g], step=step, voice=self._voice)

    def at_epoch_boundary(
        self,
        *,
        epochs_done: int,
        global_step: int,
        steps: Sequence[tuple[Any, int]] = (),
        used: Mapping[int, Sequence[float]] | None = None,
    ) -> list[Finding | None]:
        """The findings once ``epochs_done`` epochs have ended: the epoch-interval schedulers (Lightning steps each
        once per ``frequency`` epochs, at the epoch's last batch), and the step-interval ones after each optimizer's
        steps so far (``steps``: optimizer and count), so a run that leaves its plan is said within that epoch;
        ``used``: the LRs the last step of each optimizer (by ``id``) used, against which a timm-style scheduler's
        t is read."""
        out: list[Finding | None] = []
        for opt, n in steps:
            if n > 0:
                # n steps taken, and the scheduler stepped after each
                out += self.check(opt, n + 1, global_step, epochs=epochs_done - self._e0)
        out += self._held_by_t(epochs_done, global_step, used)
        live = self._live()
        for config, pos0, epoch0, name in self._by_epoch:
            if live is not None and id(config) not in live:
                continue
            freq = max(1, int(config.frequency))
            allowed = epochs_done // freq - epoch0 // freq
            moved = scheduler_position(config.scheduler) - pos0
            done = global_step - self._g0
            found = double_step(name, moved=moved, allowed=allowed, done=done, step=global_step)
            out.append(self._held_against_the_plan(config, name, allowed, moved, found, global_step))
        return out

    def _held_by_t(
        self, epochs_done: int, global_step: int, used: Mapping[int, Sequence[float]] | None
    ) -> list[Finding | None]:
        """A timm-style scheduler: the t the epoch's last step used (read off its LR) against the t timm's convention
        gives it (the epoch, or the optimizer updates before that step); said once per scheduler."""
        epoch, start = self._epoch_start
        if epochs_done - 1 != epoch:
            return []  # the next epoch's start: this boundary was judged at the epoch's end
        self._epoch_start = (epochs_done, global_step)  # no optimizer step between an epoch's end and the next start
        out: list[Finding | None] = []
        for item in list(self._by_t):
            config, fn, unit, name = item
            values = (used or {}).get(id(getattr(config.scheduler.optimizer, "optimizer", config.scheduler.optimizer)))
            if not values:
                continue
            found = t_mismatch(
                name,
                fn,
                list(values),
                unit=unit,
                interval=config.interval,
                epoch=epoch,
                epoch_start=start,
                global_step=global_step,
                total=self._facts.optimizer_steps(),
                per_epoch=self._facts.batches_per_epoch,
            )
            if found is not None:
                self._by_t.remove(item)
                out.append(found)
        return out

    def rebase(self, facts: RunFacts, counts: Mapping[int, int]) -> None:
        """At an epoch start, when the loader's length changed: count from here with the new numbers (``counts``:
        the optimizer steps counted so far, by ``id`` of the optimizer)."""
        self._facts, self._g0 = dataclasses.replace(facts, max_steps=-1, max_epochs=None), 0
        self._n0 = dict(counts)
        self._watched = [(c, scheduler_position(c.scheduler), 0, name) for c, _p, _d, name in self._watched]
        self._cursors = {}  # the plan was for the old length: held at the check counts only from here


def _from_epoch(facts: RunFacts, epoch: int) -> tuple[tuple[int, int], ...]:
    """The accumulation schedule counted from ``epoch`` (epoch 0 of the rest of the run)."""
    schedule = facts.accumulate_schedule
    if not schedule:
        return ()
    return ((0, facts.accumulate_at(epoch)), *((e - epoch, f) for e, f in schedule if e > epoch))


class LengthWatch:
    """Re-counts the run at each epoch start, for loaders whose length changes (``reload_dataloaders_every_n_epochs``,
    a growing dataset): each scheduler's real total against the total it was reviewed for, said once."""

    def __init__(self, configs: Sequence[Any], facts: RunFacts, *, global_step: int, epoch: int) -> None:
        self.facts = facts
        self._watched = {
            id(c): (
                c,
                scheduler_steps(facts, c.interval, max(1, int(c.frequency))),
                scheduler_position(c.scheduler)
                - steps_done(facts, c.interval, max(1, int(c.frequency)), global_step=global_step, epoch=epoch),
            )
            for c in configs
        }

    def epoch_started(
        self, batches: int | None, *, epoch: int, global_step: int, live: Sequence[Any] = ()
    ) -> tuple[bool, list[Finding]]:
        """Whether the loader's length changed, and a finding per scheduler (of those still in ``live``, the
        Trainer's configs: SWA replaces one) whose run length it changed."""
        was = self.facts.batches_per_epoch
        if batches is None or was is None or batches == was:
            return False, []
        left_epochs = int(self.facts.max_epochs or 0) - epoch if self.facts.epochs_limited else None
        left_steps = self.facts.max_steps - global_step if self.facts.max_steps >= 0 else -1
        rest = dataclasses.replace(
            self.facts,
            batches_per_epoch=batches,
            max_epochs=left_epochs,
            max_steps=left_steps,
            accumulate=self.facts.accumulate_at(epoch),
            accumulate_schedule=_from_epoch(self.facts, epoch),
        )
        out = []
        present = {id(c) for c in live}
        for key, (c, reviewed, pos0) in self._watched.items():
            if key not in present:
                continue
            more = scheduler_steps(rest, c.interval, max(1, int(c.frequency)))
            total = None if more is None else scheduler_position(c.scheduler) - pos0 + more
            if reviewed is None or total is None or total == reviewed:
                continue
            out.append(
                loader_length_changed(
                    c.scheduler, was=was, now=batches, epoch=epoch, reviewed=reviewed, total=total, step=global_step
                )
            )
            self._watched[key] = (c, total, pos0)
        self.facts = dataclasses.replace(self.facts, batches_per_epoch=batches)
        return True, out
