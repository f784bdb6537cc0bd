"""Comparison of two runs (PDE or particles) at their common saved times.

Distances between the normalised measures use the piecewise-constant density
of each run on its own mesh: the cumulative distribution is then piecewise
linear, the quantile function Q is piecewise linear in the level u, and

    W_p(mu, nu)^p = int_0^1 |Q_mu(u) - Q_nu(u)|^p du

is integrated exactly on the merged breakpoints of the two quantile functions.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import xarray as xr

from .checks import check_count, check_positive
from .output import check_image_path, open_run

logger = logging.getLogger(__name__)

DEFAULT_TIME_RTOL = 1e-6
DEFAULT_TIME_ATOL = 1e-9


def _quantile_pieces(
    edges: np.ndarray, density: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the cumulative levels at the faces and the faces."""
    mass = np.clip(density, 0.0, None) * np.diff(edges)
    total = mass.sum()
    levels = np.concatenate([[0.0], np.cumsum(mass) / total])
    levels[-1] = 1.0
    return levels, edges


def _quantile(
    levels: np.ndarray, edges: np.ndarray, u: np.ndarray, cell: np.ndarray
) -> np.ndarray:
    """Evaluate the quantile function at levels u inside the given cells."""
    low, high = levels[cell], levels[cell + 1]
    span = np.where(high > low, high - low, 1.0)
    fraction = np.clip((u - low) / span, 0.0, 1.0)
    return edges[cell] + fraction * (edges[cell + 1] - edges[cell])


def wasserstein_1d(
    edges_a: np.ndarray,
    density_a: np.ndarray,
    edges_b: np.ndarray,
    density_b: np.ndarray,
    p: int = 2,
) -> float:
    """Compute W_p between two normalised piecewise-constant densities.

    Parameters
    ----------
    edges_a, edges_b : ndarray, shape (cells_a + 1,), (cells_b + 1,)
        Faces of the two meshes, increasing, radians.
    density_a, density_b : ndarray, shape (cells_a,), (cells_b,)
        Non-negative densities; each is normalised to total mass one.
    p : int
        Order, 1 or 2.

    Returns
    -------
    float
        W_p in radians (not its p-th power); nan when a density has zero mass
        or a nan or infinite value.

    Raises
    ------
    ValueError
        When p is not 1 or 2, or a mesh does not have one face more than its
        density has cells.
    """
    if p not in (1, 2):
        raise ValueError(f"p={p} is invalid: pass 1 or 2")
    edges_a = np.asarray(edges_a, dtype=float)
    edges_b = np.asarray(edges_b, dtype=float)
    density_a = np.asarray(density_a, dtype=float)
    density_b = np.asarray(density_b, dtype=float)
    _check_mesh("a", edges_a, density_a)
    _check_mesh("b", edges_b, density_b)
    # A nan or infinite density defines no law, so it has no distance. The
    # steps below would return a finite number for it.
    if not (np.all(np.isfinite(density_a)) and np.all(np.isfinite(density_b))):
        return float("nan")
    # Negative densities (undershoots of a scheme) count as zero, here as in
    # the quantile functions.
    mass_a = np.clip(density_a, 0.0, None) @ np.diff(edges_a)
    mass_b = np.clip(density_b, 0.0, None) @ np.diff(edges_b)
    if mass_a <= 0.0 or mass_b <= 0.0:
        return float("nan")
    levels_a, _ = _quantile_pieces(edges_a, density_a)
    levels_b, _ = _quantile_pieces(edges_b, density_b)

    # Between consecutive breakpoints both quantile functions are linear in u.
    breaks = np.unique(np.concatenate([levels_a, levels_b]))
    low, high = breaks[:-1], breaks[1:]
    keep = high > low
    low, high = low[keep], high[keep]
    middle = 0.5 * (low + high)
    cell_a = np.clip(
        np.searchsorted(levels_a, middle, side="right") - 1, 0, density_a.size - 1
    )
    cell_b = np.clip(
        np.searchsorted(levels_b, middle, side="right") - 1, 0, density_b.size - 1
    )
    start = _quantile(levels_a, edges_a, low, cell_a) - _quantile(
        levels_b, edges_b, low, cell_b
    )
    end = _quantile(levels_a, edges_a, high, cell_a) - _quantile(
        levels_b, edges_b, high, cell_b
    )
    width = high - low

    if p == 2:
        integral = width * (start**2 + start * end + end**2) / 3.0
        return float(np.sqrt(integral.sum()))
    same_sign = start * end >= 0.0
    magnitude = np.abs(start) + np.abs(end)
    crossing = (start**2 + end**2) / (2.0 * np.where(magnitude > 0.0, magnitude, 1.0))
    integral = width * np.where(same_sign, 0.5 * np.abs(start + end), crossing)
    return float(integral.sum())


