"""A finding's suggested value is simulated before it is suggested: the fix, stepped by torch (transformers), ends
with the run; a value that would not is not suggested as if it did."""

from __future__ import annotations

import dataclasses
import itertools
import re

import torch
from schedule_cases import make_optimizer
from torch.optim import lr_scheduler as L
from transformers import (
    get_cosine_schedule_with_warmup,
    get_cosine_with_hard_restarts_schedule_with_warmup,
    get_wsd_schedule,
)

from lightning_lrmon import check_schedule
from lightning_lrmon._schedulers import lookup, register_scheduler


def torch_lrs(sched: L.LRScheduler, n: int) -> list[float]:
    """Group 0's LR at each of ``n`` optimizer steps, by torch's own stepping."""
    opt = sched.optimizer
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def suggested(hint: str, arg: str) -> int:
    found = re.search(rf"use {arg}=(\d+)", hint)
    assert found, hint
    return int(found.group(1))


def test_a_step_decay_whose_first_drop_comes_after_the_run_is_found_and_its_fix_drops_inside_it():
    # before: step_size=600 over 300 steps was silent, and step_size=1000 was told "use step_size=300", whose first
    # drop is at scheduler step 300, after the run's last step 299
    for step_size in (300, 600, 1000):
        (f,) = check_schedule(L.StepLR(make_optimizer(), step_size=step_size), 300)
        assert f.code == "horizon-too-long" and "stays at 0.1 for the whole run" in f.message, f.message
        v = suggested(f.hint, "step_size")
        lrs = torch_lrs(L.StepLR(make_optimizer(), step_size=v), 300)
        assert len(set(lrs)) == 3 and lrs[-1] < lrs[0], (v, sorted(set(lrs)))  # two drops inside the run
        assert f.data["verified"] is True


def test_milestones_all_after_the_run_are_named_as_a_drop_that_never_comes():
    (f,) = check_schedule(L.MultiStepLR(make_optimizer(), milestones=[500, 800]), 300)
    assert f.code == "horizon-too-long" and "first drop (milestones=[500, 800]) comes after the 300" in f.message
    assert "stays at 0.1 for the whole run" in f.message


def test_a_step_decay_that_drops_inside_the_run_stays_silent():
    assert check_schedule(L.StepLR(make_optimizer(), step_size=299), 300) == []
    assert check_schedule(L.StepLR(make_optimizer(), step_size=3), 4) == []


class _SizedWrong(L.CosineAnnealingLR):
    """A cosine whose record suggests a horizon that does not end with the run (what the simulation must catch)."""


def test_a_suggested_value_that_the_simulation_contradicts_is_not_given_as_a_fix_that_works():
    base = lookup(L.CosineAnnealingLR(make_optimizer(), T_max=10))
    assert base is not None
    register_scheduler(
        dataclasses.replace(base, cls=_SizedWrong, long_horizon_fix=lambda s, span: (f"use T_max={span // 10}.", 30))
    )
    (f,) = check_schedule(_SizedWrong(make_optimizer(), T_max=1000), 300)
    assert f.code == "horizon-too-long" and f.data["verified"] is False
    assert "simulated T_max=30 and it still has horizon-too-short" in f.hint, f.hint
    (g,) = check_schedule(L.CosineAnnealingLR(make_optimizer(), T_max=1000), 300)
    assert g.data["verified"] is True and g.hint.startswith("use T_max=300 ")


def test_a_warm_up_as_long_as_the_fixed_horizon_is_scaled_with_it():
    # transformers' cosine sized for 160 steps with an 8-step warm-up, in a run of 8 steps: num_training_steps=8
    # alone leaves the warm-up taking the whole run, so the fix names the warm-up too, and both are simulated
    (f,) = [f for f in check_schedule(get_cosine_schedule_with_warmup(make_optimizer(), 8, 160), 8)
            if f.code == "horizon-too-long"]  # fmt: skip
    assert suggested(f.hint, "num_training_steps") == 8 and "Also use num_warmup_steps=0" in f.hint, f.hint
    assert f.data["verified"] is True and f.data["also"] == {"num_warmup_steps": 0}
    lrs = torch_lrs(get_cosine_schedule_with_warmup(make_optimizer(), 0, 8), 8)
    assert lrs[0] == max(lrs) and all(b < a for a, b in itertools.pairwise(lrs)) and lrs[-1] > 0


def test_a_phase_of_a_sequence_is_fixed_inside_the_sequence_and_simulated_there():
    opt = make_optimizer()
    seq = L.SequentialLR(opt, [L.LinearLR(opt, 0.1, 1.0, 10), L.CosineAnnealingLR(opt, T_max=1000)], [10])
    (f,) = check_schedule(seq, 300)
    v = suggested(f.hint, "T_max")
    assert v == 290 and f.data["verified"] is True
    opt = make_optimizer()
    fixed = L.SequentialLR(opt, [L.LinearLR(opt, 0.1, 1.0, 10), L.CosineAnnealingLR(opt, T_max=v)], [10])
    lrs = torch_lrs(fixed, 301)
    assert min(lrs[:300]) == lrs[299] > 0 and abs(lrs[300]) < 1e-12  # the cosine reaches 0 right after the run


