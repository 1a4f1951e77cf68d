"""``"auto"`` and ``"N%"`` bound to the run's scheduler steps."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lightning_lrmon._exceptions import LRMonitorConfigError

__all__ = ["has_auto"]


_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def has_auto(spec: Any) -> bool:
    """Whether a normalised spec contains ``"auto"`` or ``"N%"`` anywhere.

    Examples:
        >>> has_auto({"class_path": "StepLR", "init_args": {"step_size": "10%"}})
        True
    """
    if isinstance(spec, Mapping):
        return any(has_auto(v) for v in spec.values())
    if isinstance(spec, (list, tuple)):
        return any(has_auto(v) for v in spec)
    return isinstance(spec, str) and (spec.strip().lower() == "auto" or bool(_PERCENT.match(spec)))


def bind_value(value: Any, steps: int | None, *, where: str) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(bind_value(v, steps, where=f"{where}[{i}]") for i, v in enumerate(value))
    if not isinstance(value, str):
        return value
    is_auto = value.strip().lower() == "auto"
    pct = _PERCENT.match(value)
    if not is_auto and not pct:
        return value
    if steps is None or steps <= 0:
        raise LRMonitorConfigError(
            f"`{where}`={value!r} needs the run's length, but this run has no finite length "
            f"({'unknown' if steps is None else steps} scheduler steps). Set Trainer(max_steps=...) or "
            "Trainer(max_epochs=...), or give a number."
        )
    if is_auto:
        return int(steps)
    return max(1, int(round(float(pct.group(1)) / 100.0 * steps)))  # type: ignore[union-attr]
