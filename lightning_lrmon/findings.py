"""The :class:`Finding` record that every check returns.

Example:
    >>> from lightning_lrmon import Finding
    >>> f = Finding(code="decay-increases", severity="warning", message="LR rises", step=1, hint="use end_factor<1")
    >>> f.code, f.step
    ('decay-increases', 1)
    >>> str(f)
    'decay-increases: LR rises Fix: use end_factor<1'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Finding", "Severity"]

Severity = Literal["warning", "error"]


@dataclass(frozen=True)
class Finding:
    """One problem found in a learning-rate schedule.

    Attributes:
        code: stable kebab-case identifier from the catalogue (e.g. ``"decay-increases"``).
        severity: ``"warning"`` or ``"error"`` (an error means the run will crash or train nothing).
        message: what is wrong, with the numbers that prove it.
        step: the first optimizer step concerned (0-based), or ``None``.
        hint: the fix, in the user's own terms.
        optimizer: label of the optimizer concerned (e.g. ``"lr-SGD"``), if known.
        group: index of the param group concerned, if one.

    Example:
        >>> Finding("lr-invalid", "error", "LR is NaN at step 3", 3, "fix the lambda").severity
        'error'
    """

    code: str
    severity: Severity
    message: str
    step: int | None = None
    hint: str = ""
    optimizer: str | None = None
    group: int | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.hint:
            text += f" Fix: {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the public fields.

        Example:
            >>> Finding("lr-jump", "warning", "m", 5, "h").to_dict()["step"]
            5
        """
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "step": self.step,
            "hint": self.hint,
            "optimizer": self.optimizer,
            "group": self.group,
        }
