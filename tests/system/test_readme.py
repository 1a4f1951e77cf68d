"""The README's code runs as written, in a fresh interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from helpers import ROOT

import lightning_lrmon

PACKAGE = os.path.dirname(os.path.abspath(lightning_lrmon.__file__))


def test_the_readme_record_example_runs_as_written(tmp_path):
    import re
    import subprocess
    import sys

    with open(os.path.join(os.path.dirname(PACKAGE), "README.md"), encoding="utf-8") as fh:
        text = fh.read()
    section = text[text.index("### Supporting another scheduler class") :]
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
