"""Every number in a horizon finding agrees with torch's (transformers') own stepping: the end of the decay, the
ratio to the run and the suggested value, which is verified by stepping the fixed schedule, at every chunk size of
the streamed review."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_streaming import reviews
from torch.optim import lr_scheduler as L
from transformers import (
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
    get_polynomial_decay_schedule_with_warmup,
)

from lightning_lrmon import check_schedule

RUN_LENGTH = ("horizon-too-short", "horizon-too-long", "lr-zero-early", "warmup-too-long")

#: name -> (build(optimizer, horizon), the horizon argument)
CLASSES: dict[str, tuple[Callable[[Any, int], Any], str]] = {
    "CosineAnnealingLR": (lambda o, h: L.CosineAnnealingLR(o, T_max=h), "T_max"),
    "CosineAnnealingLR+eta_min": (lambda o, h: L.CosineAnnealingLR(o, T_max=h, eta_min=1e-3), "T_max"),
    "LinearLR": (lambda o, h: L.LinearLR(o, start_factor=1.0, end_factor=0.01, total_iters=h), "total_iters"),
    "PolynomialLR": (lambda o, h: L.PolynomialLR(o, total_iters=h, power=2.0), "total_iters"),
    "OneCycleLR": (lambda o, h: L.OneCycleLR(o, max_lr=0.1, total_steps=h), "total_steps"),
    "hf-linear": (lambda o, h: get_linear_schedule_with_warmup(o, max(1, h // 20), h), "num_training_steps"),
    "hf-cosine": (lambda o, h: get_cosine_schedule_with_warmup(o, max(1, h // 20), h), "num_training_steps"),
    "hf-polynomial": (
        lambda o, h: get_polynomial_decay_schedule_with_warmup(o, max(1, h // 20), h, lr_end=1e-4),
        "num_training_steps",
    ),
}


def optimizer() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


def stepped(build: Callable[[Any, int], Any], h: int, n: int) -> list[float]:
    """The LR of each of (up to) ``n`` optimizer steps, by torch's own stepping (OneCycleLR stops at its end)."""
    opt = optimizer()
    sched = build(opt, h)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        try:
            sched.step()
        except ValueError:  # OneCycleLR past total_steps
            break
    return out


def decay_end(lrs: list[float]) -> int:
    """The step where the decay after the (first) peak stops going down: where it ends."""
    top = max(lrs)
    k = next(i for i, v in enumerate(lrs) if v >= top * (1 - 1e-9))
    while k + 1 < len(lrs) and lrs[k + 1] < lrs[k] * (1 - 1e-12):
        k += 1
    return k


@settings(
    max_examples=int(os.environ.get("LRMON_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
@given(
    name=st.sampled_from(sorted(CLASSES)),
    h=st.integers(8, 3000),
    n=st.integers(8, 1000),
    chunk=st.sampled_from([1, 7, 64, 4096]),
)
def test_horizon_findings_agree_with_torchs_stepping_and_their_fix_ends_with_the_run(name, h, n, chunk):
    build, arg = CLASSES[name]
    if name == "OneCycleLR" and h < n:
        h = n + h % 50  # OneCycleLR raises past total_steps: that is scheduler-overrun, not a horizon
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, _ = reviews(build(optimizer(), h), n, chunk)
    for f in check_schedule(build(optimizer(), h), n):  # lightning-lrmon simulated its own suggestion, and it held
        if f.code in RUN_LENGTH and f.data.get("arg") and isinstance(f.data.get("suggested"), int):
            assert f.data["verified"] is True, (name, h, n, f.hint)
    for code, _step, _group, message, hint in got[0]:
        if code not in ("horizon-too-short", "horizon-too-long", "lr-zero-early"):
            continue
        fixed = re.search(rf"use {arg}=(\d+)", hint or "")
        if code != "lr-zero-early" or fixed:
            assert fixed, (code, hint)
        if fixed is None:
            continue
        v = int(fixed.group(1))
        assert v == n, (code, message, hint)  # the run's scheduler steps
        ends = re.search(r"ends at step (\d+)", message)
        if ends:  # where torch's stepping of the user's schedule reaches the end of its decay
            assert int(ends.group(1)) == decay_end(stepped(build, h, max(n, h) + 2)), message
        ratio = re.search(r"is ([\d.]+)x longer than the (\d+) scheduler steps", message)
        if ratio:
            assert float(ratio.group(1)) == round(h / n, 1) and int(ratio.group(2)) == n
        # the fix, stepped by torch: its decay runs to the run's end, and the review finds nothing run-length
        lrs = stepped(build, v, n + 1)
        assert decay_end(lrs) >= n - 1, (name, h, n, v)
        assert [f.code for f in check_schedule(build(optimizer(), v), n) if f.code in RUN_LENGTH] == []


def test_a_decay_to_zero_before_the_run_ends_names_its_horizon_and_the_runs_length():
    """PolynomialLR and transformers' linear schedule reach 0 at their horizon: lr-zero-early names that argument
    with the run's number (was a generic "match the horizon"), and the fix, stepped by torch, trains to the end."""
    for name in ("PolynomialLR", "hf-linear"):
        build, arg = CLASSES[name]
        (found,) = check_schedule(build(optimizer(), 30), 50)
        assert found.code == "lr-zero-early" and f"because {arg}=30 ends the decay there" in found.message
        assert found.hint == f"use {arg}=50 (the run's scheduler steps) or {arg}='auto'."
        assert stepped(build, 50, 50)[-1] > 0  # the fixed run trains to its last step
        assert check_schedule(build(optimizer(), 50), 50) == []
