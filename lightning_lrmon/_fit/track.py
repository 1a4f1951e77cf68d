"""Which tag each param group's LR is logged under, following the groups as they change during training.

Pure bookkeeping, no Lightning: ``LRTracker`` is told the optimizers and scheduler configs at train start and
then asked, once per optimizer step, for the tags and values of one optimizer. A param group added during training
(``BackboneFinetuning``, ``optimizer.add_param_group``) renames the tags the way ``LearningRateMonitor`` does: the
first group of ``lr-SGD`` becomes ``lr-SGD/pg1`` when ``lr-SGD/pg2`` appears.

Examples:
    >>> import torch
    >>> p = lambda: [torch.nn.Parameter(torch.zeros(1))]
    >>> sgd = torch.optim.SGD(p(), lr=0.1)
    >>> tracker = LRTracker()
    >>> tracker.start([sgd], [])
    >>> t = tracker.read(sgd); t.all_tags, t.values
    (['lr-SGD'], [0.1])
    >>> sgd.add_param_group({"params": p(), "lr": 0.01})
    >>> t = tracker.read(sgd); t.all_tags, t.values
    (['lr-SGD/pg1', 'lr-SGD/pg2'], [0.1, 0.01])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lightning_lrmon._fit.tags import optimizer_label, tag_names

__all__ = ["LRTracker", "Track", "has_momentum"]


def has_momentum(optimizer: Any) -> bool:
    """Whether the optimizer has a momentum (``momentum`` or Adam's ``betas``) to log.

    Examples:
        >>> import torch
        >>> has_momentum(torch.optim.Adagrad([torch.nn.Parameter(torch.zeros(1))]))
        False
    """
    defaults = getattr(optimizer, "defaults", {})
    return "momentum" in defaults or "betas" in defaults


def _unwrap(optimizer: Any) -> Any:
    return getattr(optimizer, "optimizer", optimizer)


class Track:
    """One optimizer as the tracker follows it: its tags, its latest values and how many steps it has logged."""

    __slots__ = (
        "all_tags",
        "by_epoch",
        "count",
        "epoch_due",
        "last_step",
        "n",
        "opt",
        "plan",
        "sent_step",
        "tags",
        "values",
    )

    def __init__(self, opt: Any, tags: list[str], extra: list[str]) -> None:
        self.opt = opt
        self.n = len(opt.param_groups)
        self.tags = tags
        self.all_tags = tags + extra if extra else tags
        self.values: list[float] = []  # what the last optimizer step used (empty before the first)
        self.count = 0  # optimizer steps read
        self.last_step = -1  # the step of the last values read
        self.sent_step = -1  # the last step whose values went to the other loggers
        self.epoch_due = False  # an epoch began: its first step goes to the other loggers
        self.by_epoch = False  # an epoch-interval scheduler or none: LearningRateMonitor logs it at epoch starts
        self.plan: Any = None  # its per-step scheduler's plan, held against every step read (a ``PlanCursor``)


class LRTracker:
    """Tags and the latest LRs of every optimizer the run has.

    Args:
        log_momentum: also ``<tag>-momentum`` (``betas[0]`` for Adam-style optimizers, 0 where there is none).
        log_weight_decay: also ``<tag>-weight_decay``.
    """

    def __init__(self, *, log_momentum: bool = False, log_weight_decay: bool = False) -> None:
        self.log_momentum = log_momentum
        self.log_weight_decay = log_weight_decay
        self._optimizers: list[Any] = []
        self._configs: list[Any] = []
        self._tracks: dict[int, Track] = {}
        self._by_wrapper: dict[int, Track] = {}

    def start(self, optimizers: Sequence[Any], configs: Sequence[Any]) -> None:
        """Name every group of ``optimizers`` (unwrapped), given the scheduler configs (``.scheduler``, ``.name``)."""
        self._optimizers = [getattr(o, "optimizer", o) for o in optimizers]
        self._configs = list(configs)
        self._name_all()

    def _name_all(self) -> None:
        old = self._tracks
        self._tracks = {}
        self._by_wrapper = {}
        scheduled = {id(_unwrap(c.scheduler.optimizer)): c.interval for c in self._configs}
        for opt, names in zip(self._optimizers, tag_names(self._optimizers, self._configs)):
            track = Track(opt, names, self._extra_names(names))
            track.by_epoch = scheduled.get(id(opt), "epoch") == "epoch"
            prev = old.get(id(opt))
            if prev is not None:
                track.values, track.count, track.epoch_due = prev.values, prev.count, prev.epoch_due
                track.last_step, track.sent_step = prev.last_step, prev.sent_step
            self._tracks[id(opt)] = track

    def _extra_names(self, names: list[str]) -> list[str]:
        out = []
        if self.log_momentum:
            out += [f"{n}-momentum" for n in names]
        if self.log_weight_decay:
            out += [f"{n}-weight_decay" for n in names]
        return out

    def track_of(self, optimizer: Any) -> Track | None:
        """The ``Track`` of ``optimizer`` (or of the optimizer it wraps); ``None`` for one the run does not have."""
        return self._tracks.get(id(getattr(optimizer, "optimizer", optimizer)))

    def tags_of(self, optimizer: Any) -> list[str]:
        """The LR tags of ``optimizer``'s groups (empty for an optimizer the run does not have)."""
        track = self._tracks.get(id(getattr(optimizer, "optimizer", optimizer)))
        return list(track.tags) if track is not None else []

    def charts(self) -> list[tuple[str, list[str]]]:
        """``(chart name, LR tags)`` per optimizer, in the trainer's order."""
        out = []
        for opt in self._optimizers:
            tags = self._tracks[id(opt)].tags
            out.append((optimizer_label(tags, opt.param_groups), list(tags)))
        return out

    def read(self, optimizer: Any) -> Track | None:
        """Read ``optimizer``'s values now (the LR the coming step uses) into its ``Track``; ``None`` for an
        optimizer the run does not have. The per-step path: one lookup, one list."""
        track = self._by_wrapper.get(id(optimizer))
        if track is None or len(groups := track.opt.param_groups) != track.n:
            return self._read_slow(optimizer)
        values = [float(g["lr"]) for g in groups]
        if track.all_tags is not track.tags:
            values += self._extras(track.opt, groups)
        track.values = values
        return track

    def _read_slow(self, optimizer: Any) -> Track | None:
        """First sighting of a wrapper, or a group was added (or removed): rename like LearningRateMonitor."""
        track = self._tracks.get(id(getattr(optimizer, "optimizer", optimizer)))
        if track is None:
            return None
        if len(track.opt.param_groups) != track.n:
            self._name_all()
            track = self._tracks[id(track.opt)]
        self._by_wrapper[id(optimizer)] = track
        return self.read(optimizer)

    def _extras(self, opt: Any, groups: list[dict[str, Any]]) -> list[float]:
        out: list[float] = []
        if self.log_momentum:
            use_betas = "betas" in opt.defaults
            out += [float(g["betas"][0] if use_betas else g.get("momentum", 0)) for g in groups]
        if self.log_weight_decay:
            out += [float(g.get("weight_decay", 0)) for g in groups]
        return out

    def tracks(self) -> list[Track]:
        """Every optimizer's ``Track``, in the trainer's order."""
        return [self._tracks[id(opt)] for opt in self._optimizers]

    def latest(self) -> dict[str, float]:
        """Every tag's value at the last optimizer step it was read (for ``trainer.callback_metrics``)."""
        out: dict[str, float] = {}
        for track in self._tracks.values():
            out.update(zip(track.all_tags, track.values))
        return out

    def without_momentum(self) -> list[str]:
        """Chart names of the optimizers that have no momentum (when ``log_momentum`` is on)."""
        if not self.log_momentum:
            return []
        return [name for (name, _), opt in zip(self.charts(), self._optimizers) if not has_momentum(opt)]
