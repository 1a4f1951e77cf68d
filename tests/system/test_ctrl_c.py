"""Ctrl-C in a real training process: every logged step is on disk."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from helpers import (
    SCRIPTS,
    TinyModule,
    f32,
    read_scalars,
    series,
)


def applied(m: TinyModule) -> np.ndarray:
    return np.asarray(m.optimizers().optimizer.applied)[:, 0]


def test_ctrl_c_leaves_every_logged_step_on_disk(tmp_path):
    """A real SIGINT in a real process: Lightning's graceful shutdown path, then the event file is read back."""
    proc = subprocess.run(
        [sys.executable, os.path.join(SCRIPTS, "interrupted_run.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]  # Lightning exits 1 after a KeyboardInterrupt
    assert "Detected KeyboardInterrupt" in proc.stdout + proc.stderr
    recorded = np.load(tmp_path / "applied.npy")
    steps, values = series(read_scalars(os.path.join(str(tmp_path), "tb", "version_0")), "lr-SGD")
    assert len(recorded) == 37 and steps == list(range(37))
    np.testing.assert_array_equal(values, f32(recorded))
