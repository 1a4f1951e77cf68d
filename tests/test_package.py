"""The package as declared: an sdist that carries its tests and license, and runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_sdist_carries_its_tests_and_runs_them(tmp_path):
    out = (
        subprocess.run(
            [sys.executable, "-c", f"from setuptools import build_meta as b; print(b.build_sdist({str(tmp_path)!r}))"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    with tarfile.open(tmp_path / out) as tar:
        names = set(tar.getnames())
        tar.extractall(tmp_path, filter="data")
    top = out.removesuffix(".tar.gz")
    for needed in (
        "LICENSE",
        "tests/conftest.py",
        "tests/helpers.py",
        "tests/schedule_cases.py",
        "tests/scripts/ddp_run.py",
        "examples/cli/main.py",
        "examples/cli/seed.yaml",
    ):
        assert f"{top}/{needed}" in names, needed
    unpacked = tmp_path / top
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    where = subprocess.run(
        [sys.executable, "-c", "import lightning_lrmon; print(lightning_lrmon.__file__)"],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(unpacked))  # the unpacked sdist's package is the one tested
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_checks.py",
            "tests/test_cli.py",
            "-k",
            "not lightningcli",
        ],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert " passed" in run.stdout.splitlines()[-1]
    assert "Apache License" in (unpacked / "LICENSE").read_text()
