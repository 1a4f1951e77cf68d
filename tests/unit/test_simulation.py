"""simulate_schedule equals torch's own stepping (randomised with hypothesis), and never touches the real objects.

Tolerance: relative error <= 1e-9 at every step and group, with an absolute floor of 1e-15 x the group's
largest LR (values that torch's chainable recurrences leave at ~1e-18 instead of exactly 0 are rounding noise).
"""

from __future__ import annotations

import copy
import math
import os
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler as L

from lightning_lrmon import simulate_schedule
from lightning_lrmon._simulation.simulate import simulate

RTOL = 1e-9


def optimizer(lrs):
    return torch.optim.SGD(
        [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs], lr=lrs[0], momentum=0.9
    )


def torch_steps(sched, n):
    """The LR each of the next n optimizer steps uses, by stepping the real scheduler."""
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            rows.append([float(g["lr"]) for g in sched.optimizer.param_groups])
            sched.optimizer.step()
            sched.step()
    return np.asarray(rows, dtype=np.float64).reshape(n, len(sched.optimizer.param_groups))


def assert_exact(sim, ref):
    assert sim.shape == ref.shape
    floor = 1e-15 * np.maximum(np.nanmax(np.abs(ref), axis=0, initial=0.0), 1e-300)
    err = np.abs(sim - ref)
    assert np.all(err <= RTOL * np.abs(ref) + floor), float(np.max(err / np.maximum(np.abs(ref), floor)))


lrs_st = st.lists(st.floats(1e-5, 1.0), min_size=1, max_size=4)
factor = st.floats(0.01, 1.0)
small = st.integers(1, 60)


def _children(draw):
    kind = draw(st.sampled_from(["linear", "constant", "step", "multistep", "exp", "poly", "cos", "lambda"]))
    return kind, _leaf(draw, kind)


def _leaf(draw, kind):
    if kind == "linear":
        return lambda o, a=draw(factor), b=draw(st.floats(0.0, 1.0)), t=draw(small): L.LinearLR(o, a, b, t)
    if kind == "constant":
        return lambda o, f=draw(factor), t=draw(small): L.ConstantLR(o, f, t)
    if kind == "step":
        return lambda o, s=draw(small), g=draw(st.floats(0.1, 1.5)): L.StepLR(o, s, g)
    if kind == "multistep":
        return lambda o, m=draw(st.lists(small, max_size=4)), g=draw(st.floats(0.1, 1.5)): L.MultiStepLR(o, m, g)
    if kind == "exp":
        return lambda o, g=draw(st.floats(0.9, 1.01)): L.ExponentialLR(o, g)
    if kind == "poly":
        return lambda o, t=draw(small), p=draw(st.floats(0.0, 3.0)): L.PolynomialLR(o, t, p)
    if kind == "cos":
        return lambda o, t=draw(small), e=draw(st.floats(0.0, 1e-3)): L.CosineAnnealingLR(o, t, e)
    if kind == "lambda":
        return lambda o, w=draw(small): L.LambdaLR(o, lambda s: min(1.0, (s + 1) / w) * 0.99**s)
    if kind == "mult":
        return lambda o, g=draw(st.floats(0.95, 1.0)): L.MultiplicativeLR(o, lambda s: g)
    if kind == "cyclic":
        return lambda o, up=draw(small), mode=draw(st.sampled_from(["triangular", "triangular2", "exp_range"])): (
            L.CyclicLR(o, 1e-4, 0.1, up, mode=mode, gamma=0.99)
        )
    if kind == "onecycle":
        t, p = draw(st.integers(10, 200)), draw(st.floats(0.1, 0.9))
        a, three = draw(st.sampled_from(["cos", "linear"])), draw(st.booleans())
        return lambda o: L.OneCycleLR(o, 0.1, total_steps=t, pct_start=p, anneal_strategy=a, three_phase=three)
    if kind == "warm":
        return lambda o, t0=draw(small), tm=draw(st.integers(1, 3)), e=draw(st.floats(0, 1e-3)): (
            L.CosineAnnealingWarmRestarts(o, t0, tm, e)
        )
    raise AssertionError(kind)


KINDS = [
    "linear",
    "constant",
    "step",
    "multistep",
    "exp",
    "poly",
    "cos",
    "lambda",
    "mult",
    "cyclic",
    "onecycle",
    "warm",
]


