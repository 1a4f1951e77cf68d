"""Validate a config the way ``LightningCLI`` does, with LightningCLI's own parser, instantiating nothing but LRMonitor.

``lrmon check`` calls ``rejection`` before it reviews anything, so a config that ``LightningCLI`` would refuse
is exit 2 with LightningCLI's reason on one line, and a config it accepts is what gets checked. Only the sections
LightningCLI reads for any model are parsed (``trainer``, ``optimizer``, ``lr_scheduler``): the model and data
classes are your code, which ``lrmon`` does not import. This module imports Lightning and jsonargparse; nothing
else in lightning-lrmon's CLI does.

Examples:
    >>> print(rejection({"trainer": {"max_steps": 10, "callbacks": [{"class_path": "lightning_lrmon.LRMonitor",
    ...     "init_args": {"on_misconfig": "explode"}}]}}))  # doctest: +ELLIPSIS
    LightningCLI rejects the config: Parser key "trainer.callbacks": ... Parser key "on_misconfig": ... explode
"""

from __future__ import annotations

import copy
import importlib
import os
import re
from typing import Any

__all__ = [
    "SUBCOMMANDS",
    "foreign_parts",
    "importable",
    "lrmonitor_entries",
    "namespace",
    "one_line",
    "rejection",
    "unwrap_subcommand",
    "without",
]

#: LightningCLI's subcommands; a config written for ``main.py --config cfg.yaml fit`` is rooted at one of them
SUBCOMMANDS = ("fit", "validate", "test", "predict")
_DETAIL = re.compile(r"^\s*- (.+)$")


