"""LightningCLI entry point for the example project."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lightning.pytorch.cli import LightningCLI
from model import RandomData, Regressor


def main(args: list[str] | None = None) -> LightningCLI:
    return LightningCLI(Regressor, RandomData, args=args, save_config_kwargs={"overwrite": True})


if __name__ == "__main__":
    main()
