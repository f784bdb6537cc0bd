"""The kernel against an independent mpmath evaluation, closed forms and symmetries."""

import mpmath as mp
import numpy as np
import pytest
from mpmath_kernel import reference

from pdeflow.kernel import build_tables, phi_tilde, phi_tilde_dtheta, positive_part_mean

HALF_PI = 0.5 * np.pi

# (d_H, d_perp) pairs: the two-point laws (value 1), the d = 2 kink, d = 30 with
# d_H = 5 (Figure 3 of Hajjar and Chizat, 2023) and dimensions up to d = 200.
DIMENSIONS = [
    (1, 1),
    (1, 4),
    (4, 1),
    (2, 2),
    (2, 1),
    (5, 25),
    (3, 40),
    (100, 100),
    (5, 195),
]

# Points: both ends of theta, theta = phi, on the kink theta + phi = pi/2, just
# off it, and generic interior points.
POINTS = [
    (0.0, 0.3),
    (HALF_PI, 0.4),
    (0.7, 0.7),
    (0.5, HALF_PI - 0.5),
    (0.5, HALF_PI - 0.5 - 1e-7),
    (0.3, 1.2),
    (1.2, 0.2),
    (1.5, 0.05),
    (0.05, 1.5),
    (0.9, HALF_PI),
]

# The float64 evaluation should match to a few units of round-off of values of
# order one; 1e-12 absolute is the accuracy promised to users.
TOLERANCE = 1e-12


@pytest.mark.parametrize(("d_H", "d_perp"), DIMENSIONS)
def test_kernel_matches_mpmath(d_H, d_perp):
    for theta, phi in POINTS:
        expected = float(reference(theta, phi, d_H, d_perp))
        got = float(phi_tilde(theta, phi, d_H, d_perp))
        assert abs(got - expected) < TOLERANCE, (theta, phi, got, expected)


@pytest.mark.parametrize(("d_H", "d_perp"), DIMENSIONS)
def test_kernel_slope_matches_mpmath(d_H, d_perp):
    for theta, phi in POINTS:
        if d_H == d_perp == 1 and abs(theta + phi - HALF_PI) < 1e-6:
            continue  # the d = 2 slope jumps on the kink: no single value to match
        expected = float(reference(theta, phi, d_H, d_perp, slope=True))
        got = float(phi_tilde_dtheta(theta, phi, d_H, d_perp))
        assert abs(got - expected) < TOLERANCE, (theta, phi, got, expected)


def test_slope_matches_mpmath_derivative():
    # A third route for the slope: numerical differentiation of the reference.
    theta, phi = 0.6, 0.4
    expected = mp.diff(lambda x: reference(x, phi, 3, 7), theta)
    assert abs(float(phi_tilde_dtheta(theta, phi, 3, 7)) - float(expected)) < 1e-12


@pytest.mark.parametrize("d_H", [1, 2, 3, 5, 50])
def test_kernel_at_theta_zero_closed_form(d_H):
    # phi_tilde(0; phi) = cos(phi) E[r_+], with
    # E[r_+] = Gamma(d_H/2) / (2 sqrt(pi) Gamma((d_H+1)/2)).
    phi = np.linspace(0.0, HALF_PI, 17)
    e_plus = mp.gamma(mp.mpf(d_H) / 2) / (
        2 * mp.sqrt(mp.pi) * mp.gamma(mp.mpf(d_H + 1) / 2)
    )
    expected = np.cos(phi) * float(e_plus)
    np.testing.assert_allclose(
        phi_tilde(0.0, phi, d_H, 7), expected, rtol=0, atol=1e-15
    )
    assert positive_part_mean(d_H) == pytest.approx(float(e_plus), rel=1e-14)


@pytest.mark.parametrize(("d_H", "d_perp"), [(1, 1), (2, 3), (5, 25), (7, 2)])
def test_kernel_symmetric_in_theta_and_phi(d_H, d_perp):
    rng = np.random.default_rng(7)
    theta = rng.uniform(0.0, HALF_PI, 500)
    phi = rng.uniform(0.0, HALF_PI, 500)
    forward = phi_tilde(theta, phi, d_H, d_perp)
    swapped = phi_tilde(phi, theta, d_H, d_perp)
    np.testing.assert_allclose(forward, swapped, rtol=0, atol=2e-15)


def test_slope_vanishes_at_both_ends():
    phi = np.linspace(0.05, 1.5, 9)
    assert np.all(phi_tilde_dtheta(0.0, phi, 5, 25) == 0.0)
    assert np.max(np.abs(phi_tilde_dtheta(HALF_PI, phi, 5, 25))) < 1e-15


def test_kernel_broadcasts():
    theta = np.linspace(0.0, HALF_PI, 5)[:, None]
    phi = np.linspace(0.0, HALF_PI, 3)[None, :]
    assert phi_tilde(theta, phi, 5, 25).shape == (5, 3)
    assert phi_tilde_dtheta(theta, phi, 5, 25).shape == (5, 3)
    assert np.ndim(phi_tilde(0.3, 0.4, 5, 25)) == 0


def test_tables_match_pointwise_kernel():
    edges = np.linspace(0.0, HALF_PI, 9)
    centres = 0.5 * (edges[1:] + edges[:-1])
    phi = np.array([0.1, 0.8, 1.4])
    tables = build_tables(centres, edges, phi, 5, 25)
    np.testing.assert_array_equal(
        tables.centres, phi_tilde(centres[:, None], phi, 5, 25)
    )
    np.testing.assert_array_equal(
        tables.dtheta_faces, phi_tilde_dtheta(edges[:, None], phi, 5, 25)
    )
    assert tables.build_seconds > 0.0


@pytest.mark.parametrize(
    ("theta", "d_H", "d_perp", "error"),
    [
        (-0.1, 5, 25, ValueError),
        (1.7, 5, 25, ValueError),
        (np.nan, 5, 25, ValueError),
        (0.3, 0, 25, ValueError),
        (0.3, 5, 2.5, TypeError),
    ],
)
def test_kernel_rejects_bad_input(theta, d_H, d_perp, error):
    with pytest.raises(error):
        phi_tilde(theta, 0.3, d_H, d_perp)
