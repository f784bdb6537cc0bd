"""The kernel phi_tilde(theta; phi) of the reduced model and its theta-derivative.

phi_tilde(theta; phi) = E[relu(r cos(theta) cos(phi) + s sin(theta) sin(phi))]
with r ~ gamma_{d_H} and s ~ gamma_{d_perp} independent (one coordinate of a
uniform point on S^(d_H-1) and on S^(d_perp-1)), as in Hajjar and Chizat (2023),
"On the symmetries in the dynamics of wide two-layer neural networks".

Evaluation. Write a = cos(theta) cos(phi) >= 0 and b = sin(theta) sin(phi) >= 0.
Positive homogeneity of relu gives

    phi_tilde = a Ka(c) + b Kb(c),     c = b / a,
    Ka(c) = E[r 1{r + c s > 0}],       Kb(c) = E[s 1{r + c s > 0}],

and the theta-derivative is -sin(theta) cos(phi) Ka(c) + cos(theta) sin(phi) Kb(c).
For c <= 1, conditioning on one variable and substituting s = sin(psi) or
r = c sin(psi) gives integrals with a smooth integrand on [0, pi/2]:

    Ka(c) = e_p (2 / B(1/2, (q-1)/2)) int cos^(q-2)(psi) (1 - c^2 sin^2 psi)^((p-1)/2)
    Kb(c) = e_q c (2 / B(1/2, (p-1)/2)) int cos^q(psi) (1 - c^2 sin^2 psi)^((p-3)/2)

with p = d_H, q = d_perp and e_k = E[max(r, 0)] = Gamma(k/2) / (2 sqrt(pi)
Gamma((k+1)/2)). These are Gauss hypergeometric functions of c^2. When c > 1 the
roles of (r, p) and (s, q) swap: Ka(c; p, q) = Kb(1/c; q, p) and
Kb(c; p, q) = Ka(1/c; q, p). The kink of the kernel lies at c = 1, that is at
theta + phi = pi/2, and 1 - c^2 is computed there from cos(theta + phi)
cos(theta - phi) to keep its digits. The integrals use a tanh-sinh rule, which
resolves the boundary layer of width sqrt(1 - c^2) at psi = pi/2; away from the
kink (c^2 <= 0.9) a Gauss–Legendre rule does the same work faster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, gammaln

from .checks import is_integer
from .quadrature import tanh_sinh

_PSI, _PSI_COMPLEMENT, _PSI_WEIGHTS = tanh_sinh(level=5)
# Nodes where cos(psi)^2 would underflow carry weights below 1e-140 and would
# turn 0 ** (negative exponent) into nan, so they are dropped.
_KEEP = _PSI_COMPLEMENT > 1e-140
_COS_PSI = np.sin(_PSI_COMPLEMENT[_KEEP])
_PSI_WEIGHTS = _PSI_WEIGHTS[_KEEP]

# Away from the kink (z = c^2 <= 0.9) the integrand is analytic in a strip of
# half-width acosh(1/sqrt(0.9)) = 0.32 around [0, pi/2], where a 40-node
# Gauss–Legendre rule reaches round-off at a fifth of the cost.
_SMOOTH_Z = 0.9
_GAUSS_X, _GAUSS_W = np.polynomial.legendre.leggauss(40)
_COS_PSI_GAUSS = np.cos(0.25 * np.pi * (_GAUSS_X + 1.0))
_PSI_WEIGHTS_GAUSS = 0.25 * np.pi * _GAUSS_W
_CHUNK = 4096  # kernel points per vectorised block, to bound temporary memory


def positive_part_mean(k: int) -> float:
    """Return E[max(r, 0)] for r ~ gamma_k, a coordinate of a uniform point on S^(k-1).

    Parameters
    ----------
    k : int
        Ambient dimension, ``k >= 1``.

    Returns
    -------
    float
        ``Gamma(k/2) / (2 sqrt(pi) Gamma((k+1)/2))``; 1/2 for ``k = 1``.
    """
    return float(
        np.exp(gammaln(k / 2.0) - gammaln((k + 1) / 2.0)) / (2 * np.sqrt(np.pi))
    )


def _psi_integral(
    z: np.ndarray, one_minus_z: np.ndarray, cos_power: int, exponent: float
) -> np.ndarray:
    """Integrate cos^m(psi) ((1 - z) + z cos^2 psi)^exponent over [0, pi/2]."""
    result = np.empty_like(z)
    smooth = z <= _SMOOTH_Z
    rules = (
        (smooth, _COS_PSI_GAUSS, _PSI_WEIGHTS_GAUSS),
        (~smooth, _COS_PSI, _PSI_WEIGHTS),
    )
    for rows, cos_psi, weights in rules:
        if not rows.any():
            continue
        base = one_minus_z[rows, None] + z[rows, None] * cos_psi[None, :] ** 2
        integrand = cos_psi[None, :] ** cos_power * base**exponent
        result[rows] = integrand @ weights
    return result


def _k_pair_below_one(
    c: np.ndarray, one_minus_c2: np.ndarray, p: int, q: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return Ka(c), Kb(c) for 0 <= c <= 1, r ~ gamma_p, s ~ gamma_q."""
    z = c**2
    one_minus_c2 = np.maximum(one_minus_c2, 0.0)
    e_p = positive_part_mean(p)
    e_q = positive_part_mean(q)

    if q == 1:
        ka = e_p * one_minus_c2 ** ((p - 1) / 2.0)
    else:
        scale = 2.0 / np.exp(betaln(0.5, (q - 1) / 2.0))
        ka = e_p * scale * _psi_integral(z, one_minus_c2, q - 2, (p - 1) / 2.0)

    if p == 1:
        # r = +-1, so r + c s keeps the sign of r whenever c < 1.
        kb = np.zeros_like(c)
    else:
        scale = 2.0 / np.exp(betaln(0.5, (p - 1) / 2.0))
        kb = e_q * c * scale * _psi_integral(z, one_minus_c2, q, (p - 3) / 2.0)

    return ka, kb


