"""Parameter sweeps: many runs on a Dask cluster, one NetCDF file per point.

A sweep file is a run configuration (see :mod:`pdeflow.config`) whose
``[sweep]`` table gives lists of values; the points are their cartesian
product. Each point is written to ``<folder>/<key>-<value>_....nc`` together
with a manifest ``sweep.json``, and a point whose file already holds the same
completed run is skipped, so an interrupted sweep restarts where it stopped.
:func:`open_sweep` combines the files into one dataset with the swept keys as
dimensions.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .config import (
    CONFIG_ATTRIBUTE,
    ConfigError,
    RunConfig,
    check_value,
    check_values,
    merge,
    read_toml,
    run_config,
)
from .output import apply_umask, open_run, write_netcdf

logger = logging.getLogger(__name__)

MANIFEST = "sweep.json"
# Each point is a run and a file, and read_sweep checks every point up front;
# larger grids belong in several sweeps.
MAX_POINTS = 10_000
# Attributes that differ between points; open_sweep turns them into variables.
PER_POINT_ATTRIBUTES = {
    "alpha": "alpha",
    "d_perp": "d_perp",
    "initial_loss": "initial_loss",
    "steps": "total_steps",
    "wall_seconds": "wall_seconds",
    "kernel_build_seconds": "kernel_build_seconds",
    "stop_reason": "stop_reason",
}


class SweepError(RuntimeError):
    """One or more points of a sweep failed; the message lists them."""


@dataclass(frozen=True)
class Point:
    """One run of a sweep: its swept values and its full configuration."""

    values: dict[str, Any]
    config: RunConfig

    @property
    def path(self) -> Path:
        """NetCDF file of the point."""
        return Path(self.config.out)


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep file.

    Attributes
    ----------
    folder : Path
        Output folder of the point files and the manifest.
    parameters : dict of str to list
        Swept keys and their values, in file order.
    fixed : dict
        Run options shared by all points.
    points : list of Point
        The cartesian product of ``parameters``, last key fastest.
    """

    folder: Path
    parameters: dict[str, list[Any]]
    fixed: dict[str, Any]
    points: list[Point]


@dataclass
class SweepReport:
    """Point files computed, skipped as already complete, and failed."""

    computed: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)


def point_name(values: dict[str, Any]) -> str:
    """Return the file name of a point, such as ``d_H-3_scheme-muscl.nc``."""
    parts = []
    for key, value in values.items():
        text = repr(value) if isinstance(value, float) else str(value)
        parts.append(f"{key}-{text}")
    return "_".join(parts) + ".nc"


def read_sweep(path: str | os.PathLike, folder: str | None = None) -> Sweep:
    """Read and check a sweep file; check every point's configuration.

    Parameters
    ----------
    path : str or path-like
        TOML file: run options as top-level keys, the swept keys as lists in a
        ``[sweep]`` table and optionally ``folder``, the output folder (default:
        the file name without its suffix).
    folder : str, optional
        Output folder that replaces the file's ``folder``.

    Raises
    ------
    ConfigError
        When a key or value is invalid, including in any single point.
    """
    where = str(path)
    data = read_toml(path)
    table = data.pop("sweep", None)
    folder_value = data.pop("folder", None)
    if folder_value is not None and not isinstance(folder_value, str):
        raise ConfigError(
            f"{where}: folder = {folder_value!r} is not a string: pass a folder "
            'name such as "results"'
        )
    for key in ("out", "plot"):
        if key in data:
            raise ConfigError(
                f"{where}: {key} = {data[key]!r} cannot be set in a sweep, because "
                "each point gets its own file: remove it and set folder"
            )
    if not isinstance(table, dict) or not table:
        raise ConfigError(
            f"{where}: no [sweep] table: add one with lists of values, such as "
            "[sweep] d_H = [1, 2, 3]"
        )
    fixed = check_values(data, where)
    parameters = _check_sweep_table(table, fixed, f"{where} [sweep]")
    count = math.prod(len(values) for values in parameters.values())
    if count > MAX_POINTS:
        raise ConfigError(
            f"{where}: the [sweep] table makes {count} points: split it into "
            f"sweeps of at most {MAX_POINTS} points"
        )

    target = Path(folder or folder_value or Path(path).stem)
    if target.exists() and not target.is_dir():
        raise ConfigError(
            f"{where}: folder {str(target)!r} is a file: choose another folder"
        )
    points = []
    for combination in itertools.product(*parameters.values()):
        values = dict(zip(parameters, combination, strict=True))
        out = {"out": str(target / point_name(values))}
        config = merge((fixed, where), (values, f"{where} [sweep]"), (out, where))
        points.append(Point(values, config))
    return Sweep(target, parameters, fixed, points)


