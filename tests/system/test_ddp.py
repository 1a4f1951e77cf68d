"""Lightning's real `ddp` strategy, 2 CPU processes (gloo): same schedule on both ranks, rank zero
writes once, a raise stops every rank. Every case runs in one 2-process launch (``scripts/ddp_run.py``)."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import SCRIPTS, f32, read_scalars

SCRIPT = os.path.join(SCRIPTS, "ddp_run.py")


@pytest.fixture(scope="module")
def launch(tmp_path_factory) -> tuple[str, subprocess.CompletedProcess]:
    """One launch of every case; a hang would hit the timeout."""
    out = str(tmp_path_factory.mktemp("ddp"))
    env = {k: v for k, v in os.environ.items() if k not in ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "MASTER_PORT")}
    proc = subprocess.run([sys.executable, SCRIPT, out], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def ranks(out: str, case: str) -> list[dict]:
    return [json.loads(Path(out, case, f"rank{r}.json").read_text()) for r in (0, 1)]


def case_output(proc: subprocess.CompletedProcess, case: str) -> str:
    """What the launch printed (both ranks, stdout and stderr) while ``case`` ran."""
    out = []
    for stream in (proc.stdout, proc.stderr):
        parts = stream.split("== case ")
        out += [p for p in parts if p.startswith(case + "\n")]
    return "".join(out)


@pytest.mark.parametrize("case", ["ddp-seed", "ddp-fixed"])
def test_two_processes_identical_schedule_single_writer(launch, case):
    out, proc = launch
    r0, r1 = ranks(out, case)
    assert r0["world_size"] == r1["world_size"] == 2
    a0 = np.load(os.path.join(out, case, "applied_rank0.npy"))
    a1 = np.load(os.path.join(out, case, "applied_rank1.npy"))
    assert a0.shape == (40, 1)
    np.testing.assert_array_equal(a0, a1)  # both ranks apply the identical schedule
    # rank zero alone writes, into the logger's own event file: one file in the run, each step once
    run_dir = os.path.join(out, case, "tb", "version_0")
    assert len(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))) == 1
    steps = [s for s, _ in read_scalars(run_dir)["lr-SGD"]]
    assert steps == list(range(40))
    np.testing.assert_array_equal([v for _, v in read_scalars(run_dir)["lr-SGD"]], f32(a0[:, 0]))
    # warnings and the summary once, on rank zero
    assert case_output(proc, case).count("LR schedule (lightning-lrmon)") == 1
    if case.endswith("seed"):
        assert [w.split(":")[0] for w in r0["warnings"]] == ["decay-increases"]
        assert "total_iters=40" in r0["warnings"][0]
    else:
        assert r0["warnings"] == [] and a0[-1, 0] < a0[0, 0]
    assert r1["warnings"] == []


def test_ddp_raise_stops_every_rank_cleanly(launch):
    out, _ = launch
    for r in ranks(out, "ddp-raise"):
        assert r["status"].startswith("raised: LRMonitor found 1 schedule problem")
    assert np.load(os.path.join(out, "ddp-raise", "applied_rank0.npy")).size == 0
    assert np.load(os.path.join(out, "ddp-raise", "applied_rank1.npy")).size == 0
