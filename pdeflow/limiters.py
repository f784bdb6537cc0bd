"""Slope limiters for the MUSCL reconstruction of cell averages.

Each limiter takes the one-sided slopes of a cell, ``left = (rho_i - rho_{i-1}) /
(x_i - x_{i-1})`` and ``right = (rho_{i+1} - rho_i) / (x_{i+1} - x_i)`` with x the
cell centres, and returns a slope that is zero at extrema and lies between 0 and
twice the smaller one-sided slope. The reconstructed face values then stay
between the neighbouring cell averages, so the scheme creates no new extrema and
keeps densities non-negative.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Limiter = Callable[[np.ndarray, np.ndarray], np.ndarray]


def minmod(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Return the one-sided slope of smaller magnitude, or 0 at an extremum."""
    same_sign = left * right > 0.0
    smaller = np.where(np.abs(left) < np.abs(right), left, right)
    return np.where(same_sign, smaller, 0.0)


def van_leer(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Return the harmonic mean of the one-sided slopes, or 0 at an extremum."""
    product = left * right
    total = left + right
    safe_total = np.where(product > 0.0, total, 1.0)
    return np.where(product > 0.0, 2.0 * product / safe_total, 0.0)


def monotonized_central(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Return the central slope clipped to twice each one-sided slope (MC limiter)."""
    central = 0.5 * (left + right)
    bound = np.minimum(2.0 * np.abs(left), 2.0 * np.abs(right))
    clipped = np.sign(central) * np.minimum(np.abs(central), bound)
    return np.where(left * right > 0.0, clipped, 0.0)


LIMITERS: dict[str, Limiter] = {
    "minmod": minmod,
    "vanleer": van_leer,
    "mc": monotonized_central,
}


def get_limiter(name: str) -> Limiter:
    """Look up a limiter by name: ``minmod``, ``vanleer`` or ``mc``."""
    try:
        return LIMITERS[name]
    except KeyError:
        raise ValueError(
            f"limiter={name!r} is unknown: choose one of {', '.join(LIMITERS)}"
        ) from None
