"""``LRMonitor`` for ``lightning.pytorch`` (the ``lightning`` package).

Example:
    >>> import lightning.pytorch as pl
    >>> from lightning_lrmon import LRMonitor
    >>> isinstance(LRMonitor(), pl.Callback)
    True
"""

from __future__ import annotations

import lightning.pytorch as _pl

from lightning_lrmon.callback import make_callback_class

__all__ = ["LRMonitor"]

LRMonitor = make_callback_class(_pl)