def unwrap_subcommand(config: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The part of a subcommand-rooted config (``fit: {trainer: ...}``) that ``fit`` reads, and the root's name.

    Examples:
        >>> unwrap_subcommand({"fit": {"trainer": {"max_steps": 5}}})
        ({'trainer': {'max_steps': 5}}, 'fit')
    """
    roots = [k for k in config if k in SUBCOMMANDS]
    if roots and set(config) <= {*SUBCOMMANDS, "subcommand"}:
        root = "fit" if "fit" in roots else roots[0]
        inner = config[root]
        return (inner if isinstance(inner, dict) else {}), root
    return config, None


def one_line(message: str) -> str:
    """jsonargparse's multi-line error as one line: the key, then the first specific reason.

    Examples:
        >>> one_line('Parser key "trainer.callbacks":\\n  Errors:\\n    - Expected a dot import path string: X\\n')
        'Parser key "trainer.callbacks": Expected a dot import path string: X'
    """
    lines = [line for line in message.splitlines() if line.strip()]
    head = lines[0].strip() if lines else message.strip()
    first = next((i for i, line in enumerate(lines) if _DETAIL.match(line)), None)
    if first is None:
        return f"{head} {lines[1].strip() if len(lines) > 1 else ''}".strip()
    indent = len(lines[first]) - len(lines[first].lstrip())
    block = [_DETAIL.match(lines[first]).group(1).strip()]  # type: ignore[union-attr]
    for line in lines[first + 1 :]:
        if len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line.strip())
    return f"{head} {' '.join(block)}"


def namespace(config: dict[str, Any]) -> str:
    """The Lightning package a config is written for: ``pytorch_lightning`` if any of its class paths names it.

    Examples:
        >>> namespace({"trainer": {"logger": {"class_path": "pytorch_lightning.loggers.CSVLogger"}}})
        'pytorch_lightning'
        >>> namespace({"trainer": {"max_steps": 5}})
        'lightning.pytorch'
    """
    return (
        "pytorch_lightning"
        if any(p.startswith("pytorch_lightning.") for _, p in _class_paths(config))
        else ("lightning.pytorch")
    )


def _class_paths(config: dict[str, Any]) -> list[tuple[str, str]]:
    """``(where, class_path)`` of every class the trainer and optimizer sections name."""
    found: list[tuple[str, str]] = []
    trainer = config.get("trainer") if isinstance(config.get("trainer"), dict) else {}
    for key in ("callbacks", "logger", "plugins", "profiler", "strategy"):
        value = trainer.get(key)  # type: ignore[union-attr]
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, dict) and isinstance(item.get("class_path"), str):
                found.append((f"trainer.{key}" + (f"[{i}]" if isinstance(value, list) else ""), item["class_path"]))
    opt = config.get("optimizer")
    path = opt.get("class_path") if isinstance(opt, dict) else opt
    if isinstance(path, str):
        found.append(("optimizer", path))
    return found


def importable(class_path: str) -> bool:
    """Whether ``module.Name`` imports here (a module that raises anything at import counts as not importable);
    bare names (resolved by LightningCLI among known classes) count as importable.

    Examples:
        >>> importable("torch.optim.SGD"), importable("myproject.callbacks.Thing"), importable("SGD")
        (True, False, True)
    """
    module, _, name = class_path.rpartition(".")
    if not module:
        return True
    try:
        return hasattr(importlib.import_module(module), name)
    except Exception:  # a project module may raise anything at import; it is simply not usable here
        return False


def foreign_parts(config: dict[str, Any]) -> list[tuple[str, str]]:
    """``(where, class_path)`` of the trainer's and optimizer's classes that do not import here.

    The schedule needs none of them (an optimizer only for its LR), so ``lrmon check`` leaves them out of the
    validation and says so in one note, instead of failing as LightningCLI would in this environment.
    """
    return [(where, path) for where, path in _class_paths(config) if not importable(path)]


def without(config: dict[str, Any], parts: list[tuple[str, str]]) -> dict[str, Any]:
    """A copy of ``config`` without the listed parts (``where`` as ``foreign_parts`` gives it)."""
    out = copy.deepcopy(config)
    trainer = out.get("trainer") if isinstance(out.get("trainer"), dict) else {}
    for where, _path in parts:
        if where == "optimizer":
            out.pop("optimizer", None)
            continue
        key, _, index = where.removeprefix("trainer.").partition("[")
        if index:
            trainer[key][int(index.rstrip("]"))] = None  # type: ignore[index]
        else:
            trainer.pop(key, None)  # type: ignore[union-attr]
    for key in ("callbacks", "logger", "plugins"):
        if isinstance(trainer.get(key), list):  # type: ignore[union-attr]
            trainer[key] = [v for v in trainer[key] if v is not None]  # type: ignore[index]
    return out


def _parser(config: dict[str, Any]) -> Any:
    package = namespace(config)
    pkg, cli = importlib.import_module(package), importlib.import_module(f"{package}.cli")

    parser = cli.LightningArgumentParser(exit_on_error=False)
    parser.add_lightning_class_args(pkg.Trainer, "trainer")
    if config.get("optimizer") is not None:
        parser.add_optimizer_args(nested_key="optimizer", link_to="AUTOMATIC")
    if config.get("lr_scheduler") is not None:
        parser.add_lr_scheduler_args(cli.LRSchedulerTypeTuple, nested_key="lr_scheduler", link_to="AUTOMATIC")
    return parser


def lrmonitor_entries(config: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """``(index in trainer.callbacks, init_args)`` of every LRMonitor a config lists: a ``class_path`` naming the
    class ``LRMonitor`` (``lightning_lrmon.LRMonitor``, ``lightning_lrmon.pl.LRMonitor``), not ``MyLRMonitor``.

    Examples:
        >>> lrmonitor_entries({"trainer": {"callbacks": [{"class_path": "x.MyLRMonitor"},
        ...                                              {"class_path": "lightning_lrmon.LRMonitor"}]}})
        [(1, {})]
    """
    trainer = config.get("trainer") or {}
    callbacks = (trainer.get("callbacks") if isinstance(trainer, dict) else None) or []
    callbacks = [callbacks] if isinstance(callbacks, dict) else callbacks
    return [
        (i, dict(cb.get("init_args") or {}))
        for i, cb in enumerate(callbacks)
        if isinstance(cb, dict) and str(cb.get("class_path", "")).rsplit(".", 1)[-1] == "LRMonitor"
    ]


def rejection(config: dict[str, Any]) -> str | None:
    """Why LightningCLI would refuse ``config`` before training (one line), or ``None`` if it accepts it.

    The sections are parsed and type-checked by LightningCLI's parser (nothing is instantiated), then every
    ``LRMonitor`` is constructed, as LightningCLI does before ``fit``, so its own argument checks run too.
    """
    os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")  # Lightning's own use of old jsonargparse APIs
    from jsonargparse import ArgumentError

    from lightning_lrmon._callback import LRMonitor, register_with_jsonargparse

    register_with_jsonargparse()  # as LightningCLI sees LRMonitor once it has imported jsonargparse
    from lightning_lrmon._exceptions import LRMonitorConfigError

    # the parser rewrites what it is given in place: hand it a copy
    subset = copy.deepcopy(
        {k: config[k] for k in ("trainer", "optimizer", "lr_scheduler") if config.get(k) is not None}
    )
    try:
        _parser(config).parse_object(subset)
    except ArgumentError as err:
        return "LightningCLI rejects the config: " + one_line(str(err))
    for _, init_args in lrmonitor_entries(config):
        try:
            LRMonitor(**init_args)
        except (LRMonitorConfigError, TypeError) as err:
            return f"LightningCLI would stop when it builds LRMonitor: {err}"
    return None
