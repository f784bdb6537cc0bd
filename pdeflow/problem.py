"""The reduced problem: dimensions, the angle law g and the expected limit mass.

Inputs are uniform on the unit sphere of R^d, the target is the norm of the
projection on a subspace H of dimension d_H, and the network starts with output
weights +-1 and input weights uniform on the sphere (Hajjar and Chizat, 2023,
"On the symmetries in the dynamics of wide two-layer neural networks").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betainc, betaln, gammaln

from .checks import is_integer
from .quadrature import Rule, angle_rule

# Largest input dimension: above it the Gauss–Jacobi weights of the angle law
# overflow for some d_H (d = 2000 with d_H = 1 does; d = 1000 is tested).
MAX_DIMENSION = 1000


def _require_integer(name: str, value: object) -> int:
    if not is_integer(value):
        raise TypeError(f"{name}={value!r} is invalid: pass an integer")
    return int(value)


@dataclass(frozen=True)
class Problem:
    """The symmetric setting: input dimension d and dimension d_H of H.

    Parameters
    ----------
    d : int
        Input dimension, at least 2.
    d_H : int
        Dimension of the subspace H, with ``1 <= d_H < d``.

    Examples
    --------
    >>> Problem(d=30, d_H=5).alpha  # doctest: +ELLIPSIS
    5.333333333333...
    """

    d: int
    d_H: int

    def __post_init__(self) -> None:
        d = _require_integer("d", self.d)
        d_H = _require_integer("d_H", self.d_H)
        if d < 2:
            raise ValueError(
                f"d={d} is invalid: pass d >= 2, since H and its complement both "
                "need dimension >= 1"
            )
        if d_H < 1:
            raise ValueError(f"d_H={d_H} is invalid: H needs dimension d_H >= 1")
        if d_H >= d:
            raise ValueError(
                f"d_H={d_H} with d={d} is invalid: the complement of H needs "
                f"d - d_H >= 1, so pass d_H <= {d - 1} or d >= {d_H + 1}"
            )
        if d > MAX_DIMENSION:
            raise ValueError(
                f"d={d} is invalid: pass d <= {MAX_DIMENSION}, because above it "
                "the Gauss–Jacobi weights of the angle law can overflow"
            )
        object.__setattr__(self, "d", d)
        object.__setattr__(self, "d_H", d_H)

    @property
    def d_perp(self) -> int:
        """Dimension of the orthogonal complement of H."""
        return self.d - self.d_H

    @property
    def alpha(self) -> float:
        """Mass of tau_plus in the expected limit alpha delta_0 with zero loss.

        ``alpha = 2 sqrt(pi) Gamma((d_H+1)/2) / Gamma(d_H/2)``, the inverse of
        E[max(r, 0)] for r a coordinate of a uniform point on S^(d_H-1).
        """
        log_ratio = gammaln((self.d_H + 1) / 2.0) - gammaln(self.d_H / 2.0)
        return float(2.0 * np.sqrt(np.pi) * np.exp(log_ratio))

    @property
    def initial_loss(self) -> float:
        """Loss A at t = 0, equal to d_H / (2 d) because the initial predictor is 0."""
        return self.d_H / (2.0 * self.d)

    def angle_density(self, theta: ArrayLike) -> np.ndarray:
        """Evaluate the density of the angle law g, per radian.

        Parameters
        ----------
        theta : array_like
            Angles in radians, in ``[0, pi/2]``.

        Returns
        -------
        ndarray
            ``2 cos^(d_H-1) sin^(d_perp-1) / B(d_H/2, d_perp/2)``, computed in log
            space so that large d does not overflow.
        """
        theta = np.asarray(theta, dtype=float)
        with np.errstate(divide="ignore"):
            log_density = (
                np.log(2.0)
                - betaln(self.d_H / 2.0, self.d_perp / 2.0)
                + (self.d_H - 1) * np.log(np.cos(theta))
                + (self.d_perp - 1) * np.log(np.sin(theta))
            )
        return np.exp(log_density)

    def angle_cdf(self, theta: ArrayLike) -> np.ndarray:
        """Evaluate P(angle <= theta) under g.

        cos^2 of the angle follows Beta(d_H/2, d_perp/2), so the CDF is the
        regularised incomplete beta function ``I_{sin^2 theta}(d_perp/2, d_H/2)``.
        """
        theta = np.asarray(theta, dtype=float)
        return betainc(self.d_perp / 2.0, self.d_H / 2.0, np.sin(theta) ** 2)

    def angle_rule(self, n: int) -> Rule:
        """Build the n-point Gauss–Jacobi rule of g in cos(phi); nodes in radians."""
        return angle_rule(self.d_H, self.d_perp, n)
