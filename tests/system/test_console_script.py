"""The lrmon console script as installed: one line and an exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

BROKEN = {
    "malformed.yaml": "trainer: [unclosed\n",
    "empty.yaml": "",
    "list.yaml": "- a\n- b\n",
    "unknown-class.yaml": (
        "trainer:\n  max_steps: 10\nlr_scheduler:\n  class_path: CosineAnealingLR\n  init_args: {T_max: 5}\n"
    ),
    "no-length.yaml": "lr_scheduler:\n  class_path: StepLR\n  init_args: {step_size: 5}\n",
    "no-schedule.yaml": "trainer:\n  max_steps: 10\n",
    "bad-arg.yaml": (
        "trainer:\n  max_epochs: 5\nlr_scheduler:\n  class_path: LinearLR\n  init_args: {start_factor: 0}\n"
    ),
    "not-a-scheduler.yaml": "trainer:\n  max_epochs: 5\nlr_scheduler:\n  class_path: torch.nn.Linear\n",
}


def test_console_script_prints_no_traceback(tmp_path):
    """The one test of the installed entry point; every other lrmon test calls main() in process."""
    name = "unknown-class.yaml"
    path = tmp_path / name
    path.write_text(BROKEN[name])
    proc = subprocess.run(
        [sys.executable, "-m", "lightning_lrmon", "check", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("lrmon: error:")


def test_a_closed_pipe_ends_quietly_with_the_checks_exit_code(tmp_path):
    """``lrmon check seed.yaml | head -1``: the reader goes away; lrmon exits 1 (findings), not 2, and says nothing."""
    from helpers import EXAMPLES

    proc = subprocess.Popen(
        [sys.executable, "-m", "lightning_lrmon", "check", os.path.join(EXAMPLES, "seed.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # before lrmon writes: its first write meets a closed pipe
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 1, err
    assert "BrokenPipe" not in err and "Traceback" not in err
