"""Quadrature rules for the Beta laws of the reduced model.

Every law in the model is a Beta law in a suitable variable, so Gauss–Jacobi
rules integrate polynomials in that variable exactly:

- ``gamma_k``: one coordinate of a uniform point of the sphere ``S^(k-1)``, with
  density ``(1 - r^2)^((k-3)/2) / B(1/2, (k-1)/2)`` on ``[-1, 1]``;
  ``gamma_1`` is the two-point law on ``{-1, +1}``.
- ``g``: the angle ``phi`` between a uniform point of ``S^(d-1)`` and a subspace
  ``H`` of dimension ``d_H``, integrated in ``y = cos(phi)``, where its density is
  ``2 y^(d_H-1) (1 - y^2)^((d_perp-2)/2) / B(d_H/2, d_perp/2)`` on ``[0, 1]``.

scipy's ``roots_jacobi`` loses digits for some parameters (exponent -1/2 with many
nodes), so :func:`gauss_jacobi` polishes its nodes by Newton steps on the Jacobi
polynomial and recomputes the weights from the derivative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln, roots_jacobi


@dataclass(frozen=True)
class Rule:
    """Nodes and weights of a quadrature rule for a probability law.

    Attributes
    ----------
    nodes : ndarray, shape (n,)
        Abscissae, in the variable of the law.
    weights : ndarray, shape (n,)
        Non-negative weights that sum to one.
    """

    nodes: np.ndarray
    weights: np.ndarray


def _jacobi_and_derivative(
    n: int, alpha: float, beta: float, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate P_n^(alpha, beta)(x) and its derivative by the three-term recurrence."""
    p_prev = np.ones_like(x)
    p = 0.5 * (alpha - beta + (alpha + beta + 2.0) * x)
    if n == 0:
        return p_prev, np.zeros_like(x)

    for k in range(2, n + 1):
        s = 2.0 * k + alpha + beta
        a1 = 2.0 * k * (k + alpha + beta) * (s - 2.0)
        a2 = (s - 1.0) * (alpha**2 - beta**2)
        a3 = (s - 2.0) * (s - 1.0) * s
        a4 = 2.0 * (k + alpha - 1.0) * (k + beta - 1.0) * s
        p_prev, p = p, ((a2 + a3 * x) * p - a4 * p_prev) / a1

    # Derivative from the standard identity for (1 - x^2) P_n'.
    s = 2.0 * n + alpha + beta
    dp = (n * (alpha - beta - s * x) * p + 2.0 * (n + alpha) * (n + beta) * p_prev) / (
        s * (1.0 - x**2)
    )
    return p, dp


