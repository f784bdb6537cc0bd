"""The time loop: positivity, mass balance, loss decay, energy identity, convergence."""

import numpy as np
import pytest

from pdeflow import Mesh, Problem, solve
from pdeflow.fields import ReducedModel
from pdeflow.scheme import advance

PAPER = Problem(d=30, d_H=5)


def _fitted_order(cells, errors):
    return -np.polyfit(np.log(cells), np.log(errors), 1)[0]


@pytest.fixture(scope="module")
def dense_run():
    """A run with d = 30, d_H = 5 through the fast phase, saved at 301 times."""
    return solve(PAPER, 150.0, 128, save_times=np.linspace(0.0, 150.0, 301))


def test_densities_stay_non_negative(dense_run):
    assert float(dense_run.tau_plus.min()) >= 0.0
    assert float(dense_run.tau_minus.min()) >= 0.0
    assert dense_run.attrs["stop_reason"] == "completed"


def test_loss_decreases_between_saves(dense_run):
    # The energy identity makes the exact loss non-increasing; a step may raise
    # it only by its truncation error, far below 1e-10 of the initial loss here.
    increments = np.diff(dense_run.loss.values)
    assert increments.max() <= 1e-10 * PAPER.initial_loss
    assert dense_run.loss.values[-1] < 0.1 * PAPER.initial_loss


def test_save_times_are_hit_exactly(dense_run):
    np.testing.assert_array_equal(dense_run.time.values, np.linspace(0.0, 150.0, 301))


def test_energy_identity_converges_at_first_order():
    # dA/dt from two close saves against -(dissipation), with the time step
    # refined with the mesh: the mismatch is O(h + dt), so it halves per level.
    mismatches = []
    cells_list = [32, 64, 128, 256]
    for cells in cells_list:
        h = 0.5 * np.pi / cells
        run = solve(PAPER, 20.0, cells, dt_max=2 * h, save_times=[0.0, 19.9, 20.0])
        rate = (run.loss.values[2] - run.loss.values[1]) / 0.1
        dissipation = 0.5 * (run.dissipation.values[1] + run.dissipation.values[2])
        mismatches.append(abs(rate + dissipation) / dissipation)
    order = _fitted_order(cells_list, mismatches)
    assert 0.8 <= order <= 1.3, (mismatches, order)
    # Observed: 1.1e-3 at 32 cells down to 1.4e-4 at 256 cells.
    assert mismatches[-1] < 3e-4


def _successive_differences(scheme):
    """Masses at t = 10 with dt <= 10 h on 32 to 512 cells, and their level gaps."""

    def masses(cells):
        h = 0.5 * np.pi / cells
        run = solve(
            PAPER, 10.0, cells, scheme=scheme, dt_max=10 * h, save_times=[0.0, 10.0]
        )
        return np.array([run.mass_plus.values[-1], run.mass_minus.values[-1]])

    cells_list = [32, 64, 128, 256, 512]
    values = np.array([masses(cells) for cells in cells_list])
    return cells_list[:-1], np.abs(np.diff(values, axis=0))


@pytest.mark.parametrize(
    ("scheme", "low", "high"), [("upwind", 0.8, 1.2), ("muscl", 1.7, 2.4)]
)
def test_masses_converge_at_scheme_order(scheme, low, high):
    # Space-time refinement with dt <= 10 h. The order comes from differences of
    # successive levels, m(N) - m(2N), so no reference solution is needed.
    # Observed: 0.997 for upwind, 2.01 and 2.06 for MUSCL.
    cells_list, differences = _successive_differences(scheme)
    for column in range(2):
        order = _fitted_order(cells_list, differences[:, column])
        assert low <= order <= high, (differences[:, column], order)


