"""Fit start at scale: proportional param groups are simulated once, memory stays bounded, plans keep their shape."""

from __future__ import annotations

import copy
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L

from lightning_lrmon._review.pipeline import review
from lightning_lrmon._review.series import SeriesSketch
from lightning_lrmon._review.subject import Subject
from lightning_lrmon._simulation.simulate import simulate_columns


def groups_opt(n_groups: int) -> torch.optim.Optimizer:
    # layer-wise LR decay: the groups' LRs differ but one scheduler scales them all alike
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1 * 0.9**i} for i in range(n_groups)]
    return torch.optim.SGD(params, lr=0.1)


def warmup_cosine(o: torch.optim.Optimizer, n: int) -> L.SequentialLR:
    w = max(1, n // 20)
    return L.SequentialLR(o, [L.LinearLR(o, 0.01, 1.0, total_iters=w), L.CosineAnnealingLR(o, T_max=n - w)], [w])


PROPORTIONAL = {
    "warmup+cosine": lambda o: warmup_cosine(o, 300),
    "step": lambda o: L.StepLR(o, 40, 0.5),
    "onecycle": lambda o: L.OneCycleLR(o, max_lr=[0.1 * 0.9**i for i in range(len(o.param_groups))], total_steps=300),
    "shared-lambda": lambda o: L.LambdaLR(o, lambda s: 1 / (1 + s) ** 0.5),
    "warm-restarts": lambda o: L.CosineAnnealingWarmRestarts(o, 30, 2),
    # transformers' warmup starts every group at LR 0: the groups' ratios come from their initial LRs
    "hf-warmup-from-zero": lambda o: L.LambdaLR(o, lambda s: min(1.0, s / 30) * max(0.0, 1 - s / 300)),
    "warmup-from-zero-then-cosine": lambda o: L.SequentialLR(
        o, [L.LambdaLR(o, lambda s: s / 30), L.CosineAnnealingLR(o, 270)], [30]
    ),
}


@pytest.mark.parametrize("name", list(PROPORTIONAL))
def test_one_column_times_the_ratios_equals_torch_for_every_group(name):
    sched = PROPORTIONAL[name](groups_opt(5))
    twin = copy.deepcopy(sched)
    sim, cols, ratios = simulate_columns(sched, 300)
    # simulated once, not five times (torch < 2.4's OneCycleLR has no kernel here: stepped per group instead)
    assert (ratios is not None and (cols.n, cols.groups) == (300, 1)) or (ratios is None and sim.method != "kernel")
    lrs = cols.rows(0, cols.n)
    lrs = lrs[:, :1] * ratios[None, :] if ratios is not None else lrs
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note about a deep-copied optimizer's step
        for _ in range(300):
            rows.append([float(g["lr"]) for g in twin.optimizer.param_groups])
            twin.optimizer.step()
            twin.step()
    ref = np.asarray(rows)
    np.testing.assert_allclose(lrs, ref, rtol=1e-9, atol=1e-15 * ref.max())  # the suite's exactness standard


def test_groups_that_do_not_scale_together_get_their_own_columns():
    o = groups_opt(3)
    _, cols, ratios = simulate_columns(L.CosineAnnealingLR(o, T_max=100, eta_min=1e-3), 100)  # eta_min: no scaling
    assert ratios is None and (cols.n, cols.groups) == (100, 3)


def traced_review(sched, n: int):
    """The review of ``sched`` over ``n`` steps and the tracemalloc peak it reached."""
    tags = [f"lr-SGD/pg{i + 1}" for i in range(len(sched.optimizer.param_groups))]
    tracemalloc.start()
    try:
        r = review(Subject(sched, n, label="lr-SGD", tags=tags))
        return r, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_run_over_many_groups_reviews_in_bounded_memory():
    n, g = 1_000_000, 64
    sched = warmup_cosine(groups_opt(g), n)
    r, peak = traced_review(sched, n)
    # the full (1M, 64) float64 matrix alone would be 512 MiB and the one proportional column 7.6 MiB; the review
    # streams chunks of that column (0.1 peaked at 60 MiB here; 6 MiB measured now)
    assert peak < 30 * 2**20
    assert r.findings == [] and r.lrs is None and len(r.groups) == g and len(r.plan) <= 450
    assert r.groups[1].peak == pytest.approx(0.09, rel=1e-9)


def test_the_plan_of_a_very_long_cosine_keeps_its_curve():
    n = 2_000_000
    x = 0.1 * (1 + np.cos(np.pi * np.arange(n) / n)) / 2
    sketch = SeriesSketch(n)
    sketch.feed(x[:, None])
    rows = sketch.finish()[0]
    assert 100 <= rows.size <= 401
    between = np.interp(np.arange(n), rows, x[rows])
    assert np.max(np.abs(between - x)) < 1e-3 * 0.1  # a straight line from start to end would be off by 0.05


def test_ten_million_steps_review_in_chunks_without_the_column():
    n = 10_000_000
    sched = warmup_cosine(groups_opt(4), n)
    r, peak = traced_review(sched, n)
    # the one simulated column alone would be 76 MiB: the review never holds it (0.1: 600 MiB; 6 MiB measured now)
    assert peak < 40 * 2**20
    assert r.findings == [] and len(r.plan) <= 450 and r.groups[3].end == pytest.approx(0.0, abs=1e-12)


def test_groups_that_do_not_stay_proportional_are_streamed_too():
    n, g = 1_000_000, 64
    sched = L.SequentialLR(
        o := groups_opt(g),
        [L.LinearLR(o, 0.01, 1.0, total_iters=n // 20), L.CosineAnnealingLR(o, T_max=n - n // 20, eta_min=1e-9)],
        [n // 20],
    )  # eta_min > 0: every group has its own curve, 64 columns are simulated
    r, peak = traced_review(sched, n)
    assert peak < 60 * 2**20  # the (1M, 64) matrix alone would be 488 MiB (0.2 before streaming: all of it; 13 MiB now)
    assert r.findings == [] and r.plan.values.shape[1] == g and len(r.plan) <= 450
    assert r.groups[5].end == pytest.approx(1e-9) and r.groups[5].peak == pytest.approx(0.1 * 0.9**5)


def test_a_warmup_from_zero_over_groups_with_different_lrs_is_not_collapsed():
    from lightning_lrmon import check_schedule

    o = groups_opt(3)
    sched = L.LambdaLR(o, lambda s: min(1.0, s / 30) * max(0.0, 1 - s / 300))  # every group at LR 0 at step 0
    assert simulate_columns(sched, 300)[2] is not None  # one column
    assert check_schedule(sched, 300) == []
    o = groups_opt(3)
    one_lr = L.OneCycleLR(o, max_lr=0.1, total_steps=300)  # the classic collapse: one max_lr for every group
    assert [f.code for f in check_schedule(one_lr, 300, configured_lrs=[0.1 * 0.9**i for i in range(3)])] == [
        "groups-collapsed"
    ]
