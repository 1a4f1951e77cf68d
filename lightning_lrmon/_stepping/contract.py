"""Who steps a scheduler, read at fit start, and the causes a run's stepping gives a finding.

Lightning steps a scheduler per its config's ``interval`` (``"epoch"`` when the ``lr_scheduler`` dict has none) and
``frequency``; under manual optimization it steps none, the user does (or nobody); an overridden
``lr_scheduler_step`` replaces Lightning's ``scheduler.step()`` call. The review simulates the stepping that will
happen; these functions say, in the user's terms, what to change when that stepping is the cause of a finding.

Examples:
    >>> c = Contract(by="lightning", interval="epoch", frequency=1, built=False)
    >>> interval_fix(c)
    'return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}} from \
configure_optimizers, so Lightning steps it after every optimizer step'
"""

from __future__ import annotations

import builtins
import dataclasses
import dis
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from lightning_lrmon._findings import Finding

__all__ = [
    "Contract",
    "configured_by_lightningcli",
    "frequency_cause",
    "frequency_past_the_epoch",
    "gates_its_step",
    "interval_fix",
    "overrides_step",
    "per_epoch_cause",
    "read_contract",
    "stepping_hook",
    "t_unit",
]

SteppedBy = Literal["lightning", "user", "lr_scheduler_step"]


@dataclass(frozen=True)
class Contract:
    """Who steps one scheduler, and when (as the run's configuration says, before anything has run).

    Attributes:
        by: ``"lightning"`` (automatic optimization), ``"user"`` (manual optimization: Lightning steps nothing) or
            ``"lr_scheduler_step"`` (the module overrides the hook that steps it).
        interval: the config's ``interval``.
        frequency: the config's ``frequency``.
        built: LRMonitor built it (its fix is an ``LRMonitor`` argument, not the ``lr_scheduler`` dict).
        cli: LightningCLI's top-level ``lr_scheduler:`` (always stepped per epoch; the fix is in the config).
    """

    by: SteppedBy
    interval: str
    frequency: int
    built: bool
    cli: bool = False


def read_contract(config: Any, *, automatic: bool, overrides_step: bool, built: bool, cli: bool = False) -> Contract:
    """The contract of one of the Trainer's scheduler configs."""
    by: SteppedBy = "user" if not automatic else "lr_scheduler_step" if overrides_step else "lightning"
    return Contract(by, str(config.interval), max(1, int(config.frequency)), built, cli and not built)


def t_unit(scheduler: Any) -> Literal["epoch", "step"] | None:
    """What a timm-style scheduler's t counts, from its ``t_in_epochs``: ``"epoch"`` (``step(epoch)`` moves it,
    ``step_update`` is ignored) or ``"step"`` (the reverse); ``None`` for a scheduler without that switch.

    Examples:
        >>> class Timm:
        ...     t_in_epochs = True
        ...     def step(self, epoch): ...
        ...     def step_update(self, num_updates): ...
        >>> t_unit(Timm()), t_unit(object())
        ('epoch', None)
    """
    flag = getattr(scheduler, "t_in_epochs", None)
    if not isinstance(flag, bool) or not callable(getattr(scheduler, "step_update", None)):
        return None
    return "epoch" if flag else "step"


def configured_by_lightningcli(module: Any) -> bool:
    """Whether LightningCLI put its own ``configure_optimizers`` on the module (a top-level ``optimizer:`` /
    ``lr_scheduler:`` in the config), which steps the scheduler per epoch whatever the config says.

    Examples:
        >>> configured_by_lightningcli(object())
        False
    """
    bound = vars(module).get("configure_optimizers") if hasattr(module, "__dict__") else None
    func = getattr(bound, "__func__", None)
    return str(getattr(func, "__module__", "")).endswith(("lightning.pytorch.cli", "pytorch_lightning.cli"))


def overrides_step(module: Any, hook: str = "lr_scheduler_step") -> bool:
    """Whether the module's class overrides ``hook`` (Lightning's own definition does not count).

    Examples:
        >>> class Mine:
        ...     def lr_scheduler_step(self, scheduler, metric): scheduler.step()
        >>> overrides_step(Mine()), overrides_step(object())
        (True, False)
    """
    for cls in type(module).__mro__:
        if hook in vars(cls):
            return not cls.__module__.startswith(("lightning.", "pytorch_lightning."))
    return False


