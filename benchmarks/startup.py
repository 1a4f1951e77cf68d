"""Start-up cost of the ``lrmon`` command, measured side by side with the imports it is compared to.

Each command runs ``--repeat`` times in a fresh interpreter (interleaved, so load on the machine hits all alike);
the table shows the median wall time and the ratio to its reference. Usage: python benchmarks/startup.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = os.path.join(ROOT, "examples", "cli", "seed.yaml")
CASES = {
    "import torch": [sys.executable, "-c", "import torch"],
    "import lightning.pytorch": [sys.executable, "-c", "import lightning.pytorch"],
    "torch optimizer+scheduler": [
        sys.executable,
        "-c",
        "import torch; o = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0); "
        "torch.optim.lr_scheduler.LinearLR(o)",
    ],
    "lrmon --help": [sys.executable, "-m", "lightning_lrmon", "--help"],
    "lrmon check seed.yaml": [sys.executable, "-m", "lightning_lrmon", "check", SEED],
    "lrmon check --fast seed.yaml": [sys.executable, "-m", "lightning_lrmon", "check", "--fast", SEED],
}
RATIOS = [
    ("lrmon --help", "import torch"),
    ("lrmon check seed.yaml", "import lightning.pytorch"),
    ("lrmon check seed.yaml", "import torch"),
    ("lrmon check --fast seed.yaml", "import torch"),
    ("lrmon check --fast seed.yaml", "torch optimizer+scheduler"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.repeat):
        for name, cmd in CASES.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(v) for name, v in times.items()}
    print(f"{'command':<28}{'median s':>10}")
    for name, value in med.items():
        print(f"{name:<28}{value:>10.3f}")
    for a, b in RATIOS:
        print(f"{a} / {b}: {med[a] / med[b]:.2f}x")


if __name__ == "__main__":
    main()
