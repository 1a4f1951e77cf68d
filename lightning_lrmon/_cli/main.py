"""``lrmon``: lint and preview the LR schedules of a LightningCLI config file, without training.

``lrmon check CONFIG.yaml`` exits 0 when the schedule is healthy, 1 with findings, 2 for unusable input
(unreadable or malformed YAML, unknown classes, no run length), always with a one-line reason and no traceback.

Examples:
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
import re
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lightning_lrmon._vocab import SHAPES

if TYPE_CHECKING:  # the CLI imports torch, numpy and yaml only when it runs a command (``--help`` stays fast)
    import torch

    from lightning_lrmon._review.pipeline import Review
    from lightning_lrmon._stepping.runlength import RunFacts

JSON_VERSION = 1

__all__ = ["main"]

EPOCH_NOTE = (
    "note: LightningCLI steps the top-level `lr_scheduler:` once per EPOCH (interval='epoch'), so its horizons "
    "count epochs. To step per batch, configure it as LRMonitor(scheduler=..., interval='step') under "
    "trainer.callbacks."
)


class InputError(Exception):
    """Unusable input: exit code 2 with this one-line reason."""


class NoSchedule(InputError):
    """A config without a schedule (unusable alone; among many files, one more config that has none)."""


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
    auto_ok: bool = True  # LightningCLI rejects 'auto' in its top-level lr_scheduler:
    scheduler: Any = None  # built already (what the model's configure_optimizers returned)

    @property
    def findings(self) -> list[Any]:
        return self.review.findings if self.review is not None else []


@dataclass
class CheckedFile:
    """One config file's result: its schedules, the notes about the file, or why it could not be used."""

    path: str
    entries: list[ConfigSchedule] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    no_schedule: bool = False

    @property
    def code(self) -> int:
        """0 healthy (or no schedule), 1 findings, 2 unusable."""
        if self.error is not None and not self.no_schedule:
            return 2
        return 1 if any(e.findings for e in self.entries) else 0


def _load(path: str) -> dict[str, Any]:
    import yaml

    from lightning_lrmon._spec.build import load_yaml, yaml_error

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


def _lightning_plateau(spec: Any, ns: str) -> Any:
    """A bare ``ReduceLROnPlateau`` in the top-level ``lr_scheduler:`` is Lightning's own class to LightningCLI (it
    takes ``monitor``); so it is here, when it has a ``monitor`` (without one the two classes step alike)."""
    if not (isinstance(spec, dict) and spec.get("class_path") == "ReduceLROnPlateau"):
        return spec
    if "monitor" not in (spec.get("init_args") or {}):
        return spec
    return {**spec, "class_path": f"{ns}.cli.ReduceLROnPlateau"}


_PLACEHOLDER = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def expand_placeholders(data: Any, found: dict[str, bool]) -> Any:
    """``$NAME``/``${NAME}`` in string values filled from the environment, as a template step (``envsubst``) fills
    them before LightningCLI reads the file; ``found`` records each name and whether it was set.

    Examples:
        >>> seen = {}
        >>> expand_placeholders({"lr": "$LRMON_DOC_LR", "dir": "${LRMON_UNSET}/logs"}, seen) == {
        ...     "lr": "$LRMON_DOC_LR", "dir": "${LRMON_UNSET}/logs"}, seen
        (True, {'LRMON_DOC_LR': False, 'LRMON_UNSET': False})
    """
    from lightning_lrmon._spec.build import load_yaml

    if isinstance(data, dict):
        return {k: expand_placeholders(v, found) for k, v in data.items()}
    if isinstance(data, list):
        return [expand_placeholders(v, found) for v in data]
    if not isinstance(data, str) or "$" not in data:
        return data
    names = _PLACEHOLDER.findall(data)
    found.update({n: n in os.environ for n in names})
    if not names or not all(n in os.environ for n in names):
        return data
    text = _PLACEHOLDER.sub(lambda m: os.environ[m.group(1)], data)
    value = load_yaml(text) if _PLACEHOLDER.fullmatch(data) else text  # a whole value keeps YAML's type: 1e-4
    return value if isinstance(value, (int, float, str, bool)) else text