def test_a_resumed_scheduler_whose_state_holds_the_horizon_says_a_resume_keeps_it():
    opt = make_optimizer()
    sched = L.CosineAnnealingLR(opt, T_max=4)
    for _ in range(4):
        opt.step()
        sched.step()
    (f,) = [f for f in check_schedule(sched, 4) if f.code == "horizon-too-short"]
    assert "use T_max=8 " in f.hint and "A resume restores T_max=4" in f.hint, f.hint
    assert f.data["verified"] is None
    before = torch.get_rng_state()
    assert sched.T_max == 4 and sched.last_epoch == 4 and torch.equal(before, torch.get_rng_state())


RUN_LENGTH = ("horizon-too-short", "horizon-too-long", "lr-zero-early", "warmup-too-long")


def wsd(opt: torch.optim.Optimizer, warmup: int, stable: int, decay: int) -> L.LambdaLR:
    return get_wsd_schedule(opt, num_warmup_steps=warmup, num_stable_steps=stable, num_decay_steps=decay)


def test_a_warmup_stable_decay_is_fixed_by_scaling_its_phases_to_the_run():
    # transformers' warmup-stable-decay: no keyword is its horizon (the decay ends at the sum of the phases); before,
    # the fix was "make the lambda's horizon match" (too long) or "raise gamma closer to 1" (ended early)
    for total in (1000, 100):
        warmup, decay = total // 10, total // 2  # by keyword: transformers 4.42 and 5 order the arguments differently
        sched = wsd(make_optimizer(), warmup, total - warmup - decay, decay)
        (f,) = [f for f in check_schedule(sched, 300) if f.code in RUN_LENGTH]
        want = "use num_warmup_steps=30, num_stable_steps=120, num_decay_steps=150: the phases"
        assert f.hint.startswith(want) and f.data["verified"] is True, (total, f.hint)
        fixed = wsd(make_optimizer(), 30, 120, 150)
        lrs = torch_lrs(fixed, 301)
        assert max(lrs) == lrs[30] and 0 < lrs[299] < 1e-3 * max(lrs) and lrs[300] == 0.0  # ends with the run
        assert [g.code for g in check_schedule(wsd(make_optimizer(), 30, 120, 150), 300) if g.code in RUN_LENGTH] == []


def test_hard_restarts_whose_first_cycle_ends_before_any_keyword_name_num_training_steps():
    for total in (1000, 100):
        sched = get_cosine_with_hard_restarts_schedule_with_warmup(make_optimizer(), total // 10, total, num_cycles=2)
        (f,) = [f for f in check_schedule(sched, 300) if f.code in RUN_LENGTH]
        assert f.hint.startswith("use num_training_steps=300 ") and f.data["verified"] is True, (total, f.hint)
        fixed = get_cosine_with_hard_restarts_schedule_with_warmup(make_optimizer(), total // 10, 300, num_cycles=2)
        assert [g.code for g in check_schedule(fixed, 300) if g.code in RUN_LENGTH] == []


def test_a_lambda_reading_its_horizon_from_the_module_names_that_value():
    # the way Lightning users write a schedule (a lambda in configure_optimizers reading self.hparams or self): before,
    # the fix was "make the lambda's horizon match"; it names what the lambda reads now
    import lightning.pytorch as pl

    class Module(pl.LightningModule):
        def __init__(self, total_steps: int = 640, warmup_steps: int = 5) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(2, 1)
            self.decay_steps = total_steps

        def schedulers(self) -> tuple[L.LambdaLR, L.LambdaLR]:
            def from_hparams(step: int) -> float:
                if step < self.hparams.warmup_steps:
                    return (step + 1) / self.hparams["warmup_steps"]
                return max(0.0, 1 - step / self.hparams.total_steps)

            return (
                L.LambdaLR(make_optimizer(), from_hparams),
                L.LambdaLR(make_optimizer(), lambda step: max(0.0, 1 - step / self.decay_steps)),
            )

    module = Module()
    before = {k: v for k, v in vars(module).items() if not k.startswith("_")}
    for sched, key in zip(module.schedulers(), ("self.hparams.total_steps", "self.decay_steps")):
        (f,) = [f for f in check_schedule(sched, 64) if f.code in RUN_LENGTH]
        assert f.code == "horizon-too-long" and "its decay ends at step 640" in f.message, f.message
        assert f.hint.startswith(f"the lambda reads {key}=640: make it 64 (the run's scheduler steps)"), f.hint
    assert {
        k: v for k, v in vars(module).items() if not k.startswith("_")
    } == before and module.hparams.total_steps == 640
