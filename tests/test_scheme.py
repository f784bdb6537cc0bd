"""The finite-volume step on its own: positivity, mass balance, reaction, CFL."""

import numpy as np
import pytest

from pdeflow.scheme import advance, stable_dt

HALF_PI = 0.5 * np.pi


def _random_case(rng, cells=40):
    edges = np.sort(np.r_[0.0, rng.uniform(0.0, HALF_PI, cells - 1), HALF_PI])
    density = rng.uniform(0.0, 3.0, cells)
    velocity = rng.normal(0.0, 1.0, cells + 1)
    rate = rng.normal(0.0, 0.5, cells)
    return density, velocity, rate, edges


def test_positivity_at_the_stable_step():
    rng = np.random.default_rng(1)
    for _ in range(200):
        density, velocity, rate, edges = _random_case(rng)
        density[rng.integers(0, density.size, 5)] = 0.0
        dt = stable_dt(velocity, edges, 1.0)
        after = advance(density, velocity, rate, edges, dt)
        # At cfl = 1 a cell may empty exactly: allow round-off below zero only.
        assert after.min() >= -1e-14 * density.max()


def test_transport_conserves_mass_to_round_off():
    rng = np.random.default_rng(2)
    density, velocity, _, edges = _random_case(rng)
    widths = np.diff(edges)
    dt = stable_dt(velocity, edges, 0.9)
    after = advance(density, velocity, np.zeros(density.size), edges, dt)
    before_mass = density @ widths
    assert abs(after @ widths - before_mass) < 1e-14 * before_mass


def test_discrete_mass_balance_with_reaction():
    # After the step, mass = sum_i exp(rate_i dt) * (mass of cell i after transport).
    rng = np.random.default_rng(3)
    density, velocity, rate, edges = _random_case(rng)
    widths = np.diff(edges)
    dt = stable_dt(velocity, edges, 0.5)
    transported = advance(density, velocity, np.zeros_like(rate), edges, dt)
    after = advance(density, velocity, rate, edges, dt)
    expected = np.sum(np.exp(rate * dt) * transported * widths)
    assert after @ widths == pytest.approx(expected, rel=1e-14)


def test_reaction_alone_is_exact():
    # With no transport the step solves d rho/dt = rate rho exactly.
    rng = np.random.default_rng(4)
    density, _, rate, edges = _random_case(rng)
    after = advance(density, np.zeros(edges.size), rate, edges, 0.37)
    np.testing.assert_allclose(after, density * np.exp(0.37 * rate), rtol=1e-15)


def test_end_velocities_are_ignored():
    rng = np.random.default_rng(5)
    density, velocity, rate, edges = _random_case(rng)
    walls = velocity.copy()
    walls[0], walls[-1] = 0.0, 0.0
    loud = velocity.copy()
    loud[0], loud[-1] = -50.0, 50.0
    dt = stable_dt(walls, edges, 0.9)
    np.testing.assert_array_equal(
        advance(density, loud, rate, edges, dt),
        advance(density, walls, rate, edges, dt),
    )


def test_stable_dt_counts_both_faces():
    # Cell 1 of width 0.5 loses mass through both faces: 1.0 to the left, 3.0 to
    # the right, so it empties at dt = 0.5 / 4.
    edges = np.array([0.0, 0.5, 1.0, HALF_PI])
    velocity = np.array([0.0, -1.0, 3.0, 0.0])
    assert stable_dt(velocity, edges, 1.0) == pytest.approx(0.125, rel=1e-15)
    assert stable_dt(velocity, edges, 0.5) == pytest.approx(0.0625, rel=1e-15)
    after = advance(np.array([0.0, 1.0, 0.0]), velocity, np.zeros(3), edges, 0.125)
    assert after[1] == pytest.approx(0.0, abs=1e-15)


def test_stable_dt_without_outflow_is_infinite():
    edges = np.linspace(0.0, HALF_PI, 5)
    assert stable_dt(np.zeros(5), edges, 0.9) == np.inf


def test_uniform_translation_moves_mass_downstream():
    # Constant positive velocity: the first moment grows by at most v dt per unit mass.
    edges = np.linspace(0.0, HALF_PI, 101)
    centres = 0.5 * (edges[1:] + edges[:-1])
    density = np.exp(-((centres - 0.5) ** 2) / 0.01)
    velocity = np.full(101, 0.2)
    dt = stable_dt(velocity, edges, 0.8)
    after = advance(density, velocity, np.zeros(100), edges, dt)
    shift = (after - density) @ centres / density.sum()
    assert shift == pytest.approx(0.2 * dt, rel=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dt": 10.0}, "exceeds the stable step"),
        ({"dt": -1.0}, "dt=-1"),
        ({"scheme": "weno"}, "scheme='weno' is unknown"),
        ({"velocity": np.zeros(3)}, "one value per face"),
        ({"rate": np.zeros(2)}, "one value per cell"),
    ],
)
def test_advance_rejects_bad_input(kwargs, message):
    edges = np.linspace(0.0, HALF_PI, 5)
    arguments = {
        "density": np.ones(4),
        "velocity": np.ones(5),
        "rate": np.zeros(4),
        "edges": edges,
        "dt": 0.1,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        advance(**arguments)


def test_stable_dt_rejects_cfl_above_one():
    with pytest.raises(ValueError, match="cfl=1.5"):
        stable_dt(np.ones(5), np.linspace(0.0, HALF_PI, 5), 1.5)


@pytest.mark.parametrize(
    ("velocity", "edges", "needle"),
    [
        (np.array([0.0, np.nan, 0.0]), np.linspace(0.0, 1.0, 3), "nan or inf"),
        (np.zeros(3), np.array([0.0, 1.0, 0.5]), "not strictly increasing"),
        (np.zeros(1), np.zeros(1), "at least 3 faces"),
    ],
)
def test_stable_dt_rejects_bad_input(velocity, edges, needle):
    with pytest.raises(ValueError, match=needle):
        stable_dt(velocity, edges, 0.9)
