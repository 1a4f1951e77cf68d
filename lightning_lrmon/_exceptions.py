"""Warning and exception classes of lightning-lrmon.

Every warning the package emits about a schedule is an ``LRScheduleWarning``, so a CI job can turn them
into errors with ``warnings.filterwarnings("error", category=LRScheduleWarning)``.

Examples:
    >>> import warnings
    >>> from lightning_lrmon import LRScheduleWarning
    >>> issubclass(LRScheduleWarning, UserWarning)
    True
"""

from __future__ import annotations

from typing import Any

__all__ = ["LRMonitorConfigError", "LRMonitorNote", "LRScheduleError", "LRScheduleWarning"]


class LRScheduleWarning(UserWarning):
    """A finding about a learning-rate schedule (its message starts with the finding code).

    Examples:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warnings.warn("decay-increases: ...", LRScheduleWarning)
        >>> caught[0].category.__name__
        'LRScheduleWarning'
    """


class LRMonitorNote(UserWarning):
    """A tooling note: something lightning-lrmon could not do (no logger, a logger that failed, a schedule it could
    not simulate), never a problem of the schedule. Not an ``LRScheduleWarning``, so turning schedule problems
    into errors never stops a healthy run.

    Examples:
        >>> issubclass(LRMonitorNote, LRScheduleWarning)
        False
    """


class LRMonitorConfigError(ValueError):
    """A bad scheduler specification or callback argument, raised before training starts.

    The message names the argument, shows the bad value and says how to fix it.

    Examples:
        >>> raise LRMonitorConfigError("`interval` must be 'step' or 'epoch', got 'batch'")
        Traceback (most recent call last):
        ...
        lightning_lrmon.LRMonitorConfigError: `interval` must be 'step' or 'epoch', got 'batch'
    """


class LRScheduleError(RuntimeError):
    """Raised by ``LRMonitor(on_misconfig="raise")`` when the schedule check finds problems.

    Attributes:
        findings: the findings that caused it.

    Examples:
        >>> err = LRScheduleError("decay-increases: ...", findings=[])
        >>> err.findings
        []
    """

    def __init__(self, message: str, findings: list[Any] | None = None) -> None:
        super().__init__(message)
        self.findings = list(findings or [])


for _cls in (LRScheduleWarning, LRMonitorNote, LRMonitorConfigError, LRScheduleError):
    _cls.__module__ = "lightning_lrmon"  # tracebacks show the public name
