"""The version, written in one place (pyproject.toml and the package read it)."""

__version__ = "0.3.0"
