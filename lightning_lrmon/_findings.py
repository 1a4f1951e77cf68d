"""Every finding code lightning-lrmon can report, in one table, and the ``Finding`` record.

A code is either a **schedule** problem (the schedule is not what the user meant: these count for
``on_misconfig="raise"``) or a **tooling** note (lightning-lrmon could not do something: a limit of the checker, a
logger that failed). Codes are public API: keep them stable.

Examples:
    >>> from lightning_lrmon import Finding
    >>> f = Finding(code="decay-increases", severity="warning", message="LR rises", step=1, hint="use end_factor<1")
    >>> f.code, f.step, f.is_schedule_problem
    ('decay-increases', 1, True)
    >>> str(f)
    'decay-increases: LR rises Fix: use end_factor<1'
    >>> CODES["simulation-truncated"].kind
    'tooling'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["CODES", "CodeInfo", "Finding", "Kind", "Severity"]

Severity = Literal["warning", "error"]
Kind = Literal["schedule", "tooling"]


@dataclass(frozen=True)
class CodeInfo:
    """What one finding code means.

    Attributes:
        kind: ``"schedule"`` (a problem of the schedule) or ``"tooling"`` (a limit or failure of lightning-lrmon).
        severity: the default severity (``"error"``: the run will crash or train nothing).
        when: ``"static"`` (found by the fit-start simulation) or ``"runtime"`` (found in the live run).
    """

    kind: Kind
    severity: Severity
    when: Literal["static", "runtime"]


def _s(severity: Severity = "warning", when: Literal["static", "runtime"] = "static") -> CodeInfo:
    return CodeInfo("schedule", severity, when)


def _t(when: Literal["static", "runtime"] = "static") -> CodeInfo:
    return CodeInfo("tooling", "warning", when)


#: finding code -> ``CodeInfo``: the one registry of codes (the catalogue plus tooling notes).
CODES: dict[str, CodeInfo] = {
    "scheduler-overrun": _s("error"),
    "lr-invalid": _s("error"),
    "horizon-too-short": _s(),
    "horizon-too-long": _s(),
    "decay-increases": _s(),
    "warmup-too-long": _s(),
    "lr-zero-early": _s(),
    "lr-jump": _s(),
    "groups-collapsed": _s(),
    "schedulers-conflict": _s(),
    "double-step": _s(when="runtime"),
    "plateau-monitor-missing": _s(when="runtime"),
    "resume-mismatch": _s(when="runtime"),
    "scheduler-not-stepped": _s(when="runtime"),
    "run-length-changed": _s(when="runtime"),
    "scheduler-in-setup": _s(),
    "simulation-truncated": _t(),
    "not-simulated": _t(),
    "check-failed": _t(),
    "no-logger": _t(),
    "logger-failed": _t("runtime"),
    "lr-outside-plan": _t("runtime"),
    "log-momentum-unavailable": _t(),
    "lr-logged-twice": _t(),
    "not-judged": _t(),
}


@dataclass(frozen=True)
class Finding:
    """One problem found in a learning-rate schedule (or one thing lightning-lrmon could not do).

    Attributes:
        code: a key of ``CODES`` (e.g. ``"decay-increases"``); an unknown code raises.
        severity: ``"warning"`` or ``"error"`` (an error means the run will crash or train nothing).
        message: what is wrong, with the numbers that prove it.
        step: the first optimizer step concerned (0-based), or ``None``.
        hint: the fix, in the user's own terms.
        optimizer: label of the optimizer concerned (e.g. ``"lr-SGD"``), if known.
        group: index of the param group concerned, if one.

    Examples:
        >>> Finding("lr-invalid", "error", "LR is NaN at step 3", 3, "fix the lambda").severity
        'error'
        >>> Finding("lr-typo", "error", "m")
        Traceback (most recent call last):
        ...
        ValueError: unknown finding code 'lr-typo'; known codes: scheduler-overrun, lr-invalid, ...
    """

    code: str
    severity: Severity
    message: str
    step: int | None = None
    hint: str = ""
    optimizer: str | None = None
    group: int | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}; known codes: {', '.join(CODES)}")

    @property
    def kind(self) -> Kind:
        """``"schedule"`` or ``"tooling"`` (from ``CODES``)."""
        return CODES[self.code].kind

    @property
    def is_schedule_problem(self) -> bool:
        """Whether this finding counts for ``on_misconfig="raise"``."""
        return CODES[self.code].kind == "schedule"

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.hint:
            text += f" Fix: {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the public fields.

        Examples:
            >>> Finding("lr-jump", "warning", "m", 5, "h").to_dict()["kind"]
            'schedule'
        """
        return {
            "code": self.code,
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "step": self.step,
            "hint": self.hint,
            "optimizer": self.optimizer,
            "group": self.group,
        }


def tooling(
    code: str, message: str, hint: str = "", *, optimizer: str | None = None, step: int | None = None
) -> Finding:
    """A tooling ``Finding`` (a warning about what lightning-lrmon could not do).

    Examples:
        >>> tooling("no-logger", "nothing is logged", "pass a logger").kind
        'tooling'
    """
    if CODES[code].kind != "tooling":
        raise ValueError(f"{code!r} is a schedule code, not a tooling code")
    return Finding(code, "warning", message, step, hint, optimizer)
