"""The package's vocabularies, each a ``Literal`` type with the tuple of its values, in one module everything imports.

A word means one thing everywhere: the shapes ``expect=`` accepts, a scheduler's ``interval``, what
``on_misconfig`` may say, how a schedule was simulated, and the kinds and severities of findings.

Examples:
    >>> SHAPES
    ('decay', 'warmup', 'warmup_decay', 'constant', 'cyclic')
    >>> check_word("interval", "batch", INTERVALS)
    Traceback (most recent call last):
    ...
    lightning_lrmon.LRMonitorConfigError: `interval` must be 'step' or 'epoch', got 'batch'.
"""

from __future__ import annotations

from typing import Literal

from lightning_lrmon._exceptions import LRMonitorConfigError

__all__ = [
    "INTERVALS",
    "METHODS",
    "ON_MISCONFIG",
    "SHAPES",
    "CodeKind",
    "Interval",
    "Method",
    "OnMisconfig",
    "Severity",
    "Shape",
    "When",
    "check_word",
]

#: The shape of a schedule: what the checks judge it by (``expect=``, or inferred from the class).
Shape = Literal["decay", "warmup", "warmup_decay", "constant", "cyclic"]
SHAPES: tuple[Shape, ...] = ("decay", "warmup", "warmup_decay", "constant", "cyclic")

#: When Lightning steps a scheduler: after every optimizer step, or at every epoch's end.
Interval = Literal["step", "epoch"]
INTERVALS: tuple[Interval, ...] = ("step", "epoch")

#: What LRMonitor does with a schedule problem.
OnMisconfig = Literal["warn", "raise", "ignore"]
ON_MISCONFIG: tuple[OnMisconfig, ...] = ("warn", "raise", "ignore")

#: How a schedule was simulated (see ``Simulation.method``).
Method = Literal["kernel", "shadow", "lr-of-t", "static", "unavailable"]
METHODS: tuple[Method, ...] = ("kernel", "shadow", "lr-of-t", "static", "unavailable")

#: A finding's severity, the kind of its code, and when it is found.
Severity = Literal["warning", "error"]
CodeKind = Literal["schedule", "tooling"]
When = Literal["static", "runtime"]


def check_word(argument: str, value: object, words: tuple[str, ...], *, none_ok: bool = False) -> None:
    """Raise ``LRMonitorConfigError`` naming ``argument`` when ``value`` is not one of ``words`` (``None`` is
    accepted when ``none_ok``, meaning "infer"). The one validation of every vocabulary argument.

    Examples:
        >>> check_word("expect", None, SHAPES, none_ok=True)
        >>> check_word("expect", "decays", SHAPES, none_ok=True)
        Traceback (most recent call last):
        ...
        lightning_lrmon.LRMonitorConfigError: `expect` must be one of ['decay', 'warmup', 'warmup_decay', \
'constant', 'cyclic'] or None (infer), got 'decays'.
    """
    if (none_ok and value is None) or value in words:
        return
    if len(words) == 2:
        allowed = f"{words[0]!r} or {words[1]!r}"
    else:
        allowed = f"one of {list(words)}" + (" or None (infer)" if none_ok else "")
    raise LRMonitorConfigError(f"`{argument}` must be {allowed}, got {value!r}.")
