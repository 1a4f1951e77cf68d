"""Records of torch's composite schedulers: ``SequentialLR`` (children take over at milestones) and
``ChainedScheduler`` (every child steps at every step, each on the LR the one before wrote).

Their kernels step the children's own records; a config builds them from child specs (``init_args.schedulers``),
where ``"auto"`` inside a ``SequentialLR`` child means the steps of that child's phase.

Examples:
    >>> import torch
    >>> from torch.optim import lr_scheduler as L
    >>> from lightning_lrmon._schedulers.record import describe, lookup
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> s = L.SequentialLR(opt, [L.LinearLR(opt, 0.1, 1.0, 10), L.CosineAnnealingLR(opt, 90)], [10])
    >>> describe(s)
    'SequentialLR([LinearLR(start_factor=0.1, end_factor=1, total_iters=10), CosineAnnealingLR(T_max=90, eta_min=0)], \
milestones=[10])'
    >>> lookup(s).phases(s).milestones
    [10]
"""

from __future__ import annotations

import copy
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from torch.optim import lr_scheduler as tls

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._schedulers.arith import StepError, Unsupported, chain
from lightning_lrmon._schedulers.record import Composer, Phases, SchedulerRecord, describe, lookup, register

__all__: list[str] = []


def _children(s: Any) -> list[Any]:
    return list(s._schedulers)


def _with_children(s: Any, kids: list[Any]) -> Any:
    view = copy.copy(s)
    view._schedulers = kids
    return view


def _child_record(child: Any) -> SchedulerRecord:
    record = lookup(child)
    if record is None or (record.kernel is None and record.factors is None):
        raise Unsupported(f"{type(child).__name__} inside a composite scheduler")
    return record


def _describe(s: Any, extra: str = "") -> str:
    inner = ", ".join(describe(c) for c in s._schedulers)
    return f"{type(s).__name__}([{inner}]{extra})"


# -- SequentialLR --------------------------------------------------------------------------------------------------


def _pieces(milestones: list[int], epoch: int, n: int) -> Iterator[tuple[int, int, bool]]:
    """The next ``n`` steps from ``epoch`` as ``(child index, steps, reset)`` pieces: the step onto a milestone is a
    piece of its own that restarts its child, every other piece steps one child on."""
    done = 0
    while done < n:
        at = epoch + done
        idx = bisect_right(milestones, at + 1)
        if idx > 0 and milestones[idx - 1] == at + 1:
            yield idx, 1, True
            done += 1
            continue
        seg_end = milestones[idx] - 1 if idx < len(milestones) else epoch + n
        m = min(seg_end - at, n - done)
        yield idx, m, False
        done += m


