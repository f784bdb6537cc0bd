"""Initial states: g/2 for both measures, a concentrated tau_plus, graded meshes.

The concentrated start is checked against closed forms of the half-normal law:
its W2 distance to delta_0 is the width, and its masses are the ones asked for.
The graded-mesh test measures the late-time W2 error against a fine graded
reference (which validation/graded_mesh.py checks by Richardson extrapolation
of uniform meshes up to 16384 cells).
"""

import numpy as np
import pytest
import xarray as xr
from cli_args import argv

from pdeflow import Mesh, Problem, open_run, solve, write_netcdf
from pdeflow.checkpoint import resume
from pdeflow.cli import main
from pdeflow.initial import PAPER_LABEL, Start, concentrated_start, paper_start
from pdeflow.solver import initial_state

PAPER = Problem(30, 5)


def test_paper_start_is_half_the_angle_law():
    mesh = Mesh.graded(40, power=2.0)
    tau_plus, tau_minus = paper_start(PAPER).densities(mesh)
    expected = 0.5 * np.diff(PAPER.angle_cdf(mesh.edges)) / mesh.widths
    np.testing.assert_allclose(tau_plus, expected, rtol=1e-14, atol=0.0)
    np.testing.assert_array_equal(tau_minus, tau_plus)
    for from_solver, default in zip(
        initial_state(PAPER, mesh), (tau_plus, tau_minus), strict=True
    ):
        np.testing.assert_array_equal(from_solver, default)


@pytest.mark.parametrize("width", [0.05, 1e-3, 1e-4])
def test_concentrated_start_has_its_width_and_masses(width):
    # Half-normal law of scale w: E[theta^2] = w^2, so W2 to delta_0 is w. On
    # the mesh the density is piecewise constant, which adds at most the
    # second moment of the cells that hold the mass: power 3 and 4096 cells
    # keep that below 1e-4 relative down to w = 1e-4.
    start = concentrated_start(PAPER, width, mass_plus=2.0, mass_minus=0.25)
    run = solve(PAPER, 1e-9, mesh=Mesh.graded(4096, 3.0), saves=2, initial=start)
    first = run.isel(time=0)
    assert float(first.w2_plus) == pytest.approx(width, rel=1e-4)
    assert float(first.mass_plus) == pytest.approx(2.0, rel=1e-13)
    assert float(first.mass_minus) == pytest.approx(0.25, rel=1e-13)
    assert run.attrs["initial"].startswith("concentrated: tau_plus = 2.0 x")


def test_default_masses_and_recorded_loss():
    start = concentrated_start(PAPER, 0.01)
    run = solve(PAPER, 1.0, cells=64, saves=2, initial=start)
    assert float(run.mass_plus[0]) == pytest.approx(PAPER.alpha / 2, rel=1e-13)
    assert float(run.mass_minus[0]) == pytest.approx(0.5, rel=1e-13)
    # The attribute is the loss of this start, not d_H / (2 d) of the g/2 start.
    assert run.attrs["initial_loss"] == float(run.loss[0])
    assert run.attrs["initial_loss"] < 0.5 * PAPER.initial_loss


@pytest.mark.parametrize(
    ("arguments", "error", "needle"),
    [
        ({"width": 0.0}, ValueError, "width=0 is invalid"),
        ({"width": 5e-324}, ValueError, "pass a finite value >= 1e-12"),
        ({"width": -1e-3}, ValueError, "width=-0.001 is invalid"),
        ({"width": float("nan")}, ValueError, "width=nan is invalid"),
        ({"width": 0.5}, ValueError, "<= 0.3 radians"),
        ({"width": "1e-3"}, TypeError, "pass a number"),
        ({"width": True}, TypeError, "pass a number"),
        ({"width": 0.01, "mass_plus": 0.0}, ValueError, "mass_plus=0 is invalid"),
        ({"width": 0.01, "mass_minus": -0.1}, ValueError, "mass_minus=-0.1"),
        ({"width": 0.01, "mass_plus": 1e308}, ValueError, "and <= 1e\\+06"),
    ],
)
def test_concentrated_start_rejects_bad_values(arguments, error, needle):
    with pytest.raises(error, match=needle):
        concentrated_start(PAPER, **arguments)