def gauss_jacobi(n: int, alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Compute the n-point Gauss–Jacobi rule for the weight (1-x)^alpha (1+x)^beta.

    Parameters
    ----------
    n : int
        Number of nodes, at least 1.
    alpha, beta : float
        Exponents, both above -1.

    Returns
    -------
    x : ndarray, shape (n,)
        Nodes in (-1, 1), increasing.
    w : ndarray, shape (n,)
        Weights; they sum to ``2^(alpha+beta+1) B(alpha+1, beta+1)``.
    """
    if n < 1:
        raise ValueError(f"number of quadrature nodes n={n} is invalid: use n >= 1")
    if alpha <= -1.0 or beta <= -1.0:
        raise ValueError(
            f"Jacobi exponents alpha={alpha}, beta={beta} are invalid: "
            "both must be > -1"
        )

    x, _ = roots_jacobi(n, alpha, beta)
    x = np.asarray(x, dtype=float)

    # Newton polish: the eigenvalue nodes carry errors near 1e-12 for some
    # parameters, which the moments of the rule then show.
    for _ in range(3):
        p, dp = _jacobi_and_derivative(n, alpha, beta, x)
        x = np.clip(x - p / dp, -1.0 + 1e-300, 1.0 - 1e-16)

    _, dp = _jacobi_and_derivative(n, alpha, beta, x)
    log_c = (
        (alpha + beta + 1.0) * np.log(2.0)
        + gammaln(n + alpha + 1.0)
        + gammaln(n + beta + 1.0)
        - gammaln(n + alpha + beta + 1.0)
        - gammaln(n + 1.0)
    )
    w = np.exp(log_c - np.log1p(-(x**2)) - 2.0 * np.log(np.abs(dp)))

    # The log-gamma constant carries a relative error near 1e-13 for large
    # arguments; the zeroth moment in closed form removes it.
    total = np.exp((alpha + beta + 1.0) * np.log(2.0) + betaln(alpha + 1.0, beta + 1.0))
    return x, w * (total / w.sum())


def gamma_rule(k: int, n: int) -> Rule:
    """Build an n-point rule for gamma_k, the law of one coordinate on S^(k-1).

    Parameters
    ----------
    k : int
        Dimension of the ambient space, ``k >= 1``. For ``k = 1`` the law is the
        two-point law on ``{-1, +1}`` and the rule has two nodes whatever ``n``.
    n : int
        Number of nodes for ``k >= 2``.

    Returns
    -------
    Rule
        Nodes ``r`` in ``[-1, 1]`` and weights summing to one.
    """
    if k < 1:
        raise ValueError(f"sphere dimension k={k} is invalid: use k >= 1")
    if k == 1:
        return Rule(np.array([-1.0, 1.0]), np.array([0.5, 0.5]))

    exponent = (k - 3) / 2.0
    x, w = gauss_jacobi(n, exponent, exponent)
    return Rule(x, w / w.sum())


def angle_rule(d_H: int, d_perp: int, n: int) -> Rule:
    """Build an n-point rule for the angle law g, returned in the angle phi.

    The rule is Gauss–Jacobi in ``y = cos(phi)`` on ``[0, 1]`` with the weight
    ``y^(d_H-1) (1-y)^((d_perp-2)/2)``; the smooth factor
    ``(1+y)^((d_perp-2)/2)`` is folded into the weights. It integrates exactly
    every polynomial in ``cos(phi)`` of degree up to ``2n-1`` times that factor.

    Parameters
    ----------
    d_H, d_perp : int
        Dimensions of H and of its orthogonal complement, both ``>= 1``.
    n : int
        Number of nodes.

    Returns
    -------
    Rule
        Nodes ``phi`` in ``(0, pi/2]`` (radians), increasing, and weights that
        sum to one.
    """
    alpha = (d_perp - 2) / 2.0
    beta = d_H - 1.0
    x, w = gauss_jacobi(n, alpha, beta)
    y = 0.5 * (x + 1.0)

    # Weight in y: (1-y)^alpha y^beta = 2^-(alpha+beta) (1-x)^alpha (1+x)^beta, and
    # dx = 2 dy, so the rule in y has weights w / 2^(alpha+beta+1).
    log_norm = np.log(2.0) - betaln(d_H / 2.0, d_perp / 2.0)
    log_w = np.log(w) - (alpha + beta + 1.0) * np.log(2.0) + log_norm
    weights = np.exp(log_w + alpha * np.log1p(y))

    phi = np.arccos(y)[::-1]
    return Rule(phi, weights[::-1])


def tanh_sinh(level: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Build the tanh-sinh (double exponential) rule on [0, pi/2].

    The nodes cluster double-exponentially at both ends, so the rule resolves
    boundary layers of any width at the ends; its error falls like
    ``exp(-c 2^level)``. The transformed variable is cut at 3.2, where the
    weights fall below 1e-17: that suits bounded integrands, while an integrable
    singularity at an end would lose digits in the cut tail.

    Parameters
    ----------
    level : int
        Step ``h = 2^-level`` in the transformed variable.

    Returns
    -------
    psi : ndarray, shape (n,)
        Nodes in (0, pi/2), radians.
    psi_complement : ndarray, shape (n,)
        ``pi/2 - psi`` computed without cancellation.
    weights : ndarray, shape (n,)
        Weights for the integral of a function over ``[0, pi/2]``.
    """
    h = 2.0**-level
    t_max = 3.2  # the weights fall below 1e-40 beyond this point
    t = np.arange(-t_max, t_max + 0.5 * h, h)
    u = 0.5 * np.pi * np.sinh(t)
    quarter = 0.25 * np.pi
    psi = 2.0 * quarter / (1.0 + np.exp(-2.0 * u))
    psi_complement = 2.0 * quarter / (1.0 + np.exp(2.0 * u))
    weights = h * quarter * 0.5 * np.pi * np.cosh(t) / np.cosh(u) ** 2

    keep = (psi > 0.0) & (psi_complement > 0.0) & (weights > 0.0)
    return psi[keep], psi_complement[keep], weights[keep]
