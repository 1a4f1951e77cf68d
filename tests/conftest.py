"""Shared set-up: the helpers on the path, quiet third-party deprecations, and the tiers.

Tiers, by folder: ``unit/`` (no Trainer: pure functions against torch's own stepping), ``fit/`` (real Trainer fits on
tiny models), ``system/`` (subprocesses: DDP, the built package, mypy, the console script, the benchmarks), marked
``system`` so that ``pytest -m "not system"`` (``make test-fast``) leaves them out.
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("PL_DISABLE_FORK", "1")
# Lightning 2.6's LightningCLI calls jsonargparse APIs deprecated in 4.49: not ours, and noisy
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")

# helper programs run as subprocesses by the tests (they read sys.argv at import): not test modules
collect_ignore = ["scripts"]

SYSTEM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "system") + os.sep


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if str(item.path).startswith(SYSTEM):
            item.add_marker(pytest.mark.system)


@pytest.fixture
def halving_record():  # type: ignore[no-untyped-def]
    """The toy scheduler class of ``toy_record.py`` with its record registered for one test."""
    from toy_record import register_halving, unregister_halving

    yield register_halving()
    unregister_halving()
