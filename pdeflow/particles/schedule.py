"""Checks of run options and the save schedule shared by the particle methods."""

from __future__ import annotations

import numpy as np

from ..checks import check_count, check_positive

__all__ = ["check_count", "check_positive", "save_schedule"]


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