def _check_mesh(name: str, edges: np.ndarray, density: np.ndarray) -> None:
    if edges.ndim != 1 or density.ndim != 1 or edges.size != density.size + 1:
        raise ValueError(
            f"edges_{name} has shape {edges.shape} and density_{name} has shape "
            f"{density.shape}: pass one face more than cells, in two 1-D arrays"
        )


def _edges(run: xr.Dataset) -> np.ndarray:
    if "theta_edges" in run:
        return np.asarray(run["theta_edges"].values, dtype=float)
    raise ValueError("run has no theta_edges: pass a dataset written by pdeflow")


def match_times(
    times_a: np.ndarray,
    times_b: np.ndarray,
    rtol: float = DEFAULT_TIME_RTOL,
    atol: float = DEFAULT_TIME_ATOL,
) -> tuple[np.ndarray, np.ndarray]:
    """Pair the saved times of two runs that agree within ``atol + rtol |t|``.

    The pairs keep the order of both runs. Among such pairings the one with
    the most pairs is chosen, and among those the one with the smallest sum
    of gaps measured in tolerances, by dynamic programming over the two lists.
    Above MAX_MATCH_CELLS (times of a x times of b) each time of a instead
    takes the nearest later time of b within tolerance, which can miss pairs.

    Raises
    ------
    ValueError
        When rtol or atol is not a finite number > 0, or the times are not
        finite and strictly increasing.

    Returns
    -------
    index_a, index_b : ndarray of int, shape (pairs,)
        Indices of the matched times, increasing; each time is used once.
    """
    rtol = check_positive("rtol", rtol)
    atol = check_positive("atol", atol)
    times_a = _check_times("times_a", times_a)
    times_b = _check_times("times_b", times_b)
    if times_a.size * times_b.size > MAX_MATCH_CELLS:
        return _match_nearest(times_a, times_b, rtol, atol)
    return _match_best(times_a, times_b, rtol, atol)


# The best pairing keeps four float64 tables of (a, b) combinations, 32 bytes
# each, so this bound keeps them near 32 MB.
MAX_MATCH_CELLS = 1_000_000


def _check_times(name: str, times: np.ndarray) -> np.ndarray:
    """Return times as a float array, or raise unless finite and increasing."""
    values = np.asarray(times, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"{name} has shape {values.shape}: pass a 1-D array")
    if not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0.0):
        raise ValueError(
            f"{name} is not finite and strictly increasing: pass the saved times "
            "of a run"
        )
    return values


