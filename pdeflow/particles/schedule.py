"""Checks of run options and the save schedule shared by the particle methods."""

from __future__ import annotations

import numpy as np


def check_positive(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise ValueError unless finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name}={value!r} is invalid: pass a number > 0")
    if not np.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name}={value} is invalid: pass a finite number > 0")
    return float(value)


def check_count(name: str, value: int, minimum: int) -> int:
    """Return ``value`` as an int, or raise unless it is an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name}={value!r} is invalid: pass an integer >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name}={value} is invalid: pass an integer >= {minimum}")
    return int(value)


def save_schedule(
    t_end: float, save_times: np.ndarray | None, saves: int
) -> np.ndarray:
    """Return sorted unique save times in [0, t_end]; default evenly spaced.

    Parameters
    ----------
    t_end : float
        Final time, > 0.
    save_times : ndarray, optional
        Requested times; each must lie in [0, t_end].
    saves : int
        Number of evenly spaced times from 0 to t_end when ``save_times`` is None.
    """
    if save_times is None:
        check_count("saves", saves, minimum=2)
        return np.linspace(0.0, t_end, saves)
    times = np.unique(np.asarray(save_times, dtype=float).ravel())
    if times.size == 0:
        raise ValueError("save_times is empty: pass at least one time in [0, t_end]")
    if not np.all(np.isfinite(times)) or times[0] < 0.0 or times[-1] > t_end:
        raise ValueError(
            f"save_times must lie in [0, t_end={t_end}]: got values from "
            f"{times[0]:.6g} to {times[-1]:.6g}"
        )
    return times
