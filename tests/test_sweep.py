"""Parameter sweeps: points, restarts, the combined dataset and bad sweep files."""

import logging
import sys

import numpy as np
import pytest

import pdeflow.sweep as sweep_module
from pdeflow import Problem, open_run
from pdeflow.cli import main
from pdeflow.sweep import open_sweep, point_name, read_sweep, run_sweep

BASE = """\
d = 8
t_end = 2
n_phi = 8
saves = 4
"""


def _sweep_file(tmp_path, table, base=BASE):
    path = tmp_path / "grid.toml"
    path.write_text(f'{base}folder = "{tmp_path / "out"}"\n\n[sweep]\n{table}')
    return path


@pytest.fixture
def solver_calls(monkeypatch):
    """Count the runs that the sweep solves; the local cluster runs in-process."""
    calls = []
    original = sweep_module.run_config

    def counting(config, progress=False):
        calls.append(config)
        return original(config, progress=progress)

    monkeypatch.setattr(sweep_module, "run_config", counting)
    return calls


def test_point_names():
    assert point_name({"d_H": 3, "scheme": "muscl"}) == "d_H-3_scheme-muscl.nc"
    assert point_name({"cfl": 0.5, "dt_max": float("inf")}) == "cfl-0.5_dt_max-inf.nc"


def test_sweep_runs_points_and_combines(tmp_path, solver_calls):
    path = _sweep_file(tmp_path, 'd_H = [1, 2, 3]\nscheme = ["upwind", "muscl"]\n')
    assert main(["-q", "sweep", str(path)]) == 0
    assert len(solver_calls) == 6

    combined = open_sweep(tmp_path / "out")
    assert combined.sizes["d_H"] == 3
    assert combined.sizes["scheme"] == 2
    assert list(combined.scheme.values) == ["upwind", "muscl"]
    assert combined.tau_plus.dims == ("d_H", "scheme", "time", "theta")
    one = open_run(tmp_path / "out" / "d_H-2_scheme-muscl.nc")
    np.testing.assert_array_equal(
        combined.mass_plus.sel(d_H=2, scheme="muscl").values, one.mass_plus.values
    )
    np.testing.assert_array_equal(
        combined.tau_plus.sel(d_H=2, scheme="muscl").values, one.tau_plus.values
    )
    for d_H in (1, 2, 3):
        alpha = combined.alpha.sel(d_H=d_H, scheme="upwind")
        assert float(alpha) == Problem(8, d_H).alpha
    assert (combined.stop_reason == "completed").all()
    assert combined.attrs["d"] == 8
    assert combined.attrs["points_found"] == 6


def test_restart_computes_only_missing_points(tmp_path, solver_calls):
    path = _sweep_file(tmp_path, "d_H = [1, 2, 3]\ncells = [8, 12]\n")
    sweep = read_sweep(path)
    first = run_sweep(sweep)
    assert len(first.computed) == 6
    assert len(solver_calls) == 6

    missing = tmp_path / "out" / "d_H-2_cells-12.nc"
    missing.unlink()
    kept = tmp_path / "out" / "d_H-1_cells-8.nc"
    kept_mtime = kept.stat().st_mtime_ns
    second = run_sweep(read_sweep(path))
    assert len(solver_calls) == 7
    assert second.computed == [missing]
    assert len(second.skipped) == 5
    assert missing.is_file()
    assert kept.stat().st_mtime_ns == kept_mtime

    # a changed fixed value makes every stored point stale
    changed = _sweep_file(
        tmp_path, "d_H = [1, 2, 3]\ncells = [8, 12]\n", BASE.replace("2", "3", 1)
    )
    third = run_sweep(read_sweep(changed))
    assert len(third.computed) == 6
    assert len(solver_calls) == 13


def test_different_meshes_keep_time_series(tmp_path):
    path = _sweep_file(tmp_path, "cells = [8, 12]\n", BASE + "d_H = 2\n")
    run_sweep(read_sweep(path))
    combined = open_sweep(tmp_path / "out")
    assert "tau_plus" not in combined
    assert "theta" not in combined.dims
    assert "different theta meshes" in combined.attrs["dropped_variables"]
    assert combined.mass_plus.dims == ("cells", "time")
    assert np.all(np.isfinite(combined.mass_plus.values))
    assert combined.mass_plus.sel(cells=8).values[-1] != pytest.approx(
        combined.mass_plus.sel(cells=12).values[-1], abs=1e-12
    )


def test_missing_point_is_nan(tmp_path):
    path = _sweep_file(tmp_path, "d_H = [1, 2]\n")
    run_sweep(read_sweep(path))
    (tmp_path / "out" / "d_H-2.nc").unlink()
    combined = open_sweep(tmp_path / "out")
    assert combined.sizes["d_H"] == 2
    assert np.all(np.isnan(combined.mass_plus.sel(d_H=2).values))
    assert np.all(np.isfinite(combined.mass_plus.sel(d_H=1).values))
    assert combined.attrs["points_found"] == 1
    assert combined.attrs["points_total"] == 2


