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
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lightning_lrmon._vocab import SHAPES

if TYPE_CHECKING:  # the CLI imports torch, numpy and yaml only when it runs a command (``--help`` stays fast)
    pass
from lightning_lrmon._cli.config import InputError, _paths
from lightning_lrmon._cli.evaluate import check_file
from lightning_lrmon._cli.report import JSON_VERSION, _json, _text, png, report_many, terminal_plot

__all__ = ["main", "run"]


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


def check_args(args: argparse.Namespace) -> None:
    for name in ("steps", "steps_per_epoch"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise InputError(f"--{name.replace('_', '-')} must be a positive number of steps, got {value}")


def _check(args: argparse.Namespace) -> int:
    """``lrmon check``: one file reports as before; several files or a folder add one summary table."""
    paths = _paths(args.config)
    files = [check_file(path, args) for path in paths]
    if len(args.config) == 1 and len(paths) == 1 and not os.path.isdir(args.config[0]):
        (one,) = files
        if one.error is not None:
            raise InputError(one.error)
        return _out(_json(one.entries, one.notes) if args.format == "json" else _text(one.entries, one.notes), one.code)
    return _out(report_many(files, args.format), max(f.code for f in files))


def _out(text: str, code: int) -> int:
    """Print the report and return the check's exit code, also when the reader of a pipe has gone (``| head``)."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # the interpreter flushes stdout again at exit: point it at devnull so that flush is quiet too
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code


def _preview(args: argparse.Namespace) -> int:
    result = check_file(args.config, args, keep_lrs=True)
    if result.error is not None:
        raise InputError(result.error)
    if args.out:
        png(result.entries, args.out)
        return _out(f"{_text(result.entries, result.notes)}\nwrote {os.path.abspath(args.out)}", result.code)
    return _out(terminal_plot(result.entries), result.code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lrmon`` console script; returns the exit code (never raises, never a traceback)."""
    args = _parser().parse_args(argv)
    try:
        check_args(args)
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
