"""What importing the package and running lrmon import, in a fresh interpreter each."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import ROOT


def _imported(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(out.stdout.split())


def test_lrmon_help_imports_nothing_heavy():
    mods = _imported(
        "from lightning_lrmon._cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert not {"torch", "numpy", "lightning", "yaml"} & mods


def test_lrmon_check_imports_lightning_only_to_validate_like_lightningcli():
    config = os.path.join(ROOT, "examples", "cli", "seed.yaml")
    fast = _imported(f"from lightning_lrmon._cli.main import main\nmain(['check', {config!r}, '--fast'])")
    assert "torch" in fast and not {"lightning", "pytorch_lightning", "jsonargparse"} & fast
    full = _imported(f"from lightning_lrmon._cli.main import main\nmain(['check', {config!r}])")
    assert {"lightning", "jsonargparse"} <= full


def test_import_lightning_lrmon_imports_no_lightning():
    assert not {"lightning", "pytorch_lightning", "torch"} & _imported("import lightning_lrmon")
