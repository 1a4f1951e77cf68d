"""Several schedulers on one optimizer (Lightning accepts a list of scheduler configs): simulated together, in the
order Lightning steps them, and checked for one erasing another.

Lightning steps every ``interval="step"`` scheduler after an optimizer step whose ``(batch_idx + 1)`` is a multiple
of its ``frequency``, then, at the end of an epoch, every ``interval="epoch"`` scheduler whose ``(epoch + 1)`` is,
each group in config order. A chainable scheduler (``StepLR``, ``ExponentialLR``...) multiplies the LR it finds; a
closed-form one (``LambdaLR``, ``OneCycleLR``, ``CyclicLR``...) sets it from its own formula, erasing what another
did since its last step. The simulation steps copies of them all on one parameter-free copy of the optimizer
(``shadows``), so the rows are the LRs the run will use.

Examples:
    >>> import torch
    >>> from dataclasses import dataclass
    >>> from lightning_lrmon._stepping.runlength import RunFacts
    >>> @dataclass
    ... class Config:  # what Lightning's LRSchedulerConfig holds
    ...     scheduler: object
    ...     interval: str = "step"
    ...     frequency: int = 1
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> warm = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 4))
    >>> decay = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
    >>> facts = RunFacts(max_epochs=3, batches_per_epoch=4)
    >>> sim = simulate_stack([Config(warm), Config(decay, "epoch")], facts, 12)
    >>> sim.lrs[:, 0].round(4).tolist()
    [0.025, 0.05, 0.075, 0.1, 0.01, 0.1, 0.1, 0.1, 0.01, 0.1, 0.1, 0.1]
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lightning_lrmon._findings import Finding
from lightning_lrmon._schedulers import describe
from lightning_lrmon._schedulers.isolate import keep_rng
from lightning_lrmon._simulation.shadow import DEFAULT_FALLBACK_BUDGET_S, Simulation, shadows
from lightning_lrmon._stepping.runlength import RunFacts, step_pattern

__all__ = ["Stack", "erasures", "simulate_stack", "stacked"]

#: A scheduler whose changes last at most this share of the steps they would last alone is erased by another.
ERASED_SHARE = 0.2


@dataclass
class Stack:
    """The schedulers of one optimizer, as the review names them (``describe`` reads ``init_args``)."""

    schedulers: list[Any]

    @property
    def optimizer(self) -> Any:
        return self.schedulers[0].optimizer

    @property
    def lrmon_description(self) -> str:
        """How messages name the stack: each scheduler, in config order."""
        return " + ".join(describe(s) for s in self.schedulers)


def stacked(configs: Sequence[Any]) -> list[list[Any]]:
    """The Trainer's scheduler configs grouped by optimizer, for optimizers with more than one. A metric-driven
    ``ReduceLROnPlateau`` is in its optimizer's group (a warm-up before it is a warm-up, not a decay that rises),
    simulated as holding the LR: what it will cut is not known before the run."""
    by_opt: dict[int, list[Any]] = {}
    for c in configs:
        by_opt.setdefault(id(c.scheduler.optimizer), []).append(c)
    return [group for group in by_opt.values() if len(group) > 1]


def _events(configs: Sequence[Any], facts: RunFacts) -> Iterator[list[int]]:
    """For each optimizer step of the run, in order: the indices of the configs stepped after it (Lightning's
    order: step-interval ones after the step, then, after an epoch's last step, the epoch-interval ones)."""
    b = int(facts.batches_per_epoch or 0)
    epoch = 0
    while True:
        acc = facts.accumulate_at(epoch)
        ope = -(-b // acc)
        patterns = [
            set(step_pattern(b, acc, max(1, int(c.frequency))).tolist()) if c.interval == "step" else set()
            for c in configs
        ]
        for j in range(ope):
            due = [i for i, c in enumerate(configs) if c.interval == "step" and j in patterns[i]]
            if j == ope - 1:
                due += [
                    i
                    for i, c in enumerate(configs)
                    if c.interval == "epoch" and (epoch + 1) % max(1, int(c.frequency)) == 0
                ]
            yield due
        epoch += 1


def simulate_stack(
    configs: Sequence[Any],
    facts: RunFacts,
    steps: int,
    *,
    start: int = 0,
    budget_s: float = DEFAULT_FALLBACK_BUDGET_S,
) -> Simulation:
    """The LR of every group at optimizer steps ``start .. start + steps - 1`` with every scheduler of ``configs``
    (one optimizer) stepped as Lightning steps them, from their current state (``start``: the run's step now)."""
    groups = configs[0].scheduler.optimizer.param_groups
    out = np.full((steps, len(groups)), np.nan)
    if not facts.batches_per_epoch:  # no length, or no batch: no optimizer step to order the schedulers by
        return Simulation(out, 0, method="unavailable", notes=["the training loader has no length"])
    with keep_rng(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            copies = shadows([c.scheduler for c in configs])
        except Exception as err:
            return Simulation(out, 0, method="unavailable", notes=[f"the schedulers could not be copied ({err})"])
        shadow_groups = copies[0].optimizer.param_groups
        deadline = time.perf_counter() + budget_s
        for g, due in enumerate(_events(configs, facts)):
            if g >= start + steps:
                break
            if g >= start:
                out[g - start] = [float(x["lr"]) for x in shadow_groups]
                if ((g - start) & 255) == 255 and time.perf_counter() > deadline:
                    return Simulation(out, g - start + 1, truncated=True, method="shadow")
            if g < start:
                continue
            error = _step_due(configs, copies, due)
            if error is not None:
                return Simulation(out, g - start + 1, error=error, method="shadow")
    return Simulation(out, steps, method="shadow")


def _step_due(configs: Sequence[Any], copies: Sequence[Any], due: Sequence[int]) -> str | None:
    """Step the copies of the configs due after one optimizer step; the error of the first that raises."""
    for i in due:
        if getattr(configs[i], "reduce_on_plateau", False):
            continue  # held: what its metric will do is not known before the run
        try:
            copies[i].step()
        except Exception as err:
            return f"{type(err).__name__}: {err}"
    return None


def _changed_rows(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.count_nonzero(~np.isclose(a, b, rtol=1e-9, atol=0.0).all(axis=1)))


def erasures(
    configs: Sequence[Any], facts: RunFacts, steps: int, joint: Simulation, *, start: int = 0
) -> list[Finding]:
    """``schedulers-conflict``: a scheduler whose changes the others erase (they last a share of the steps they
    would last alone), from the stack simulated with and without it."""
    out = []
    n = joint.valid_steps
    sims: dict[tuple[int, ...], Simulation] = {}  # of two schedulers, one alone is the other's "without"

    def run(which: tuple[int, ...]) -> Simulation:
        if which not in sims:
            sims[which] = simulate_stack([configs[j] for j in which], facts, n, start=start)
        return sims[which]

    for i, c in enumerate(configs):
        rest = [x for j, x in enumerate(configs) if j != i]
        alone, without = run((i,)), run(tuple(j for j in range(len(configs)) if j != i))
        if min(alone.valid_steps, without.valid_steps) < n or n == 0:
            continue
        solo = _changed_rows(alone.lrs[:n], np.broadcast_to(alone.lrs[0], alone.lrs[:n].shape))
        kept = _changed_rows(joint.lrs[:n], without.lrs[:n])
        if solo == 0 or kept > ERASED_SHARE * solo:
            continue
        others = " + ".join(describe(x.scheduler) for x in rest)
        out.append(
            Finding(
                "schedulers-conflict",
                "warning",
                f"{describe(c.scheduler)} shares its optimizer with {others}, which sets the LR from its own formula "
                f"when it steps: {describe(c.scheduler)}'s changes last {kept} of the run's {n} steps instead of the "
                f"{solo} they would last alone, so its schedule is mostly erased.",
                None,
                "combine them into one scheduler (SequentialLR for phases, ChainedScheduler for chainable "
                "factors, or one LambdaLR whose factor includes both), not two configs on one optimizer.",
            )
        )
    return out
