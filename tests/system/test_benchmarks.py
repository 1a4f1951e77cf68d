"""Smoke runs of the benchmark scripts, all four in one process (the ratios themselves are benchmark figures, not
timed tests)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import ROOT

SCRIPTS = ["simulate.py", "overhead.py", "scale.py", "tensorboard_files.py"]
#: runs each script as ``python SCRIPT --smoke`` would, one after the other, marking where each one's output starts
DRIVER = """
import runpy, sys
for script in sys.argv[1:]:
    print(f"=== benchmark script: {script}", flush=True)
    sys.argv = [script, "--smoke"]
    runpy.run_path(script, run_name="__main__")
"""


@pytest.fixture(scope="module")
def printed() -> dict[str, str]:
    paths = [os.path.join(ROOT, "benchmarks", s) for s in SCRIPTS]
    proc = subprocess.run([sys.executable, "-c", DRIVER, *paths], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    parts = proc.stdout.split("=== benchmark script: ")[1:]
    return {os.path.basename(p.split("\n", 1)[0]): p.split("\n", 1)[1] for p in parts}


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_smoke(printed, script):
    out = printed[script]
    assert "LRMonitor" in out or "check_schedule" in out or "EventAccumulator" in out, out
