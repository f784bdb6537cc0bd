"""Animations of a run: frames, writers and errors."""

import numpy as np
import pytest
from cli_args import argv
from matplotlib import animation
from PIL import Image

import pdeflow
from pdeflow import animation as run_animation
from pdeflow.animation import animate_run, frame_indices
from pdeflow.cli import main


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    run = pdeflow.solve(pdeflow.Problem(6, 2), 5.0, cells=16, saves=6, n_phi=16)
    path = tmp_path_factory.mktemp("runs") / "run.nc"
    pdeflow.write_netcdf(run, path)
    return path


def test_gif_has_one_frame_per_save(run_file, tmp_path, capsys):
    out = tmp_path / "run.gif"
    assert main(argv("animate", run_file, "--out", out, "--fps 5")) == 0
    assert f"wrote {out} (6 frames of 6 saved times)" in capsys.readouterr().out
    with Image.open(out) as image:
        assert image.format == "GIF"
        assert image.n_frames == 6
        assert image.size == (1000, 400)
        first = np.asarray(image.convert("RGB"))
        image.seek(5)
        last = np.asarray(image.convert("RGB"))
    assert not np.array_equal(first, last)
    assert list(tmp_path.iterdir()) == [out]


def test_default_name_and_max_frames(run_file, tmp_path):
    copy = tmp_path / "copy.nc"
    copy.write_bytes(run_file.read_bytes())
    assert main(["-q", "animate", str(copy), "--max-frames", "3"]) == 0
    with Image.open(tmp_path / "copy.gif") as image:
        assert image.n_frames == 3


def test_frame_indices():
    times = np.arange(10.0)
    assert list(frame_indices(times, None)) == list(range(10))
    assert list(frame_indices(times, 3)) == [0, 4, 9]
    assert list(frame_indices(times, 20)) == list(range(10))
    with pytest.raises(ValueError, match="max_frames=1"):
        frame_indices(times, 1)


def test_axis_labels_carry_units(run_file, tmp_path, monkeypatch):
    captured = {}
    original = animation.FuncAnimation

    def capture(figure, *args, **kwargs):
        captured["figure"] = figure
        return original(figure, *args, **kwargs)

    monkeypatch.setattr(animation, "FuncAnimation", capture)
    animate_run(pdeflow.open_run(run_file), tmp_path / "a.gif", max_frames=2)
    labels = [
        label
        for axis in captured["figure"].axes
        for label in (axis.get_xlabel(), axis.get_ylabel())
    ]
    assert labels == [
        "angle to H, theta (rad)",
        "density of tau_plus (1/rad)",
        "angle to H, theta (rad)",
        "density of tau_minus (1/rad)",
    ]


def test_mp4_without_ffmpeg(run_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(animation.writers, "is_available", lambda name: False)
    out = tmp_path / "run.mp4"
    assert main(["animate", str(run_file), "--out", str(out)]) == 2
    message = capsys.readouterr().err.strip()
    assert message == (
        "pdeflow: error: writing .mp4 needs ffmpeg, which was not found on PATH: "
        "install ffmpeg or write a .gif"
    )
    assert list(tmp_path.iterdir()) == []


def test_unknown_suffix(run_file, tmp_path, capsys):
    assert main(["animate", str(run_file), "--out", str(tmp_path / "a.avi")]) == 2
    assert "'.avi' is not supported" in capsys.readouterr().err


def test_library_call_prints_nothing(run_file, tmp_path, capsys):
    animate_run(pdeflow.open_run(run_file), tmp_path / "quiet.gif", max_frames=2)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_narrow_start_is_animated_on_a_log_axis(tmp_path, monkeypatch):
    problem = pdeflow.Problem(6, 2)
    start = pdeflow.initial.concentrated_start(problem, 1e-3)
    mesh = pdeflow.Mesh.graded(32, 3.0)
    run = pdeflow.solve(problem, 1.0, mesh=mesh, saves=3, initial=start)
    scales = []  # tau_plus first, then tau_minus

    def record(axis, densities, edges):
        original(axis, densities, edges)
        scales.append(axis.get_xscale())

    original = run_animation.set_angle_axis
    monkeypatch.setattr(run_animation, "set_angle_axis", record)
    animate_run(run, tmp_path / "narrow.gif", max_frames=2)
    assert scales == ["log", "linear"]
