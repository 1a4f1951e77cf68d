"""Event-file size and load time of long, wide runs at LRMonitor's default TensorBoard cadence.

For each (steps, LR tags) the script asks ``tensorboard_every`` (what ``LRMonitor(tensorboard_every_n_steps=None)``
uses), writes that series with lightning-lrmon's ``EventWriter`` exactly as a fit would (one record per logged
step), and loads it back with TensorBoard's Python loader (``EventAccumulator``, every point kept), printing the
file size, the write time and the load time.

Usage: python benchmarks/tensorboard_files.py [--smoke]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from tensorboard.backend.event_processing import event_accumulator as ea

from lightning_lrmon._fit.outputs import tensorboard_every
from lightning_lrmon._tensorboard.writer import EventWriter

CASES = [(1_000_000, 4), (1_000_000, 64), (200_000, 256)]
SMOKE = [(2_000, 4), (2_000, 64)]


def measure(steps: int, tags: int) -> tuple[int, int, float, float]:
    every = tensorboard_every(steps, tags)
    names = [f"lr-AdamW/pg{g + 1}" for g in range(tags)]
    with tempfile.TemporaryDirectory() as d:
        w = EventWriter(d, max_pending=4096)
        t = time.perf_counter()
        for step in range(0, steps, every):
            w.add_scalars(step, names, [1e-3 * (1 - step / steps)] * tags)
        w.close()
        written = time.perf_counter() - t
        size = os.path.getsize(w.path)
        t = time.perf_counter()
        acc = ea.EventAccumulator(d, size_guidance={ea.SCALARS: 0})
        acc.Reload()
        points = len(acc.Scalars(names[0]))
        loaded = time.perf_counter() - t
    assert points == len(range(0, steps, every))
    return every, size, written, loaded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    args = parser.parse_args()
    print("  steps x tags     every   points/tag   file size   write   EventAccumulator load")
    for steps, tags in SMOKE if args.smoke else CASES:
        every, size, written, loaded = measure(steps, tags)
        print(
            f"{steps:>9,} x {tags:<4} {every:>6}   {len(range(0, steps, every)):>10,}   {size / 2**20:>7.1f} MiB"
            f"   {written:>5.1f}s   {loaded:>6.1f}s"
        )


if __name__ == "__main__":
    main()
