"""What a monitor logged, kept in bounded memory for ``plot``: every step until ``values`` values (rows x tags),
then thinned by halves (every 2nd, 4th, ... step), as a long TensorBoard series is.

Examples:
    >>> kept = Kept(values=4)
    >>> for step in range(10):
    ...     kept.add(step, ["lr-SGD"], [0.1 * step])
    >>> kept.series()["lr-SGD"][0].tolist()
    [0, 4, 8]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Kept"]


class Kept:
    """Rows ``(step, tags, values)``, one per ``stride`` calls; ``tags`` and ``values`` are kept as given (the
    tracker makes a new values list per step and shares its tags list)."""

    def __init__(self, values: int = 65536) -> None:
        self.values = values
        self.cap = 0  # rows, set at the first row: ``values`` over its width (at least 256 rows)
        self.stride = 1
        self._n = 0
        self._rows: list[tuple[int, Sequence[str], Sequence[float]]] = []

    def add(self, step: int, tags: Sequence[str], values: Sequence[float]) -> None:
        n = self._n
        self._n = n + 1
        if n % self.stride:
            return
        rows = self._rows
        rows.append((step, tags, values))
        if not self.cap:
            self.cap = max(256 if self.values >= 256 else 1, self.values // max(1, len(values)))
        if len(rows) > self.cap:
            self._rows = rows[::2]
            self.stride *= 2

    def add_rows(self, rows: Sequence[tuple[float, int, Sequence[str], Sequence[float]]]) -> None:
        """Many rows ``(wall, step, tags, values)`` at once (a TensorBoard writer's buffered steps), as ``add``."""
        for _, step, tags, values in rows:
            self.add(step, tags, values)

    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{tag: (steps, values)}`` of every tag kept."""
        out: dict[str, tuple[list[int], list[float]]] = {}
        for step, tags, values in self._rows:
            for tag, value in zip(tags, values):
                steps, vals = out.setdefault(tag, ([], []))
                steps.append(step)
                vals.append(value)
        return {tag: (np.asarray(s), np.asarray(v)) for tag, (s, v) in out.items()}
