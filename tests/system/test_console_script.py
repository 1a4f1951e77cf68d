"""The lrmon console script as installed: one line and an exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import EXAMPLES

#: a config whose scheduler class has a typo: lrmon says so on one line (the in-process tests cover the others)
UNKNOWN_CLASS = "trainer:\n  max_steps: 10\nlr_scheduler:\n  class_path: CosineAnealingLR\n  init_args: {T_max: 5}\n"


def test_console_script_prints_no_traceback(tmp_path):
    """The entry point run as installed (the other lrmon tests call main() in process, but the pipe test below)."""
    path = tmp_path / "unknown-class.yaml"
    path.write_text(UNKNOWN_CLASS)
    proc = subprocess.run(
        [sys.executable, "-m", "lightning_lrmon", "check", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("lrmon: error:")


def test_a_closed_pipe_ends_quietly_with_the_checks_exit_code(tmp_path):
    """``lrmon check seed.yaml | head -1``: the reader goes away; lrmon exits 1 (findings), not 2, and says nothing."""
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
