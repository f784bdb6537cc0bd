"""Numba kernels that fuse the element-wise work of an upwind time step.

The mat-vecs of the fields are BLAS calls; what remains per step (the stable
step of both densities, the upwind fluxes, the update and the reaction factor)
is a few passes over the cells that numpy would spread over a dozen temporary
arrays. These kernels do each in one loop. They compute the same expressions
as ``pdeflow.scheme`` and agree with it to round-off (tests/test_fused.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit


def compile_kernel(function: Callable) -> Callable:
    """Compile ``function`` with numba, caching the machine code when possible.

    numba caches next to the package or in the user's cache folder. When
    neither is writable (a shared install run by another user), it raises
    "cannot cache function ...: no locator available". The kernels then
    compile on each start, about a second, instead of failing the import.
    """
    try:
        return njit(cache=True)(function)
    except RuntimeError as error:
        if "cannot cache function" not in str(error):
            raise
        return njit(function)


@compile_kernel
def stable_step_pair(V_faces: np.ndarray, widths: np.ndarray, cfl: float) -> float:
    """Return the upwind stable step of densities moved by +V and by -V.

    Parameters
    ----------
    V_faces : ndarray, shape (cells + 1,)
        Face velocities, radians per unit time, zero at both ends.
    widths : ndarray, shape (cells,)
        Cell widths, radians.
    cfl : float
        Courant number in (0, 1].

    Returns
    -------
    float
        ``cfl`` over the largest outflow rate of any cell of either density, or
        inf when nothing flows out.
    """
    fastest = 0.0
    for i in range(widths.size):
        left, right = V_faces[i], V_faces[i + 1]
        out_plus = max(right, 0.0) + max(-left, 0.0)
        out_minus = max(-right, 0.0) + max(left, 0.0)
        fastest = max(fastest, max(out_plus, out_minus) / widths[i])
    if fastest <= 0.0:
        return np.inf
    return cfl / fastest


@compile_kernel
def upwind_pair_step(
    tau_plus: np.ndarray,
    tau_minus: np.ndarray,
    V_faces: np.ndarray,
    G: np.ndarray,
    widths: np.ndarray,
    dt: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Advance tau_plus by (+V, +2G) and tau_minus by (-V, -2G): upwind, then reaction.

    Parameters
    ----------
    tau_plus, tau_minus : ndarray, shape (cells,)
        Densities per radian.
    V_faces : ndarray, shape (cells + 1,)
        Face velocities, radians per unit time, zero at both ends.
    G : ndarray, shape (cells,)
        Reaction field per unit time.
    widths : ndarray, shape (cells,)
        Cell widths, radians.
    dt : float
        Step within the stable step.

    Returns
    -------
    tuple of ndarray, shape (cells,)
        The new tau_plus and tau_minus.
    """
    cells = widths.size
    new_plus = np.empty(cells)
    new_minus = np.empty(cells)
    flux_plus_left = 0.0
    flux_minus_left = 0.0
    for i in range(cells):
        flux_plus_right = 0.0
        flux_minus_right = 0.0
        if i < cells - 1:
            v = V_faces[i + 1]
            flux_plus_right = max(v, 0.0) * tau_plus[i] + min(v, 0.0) * tau_plus[i + 1]
            flux_minus_right = (
                max(-v, 0.0) * tau_minus[i] + min(-v, 0.0) * tau_minus[i + 1]
            )
        step = dt / widths[i]
        moved_plus = tau_plus[i] - step * (flux_plus_right - flux_plus_left)
        moved_minus = tau_minus[i] - step * (flux_minus_right - flux_minus_left)
        growth = np.exp(2.0 * G[i] * dt)
        new_plus[i] = moved_plus * growth
        new_minus[i] = moved_minus / growth
        flux_plus_left = flux_plus_right
        flux_minus_left = flux_minus_right
    return new_plus, new_minus


# Limiter codes of muscl_step_fused, in the order of pdeflow.limiters.LIMITERS.
LIMITER_CODES = {"minmod": 0, "vanleer": 1, "mc": 2}


@compile_kernel
def _limited_slope(left: float, right: float, code: int) -> float:
    if left * right <= 0.0:
        return 0.0
    if code == 0:
        return left if abs(left) < abs(right) else right
    if code == 1:
        return 2.0 * left * right / (left + right)
    central = 0.5 * (left + right)
    bound = min(2.0 * abs(left), 2.0 * abs(right))
    return min(abs(central), bound) * (1.0 if central > 0.0 else -1.0)


@compile_kernel
def _muscl_euler(
    density: np.ndarray,
    velocity: np.ndarray,
    edges: np.ndarray,
    dt: float,
    code: int,
    out: np.ndarray,
) -> None:
    """Take one forward Euler stage of MUSCL transport, writing into ``out``."""
    cells = density.size
    jumps = np.zeros(cells)
    for i in range(1, cells - 1):
        width = edges[i + 1] - edges[i]
        left_gap = 0.5 * (edges[i + 1] - edges[i - 1])
        right_gap = 0.5 * (edges[i + 2] - edges[i])
        left_difference = density[i] - density[i - 1]
        right_difference = density[i + 1] - density[i]
        slope = _limited_slope(
            left_difference / left_gap, right_difference / right_gap, code
        )
        half_jump = 0.5 * width * slope
        bound = min(abs(left_difference), abs(right_difference))
        jumps[i] = min(abs(half_jump), bound) * (1.0 if half_jump > 0.0 else -1.0)

    flux_left = 0.0
    for i in range(cells):
        flux_right = 0.0
        if i < cells - 1:
            v = velocity[i + 1]
            from_left = density[i] + jumps[i]
            from_right = density[i + 1] - jumps[i + 1]
            flux_right = max(v, 0.0) * from_left + min(v, 0.0) * from_right
        out[i] = density[i] - dt * (flux_right - flux_left) / (edges[i + 1] - edges[i])
        flux_left = flux_right


@compile_kernel
def muscl_step_fused(
    density: np.ndarray,
    velocity: np.ndarray,
    rate: np.ndarray,
    edges: np.ndarray,
    dt: float,
    code: int,
) -> np.ndarray:
    """Advance by the MUSCL Strang step of ``pdeflow.scheme.muscl_step``.

    Parameters
    ----------
    density : ndarray, shape (cells,)
        Densities per radian.
    velocity : ndarray, shape (cells + 1,)
        Face velocities, radians per unit time, zero at both ends.
    rate : ndarray, shape (cells,)
        Reaction rate per unit time.
    edges : ndarray, shape (cells + 1,)
        Faces, radians.
    dt : float
        Step within the MUSCL stable step.
    code : int
        Limiter code from ``LIMITER_CODES``.

    Returns
    -------
    ndarray, shape (cells,)
        Densities after the step.
    """
    cells = density.size
    half_reaction = np.exp(0.5 * rate * dt)
    start = density * half_reaction
    first = np.empty(cells)
    second = np.empty(cells)
    _muscl_euler(start, velocity, edges, dt, code, first)
    _muscl_euler(first, velocity, edges, dt, code, second)
    return 0.5 * (start + second) * half_reaction
