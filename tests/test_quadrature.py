"""Gauss–Jacobi rules checked by their moments against closed-form Beta integrals."""

import numpy as np
import pytest
from scipy.special import betaln

from pdeflow.quadrature import angle_rule, gamma_rule, gauss_jacobi, tanh_sinh


def _jacobi_moment(k, alpha, beta):
    """int_{-1}^{1} ((1+x)/2)^k (1-x)^alpha (1+x)^beta dx, in closed form."""
    return 2.0 ** (alpha + beta + 1.0) * np.exp(betaln(k + beta + 1.0, alpha + 1.0))


@pytest.mark.parametrize(
    ("n", "alpha", "beta"),
    [
        (64, -0.5, 0.0),
        (400, -0.5, 0.0),
        (800, -0.5, 4.0),
        (128, 11.5, 4.0),
        (300, -0.5, -0.5),
    ],
)
def test_gauss_jacobi_moments(n, alpha, beta):
    # Moments of y = (1+x)/2 up to degree 40 are well conditioned, so a rule that
    # is exact for them must reproduce them to round-off (1e-14 relative).
    x, w = gauss_jacobi(n, alpha, beta)
    y = 0.5 * (x + 1.0)
    for k in range(0, 41, 4):
        expected = _jacobi_moment(k, alpha, beta)
        assert abs(np.sum(w * y**k) / expected - 1.0) < 1e-13, k


def test_gauss_jacobi_nodes_are_roots():
    # A node error shows as a residual of the three-term recurrence at the node.
    from scipy.special import eval_jacobi

    x, _ = gauss_jacobi(200, -0.5, 3.0)
    scale = np.max(np.abs(eval_jacobi(200, -0.5, 3.0, np.linspace(-0.99, 0.99, 999))))
    assert np.max(np.abs(eval_jacobi(200, -0.5, 3.0, x))) < 1e-10 * scale


@pytest.mark.parametrize("k", [2, 3, 5, 30])
def test_gamma_rule_moments(k):
    # gamma_k has E[r^2] = 1/k and E[r^4] = 3/(k(k+2)); odd moments vanish.
    rule = gamma_rule(k, 20)
    assert np.sum(rule.weights) == pytest.approx(1.0, abs=1e-15)
    assert np.sum(rule.weights * rule.nodes**2) == pytest.approx(1.0 / k, rel=1e-13)
    assert np.sum(rule.weights * rule.nodes**4) == pytest.approx(
        3.0 / (k * (k + 2)), rel=1e-13
    )
    assert abs(np.sum(rule.weights * rule.nodes**3)) < 1e-15


def test_gamma_rule_two_point_law():
    rule = gamma_rule(1, 10)
    np.testing.assert_array_equal(rule.nodes, [-1.0, 1.0])
    np.testing.assert_array_equal(rule.weights, [0.5, 0.5])


@pytest.mark.parametrize(
    ("d_H", "d_perp"), [(1, 1), (1, 5), (5, 1), (2, 2), (5, 25), (10, 190)]
)
def test_angle_rule_moments(d_H, d_perp):
    # cos^2(phi) ~ Beta(d_H/2, d_perp/2): E[cos^2] = d_H/d, and
    # E[cos] = B((d_H+1)/2, d_perp/2) / B(d_H/2, d_perp/2).
    rule = angle_rule(d_H, d_perp, 40)
    d = d_H + d_perp
    cos_phi = np.cos(rule.nodes)
    expected_cos = np.exp(
        betaln((d_H + 1) / 2, d_perp / 2) - betaln(d_H / 2, d_perp / 2)
    )
    assert np.sum(rule.weights) == pytest.approx(1.0, rel=1e-14)
    assert np.sum(rule.weights * cos_phi**2) == pytest.approx(d_H / d, rel=1e-13)
    assert np.sum(rule.weights * cos_phi) == pytest.approx(expected_cos, rel=1e-13)
    assert np.all(np.diff(rule.nodes) > 0.0)
    assert rule.nodes.min() >= 0.0
    assert rule.nodes.max() <= 0.5 * np.pi


@pytest.mark.parametrize("epsilon", [1.0, 1e-4, 1e-10])
def test_tanh_sinh_resolves_boundary_layer(epsilon):
    # int_0^{pi/2} sqrt(epsilon + cos^2 psi) dpsi = sqrt(1 + epsilon) E(1/(1 + epsilon))
    # with E the complete elliptic integral of the second kind; the integrand has
    # a layer of width sqrt(epsilon) at pi/2, like the kernel near its kink.
    from scipy.special import ellipe

    _, complement, weights = tanh_sinh(5)
    expected = np.sqrt(1.0 + epsilon) * ellipe(1.0 / (1.0 + epsilon))
    got = np.sum(weights * np.sqrt(epsilon + np.sin(complement) ** 2))
    assert got == pytest.approx(expected, rel=1e-14)


def test_gauss_jacobi_rejects_bad_input():
    with pytest.raises(ValueError, match="n=0"):
        gauss_jacobi(0, 0.0, 0.0)
    with pytest.raises(ValueError, match="alpha=-1"):
        gauss_jacobi(5, -1.0, 0.0)
