"""One finite-volume step of a transport equation with a linear reaction term.

The step solves d/dt rho + d/dtheta(v rho) = rate rho on cells of [0, pi/2] with
zero flux through both ends. It is the building block of the solver and is public
so that it can be tested apart from the kernel and reused for other models.

Contract of :func:`advance`:

1. Input: cell averages ``density`` (per radian), the velocity at every face
   (radians per unit time; the two end values are ignored because nothing leaves
   the domain), a reaction rate per cell (per unit time), the faces and ``dt``.
2. Transport by upwind fluxes, then the exact reaction factor ``exp(rate dt)``
   (Lie splitting). The total mass after transport equals the mass before it to
   round-off, and the reaction changes the mass of cell i by the factor
   ``exp(rate_i dt)`` exactly.
3. When ``dt <= stable_dt(velocity, edges, 1.0)`` a non-negative density stays
   non-negative. A larger ``dt`` is rejected with ValueError rather than
   returning a density with negative values.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

SCHEMES = ("upwind",)


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
    flux[1:-1] = (
        np.maximum(inner, 0.0) * density[:-1] + np.minimum(inner, 0.0) * density[1:]
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


def advance(
    density: ArrayLike,
    velocity: ArrayLike,
    rate: ArrayLike,
    edges: ArrayLike,
    dt: float,
    scheme: str = "upwind",
) -> np.ndarray:
    """Advance cell averages by one transport-then-reaction step.

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
        Time step, ``0 <= dt <= stable_dt(velocity, edges, 1.0)``.
    scheme : str
        Flux scheme; ``"upwind"`` (first order).

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
    if scheme not in SCHEMES:
        raise ValueError(
            f"scheme={scheme!r} is unknown: choose one of {', '.join(SCHEMES)}"
        )
    if not np.isfinite(dt) or dt < 0.0:
        raise ValueError(f"dt={dt} is invalid: pass a finite step >= 0")

    velocity = _interior_velocity(velocity)
    widths = np.diff(edges)
    limit = stable_dt(velocity, edges, 1.0)
    if dt > limit * (1.0 + 1e-12):
        raise ValueError(
            f"dt={dt:.6g} exceeds the stable step {limit:.6g} of the upwind scheme: "
            "take dt from stable_dt(velocity, edges, cfl) with cfl <= 1"
        )

    return step(density, velocity, rate, widths, dt)


def step(
    density: np.ndarray,
    velocity: np.ndarray,
    rate: np.ndarray,
    widths: np.ndarray,
    dt: float,
) -> np.ndarray:
    """Advance without input checks: the inner loop of the solver.

    ``velocity`` must be zero at both ends and ``dt`` within the stable step; the
    arguments are those of :func:`advance` with the cell widths in place of the
    faces.
    """
    flux = upwind_flux(density, velocity)
    transported = density - dt * np.diff(flux) / widths
    return transported * np.exp(rate * dt)


def stable_dt(velocity: ArrayLike, edges: ArrayLike, cfl: float) -> float:
    """Return the largest step for which no cell sends out more than cfl of its content.

    The outflow of a cell counts both faces: ``dt (max(v_right, 0) +
    max(-v_left, 0)) <= cfl * width``. The end faces carry no flux.

    Parameters
    ----------
    velocity : array_like, shape (cells + 1,)
        Face velocities, radians per unit time; the end values are ignored.
    edges : array_like, shape (cells + 1,)
        Faces, radians.
    cfl : float
        Courant number in ``(0, 1]``.

    Returns
    -------
    float
        The step, or ``inf`` when no face carries mass out of any cell.
    """
    velocity = np.asarray(velocity, dtype=float)
    edges = np.asarray(edges, dtype=float)
    if not (0.0 < cfl <= 1.0):
        raise ValueError(f"cfl={cfl} is invalid: pass a Courant number in (0, 1]")
    if velocity.shape != edges.shape:
        raise ValueError(
            f"velocity has shape {velocity.shape} and edges {edges.shape}: pass one "
            "velocity per face"
        )

    return max_stable_step(_interior_velocity(velocity), np.diff(edges), cfl)


def max_stable_step(velocity: np.ndarray, widths: np.ndarray, cfl: float) -> float:
    """Return :func:`stable_dt` without input checks, for zero end velocities."""
    fastest = _outflow_rate(velocity, widths).max()
    if fastest <= 0.0:
        return float("inf")
    return float(cfl / fastest)
