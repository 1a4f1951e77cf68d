"""The package as declared, from one build of the repository's tracked files: a wheel with every sub-package and its
types, an sdist that carries everything its tests need, both passing ``twine check --strict``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT

import lightning_lrmon

VERSION = lightning_lrmon.__version__


def tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [p for p in out if os.path.isfile(os.path.join(ROOT, p))]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """One ``python -m build`` of a copy of the tracked files (what a clone holds): the sdist and the wheel."""
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    for path in tracked():
        os.makedirs(src / os.path.dirname(path), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, path), src / path)
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "-o", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    return out


def test_a_wheel_and_an_sdist_build_and_pass_the_metadata_check(dist):
    names = sorted(os.listdir(dist))
    assert names == [f"lightning_lrmon-{VERSION}-py3-none-any.whl", f"lightning_lrmon-{VERSION}.tar.gz"]
    twine = os.path.join(os.path.dirname(sys.executable), "twine")
    check = subprocess.run(
        [twine, "check", "--strict", *(str(dist / n) for n in names)], capture_output=True, text=True
    )
    assert check.returncode == 0 and check.stdout.count("PASSED") == 2, check.stdout + check.stderr


def test_the_wheel_holds_every_module_and_its_types(dist):
    with zipfile.ZipFile(dist / f"lightning_lrmon-{VERSION}-py3-none-any.whl") as wheel:
        names = set(wheel.namelist())
        meta = wheel.read(f"lightning_lrmon-{VERSION}.dist-info/METADATA").decode()
    modules = {p for p in tracked() if p.startswith("lightning_lrmon/")}
    assert modules <= names, sorted(modules - names)  # every module of every sub-package, and py.typed
    assert "lightning_lrmon/py.typed" in names and not any(n.startswith(("tests/", "examples/")) for n in names)
    assert (
        "Requires-Dist: typing-extensions" in meta.replace("_", "-")
        and "Provides-Extra: cli" in meta
        and "Classifier: " in meta
    )


def test_the_sdist_carries_its_tests_license_and_package(dist, tmp_path):
    with tarfile.open(dist / f"lightning_lrmon-{VERSION}.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    unpacked = tmp_path / f"lightning_lrmon-{VERSION}"
    needed = [p for p in tracked() if p.startswith(("lightning_lrmon/", "tests/", "examples/", "benchmarks/"))]
    needed += ["LICENSE", "README.md", "CHANGELOG.md", "Makefile", "mkdocs.yml", "requirements-lock.txt", ".ci/run"]
    missing = [p for p in needed if not (unpacked / p).is_file()]
    assert missing == []  # everything the suite (make test) reads is there
    assert "Apache License" in (unpacked / "LICENSE").read_text()
    where = subprocess.run(
        [sys.executable, "-c", "import lightning_lrmon; print(lightning_lrmon.__file__)"],
        cwd=unpacked,
        env={**os.environ, "PYTHONPATH": str(unpacked)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(unpacked))  # the unpacked sdist's package imports from there