def _k_sequential(s: Any, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    children = list(s._schedulers)
    milestones = list(s._milestones)
    records = [_child_record(c) for c in children]
    if any(r.reset0 is None for r in records[1:]):
        raise Unsupported("a class that cannot restart after a SequentialLR milestone")
    child_epochs = [c.last_epoch for c in children]
    for idx, m, reset in _pieces(milestones, s.last_epoch, e0 - s.last_epoch):  # a later chunk
        child_epochs[idx] = 0 if reset else child_epochs[idx] + m
    pieces = list(_pieces(milestones, e0, n))
    out = np.empty((lr.shape[0], n), dtype=np.float64)  # group by group, as the children's kernels make them
    cur = lr.copy()
    pos = 0
    for idx, m, reset in pieces:
        child, record = children[idx], records[idx]
        if reset and record.reset0 is not None:
            cur = record.reset0(child, cur)
            child_epochs[idx] = 0
            out[:, pos] = cur
        else:
            try:
                seg = record.simulate(child, cur, child_epochs[idx], m)
            except StepError as err:
                raise StepError(pos + err.row, err.message) from None
            assert seg is not None
            if len(pieces) == 1:
                return seg  # one child all along: its rows as they are
            out[:, pos : pos + m] = seg.T
            cur = seg[-1].copy()
            child_epochs[idx] += m
        pos += m
    return out.T


def _sequential_steps(
    init_args: dict[str, Any], n: int, total_steps: int | None, bind: Callable[[Any, str], Any], where: str
) -> tuple[dict[str, Any], list[int | None]]:
    milestones = init_args.get("milestones")
    if milestones is None:
        raise LRMonitorConfigError(f"`{where}.init_args.milestones` is required for SequentialLR.")
    milestones = [bind(m, f"{where}.init_args.milestones[{i}]") for i, m in enumerate(milestones)]
    if len(milestones) != n - 1:
        raise LRMonitorConfigError(
            f"`{where}.init_args.milestones`={milestones!r} must have one entry fewer than schedulers ({n}): a "
            "milestone is where the next scheduler takes over."
        )
    if any(not isinstance(m, int) or m <= 0 for m in milestones) or milestones != sorted(milestones):
        raise LRMonitorConfigError(
            f"`{where}.init_args.milestones`={milestones!r} must be increasing positive step counts."
        )
    bounds = [0, *milestones, total_steps]
    steps = [None if total_steps is None else bounds[i + 1] - bounds[i] for i in range(n)]
    return {**init_args, "milestones": milestones}, steps


register(
    SchedulerRecord(
        tls.SequentialLR,
        arg_types={"milestones": list[int]},
        warmup_hint=lambda s, suggested: (
            f"end the warmup phase early, e.g. milestones=[{suggested}] with the warmup's total_iters={suggested}"
            " (about 5% of the run), or give them as '5%'."
        ),
        kernel=_k_sequential,
        children=_children,
        with_children=_with_children,
        phases=lambda s: Phases(list(s._schedulers), list(s._milestones), s.last_epoch),
        describe=lambda s: _describe(s, f", milestones={list(s._milestones)}"),
        compose=Composer(
            child_steps=_sequential_steps,
            make=lambda cls, kids, optimizer, init_args: cls(optimizer, schedulers=kids, **init_args),
        ),
    )
)


# -- ChainedScheduler ----------------------------------------------------------------------------------------------


def _k_chained(s: Any, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    """Every child steps each step, each reading the LR the previous one wrote.

    Multiplicative children contribute a factor per step and closed-form children (which ignore the incoming LR)
    a value per step, both computed vectorised once; when every child multiplies, the chain is one cumulative
    product, otherwise the children are applied in order step by step on those precomputed series.
    """
    g = lr.shape[0]
    shift = e0 - getattr(s, "last_epoch", 0)  # a later chunk: every child is that many steps further on
    ops: list[tuple[str, np.ndarray]] = []
    for c in s._schedulers:
        record = lookup(c)
        if record is not None and record.factors is not None:
            f = record.factors(c, c.last_epoch + shift, n)
            ops.append(("mul", np.broadcast_to(f if f.ndim == 2 else f[:, None], (n, g))))
        elif record is not None and record.closed_form and record.kernel is not None:
            ops.append(("set", record.kernel(c, lr, c.last_epoch + shift, n)))
        else:
            raise Unsupported(f"{type(c).__name__} inside ChainedScheduler")
    if all(kind == "mul" for kind, _ in ops):
        if n == 0:
            return np.empty((0, g))
        # torch multiplies the running LR by each child's factor in turn: keep that order exactly
        stacked = np.stack([f for _, f in ops], axis=1)  # (n, k, G)
        full = chain(lr, stacked.reshape(n * len(ops), g))
        return full[len(ops) - 1 :: len(ops)]
    last_set = max(i for i, (kind, _) in enumerate(ops) if kind == "set")
    out = ops[last_set][1].copy()
    for _, factors in ops[last_set + 1 :]:
        out *= factors
    return out


def _chained_steps(
    init_args: dict[str, Any], n: int, total_steps: int | None, bind: Callable[[Any, str], Any], where: str
) -> tuple[dict[str, Any], list[int | None]]:
    return init_args, [total_steps] * n


register(
    SchedulerRecord(
        tls.ChainedScheduler,
        arg_types={},
        kernel=_k_chained,
        children=_children,
        with_children=_with_children,
        describe=_describe,
        compose=Composer(
            child_steps=_chained_steps,
            make=lambda cls, kids, optimizer, init_args: cls(kids, optimizer, **init_args),
        ),
    )
)
