"""How a stepping finding names who steps the scheduler and what to do: in Lightning's terms for ``LRMonitor``, in
the loop's terms for ``LoopMonitor``. The checks are the same; only these phrases differ.

Examples:
    >>> LIGHTNING.steps_it.format(n="3 times"), LOOP.steps_it.format(n="once")
    ('Lightning steps it 3 times by then', 'one step() per optimizer step steps it once by then')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LIGHTNING", "LOOP", "Voice"]


@dataclass(frozen=True)
class Voice:
    """The phrases of the stepping findings (``{n}``: a step count)."""

    #: after "was stepped M times in the first D optimizer steps (...)"
    steps_it: str
    #: after "was stepped M times where ..."
    stepped_it: str
    #: after the stepped count of a per-step scheduler
    per_step: str
    #: the scheduler is where the expected stepping puts it
    in_place: str
    fix_extra: str
    fix_skipped: str
    fix_stall: str
    #: why a scheduler barely moves, when nothing more specific is known
    stall_why: str
    #: the fix of a scheduler found out of place after a resume
    fix_resume: str


LIGHTNING = Voice(
    steps_it="Lightning steps it {n} by then",
    stepped_it="Lightning stepped it {n} times",
    per_step=" (interval='step')",
    in_place="the scheduler is where Lightning's stepping puts it",
    fix_extra="remove the extra scheduler.step() call (e.g. in training_step, optimizer_step or an epoch hook); "
    "with automatic optimization Lightning steps the schedulers itself.",
    fix_skipped="look for what skips scheduler.step(): an lr_scheduler_step override that returns early or passes "
    "the epoch, or a callback that restores the scheduler's state.",
    fix_stall="call scheduler.step() without the epoch in lr_scheduler_step (a timm scheduler stepped per optimizer "
    "step: scheduler.step_update(num_updates=self.global_step)); for a schedule counted in epochs, use "
    "'interval': 'epoch' and scheduler.step(epoch=self.current_epoch + 1).",
    stall_why="its step() does not advance it",
    fix_resume="the checkpoint holds no state for this scheduler (was LRMonitor added, or its scheduler count "
    "changed, since it was saved?): resume from a checkpoint saved with this LRMonitor, or start a fresh run.",
)

LOOP = Voice(
    steps_it="one step() per optimizer step steps it {n} by then",
    stepped_it="one scheduler.step() per optimizer step makes {n}",
    per_step="",
    in_place="the scheduler is where one step() per optimizer step puts it",
    fix_extra="call scheduler.step() once per optimizer step, right after optimizer.step(); remove the other call.",
    fix_skipped="call scheduler.step() after every optimizer.step() (also on the steps your loop treats specially).",
    fix_stall="call scheduler.step() after every optimizer.step(), without an epoch argument (a timm scheduler: "
    "scheduler.step_update(num_updates=step)); for a schedule counted in epochs, give LoopMonitor total_steps in "
    "epochs and step it once per epoch.",
    stall_why="your loop does not call its step() after each optimizer step",
    fix_resume="save and load the scheduler with the monitor: fabric.save(path, {..., 'scheduler': scheduler, "
    "'lrmon': monitor}) and the same dict to fabric.load (plain PyTorch: their state_dict()s).",
)
