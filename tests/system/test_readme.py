"""The README's code runs as written, in a fresh interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT, f32, read_scalars

import lightning_lrmon

PACKAGE = os.path.dirname(os.path.abspath(lightning_lrmon.__file__))


def test_the_record_example_of_the_extending_page_runs_as_written(tmp_path):
    import re
    import subprocess
    import sys

    with open(os.path.join(os.path.dirname(PACKAGE), "docs", "extending.md"), encoding="utf-8") as fh:
        text = fh.read()
    section = text
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    script = tmp_path / "record_example.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["[0.1   0.05  0.025]", "[]"]


def read(path: str) -> str:
    with open(os.path.join(ROOT, path), encoding="utf-8") as fh:
        return fh.read()


README = read("README.md")


def python(*args: str, cwd: str = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False, env=env
    )


def test_the_readme_quickstart_runs_as_written(tmp_path):
    section = README[README.index("## Quickstart") :]
    code = section[section.index("```python\n") + 10 : section.index("```\n", section.index("```python\n"))]
    (tmp_path / "quickstart.py").write_text(code)
    proc = python("quickstart.py", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    # Lightning's console formatter keeps the category, and the place is the user's configure_optimizers
    assert re.search(r"quickstart\.py:\d+: LRScheduleWarning: decay-increases: LinearLR", proc.stderr)
    assert "Review(lr-SGD: LinearLR(start_factor=0.5, end_factor=1, total_iters=32), shape decay" in proc.stdout
    assert (tmp_path / "lightning_logs" / "version_0").is_dir()


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def linear_lrs(steps: int) -> list[float]:
    """What torch's own LinearLR(start_factor=0.5, total_iters=100) applies on SGD(lr=0.001), step by step."""
    import torch

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=100)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize(
    ("heading", "name", "run"),
    [
        ("## Fabric", "fabric_loop.py", "runs/fabric/version_0"),
        ("## A plain PyTorch loop", "plain_loop.py", "runs/plain"),
    ],
)
def test_the_readme_loop_scripts_run_as_written(tmp_path, heading, name, run):
    """The seed's mistake in a loop: the warning at the user's line before the first step, then the LRs read back
    from the event file equal to what torch's LinearLR applies at every step."""
    (code,) = python_blocks(README[README.index(heading + "\n") :].split("\n## ", 1)[0])
    (tmp_path / name).write_text(code)
    proc = python(name, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(rf"{name}:\d+: LRScheduleWarning: decay-increases: LinearLR\(start_factor=0.5", proc.stderr)
    assert f"TensorBoard logs: {run}" in proc.stdout
    points = read_scalars(str(tmp_path / run))["lr-SGD"]
    assert [s for s, _ in points] == list(range(100))
    np.testing.assert_array_equal([v for _, v in points], f32(linear_lrs(100)))


def test_every_python_block_of_the_readme_is_run_by_a_test(tmp_path):
    """Four blocks: the quickstart and the two loop scripts (tests above), and the imports of the API section."""
    blocks = python_blocks(README)
    assert len(blocks) == 4
    (api,) = [b for b in blocks if b.startswith("from lightning_lrmon import LRMonitor")]
    (tmp_path / "api.py").write_text(api)
    proc = python("api.py", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_readme_lrmon_lines_run(tmp_path):
    section = README[README.index("## `lrmon`") :]
    block = section[section.index("```bash\n") + 8 : section.index("```", section.index("```bash\n") + 8)]
    lines = [line.split("#")[0].split() for line in block.strip().splitlines()]
    assert len(lines) == 4 and all(line[0] == "lrmon" for line in lines)
    lrmon = os.path.join(os.path.dirname(sys.executable), "lrmon")
    # side by side: each pays the interpreter's start and Lightning's import (seconds here), and nothing is shared
    procs = [
        subprocess.Popen([lrmon, *line[1:]], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in lines
    ]
    for line, proc in zip(lines, procs):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 1) and out.strip(), (line, err[-1000:])
