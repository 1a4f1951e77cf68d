"""Validate a config the way ``LightningCLI`` does, with LightningCLI's own parser, instantiating nothing but LRMonitor.

``lrmon check`` calls :func:`rejection` before it reviews anything, so a config that ``LightningCLI`` would refuse
is exit 2 with LightningCLI's reason on one line, and a config it accepts is what gets checked. Only the sections
LightningCLI reads for any model are parsed (``trainer``, ``optimizer``, ``lr_scheduler``): the model and data
classes are your code, which ``lrmon`` does not import. This module imports Lightning and jsonargparse; nothing
else in lightning-lrmon's CLI does.

Example:
    >>> print(rejection({"trainer": {"max_steps": 10, "callbacks": [{"class_path": "lightning_lrmon.LRMonitor",
    ...     "init_args": {"on_misconfig": "explode"}}]}}))  # doctest: +ELLIPSIS
    LightningCLI rejects the config: Parser key "trainer.callbacks": ... Parser key "on_misconfig": ... explode
"""

from __future__ import annotations

import copy
import os
import re
from typing import Any

__all__ = ["SUBCOMMANDS", "lrmonitor_entries", "one_line", "rejection", "unwrap_subcommand"]

#: LightningCLI's subcommands; a config written for ``main.py --config cfg.yaml fit`` is rooted at one of them
SUBCOMMANDS = ("fit", "validate", "test", "predict")
_DETAIL = re.compile(r"^\s*- (.+)$")


def unwrap_subcommand(config: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The part of a subcommand-rooted config (``fit: {trainer: ...}``) that ``fit`` reads, and the root's name.

    Example:
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

    Example:
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


def _parser(config: dict[str, Any]) -> Any:
    from lightning.pytorch import Trainer
    from lightning.pytorch.cli import LightningArgumentParser, LRSchedulerTypeTuple

    parser = LightningArgumentParser(exit_on_error=False)
    parser.add_lightning_class_args(Trainer, "trainer")
    if config.get("optimizer") is not None:
        parser.add_optimizer_args(nested_key="optimizer", link_to="AUTOMATIC")
    if config.get("lr_scheduler") is not None:
        parser.add_lr_scheduler_args(LRSchedulerTypeTuple, nested_key="lr_scheduler", link_to="AUTOMATIC")
    return parser


def lrmonitor_entries(config: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """``(index in trainer.callbacks, init_args)`` of every LRMonitor a config lists: a ``class_path`` naming the
    class ``LRMonitor`` (``lightning_lrmon.LRMonitor``, ``lightning_lrmon.pl.LRMonitor``), not ``MyLRMonitor``.

    Example:
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

    from lightning_lrmon._callback import LRMonitor, _register_with_jsonargparse

    _register_with_jsonargparse()  # as LightningCLI sees LRMonitor once it has imported jsonargparse
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
