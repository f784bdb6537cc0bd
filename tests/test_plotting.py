"""Figures of a run: axis choices for narrow measures and measures without mass."""

import warnings

import matplotlib.pyplot as plt
import numpy as np

from pdeflow import Mesh, Problem, solve
from pdeflow.initial import concentrated_start
from pdeflow.plotting import _concentrated_near_zero, _plot_densities, plot_run

PROBLEM = Problem(6, 2)


def _density_axis(run, name):
    figure, axis = plt.subplots()
    _plot_densities(axis, run, name, [0, run.sizes["time"] - 1])
    return figure, axis


def test_narrow_tau_plus_gets_a_log_angle_axis():
    start = concentrated_start(PROBLEM, 1e-3)
    run = solve(PROBLEM, 1.0, mesh=Mesh.graded(64, 3.0), saves=2, initial=start)
    figure, axis = _density_axis(run, "tau_plus")
    assert axis.get_xscale() == "log"
    assert axis.get_xlim()[0] == run.theta_edges.values[1]
    plt.close(figure)
    figure, axis = _density_axis(run, "tau_minus")
    assert axis.get_xscale() == "linear"
    plt.close(figure)


def test_concentration_test_on_plain_densities():
    edges = np.linspace(0.0, 0.5 * np.pi, 101)
    spread = np.ones((1, 100))
    narrow = np.zeros((1, 100))
    narrow[0, :4] = 1.0  # all mass below 0.063 rad, within 1/20 of pi/2 (0.079)
    assert not _concentrated_near_zero(spread, edges)
    assert _concentrated_near_zero(narrow, edges)
    assert not _concentrated_near_zero(np.zeros((1, 100)), edges)


def test_measure_without_mass_plots_without_warnings(tmp_path):
    start = concentrated_start(PROBLEM, 0.01, mass_minus=0.0)
    run = solve(PROBLEM, 1.0, mesh=Mesh.graded(32, 3.0), saves=3, initial=start)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        target = plot_run(run, tmp_path / "run.png")
    assert target.stat().st_size > 10_000