def test_solver_step_obeys_discrete_mass_balance():
    # One solver step of length dt: the new masses must equal the transported
    # masses times exp(+-2 G dt), cell by cell, to round-off.
    problem = Problem(6, 2)
    mesh = Mesh.uniform(64)
    dt = 0.01
    run = solve(problem, dt, mesh=mesh, save_times=[0.0, dt], n_phi=40)
    assert run.steps.values[-1] == 1

    model = ReducedModel(problem, mesh, 40)
    tau_plus = run.tau_plus.values[0]
    tau_minus = run.tau_minus.values[0]
    fields = model.fields(tau_plus, tau_minus)
    zero = np.zeros(mesh.cells)
    moved_plus = advance(tau_plus, fields.V_faces, zero, mesh.edges, dt)
    moved_minus = advance(tau_minus, -fields.V_faces, zero, mesh.edges, dt)
    expected_plus = np.sum(np.exp(2 * fields.G * dt) * moved_plus * mesh.widths)
    expected_minus = np.sum(np.exp(-2 * fields.G * dt) * moved_minus * mesh.widths)
    assert run.mass_plus.values[-1] == pytest.approx(expected_plus, rel=1e-14)
    assert run.mass_minus.values[-1] == pytest.approx(expected_minus, rel=1e-14)
    # Transport alone conserves each mass.
    assert moved_plus @ mesh.widths == pytest.approx(tau_plus @ mesh.widths, rel=1e-14)


def test_limit_state_is_nearly_stationary():
    # delta_0 is represented as the mass alpha in the first cell (centre h/2).
    # The kernel is even in theta, so phi_tilde(h/2; phi) = cos(phi) E[r_+] + O(h^2):
    # the residual, G and V of (alpha delta_0, 0) must vanish at second order.
    residuals, rates = [], []
    cells_list = [16, 32, 64, 128]
    for cells in cells_list:
        mesh = Mesh.uniform(cells)
        model = ReducedModel(PAPER, mesh, 96)
        tau_plus = np.zeros(cells)
        tau_plus[0] = PAPER.alpha / mesh.widths[0]
        fields = model.fields(tau_plus, np.zeros(cells))
        residuals.append(np.max(np.abs(fields.G)))
        rates.append(np.max(np.abs(fields.V_faces)))
    assert _fitted_order(cells_list, residuals) == pytest.approx(2.0, abs=0.15)
    assert _fitted_order(cells_list, rates) == pytest.approx(2.0, abs=0.15)
    assert residuals[-1] < 1e-6


def test_masses_move_toward_limits():
    run = solve(PAPER, 80.0, 256, save_times=[0.0, 80.0])
    assert run.mass_plus.values[-1] > 0.9 * PAPER.alpha
    assert run.mass_minus.values[-1] < 0.15
    assert run.w2_plus.values[-1] < run.w2_plus.values[0]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"t_end": -1.0}, ValueError, "t_end=-1.0"),
        ({"t_end": float("nan")}, ValueError, "t_end=nan"),
        ({"cells": 1}, ValueError, "cells=1"),
        ({"cells": 10.5}, TypeError, "cells=10.5"),
        ({"cfl": 1.5}, ValueError, "cfl=1.5"),
        ({"scheme": "weno"}, ValueError, "scheme='weno'"),
        ({"save_times": [0.0, 20.0]}, ValueError, "save_times must lie"),
        ({"dt_max": 0.0}, ValueError, "dt_max=0.0"),
        ({"n_phi": 1}, ValueError, "n_phi=1"),
        ({"max_steps": True}, ValueError, "max_steps=True"),
        ({"max_steps": -1}, ValueError, "max_steps=-1"),
        ({"max_steps": 1.5}, ValueError, "max_steps=1.5"),
        ({"n_phi": 2.7}, TypeError, "n_phi=2.7 is invalid"),
        ({"n_phi": "96"}, TypeError, "n_phi='96' is invalid"),
        ({"n_phi": 20_000}, ValueError, r"pass an integer in \[2, 10000\]"),
        (
            {"cells": 600_000},
            ValueError,
            "table entries, above 5e\\+07 \\(about 3 GB\\)",
        ),
        ({"cfl": "0.5"}, TypeError, "cfl='0.5' is invalid"),
        ({"dt_max": None}, TypeError, "dt_max=None is invalid"),
    ],
)
def test_solve_rejects_bad_input(kwargs, error, message):
    arguments = {"t_end": 1.0, "cells": 16}
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        solve(PAPER, **arguments)


def test_two_saves_are_start_and_end():
    run = solve(Problem(6, 2), 1.0, 16, saves=2)
    np.testing.assert_array_equal(run.time.values, [0.0, 1.0])
    assert run.attrs["final_time"] == 1.0


def test_save_times_always_include_start_and_end():
    run = solve(Problem(6, 2), 1.0, 16, save_times=[0.5])
    np.testing.assert_array_equal(run.time.values, [0.0, 0.5, 1.0])
