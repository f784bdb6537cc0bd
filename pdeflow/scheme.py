"""One finite-volume step of a transport equation with a linear reaction term.

The step solves d/dt rho + d/dtheta(v rho) = rate rho on cells of [0, pi/2] with
zero flux through both ends, for a velocity and a rate frozen over the step. It
is the building block of the solver and is public so that it can be tested apart
from the kernel and reused for other models.

Contract of :func:`advance`:

1. Input: cell averages ``density`` (per radian), the velocity at every face
   (radians per unit time), a reaction rate per cell (per unit time), the faces
   and ``dt``. The two end velocities are ignored because nothing leaves the
   domain.
2. ``scheme="upwind"``: upwind fluxes (first order), then the exact reaction
   factor ``exp(rate dt)`` (Lie splitting).
   ``scheme="muscl"``: Strang splitting, with the exact factor
   ``exp(rate dt / 2)`` on both sides of a transport step by MUSCL fluxes with a
   slope limiter and the two-stage SSP Runge–Kutta method (second order).
3. Transport conserves the total mass to round-off, and the reaction multiplies
   the mass of cell i by exactly ``exp(rate_i dt)`` (by ``exp(rate_i dt / 2)``
   twice for MUSCL). A density with zero velocity is multiplied by
   ``exp(rate dt)`` by both schemes.
4. When ``dt <= stable_dt(velocity, edges, 1.0, scheme)`` a non-negative density
   stays non-negative. A larger ``dt`` raises ValueError.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .limiters import get_limiter

SCHEMES = ("upwind", "muscl")
DEFAULT_LIMITER = "mc"


def _interior_velocity(velocity: np.ndarray) -> np.ndarray:
    """Return the face velocity with the end faces set to zero (no-flux walls)."""
    interior = velocity.copy()
    interior[0] = 0.0
    interior[-1] = 0.0
    return interior


def _outflow_rate(velocity: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Return the fraction of each cell's content that leaves per unit time."""
    right = np.maximum(velocity[1:], 0.0)
    left = np.maximum(-velocity[:-1], 0.0)
    return (right + left) / widths


def upwind_flux(density: np.ndarray, velocity: np.ndarray) -> np.ndarray:
    """Compute upwind fluxes at the faces.

    Parameters
    ----------
    density : ndarray, shape (cells,)
        Cell averages, per radian.
    velocity : ndarray, shape (cells + 1,)
        Face velocities, radians per unit time, zero at both ends.

    Returns
    -------
    ndarray, shape (cells + 1,)
        Mass per unit time crossing each face in the direction of increasing theta.
    """
    flux = np.zeros_like(velocity)
    inner = velocity[1:-1]
    flux[1:-1] = np.maximum(inner, 0.0) * density[:-1]
    flux[1:-1] += np.minimum(inner, 0.0) * density[1:]
    return flux


def half_cell_jumps(density: np.ndarray, edges: np.ndarray, limiter: str) -> np.ndarray:
    """Compute the limited change from each cell average to its right face.

    The slope comes from the limiter applied to the one-sided slopes between
    cell centres. Its half-cell jump is then clipped to both one-sided
    differences, so the face values stay between the neighbouring averages on
    any mesh, uniform or not. The end cells get no slope.

    Parameters
    ----------
    density : ndarray, shape (cells,)
        Cell averages, per radian.
    edges : ndarray, shape (cells + 1,)
        Faces, radians.
    limiter : str
        ``"minmod"``, ``"vanleer"`` or ``"mc"``.

    Returns
    -------
    ndarray, shape (cells,)
        ``slope * width / 2``: the right face value is ``density + jump`` and the
        left face value ``density - jump``, per radian.
    """
    centres = 0.5 * (edges[1:] + edges[:-1])
    widths = np.diff(edges)
    differences = np.diff(density)
    slopes = differences / np.diff(centres)

    limited = get_limiter(limiter)(slopes[:-1], slopes[1:])
    half_jump = 0.5 * widths[1:-1] * limited
    bound = np.minimum(np.abs(differences[:-1]), np.abs(differences[1:]))

    jumps = np.zeros_like(density)
    jumps[1:-1] = np.sign(half_jump) * np.minimum(np.abs(half_jump), bound)
    return jumps