def test_failed_point_is_reported(tmp_path, monkeypatch, capsys, caplog):
    original = sweep_module.run_config

    def failing(config, progress=False):
        if config.d_H == 2:
            raise FloatingPointError("injected failure")
        return original(config, progress=progress)

    monkeypatch.setattr(sweep_module, "run_config", failing)
    path = _sweep_file(tmp_path, "d_H = [1, 2, 3]\n")
    assert main(["sweep", str(path)]) == 1
    output = capsys.readouterr().out
    assert "2 computed, 0 already complete, 1 failed" in output
    assert "d_H-2.nc: FloatingPointError: injected failure" in output
    # One line per failed point, without Dask's multi-line "Compute Failed".
    dask_errors = [
        record
        for record in caplog.records
        if record.name.startswith("distributed") and record.levelno >= logging.ERROR
    ]
    assert not dask_errors
    assert not (tmp_path / "out" / "d_H-2.nc").exists()


def test_external_scheduler(tmp_path, solver_calls):
    from distributed import LocalCluster

    path = _sweep_file(tmp_path, "d_H = [1, 2]\n")
    with LocalCluster(
        n_workers=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
        silence_logs=logging.WARNING,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        assert main(["-q", "sweep", str(path), "--scheduler", address]) == 0
    assert len(solver_calls) == 2
    assert open_sweep(tmp_path / "out").sizes["d_H"] == 2


def test_missing_distributed_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    path = _sweep_file(tmp_path, "d_H = [1, 2]\n")
    assert main(["sweep", str(path)]) == 2
    message = capsys.readouterr().err.strip()
    assert message.endswith("install it with pip install 'pdeflow[sweep]'")


def test_folder_that_is_a_file_is_rejected(tmp_path, capsys):
    path = _sweep_file(tmp_path, "d_H = [1, 2]\n")
    (tmp_path / "out").write_text("")
    assert main(["sweep", str(path)]) == 2
    assert "is a file: choose another folder" in capsys.readouterr().err


def test_stale_temporary_files_are_removed(tmp_path, solver_calls):
    path = _sweep_file(tmp_path, "d_H = [1]\n")
    (tmp_path / "out").mkdir()
    stale = tmp_path / "out" / ".d_H-1.nc.abc123.tmp"
    stale.write_text("left by a killed sweep")
    assert main(["-q", "sweep", str(path)]) == 0
    assert not stale.exists()
    assert (tmp_path / "out" / "d_H-1.nc").exists()


def test_bad_scheduler_address_leaves_nothing(tmp_path, capsys):
    path = _sweep_file(tmp_path, "d_H = [1, 2]\n")
    assert main(["sweep", str(path), "--scheduler", "nonsense"]) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("pdeflow: error: cannot reach the Dask scheduler at")
    assert "such as tcp://127.0.0.1:8786" in message
    assert not (tmp_path / "out").exists()


BAD_SWEEPS = [
    (BASE, "", "no [sweep] table"),
    (BASE + 'out = "a.nc"\n', "d_H = [1]\n", "out = 'a.nc' cannot be set"),
    (BASE, "save_times = [[0, 1]]\n", "save_times cannot be swept"),
    (BASE + "d_H = 2\n", "d_H = [1, 2]\n", "d_H is both fixed and swept"),
    (BASE, "d_H = 2\n", "d_H = 2 is not a list"),
    (BASE, "d_H = [1, 1]\n", "repeats a value"),
    (BASE, "cfl = [0.5, 2.0]\n", "cfl = 2.0 is out of range"),
    (BASE, "d_H = [2, 8]\n", "d_H = 8 is out of range for d = 8"),
    (BASE, "cell = [8]\n", "unknown key cell"),
    (BASE, "start_width = []\n", "start_width = [] is an empty list"),
    (
        BASE,
        "cfl = [0.5, 0.9]\ncells = " + str(list(range(2, 5003))) + "\n",
        "10002 points",
    ),
]


@pytest.mark.parametrize(("base", "table", "needle"), BAD_SWEEPS)
def test_bad_sweep_file_exit_2(tmp_path, capsys, base, table, needle):
    path = _sweep_file(tmp_path, table, base)
    if not table:
        path.write_text(base)
    assert main(["sweep", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pdeflow: error: ")
    assert needle in lines[0]
    assert not (tmp_path / "out").exists()


def test_open_sweep_needs_manifest(tmp_path):
    with pytest.raises(OSError, match="has no sweep.json"):
        open_sweep(tmp_path)
