"""Each schedule of a config reviewed by the shared pipeline on a shadow optimizer, for the run the config describes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports torch, numpy and yaml only when it runs a command (``--help`` stays fast)
    import torch

    from lightning_lrmon._stepping.runlength import RunFacts
from lightning_lrmon._cli.config import (
    EPOCH_NOTE,
    CheckedFile,
    ConfigSchedule,
    InputError,
    NoSchedule,
    _entries,
    _import,
    _validated,
    expand_placeholders,
    load,
)

__all__ = []


def _facts(trainer: dict[str, Any], steps: int | None, steps_per_epoch: int | None) -> RunFacts:
    """The run's numbers from ``trainer:`` (``--steps`` overrides ``max_steps``).

    ``--steps-per-epoch`` counts optimizer steps.
    """
    from lightning_lrmon._stepping.runlength import RunFacts

    acc = trainer.get("accumulate_grad_batches") or 1
    max_steps = steps if steps else trainer.get("max_steps")
    max_epochs = trainer.get("max_epochs")
    return RunFacts(
        max_steps=max_steps if isinstance(max_steps, int) and max_steps > 0 else -1,
        max_epochs=max_epochs if isinstance(max_epochs, int) and not steps else None,
        batches_per_epoch=steps_per_epoch * acc if steps_per_epoch else None,
        accumulate=acc if isinstance(acc, int) else 1,
    )


def _run_length(trainer: dict[str, Any], entry: ConfigSchedule, steps: int | None, steps_per_epoch: int | None) -> int:
    from lightning_lrmon._stepping.runlength import scheduler_steps

    facts = _facts(trainer, steps, steps_per_epoch)
    if (
        entry.interval == "epoch"
        and facts.batches_per_epoch is None
        and facts.max_steps > 0
        and not facts.epochs_limited
    ):
        source = "--steps" if steps else "trainer.max_steps"
        raise InputError(
            f"{entry.source} steps once per epoch, and the run's length is {source}={facts.max_steps} optimizer "
            "steps: how many epochs that makes depends on the steps per epoch, which the config does not say. "
            "Pass --steps-per-epoch N (optimizer steps per epoch) or set trainer.max_epochs"
            + (" (or --lr-scheduler-interval step if your CLI steps it per batch)" if not entry.auto_ok else "")
        )
    total = scheduler_steps(facts, entry.interval, entry.frequency)  # type: ignore[arg-type]
    if total is not None:
        return total
    if facts.epochs_limited and entry.interval == "step":
        raise InputError(
            f"the run length is trainer.max_epochs={facts.max_epochs} epochs; pass --steps-per-epoch N "
            "(optimizer steps per epoch) or --steps N"
        )
    raise InputError("missing run length: set trainer.max_steps or trainer.max_epochs in the config, or pass --steps")


def _shadow_optimizer(spec: Any, lr: float | None, notes: list[str]) -> torch.optim.Optimizer:
    """The configured optimizer on one empty parameter (no model is built); SGD with its LR stands in for an
    optimizer class that does not import here (the schedule needs only the LR)."""
    import torch

    from lightning_lrmon._cli.lightningcli import importable

    param = [torch.nn.Parameter(torch.zeros(0))]
    if spec is None:
        return torch.optim.SGD(param, lr=1.0 if lr is None else lr)
    norm = spec if isinstance(spec, dict) else {"class_path": spec}
    path = norm.get("class_path")
    if not isinstance(path, str):
        raise InputError(f"`optimizer` needs a class_path, got {spec!r}")
    init = dict(norm.get("init_args") or {})
    if lr is not None:
        init["lr"] = lr
    if not importable(path):
        value = init.get("lr")
        stand_in = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 1.0
        notes.append(
            f"optimizer {path} does not import here: simulated on SGD(lr={stand_in:g})"
            + ("" if "lr" in init else " (no lr in its init_args: LRs read as multiples; pass --lr)")
        )
        return torch.optim.SGD(param, lr=stand_in)
    cls = getattr(torch.optim, path) if "." not in path else _import(path)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise InputError(f"`optimizer` class_path {path!r} is not a torch optimizer")
    try:
        return cls(param, **init)
    except (TypeError, ValueError) as err:
        raise InputError(f"`optimizer` {path}({init}) rejected: {err}") from None


def _entry_scheduler(entry: ConfigSchedule, args: argparse.Namespace) -> tuple[Any, list[float] | None]:
    """The entry's scheduler (built from its spec on a shadow optimizer, or the model's own) and the LRs before."""
    from lightning_lrmon._exceptions import LRMonitorConfigError
    from lightning_lrmon._spec.build import build_scheduler

    if entry.scheduler is not None:
        base = [float(x) for x in getattr(entry.scheduler, "base_lrs", [])]
        return entry.scheduler, base or None
    opt = _shadow_optimizer(entry.optimizer_spec, args.lr, entry.notes)
    if entry.optimizer_spec is None and args.lr is None:
        entry.notes.append(
            "no `optimizer:` in the config: simulated on lr=1.0, so LRs read as multiples of "
            "your optimizer's LR (pass --lr to use yours)"
        )
    configured = [float(g["lr"]) for g in opt.param_groups]
    try:
        return build_scheduler(entry.spec, opt, total_steps=entry.steps, where=entry.source), configured
    except LRMonitorConfigError as err:
        raise InputError(str(err)) from None


def _review_entry(entry: ConfigSchedule, trainer: dict[str, Any], args: argparse.Namespace, keep_lrs: bool) -> None:
    from lightning_lrmon._fit.tags import optimizer_label, tag_names
    from lightning_lrmon._review.pipeline import review
    from lightning_lrmon._review.subject import Subject
    from lightning_lrmon._schedulers import lookup

    entry.steps = _run_length(trainer, entry, args.steps, args.steps_per_epoch)
    sched, configured = _entry_scheduler(entry, args)
    opt = sched.optimizer
    (tags,) = tag_names([opt], [])
    subject = Subject(
        sched,
        entry.steps,
        expect=entry.expect,
        configured_lrs=configured,
        label=optimizer_label(tags, opt.param_groups),
        tags=tags,
        steps_per_epoch=args.steps_per_epoch if entry.interval == "step" else None,
        interval=entry.interval,
        accumulate=int(trainer.get("accumulate_grad_batches") or 1) if entry.interval == "step" else 1,
        auto_ok=entry.auto_ok,
    )
    entry.review = review(subject, keep_lrs=keep_lrs)
    entry.notes = [n for n in entry.notes if n != EPOCH_NOTE or entry.steps > 1 or entry.findings]
    if lookup(sched) is None and entry.expect is None and not entry.findings:
        entry.notes.append("no expected shape for this class: only validity checks ran (pass --expect)")


def _evaluate(config: dict[str, Any], args: argparse.Namespace, keep_lrs: bool = False) -> list[ConfigSchedule]:
    trainer = config.get("trainer") or {}
    entries = _entries(config, args)
    for entry in entries:
        _review_entry(entry, trainer, args, keep_lrs)
    return entries


def check_file(path: str, args: argparse.Namespace, keep_lrs: bool = False) -> CheckedFile:
    """One config reviewed; never raises (an unexpected error is the file's one-line error)."""
    result = CheckedFile(path)
    placeholders: dict[str, bool] = {}
    try:
        config = expand_placeholders(load(path), placeholders)
        if any(placeholders.values()):
            names = ", ".join(f"${n}" for n, known in placeholders.items() if known)
            result.notes.append(f"filled {names} from the environment, as a template step (envsubst) would")
        config = _validated(config, args, result.notes)
        result.entries = _evaluate(config, args, keep_lrs)
    except NoSchedule as err:
        result.error, result.no_schedule = str(err), True
    except InputError as err:
        result.error = str(err)
    except Exception as err:  # a user's module or an odd value: one line, exit 2, no traceback
        result.error = f"{type(err).__name__}: {err}"
    unset = [f"${n}" for n, known in placeholders.items() if not known]
    if result.error is not None and unset:
        result.error += (
            f" (the config is a template: {', '.join(unset)} "
            f"{'is' if len(unset) == 1 else 'are'} not set; set them in the environment as your template step does)"
        )
    return result
