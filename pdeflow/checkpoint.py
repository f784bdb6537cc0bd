"""Checkpoints: the state of an unfinished run, and resuming from it.

A checkpoint is a run dataset (the saves made so far, in the layout of
:func:`pdeflow.solve`) plus the current densities ``state_tau_plus`` and
``state_tau_minus``, the save times of the run and, as attributes, the time, the
step count and every setting. Resuming rebuilds the kernel tables, which are
deterministic, and continues the same sequence of steps, so a resumed run
matches an uninterrupted one to the last bit.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from .diagnostics import SCALARS
from .initial import PAPER_LABEL
from .mesh import Mesh
from .output import Record, build_dataset, open_run, write_netcdf
from .problem import Problem

if TYPE_CHECKING:
    from .solver import Settings

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


def write_checkpoint(
    path: str | os.PathLike,
    problem: Problem,
    mesh: Mesh,
    settings: Settings,
    record: Record,
    phi_grid: np.ndarray,
    state: tuple[np.ndarray, np.ndarray],
    t: float,
    steps: int,
    reason: str,
) -> Path:
    """Write the state of a run atomically to ``path``; return the path."""
    meta = settings.attributes() | {
        "steps": steps,
        "stop_reason": reason,
        "checkpoint_format": FORMAT_VERSION,
        "state_time": float(t),
        "state_steps": int(steps),
    }
    dataset = build_dataset(record, problem, mesh, phi_grid, meta)
    density = {"units": "1/rad"}
    dataset["state_tau_plus"] = ("theta", state[0], density)
    dataset["state_tau_minus"] = ("theta", state[1], density)
    dataset["save_times"] = ("save", settings.save_times, {"units": "1"})
    return write_netcdf(dataset, path)


def check_checkpoint_path(path: str | os.PathLike) -> None:
    """Raise OSError when ``path`` is a file other than a pdeflow checkpoint.

    A completed run removes its checkpoint, so any other file there would be
    deleted.
    """
    target = Path(path)
    if not target.is_file():
        return
    try:
        with xr.open_dataset(target, engine="h5netcdf") as dataset:
            ours = "checkpoint_format" in dataset.attrs
    except Exception:  # not NetCDF at all: h5py raises several types
        ours = False
    if not ours:
        raise OSError(
            f"checkpoint path {str(path)!r} contains another file, which a "
            "completed run would delete: choose another --checkpoint path"
        )


def _record_from(dataset: xr.Dataset) -> Record:
    record = Record()
    record.times = [float(value) for value in dataset.time.values]
    record.steps = [int(value) for value in dataset.steps.values]
    record.tau_plus = list(dataset.tau_plus.values)
    record.tau_minus = list(dataset.tau_minus.values)
    record.predictor = list(dataset.predictor.values)
    if "G" in dataset:
        record.G = list(dataset.G.values)
        record.V = list(dataset.V.values)
    record.scalars = {name: list(dataset[name].values) for name in SCALARS}
    return record


def _settings_from(dataset: xr.Dataset) -> Settings:
    from .solver import Settings

    attrs = dataset.attrs
    max_steps = int(attrs["max_steps"])
    return Settings(
        t_end=float(attrs["t_end"]),
        save_times=np.asarray(dataset.save_times.values, dtype=float),
        cfl=float(attrs["cfl"]),
        dt_max=float(attrs["dt_max"]),
        scheme=str(attrs["scheme"]),
        limiter=str(attrs["limiter"]) if attrs["scheme"] == "muscl" else "mc",
        n_phi=int(attrs["n_phi"]),
        store_fields=bool(int(attrs["store_fields"])),
        max_steps=None if max_steps < 0 else max_steps,
        initial=str(attrs.get("initial", PAPER_LABEL)),
    )


def _check_checkpoint(dataset: xr.Dataset, path: str | os.PathLike) -> None:
    """Raise OSError naming the problem when a checkpoint is damaged or foreign."""

    def fail(problem: str) -> None:
        raise OSError(
            f"checkpoint {str(path)!r} is damaged ({problem}): rerun "
            "'pdeflow solve' or pass an undamaged checkpoint"
        )

    version = dataset.attrs.get("checkpoint_format")
    if version != FORMAT_VERSION:
        fail(f"format {version}, expected {FORMAT_VERSION}")
    needed = ("state_tau_minus", "save_times", "theta_edges")
    missing = [name for name in needed if name not in dataset]
    missing += [
        key
        for key in (
            "state_time",
            "state_steps",
            "t_end",
            "d",
            "d_H",
            "scheme",
            "n_phi",
            "cfl",
            "dt_max",
            "max_steps",
            "store_fields",
            "mesh",
        )
        if key not in dataset.attrs
    ]
    if missing:
        fail(f"missing {', '.join(missing)}")
    cells = dataset.sizes["theta"]
    for name in ("state_tau_plus", "state_tau_minus"):
        state = np.asarray(dataset[name].values, dtype=float)
        if state.shape != (cells,) or dataset.theta_edges.size != cells + 1:
            fail(f"{name} does not match the mesh of {cells} cells")
        if not np.all(np.isfinite(state)) or state.min() < 0.0:
            fail(f"{name} has non-finite or negative values")
    t = float(dataset.attrs["state_time"])
    t_end = float(dataset.attrs["t_end"])
    if not 0.0 <= t <= t_end:
        fail(f"state_time={t} outside [0, t_end={t_end}]")
    _check_settings(dataset, t_end, fail)


def _check_settings(dataset: xr.Dataset, t_end: float, fail) -> None:
    """Check the solver settings of a checkpoint against their valid ranges."""
    attrs = dataset.attrs
    cfl, dt_max = float(attrs["cfl"]), float(attrs["dt_max"])
    if not 0.0 < cfl <= 1.0:
        fail(f"cfl={cfl} outside (0, 1]")
    if not dt_max > 0.0:
        fail(f"dt_max={dt_max} is not > 0")
    if int(attrs["state_steps"]) < 0:
        fail(f"state_steps={attrs['state_steps']} is negative")
    times = np.asarray(dataset.save_times.values, dtype=float)
    if times.size == 0 or times.min() < 0.0 or times.max() > t_end:
        fail(f"save_times outside [0, t_end={t_end}]")


def resume(
    path: str | os.PathLike,
    *,
    max_steps: int | None = None,
    progress: bool | None = False,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: float | None = None,
    keep_checkpoint: bool = False,
) -> xr.Dataset:
    """Continue a run from a checkpoint written by :func:`pdeflow.solve`.

    Parameters
    ----------
    path : path
        Checkpoint file.
    max_steps : int, optional
        New bound on the total step count; by default the run has none, even
        when the interrupted run stopped at its own max_steps.
    progress : bool or None
        Show a progress bar; None shows it only on a terminal.
    checkpoint : path, optional
        Where to write later checkpoints; default ``path`` itself.
    checkpoint_every : float, optional
        Wall-clock seconds between periodic checkpoints.
    keep_checkpoint : bool
        Leave the checkpoint in place when the run completes (see
        :func:`pdeflow.solve`).

    Returns
    -------
    xarray.Dataset
        The whole run, saves from before the checkpoint included.
    """
    from .solver import execute

    dataset = open_run(path)
    if "state_tau_plus" not in dataset or "checkpoint_format" not in dataset.attrs:
        raise OSError(
            f"{str(path)!r} is a run file, not a checkpoint: pass the file that "
            "'pdeflow solve' wrote next to --out when the run stopped early"
        )
    _check_checkpoint(dataset, path)
    problem = Problem(int(dataset.attrs["d"]), int(dataset.attrs["d_H"]))
    mesh = Mesh(dataset.theta_edges.values, kind=str(dataset.attrs["mesh"]))
    settings = _settings_from(dataset)
    settings = type(settings)(**{**settings.__dict__, "max_steps": max_steps})
    state = (dataset.state_tau_plus.values, dataset.state_tau_minus.values)
    t = float(dataset.attrs["state_time"])
    steps = int(dataset.attrs["state_steps"])
    logger.info("resuming from t=%.6g after %d steps", t, steps)

    target = path if checkpoint is None else checkpoint
    check_checkpoint_path(target)
    return execute(
        problem,
        mesh,
        settings,
        state,
        _record_from(dataset),
        t,
        steps,
        progress,
        target,
        checkpoint_every,
        keep_checkpoint,
    )
