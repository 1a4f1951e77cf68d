"""``lrmon``: lint and preview the LR schedules of a LightningCLI config file, without training.

``lrmon check CONFIG.yaml`` exits 0 when the schedule is healthy, 1 with findings, 2 for unusable input
(unreadable or malformed YAML, unknown classes, no run length), always with a one-line reason and no traceback.

Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "seed.yaml")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write('''
    ... trainer:
    ...   max_steps: 100
    ...   callbacks:
    ...     - class_path: lightning_lrmon.LRMonitor
    ...       init_args:
    ...         scheduler: {class_path: LinearLR, init_args: {start_factor: 0.5, total_iters: 100}}
    ... ''')
    >>> main(["check", path, "--format", "json", "--lr", "0.001"])  # doctest: +ELLIPSIS
    {"version": 1, "ok": false, "schedules": [{"source": "trainer.callbacks[0] (LRMonitor)", ...
    1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lightning_lrmon._vocab import SHAPES

if TYPE_CHECKING:  # the CLI imports torch, numpy and yaml only when it runs a command (``--help`` stays fast)
    import torch

    from lightning_lrmon._review import Review
    from lightning_lrmon._runlength import RunFacts

JSON_VERSION = 1

__all__ = ["main"]

EPOCH_NOTE = (
    "note: LightningCLI steps the top-level `lr_scheduler:` once per EPOCH (interval='epoch'), so its horizons "
    "count epochs. To step per batch, configure it as LRMonitor(scheduler=..., interval='step') under "
    "trainer.callbacks."
)


class InputError(Exception):
    """Unusable input: exit code 2 with this one-line reason."""


@dataclass
class ConfigSchedule:
    """One schedule a config file describes: where it is, its spec and stepping, and its review once made."""

    source: str
    spec: Any
    interval: str
    frequency: int
    expect: str | None
    optimizer_spec: Any
    steps: int = 0
    review: Review | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Any]:
        return self.review.findings if self.review is not None else []


def _load(path: str) -> dict[str, Any]:
    import yaml

    from lightning_lrmon._spec import load_yaml, yaml_error

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror}") from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as err:
        raise InputError(f"{path} is not valid YAML{yaml_error(err)}") from None
    if data is None:
        raise InputError(f"{path} is empty")
    if not isinstance(data, dict):
        raise InputError(f"{path} must be a LightningCLI config (a mapping), got {type(data).__name__}")
    return data


def _entries(config: dict[str, Any], expect: str | None) -> list[ConfigSchedule]:
    from lightning_lrmon._lightningcli import lrmonitor_entries
    from lightning_lrmon._spec import is_per_optimizer, split_per_optimizer

    trainer = config.get("trainer") or {}
    if not isinstance(trainer, dict):
        raise InputError("`trainer` must be a mapping")
    entries: list[ConfigSchedule] = []
    top_opt = config.get("optimizer")
    for i, args in lrmonitor_entries(config):
        if args.get("scheduler") is None:
            continue
        for idx, spec in split_per_optimizer(args["scheduler"]).items():
            suffix = f"[{idx}]" if is_per_optimizer(args["scheduler"]) else ""
            entries.append(
                ConfigSchedule(
                    f"trainer.callbacks[{i}] (LRMonitor){suffix}",
                    spec,
                    args.get("interval", "step"),
                    int(args.get("frequency", 1)),
                    expect or args.get("expect"),
                    top_opt,
                )
            )
    if config.get("lr_scheduler") is not None:
        entries.append(
            ConfigSchedule(
                "lr_scheduler (LightningCLI)", config["lr_scheduler"], "epoch", 1, expect, top_opt, notes=[EPOCH_NOTE]
            )
        )
    if not entries:
        raise InputError(
            "no schedule found: expected an LRMonitor with `scheduler` under trainer.callbacks, "
            "or a top-level `lr_scheduler:`"
        )
    return entries


def _facts(trainer: dict[str, Any], steps: int | None, steps_per_epoch: int | None) -> RunFacts:
    """The run's numbers from ``trainer:`` (``--steps`` overrides ``max_steps``).

    ``--steps-per-epoch`` counts optimizer steps.
    """
    from lightning_lrmon._runlength import RunFacts

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
    from lightning_lrmon._runlength import scheduler_steps

    facts = _facts(trainer, steps, steps_per_epoch)
    if entry.interval == "epoch" and facts.batches_per_epoch is None and steps and not facts.epochs_limited:
        raise InputError(
            f"{entry.source} steps per epoch: set trainer.max_epochs (or pass --steps and --steps-per-epoch)"
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


def _shadow_optimizer(spec: Any, lr: float | None) -> torch.optim.Optimizer:
    """The configured optimizer on one empty parameter (no model is built)."""
    import torch

    param = [torch.nn.Parameter(torch.zeros(0))]
    if spec is None:
        return torch.optim.SGD(param, lr=1.0 if lr is None else lr)
    norm = spec if isinstance(spec, dict) else {"class_path": spec}
    path = norm.get("class_path")
    if not isinstance(path, str):
        raise InputError(f"`optimizer` needs a class_path, got {spec!r}")
    try:
        if "." in path:
            module, _, name = path.rpartition(".")
            cls = getattr(__import__(module, fromlist=[name]), name)
        else:
            cls = getattr(torch.optim, path)
    except (ImportError, AttributeError):
        raise InputError(f"`optimizer` class_path {path!r} is not importable") from None
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise InputError(f"`optimizer` class_path {path!r} is not a torch optimizer")
    init = dict(norm.get("init_args") or {})
    if lr is not None:
        init["lr"] = lr
    try:
        return cls(param, **init)
    except (TypeError, ValueError) as err:
        raise InputError(f"`optimizer` {path}({init}) rejected: {err}") from None


def _review_entry(entry: ConfigSchedule, trainer: dict[str, Any], args: argparse.Namespace, keep_lrs: bool) -> None:
    from lightning_lrmon._checks import Subject
    from lightning_lrmon._exceptions import LRMonitorConfigError
    from lightning_lrmon._review import review
    from lightning_lrmon._schedulers import lookup
    from lightning_lrmon._spec import build_scheduler
    from lightning_lrmon._tags import optimizer_label, tag_names

    entry.steps = _run_length(trainer, entry, args.steps, args.steps_per_epoch)
    opt = _shadow_optimizer(entry.optimizer_spec, args.lr)
    if entry.optimizer_spec is None and args.lr is None:
        entry.notes.append(
            "no `optimizer:` in the config: simulated on lr=1.0, so LRs read as multiples of "
            "your optimizer's LR (pass --lr to use yours)"
        )
    configured = [float(g["lr"]) for g in opt.param_groups]
    try:
        sched = build_scheduler(entry.spec, opt, total_steps=entry.steps, where=entry.source)
    except LRMonitorConfigError as err:
        raise InputError(str(err)) from None
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
    )
    entry.review = review(subject, keep_lrs=keep_lrs)
    entry.notes = [n for n in entry.notes if n != EPOCH_NOTE or entry.steps > 1 or entry.findings]
    if lookup(sched) is None and entry.expect is None and not entry.findings:
        entry.notes.append("no expected shape for this class: only validity checks ran (pass --expect)")


def _validated(config: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The part of the config ``fit`` reads, after LightningCLI's own parser accepted it (unless ``--fast``)."""
    from lightning_lrmon._lightningcli import rejection, unwrap_subcommand

    config, _root = unwrap_subcommand(config)
    if not args.fast:
        reason = rejection(config)
        if reason is not None:
            raise InputError(reason)
    return config


