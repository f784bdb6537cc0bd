"""Slope limiters and the MUSCL step: no new extrema, positivity, second order."""

import numpy as np
import pytest

from pdeflow.limiters import LIMITERS, get_limiter
from pdeflow.scheme import advance, half_cell_jumps, stable_dt

HALF_PI = 0.5 * np.pi


@pytest.mark.parametrize("name", sorted(LIMITERS))
def test_limiter_vanishes_at_extrema(name):
    limiter = get_limiter(name)
    left = np.array([1.0, -2.0, 0.0, 3.0])
    right = np.array([-1.0, 2.0, 5.0, 0.0])
    np.testing.assert_array_equal(limiter(left, right), 0.0)


@pytest.mark.parametrize("name", sorted(LIMITERS))
def test_limiter_bounded_by_twice_smaller_slope(name):
    rng = np.random.default_rng(11)
    left = rng.normal(size=1000)
    right = left * rng.uniform(0.01, 100.0, 1000)  # same sign
    slope = get_limiter(name)(left, right)
    smaller = np.minimum(np.abs(left), np.abs(right))
    assert np.all(np.sign(slope) == np.sign(left))
    assert np.all(np.abs(slope) <= 2.0 * smaller * (1 + 1e-15))


def test_limiters_on_smooth_data_give_central_slope():
    # Equal one-sided slopes: every limiter returns that slope.
    slopes = np.array([0.5, -1.5, 2.0])
    for name in LIMITERS:
        np.testing.assert_allclose(get_limiter(name)(slopes, slopes), slopes)


@pytest.mark.parametrize("name", sorted(LIMITERS))
@pytest.mark.parametrize("uniform", [True, False])
def test_face_values_between_neighbours(name, uniform):
    rng = np.random.default_rng(12)
    cells = 60
    if uniform:
        edges = np.linspace(0.0, HALF_PI, cells + 1)
    else:
        edges = np.sort(np.r_[0.0, rng.uniform(0.0, HALF_PI, cells - 1), HALF_PI])
    density = rng.uniform(0.0, 1.0, cells) ** 3
    jumps = half_cell_jumps(density, edges, name)
    right_face = density + jumps
    left_face = density - jumps
    low = np.minimum(density[:-1], density[1:])
    high = np.maximum(density[:-1], density[1:])
    assert np.all(right_face[:-1] >= low - 1e-15)
    assert np.all(right_face[:-1] <= high + 1e-15)
    assert np.all(left_face[1:] >= low - 1e-15)
    assert np.all(left_face[1:] <= high + 1e-15)


@pytest.mark.parametrize("name", sorted(LIMITERS))
def test_pure_advection_creates_no_new_extrema(name):
    # A square pulse and a smooth bump carried by a constant velocity for 100
    # steps (about 0.35 rad, so nothing reaches the wall where mass would pile
    # up): the maximum never grows, the minimum never falls below zero.
    edges = np.linspace(0.0, HALF_PI, 201)
    centres = 0.5 * (edges[1:] + edges[:-1])
    density = np.where((centres > 0.2) & (centres < 0.4), 1.0, 0.0)
    density += 0.5 * np.exp(-((centres - 0.8) ** 2) / 0.005)
    velocity = np.full(201, 0.3)
    dt = stable_dt(velocity, edges, 0.9, "muscl")
    top = density.max()
    for _ in range(100):
        density = advance(density, velocity, np.zeros(200), edges, dt, "muscl", name)
        assert density.max() <= top * (1 + 1e-14)
        assert density.min() >= 0.0


def test_muscl_positivity_on_random_meshes():
    rng = np.random.default_rng(13)
    for _ in range(100):
        cells = 30
        edges = np.sort(np.r_[0.0, rng.uniform(0.0, HALF_PI, cells - 1), HALF_PI])
        density = rng.uniform(0.0, 2.0, cells) * (rng.uniform(size=cells) > 0.3)
        velocity = rng.normal(size=cells + 1)
        rate = rng.normal(size=cells)
        dt = stable_dt(velocity, edges, 1.0, "muscl")
        after = advance(density, velocity, rate, edges, dt, "muscl", "mc")
        assert after.min() >= -1e-14 * density.max()


def test_muscl_reaction_alone_is_exact():
    rng = np.random.default_rng(14)
    edges = np.linspace(0.0, HALF_PI, 11)
    density = rng.uniform(size=10)
    rate = rng.normal(size=10)
    after = advance(density, np.zeros(11), rate, edges, 0.4, "muscl")
    np.testing.assert_allclose(after, density * np.exp(0.4 * rate), rtol=1e-15)


def test_muscl_transport_conserves_mass():
    rng = np.random.default_rng(15)
    edges = np.sort(np.r_[0.0, rng.uniform(0.0, HALF_PI, 39), HALF_PI])
    density = rng.uniform(size=40)
    velocity = rng.normal(size=41)
    dt = stable_dt(velocity, edges, 0.9, "muscl")
    after = advance(density, velocity, np.zeros(40), edges, dt, "muscl")
    widths = np.diff(edges)
    assert after @ widths == pytest.approx(density @ widths, rel=1e-14)


def _advect_bump(cells, scheme):
    """Carry a smooth bump with v(theta) = 0.3 sin(2 theta) up to t = 0.5."""
    edges = np.linspace(0.0, HALF_PI, cells + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    density = np.exp(-((centres - 0.6) ** 2) / 0.02)
    velocity = 0.3 * np.sin(2 * edges)
    dt = 0.5 * stable_dt(velocity, edges, 0.5, "muscl")
    steps = int(np.ceil(0.5 / dt))
    for _ in range(steps):
        density = advance(
            density, velocity, np.zeros(cells), edges, 0.5 / steps, scheme
        )
    return density, np.diff(edges)


@pytest.mark.parametrize(
    ("scheme", "low", "high"), [("upwind", 0.8, 1.2), ("muscl", 1.7, 2.3)]
)
def test_observed_order_on_smooth_advection(scheme, low, high):
    # L1 differences between successive levels (each fine solution averaged onto
    # the coarse cells) give the order without an exact solution.
    levels = [50, 100, 200, 400, 800]
    solutions = [_advect_bump(cells, scheme) for cells in levels]
    differences = []
    for (coarse, widths), (fine, _) in zip(solutions[:-1], solutions[1:], strict=True):
        restricted = 0.5 * (fine[0::2] + fine[1::2])
        differences.append(np.sum(np.abs(coarse - restricted) * widths))
    order = -np.polyfit(np.log(levels[:-1]), np.log(differences), 1)[0]
    assert low <= order <= high, (differences, order)


def test_unknown_limiter_is_rejected():
    with pytest.raises(ValueError, match="limiter='superbee' is unknown"):
        advance(
            np.ones(4),
            np.zeros(5),
            np.zeros(4),
            np.linspace(0, 1, 5),
            0.1,
            "muscl",
            "superbee",
        )