def _start(cdf) -> Start:
    return Start(cdf, lambda theta: 0.0 * theta, "test")


@pytest.mark.parametrize(
    ("cdf", "needle"),
    [
        (lambda theta: theta[:-1], "has shape"),
        (lambda theta: theta + 0.1, "is 0.1 at theta = 0"),
        (lambda theta: np.cos(theta) - 1.0, "decreases between faces"),
        (lambda theta: np.where(theta > 1.0, np.nan, theta), "nan or inf"),
        (lambda theta: theta.astype(complex), "has dtype complex128"),
        (lambda theta: np.array(["a"] * theta.size), "has dtype <U1"),
        (lambda theta: np.where(theta > 0.5, 1e300, 0.0), "is 1e\\+300: pass at most"),
    ],
)
def test_start_rejects_bad_cumulative_mass(cdf, needle):
    with pytest.raises(ValueError, match=needle):
        solve(PAPER, 1.0, cells=8, saves=2, initial=_start(cdf))


def test_start_rejects_overflowing_density():
    # A mass of 1 in a first cell 1e-320 rad wide: the density is inf.
    mesh = Mesh(np.array([0.0, 1e-320, 0.5, 0.5 * np.pi]))
    with pytest.raises(ValueError, match="overflows in the narrowest cells"):
        _start(lambda theta: np.where(theta > 0.0, 1.0, 0.0)).densities(mesh)


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [
        ((3, np.sin, "x"), "cdf_plus=3 is invalid"),
        ((np.sin, "f", "x"), "cdf_minus='f' is invalid"),
        ((np.sin, np.sin, None), "label=None is invalid"),
        ((np.sin, np.sin, ""), "label='' is invalid"),
    ],
)
def test_start_checks_its_fields(arguments, needle):
    with pytest.raises(TypeError, match=needle):
        Start(*arguments)


def test_unresolved_start_is_reported(caplog):
    start = concentrated_start(PAPER, 1e-3)
    with caplog.at_level("WARNING", logger="pdeflow"):
        solve(PAPER, 0.1, mesh=Mesh.graded(256, 3.0), saves=2, initial=start)
    assert not caplog.records
    with caplog.at_level("WARNING", logger="pdeflow"):
        solve(PAPER, 0.1, cells=64, saves=2, initial=start)
    (record,) = caplog.records
    assert "wider than the start's width 0.001 rad" in record.getMessage()


def test_solve_rejects_other_initial_objects():
    with pytest.raises(TypeError, match="pass a pdeflow.initial.Start"):
        solve(PAPER, 1.0, cells=8, initial=(np.ones(8), np.ones(8)))


def test_graded_mesh_matches_ten_times_more_uniform_cells():
    # Late time here: the mass of tau_plus has reached its plateau by t = 75.
    start = concentrated_start(PAPER, 1e-3)

    def final_w2(mesh: Mesh) -> float:
        run = solve(PAPER, 100.0, mesh=mesh, scheme="muscl", saves=2, initial=start)
        return float(run.w2_plus[-1])

    reference = final_w2(Mesh.graded(1024, 3.0))
    graded = abs(final_w2(Mesh.graded(128, 3.0)) - reference)
    uniform = abs(final_w2(Mesh.uniform(1280)) - reference)
    assert graded <= uniform
    assert graded < 0.02 * reference  # resolved, not merely less wrong


def test_resume_keeps_the_start(tmp_path):
    start = concentrated_start(PAPER, 1e-3)
    options = {"mesh": Mesh.graded(32, 3.0), "saves": 5, "initial": start}
    whole = solve(PAPER, 50.0, **options)
    path = tmp_path / "run.checkpoint"
    stopped = solve(PAPER, 50.0, **options, max_steps=4, checkpoint=path)
    assert stopped.attrs["stop_reason"].startswith("max_steps=4")
    resumed = resume(path)
    assert resumed.attrs["initial"] == whole.attrs["initial"]
    np.testing.assert_array_equal(resumed.tau_plus.values, whole.tau_plus.values)