def stepping_hook(module: Any) -> str:
    """What the module's ``lr_scheduler_step`` override calls: ``""`` (no override), ``"never"`` (its code names no
    step at all: ``pass``, a print), else ``"steps"``.

    Examples:
        >>> class Quiet:
        ...     def lr_scheduler_step(self, scheduler, metric): pass
        >>> class ByEpoch:
        ...     def lr_scheduler_step(self, scheduler, metric): scheduler.step(epoch=self.current_epoch)
        >>> stepping_hook(Quiet()), stepping_hook(ByEpoch()), stepping_hook(object())
        ('never', 'steps', '')
    """
    if not overrides_step(module):
        return ""
    code = getattr(getattr(type(module), "lr_scheduler_step", None), "__code__", None)
    if code is None or any("step" in name for name in code.co_names):  # a call it makes may step (super(), a helper)
        return "steps"
    return "never"


def gates_its_step(module: Any) -> bool:
    """Whether the module's ``lr_scheduler_step`` override steps on a condition of the run (``if
    self.trainer.is_last_batch``, ``if self.global_step >= warmup``): how often it steps shows only as the run goes.
    A branch on the metric or on the scheduler's class alone (Lightning's own ``if metric is None``) does not count,
    nor one that reads the epoch (it may pass it: ``scheduler.step(epoch=...)``, which the stepping check names).

    Examples:
        >>> class AtEpochEnd:
        ...     def lr_scheduler_step(self, scheduler, metric):
        ...         if self.trainer.is_last_batch: scheduler.step()
        >>> class Plain:
        ...     def lr_scheduler_step(self, scheduler, metric):
        ...         if metric is None: scheduler.step()
        ...         else: scheduler.step(metric)
        >>> gates_its_step(AtEpochEnd()), gates_its_step(Plain()), gates_its_step(object())
        (True, False, False)
    """
    if stepping_hook(module) != "steps":
        return False
    func = getattr(type(module), "lr_scheduler_step", None)
    code = getattr(func, "__code__", None)
    if code is None or "current_epoch" in code.co_names:  # one that passes the epoch: the stepping check names it
        return False
    if not any("JUMP_IF" in i.opname or "POP_JUMP" in i.opname for i in dis.get_instructions(code)):
        return False
    found = getattr(func, "__globals__", {})
    plain = {"step", "step_update", *dir(builtins)}
    run_state = [n for n in code.co_names if n not in plain and not isinstance(found.get(n), (type, ModuleType))]
    return bool(run_state)


def interval_fix(contract: Contract) -> str:
    """How to have the scheduler stepped after every optimizer step, in the user's terms."""
    if contract.built:
        return "pass LRMonitor(..., interval='step'), so Lightning steps it after every optimizer step"
    if contract.cli:
        return (
            "LightningCLI steps a top-level lr_scheduler: once per epoch, always; move it under trainer.callbacks as "
            "LRMonitor's scheduler with interval: step, so Lightning steps it after every optimizer step"
        )
    if contract.by == "lr_scheduler_step":
        return (
            'return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}} from '
            "configure_optimizers and call scheduler.step_update(num_updates=self.global_step) in lr_scheduler_step, "
            "so it moves after every optimizer step (a timm scheduler with t_in_epochs=False ignores step(epoch))"
        )
    return (
        'return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}} from '
        "configure_optimizers, so Lightning steps it after every optimizer step"
    )


