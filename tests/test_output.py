"""The run dataset contract, NetCDF round trips and atomic writes."""

import re

import numpy as np
import pytest
import xarray as xr

import pdeflow
from pdeflow import Problem, open_run, solve, write_netcdf
from pdeflow.output import check_image_path


@pytest.fixture(scope="module")
def small_run():
    return solve(Problem(6, 2), 2.0, 32, saves=5)


def test_dataset_contract(small_run):
    assert set(small_run.dims) >= {"time", "theta"}
    for name in (
        "tau_plus",
        "tau_minus",
        "mass_plus",
        "mass_minus",
        "loss",
        "w2_plus",
        "w2_minus",
    ):
        assert name in small_run, name
    assert small_run.tau_plus.dims == ("time", "theta")
    assert small_run.tau_plus.attrs["units"] == "1/rad"
    assert small_run.theta.attrs["units"] == "rad"
    for key in (
        "d",
        "d_H",
        "alpha",
        "scheme",
        "mesh",
        "cells",
        "pdeflow_version",
        "cfl",
        "t_end",
    ):
        assert key in small_run.attrs, key
    assert small_run.attrs["pdeflow_version"] == pdeflow.__version__


def test_masses_match_densities(small_run):
    widths = np.diff(small_run.theta_edges.values)
    np.testing.assert_allclose(
        small_run.tau_plus.values @ widths, small_run.mass_plus.values, rtol=1e-14
    )


def test_w2_is_a_distance_not_its_square(small_run):
    # W2(tau, delta_0)^2 = int theta^2 dtau / mass, from the cell integrals of theta^2.
    edges = small_run.theta_edges.values
    theta_squared = np.diff(edges**3) / 3.0
    density = small_run.tau_plus.values[-1]
    expected = np.sqrt(theta_squared @ density / (density @ np.diff(edges)))
    assert small_run.w2_plus.values[-1] == pytest.approx(expected, rel=1e-13)


def test_netcdf_round_trip(small_run, tmp_path):
    path = write_netcdf(small_run, tmp_path / "run.nc")
    loaded = open_run(path)
    xr.testing.assert_identical(loaded.drop_attrs(), small_run.drop_attrs())
    assert loaded.attrs["d"] == 6
    assert list(tmp_path.iterdir()) == [path]


def test_failed_write_leaves_no_file(small_run, tmp_path):
    broken = small_run.copy()
    broken.attrs["unstorable"] = {"a": 1}  # NetCDF attributes cannot hold a dict
    with pytest.raises((TypeError, ValueError)):
        write_netcdf(broken, tmp_path / "run.nc")
    assert list(tmp_path.iterdir()) == []


def test_full_disk_names_the_file(small_run, tmp_path, monkeypatch):
    def full(self, path, **options):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    target = tmp_path / "run.nc"
    with pytest.raises(OSError, match=r"writing '.*run.nc' failed \(No space left"):
        write_netcdf(small_run, target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda run: run.drop_vars("theta_edges"), "missing theta_edges"),
        (lambda run: run.drop_vars("predictor"), "missing predictor"),
        (lambda run: run.isel(time=slice(0, 0)), "contains no saved time"),
    ],
)
def test_open_run_rejects_incomplete_runs(small_run, tmp_path, damage, needle):
    path = tmp_path / "edited.nc"
    damage(small_run).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(OSError, match=needle):
        open_run(path)


def _with_edges(run, edges):
    return run.assign(theta_edges=("face", edges))


def _with_times(run, times):
    return run.assign_coords(time=times)


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (
            lambda run: run.isel(face=slice(0, -2)),
            "theta_edges has 31 values but theta has 32 cells, which need 33 faces",
        ),
        (
            lambda run: _with_edges(run, run.theta_edges.values[::-1]),
            r"theta_edges is not strictly increasing \(1.57.* at index 0, then",
        ),
        (
            lambda run: _with_edges(
                run, np.append(run.theta_edges.values[:-1], np.nan)
            ),
            "theta_edges contains nan or inf",
        ),
        (
            lambda run: _with_times(run, run.time.values[::-1]),
            r"time is not strictly increasing \(2.0 at index 0, then 0.09",
        ),
        (
            lambda run: _with_times(run, [0.0, 0.5, 0.5, 1.5, 2.0]),
            r"time is not strictly increasing \(0.5 at index 1, then 0.5\)",
        ),
        (
            lambda run: run.assign_coords(phi=run.phi.values[::-1]),
            r"phi is not strictly increasing \(1.57",
        ),
    ],
)
def test_open_run_rejects_inconsistent_runs(small_run, tmp_path, damage, needle):
    path = tmp_path / "edited.nc"
    damage(small_run).to_netcdf(path, engine="h5netcdf")
    prefix = re.escape(f"run file '{path}' is damaged: ")
    with pytest.raises(OSError, match=prefix + needle) as error:
        open_run(path)
    assert "\n" not in str(error.value)


def test_overlong_file_name_is_rejected(tmp_path):
    with pytest.raises(OSError, match="is too long: pass a name of at most"):
        write_netcdf(xr.Dataset(), tmp_path / ("r" * 250 + ".nc"))


def test_open_run_rejects_foreign_files(tmp_path):
    text = tmp_path / "notes.nc"
    text.write_text("not a NetCDF file")
    with pytest.raises(OSError, match="could not be read as NetCDF"):
        open_run(text)
    other = tmp_path / "other.nc"
    xr.Dataset({"x": ("y", np.arange(3.0))}).to_netcdf(other, engine="h5netcdf")
    with pytest.raises(OSError, match="is not a pdeflow run"):
        open_run(other)
    with pytest.raises(OSError, match="not found"):
        open_run(tmp_path / "missing.nc")


def test_write_rejects_missing_folder(small_run, tmp_path):
    with pytest.raises(OSError, match="does not exist"):
        write_netcdf(small_run, tmp_path / "no" / "run.nc")


def test_written_file_follows_umask(small_run, tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        path = write_netcdf(small_run, tmp_path / "run.nc")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_open_run_names_folder(tmp_path):
    with pytest.raises(OSError, match="is a folder"):
        open_run(tmp_path)


def test_image_folder_suggests_file_inside(tmp_path):
    folder = tmp_path / "figure.png"
    folder.mkdir()
    needle = f"is a folder, not a file: pass a file name such as '{folder}/fig.png'"
    with pytest.raises(OSError, match=re.escape(needle)):
        check_image_path(folder)
    needle = f"such as '{folder}/comparison.png'"
    with pytest.raises(OSError, match=re.escape(needle)):
        check_image_path(folder, example="comparison.png")
