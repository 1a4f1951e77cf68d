"""``python -m lightning_lrmon`` runs the ``lrmon`` command line."""

from __future__ import annotations

from lightning_lrmon._cli.main import run

if __name__ == "__main__":
    run()
