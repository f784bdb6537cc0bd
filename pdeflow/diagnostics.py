"""Scalar diagnostics of a state (tau_plus, tau_minus) on a mesh.

W2 distances use the piecewise-constant density of each cell: the W2 distance of
a probability measure to a Dirac mass at c is sqrt(int (theta - c)^2 dtau), and
the integral of (theta - c)^2 over each cell is exact for that reconstruction.
"""

from __future__ import annotations

import numpy as np

from .fields import Fields, ReducedModel
from .mesh import HALF_PI

SCALARS = {
    "mass_plus": ("mass of tau_plus", "1"),
    "mass_minus": ("mass of tau_minus", "1"),
    "mass_error_plus": ("|mass of tau_plus - alpha|", "1"),
    "loss": ("loss A = (1/2) int R^2 dg", "1"),
    "dissipation": (
        "int (V^2 + 2 G^2) d(tau_plus + tau_minus), equal to -dA/dt",
        "1/time",
    ),
    "mean_theta_plus": ("mean angle of normalised tau_plus", "rad"),
    "mean_theta_minus": ("mean angle of normalised tau_minus", "rad"),
    "w2_plus": ("W2 distance of normalised tau_plus to delta_0", "rad"),
    "w2_minus": ("W2 distance of normalised tau_minus to delta_(pi/2)", "rad"),
}


def _normalised_moment(
    weights_per_cell: np.ndarray, density: np.ndarray, mass: float
) -> float:
    if mass <= 0.0:
        return float("nan")
    return float(weights_per_cell @ density) / mass


def measure(
    model: ReducedModel, tau_plus: np.ndarray, tau_minus: np.ndarray, fields: Fields
) -> dict[str, float]:
    """Compute the scalar diagnostics of one state.

    Parameters
    ----------
    model : ReducedModel
        Tables and quadrature of the run.
    tau_plus, tau_minus : ndarray, shape (cells,)
        Densities per radian.
    fields : Fields
        Fields of this state, from ``model.fields``.

    Returns
    -------
    dict
        One float per key of ``SCALARS``; masses are dimensionless, angles and W2
        distances in radians. The normalised quantities are nan for zero mass.
    """
    mesh = model.mesh
    widths = mesh.widths
    mass_plus = float(tau_plus @ widths)
    mass_minus = float(tau_minus @ widths)

    V_centres = model.velocity_at_centres(fields)
    rate = V_centres**2 + 2.0 * fields.G**2
    dissipation = float(rate @ ((tau_plus + tau_minus) * widths))

    first = mesh.first_moments()
    w2_plus_sq = _normalised_moment(mesh.second_moments(0.0), tau_plus, mass_plus)
    w2_minus_sq = _normalised_moment(
        mesh.second_moments(HALF_PI), tau_minus, mass_minus
    )

    return {
        "mass_plus": mass_plus,
        "mass_minus": mass_minus,
        "mass_error_plus": abs(mass_plus - model.problem.alpha),
        "loss": fields.loss,
        "dissipation": dissipation,
        "mean_theta_plus": _normalised_moment(first, tau_plus, mass_plus),
        "mean_theta_minus": _normalised_moment(first, tau_minus, mass_minus),
        "w2_plus": float(np.sqrt(w2_plus_sq)),
        "w2_minus": float(np.sqrt(w2_minus_sq)),
    }
