"""Animation of tau_plus and tau_minus over the saved times of a run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib import animation  # noqa: E402

from .output import check_writable  # noqa: E402
from .plotting import MINUS_COLOUR, PLUS_COLOUR, set_angle_axis  # noqa: E402

SUFFIXES = (".gif", ".mp4")
# Densities below this fraction of the maximum are drawn at the bottom of the
# log axis, because zero has no place on it.
FLOOR_FRACTION = 1e-8


def frame_indices(times: np.ndarray, max_frames: int | None) -> np.ndarray:
    """Pick up to ``max_frames`` save indices spread evenly, first and last kept."""
    count = times.size
    if max_frames is None or max_frames >= count:
        return np.arange(count)
    if max_frames < 2:
        raise ValueError(f"max_frames={max_frames} is invalid: pass at least 2")
    return np.unique(np.linspace(0, count - 1, max_frames).round().astype(int))


def _writer(suffix: str, fps: int) -> animation.AbstractMovieWriter:
    if suffix == ".gif":
        return animation.PillowWriter(fps=fps)
    if suffix == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise OSError(
                "writing .mp4 needs ffmpeg, which was not found on PATH: install "
                "ffmpeg or write a .gif"
            )
        return animation.FFMpegWriter(fps=fps)
    raise ValueError(
        f"animation suffix {suffix!r} is not supported: use .gif (or .mp4 with "
        "ffmpeg installed)"
    )


def animate_run(
    run: xr.Dataset,
    out: str | os.PathLike,
    fps: int = 10,
    max_frames: int | None = None,
) -> Path:
    """Write an animation of tau_plus and tau_minus, one frame per saved time.

    Parameters
    ----------
    run : xarray.Dataset
        A run of :func:`pdeflow.solve` or :func:`pdeflow.open_run`, with
        ``tau_plus`` and ``tau_minus`` of shape (time, theta) in 1/rad and the
        cell faces ``theta_edges`` of shape (theta + 1,) in rad.
    out : str or path-like
        ``.gif`` (Pillow) or ``.mp4`` (needs ffmpeg on PATH). The file is written
        to a temporary name and renamed, so a failure leaves no partial file.
    fps : int
        Frames per second, >= 1.
    max_frames : int, optional
        Draw at most this many saved times, spread evenly; default all.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        On an unknown suffix, ``fps < 1`` or ``max_frames < 2``.
    OSError
        When ffmpeg is missing for .mp4 or the folder is not writable.
    """
    target = Path(out)
    suffix = target.suffix.lower()
    if isinstance(fps, bool) or not isinstance(fps, int) or fps < 1:
        raise ValueError(f"fps={fps!r} is invalid: pass an integer >= 1")
    writer = _writer(suffix, fps)
    check_writable(target, example="run.gif")
    indices = frame_indices(run.time.values, max_frames)

    figure, update = _draw(run, indices)
    movie = animation.FuncAnimation(
        figure, update, frames=len(indices), blit=False, repeat=False
    )
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.stem}.", suffix=suffix
    )
    os.close(handle)
    try:
        movie.save(temporary, writer=writer)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        plt.close(figure)
    return target


def _draw(run: xr.Dataset, indices: np.ndarray):
    """Build the figure and the function that draws frame ``k``."""
    edges = run["theta_edges"].values
    times = run.time.values
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    steps = {}
    for axis, name, colour in (
        (axes[0], "tau_plus", PLUS_COLOUR),
        (axes[1], "tau_minus", MINUS_COLOUR),
    ):
        values = run[name].values[indices]
        top = float(values.max()) if values.max() > 0.0 else 1.0  # 1: no mass
        floor = max(top * FLOOR_FRACTION, 1e-300)
        steps[name] = (
            axis.stairs(np.maximum(values[0], floor), edges, color=colour),
            floor,
        )
        axis.set_yscale("log")
        axis.set_ylim(floor, top * 2.0)
        set_angle_axis(axis, values, edges)
        axis.set_ylabel(f"density of {name} (1/rad)")
    title = figure.suptitle("")
    attrs = run.attrs

    def update(frame: int) -> list:
        index = int(indices[frame])
        for name, (patch, floor) in steps.items():
            patch.set_data(np.maximum(run[name].values[index], floor))
        title.set_text(
            f"d = {attrs.get('d')}, d_H = {attrs.get('d_H')}: "
            f"t = {times[index]:.4g} (time of the gradient flow, dimensionless), "
            f"masses {float(run.mass_plus[index]):.4f} and "
            f"{float(run.mass_minus[index]):.4f}"
        )
        return [patch for patch, _ in steps.values()] + [title]

    return figure, update