def _monitor_entries(config: dict[str, Any], args: argparse.Namespace) -> list[ConfigSchedule]:
    """The schedules of the LRMonitors under ``trainer.callbacks`` (one per optimizer of a per-optimizer spec)."""
    from lightning_lrmon._cli.lightningcli import lrmonitor_entries
    from lightning_lrmon._spec.build import is_per_optimizer, split_per_optimizer

    entries = []
    for i, init in lrmonitor_entries(config):
        if init.get("scheduler") is None:
            continue
        for idx, spec in split_per_optimizer(init["scheduler"]).items():
            suffix = f"[{idx}]" if is_per_optimizer(init["scheduler"]) else ""
            entries.append(
                ConfigSchedule(
                    f"trainer.callbacks[{i}] (LRMonitor){suffix}",
                    spec,
                    init.get("interval", "step"),
                    int(init.get("frequency", 1)),
                    args.expect or init.get("expect"),
                    config.get("optimizer"),
                )
            )
    return entries


def _entries(config: dict[str, Any], args: argparse.Namespace) -> list[ConfigSchedule]:
    from lightning_lrmon._cli.lightningcli import namespace

    if not isinstance(config.get("trainer") or {}, dict):
        raise InputError("`trainer` must be a mapping")
    entries = _monitor_entries(config, args)
    if args.model:
        entries += _model_entries(config, args)
    if config.get("lr_scheduler") is not None:
        interval = args.lr_scheduler_interval
        entries.append(
            ConfigSchedule(
                "lr_scheduler (LightningCLI)",
                _lightning_plateau(config["lr_scheduler"], namespace(config)),
                interval,
                1,
                args.expect,
                config.get("optimizer"),
                notes=[EPOCH_NOTE] if interval == "epoch" else [],
                auto_ok=False,
            )
        )
    if not entries:
        raise NoSchedule(
            "no schedule found: expected an LRMonitor with `scheduler` under trainer.callbacks, "
            "or a top-level `lr_scheduler:` (or pass --model to review what the model's configure_optimizers returns)"
        )
    return entries


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


def _import(path: str) -> Any:
    import importlib

    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


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
    from lightning_lrmon._review.checks import Subject
    from lightning_lrmon._review.pipeline import review
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


def _model_class(config: dict[str, Any], given: str) -> tuple[Any, dict[str, Any]]:
    """The model class (``--model pkg.Class``, or the config's ``model.class_path``) and its init args."""
    section = config.get("model") or {}
    if not isinstance(section, dict):
        raise InputError("`model` must be a mapping to build the model with --model")
    path = section.get("class_path") if given == "config" else given
    if not isinstance(path, str) or "." not in path:
        raise InputError(
            "--model: the config's `model:` has no class_path; pass the class: --model mypkg.models.MyModel"
        )
    init = dict(section.get("init_args") or {}) if "class_path" in section else dict(section)
    try:
        return _import(path), init
    except Exception as err:
        raise InputError(f"--model {path}: cannot import it here ({type(err).__name__}: {err})") from None


def _model_entries(config: dict[str, Any], args: argparse.Namespace) -> list[ConfigSchedule]:
    """``--model``: the schedulers the model's own ``configure_optimizers`` returns (the model is instantiated)."""
    from lightning_lrmon._stepping.returned import scheduler_rows

    cls, init = _model_class(config, args.model)
    try:
        returned = cls(**init).configure_optimizers()
    except Exception as err:
        raise InputError(
            f"--model {cls.__name__}(**{init}).configure_optimizers() failed ({type(err).__name__}: {err}); a "
            "configure_optimizers that needs the Trainer (self.trainer) is reviewed by LRMonitor() during fit"
        ) from None
    where = f"model {cls.__name__}.configure_optimizers()"
    return [
        ConfigSchedule(f"{where}[{i}]", None, interval, freq, args.expect, None, auto_ok=False, scheduler=sched)
        for i, (_opt, sched, interval, freq) in enumerate(scheduler_rows(returned))
    ]


