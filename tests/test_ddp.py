"""Lightning's real `ddp` (and `fsdp`) strategy, 2 CPU processes (gloo): same schedule on both ranks, rank zero
writes once."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import f32, read_scalars

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "ddp_run.py")


def run(tmp_path, mode: str, strategy: str = "ddp") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "MASTER_PORT")}
    env["LRMON_STRATEGY"] = strategy
    return subprocess.run(
        [sys.executable, SCRIPT, str(tmp_path), mode], capture_output=True, text=True, timeout=300, env=env
    )


def ranks(tmp_path) -> list[dict]:
    return [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]


@pytest.mark.parametrize(("strategy", "mode"), [("ddp", "seed"), ("ddp", "fixed"), ("fsdp", "seed")])
def test_two_processes_identical_schedule_single_writer(tmp_path, strategy, mode):
    proc = run(tmp_path, mode, strategy)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0, r1 = ranks(tmp_path)
    assert r0["world_size"] == r1["world_size"] == 2
    a0 = np.load(tmp_path / "applied_rank0.npy")
    a1 = np.load(tmp_path / "applied_rank1.npy")
    assert a0.shape == (40, 1)
    np.testing.assert_array_equal(a0, a1)  # both ranks apply the identical schedule
    # rank zero alone writes, into the logger's own event file: one file in the run, each step once
    run_dir = os.path.join(str(tmp_path), "tb", "version_0")
    assert len(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))) == 1
    steps = [s for s, _ in read_scalars(run_dir)["lr-SGD"]]
    assert steps == list(range(40))
    np.testing.assert_array_equal([v for _, v in read_scalars(run_dir)["lr-SGD"]], f32(a0[:, 0]))
    # warnings and the summary once, on rank zero
    out = proc.stdout + proc.stderr
    assert out.count("LR schedule (lightning-lrmon)") == 1
    if mode == "seed":
        assert [w.split(":")[0] for w in r0["warnings"]] == ["decay-increases"]
        assert "total_iters=40" in r0["warnings"][0]
    else:
        assert r0["warnings"] == [] and a0[-1, 0] < a0[0, 0]
    assert r1["warnings"] == []


def test_ddp_raise_stops_every_rank_cleanly(tmp_path):
    proc = run(tmp_path, "raise")  # a hang would hit the timeout
    assert proc.returncode == 3, proc.stderr[-3000:]
    for r in ranks(tmp_path):
        assert r["status"].startswith("raised: LRMonitor found 1 schedule problem")
    assert np.load(tmp_path / "applied_rank0.npy").size == 0
    assert np.load(tmp_path / "applied_rank1.npy").size == 0
