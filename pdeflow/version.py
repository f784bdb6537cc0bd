"""The installed version of pdeflow, read without importing the numerical stack."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """Return the installed version of pdeflow, or "unknown" from a bare checkout."""
    try:
        return version("pdeflow")
    except PackageNotFoundError:
        return "unknown"
