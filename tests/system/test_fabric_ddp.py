"""``LoopMonitor`` under Fabric's real `ddp` strategy, 2 CPU processes (gloo): the finding once, on rank zero, one
writer with every step; under ``on_misconfig="raise"`` every rank raises before its first update."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import SCRIPTS, f32, read_scalars
from torch.optim.lr_scheduler import LinearLR

SCRIPT = os.path.join(SCRIPTS, "fabric_ddp_run.py")


@pytest.fixture(scope="module")
def launch(tmp_path_factory) -> tuple[str, list[dict]]:
    out = str(tmp_path_factory.mktemp("fabric_ddp"))
    env = {k: v for k, v in os.environ.items() if k not in ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "MASTER_PORT")}
    proc = subprocess.run([sys.executable, SCRIPT, out], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, [json.loads(Path(out, f"rank{r}.json").read_text()) for r in (0, 1)]


def torch_linear(steps: int) -> list[float]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    sched = LinearLR(opt, start_factor=0.5, total_iters=40)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_the_finding_once_on_rank_zero_and_one_writer(launch):
    out, (r0, r1) = launch
    assert r0["world_size"] == r1["world_size"] == 2
    warn0, warn1 = r0["warn"], r1["warn"]
    assert [w.split(":")[0] for w in warn0["warnings"]] == ["decay-increases"] and warn1["warnings"] == []
    assert warn0["applied"] == warn1["applied"]
    assert warn1["event_file"] is None  # rank 1 writes nothing
    run = os.path.join(out, "warn", "version_0")
    assert glob.glob(os.path.join(run, "events.out.tfevents.*")) == [warn0["event_file"]]
    points = read_scalars(run)["lr-SGD"]
    assert [s for s, _ in points] == list(range(40))
    np.testing.assert_array_equal([v for _, v in points], f32(torch_linear(40)))


def test_raise_is_decided_together_before_any_update(launch):
    _, ranks = launch
    for r in ranks:
        assert r["raise"]["raised"] == "LoopMonitor found 1 schedule problem(s):"
        assert r["raise"]["unchanged"] and len(r["raise"]["applied"]) == 1
