"""Run datasets: construction with units and metadata, and NetCDF files.

Files are written to a temporary file in the target folder and renamed into
place, so a failed or interrupted write never leaves a partial file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import xarray as xr

from .checks import check_input_file
from .diagnostics import SCALARS
from .mesh import Mesh
from .problem import Problem
from .version import package_version

REQUIRED_VARIABLES = (
    "tau_plus",
    "tau_minus",
    "mass_plus",
    "mass_minus",
    "loss",
    "w2_plus",
    "w2_minus",
    "predictor",
    "theta_edges",
)


@dataclass
class Record:
    """Saved states and diagnostics of a run, appended at each save time.

    ``build_dataset`` turns a record into a run dataset; the PDE solver and the
    particle baselines fill it the same way.
    """

    times: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    tau_plus: list[np.ndarray] = field(default_factory=list)
    tau_minus: list[np.ndarray] = field(default_factory=list)
    predictor: list[np.ndarray] = field(default_factory=list)
    G: list[np.ndarray] = field(default_factory=list)
    V: list[np.ndarray] = field(default_factory=list)
    scalars: dict[str, list[float]] = field(
        default_factory=lambda: {name: [] for name in SCALARS}
    )


def build_dataset(
    record: Record, problem: Problem, mesh: Mesh, phi_grid: np.ndarray, meta: dict
) -> xr.Dataset:
    """Assemble the saved states of a run into a self-describing dataset."""
    time_attrs = {"long_name": "time of the mean-field gradient flow", "units": "1"}
    coords = {
        "time": ("time", np.asarray(record.times, dtype=float), time_attrs),
        "theta": (
            "theta",
            mesh.centres,
            {"long_name": "cell centre angle to H", "units": "rad"},
        ),
        "phi": ("phi", phi_grid, {"long_name": "input angle to H", "units": "rad"}),
    }
    density_attrs = {"units": "1/rad"}
    variables = {
        "tau_plus": (
            ("time", "theta"),
            np.array(record.tau_plus).reshape(-1, mesh.cells),
            {"long_name": "density of tau_plus (neurons with a > 0)", **density_attrs},
        ),
        "tau_minus": (
            ("time", "theta"),
            np.array(record.tau_minus).reshape(-1, mesh.cells),
            {"long_name": "density of tau_minus (neurons with a < 0)", **density_attrs},
        ),
        "predictor": (
            ("time", "phi"),
            np.array(record.predictor).reshape(-1, phi_grid.size),
            {"long_name": "predictor F(phi) on the unit sphere", "units": "1"},
        ),
        "steps": (
            "time",
            np.asarray(record.steps, dtype=np.int64),
            {"long_name": "time steps taken", "units": "1"},
        ),
        "theta_edges": (
            "face",
            mesh.edges,
            {"long_name": "cell faces", "units": "rad"},
        ),
    }
    for name, (long_name, units) in SCALARS.items():
        variables[name] = (
            "time",
            np.asarray(record.scalars[name], dtype=float),
            {"long_name": long_name, "units": units},
        )
    if record.G:
        variables["G"] = (
            ("time", "theta"),
            np.array(record.G),
            {"long_name": "reaction field G at cell centres", "units": "1/time"},
        )
        variables["V"] = (
            ("time", "theta"),
            np.array(record.V),
            {
                "long_name": "velocity V = dG/dtheta at cell centres",
                "units": "rad/time",
            },
        )

    attrs = {
        "title": "pdeflow run of the reduced mean-field PDE",
        "source": "Hajjar and Chizat (2023), On the symmetries in the dynamics "
        "of wide two-layer neural networks",
        "d": problem.d,
        "d_H": problem.d_H,
        "d_perp": problem.d_perp,
        "alpha": problem.alpha,
        "initial_loss": problem.initial_loss,
        "mesh": mesh.kind,
        "cells": mesh.cells,
        "pdeflow_version": package_version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **meta,
    }
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def write_netcdf(dataset: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a run to NetCDF atomically: temporary file, then rename.

    Parameters
    ----------
    dataset : xarray.Dataset
        The run.
    path : str or path-like
        Target file; its folder must exist and be writable.

    Returns
    -------
    Path
        The written file.
    """
    # A symbolic link is written through: the rename replaces its target.
    target = Path(os.path.realpath(path))
    check_writable(target)
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise OSError(
            f"cannot create a file next to {str(path)!r} ({error.strerror}): "
            "choose another output path"
        ) from None
    try:
        os.close(handle)
        dataset.to_netcdf(temporary, engine="h5netcdf")
        apply_umask(temporary)
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        reason = error.strerror or str(error)
        raise OSError(
            f"writing {str(path)!r} failed ({reason}): free space or choose "
            "another output path, then run again"
        ) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def apply_umask(path: str | os.PathLike) -> None:
    """Give a file the permissions a plain open() would under the current umask.

    ``tempfile.mkstemp`` creates files readable by their owner only, which
    would hide runs from other users once renamed into place.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def check_writable(path: str | os.PathLike, example: str = "run.nc") -> None:
    """Raise OSError with the fix when a file cannot be created at ``path``.

    ``example`` is the file name that the messages suggest instead; when
    ``path`` is a folder, they suggest ``example`` inside it.
    """
    target = Path(os.path.realpath(path))
    folder = target.parent
    if target.is_dir():
        inside = str(Path(path) / example)
        raise OSError(
            f"output path {str(path)!r} is a folder, not a file: pass a file "
            f"name such as {inside!r}"
        )
    if target.exists() and not target.is_file():
        raise OSError(
            f"output path {str(path)!r} is a device, pipe or socket, not a file: "
            f"pass a file name such as {example}"
        )
    if folder.exists() and not folder.is_dir():
        raise OSError(
            f"output path {str(path)!r} is inside {str(folder)!r}, which is a file: "
            "choose another path"
        )
    if not folder.is_dir():
        raise OSError(
            f"output folder {str(folder)!r} does not exist: create it or choose "
            "another path"
        )
    if not os.access(folder, os.W_OK):
        raise OSError(
            f"output folder {str(folder)!r} is not writable: choose another path"
        )
    # The temporary file ".NAME.xxxxxxxx.tmp" is 14 bytes longer than NAME.
    longest = os.pathconf(folder, "PC_NAME_MAX") - 14
    if len(os.fsencode(target.name)) > longest:
        raise OSError(
            f"file name {target.name[:20]!r}... of {str(path)!r} is too long: "
            f"pass a name of at most {longest} bytes"
        )


IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def check_image_path(path: str | os.PathLike, example: str = "fig.png") -> Path:
    """Check that a figure can be written at ``path``; return it as a Path.

    ``example`` is the file name that the messages suggest instead.

    Raises
    ------
    OSError
        When the suffix names no image format that matplotlib writes here, or
        the file cannot be created.
    """
    image = Path(path)
    if image.suffix.lower() not in IMAGE_SUFFIXES:
        raise OSError(
            f"image path {str(path)!r} has no known suffix: use .png, .pdf, .svg "
            "or .jpg"
        )
    check_writable(image, example=example)
    return image


def check_distinct(outputs: dict[str, object], inputs: dict[str, object]) -> None:
    """Raise OSError when two outputs, or an output and an input, are one file.

    Parameters
    ----------
    outputs, inputs : dict
        Option names (such as ``"--out"``) and their paths; None entries are
        skipped.
    """
    seen: dict[str, str] = {}
    for option, path in {**inputs, **outputs}.items():
        if path is None:
            continue
        key = os.path.realpath(path)
        if key in seen and (option in outputs or seen[key] in outputs):
            raise OSError(
                f"{option} {str(path)!r} is the same file as {seen[key]}: "
                "choose another name"
            )
        seen[key] = option


def open_run(path: str | os.PathLike) -> xr.Dataset:
    """Open a run file written by pdeflow and check its layout.

    Raises
    ------
    OSError
        When the file is missing, unreadable or not NetCDF, lacks the variables
        of a pdeflow run, or is damaged (a theta_edges size other than
        cells + 1, or faces or times that are nan, inf or not strictly
        increasing).
    """
    source = check_input_file(path, "run file", "a pdeflow NetCDF file")
    try:
        dataset = xr.open_dataset(source, engine="h5netcdf").load()
    except Exception as error:  # h5py and xarray raise several types for bad files
        raise OSError(
            f"run file {str(source)!r} could not be read as NetCDF "
            f"({type(error).__name__}): "
            "pass a file written by 'pdeflow solve --out'"
        ) from error
    missing = [name for name in REQUIRED_VARIABLES if name not in dataset]
    if missing or "theta" not in dataset.dims or "time" not in dataset.dims:
        raise OSError(
            f"run file {str(source)!r} is not a pdeflow run: missing "
            f"{', '.join(missing) or 'dimensions time/theta'}"
        )
    if dataset.sizes["time"] == 0:
        raise OSError(
            f"run file {str(source)!r} contains no saved time: pass a run that "
            "saved at least its start"
        )
    _check_consistent(source, dataset)
    return dataset


def _check_consistent(source: Path, dataset: xr.Dataset) -> None:
    """Raise OSError unless the faces and times of a run are usable."""
    faces = dataset["theta_edges"].size
    cells = dataset.sizes["theta"]
    if dataset["theta_edges"].ndim != 1 or faces != cells + 1:
        raise OSError(
            f"run file {str(source)!r} is damaged: theta_edges has {faces} "
            f"values but theta has {cells} cells, which need {cells + 1} faces"
        )
    # compare interpolates the predictor in phi, so its grid must increase too.
    for name in ("theta_edges", "time", "phi"):
        if name in dataset.variables:
            values = np.asarray(dataset[name].values, dtype=float)
            _check_increasing(source, name, values)


def _check_increasing(source: Path, name: str, values: np.ndarray) -> None:
    if not np.all(np.isfinite(values)):
        raise OSError(
            f"run file {str(source)!r} is damaged: {name} contains nan or inf"
        )
    steps = np.diff(values)
    if np.any(steps <= 0.0):
        i = int(np.argmax(steps <= 0.0))
        raise OSError(
            f"run file {str(source)!r} is damaged: {name} is not strictly "
            f"increasing ({float(values[i])!r} at index {i}, then "
            f"{float(values[i + 1])!r})"
        )
