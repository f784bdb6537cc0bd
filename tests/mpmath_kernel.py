"""Independent arbitrary-precision evaluation of the kernel phi_tilde and its slope.

Route: phi_tilde = E_r[ E_s[relu(a r + b s)] ] with a = cos(theta) cos(phi) and
b = sin(theta) sin(phi). The inner expectation over s ~ gamma_q has a closed form
through the regularised incomplete beta function; the outer integral over
r ~ gamma_p = sin(u) runs in mpmath's tanh-sinh quadrature, split at the kinks
r = +-b/a. This shares nothing with pdeflow.kernel, which works through Ka, Kb
and a float64 tanh-sinh rule in another variable.
"""

from __future__ import annotations

import mpmath as mp

mp.mp.dps = 30
HALF = mp.mpf(1) / 2


def _tail(q: int, t: mp.mpf) -> mp.mpf:
    """P(s > t) for s ~ gamma_q, q >= 2: s^2 ~ Beta(1/2, (q-1)/2)."""
    half_mass = mp.betainc(HALF, mp.mpf(q - 1) / 2, 0, t**2, regularized=True) / 2
    return HALF - half_mass if t >= 0 else HALF + half_mass


def _upper_mean(q: int, t: mp.mpf) -> mp.mpf:
    """E[s 1{s > t}] for s ~ gamma_q, |t| < 1, q >= 2."""
    beta = mp.beta(HALF, mp.mpf(q - 1) / 2)
    return (1 - t**2) ** (mp.mpf(q - 1) / 2) / ((q - 1) * beta)


def reference(theta: float, phi: float, p: int, q: int, slope: bool = False) -> mp.mpf:
    """Return phi_tilde(theta; phi), or its slope in theta, for d_H = p, d_perp = q."""
    theta, phi = mp.mpf(theta), mp.mpf(phi)
    a = mp.cos(theta) * mp.cos(phi)
    b = mp.sin(theta) * mp.sin(phi)
    da = -mp.sin(theta) * mp.cos(phi)
    db = mp.cos(theta) * mp.sin(phi)

    def integrand_weight(r: mp.mpf, s_mean_part: mp.mpf, probability: mp.mpf) -> mp.mpf:
        if slope:
            return da * r * probability + db * s_mean_part
        return a * r * probability + b * s_mean_part

    def inner(r: mp.mpf) -> mp.mpf:
        x = a * r
        if b == 0:
            if x <= 0:
                return mp.mpf(0)
            return da * r if slope else x
        if q == 1:
            total = mp.mpf(0)
            for s in (-1, 1):
                if x + b * s > 0:
                    total += (da * r + db * s) if slope else (x + b * s)
            return total / 2
        t = -x / b
        if t <= -1:
            return integrand_weight(r, mp.mpf(0), mp.mpf(1))
        if t >= 1:
            return mp.mpf(0)
        return integrand_weight(r, _upper_mean(q, t), _tail(q, t))

    if p == 1:
        return (inner(mp.mpf(1)) + inner(mp.mpf(-1))) / 2

    # r = sin(u) removes the endpoint singularity of the density of r when p = 2.
    points = [-mp.pi / 2, mp.pi / 2]
    if a > 0 and b / a < 1:
        kink = mp.asin(b / a)
        points = [-mp.pi / 2, -kink, kink, mp.pi / 2]
    beta_p = mp.beta(HALF, mp.mpf(p - 1) / 2)
    value = mp.quad(lambda u: inner(mp.sin(u)) * mp.cos(u) ** (p - 2), points)
    return value / beta_p