def muscl_flux(
    density: np.ndarray, velocity: np.ndarray, edges: np.ndarray, limiter: str
) -> np.ndarray:
    """Compute upwind fluxes of the limited linear reconstruction at the faces.

    Parameters
    ----------
    density : ndarray, shape (cells,)
        Cell averages, per radian.
    velocity : ndarray, shape (cells + 1,)
        Face velocities, radians per unit time, zero at both ends.
    edges : ndarray, shape (cells + 1,)
        Faces, radians.
    limiter : str
        Slope limiter name.

    Returns
    -------
    ndarray, shape (cells + 1,)
        Mass per unit time crossing each face in the direction of increasing theta.
    """
    jumps = half_cell_jumps(density, edges, limiter)
    from_left = density[:-1] + jumps[:-1]
    from_right = density[1:] - jumps[1:]

    flux = np.zeros_like(velocity)
    inner = velocity[1:-1]
    flux[1:-1] = (
        np.maximum(inner, 0.0) * from_left + np.minimum(inner, 0.0) * from_right
    )
    return flux


def _check_step_input(
    density: np.ndarray, velocity: np.ndarray, rate: np.ndarray, edges: np.ndarray
) -> None:
    cells = density.size
    if density.ndim != 1 or cells < 2:
        raise ValueError(
            f"density has shape {density.shape}: pass a 1-D array of >= 2 cells"
        )
    if edges.shape != (cells + 1,):
        raise ValueError(
            f"edges has shape {edges.shape}: pass cells + 1 = {cells + 1} faces"
        )
    if velocity.shape != (cells + 1,):
        raise ValueError(
            f"velocity has shape {velocity.shape}: pass one value per face, "
            f"cells + 1 = {cells + 1}"
        )
    if rate.shape != (cells,):
        raise ValueError(
            f"rate has shape {rate.shape}: pass one value per cell, {cells}"
        )
    if np.any(np.diff(edges) <= 0.0):
        raise ValueError("edges are not strictly increasing: sort the faces")


def check_scheme(scheme: str, limiter: str) -> None:
    """Raise ValueError naming the choices when a scheme or limiter is unknown."""
    if scheme not in SCHEMES:
        raise ValueError(
            f"scheme={scheme!r} is unknown: choose one of {', '.join(SCHEMES)}"
        )
    get_limiter(limiter)


def advance(
    density: ArrayLike,
    velocity: ArrayLike,
    rate: ArrayLike,
    edges: ArrayLike,
    dt: float,
    scheme: str = "upwind",
    limiter: str = DEFAULT_LIMITER,
) -> np.ndarray:
    """Advance cell averages by one step with frozen velocity and rate.

    Parameters
    ----------
    density : array_like, shape (cells,)
        Cell averages before the step, per radian.
    velocity : array_like, shape (cells + 1,)
        Face velocities, radians per unit time; the end values are ignored.
    rate : array_like, shape (cells,)
        Reaction rate per cell, per unit time: a cell with no transport is
        multiplied by ``exp(rate * dt)``.
    edges : array_like, shape (cells + 1,)
        Faces, radians, strictly increasing.
    dt : float
        Time step, ``0 <= dt <= stable_dt(velocity, edges, 1.0, scheme)``.
    scheme : str
        ``"upwind"`` (first order) or ``"muscl"`` (second order).
    limiter : str
        Slope limiter of the MUSCL scheme: ``"minmod"``, ``"vanleer"`` or ``"mc"``.

    Returns
    -------
    ndarray, shape (cells,)
        Cell averages after the step, per radian.
    """
    density = np.asarray(density, dtype=float)
    velocity = np.asarray(velocity, dtype=float)
    rate = np.asarray(rate, dtype=float)
    edges = np.asarray(edges, dtype=float)
    _check_step_input(density, velocity, rate, edges)
    check_scheme(scheme, limiter)
    if not np.isfinite(dt) or dt < 0.0:
        raise ValueError(f"dt={dt} is invalid: pass a finite step >= 0")

    velocity = _interior_velocity(velocity)
    limit = stable_dt(velocity, edges, 1.0, scheme)
    if dt > limit * (1.0 + 1e-12):
        raise ValueError(
            f"dt={dt:.6g} exceeds the stable step {limit:.6g} of the {scheme} scheme: "
            "take dt from stable_dt(velocity, edges, cfl, scheme) with cfl <= 1"
        )
    if scheme == "muscl":
        return muscl_step(density, velocity, rate, edges, dt, limiter)
    return step(density, velocity, rate, np.diff(edges), dt)