def _k_pair(
    a: np.ndarray, b: np.ndarray, a2_minus_b2: np.ndarray, p: int, q: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return Ka and Kb at c = b / a for flat arrays, using the swap when b > a."""
    ka = np.empty_like(a)
    kb = np.empty_like(a)
    below = b <= a

    # Branch c = b / a <= 1.
    a_lo, b_lo = a[below], b[below]
    safe_a = np.where(a_lo > 0.0, a_lo, 1.0)
    c = np.where(a_lo > 0.0, b_lo / safe_a, 0.0)
    omc2 = np.where(a_lo > 0.0, a2_minus_b2[below] / safe_a**2, 1.0)
    ka[below], kb[below] = _k_pair_below_one(c, omc2, p, q)

    # Branch c > 1: Ka(c; p, q) = Kb(1/c; q, p), Kb(c; p, q) = Ka(1/c; q, p).
    above = ~below
    a_hi, b_hi = a[above], b[above]
    inv_c = a_hi / b_hi
    omc2 = -a2_minus_b2[above] / b_hi**2
    swapped_a, swapped_b = _k_pair_below_one(inv_c, omc2, q, p)
    ka[above], kb[above] = swapped_b, swapped_a
    return ka, kb


def _evaluate(
    theta: ArrayLike, phi: ArrayLike, d_H: int, d_perp: int
) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate the kernel and its theta-derivative on broadcast inputs, in blocks."""
    _check_dimensions(d_H, d_perp)
    theta_b, phi_b = np.broadcast_arrays(
        np.asarray(theta, dtype=float), np.asarray(phi, dtype=float)
    )
    _check_angles(theta_b, phi_b)

    flat_theta = theta_b.ravel()
    flat_phi = phi_b.ravel()
    value = np.empty(flat_theta.shape)
    slope = np.empty(flat_theta.shape)
    for start in range(0, flat_theta.size, _CHUNK):
        block = slice(start, start + _CHUNK)
        value[block], slope[block] = _evaluate_flat(
            flat_theta[block], flat_phi[block], d_H, d_perp
        )
    return value.reshape(theta_b.shape), slope.reshape(theta_b.shape)


def _evaluate_flat(
    theta: np.ndarray, phi: np.ndarray, p: int, q: int
) -> tuple[np.ndarray, np.ndarray]:
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    cos_p, sin_p = np.cos(phi), np.sin(phi)
    a = cos_t * cos_p
    b = sin_t * sin_p

    # a^2 - b^2 = cos(theta + phi) cos(theta - phi), exact near the kink.
    a2_minus_b2 = np.cos(theta + phi) * np.cos(theta - phi)
    ka, kb = _k_pair(a, b, a2_minus_b2, p, q)

    value = a * ka + b * kb
    slope = -sin_t * cos_p * ka + cos_t * sin_p * kb
    return value, slope


def _check_dimensions(d_H: int, d_perp: int) -> None:
    for name, value in (("d_H", d_H), ("d_perp", d_perp)):
        if not is_integer(value):
            raise TypeError(f"{name}={value!r} is invalid: pass an integer >= 1")
        if value < 1:
            raise ValueError(f"{name}={value} is invalid: pass an integer >= 1")


def _check_angles(theta: np.ndarray, phi: np.ndarray) -> None:
    for name, value in (("theta", theta), ("phi", phi)):
        if not np.all(np.isfinite(value)):
            raise ValueError(
                f"{name} contains non-finite values: pass angles in [0, pi/2]"
            )
        tol = 1e-12
        if value.size and (value.min() < -tol or value.max() > 0.5 * np.pi + tol):
            raise ValueError(
                f"{name} has values outside [0, pi/2] (min {value.min():.6g}, "
                f"max {value.max():.6g} radians): angles to H lie in [0, pi/2]"
            )


def phi_tilde(theta: ArrayLike, phi: ArrayLike, d_H: int, d_perp: int) -> np.ndarray:
    """Evaluate the kernel phi_tilde(theta; phi) of the reduced model.

    Parameters
    ----------
    theta : array_like
        Angle of a neuron to H, radians in ``[0, pi/2]``.
    phi : array_like
        Angle of an input to H, radians in ``[0, pi/2]``; broadcasts with theta.
    d_H, d_perp : int
        Dimensions of H and of its orthogonal complement, both ``>= 1``.

    Returns
    -------
    ndarray
        ``E[relu(r cos(theta) cos(phi) + s sin(theta) sin(phi))]``, shape of the
        broadcast inputs. Absolute error below 1e-13 for ``d_H + d_perp <= 200``.
    """
    return _evaluate(theta, phi, d_H, d_perp)[0]


def phi_tilde_dtheta(
    theta: ArrayLike, phi: ArrayLike, d_H: int, d_perp: int
) -> np.ndarray:
    """Evaluate the partial derivative of phi_tilde(theta; phi) in theta.

    Parameters
    ----------
    theta, phi : array_like
        Angles in radians in ``[0, pi/2]``; they broadcast.
    d_H, d_perp : int
        Dimensions of H and of its orthogonal complement, both ``>= 1``.

    Returns
    -------
    ndarray
        ``E[1{x > 0} (-r sin(theta) cos(phi) + s cos(theta) sin(phi))]`` with
        ``x = r cos(theta) cos(phi) + s sin(theta) sin(phi)``, per radian. Where
        the derivative jumps (``theta + phi = pi/2`` when ``d_H = d_perp = 1``) it
        returns the limit from the side ``theta + phi < pi/2``.
    """
    return _evaluate(theta, phi, d_H, d_perp)[1]


@dataclass(frozen=True)
class KernelTables:
    """Kernel values between mesh points and the phi nodes of the angle law.

    Attributes
    ----------
    centres : ndarray, shape (cells, n_phi)
        phi_tilde at the cell centres.
    dtheta_centres : ndarray, shape (cells, n_phi)
        d phi_tilde / d theta at the cell centres, per radian.
    dtheta_faces : ndarray, shape (cells + 1, n_phi)
        d phi_tilde / d theta at the faces, per radian.
    build_seconds : float
        Wall time spent building the tables.
    """

    centres: np.ndarray
    dtheta_centres: np.ndarray
    dtheta_faces: np.ndarray
    build_seconds: float


def build_tables(
    centres: np.ndarray, edges: np.ndarray, phi: np.ndarray, d_H: int, d_perp: int
) -> KernelTables:
    """Tabulate the kernel and its theta-derivative for one mesh and one phi rule.

    Parameters
    ----------
    centres : ndarray, shape (cells,)
        Cell centres, radians.
    edges : ndarray, shape (cells + 1,)
        Cell faces, radians.
    phi : ndarray, shape (n_phi,)
        Quadrature nodes of the angle law, radians.
    d_H, d_perp : int
        Dimensions of H and of its orthogonal complement.

    Returns
    -------
    KernelTables
        The three tables and their build time in seconds.
    """
    start = time.perf_counter()
    value, slope_centres = _evaluate(centres[:, None], phi[None, :], d_H, d_perp)
    _, slope_faces = _evaluate(edges[:, None], phi[None, :], d_H, d_perp)
    elapsed = time.perf_counter() - start
    return KernelTables(value, slope_centres, slope_faces, elapsed)
