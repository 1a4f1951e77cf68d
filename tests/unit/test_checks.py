"""The catalogue: every misconfigured schedule gets its code with an actionable message; healthy ones get none."""

from __future__ import annotations

import re

import pytest
from schedule_cases import HEALTHY, MISCONFIGURED, make_optimizer
from torch.optim import lr_scheduler as L

from lightning_lrmon import Finding, check_schedule
from lightning_lrmon._review.checks import CHECKS

CATALOGUE_STATIC = {
    "decay-increases",
    "horizon-too-short",
    "horizon-too-long",
    "scheduler-overrun",
    "lr-invalid",
    "lr-zero-early",
    "warmup-too-long",
    "lr-jump",
    "groups-collapsed",
}


def test_registry_has_exactly_the_catalogue_codes():
    assert set(CHECKS) == CATALOGUE_STATIC


def test_every_catalogue_code_has_a_misconfigured_case():
    assert {c.code for c in MISCONFIGURED} == CATALOGUE_STATIC


#: cases with a second, genuine finding: a OneCycleLR four times too long also peaks too late for this run
EXTRA = {"onecycle-too-long": ["horizon-too-long", "warmup-too-long"]}


@pytest.mark.parametrize("case", MISCONFIGURED, ids=[c.id for c in MISCONFIGURED])
def test_misconfigured_schedule_is_caught(case):
    opt = make_optimizer(case.lrs)
    sched = case.build(opt)
    before = [dict((k, v) for k, v in g.items() if k != "params") for g in opt.param_groups]
    findings = check_schedule(sched, case.T, expect=case.expect, optimizer_label="lr-SGD", **case.kw)
    assert [dict((k, v) for k, v in g.items() if k != "params") for g in opt.param_groups] == before
    codes = [f.code for f in findings]
    assert codes == EXTRA.get(case.id, [case.code]), findings  # the mistake, and nothing else
    f = next(f for f in findings if f.code == case.code)
    assert isinstance(f, Finding) and f.severity in ("warning", "error")
    assert type(sched).__name__ in f.message  # names the scheduler ...
    assert "lr-SGD" in f.message  # ... and the optimizer
    assert f.step is None or re.search(rf"\b{f.step}\b", f.message)  # ... with the step it concerns
    assert len(f.hint) > 20  # ... and the fix
    assert str(f).startswith(case.code + ":")


@pytest.mark.parametrize("case", HEALTHY, ids=[c.id for c in HEALTHY])
def test_healthy_schedule_is_silent(case):
    opt = make_optimizer(case.lrs)
    assert check_schedule(case.build(opt), case.T, expect=case.expect, **case.kw) == []


def test_messages_say_which_argument_and_value_fix_a_horizon():
    opt = make_optimizer()
    (f,) = check_schedule(L.CosineAnnealingLR(opt, T_max=100), 1000, steps_per_epoch=10)
    assert f.code == "horizon-too-short"
    assert "T_max=1000" in f.hint and "'auto'" in f.hint and "looks like epochs" in f.message
    opt = make_optimizer()
    (f,) = check_schedule(L.OneCycleLR(opt, max_lr=0.1, total_steps=500), 1000)[:1]
    assert f.code == "scheduler-overrun" and f.severity == "error" and "total_steps=1000" in f.hint
    assert "Tried to step 501 times" in f.message and f.step == 500


def test_seed_message_names_end_factor_and_numbers():
    opt = make_optimizer((0.001,))
    (f,) = check_schedule(L.LinearLR(opt, start_factor=0.5, total_iters=100), 101)
    assert f.code == "decay-increases" and f.step == 0
    assert "0.0005" in f.message and "0.001" in f.message and "end_factor" in f.hint


def test_resumed_scheduler_is_judged_from_its_position():
    opt = make_optimizer()
    sched = L.CosineAnnealingLR(opt, T_max=1000)
    for _ in range(400):
        opt.step()
        sched.step()
    assert check_schedule(sched, 600) == []