def _evaluate(config: dict[str, Any], args: argparse.Namespace, keep_lrs: bool = False) -> list[ConfigSchedule]:
    trainer = config.get("trainer") or {}
    entries = _entries(config, args.expect)
    for entry in entries:
        _review_entry(entry, trainer, args, keep_lrs)
    return entries


def _text(entries: Sequence[ConfigSchedule]) -> str:
    from lightning_lrmon._render import cli_text

    return cli_text([(p.source, p.review, p.notes) for p in entries if p.review is not None])


def _json(entries: Sequence[ConfigSchedule]) -> str:
    from lightning_lrmon._render import review_dict

    schedules = []
    for p in entries:
        assert p.review is not None
        entry = review_dict(p.review)
        schedules.append({"source": p.source, **entry, "interval": p.interval, "steps": p.steps, "notes": p.notes})
    return json.dumps({"version": JSON_VERSION, "ok": not any(p.findings for p in entries), "schedules": schedules})


def _terminal_plot(entries: Sequence[ConfigSchedule]) -> str:
    import numpy as np

    try:
        import plotext as plt
    except ImportError:
        raise InputError(
            "the terminal preview needs plotext: pip install 'lightning-lrmon[plot]' (or pass --out schedule.png)"
        ) from None
    out = []
    for p in entries:
        lrs = p.review.lrs if p.review is not None else None
        assert lrs is not None
        plt.clf()
        plt.plotsize(100, 20)
        plt.theme("clear")
        x = np.arange(lrs.shape[0])
        for g in range(lrs.shape[1]):
            plt.plot(x.tolist(), np.nan_to_num(lrs[:, g]).tolist(), label=f"group {g}", marker="braille")
        for f in p.findings:
            if f.step is not None:
                plt.vline(f.step)
        plt.xlabel(f"{'epoch' if p.interval == 'epoch' else 'step'}")
        out.append(f"{p.source}: {p.review.scheduler if p.review else ''}")
        out.append(plt.uncolorize(plt.build()))
        for f in p.findings:
            out.append(f"  | {f.code} at step {f.step}")
    return "\n".join(out)


