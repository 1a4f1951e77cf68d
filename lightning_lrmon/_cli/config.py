"""A config file read as ``lrmon`` sees it: YAML loaded, placeholders filled, validated, its schedules found."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports torch, numpy and yaml only when it runs a command (``--help`` stays fast)
    from lightning_lrmon._review.pipeline import Review

__all__ = ["CheckedFile", "ConfigSchedule", "EPOCH_NOTE", "InputError", "NoSchedule", "expand_placeholders"]


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


def load(path: str) -> dict[str, Any]:
    import yaml

    from lightning_lrmon._spec.parse import load_yaml, yaml_error

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
    from lightning_lrmon._spec.parse import load_yaml

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
    from lightning_lrmon._spec.parse import is_per_optimizer, split_per_optimizer

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


def _import(path: str) -> Any:
    import importlib

    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


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