def per_epoch_cause(finding: Finding, contract: Contract, *, epoch_steps: int, optimizer_steps: int) -> Finding:
    """``finding`` (a horizon or warm-up sized for the wrong run) with its real cause: the horizon counts optimizer
    steps, and Lightning steps the scheduler once per epoch.

    Examples:
        >>> f = Finding("horizon-too-long", "warning", "OneCycleLR(total_steps=80) ends at step 80.", 0, "use 5.")
        >>> c = Contract(by="lightning", interval="epoch", frequency=1, built=True)
        >>> g = per_epoch_cause(f, c, epoch_steps=5, optimizer_steps=80)
        >>> g.code, g.hint
        ('horizon-too-long', "pass LRMonitor(..., interval='step'), so Lightning steps it after every optimizer step.")
    """
    why = (
        "interval='epoch'"
        if contract.built
        else "LightningCLI's interval 'epoch'"
        if contract.cli
        else "interval 'epoch' (Lightning's default when the lr_scheduler dict has no \"interval\")"
    )
    steps = "calls your lr_scheduler_step" if contract.by == "lr_scheduler_step" else "steps it"
    message = (
        f"{finding.message} The cause is how it is stepped: its horizon counts optimizer steps ({optimizer_steps} "
        f"in this run), but with {why} Lightning {steps} once per epoch, {epoch_steps} times in this run."
    )
    return dataclasses.replace(finding, message=message, hint=interval_fix(contract) + ".")


def frequency_cause(finding: Finding, contract: Contract, *, optimizer_steps: int, scheduler_steps: int) -> Finding:
    """``finding`` with its cause: the horizon counts optimizer steps, and Lightning steps the scheduler only every
    ``frequency``-th one.

    Examples:
        >>> f = Finding("horizon-too-long", "warning", "CosineAnnealingLR(T_max=80) ...", 0, "use T_max=20.")
        >>> c = Contract(by="lightning", interval="step", frequency=4, built=False)
        >>> frequency_cause(f, c, optimizer_steps=80, scheduler_steps=20).hint.split("; ")[1]
        'or keep it and use T_max=20.'
    """
    f = contract.frequency
    message = (
        f"{finding.message} The cause is how it is stepped: its horizon counts optimizer steps ({optimizer_steps} "
        f'in this run), but with "frequency": {f} Lightning steps it once every {f} optimizer steps, '
        f"{scheduler_steps} times in this run."
    )
    where = (
        "pass LRMonitor(..., frequency=1)" if contract.built else f'drop "frequency": {f} from the lr_scheduler dict'
    )
    hint = f"{where}, so Lightning steps it after every optimizer step; or keep it and {_lower(finding.hint)}"
    return dataclasses.replace(finding, message=message, hint=hint)


def frequency_past_the_epoch(
    scheduler: str, contract: Contract, *, batches: int, per_epoch: int, step: int
) -> Finding | None:
    """``scheduler-not-stepped`` at fit start: a per-step scheduler whose ``frequency`` no optimizer step of an epoch
    reaches (``per_epoch``: the scheduler steps Lightning takes in an epoch of ``batches`` batches). Lightning counts
    a per-step ``frequency`` on the batch index within each epoch, which restarts every epoch, so ``"frequency":
    300`` with 100 batches per epoch never steps it (Lightning issue #17544).

    Examples:
        >>> c = Contract(by="lightning", interval="step", frequency=20, built=False)
        >>> frequency_past_the_epoch("StepLR(step_size=1)", c, batches=16, per_epoch=0, step=0).hint.split(";")[0]
        'drop "frequency": 20 from the lr_scheduler dict and make its horizon 20x longer (step_size, T_max, \
total_iters, milestones: counted in optimizer steps)'
    """
    f = contract.frequency
    if contract.by != "lightning" or contract.interval != "step" or f <= 1 or per_epoch > 0:
        return None
    where = (
        "pass LRMonitor(..., frequency=1)" if contract.built else f'drop "frequency": {f} from the lr_scheduler dict'
    )
    return Finding(
        "scheduler-not-stepped",
        "warning",
        f'{scheduler} is never stepped in this run: with "interval": "step" Lightning counts "frequency": {f} on the '
        f"batch index within each epoch, which restarts every epoch, and an epoch here has {batches} batches: no "
        f"optimizer step falls on a multiple of {f}, so the LR stays at its start.",
        step,
        f"{where} and make its horizon {f}x longer (step_size, T_max, total_iters, milestones: counted in optimizer "
        f"steps); or use a frequency that divides the epoch's {batches} batches.",
    )


def _lower(hint: str | None) -> str:
    text = (hint or "").strip()
    return text[:1].lower() + text[1:] if text else "size the horizon to the run's scheduler steps."
