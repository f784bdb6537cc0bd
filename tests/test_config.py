"""Run configuration files, re-created runs, progress bars and library output."""

import ast
import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pytest
from cli_args import argv

import pdeflow
from pdeflow import open_run
from pdeflow.cli import main
from pdeflow.config import (
    KEYS,
    ConfigError,
    RunConfig,
    check_value,
    read_run_config,
    run_config,
)

SMALL = """\
d = 8
d_H = 3
t_end = 4
cells = 24
mesh = "graded"
grading = 1.5
grade_both_ends = true
scheme = "muscl"
limiter = "vanleer"
cfl = 0.5
dt_max = 0.5
n_phi = 24
save_times = [0, 1, 4]
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_file_values_reach_the_run(tmp_path):
    config = _write(tmp_path / "run.toml", SMALL)
    out = tmp_path / "a.nc"
    assert main(argv("-q solve --config", config, "--out", out)) == 0
    run = open_run(out)
    assert (run.attrs["d"], run.attrs["d_H"], run.attrs["cells"]) == (8, 3, 24)
    assert run.attrs["mesh"] == "graded(power=1.5, ends=both)"
    assert run.attrs["scheme"] == "muscl"
    assert run.attrs["limiter"] == "vanleer"
    assert run.attrs["cfl"] == 0.5
    assert run.attrs["dt_max"] == 0.5
    assert run.attrs["n_phi"] == 24
    assert run.attrs["grading"] == 1.5
    assert run.attrs["grade_both_ends"] == 1
    assert run.attrs["saves"] == -1
    assert list(run.time.values) == [0.0, 1.0, 4.0]
    stored = json.loads(run.attrs["run_config"])
    # Unset options (None) are left out: no plot, and the g/2 start.
    unset = {"saves", "plot", "start_width", "start_mass_plus", "start_mass_minus"}
    assert set(stored) == set(KEYS) - unset
    assert stored["out"] == str(out)


def test_flags_override_file_values(tmp_path):
    config = _write(tmp_path / "run.toml", SMALL)
    out = tmp_path / "a.nc"
    args = argv("-q solve --config", config, "--out", out)
    assert main([*args, "--cells", "12", "--scheme", "upwind", "--saves", "3"]) == 0
    run = open_run(out)
    assert run.attrs["cells"] == 12
    assert run.attrs["scheme"] == "upwind"
    # --saves replaces the file's save_times: 0, then log-spaced up to t_end
    assert run.sizes["time"] == 3
    assert run.time.values[1] == pytest.approx(4e-4)
    assert run.attrs["saves"] == 3
    # values not given as flags keep the file's value, not the flag's default
    assert run.attrs["d"] == 8
    assert run.attrs["n_phi"] == 24


def test_from_recreates_run_bit_for_bit(tmp_path):
    config = _write(tmp_path / "run.toml", SMALL)
    first = tmp_path / "a.nc"
    assert main(argv("-q solve --config", config, "--out", first)) == 0
    config.unlink()  # the run file alone must be enough
    assert main(["-q", "solve", "--from", str(first)]) == 0

    again = tmp_path / "a.rerun.nc"
    original, recreated = open_run(first), open_run(again)
    np.testing.assert_array_equal(recreated.tau_plus.values, original.tau_plus.values)
    np.testing.assert_array_equal(recreated.tau_minus.values, original.tau_minus.values)
    np.testing.assert_array_equal(recreated.time.values, original.time.values)
    np.testing.assert_array_equal(
        recreated.theta_edges.values, original.theta_edges.values
    )
    for name in ("d", "d_H", "t_end", "cells", "mesh", "scheme", "limiter", "steps"):
        assert recreated.attrs[name] == original.attrs[name], name
    assert json.loads(recreated.attrs["run_config"])["out"] == str(again)


def test_from_with_overrides(tmp_path):
    config = _write(tmp_path / "run.toml", SMALL)
    first = tmp_path / "a.nc"
    assert main(argv("-q solve --config", config, "--out", first)) == 0
    other = _write(tmp_path / "more.toml", "n_phi = 12\n")
    second = tmp_path / "b.nc"
    args = argv("-q solve --from", first, "--config", other)
    assert main([*args, "--cells", "10", "--out", str(second)]) == 0
    run = open_run(second)
    assert run.attrs["cells"] == 10
    assert run.attrs["n_phi"] == 12
    assert run.attrs["scheme"] == "muscl"
    assert list(run.time.values) == [0.0, 1.0, 4.0]


@pytest.mark.parametrize("concentrated", [False, True])
def test_from_run_of_python_api(tmp_path, concentrated):
    mesh = pdeflow.Mesh.graded(16, power=2.5, ends="zero")
    problem = pdeflow.Problem(7, 2)
    options = {"scheme": "muscl", "saves": 4, "n_phi": 16}
    if concentrated:
        # The start is rebuilt from the run's "initial" attribute alone.
        options["initial"] = pdeflow.initial.concentrated_start(
            problem, 0.02, mass_plus=np.pi / 3, mass_minus=0.1
        )
    run = pdeflow.solve(problem, 3.0, mesh=mesh, **options)
    pdeflow.write_netcdf(run, tmp_path / "api.nc")
    out = tmp_path / "again.nc"
    assert main(argv("-q solve --from", tmp_path / "api.nc", "--out", out)) == 0
    np.testing.assert_array_equal(open_run(out).tau_plus.values, run.tau_plus.values)


def test_from_rejects_non_object_run_config(tmp_path, capsys):
    run = pdeflow.solve(pdeflow.Problem(5, 2), 1.0, cells=8, saves=2)
    run.attrs["run_config"] = "[1, 2]"
    pdeflow.write_netcdf(run, tmp_path / "edited.nc")
    assert main(["-q", "solve", "--from", str(tmp_path / "edited.nc")]) == 2
    assert "is not a JSON object of options" in capsys.readouterr().err


def test_from_rejects_particle_runs(tmp_path, capsys):
    from pdeflow.particles import simulate_deterministic

    run = simulate_deterministic(pdeflow.Problem(6, 2), 0.5, m=32, saves=2)
    pdeflow.write_netcdf(run, tmp_path / "particles.nc")
    assert main(["-q", "solve", "--from", str(tmp_path / "particles.nc")]) == 2
    message = capsys.readouterr().err.strip()
    assert "is a particle run (reduced-deterministic)" in message
    assert "run pdeflow particles again instead" in message


def test_from_rejects_custom_mesh(tmp_path, capsys):
    edges = np.array([0.0, 0.1, 0.5, np.pi / 2])
    run = pdeflow.solve(pdeflow.Problem(5, 2), 1.0, mesh=pdeflow.Mesh(edges), saves=2)
    pdeflow.write_netcdf(run, tmp_path / "custom.nc")
    assert main(["-q", "solve", "--from", str(tmp_path / "custom.nc")]) == 2
    message = capsys.readouterr().err.strip()
    assert len(message.splitlines()) == 1
    assert 'mesh = "custom" cannot be rebuilt' in message


BAD_FILES = [
    ("cell = 64\n", ["unknown key cell = 64", "did you mean 'cells'?"]),
    ('cells = "64"\n', ['cells = "64"', "has type string", "pass an integer >= 2"]),
    ("cells = 64.0\n", ["cells = 64.0", "has type float", "pass an integer"]),
    ("cfl = 1.5\n", ["cfl = 1.5 is out of range", "pass a Courant number in (0, 1]"]),
    ("t_end = -1\n", ["t_end = -1 is out of range", "pass a finite time > 0"]),
    ('scheme = "weno"\n', ['scheme = "weno" is out of range', "upwind, muscl"]),
    ("grade_both_ends = 1\n", ["grade_both_ends = 1 has type integer", "true or"]),
    ("save_times = [0, -1]\n", ["save_times = [0, -1]", "times >= 0"]),
    ('plot = "fig.txt"\n', ['plot = "fig.txt" has no known suffix', ".png"]),
    ("d = 5\nd_H = 5\n", ["d_H = 5 is out of range for d = 5", "pass d_H < d"]),
    ("saves = 3\nsave_times = [0, 1]\n", ["both set", "keep only one"]),
    ("t_end = 2\nsave_times = [0, 3]\n", ["beyond t_end = 2", "in [0, t_end]"]),
    ("cfl = \n", ["invalid TOML", "line 1"]),
]


@pytest.mark.parametrize(("text", "needles"), BAD_FILES)
def test_bad_file_gives_one_line_and_exit_2(tmp_path, capsys, text, needles):
    config = _write(tmp_path / "bad.toml", text)
    out = tmp_path / "run.nc"
    code = main(["solve", "--config", str(config), "--out", str(out)])
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"pdeflow: error: {config}")
    for needle in needles:
        assert needle in lines[0]
    assert not out.exists()


def test_bad_file_through_subprocess(tmp_path):
    config = _write(tmp_path / "bad.toml", "cfl = 2\n")
    result = subprocess.run(
        argv([sys.executable], "-m pdeflow.cli solve --config", config),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"pdeflow: error: {config}: cfl = 2 is out of range: "
        "pass a Courant number in (0, 1]"
    )


def test_missing_config_file(tmp_path, capsys):
    assert main(["solve", "--config", str(tmp_path / "none.toml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_check_value_canonical_types():
    assert check_value("t_end", 5, "f") == 5.0
    assert isinstance(check_value("t_end", 5, "f"), float)
    assert check_value("save_times", [0, 1], "f") == (0.0, 1.0)
    assert check_value("dt_max", float("inf"), "f") == float("inf")
    with pytest.raises(ConfigError, match="has type boolean"):
        check_value("cells", True, "f")


def test_run_config_records_everything(tmp_path):
    config = RunConfig(d=6, d_H=2, t_end=1.0, cells=8, saves=3, plot="fig.png")
    run = run_config(config)
    stored = json.loads(run.attrs["run_config"])
    assert RunConfig(**stored) == config
    pdeflow.write_netcdf(run, tmp_path / "r.nc")
    recreated = read_run_config(tmp_path / "r.nc")
    assert "out" not in recreated
    assert "plot" not in recreated
    assert recreated["saves"] == 3


def _solve_command(tmp_path: Path) -> list[str]:
    return argv(
        [sys.executable],
        "-m pdeflow.cli solve --d 6 --d-H 2 --t-end 2",
        "--cells 16 --saves 3 --out",
        tmp_path / "run.nc",
    )


def test_no_progress_bar_without_terminal(tmp_path):
    result = subprocess.run(
        _solve_command(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    assert "t/s" not in result.stderr
    assert "mass of tau_plus" in result.stdout


def test_progress_bar_on_terminal(tmp_path):
    leader, follower = pty.openpty()
    # tqdm draws an empty bar on a terminal of width 0, the size of a new pty
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        _solve_command(tmp_path), stdout=subprocess.DEVNULL, stderr=follower
    )
    os.close(follower)
    chunks = []
    try:
        while select.select([leader], [], [], 60)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # Linux raises EIO once the child has closed the pty
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        code = process.wait(timeout=60)
    assert code == 0
    text = b"".join(chunks).decode(errors="replace")
    assert "\rpdeflow:" in text
    assert "t/s" in text


def test_library_never_prints():
    package = Path(pdeflow.__file__).parent
    callers = []
    for source in sorted(package.rglob("*.py")):
        # command-line modules (entry.py, cli.py, *commands.py) print
        if source.name in ("entry.py", "cli.py") or source.name.endswith("commands.py"):
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
            ):
                callers.append(f"{source.name}:{node.lineno}")
    assert callers == []