def test_command_line_start_and_rerun(tmp_path, capsys):
    out = tmp_path / "a.nc"
    args = argv("solve --d 6 --d-H 2 --t-end 2 --cells 16")
    flags = argv("--start-width 0.01 --start-mass-plus 1.5 --mesh graded")
    assert main([*args, *flags, "--saves", "3", "--out", str(out)]) == 0
    run = open_run(out)
    assert float(run.mass_plus[0]) == pytest.approx(1.5, rel=1e-13)
    summary = capsys.readouterr().out
    assert "start               concentrated: tau_plus = 1.5 x half-normal" in summary

    assert main(["-q", "solve", "--from", str(out)]) == 0
    again = open_run(tmp_path / "a.rerun.nc")
    np.testing.assert_array_equal(again.tau_plus.values, run.tau_plus.values)


def test_start_masses_need_a_width(tmp_path, capsys):
    out = tmp_path / "b.nc"
    assert main(["solve", "--start-mass-minus", "0.2", "--out", str(out)]) == 2
    message = capsys.readouterr().err.strip()
    assert message == (
        "pdeflow: error: --start-mass-minus 0.2 needs start_width (--start-width): "
        "give the width of the concentrated tau_plus, or drop the mass"
    )
    assert not out.exists()


def _api_run(tmp_path, start, name="api.nc"):
    problem = Problem(6, 2)
    run = solve(problem, 1.0, cells=16, saves=2, initial=start(problem))
    path = tmp_path / name
    write_netcdf(run, path)
    return path


def test_rerun_rejects_a_start_it_cannot_rebuild(tmp_path, capsys):
    # A custom start labelled as the g/2 start of Hajjar and Chizat (2023).
    def custom(problem):
        return Start(lambda t: 3.0 * t / t[-1], problem.angle_cdf, PAPER_LABEL)

    path = _api_run(tmp_path, custom)
    assert main(["solve", "--from", str(path), "--out", str(tmp_path / "b.nc")]) == 2
    message = capsys.readouterr().err.strip()
    assert "does not rebuild tau_plus as stored at t = 0" in message
    assert not (tmp_path / "b.nc").exists()


def test_rerun_rejects_a_garbled_label(tmp_path, capsys):
    path = _api_run(tmp_path, lambda problem: concentrated_start(problem, 0.01))
    with xr.open_dataset(path) as stored:
        run = stored.load()
    run.attrs["initial"] = run.attrs["initial"].replace("= 0.5 x g", "= abc x g")
    write_netcdf(run, tmp_path / "garbled.nc")
    assert main(["solve", "--from", str(tmp_path / "garbled.nc")]) == 2
    message = capsys.readouterr().err.strip()
    assert f"{tmp_path / 'garbled.nc'} (solver attributes): initial =" in message
    assert "cannot be rebuilt from the options of pdeflow solve" in message


def test_rerun_with_new_dimensions_keeps_default_masses(tmp_path):
    # Both kinds of run file leave the default masses unset, so a new d
    # gives the new alpha / 2 from either.
    api = _api_run(tmp_path, lambda problem: concentrated_start(problem, 0.01))
    cli_run = tmp_path / "cli.nc"
    args = argv("-q solve --d 6 --d-H 2 --t-end 1 --cells 16")
    assert (
        main([*args, "--saves", "2", "--start-width", "0.01", "--out", str(cli_run)])
        == 0
    )
    for source in (api, cli_run):
        out = tmp_path / f"{source.stem}.d10.nc"
        assert main(argv("-q solve --from", source, "--d 10 --out", out)) == 0
        mass = float(open_run(out).mass_plus[0])
        assert mass == pytest.approx(0.5 * Problem(10, 2).alpha, rel=1e-13)