def _validated(config: dict[str, Any], args: argparse.Namespace, notes: list[str]) -> dict[str, Any]:
    """The part of the config ``fit`` reads, after LightningCLI's own parser accepted it (unless ``--fast``).

    Classes that do not import here (a project's callbacks, logger or optimizer) are left out of the validation
    and named in one note: the schedule needs none of them.
    """
    from lightning_lrmon._cli.lightningcli import foreign_parts, rejection, unwrap_subcommand, without

    config, _root = unwrap_subcommand(config)
    if args.fast:  # nothing but the schedule's own parts is imported
        return config
    foreign = foreign_parts(config)
    if foreign:
        notes.append(
            "not importable here, so not checked (the schedule does not depend on them): "
            + ", ".join(f"{where} {path}" for where, path in foreign)
        )
    try:
        import jsonargparse  # noqa: F401 - only whether LightningCLI's parser is installed
    except ImportError:
        notes.append(
            "LightningCLI's parser (jsonargparse) is not installed, so the config was read as with --fast, "
            "without validating it: pip install 'lightning-lrmon[cli]'"
        )
        return config
    reason = rejection(without(config, foreign))
    if reason is not None:
        raise InputError(reason)
    return config


def _evaluate(config: dict[str, Any], args: argparse.Namespace, keep_lrs: bool = False) -> list[ConfigSchedule]:
    trainer = config.get("trainer") or {}
    entries = _entries(config, args)
    for entry in entries:
        _review_entry(entry, trainer, args, keep_lrs)
    return entries


def _check_file(path: str, args: argparse.Namespace, keep_lrs: bool = False) -> CheckedFile:
    """One config reviewed; never raises (an unexpected error is the file's one-line error)."""
    result = CheckedFile(path)
    placeholders: dict[str, bool] = {}
    try:
        config = expand_placeholders(_load(path), placeholders)
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


def _paths(given: Sequence[str]) -> list[str]:
    """The config files named: files as given, folders as every ``*.yaml``/``*.yml`` under them, sorted."""
    out: list[str] = []
    for item in given:
        if os.path.isdir(item):
            found = sorted(
                os.path.join(root, name)
                for root, _dirs, names in os.walk(item)
                for name in names
                if name.endswith((".yaml", ".yml"))
            )
            if not found:
                raise InputError(f"{item} holds no *.yaml or *.yml files")
            out.extend(found)
        else:
            out.append(item)
    return out


def _text(entries: Sequence[ConfigSchedule], notes: Sequence[str] = ()) -> str:
    from lightning_lrmon._review.render import cli_text

    report = cli_text([(p.source, p.review, p.notes) for p in entries if p.review is not None])
    return "\n".join([report, *(f"note: {n}" for n in notes)])


def _schedules_json(entries: Sequence[ConfigSchedule]) -> list[dict[str, Any]]:
    from lightning_lrmon._review.render import review_dict

    out = []
    for p in entries:
        assert p.review is not None
        out.append(
            {"source": p.source, **review_dict(p.review), "interval": p.interval, "steps": p.steps, "notes": p.notes}
        )
    return out


def _json(entries: Sequence[ConfigSchedule], notes: Sequence[str] = ()) -> str:
    return json.dumps(
        {
            "version": JSON_VERSION,
            "ok": not any(p.findings for p in entries),
            "schedules": _schedules_json(entries),
            "notes": list(notes),
        }
    )


def _file_json(f: CheckedFile) -> dict[str, Any]:
    return {
        "path": f.path,
        "code": f.code,
        "ok": f.code == 0,
        "error": None if f.no_schedule else f.error,
        "no_schedule": f.no_schedule,
        "schedules": _schedules_json(f.entries),
        "notes": f.notes,
    }


def _status(f: CheckedFile) -> str:
    if f.no_schedule:
        return "no schedule"
    if f.error is not None:
        return f"unusable: {f.error}"
    n = sum(len(e.findings) for e in f.entries)
    return f"{n} finding{'' if n == 1 else 's'}" if n else "ok"


def summary_table(files: Sequence[CheckedFile]) -> str:
    """One line per file (its result) and a last line counting them: what a CI lint step shows."""
    width = max(len(f.path) for f in files)
    lines = [f"{'config'.ljust(width)}  schedules  result"]
    lines += [f"{f.path.ljust(width)}  {len(f.entries):>9}  {_status(f)}" for f in files]
    counts = [sum(f.code == c and not f.no_schedule for f in files) for c in (0, 1, 2)]
    lines.append(
        f"{len(files)} configs: {counts[0]} ok, {counts[1]} with findings, {counts[2]} unusable, "
        f"{sum(f.no_schedule for f in files)} without a schedule"
    )
    return "\n".join(lines)