def _png(entries: Sequence[ConfigSchedule], path: str) -> None:
    import numpy as np

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--out needs matplotlib: pip install 'lightning-lrmon[plot]'") from None
    fig, axes = plt.subplots(len(entries), 1, figsize=(9, 3.2 * len(entries)), squeeze=False)
    for ax, p in zip(axes[:, 0], entries):
        lrs = p.review.lrs if p.review is not None else None
        assert lrs is not None
        for g in range(lrs.shape[1]):
            ax.plot(lrs[:, g], label=f"group {g}")
        for f in p.findings:
            if f.step is not None:
                ax.axvline(f.step, color="crimson", linestyle="--", linewidth=1)
                ax.annotate(
                    f.code,
                    (f.step, float(np.nanmax(lrs))),
                    color="crimson",
                    fontsize=8,
                    textcoords="offset points",
                    xytext=(4, -10),
                )
        ax.set_title(textwrap.fill(f"{p.source}: {p.review.scheduler if p.review else ''}", 110), fontsize=8)
        ax.set_xlabel("epoch" if p.interval == "epoch" else "optimizer step")
        ax.set_ylabel("learning rate")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lrmon", description="Lint and preview LR schedules of a LightningCLI config, without training."
    )
    from lightning_lrmon import __version__

    parser.add_argument("--version", action="version", version=f"lrmon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("check", "simulate and check; exit 0 healthy, 1 findings, 2 unusable input"),
        ("preview", "plot the LR per group over the run, findings marked"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("config", help="LightningCLI YAML config")
        p.add_argument("--steps", type=int, help="optimizer steps of the run (overrides trainer.max_steps)")
        p.add_argument("--steps-per-epoch", type=int, help="optimizer steps per epoch (with trainer.max_epochs)")
        p.add_argument("--expect", choices=SHAPES, help="the intended shape (default: inferred from the class)")
        p.add_argument("--lr", type=float, help="the optimizer's LR (default: from `optimizer:` in the config)")
        p.add_argument(
            "--fast",
            action="store_true",
            help="skip validating the config with LightningCLI's own parser (then Lightning is not imported)",
        )
        if name == "check":
            p.add_argument("--format", choices=("text", "json"), default="text")
        else:
            p.add_argument("--out", help="write a PNG (matplotlib) instead of a terminal plot")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lrmon`` console script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)

    try:
        for name in ("steps", "steps_per_epoch"):
            value = getattr(args, name)
            if value is not None and value <= 0:
                raise InputError(f"--{name.replace('_', '-')} must be a positive number of steps, got {value}")
        config = _validated(_load(args.config), args)
        entries = _evaluate(config, args, keep_lrs=args.command == "preview")
        if args.command == "check":
            print(_json(entries) if args.format == "json" else _text(entries))
        elif args.out:
            _png(entries, args.out)
            print(_text(entries))
            print(f"wrote {os.path.abspath(args.out)}")
        else:
            print(_terminal_plot(entries))
    except InputError as err:
        if getattr(args, "format", "text") == "json":
            print(json.dumps({"version": JSON_VERSION, "ok": False, "error": str(err), "schedules": []}))
        else:
            print(f"lrmon: error: {err}", file=sys.stderr)
        return 2
    return 1 if any(p.findings for p in entries) else 0


def run() -> None:  # pragma: no cover - console script wrapper
    sys.exit(main())