def _check_sweep_table(
    table: dict[str, Any], fixed: dict[str, Any], where: str
) -> dict[str, list[Any]]:
    parameters: dict[str, list[Any]] = {}
    for key, values in table.items():
        if key in ("out", "plot", "save_times"):
            raise ConfigError(
                f"{where}: {key} cannot be swept: set it as a fixed value or remove it"
            )
        if key in fixed:
            raise ConfigError(
                f"{where}: {key} is both fixed and swept: remove one of them"
            )
        if not isinstance(values, list) or not values:
            problem = "is an empty list" if values == [] else "is not a list"
            raise ConfigError(
                f"{where}: {key} = {values!r} {problem}: pass the values to "
                f"sweep as a non-empty list, such as {key} = [...]"
            )
        checked = [check_value(key, value, where) for value in values]
        if len(set(checked)) != len(checked):
            raise ConfigError(
                f"{where}: {key} = {values!r} repeats a value: list each value once"
            )
        parameters[key] = checked
    return parameters


def is_complete(point: Point) -> bool:
    """Tell whether the point's file holds its completed run, same configuration."""
    if not point.path.is_file():
        return False
    try:
        run = open_run(point.path)
    except OSError:
        return False
    return (
        run.attrs.get(CONFIG_ATTRIBUTE) == point.config.to_json()
        and run.attrs.get("stop_reason") == "completed"
    )


def compute_point(config: RunConfig) -> tuple[str, str, float]:
    """Solve one point and write its file; return (file, stop reason, seconds).

    This runs on a Dask worker, so the worker must be able to import pdeflow.
    """
    start = time.perf_counter()
    try:
        run = run_config(config, progress=False)
        write_netcdf(run, config.out)
    except Exception as error:
        # Returned, not raised: run_sweep reports it in one line per point,
        # where a raised error would also print Dask's multi-line block.
        reason = f"{type(error).__name__}: {error}"
        return config.out, reason, time.perf_counter() - start
    return config.out, str(run.attrs["stop_reason"]), time.perf_counter() - start


def require_distributed() -> Any:
    """Import dask.distributed, or raise ImportError naming the extra to install."""
    try:
        import distributed
    except ModuleNotFoundError:
        raise ImportError(
            "sweeps need dask.distributed, which is missing: install it with "
            "pip install 'pdeflow[sweep]'"
        ) from None
    return distributed


@contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """Connect to a scheduler, or start a local cluster on this machine.

    The local cluster runs in this process (threads, in-process transport)
    unless ``workers`` asks for that many worker processes. Its dashboards and
    sockets listen on 127.0.0.1 only, on free ports.
    """
    distributed = require_distributed()
    Client, LocalCluster = distributed.Client, distributed.LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler)
        except (OSError, ValueError, TypeError) as error:
            raise OSError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({error}): pass "
                "the address of a running scheduler, such as tcp://127.0.0.1:8786"
            ) from None
        with client:
            yield client
        return
    if workers is None:
        options = {"n_workers": 1, "processes": False}
    else:
        options = {
            "n_workers": workers,
            "threads_per_worker": 1,
            "processes": True,
            "host": "127.0.0.1",
        }
    # dashboard_address=None still serves the scheduler's HTTP routes on all
    # interfaces at port 8787 (distributed 2026.8), so bind them to loopback.
    loopback = {
        "dashboard_address": "127.0.0.1:0",
        "worker_dashboard_address": "127.0.0.1:0",
    }
    with (
        LocalCluster(silence_logs=logging.WARNING, **loopback, **options) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_sweep(
    sweep: Sweep, scheduler: str | None = None, workers: int | None = None
) -> SweepReport:
    """Compute the points of a sweep that are missing from its folder.

    Parameters
    ----------
    sweep : Sweep
        The sweep, from :func:`read_sweep`.
    scheduler : str, optional
        Address of a running Dask scheduler, such as ``tcp://127.0.0.1:8786``.
        Default: a local cluster started for this sweep.
    workers : int, optional
        Worker processes of the local cluster; default one in-process worker.

    Returns
    -------
    SweepReport
        Files computed now, files skipped because they were complete, and the
        error message of each failed point.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers={workers} is invalid: pass at least 1")
    report = SweepReport()
    pending = []
    for point in sweep.points:
        if is_complete(point):
            report.skipped.append(point.path)
        else:
            pending.append(point)
    logger.info(
        "sweep %s: %d points, %d to compute",
        sweep.folder,
        len(sweep.points),
        len(pending),
    )
    if not pending:
        write_manifest(sweep)
        return report

    as_completed = require_distributed().as_completed

    # The folder is made once a cluster is reached, so that a wrong
    # scheduler address leaves nothing behind.
    with _client(scheduler, workers) as client:
        sweep.folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(pending)
        write_manifest(sweep)
        futures = client.map(
            compute_point, [point.config for point in pending], pure=False
        )
        paths = {
            future.key: point.path
            for future, point in zip(futures, pending, strict=True)
        }
        for future in as_completed(futures):
            path = paths[future.key]
            try:
                _, stop_reason, seconds = future.result()
            except Exception as error:  # a failed point must not stop the others
                stop_reason = f"{type(error).__name__}: {error}"
            if stop_reason != "completed":
                # Reported once, by the caller from report.failed.
                report.failed[path] = stop_reason
                logger.info("point %s failed: %s", path.name, stop_reason)
                continue
            report.computed.append(path)
            logger.info("point %s done in %.2f s", path.name, seconds)
    return report


def _remove_stale_temporaries(pending: list[Point]) -> None:
    """Delete the temporary files that a killed sweep left for its points."""
    for point in pending:
        for stale in point.path.parent.glob(f".{point.path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
            logger.info("removed %s, left by an interrupted sweep", stale.name)


def write_manifest(sweep: Sweep) -> Path:
    """Write ``sweep.json``: swept values, fixed options and point files."""
    manifest = {
        "parameters": sweep.parameters,
        "fixed": {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in sweep.fixed.items()
        },
        "points": [
            {"file": point.path.name, "values": point.values} for point in sweep.points
        ],
    }
    target = sweep.folder / MANIFEST
    handle, temporary = tempfile.mkstemp(dir=sweep.folder, suffix=".tmp")
    with os.fdopen(handle, "w") as stream:
        json.dump(manifest, stream, indent=1)
    apply_umask(temporary)
    os.replace(temporary, target)
    return target


def open_sweep(folder: str | os.PathLike) -> xr.Dataset:
    """Open the results of a sweep as one dataset, swept keys as dimensions.

    Every variable of the runs gains the swept dimensions; points not computed
    yet are NaN. Times are the union of the points' save times, so a sweep over
    ``t_end`` is NaN where a point has no save. Densities and fields on
    ``theta`` (and ``theta_edges``) are kept only when all points share one
    mesh; otherwise only the time series remain and the attribute
    ``dropped_variables`` says why. Per-point attributes (alpha, d_perp,
    initial_loss, steps as ``total_steps``, wall times, stop_reason) become
    variables, and ``file`` names each point's file.

    Parameters
    ----------
    folder : str or path-like
        Output folder of :func:`run_sweep`, with its ``sweep.json``.

    Raises
    ------
    OSError
        When the folder has no manifest or no point file yet.
    """
    root = Path(folder)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise OSError(
            f"sweep folder {str(root)!r} has no {MANIFEST}: pass the folder "
            "written by 'pdeflow sweep'"
        )
    manifest = json.loads(manifest_path.read_text())
    parameters = manifest["parameters"]
    runs = []
    for point in manifest["points"]:
        path = root / point["file"]
        if path.is_file():
            runs.append((point["values"], open_run(path), point["file"]))
    if not runs:
        raise OSError(
            f"sweep folder {str(root)!r} has no point file yet: run "
            "'pdeflow sweep' first"
        )

    first_edges = runs[0][1].theta_edges.values
    same_mesh = all(
        np.array_equal(run.theta_edges.values, first_edges) for _, run, _ in runs
    )
    pieces = [
        _point_dataset(values, run, name, parameters, same_mesh)
        for values, run, name in runs
    ]
    combined = xr.merge(
        pieces, join="outer", compat="no_conflicts", combine_attrs="drop_conflicts"
    )
    combined = combined.reindex({key: values for key, values in parameters.items()})
    combined.attrs.pop(CONFIG_ATTRIBUTE, None)
    combined.attrs["swept_parameters"] = json.dumps(list(parameters))
    combined.attrs["points_found"] = len(runs)
    combined.attrs["points_total"] = len(manifest["points"])
    if not same_mesh:
        combined.attrs["dropped_variables"] = (
            "tau_plus, tau_minus, G, V and theta_edges: the points have different "
            "theta meshes; open the point files with pdeflow.open_run for them"
        )
    return combined


def _point_dataset(
    values: dict[str, Any],
    run: xr.Dataset,
    name: str,
    parameters: dict[str, list[Any]],
    same_mesh: bool,
) -> xr.Dataset:
    """Give one run the swept dimensions and its per-point attributes as data."""
    dataset = run.drop_vars(["save_times"], errors="ignore")
    if not same_mesh:
        on_mesh = [
            variable
            for variable in dataset.variables
            if {"theta", "face"} & set(dataset[variable].dims)
        ]
        dataset = dataset.drop_vars(on_mesh)
    for attribute, variable in PER_POINT_ATTRIBUTES.items():
        if attribute in dataset.attrs:
            dataset[variable] = ((), dataset.attrs.pop(attribute))
    dataset["file"] = ((), name)
    for attribute in ("created", "pdeflow_version", CONFIG_ATTRIBUTE):
        dataset.attrs.pop(attribute, None)
    for key in parameters:
        dataset.attrs.pop(key, None)
    return dataset.expand_dims({key: [values[key]] for key in parameters})
