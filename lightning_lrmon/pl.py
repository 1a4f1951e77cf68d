"""``LRMonitor`` for the standalone ``pytorch_lightning`` package.

A callback from ``lightning.pytorch`` is rejected by a ``pytorch_lightning.Trainer`` and the other way round;
import this one when your code uses ``import pytorch_lightning as pl``.

Example:
    >>> import pytorch_lightning as pl
    >>> from lightning_lrmon.pl import LRMonitor
    >>> isinstance(LRMonitor(), pl.Callback)
    True
"""

from __future__ import annotations

import pytorch_lightning as _pl

from lightning_lrmon.callback import make_callback_class

__all__ = ["LRMonitor"]

LRMonitor = make_callback_class(_pl)
