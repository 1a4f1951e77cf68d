from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("PL_DISABLE_FORK", "1")
# Lightning 2.6's LightningCLI calls jsonargparse APIs deprecated in 4.49: not ours, and noisy
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")

# helper programs run as subprocesses by the tests (they read sys.argv at import): not test modules
collect_ignore = ["scripts"]
