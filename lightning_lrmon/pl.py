"""``LRMonitor`` for the standalone ``pytorch_lightning`` package.

Use this one when your code does ``import pytorch_lightning as pl``: it is the same callback, a subclass of both
packages' ``Callback``, with its scheduler configs made by ``pytorch_lightning``.

Examples:
    >>> import pytorch_lightning as pl
    >>> from lightning_lrmon.pl import LRMonitor
    >>> isinstance(LRMonitor(), pl.Callback)
    True
"""

from __future__ import annotations

import pytorch_lightning as _pl

from lightning_lrmon._callback import LRMonitor as _LRMonitor

__all__ = ["LRMonitor"]


class LRMonitor(_LRMonitor, _pl.Callback):  # type: ignore[misc]
    """``lightning_lrmon.LRMonitor`` for ``pytorch_lightning.Trainer`` (same arguments)."""

    _package = "pytorch_lightning"
