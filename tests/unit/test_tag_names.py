"""Tag names equal LearningRateMonitor's own (its naming code run on the same optimizers and configs)."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.utilities.types import LRSchedulerConfig

from lightning_lrmon._fit.tags import tag_names


def p():
    return [torch.nn.Parameter(torch.zeros(1))]


def sgd(*names):
    groups = [{"params": p(), **({"name": n} if n else {})} for n in names]
    return torch.optim.SGD(groups, lr=0.1)


def cfg(opt, name=None):
    return LRSchedulerConfig(torch.optim.lr_scheduler.StepLR(opt, 5), name=name)


CASES = {
    "single": lambda: ([sgd(None)], []),
    "groups": lambda: ([sgd(None, None, None)], []),
    "named-groups": lambda: ([sgd("backbone", None, "head")], []),
    "one-named-group": lambda: ([sgd("only")], []),
    "repeated-classes": lambda: ([sgd(None), sgd(None), torch.optim.Adam(p())], []),
    "scheduler-first": lambda: (lambda o: (o, [cfg(o[1])]))([sgd(None), torch.optim.Adam(p())]),
    "named-config": lambda: (lambda o: (o, [cfg(o[0], "my-lr"), cfg(o[1])]))([sgd(None, None), sgd(None)]),
    "mixed": lambda: (lambda o: (o, [cfg(o[2])]))([sgd(None), torch.optim.Adam(p()), sgd("a", "b")]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_tag_names_match_learning_rate_monitor(case):
    optimizers, configs = CASES[case]()
    lrm = LearningRateMonitor()
    sched_names, seen, seen_types = lrm._find_names_from_schedulers(configs)
    opt_names, without = lrm._find_names_from_optimizers(
        optimizers, seen_optimizers=seen, seen_optimizer_types=seen_types
    )
    expected = {id(c.scheduler.optimizer): n for c, n in zip(configs, sched_names)}
    expected.update({id(o): n for o, n in zip(without, opt_names)})
    assert tag_names(optimizers, configs) == [expected[id(o)] for o in optimizers]