def _match_best(
    times_a: np.ndarray, times_b: np.ndarray, rtol: float, atol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return the in-order pairing with the most pairs, then the smallest gaps."""
    n, m = times_a.size, times_b.size
    gaps = np.abs(times_a[:, None] - times_b[None, :])
    tolerance = atol + rtol * np.maximum(np.abs(times_a)[:, None], np.abs(times_b))
    # A pair scores between n and n + 1, so one more pair always outweighs
    # any sum of at most n gaps, each at most one tolerance.
    score = np.where(gaps <= tolerance, n + 1.0 - gaps / tolerance, -np.inf)

    best = np.zeros((n + 1, m + 1))  # best[i, j]: first i times of a, j of b
    for i in range(1, n + 1):
        paired = best[i - 1, :-1] + score[i - 1]
        best[i, 1:] = np.maximum.accumulate(np.maximum(best[i - 1, 1:], paired))

    pairs_a, pairs_b = [], []
    i, j = n, m
    while i > 0 and j > 0:
        if best[i, j] == best[i, j - 1]:
            j -= 1
        elif best[i, j] == best[i - 1, j]:
            i -= 1
        else:
            pairs_a.append(i - 1)
            pairs_b.append(j - 1)
            i, j = i - 1, j - 1
    return np.array(pairs_a[::-1], dtype=int), np.array(pairs_b[::-1], dtype=int)


def _match_nearest(
    times_a: np.ndarray, times_b: np.ndarray, rtol: float, atol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pair each time of a with the nearest later unused time of b in tolerance."""
    pairs_a, pairs_b = [], []
    first = 0  # times of b before this one are used or passed
    for i, t in enumerate(times_a):
        rest = times_b[first:]
        gaps = np.abs(rest - t)
        within = gaps <= atol + rtol * np.maximum(abs(t), np.abs(rest))
        if not within.any():
            continue
        j = first + int(np.flatnonzero(within)[np.argmin(gaps[within])])
        pairs_a.append(i)
        pairs_b.append(j)
        first = j + 1
    return np.array(pairs_a, dtype=int), np.array(pairs_b, dtype=int)


def compare(
    run_a: xr.Dataset | str | os.PathLike,
    run_b: xr.Dataset | str | os.PathLike,
    *,
    rtol: float = DEFAULT_TIME_RTOL,
    atol: float = DEFAULT_TIME_ATOL,
) -> xr.Dataset:
    """Compare two runs at their common saved times.

    Parameters
    ----------
    run_a, run_b : xarray.Dataset, str or path-like
        Runs in the layout of ``pdeflow.solve`` (PDE or particles), or paths of
        run files, which are read with ``pdeflow.open_run``; run_a is the
        reference of the relative errors.
    rtol, atol : float
        Two saved times match when they differ by at most ``atol + rtol |t|``;
        both must be finite and > 0.

    Returns
    -------
    xarray.Dataset
        Dimension ``time`` (the times of run_a). For ``side`` in plus, minus:
        ``mass_<side>_a``, ``mass_<side>_b``, ``mass_<side>_difference`` (b - a),
        ``mass_<side>_relative_error`` (|b - a| / |a|), ``w1_<side>`` and
        ``w2_<side>`` (radians, between the normalised densities);
        ``loss_difference`` (b - a) and ``predictor_max_difference`` (max over
        phi of |F_b - F_a|, with F_b interpolated linearly onto the phi grid
        of run_a when the grids differ).

    Raises
    ------
    ValueError
        When the runs share no saved time, or rtol or atol is not a finite
        number > 0.
    TypeError
        When a run is neither a dataset nor a path.
    OSError
        When a run file cannot be opened as a pdeflow run.

    Runs of different (d, d_H), or from different starts, are
    compared all the same, for studies across them, with a logged warning:
    their differences are then not errors. A run whose ``stop_reason``
    attribute is not "completed" (diverged, interrupted) is compared too, with
    a logged warning.
    """
    run_a, run_b = _load_run("run_a", run_a), _load_run("run_b", run_b)
    index_a, index_b = match_times(run_a.time.values, run_b.time.values, rtol, atol)
    _warn_if_problems_differ(run_a, run_b)
    _warn_if_stopped_early(run_a, run_b)
    _require_common_times(index_a, rtol, atol)
    a = run_a.isel(time=index_a)
    b = run_b.isel(time=index_b)
    edges_a, edges_b = _edges(run_a), _edges(run_b)
    variables: dict[str, tuple] = {}
    for side in ("plus", "minus"):
        mass_a = a[f"mass_{side}"].values
        mass_b = b[f"mass_{side}"].values
        difference = mass_b - mass_a
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.abs(difference) / np.abs(mass_a)
        density_a = a[f"tau_{side}"].values
        density_b = b[f"tau_{side}"].values
        distances = {
            order: [
                wasserstein_1d(edges_a, density_a[k], edges_b, density_b[k], order)
                for k in range(index_a.size)
            ]
            for order in (1, 2)
        }
        label = f"tau_{side}"
        table = [
            (f"mass_{side}_a", mass_a, f"mass of {label}, run a", "1"),
            (f"mass_{side}_b", mass_b, f"mass of {label}, run b", "1"),
            (f"mass_{side}_difference", difference, f"mass of {label}, b - a", "1"),
            (
                f"mass_{side}_relative_error",
                relative,
                f"|b - a| / |a| for the mass of {label}",
                "1",
            ),
            (
                f"w1_{side}",
                np.array(distances[1]),
                f"W1 between normalised {label} of a and b",
                "rad",
            ),
            (
                f"w2_{side}",
                np.array(distances[2]),
                f"W2 between normalised {label} of a and b",
                "rad",
            ),
        ]
        for name, values, long_name, units in table:
            attributes = {"long_name": long_name, "units": units}
            variables[name] = ("time", values, attributes)

    variables["loss_difference"] = (
        "time",
        b.loss.values - a.loss.values,
        {"long_name": "loss of b - loss of a", "units": "1"},
    )
    phi_a = run_a.phi.values
    predictor_b = b.predictor.values
    if run_b.phi.size != phi_a.size or not np.allclose(run_b.phi.values, phi_a):
        predictor_b = np.array(
            [np.interp(phi_a, run_b.phi.values, row) for row in predictor_b]
        )
    gap = np.max(np.abs(predictor_b - a.predictor.values), axis=1)
    variables["predictor_max_difference"] = (
        "time",
        gap,
        {"long_name": "max over phi of |F_b - F_a|", "units": "1"},
    )

    coords = {
        "time": (
            "time",
            a.time.values,
            {"long_name": "time of the mean-field gradient flow (run a)", "units": "1"},
        ),
        "time_b": (
            "time",
            b.time.values,
            {"long_name": "matched time of run b", "units": "1"},
        ),
    }
    attrs = {
        "title": "pdeflow comparison of two runs",
        "run_a": _describe(run_a),
        "run_b": _describe(run_b),
        "time_rtol": rtol,
        "time_atol": atol,
    }
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def _warn_if_problems_differ(run_a: xr.Dataset, run_b: xr.Dataset) -> None:
    dimensions = [(run.attrs.get("d"), run.attrs.get("d_H")) for run in (run_a, run_b)]
    if dimensions[0] != dimensions[1]:
        (d_a, d_H_a), (d_b, d_H_b) = dimensions
        logger.warning(
            "run a has d=%s, d_H=%s but run b has d=%s, d_H=%s: they solve "
            "different problems, so their differences are not errors",
            d_a,
            d_H_a,
            d_b,
            d_H_b,
        )
    # Files from before starts were recorded lack the attribute: skip them.
    starts = [run.attrs.get("initial") for run in (run_a, run_b)]
    if None not in starts and starts[0] != starts[1]:
        logger.warning(
            "run a starts from %r but run b from %r: their differences are not errors",
            starts[0],
            starts[1],
        )


def _require_common_times(index_a: np.ndarray, rtol: float, atol: float) -> None:
    """Raise ValueError when no saved time of the two runs was paired."""
    if index_a.size == 0:
        raise ValueError(
            "the runs share no saved time: save both at common times, or widen "
            f"rtol={rtol}, atol={atol}"
        )


def _warn_if_stopped_early(run_a: xr.Dataset, run_b: xr.Dataset) -> None:
    # Runs without the attribute (files of older versions) count as completed.
    for name, run in (("a", run_a), ("b", run_b)):
        reason = run.attrs.get("stop_reason", "completed")
        if reason != "completed":
            logger.warning(
                "run %s stopped early with reason %r, so it may lack late times "
                "or contain diverged values",
                name,
                reason,
            )


def _load_run(name: str, run: object) -> xr.Dataset:
    """Return a dataset as it is, or open the run file at a path."""
    if isinstance(run, xr.Dataset):
        return run
    if isinstance(run, str | os.PathLike):
        return open_run(run)
    raise TypeError(
        f"{name}={run!r:.60} is invalid: pass an xarray.Dataset from pdeflow or "
        "the path of a run file"
    )


def _check_labels(labels: object) -> tuple[str, str]:
    if (
        not isinstance(labels, tuple | list)
        or len(labels) != 2
        or not all(isinstance(label, str) and label for label in labels)
    ):
        raise ValueError(
            f"labels={labels!r:.60} is invalid: pass two names, such as "
            "('PDE', 'particles')"
        )
    return labels[0], labels[1]


def _describe(run: xr.Dataset) -> str:
    kind = run.attrs.get("kind", "pde")
    details = ", ".join(
        f"{key}={run.attrs[key]}"
        for key in ("d", "d_H", "cells", "m", "seed")
        if key in run.attrs
    )
    return f"{kind} ({details})"


def plot_comparison(
    run_a: xr.Dataset | str | os.PathLike,
    run_b: xr.Dataset | str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    labels: tuple[str, str] = ("a", "b"),
    snapshots: int = 4,
    rtol: float = DEFAULT_TIME_RTOL,
    atol: float = DEFAULT_TIME_ATOL,
) -> Path:
    """Draw two runs over each other and write the figure.

    Panels: tau_plus and tau_minus of both runs at up to ``snapshots`` common
    times, and the masses of both runs against time. Every argument is checked
    before anything is drawn or written.

    Parameters
    ----------
    run_a, run_b : xarray.Dataset, str or path-like
        The runs, in the layout of ``pdeflow.solve``, or paths of run files.
    out_path : str or path-like
        Image file; its suffix (.png, .pdf, .svg, .jpg or .jpeg) sets the format.
    labels : tuple of str
        Legend names of run_a and run_b.
    snapshots : int
        Number of common times for the density panels, >= 1.
    rtol, atol : float
        Two saved times match when they differ by at most ``atol + rtol |t|``,
        as in ``compare``.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        When the runs share no saved time, or labels, snapshots, rtol or atol
        is invalid.
    OSError
        When out_path has no image suffix or cannot be written.
    """
    run_a, run_b = _load_run("run_a", run_a), _load_run("run_b", run_b)
    labels = _check_labels(labels)
    snapshots = check_count("snapshots", snapshots, 1)
    target = check_image_path(out_path, example="comparison.png")
    index_a, index_b = match_times(run_a.time.values, run_b.time.values, rtol, atol)
    _require_common_times(index_a, rtol, atol)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    picks = np.unique(
        np.linspace(0, index_a.size - 1, min(snapshots, index_a.size)).astype(int)
    )
    edges_a, edges_b = _edges(run_a), _edges(run_b)
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5), constrained_layout=True)
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, picks.size))
    for axis, side in zip(axes[:2], ("plus", "minus"), strict=True):
        for colour, pick in zip(colours, picks, strict=True):
            # Matched times may differ within the tolerance, so each run's
            # curve is labelled with its own time.
            t_a = float(run_a.time.values[index_a[pick]])
            t_b = float(run_b.time.values[index_b[pick]])
            axis.stairs(
                run_a[f"tau_{side}"].values[index_a[pick]],
                edges_a,
                color=colour,
                label=f"{labels[0]}, t = {t_a:.3g}",
            )
            axis.stairs(
                run_b[f"tau_{side}"].values[index_b[pick]],
                edges_b,
                color=colour,
                linestyle="--",
                label=f"{labels[1]}, t = {t_b:.3g}",
            )
        axis.set_xlim(0.0, 0.5 * np.pi)
        axis.set_xlabel("angle to H, theta (rad)")
        axis.set_ylabel(f"density of tau_{side} (1/rad)")
        axis.legend(fontsize="x-small")
    mass_axis = axes[2]
    for side, colour in (("plus", "tab:blue"), ("minus", "tab:orange")):
        mass_axis.plot(
            run_a.time.values,
            run_a[f"mass_{side}"].values,
            color=colour,
            label=f"mass of tau_{side}, {labels[0]}",
        )
        mass_axis.plot(
            run_b.time.values,
            run_b[f"mass_{side}"].values,
            color=colour,
            linestyle="--",
            marker=".",
            label=f"mass of tau_{side}, {labels[1]}",
        )
    mass_axis.set_xlabel("time of the gradient flow, t (1)")
    mass_axis.set_ylabel("mass (1)")
    mass_axis.legend(fontsize="small")
    figure.savefig(target, dpi=120)
    plt.close(figure)
    return target
