"""Tag names exactly as Lightning's ``LearningRateMonitor`` makes them, so existing dashboards keep working.

Schedulers first (in ``lr_scheduler_configs`` order; a config ``name`` replaces ``lr-<Optimizer>``), then the
optimizers without a scheduler; repeated optimizer classes get ``-1``, ``-2``...; several param groups get
``/pg1``, ``/pg2``... or ``/<group name>``.

Examples:
    >>> import torch
    >>> p = lambda: [torch.nn.Parameter(torch.zeros(1))]
    >>> sgd = torch.optim.SGD([{"params": p()}, {"params": p(), "name": "head"}], lr=0.1)
    >>> adam = torch.optim.Adam(p())
    >>> adam2 = torch.optim.Adam(p())
    >>> tag_names([sgd, adam, adam2], [])
    [['lr-SGD/pg1', 'lr-SGD/head'], ['lr-Adam'], ['lr-Adam-1']]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lightning_lrmon._exceptions import LRMonitorConfigError

__all__ = ["optimizer_label", "tag_names"]


def _suffix(name: str, groups: list[dict[str, Any]], i: int) -> str:
    if len(groups) > 1:
        return f"{name}/{groups[i].get('name', f'pg{i + 1}')}"
    pg_name = groups[i].get("name")
    return f"{name}/{pg_name}" if pg_name else name


def tag_names(optimizers: Sequence[Any], scheduler_configs: Sequence[Any]) -> list[list[str]]:
    """Tag names per optimizer (in ``optimizers`` order), one per param group.

    Args:
        optimizers: the trainer's optimizers (DeepSpeed-style wrappers with ``.optimizer`` are unwrapped).
        scheduler_configs: objects with ``.scheduler`` and ``.name`` (Lightning's ``LRSchedulerConfig``).

    Returns:
        ``names[i][g]`` is the tag of group ``g`` of ``optimizers[i]``.
    """
    seen: list[Any] = []
    counts: defaultdict[type, int] = defaultdict(int)
    by_id: dict[int, list[str]] = {}

    def add(opt: Any, name: str, named: bool) -> None:
        seen.append(opt)
        cls = type(opt)
        if not named:
            counts[cls] += 1
        groups = opt.param_groups
        names = [g.get("name", f"pg{i}") for i, g in enumerate(groups, start=1)]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise LRMonitorConfigError(
                f"optimizer {cls.__name__} has several param groups named {dup}; give each group a unique 'name'."
            )
        if cls in counts and counts[cls] > 1:
            name = f"{name}-{counts[cls] - 1}"
        by_id.setdefault(id(opt), [_suffix(name, groups, i) for i in range(len(groups))])

    for config in scheduler_configs:
        opt = config.scheduler.optimizer
        add(opt, config.name if config.name is not None else f"lr-{type(opt).__name__}", config.name is not None)
    raw = [getattr(o, "optimizer", o) for o in optimizers]
    for opt in raw:
        if any(opt is s for s in seen):
            continue
        add(opt, f"lr-{type(opt).__name__}", False)
    return _unique([by_id[id(o)] for o in raw])


def optimizer_label(tags: Sequence[str], groups: Sequence[dict[str, Any]]) -> str:
    """The optimizer's own name in its groups' tags: ``lr-SGD`` for ``lr-SGD/pg1``, ``lr-SGD/head`` (one named
    group) and ``lr-SGD``; the tags of ``tag_names``, the groups of that optimizer.

    Examples:
        >>> optimizer_label(["lr-SGD/head"], [{"name": "head"}]), optimizer_label(["lr/a"], [{}])
        ('lr-SGD', 'lr/a')
    """
    suffixed = len(groups) > 1 or bool(groups and groups[0].get("name"))
    return tags[0].rsplit("/", 1)[0] if suffixed else tags[0]


def _renamed(names: list[str], k: int) -> list[str]:
    out = []
    for n in names:
        base, sep, rest = n.partition("/")
        out.append(f"{base}-{k}{sep}{rest}")
    return out


def _unique(per_optimizer: list[list[str]]) -> list[list[str]]:
    """Two optimizers never share a tag: a later one whose names are taken gets ``-1``, ``-2``... on its base name.

    Examples:
        >>> _unique([["lr"], ["lr"], ["lr-1"]])
        [['lr'], ['lr-1'], ['lr-1-1']]
    """
    taken: set[str] = set()
    out = []
    for names in per_optimizer:
        k = 0
        candidate = names
        while any(n in taken for n in candidate):
            k += 1
            candidate = _renamed(names, k)
        taken.update(candidate)
        out.append(candidate)
    return out