def test_custom_class_is_simulated_exactly_and_truncation_is_reported():
    class Halving(L.LRScheduler):
        def get_lr(self):
            return [b * 0.5 ** (self.last_epoch // 100) for b in self.base_lrs]

    opt = make_optimizer()
    assert [f.code for f in check_schedule(Halving(opt), 1000)] == []
    findings = check_schedule(Halving(make_optimizer()), 200_000, budget_s=0.01)
    assert findings and findings[0].code == "simulation-truncated" and "of 200000 steps" in findings[0].message


def test_bad_arguments():
    from lightning_lrmon import LRMonitorConfigError

    with pytest.raises(LRMonitorConfigError, match="expect"):
        check_schedule(L.StepLR(make_optimizer(), 5), 10, expect="down")
    with pytest.raises(LRMonitorConfigError, match="total_steps"):
        check_schedule(L.StepLR(make_optimizer(), 5), -1)


def test_a_scheduler_that_cannot_be_copied_is_reported_not_raised():
    import threading

    class Locked(L.LRScheduler):
        def __init__(self, opt):
            self.lock = threading.Lock()  # deepcopy fails on locks
            super().__init__(opt)

        def get_lr(self):
            return [b * 0.5 for b in self.base_lrs]

    (f,) = check_schedule(Locked(make_optimizer()), 100)
    assert f.code == "simulation-truncated" and "could not be copied" in f.message and "0 of 100" in f.message


def test_a_resumed_scheduler_already_past_its_horizon_is_checked_without_error():
    # found by the streaming equivalence test: the end of the horizon lay before row 0, and indexing a row from the
    # end with it raised IndexError in check_schedule
    opt = make_optimizer((1.0,))
    sched = L.LinearLR(opt, 1.0, 0.0, total_iters=1)
    for _ in range(5):
        opt.step()
        sched.step()
    findings = check_schedule(sched, 2)
    assert [(f.code, f.step) for f in findings] == [("horizon-too-short", 0)]


def test_cyclic_lr_is_quoted_with_the_step_size_up_the_user_wrote_and_a_fix_that_fits():
    """CyclicLR's horizon is its whole cycle; the message quotes step_size_up as written (8, not 16) and the fix is
    a step_size_up whose whole cycle fits the run, checked by stepping the fixed schedule."""
    (long,) = check_schedule(L.CyclicLR(make_optimizer([0.1]), 0.001, 0.1, step_size_up=8), 6)
    assert long.code == "horizon-too-long" and "its horizon step_size_up=8 (16 steps in all)" in long.message
    assert long.hint.startswith("use step_size_up=3 ")
    fixed = L.CyclicLR(make_optimizer([0.1]), 0.001, 0.1, step_size_up=3)
    assert check_schedule(fixed, 6) == []


def test_one_cycle_lr_is_described_by_the_arguments_that_shape_it():
    """max_lr, pct_start and the div factors live only in the param groups; findings name them all."""
    sched = L.OneCycleLR(make_optimizer([0.1]), max_lr=0.3, total_steps=200, pct_start=0.25, final_div_factor=50)
    (long, *_) = check_schedule(sched, 20)
    described = "OneCycleLR(max_lr=0.3, total_steps=200, pct_start=0.25, div_factor=25, final_div_factor=50)"
    assert long.message.startswith(described), long.message


class CounterScheduler:
    """A non-torch scheduler in asteroid's shape: ``_get_lr()`` reads its own step counter (no t argument)."""

    def __init__(self, optimizer, warmup: int = 4) -> None:
        self.optimizer, self.warmup, self._step = optimizer, warmup, 0
        self.step()

    def _get_lr(self) -> float:
        return 0.1 * min(1.0, (self._step + 1) / self.warmup)

    def step(self) -> None:
        self._step += 1
        for g in self.optimizer.param_groups:
            g["lr"] = self._get_lr()


def test_a_get_lr_without_a_step_argument_is_not_a_false_overrun():
    """Logged and noted as not simulated, never a scheduler-overrun error "at scheduler step 1"."""
    findings = check_schedule(CounterScheduler(make_optimizer([0.1])), 20)
    assert [f.code for f in findings if f.kind == "schedule"] == []
    assert [f.code for f in findings] == ["not-simulated"]
