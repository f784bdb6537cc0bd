"""Type and range checks of the numbers that public functions accept.

Python's bool is an int, so a stray True must be rejected explicitly; numpy
scalars are accepted wherever Python numbers are.
"""

from __future__ import annotations

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