@st.composite
def schedules(draw):
    kind = draw(st.sampled_from([*KINDS, "sequential", "chained", "nested"]))
    if kind == "sequential":
        parts = [_children(draw)[1] for _ in range(draw(st.integers(2, 3)))]
        ms = sorted(draw(st.lists(st.integers(1, 120), min_size=len(parts) - 1, max_size=len(parts) - 1, unique=True)))
        return lambda o: L.SequentialLR(o, [p(o) for p in parts], ms)
    if kind == "chained":
        parts = [
            _leaf(draw, draw(st.sampled_from(["linear", "step", "exp", "multistep", "lambda", "cyclic", "mult"])))
            for _ in range(draw(st.integers(2, 3)))
        ]
        return lambda o: L.ChainedScheduler([p(o) for p in parts])
    if kind == "nested":
        inner = [_children(draw)[1] for _ in range(2)]
        m = draw(st.integers(1, 50))
        tail = _leaf(draw, draw(st.sampled_from(["exp", "step", "linear"])))
        return lambda o: L.ChainedScheduler([L.SequentialLR(o, [p(o) for p in inner], [m]), tail(o)])
    return _leaf(draw, kind)


@settings(
    max_examples=int(os.environ.get("LRMON_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
@given(
    build=schedules(),
    lrs=lrs_st,
    pre=st.integers(0, 80),
    n=st.integers(1, 300),
    chunk=st.sampled_from([1, 2, 7, 64, 0]),  # 0: the default; a run is simulated in chunks of this many rows
)
def test_simulation_equals_torch_stepping(build, lrs, pre, n, chunk):
    opt = optimizer(lrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sched = build(opt)
        except (ValueError, ZeroDivisionError):
            reject()  # torch refuses the arguments: draw another schedule
        try:
            torch_steps(sched, pre)  # part-way through (a resumed scheduler)
        except (ValueError, ZeroDivisionError):
            reject()
    twin = copy.deepcopy(sched)
    state = copy.deepcopy(sched.state_dict())
    groups = copy.deepcopy([{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups])
    result = simulate(sched, n, chunk_rows=chunk)
    # never mutates the real scheduler or optimizer
    assert {k: v for k, v in sched.state_dict().items() if k != "_schedulers"} == {
        k: v for k, v in state.items() if k != "_schedulers"
    }
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == groups
    rows, ref_error = [], None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):  # one scheduler step after every optimizer step, the last one included
            rows.append([float(g["lr"]) for g in twin.optimizer.param_groups])
            try:
                twin.optimizer.step()
                twin.step()
            except (ValueError, ZeroDivisionError) as err:
                ref_error = err
                break
    ref = np.asarray(rows, dtype=np.float64)
    if ref_error is None:
        assert result.error is None
        assert_exact(result.lrs, ref)
    else:
        assert result.error is not None and result.error_step == len(rows)
        assert_exact(result.lrs[: len(rows)], ref)


@pytest.mark.parametrize("n_groups", [1, 4])
def test_past_the_horizon_and_long_runs(n_groups):
    lrs = [0.1 / (g + 1) for g in range(n_groups)]
    for build in (
        lambda o: L.CosineAnnealingLR(o, 37, 1e-4),
        lambda o: L.LinearLR(o, 1.0, 0.05, 100),
        lambda o: L.PolynomialLR(o, 50, 2.0),
        lambda o: L.CosineAnnealingWarmRestarts(o, 7, 2),
    ):
        opt = optimizer(lrs)
        sched = build(opt)
        twin = copy.deepcopy(sched)
        assert_exact(simulate_schedule(sched, 5000), torch_steps(twin, 5000))


def test_no_parameter_is_copied_by_the_fallback():
    class Custom(L.LRScheduler):
        def get_lr(self):
            return [b * 0.9**self.last_epoch for b in self.base_lrs]

    big = torch.nn.Parameter(torch.zeros(1000, 1000))
    opt = torch.optim.SGD([big], lr=0.1)
    sched = Custom(opt)
    import tracemalloc

    tracemalloc.start()
    out = simulate(sched, 50)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.method == "shadow"
    assert peak < 1_000_000  # a copy of the parameter would be 4 MB
    assert out.lrs[3, 0] == pytest.approx(0.1 * 0.9**3)


def test_onecycle_overrun_is_reported_not_raised():
    opt = optimizer([0.1])
    sim = simulate(L.OneCycleLR(opt, 0.1, total_steps=100), 200)
    assert sim.error is not None and "Tried to step 101 times" in sim.error
    assert sim.valid_steps == 101 and np.isnan(sim.lrs[101:]).all() and math.isfinite(sim.lrs[100, 0])


def test_tensor_lrs_are_simulated_exactly():
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=torch.tensor(0.01))
    sched = L.CosineAnnealingLR(opt, T_max=50)
    twin = copy.deepcopy(sched)
    sim = simulate(sched, 80)
    assert sim.method == "shadow"  # tensor LRs: exact stepping of the parameter-free copy
    assert_exact(sim.lrs, torch_steps(twin, 80))