def _report_many(files: Sequence[CheckedFile], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            {"version": JSON_VERSION, "ok": all(f.code == 0 for f in files), "files": [_file_json(f) for f in files]}
        )
    blocks = [f"== {f.path}\n{_text(f.entries, f.notes)}" for f in files if f.entries]
    return "\n\n".join([*blocks, summary_table(files)])


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


def _add_options(p: argparse.ArgumentParser) -> None:
    """The options ``check`` and ``preview`` share."""
    p.add_argument("--steps", type=int, help="optimizer steps of the run (overrides trainer.max_steps)")
    p.add_argument("--steps-per-epoch", type=int, help="optimizer steps per epoch (with trainer.max_epochs)")
    p.add_argument("--expect", choices=SHAPES, help="the intended shape (default: inferred from the class)")
    p.add_argument("--lr", type=float, help="the optimizer's LR (default: from `optimizer:` in the config)")
    p.add_argument(
        "--lr-scheduler-interval",
        choices=("epoch", "step"),
        default="epoch",
        help="how your CLI steps the top-level `lr_scheduler:` (LightningCLI: once per epoch)",
    )
    p.add_argument(
        "--model",
        nargs="?",
        const="config",
        metavar="CLASS",
        help="also review what the model's configure_optimizers returns: instantiates the config's `model:` "
        "(or CLASS, a dotted path) with its init args, which runs your code",
    )
    p.add_argument(
        "--fast",
        action="store_true",
        help="skip validating the config with LightningCLI's own parser (then Lightning is not imported)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lrmon", description="Lint and preview LR schedules of LightningCLI configs, without training."
    )
    from lightning_lrmon._version import __version__

    parser.add_argument("--version", action="version", version=f"lrmon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="simulate and check; exit 0 healthy, 1 findings, 2 unusable input")
    check.add_argument("config", nargs="+", help="LightningCLI YAML configs, or folders of them")
    _add_options(check)
    check.add_argument("--format", choices=("text", "json"), default="text")
    preview = sub.add_parser("preview", help="plot the LR per group over the run, findings marked")
    preview.add_argument("config", help="LightningCLI YAML config")
    _add_options(preview)
    preview.add_argument("--out", help="write a PNG (matplotlib) instead of a terminal plot")
    return parser


def _check_args(args: argparse.Namespace) -> None:
    for name in ("steps", "steps_per_epoch"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise InputError(f"--{name.replace('_', '-')} must be a positive number of steps, got {value}")


def _check(args: argparse.Namespace) -> int:
    """``lrmon check``: one file reports as before; several files or a folder add one summary table."""
    paths = _paths(args.config)
    files = [_check_file(path, args) for path in paths]
    if len(args.config) == 1 and len(paths) == 1 and not os.path.isdir(args.config[0]):
        (one,) = files
        if one.error is not None:
            raise InputError(one.error)
        print(_json(one.entries, one.notes) if args.format == "json" else _text(one.entries, one.notes))
        return one.code
    print(_report_many(files, args.format))
    return max(f.code for f in files)


def _preview(args: argparse.Namespace) -> int:
    result = _check_file(args.config, args, keep_lrs=True)
    if result.error is not None:
        raise InputError(result.error)
    if args.out:
        _png(result.entries, args.out)
        print(_text(result.entries, result.notes))
        print(f"wrote {os.path.abspath(args.out)}")
    else:
        print(_terminal_plot(result.entries))
    return result.code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lrmon`` console script; returns the exit code (never raises, never a traceback)."""
    args = _parser().parse_args(argv)
    try:
        _check_args(args)
        return _check(args) if args.command == "check" else _preview(args)
    except Exception as err:  # InputError, or anything unexpected: one line and exit 2
        reason = str(err) if isinstance(err, InputError) else f"{type(err).__name__}: {err}"
        if getattr(args, "format", "text") == "json":
            print(json.dumps({"version": JSON_VERSION, "ok": False, "error": reason, "schedules": []}))
        else:
            print(f"lrmon: error: {reason}", file=sys.stderr)
        return 2


def run() -> None:  # pragma: no cover - console script wrapper
    sys.exit(main())
