"""Figures of a run: axis choices for narrow measures and measures without mass."""

import warnings

import matplotlib.pyplot as plt
import numpy as np

from pdeflow import Mesh, Problem, solve
from pdeflow.initial import concentrated_start
from pdeflow.plotting import (
    _concentrated_near_zero,
    _plot_densities,
    plain_log_ticks,
    plot_run,
)

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


def test_short_log_axes_get_plain_labels():
    figure, axis = plt.subplots()
    axis.loglog([0.2, 8.0], [0.15, 3.0])
    plain_log_ticks(axis.xaxis)
    figure.canvas.draw()
    labels = [t.get_text() for t in axis.get_xticklabels() if t.get_visible()]
    visible = {label for label in labels if label}
    assert {"0.2", "0.5", "1", "2", "5"} <= visible
    assert all(float(label) > 0 for label in visible)  # no 2x10^-1 mathtext
    assert all(t.get_text() == "" for t in axis.xaxis.get_minorticklabels())
    plt.close(figure)


def test_long_log_axes_keep_their_labels():
    figure, axis = plt.subplots()
    axis.loglog([1e-4, 1e4], [1e-4, 1e4])
    formatter = axis.xaxis.get_major_formatter()
    plain_log_ticks(axis.xaxis)
    assert axis.xaxis.get_major_formatter() is formatter
    plt.close(figure)
