"""Scheduler records: one ``SchedulerRecord`` per scheduler class.

Importing this package registers the records of torch's built-in schedulers (one module per family); everything
else asks ``lookup``. Supporting another class is one ``register(SchedulerRecord(...))`` call.

Examples:
    >>> from lightning_lrmon._schedulers import SHAPES, registered_names
    >>> "CosineAnnealingLR" in registered_names(), SHAPES[0]
    (True, 'decay')
"""

from __future__ import annotations

from lightning_lrmon._schedulers import composite, cosine, cycles, factors, lambdas, plateau  # noqa: F401 - registers
from lightning_lrmon._schedulers.record import (
    Composer,
    Phases,
    SchedulerRecord,
    arg_types_of,
    callable_text,
    describe,
    horizon_of,
    init_args_of,
    lookup,
    named,
    register,
    register_scheduler,
    registered_names,
)
from lightning_lrmon._vocab import SHAPES

__all__ = [
    "SHAPES",
    "Composer",
    "Phases",
    "SchedulerRecord",
    "arg_types_of",
    "callable_text",
    "describe",
    "horizon_of",
    "init_args_of",
    "lookup",
    "named",
    "register",
    "register_scheduler",
    "registered_names",
]
