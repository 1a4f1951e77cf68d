"""The loop's own pieces of the shared live checks: how the stepping check is set up for a loop, the check of an LR
function against the LRs the loop writes, and the loop's notes.

Examples:
    >>> no_logger().code
    'no-logger'
"""

from __future__ import annotations

from typing import Any

from lightning_lrmon._findings import Finding, tooling
from lightning_lrmon._fit.cursor import parted_groups

__all__ = ["FunctionCheck", "no_logger", "not_judged"]


def no_logger() -> Finding:
    return tooling(
        "no-logger",
        "LoopMonitor has no logger, so it logs nothing; the schedule is still checked.",
        "pass logger=fabric.loggers, a Lightning or Fabric logger, or a torch SummaryWriter.",
    )


def not_judged(what: str) -> Finding:
    return tooling(
        "not-judged",
        f"{what} is logged but its schedule is not reviewed: LoopMonitor was given no total_steps.",
        "pass total_steps=<the optimizer steps your loop takes> to have it reviewed.",
    )


class FunctionCheck:
    """The LR each step used against ``lr_fn(step)``, at the steps the session checks at: a loop that writes another
    value (the function called with another counter, a finder, a second writer) gets an ``lr-outside-plan`` note.

    Args:
        plan: the reviewed plan (``PlanRows``) of the function, row 0 at optimizer step ``start``.
        start: the optimizer step of row 0 (a resumed loop starts part-way).
    """

    def __init__(self, plan: Any, start: int) -> None:
        self._plan, self._start = plan, start

    def check(self, optimizer: Any, n: int, step: int) -> list[Finding | None]:
        planned = self._plan.at(step - self._start) if self._plan is not None else None
        if planned is None:
            return []
        applied = [float(g["lr"]) for g in getattr(optimizer, "optimizer", optimizer).param_groups]
        groups = parted_groups(applied, planned)
        if not groups:
            return []
        g = groups[0]
        return [
            tooling(
                "lr-outside-plan",
                f"at optimizer step {step} group {g} uses LR {applied[g]:.6g} where lr_fn({step}) gives "
                f"{float(planned[g]):.6g}: the loop writes another value than the function LoopMonitor reviewed "
                "(called with another counter, e.g. micro-batches?). The planned-vs-actual chart shows the difference.",
                "give LoopMonitor the function and the step count your loop really uses, or write lr_fn(step) into "
                "param_groups before each optimizer.step().",
            )
        ]
