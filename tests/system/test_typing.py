"""What a user's ``mypy --strict`` sees of the installed package: typed results and refused typos.

One mypy run checks both files, from a folder outside the repository and without ``MYPYPATH``: the package is found
as the user's mypy finds it, through the environment's install (``make`` installs it editable, as a plain path entry
that type checkers read).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest
from helpers import ROOT

TYPO = """
from lightning_lrmon import LRMonitor

ok = LRMonitor("StepLR", interval="step", on_misconfig="raise", expect="decay")
bad = LRMonitor("StepLR", interval="epochs", frequency="2")
"""

RESULTS = """
import torch
from lightning_lrmon import LRMonitor, check_schedule, plot
cb = LRMonitor()
reveal_type(cb.findings)
reveal_type(cb.reviews)
reveal_type(cb.reviews[0].groups[0].peak)
opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
reveal_type(check_schedule(torch.optim.lr_scheduler.StepLR(opt, 5), 10))
reveal_type(plot(cb))
"""


@pytest.fixture(scope="module")
def mypy_lines(tmp_path_factory) -> dict[str, list[str]]:
    """mypy's output lines for each user file, from one run."""
    where = tmp_path_factory.mktemp("user")
    for name, code in (("typo.py", TYPO), ("results.py", RESULTS)):
        (where / name).write_text(textwrap.dedent(code).lstrip())
    # the repository's mypy settings and cache: after `make lint` (make test runs it first) torch and Lightning are
    # analysed already; the package is still found through the environment's install, not through a path
    settings = ["--config-file", os.path.join(ROOT, "pyproject.toml"), "--cache-dir", os.path.join(ROOT, ".mypy_cache")]
    out = subprocess.run(
        [sys.executable, "-m", "mypy", *settings, "--strict", "--no-error-summary", "typo.py", "results.py"],
        capture_output=True,
        text=True,
        cwd=str(where),
        timeout=600,
    ).stdout
    return {name: [line for line in out.splitlines() if line.startswith(name)] for name in ("typo.py", "results.py")}


def test_a_users_mypy_rejects_a_typo_in_the_arguments(mypy_lines):
    errors = [line for line in mypy_lines["typo.py"] if ": error:" in line]
    assert len(errors) == 2, mypy_lines["typo.py"]
    text = "\n".join(errors)
    assert all(line.startswith("typo.py:4:") for line in errors) and "interval" in text and "frequency" in text


def test_results_are_typed_for_a_users_mypy_strict(mypy_lines):
    revealed = re.findall(r'Revealed type is "([^"]+)"', "\n".join(mypy_lines["results.py"]))
    assert revealed == [
        "list[lightning_lrmon._findings.Finding]",
        "list[lightning_lrmon._review.pipeline.Review]",
        "float | None",
        "list[lightning_lrmon._findings.Finding]",
        "matplotlib.figure.Figure",
    ], mypy_lines["results.py"]
