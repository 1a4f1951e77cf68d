"""check_schedule vs stepping a copy of the scheduler (what Ignite's simulate_values / skorch's simulate do).

Prints, side by side in one run, the wall time of ``check_schedule`` (simulation + every check) and of stepping a
deep copy of the scheduler (reading each group's LR after every step), for 4 param groups, one core.

Then, for long runs and many groups, the time and tracemalloc peak of ``check_schedule`` alone (warmup + cosine
over groups with layer-wise LR decay, one scheduler: the groups stay proportional, one column is simulated), next
to the size of the (steps x groups) float64 matrix a simulation would hold; and cases whose groups do not stay
proportional (``eta_min > 0``, an absolute floor under groups with different base LRs): every group is simulated,
streamed in chunks like the rest.

Usage: python benchmarks/simulate.py [--smoke]
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import time
import tracemalloc
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch
from torch.optim import lr_scheduler as L

from lightning_lrmon import check_schedule

torch.set_num_threads(1)


def optimizer() -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1 / (g + 1)} for g in range(4)]
    return torch.optim.SGD(groups, lr=0.1, momentum=0.9)


def hf_cosine(warmup: int, total: int, step: int) -> float:
    if step < warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


SCHEDULES: dict[str, Callable[[torch.optim.Optimizer, int], Any]] = {
    "CosineAnnealingLR": lambda o, n: L.CosineAnnealingLR(o, T_max=n),
    "warmup+cosine (SequentialLR)": lambda o, n: L.SequentialLR(
        o, [L.LinearLR(o, 0.01, 1.0, n // 20), L.CosineAnnealingLR(o, n - n // 20)], [n // 20]
    ),
    "warmup+cosine, eta_min=1e-6": lambda o, n: L.SequentialLR(
        o, [L.LinearLR(o, 0.01, 1.0, n // 20), L.CosineAnnealingLR(o, n - n // 20, 1e-6)], [n // 20]
    ),
    "OneCycleLR": lambda o, n: L.OneCycleLR(o, max_lr=[0.1, 0.05, 0.02, 0.01], total_steps=n),
    "HF warmup+cosine (LambdaLR)": lambda o, n: L.LambdaLR(o, partial(hf_cosine, n // 20, n)),
}


def step_copy(sched: Any, n: int) -> list[list[float]]:
    twin = copy.deepcopy(sched)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            out.append([g["lr"] for g in twin.optimizer.param_groups])
            twin.step()
    return out


def groups_optimizer(g: int) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1 * 0.99**i} for i in range(g)]
    return torch.optim.SGD(groups, lr=0.1)


def warmup_cosine(o: torch.optim.Optimizer, n: int, eta_min: float = 0.0) -> Any:
    w = n // 20
    return L.SequentialLR(o, [L.LinearLR(o, 0.01, 1.0, w), L.CosineAnnealingLR(o, n - w, eta_min)], [w])


SCALE = [
    (1_000_000, 4, "warmup+cosine", lambda o, n: warmup_cosine(o, n)),
    (1_000_000, 64, "warmup+cosine", lambda o, n: warmup_cosine(o, n)),
    (1_000_000, 256, "warmup+cosine", lambda o, n: warmup_cosine(o, n)),
    (10_000_000, 4, "warmup+cosine", lambda o, n: warmup_cosine(o, n)),
    (1_000_000, 4, "HF warmup+cosine (LambdaLR)", lambda o, n: L.LambdaLR(o, partial(hf_cosine, n // 20, n))),
    (1_000_000, 4, "warmup+cosine, eta_min>0", lambda o, n: warmup_cosine(o, n, 1e-6)),
    (1_000_000, 16, "warmup+cosine, eta_min>0", lambda o, n: warmup_cosine(o, n, 1e-5)),
    (1_000_000, 256, "warmup+cosine, eta_min>0", lambda o, n: warmup_cosine(o, n, 1e-5)),
    (10_000_000, 4, "warmup+cosine, eta_min>0", lambda o, n: warmup_cosine(o, n, 1e-6)),
]


def scale_rows(cases: list[Any]) -> None:
    print(
        f"\n{'steps x groups':>16}  {'schedule':28}  {'check_schedule':>14}  {'peak (traced)':>13}  {'full matrix':>11}"
    )
    for n, g, name, build in cases:
        sched = build(groups_optimizer(g), n)
        check_schedule(sched, min(n, 1000))  # warm: imports, caches
        t0 = time.perf_counter()
        findings = check_schedule(sched, n)
        dt = time.perf_counter() - t0
        tracemalloc.start()  # a second run for the memory: tracing slows allocation-heavy code down
        check_schedule(sched, n)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert not findings, findings
        print(f"{n:>10,} x {g:<4}  {name:28}  {dt:>12.2f} s  {peak / 2**20:>9.0f} MiB  {n * g * 8 / 2**20:>7.0f} MiB")


def best_of(fn: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.smoke else [10_000, 100_000, 1_000_000]
    print(f"{'steps':>9}  {'schedule':30}  {'check_schedule':>15}  {'stepping a copy':>16}  {'speed-up':>8}")
    for n in sizes:
        for name, build in SCHEDULES.items():
            sched = build(optimizer(), n)
            reps = 3
            ours = best_of(lambda s=sched, n=n: check_schedule(s, n), reps)
            theirs = best_of(lambda s=sched, n=n: step_copy(s, n), 1 if n >= 100_000 else reps)
            findings = check_schedule(sched, n)
            assert not findings, findings
            print(f"{n:>9,}  {name:30}  {ours * 1e3:>12.1f} ms  {theirs * 1e3:>13.1f} ms  {theirs / ours:>7.0f}x")
    scale_rows([(10_000, g, name, build) for _, g, name, build in SCALE] if args.smoke else SCALE)


if __name__ == "__main__":
    main()
