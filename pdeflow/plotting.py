"""Figures of a run: the two densities at several times and the distances to the limit.

The layout follows the three panels of Figure 3 of Hajjar and Chizat (2023):
tau_plus and tau_minus over theta at a few times, and on log-log axes against t
the distance of each mass to its expected limit (alpha and 0) and the W2
distances of the normalised measures to delta_0 and delta_(pi/2).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

PLUS_COLOUR = "tab:blue"
MINUS_COLOUR = "tab:orange"


def snapshot_indices(times: np.ndarray, count: int = 6) -> list[int]:
    """Pick up to ``count`` saved times spread evenly in log t, with 0 and the last."""
    positive = np.flatnonzero(times > 0.0)
    picks = [0] if times.size else []
    if positive.size:
        # Early saves barely differ from t = 0, so the picks start at t_end / 300.
        first = max(times[positive[0]], times[-1] / 300.0)
        targets = np.geomspace(first, times[-1], max(count - 1, 1))
        picks += [
            int(positive[np.argmin(np.abs(np.log(times[positive] / t)))])
            for t in targets
        ]
    return sorted(set(picks))


def _plot_densities(
    axis: plt.Axes, run: xr.Dataset, name: str, indices: list[int]
) -> None:
    edges = run["theta_edges"].values
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, len(indices)))
    for colour, index in zip(colours, indices, strict=True):
        density = run[name].values[index]
        axis.stairs(
            density, edges, color=colour, label=f"t = {run.time.values[index]:.4g}"
        )
    top = float(run[name].values[indices].max())
    if top > 0.0:
        axis.set_yscale("log")
        axis.set_ylim(max(top * 1e-8, 1e-12), top * 2.0)
    else:
        axis.text(0.5, 0.5, f"{name} has no mass", transform=axis.transAxes)
    set_angle_axis(axis, run[name].values[indices], edges)
    axis.set_ylabel(f"density of {name} (1/rad)")
    axis.legend(fontsize="small")


def set_angle_axis(axis: plt.Axes, densities: np.ndarray, edges: np.ndarray) -> None:
    """Label the theta axis; make it logarithmic when the measure sits near 0.

    ``densities`` has shape (snapshots, cells) and ``edges`` shape (cells + 1,).
    A linear axis would squeeze a narrow measure into its first pixels.
    """
    if _concentrated_near_zero(densities, edges):
        axis.set_xscale("log")
        axis.set_xlim(edges[1], 0.5 * np.pi)
    else:
        axis.set_xlim(0.0, 0.5 * np.pi)
    axis.set_xlabel("angle to H, theta (rad)")


def _concentrated_near_zero(densities: np.ndarray, edges: np.ndarray) -> bool:
    """Tell whether 99 % of each density's mass lies below 1/20 of pi/2.

    ``densities`` has shape (snapshots, cells), per radian.
    """
    masses = densities * np.diff(edges)
    near = edges[1:] <= 0.05 * 0.5 * np.pi
    total = masses.sum(axis=1)
    if np.any(total <= 0.0):
        return False
    return bool(np.all(masses[:, near].sum(axis=1) >= 0.99 * total))


def _plot_distances(axis: plt.Axes, run: xr.Dataset) -> None:
    time = run.time.values
    keep = time > 0.0
    alpha = float(run.attrs["alpha"])
    curves = [
        (
            np.abs(run.mass_plus.values - alpha),
            PLUS_COLOUR,
            "--",
            "|mass of tau_plus - alpha|",
        ),
        (run.mass_minus.values, MINUS_COLOUR, "--", "mass of tau_minus"),
        (
            run.w2_plus.values,
            PLUS_COLOUR,
            "-",
            "W2(normalised tau_plus, delta_0) (rad)",
        ),
        (
            run.w2_minus.values,
            MINUS_COLOUR,
            "-",
            "W2(normalised tau_minus, delta_pi/2) (rad)",
        ),
    ]
    for values, colour, style, label in curves:
        axis.loglog(
            time[keep], values[keep], color=colour, linestyle=style, label=label
        )
    axis.set_xlabel("time t of the gradient flow (dimensionless)")
    axis.set_ylabel("distance to the limit: masses (dimensionless), W2 (rad)")
    axis.legend(fontsize="small")
    axis.grid(True, which="both", alpha=0.3)
    plain_log_ticks(axis.xaxis)
    plain_log_ticks(axis.yaxis)


def plain_log_ticks(axis: matplotlib.axis.Axis) -> None:
    """Label a log axis spanning under two decades at 1, 2 and 5 x 10^k.

    matplotlib labels the minor ticks of such short axes too, in scientific
    notation, and the labels run into each other.
    """
    low, high = axis.get_view_interval()
    if low <= 0.0 or high / low >= 100.0:
        return
    axis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def plot_run(run: xr.Dataset, out: str | os.PathLike, snapshots: int = 6) -> Path:
    """Draw the densities and the distance panel of a run and save them.

    Parameters
    ----------
    run : xarray.Dataset
        A run from :func:`pdeflow.solve` or :func:`pdeflow.open_run`.
    out : str or path-like
        Image file; the suffix picks the format (png, pdf, svg).
    snapshots : int
        Number of times drawn in the density panels.

    Returns
    -------
    Path
        The written image.
    """
    indices = snapshot_indices(run.time.values, snapshots)
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.8), layout="constrained")
    _plot_densities(axes[0], run, "tau_plus", indices)
    _plot_densities(axes[1], run, "tau_minus", indices)
    _plot_distances(axes[2], run)
    figure.suptitle(
        f"d = {run.attrs['d']}, d_H = {run.attrs['d_H']}, "
        f"{run.attrs.get('cells', run.sizes['theta'])} cells, "
        f"{run.attrs.get('scheme', '')} (alpha = {float(run.attrs['alpha']):.4g})"
    )
    target = Path(out)
    figure.savefig(target, dpi=120)
    plt.close(figure)
    return target


def plot_convergence(studies: list, out: str | os.PathLike) -> Path:
    """Draw the level differences of convergence studies on log-log axes.

    Parameters
    ----------
    studies : list of pdeflow.convergence.Study
        Space, time and quadrature studies.
    out : str or path-like
        Image file.

    Returns
    -------
    Path
        The written image.
    """
    labels = {
        "cells": "cells N",
        "dt_max": "time step bound dt_max (time units)",
        "n_phi": "phi nodes n_phi",
    }
    parameters = [p for p in labels if any(s.parameter == p for s in studies)]
    figure, axes = plt.subplots(
        1, len(parameters), figsize=(5.5 * len(parameters), 4.5), layout="constrained"
    )
    axes = np.atleast_1d(axes)
    for axis, parameter in zip(axes, parameters, strict=True):
        for study in (s for s in studies if s.parameter == parameter):
            values = np.array(study.differences["mass_plus"])
            keep = values > 0.0
            order = study.orders["mass_plus"]
            axis.loglog(
                np.array(study.levels)[keep],
                values[keep],
                "o-",
                label=f"{study.name} (order {order:.2f})",
            )
        axis.set_xlabel(labels[parameter])
        axis.set_ylabel("|mass_plus(level) - mass_plus(next level)| (1)")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="small")
    target = Path(out)
    figure.savefig(target, dpi=110)
    plt.close(figure)
    return target
