"""Random and deterministic samples of the laws of the reduced model.

- The angle law g of a uniform point of S^(d-1) to H: sin^2(theta) follows
  Beta(d_perp/2, d_H/2).
- gamma_k, one coordinate r of a uniform point of S^(k-1): (r + 1) / 2 follows
  Beta((k-1)/2, (k-1)/2) for k >= 2, and r = +-1 with probability 1/2 for k = 1.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaincinv

from ..problem import Problem

INITIAL_LAYOUTS = ("gauss", "midpoint", "random")


def sample_angles(problem: Problem, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw angles from g, shape (size,), radians in [0, pi/2]."""
    sin2 = rng.beta(problem.d_perp / 2.0, problem.d_H / 2.0, size)
    return np.arcsin(np.sqrt(sin2))


def sample_coordinate(k: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one coordinate of a uniform point of S^(k-1), shape (size,), in [-1, 1]."""
    if k == 1:
        return rng.choice(np.array([-1.0, 1.0]), size)
    half = (k - 1) / 2.0
    return 2.0 * rng.beta(half, half, size) - 1.0


def initial_particles(
    problem: Problem, m: int, layout: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place m particles that represent tau_plus(0) = tau_minus(0) = g / 2.

    Parameters
    ----------
    problem : Problem
        Dimensions d and d_H.
    m : int
        Number of particles; even for the layouts ``"gauss"`` and ``"midpoint"``,
        which put m / 2 particles of each sign at the same angles.
    layout : str
        ``"gauss"``: the nodes of the (m/2)-point Gauss–Jacobi rule of g in
        cos(theta), with weights proportional to the rule weights.
        ``"midpoint"``: the quantiles of g at (i - 1/2) / (m/2), equal weights.
        ``"random"``: i.i.d. angles from g and signs +-1 with probability 1/2,
        equal weights (the initialisation of a network).
    rng : numpy.random.Generator
        Source of randomness for ``"random"``.

    Returns
    -------
    theta : ndarray, shape (m,)
        Angles in radians.
    weight : ndarray, shape (m,)
        Non-negative weights c_j; tau = (1/m) sum_j sign_j weight_j delta_theta_j.
    sign : ndarray, shape (m,)
        +1 for particles of tau_plus, -1 for those of tau_minus.
    """
    if layout not in INITIAL_LAYOUTS:
        raise ValueError(
            f"layout={layout!r} is unknown: choose one of {', '.join(INITIAL_LAYOUTS)}"
        )
    if layout == "random":
        theta = sample_angles(problem, m, rng)
        sign = rng.choice(np.array([-1.0, 1.0]), m)
        return theta, np.ones(m), sign
    if m % 2:
        raise ValueError(
            f"m={m} is invalid for layout {layout!r}: pass an even number of "
            "particles, half for each sign"
        )
    half = m // 2
    if layout == "gauss":
        rule = problem.angle_rule(half)
        angles, weight = rule.nodes, rule.weights * half
    else:
        levels = (np.arange(half) + 0.5) / half
        sin2 = betaincinv(problem.d_perp / 2.0, problem.d_H / 2.0, levels)
        angles, weight = np.arcsin(np.sqrt(sin2)), np.ones(half)
    theta = np.concatenate([angles, angles])
    sign = np.concatenate([np.ones(half), -np.ones(half)])
    return theta, np.concatenate([weight, weight]), sign
