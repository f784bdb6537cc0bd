"""Extreme configurations: smallest and largest dimensions, meshes and horizons."""

import numpy as np
import pytest

from pdeflow import Problem, solve


def _check_run(run, problem):
    assert run.attrs["stop_reason"] == "completed"
    assert run.mass_plus.values[0] == pytest.approx(0.5, rel=1e-12)
    assert run.mass_minus.values[0] == pytest.approx(0.5, rel=1e-12)
    assert run.loss.values[0] == pytest.approx(problem.initial_loss, rel=1e-10)
    assert float(run.tau_plus.min()) >= 0.0
    assert float(run.tau_minus.min()) >= 0.0
    assert np.all(np.isfinite(run.loss.values))
    assert np.diff(run.loss.values).max() <= 1e-10 * problem.initial_loss


@pytest.mark.parametrize(
    ("d", "d_H"),
    [(2, 1), (30, 1), (6, 5), (200, 100), (1000, 1), (1000, 999), (1000, 10)],
)
def test_extreme_dimensions(d, d_H):
    problem = Problem(d, d_H)
    run = solve(problem, 5.0, 64, saves=6)
    _check_run(run, problem)


@pytest.mark.parametrize("cells", [2, 3, 20_000])
def test_extreme_cell_counts(cells):
    problem = Problem(30, 5)
    run = solve(problem, 0.5, cells, saves=3, store_fields=False)
    _check_run(run, problem)


def test_hundred_thousand_cells():
    # The largest mesh named in the docs: kernel tables of 1e5 x 97 entries
    # take about 10 s and 650 MB on a 2-core machine, so the horizon is short.
    problem = Problem(30, 5)
    run = solve(problem, 0.01, 100_000, saves=2, store_fields=False)
    _check_run(run, problem)
    assert run.attrs["steps"] >= 1


def test_long_horizon():
    # t_end = 1e5 on a coarse mesh: the step grows as the fields settle, so the
    # run takes about 15000 steps and the loss keeps falling.
    problem = Problem(30, 5)
    run = solve(problem, 1e5, 16, saves=20, store_fields=False)
    _check_run(run, problem)
    assert run.loss.values[-1] < 1e-4 * problem.initial_loss


def test_tiny_horizon():
    problem = Problem(30, 5)
    run = solve(problem, 1e-6, 32, saves=3)
    _check_run(run, problem)
    assert run.attrs["steps"] >= 1
