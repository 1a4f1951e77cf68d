"""Smoke runs of the benchmark scripts (the ratios themselves are benchmark figures, not timed tests)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

BENCH = os.path.join(os.path.dirname(__file__), "..", "benchmarks")


@pytest.mark.parametrize("script", ["simulate.py", "overhead.py", "scale.py", "tensorboard_files.py"])
def test_benchmark_smoke(script):
    proc = subprocess.run(
        [sys.executable, os.path.join(BENCH, script), "--smoke"], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "LRMonitor" in proc.stdout or "check_schedule" in proc.stdout or "EventAccumulator" in proc.stdout
