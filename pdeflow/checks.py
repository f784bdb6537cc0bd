"""Checks of the values that public functions accept: numbers and input files.

Python's bool is an int, so a stray True must be rejected explicitly; numpy
scalars are accepted wherever Python numbers are.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def is_real(value: object) -> bool:
    """Tell whether ``value`` is a Python or numpy integer or float, not a bool."""
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def is_integer(value: object) -> bool:
    """Tell whether ``value`` is a Python or numpy integer, not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def check_positive(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise ValueError unless finite and > 0."""
    if not is_real(value):
        raise TypeError(f"{name}={value!r} is invalid: pass a number > 0")
    if not np.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name}={value} is invalid: pass a finite number > 0")
    return float(value)


def check_count(name: str, value: int, minimum: int) -> int:
    """Return ``value`` as an int, or raise unless it is an integer >= minimum."""
    if not is_integer(value):
        raise TypeError(f"{name}={value!r} is invalid: pass an integer >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name}={value} is invalid: pass an integer >= {minimum}")
    return int(value)


# Kernel tables hold cells x n_phi entries several times over: 1e5 cells with
# 97 nodes took 650 MB, so 5e7 entries is about 3 GB. Beyond that a run would
# spend minutes in C code that no signal can interrupt.
MAX_TABLE_ENTRIES = 50_000_000
MAX_N_PHI = 10_000


def check_table_size(
    cells: int,
    n_phi: int,
    row_name: str = "cells",
    limit: int = MAX_TABLE_ENTRIES,
    size: str = "about 3 GB",
) -> None:
    """Reject a phi rule or kernel table too large to build in reasonable time.

    ``row_name`` names the rows of the table in the message ("cells",
    "particles"). ``limit`` bounds rows x (n_phi + 1), and ``size`` gives its
    memory for the message.
    """
    check_count("n_phi", n_phi, minimum=2)
    if n_phi > MAX_N_PHI:
        raise ValueError(
            f"n_phi={n_phi} is invalid: pass an integer in [2, {MAX_N_PHI}]"
        )
    entries = cells * (n_phi + 1)
    if entries > limit:
        raise ValueError(
            f"{cells} {row_name} and n_phi={n_phi} need {entries:.3g} table entries, "
            f"above {limit:.0e} ({size}): use fewer {row_name} or phi nodes"
        )


def check_input_file(
    path: str | os.PathLike,
    role: str,
    expected: str,
    error: type[Exception] = OSError,
) -> Path:
    """Return ``path`` as a Path, or raise ``error`` unless it names a file.

    ``role`` names the file in the message ("run file") and ``expected``
    describes the file to pass instead ("a pdeflow NetCDF file").
    """
    source = Path(path)
    if source.is_dir():
        fault = "is a folder"
    elif not source.is_file():
        fault = "not found"
    else:
        return source
    raise error(f"{role} {str(source)!r} {fault}: pass the path of {expected}")
