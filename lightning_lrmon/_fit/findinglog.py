"""The finding log of one fit: every finding in order, each warned once on rank zero or marked for raising.

Examples:
    >>> from lightning_lrmon._findings import Finding
    >>> log = FindingLog(on_misconfig="raise", is_zero=True)
    >>> log.add(Finding("lr-jump", "warning", "m")), log.wants_raise, log.raise_now(), log.wants_raise
    (True, True, True, False)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from lightning_lrmon._exceptions import LRMonitorNote, LRScheduleWarning
from lightning_lrmon._findings import Finding
from lightning_lrmon._vocab import OnMisconfig

__all__ = ["FindingLog"]


class FindingLog:
    """Every finding of a fit, in order; each warned once on rank zero, or marked for raising.

    Args:
        on_misconfig: ``"warn"``, ``"raise"`` or ``"ignore"``.
        is_zero: this process is rank zero (only it warns).
    """

    def __init__(self, on_misconfig: OnMisconfig | str, is_zero: bool) -> None:
        self.on_misconfig = on_misconfig
        self.is_zero = is_zero
        self.findings: list[Finding] = []
        #: where warnings point: ``(file, line, module)`` of the user's ``configure_optimizers`` (or class)
        self.location: tuple[str, int, str] | None = None
        #: finds ``location`` at the first warning (reading the user's source costs about a millisecond)
        self.locate: Callable[[], tuple[str, int, str] | None] | None = None
        #: a schedule problem was found under ``on_misconfig="raise"`` and no raise has happened yet
        self.wants_raise = False
        self._said: set[str] = set()

    def add(self, finding: Finding, *, once_per_code: bool = True) -> bool:
        """Record ``finding`` (``False``: said before, nothing done); warn or mark it for raising."""
        if once_per_code and any(f.code == finding.code for f in self.findings):
            return False
        text = str(finding)
        if text in self._said:
            return False
        self._said.add(text)
        self.findings.append(finding)
        if self.on_misconfig == "raise" and finding.is_schedule_problem:
            self.wants_raise = True
        elif self.on_misconfig != "ignore" and self.is_zero:
            self._warn(text, LRScheduleWarning if finding.is_schedule_problem else LRMonitorNote)
        return True

    def _warn(self, text: str, category: type[Warning]) -> None:
        """Warn at ``location`` (the user's ``configure_optimizers``) when known: a place worth opening, and
        one Lightning's console formatter prints with the category (it drops it for paths inside Lightning)."""
        if self.locate is not None:
            self.location, self.locate = self.locate(), None
        if self.location is None:
            warnings.warn(text, category, stacklevel=6)
            return
        filename, lineno, module = self.location
        warnings.warn_explicit(text, category, filename, lineno, module=module)

    def schedule_problems(self) -> list[Finding]:
        return [f for f in self.findings if f.is_schedule_problem]

    def raise_now(self, others_want_it: bool | None = None) -> bool:
        """Whether to raise now: this rank's wish, or the ranks' vote when one was taken (``others_want_it``)."""
        decision = self.wants_raise if others_want_it is None else others_want_it
        if decision:
            self.wants_raise = False
        return decision
