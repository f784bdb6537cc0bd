"""Checkpoints: resumed runs match uninterrupted ones bit for bit."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr
from cli_args import argv

from pdeflow import Problem, open_run, solve, write_netcdf
from pdeflow.checkpoint import resume
from pdeflow.cli import main
from pdeflow.stepper import Stepper

PROBLEM = Problem(6, 2)
OPTIONS = {"t_end": 20.0, "cells": 48, "saves": 12, "scheme": "muscl"}


def test_resumed_run_matches_uninterrupted_run(tmp_path):
    whole = solve(PROBLEM, **OPTIONS)
    path = tmp_path / "run.checkpoint"
    stopped = solve(PROBLEM, **OPTIONS, max_steps=25, checkpoint=path)
    assert stopped.attrs["stop_reason"].startswith("max_steps=25")
    assert path.exists()

    resumed = resume(path)
    assert resumed.attrs["stop_reason"] == "completed"
    assert resumed.attrs["steps"] == whole.attrs["steps"]
    np.testing.assert_array_equal(resumed.time.values, whole.time.values)
    for name in ("tau_plus", "tau_minus", "mass_plus", "loss", "w2_minus", "G"):
        np.testing.assert_array_equal(resumed[name].values, whole[name].values)
    assert not path.exists()  # removed once the run completes


def test_fault_stops_run_and_keeps_last_good_state(tmp_path, monkeypatch):
    original = Stepper.step
    calls = {"count": 0}

    def failing_step(self, tau_plus, tau_minus, fields, dt_cap):
        calls["count"] += 1
        new_plus, new_minus, dt = original(self, tau_plus, tau_minus, fields, dt_cap)
        if calls["count"] == 7:
            new_minus = new_minus.copy()
            new_minus[3] = np.nan
        return new_plus, new_minus, dt

    monkeypatch.setattr(Stepper, "step", failing_step)
    path = tmp_path / "run.checkpoint"
    run = solve(PROBLEM, **OPTIONS, checkpoint=path)
    reason = run.attrs["stop_reason"]
    assert reason.startswith("non-finite value in tau_minus at step 7")
    assert "last good state" in reason

    saved = xr.open_dataset(path, engine="h5netcdf").load()
    assert saved.attrs["state_steps"] == 6
    assert np.all(np.isfinite(saved.state_tau_minus.values))
    assert saved.attrs["stop_reason"] == reason


def test_resume_rejects_plain_run_file(tmp_path):
    run = solve(PROBLEM, 1.0, 16, saves=3)
    path = tmp_path / "run.nc"
    run.to_netcdf(path, engine="h5netcdf")
    with pytest.raises(OSError, match="not a checkpoint"):
        resume(path)


def test_sigterm_saves_checkpoint(tmp_path):
    # A long run in a child process gets SIGTERM; it must exit with code 1, leave
    # a readable run file and a checkpoint of a state inside the run.
    out = tmp_path / "run.nc"
    command = argv(
        [sys.executable],
        "-m pdeflow.cli -q solve --d 6 --d-H 2 --t-end 1e5",
        "--cells 1024 --scheme muscl --saves 20 --out",
        out,
    )
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    time.sleep(6.0)
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 1, stderr
    assert "interrupted by SIGTERM" in stderr
    checkpoint = tmp_path / "run.nc.checkpoint"
    assert open_run(out).attrs["stop_reason"].startswith("interrupted by SIGTERM")
    state_time = open_run(checkpoint).attrs["state_time"]
    assert 0.0 < state_time < 1e5
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda data: data.drop_vars("state_tau_minus"), "missing state_tau_minus"),
        (lambda data: data.assign_attrs(state_time=1e9), "state_time=1000000000.0"),
        (lambda data: data.assign_attrs(checkpoint_format=9), "format 9"),
        (
            lambda data: data.assign(state_tau_plus=data.state_tau_plus * np.nan),
            "non-finite",
        ),
        (lambda data: data.assign_attrs(cfl=7.0), r"cfl=7.0 outside \(0, 1\]"),
        (lambda data: data.assign_attrs(dt_max=-1.0), "dt_max=-1.0 is not > 0"),
        (lambda data: data.assign_attrs(state_steps=-3), "state_steps=-3"),
        (
            lambda data: data.assign(save_times=data.save_times * 1000.0),
            "save_times outside",
        ),
    ],
)
def test_damaged_checkpoint_is_rejected(tmp_path, damage, needle):
    path = tmp_path / "run.checkpoint"
    solve(PROBLEM, **OPTIONS, max_steps=5, checkpoint=path)
    damaged = damage(xr.open_dataset(path, engine="h5netcdf").load())
    broken = tmp_path / "broken.checkpoint"
    damaged.to_netcdf(broken, engine="h5netcdf")
    with pytest.raises(OSError, match=needle):
        resume(broken)


def test_resumed_file_records_its_configuration(tmp_path):
    path = tmp_path / "run.checkpoint"
    stopped = solve(PROBLEM, **OPTIONS, max_steps=25, checkpoint=path)
    assert stopped.attrs["stop_reason"].startswith("max_steps=25")
    out = tmp_path / "resumed.nc"
    assert main(["-q", "resume", str(path), "--out", str(out)]) == 0
    resumed = open_run(out)
    assert json.loads(resumed.attrs["run_config"])["out"] == str(out)

    assert main(["-q", "solve", "--from", str(out)]) == 0
    again = open_run(tmp_path / "resumed.rerun.nc")
    np.testing.assert_array_equal(again.tau_plus.values, resumed.tau_plus.values)


@pytest.mark.parametrize("content", ["notes\n", "run"])
def test_checkpoint_path_holding_another_file_is_rejected(tmp_path, content):
    other = tmp_path / "other.nc"
    if content == "run":
        write_netcdf(solve(PROBLEM, 1.0, cells=8, saves=2), other)
    else:
        other.write_text(content)
    before = other.read_bytes()
    with pytest.raises(OSError, match="contains another file, which a completed run"):
        solve(PROBLEM, 1.0, cells=8, saves=2, checkpoint=other)
    out = tmp_path / "run.nc"
    args = argv("-q solve --d 6 --d-H 2 --t-end 1 --cells 8")
    assert main([*args, "--out", str(out), "--checkpoint", str(other)]) == 2
    assert other.read_bytes() == before
    assert not out.exists()
