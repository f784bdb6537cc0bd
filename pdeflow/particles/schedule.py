"""Checks of run options and the save schedule shared by the particle methods.

The size limits keep every array of a run below a few GB and every setup step
(Gauss rules, kernel tables) below a few seconds. A mistyped option then fails
at once with the fix, instead of exhausting memory inside C code that no signal
can interrupt.
"""

from __future__ import annotations

import numpy as np

from ..checks import (
    MAX_N_PHI,
    MAX_TABLE_ENTRIES,
    check_count,
    check_positive,
    check_table_size,
)

__all__ = [
    "MAX_SAVES",
    "check_array_size",
    "count_steps",
    "check_count",
    "check_gauss_layout",
    "check_positive",
    "check_seed",
    "check_sizes",
    "save_schedule",
    "save_step_schedule",
]

# The fields at the particles take two (m x n_phi) float64 arrays: 1e8 entries
# are 1.6 GB and admit networks of width 1e6 with the default 96 phi nodes.
MAX_PARTICLE_ENTRIES = 100_000_000
# Each save evaluates the fields at every particle, and 1e4 saves of a run of
# 1e3 steps already cost more than its steps.
MAX_SAVES = 10_000
# Networks seed their held-out inputs with seed + 1.
MAX_SEED = 2**32 - 2
# A run of 1e12 steps would take years; the bound keeps step counts far from
# the int64 range as well.
MAX_STEPS = 10**12


def save_schedule(
    t_end: float, save_times: np.ndarray | None, saves: int
) -> np.ndarray:
    """Return sorted unique save times in [0, t_end], 0 and t_end included.

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
        check_saves(saves)
        return np.linspace(0.0, t_end, saves)
    times = np.asarray(save_times, dtype=float).ravel()
    if times.size == 0:
        raise ValueError("save_times is empty: pass at least one time in [0, t_end]")
    if not np.all(np.isfinite(times)) or times.min() < 0.0 or times.max() > t_end:
        raise ValueError(
            f"save_times must lie in [0, t_end={t_end}]: got values from "
            f"{times.min():.6g} to {times.max():.6g}"
        )
    times = np.unique(np.concatenate([[0.0, t_end], times]))
    check_saves(times.size, "save_times")
    return times


def count_steps(steps: float, description: str) -> int:
    """Return ``steps`` rounded to an int, or raise unless in [1, MAX_STEPS].

    ``description`` names the source of the count in the message.
    """
    try:
        steps = float(steps)
    except OverflowError:  # an int beyond the float range
        steps = float("inf")
    if not np.isfinite(steps) or round(steps) > MAX_STEPS:
        count = f"{round(steps)}" if steps < 1e18 else f"{steps:.3g}"
        raise ValueError(
            f"{description} gives {count} steps: pass at most {MAX_STEPS:.0e}"
        )
    if round(steps) < 1:
        raise ValueError(
            f"{description} rounds to zero steps: pass a longer run or a smaller step"
        )
    return int(round(steps))


def save_step_schedule(
    steps: int, save_steps: np.ndarray | None, saves: int
) -> np.ndarray:
    """Return sorted unique save steps in [0, steps], 0 and steps included."""
    if save_steps is None:
        check_saves(saves)
        return np.unique(np.rint(np.linspace(0, steps, saves)).astype(int))
    try:
        values = np.asarray(save_steps, dtype=float).ravel()
    except (TypeError, ValueError):
        raise TypeError(
            f"save_steps={save_steps!r} is invalid: pass integers in [0, steps={steps}]"
        ) from None
    if values.size == 0:
        raise ValueError("save_steps is empty: pass at least one step")
    if not np.all(values == np.rint(values)):
        raise ValueError(
            "save_steps must be whole numbers of steps: pass integers in "
            f"[0, steps={steps}]"
        )
    if values.min() < 0 or values.max() > steps:
        raise ValueError(f"save_steps must lie in [0, steps={steps}]")
    chosen = np.unique(np.concatenate([[0, steps], values.astype(int)]))
    check_saves(chosen.size, "save_steps")
    return chosen


def check_saves(count: int, name: str = "saves") -> int:
    """Return ``count`` as an int, or raise unless it is in [2, MAX_SAVES]."""
    count = check_count(name, count, minimum=2)
    if count > MAX_SAVES:
        raise ValueError(
            f"{name} gives {count} saved times: pass at most {MAX_SAVES}, "
            "since each save evaluates the fields at every particle"
        )
    return count


def check_seed(seed: int) -> int:
    """Return ``seed`` as an int, or raise unless it is in [0, MAX_SEED]."""
    seed = check_count("seed", seed, minimum=0)
    if seed > MAX_SEED:
        raise ValueError(f"seed={seed} is invalid: pass an integer in [0, {MAX_SEED}]")
    return seed


def check_sizes(m: int, n_phi: int, table_cells: int, cells: int, saves: int) -> None:
    """Reject particle counts, rules and tables too large for a few GB.

    Parameters
    ----------
    m : int
        Particles or neurons; the fields are evaluated on an (m x n_phi) array.
    n_phi : int
        Nodes of the phi rule, in [2, MAX_N_PHI].
    table_cells : int
        Cells of the kernel interpolation table of each phi node.
    cells : int
        Cells of the saved histograms, >= 2.
    saves : int
        Number of saved times.
    """
    check_table_size(m, n_phi, "particles", MAX_PARTICLE_ENTRIES, "1.6 GB")
    check_count("table_cells", table_cells, minimum=2)
    check_table_size(table_cells, n_phi, "table cells")
    check_count("cells", cells, minimum=2)
    if cells * saves > MAX_TABLE_ENTRIES:
        raise ValueError(
            f"{saves} saves x {cells} histogram cells exceed "
            f"{MAX_TABLE_ENTRIES:.0e} entries: use fewer cells or saves"
        )


def check_array_size(
    rows_name: str, rows: int, columns_name: str, columns: int
) -> None:
    """Reject a (rows x columns) working array above MAX_TABLE_ENTRIES entries."""
    if rows * columns > MAX_TABLE_ENTRIES:
        raise ValueError(
            f"{rows_name}={rows} x {columns_name}={columns} exceed "
            f"{MAX_TABLE_ENTRIES:.0e} array entries (400 MB in float64): use a "
            f"smaller {rows_name} or {columns_name}"
        )


def check_gauss_layout(m: int, layout: str) -> None:
    """Reject a Gauss layout whose rule of m / 2 nodes would take minutes."""
    if layout == "gauss" and m // 2 > MAX_N_PHI:
        raise ValueError(
            f"m={m} is too large for layout 'gauss', whose rule of m/2 nodes "
            f"takes minutes beyond {MAX_N_PHI} nodes: pass m <= {2 * MAX_N_PHI} "
            "or layout 'midpoint'"
        )