def step(
    density: np.ndarray,
    velocity: np.ndarray,
    rate: np.ndarray,
    widths: np.ndarray,
    dt: float,
) -> np.ndarray:
    """Advance by an upwind step without input checks: the solver's inner loop.

    The velocity must be zero at both ends and ``dt`` within the stable step.
    The arguments are those of :func:`advance` with the cell widths in place of
    the faces.
    """
    flux = upwind_flux(density, velocity)
    transported = density - dt * np.diff(flux) / widths
    return transported * np.exp(rate * dt)


def muscl_step(
    density: np.ndarray,
    velocity: np.ndarray,
    rate: np.ndarray,
    edges: np.ndarray,
    dt: float,
    limiter: str,
) -> np.ndarray:
    """Advance by a MUSCL Strang step without input checks.

    The velocity must be zero at both ends and ``dt`` within the stable step of
    the MUSCL scheme.
    """
    widths = np.diff(edges)
    half_reaction = np.exp(0.5 * rate * dt)

    def euler(values: np.ndarray) -> np.ndarray:
        flux = muscl_flux(values, velocity, edges, limiter)
        return values - dt * np.diff(flux) / widths

    start = density * half_reaction
    second = euler(euler(start))
    return 0.5 * (start + second) * half_reaction


def stable_dt(
    velocity: ArrayLike, edges: ArrayLike, cfl: float, scheme: str = "upwind"
) -> float:
    """Return the largest step for which no cell sends out more than cfl of its content.

    The outflow of a cell counts both faces. The end faces carry no flux. Upwind
    face values equal the cell average, so the bound is ``dt (max(v_right, 0) +
    max(-v_left, 0)) <= cfl * width``. MUSCL face values reach at most twice the
    cell average, so its step is half of that.

    Parameters
    ----------
    velocity : array_like, shape (cells + 1,)
        Face velocities, radians per unit time; the end values are ignored.
    edges : array_like, shape (cells + 1,)
        Faces, radians.
    cfl : float
        Courant number in ``(0, 1]``.
    scheme : str
        ``"upwind"`` or ``"muscl"``.

    Returns
    -------
    float
        The step, or ``inf`` when no face carries mass out of any cell.
    """
    velocity = np.asarray(velocity, dtype=float)
    edges = np.asarray(edges, dtype=float)
    if not (0.0 < cfl <= 1.0):
        raise ValueError(f"cfl={cfl} is invalid: pass a Courant number in (0, 1]")
    if velocity.shape != edges.shape or edges.ndim != 1 or edges.size < 3:
        raise ValueError(
            f"velocity has shape {velocity.shape} and edges {edges.shape}: pass one "
            "velocity per face, and at least 3 faces"
        )
    if not np.all(np.isfinite(velocity)):
        raise ValueError("velocity contains nan or inf: pass finite face velocities")
    check_scheme(scheme, DEFAULT_LIMITER)

    widths = np.diff(edges)
    if np.any(widths <= 0.0):
        raise ValueError("edges are not strictly increasing: sort the faces")
    return max_stable_step(_interior_velocity(velocity), widths, cfl, scheme)


def max_stable_step(
    velocity: np.ndarray, widths: np.ndarray, cfl: float, scheme: str = "upwind"
) -> float:
    """Return :func:`stable_dt` without input checks, for zero end velocities."""
    fastest = _outflow_rate(velocity, widths).max()
    if fastest <= 0.0:
        return float("inf")
    reach = 2.0 if scheme == "muscl" else 1.0
    return float(cfl / (reach * fastest))
