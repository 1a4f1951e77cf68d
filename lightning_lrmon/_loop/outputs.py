"""Where a loop's LRs go: Fabric's loggers, any Lightning logger, or a torch ``SummaryWriter``, through the sinks the
callback uses (lightning-lrmon's own TensorBoard writer beside the first local TensorBoard run directory).

Examples:
    >>> loggers_of(None), len(loggers_of([]))
    ([], 0)
"""

from __future__ import annotations

from typing import Any

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._fit.outputs import event_writer, is_remote, is_tensorboard
from lightning_lrmon._fit.sinks import LoggerSink, TensorBoardSink

__all__ = ["loggers_of", "loop_sinks"]


def _is_summary_writer(logger: Any) -> bool:
    return callable(getattr(logger, "add_scalar", None)) and callable(getattr(logger, "get_logdir", None))


class _WriterAsLogger:
    """A second ``SummaryWriter`` behind the ``log_metrics`` a logger sink calls."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, step)


def loggers_of(logger: Any) -> list[Any]:
    """``logger`` as a list (``fabric.loggers``, one logger or writer, a list, ``None``); refuses anything that
    cannot take metrics, with the fix."""
    loggers = [] if logger is None else list(logger) if isinstance(logger, (list, tuple)) else [logger]
    for lg in loggers:
        if not (_is_summary_writer(lg) or callable(getattr(lg, "log_metrics", None))):
            raise LRMonitorConfigError(
                f"`logger` got {type(lg).__name__}, which takes no metrics. Pass fabric.loggers, a Lightning or "
                "Fabric logger (TensorBoardLogger, CSVLogger, ...), a torch SummaryWriter, or a list of them."
            )
    return loggers


def _local_tensorboard(logger: Any) -> tuple[str, Any] | None:
    """``(log_dir, SummaryWriter)`` of a local TensorBoard run directory, or ``None``."""
    if _is_summary_writer(logger):
        return str(logger.get_logdir()), logger
    if is_tensorboard(logger) and not is_remote(str(logger.log_dir)):
        return str(logger.log_dir), logger.experiment
    return None


def loop_sinks(
    loggers: list[Any], *, tensorboard_every: int, every: int, resumed_at: int
) -> tuple[TensorBoardSink | None, LoggerSink | None]:
    """lightning-lrmon's writer beside the first local TensorBoard directory, every other logger at ``every`` steps
    (``(step + 1) % every == 0`` and the last step). Called on rank zero only."""
    tensorboard, others = None, []
    for logger in loggers:
        local = _local_tensorboard(logger) if tensorboard is None else None
        if local is not None:
            learn = None if _is_summary_writer(logger) else logger  # a logger's key prefix is learned as it writes
            tensorboard = TensorBoardSink(event_writer(*local, resumed_at), learn, every=tensorboard_every)
        else:
            others.append(_WriterAsLogger(logger) if _is_summary_writer(logger) else logger)
    return tensorboard, LoggerSink(others, every=every, logging_interval="step") if others else None
