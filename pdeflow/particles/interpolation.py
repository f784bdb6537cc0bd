"""Cubic Hermite tables of the kernel phi_tilde(theta; phi_k) for moving particles.

The exact kernel (``pdeflow.kernel``) costs a few microseconds per point, too much
for particles that move every step. For each fixed input angle phi_k this module
tabulates the kernel and its exact theta-derivative once, on a grid in theta
that has a node at the kink theta = pi/2 - phi_k, and interpolates between nodes
with cubic Hermite polynomials. No cell straddles the kink, so the interpolant
keeps the one-sided smoothness of the kernel on each side.

Accuracy (measured against ``pdeflow.kernel`` at 20000 random points, 96-node
phi rule of g, 2048 cells per phi node): value errors below 1e-11 and
derivative errors below 1e-7 for (d, d_H) = (6, 2) and (30, 5); for d = 2 the
derivative jump at the kink is kept exactly. See ``tests/test_particles_reduced``.
"""

from __future__ import annotations

import time

import numpy as np

from ..kernel import phi_tilde, phi_tilde_dtheta
from ..mesh import HALF_PI

DEFAULT_TABLE_CELLS = 2048


def fold_angle(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reflect angles into [0, pi/2] using the symmetries of the kernel.

    The kernel is even about theta = 0 and about theta = pi/2 (flip the sign of
    s or of r in its defining expectation), so an angle outside the interval
    is equivalent to its mirror image, with the theta-derivative reversed.

    Parameters
    ----------
    theta : ndarray, shape (n,)
        Angles in radians, any real value.

    Returns
    -------
    folded : ndarray, shape (n,)
        Angles in [0, pi/2], radians.
    sign : ndarray, shape (n,)
        +1 where the orientation is kept and -1 where it is reversed; multiply a
        theta-derivative at ``folded`` by it to get the derivative at ``theta``.
    """
    period = np.mod(theta, np.pi)  # the kernel has period pi in theta
    reversed_side = period > HALF_PI
    folded = np.where(reversed_side, np.pi - period, period)
    sign = np.where(reversed_side, -1.0, 1.0)
    # The mirror about 0 also reverses orientation: theta in (-pi/2, 0) lands in
    # (pi/2, pi) after the modulo, which the branch above already reverses.
    return folded, sign


class KernelInterpolant:
    """Piecewise cubic Hermite interpolant of phi_tilde(., phi_k) for fixed phi_k.

    Parameters
    ----------
    phi : ndarray, shape (n_phi,)
        Input angles in [0, pi/2], radians.
    d_H, d_perp : int
        Dimensions of H and of its orthogonal complement.
    table_cells : int
        Intervals of the theta grid of each phi node, split between [0, kink]
        and [kink, pi/2] in proportion to their lengths (at least one each).

    Attributes
    ----------
    build_seconds : float
        Wall time spent evaluating the exact kernel for the tables.
    """

    def __init__(
        self,
        phi: np.ndarray,
        d_H: int,
        d_perp: int,
        table_cells: int = DEFAULT_TABLE_CELLS,
    ) -> None:
        if table_cells < 4:
            raise ValueError(f"table_cells={table_cells} is invalid: pass at least 4")
        phi = np.asarray(phi, dtype=float).ravel()
        start = time.perf_counter()
        self.phi = phi
        self.kink = HALF_PI - phi
        # Intervals left of the kink: at least one on each side of a kink inside
        # (0, pi/2), and none on the empty side of a kink at an end.
        left = np.rint(table_cells * self.kink / HALF_PI).astype(int)
        left = np.where(self.kink > 0.0, np.maximum(left, 1), 0)
        left = np.where(self.kink < HALF_PI, np.minimum(left, table_cells - 1), table_cells)
        right = table_cells - left
        self.left_cells = left
        self.right_cells = right
        self.left_step = np.where(left > 0, self.kink / np.maximum(left, 1), 1.0)
        self.right_step = np.where(
            right > 0, (HALF_PI - self.kink) / np.maximum(right, 1), 1.0
        )

        index = np.arange(table_cells + 1)[None, :]
        grid = np.where(
            index <= left[:, None],
            index * self.left_step[:, None],
            self.kink[:, None] + (index - left[:, None]) * self.right_step[:, None],
        )
        grid = np.clip(grid, 0.0, HALF_PI)
        self.grid = grid  # shape (n_phi, table_cells + 1)
        self.values = phi_tilde(grid, phi[:, None], d_H, d_perp)
        self.slopes = phi_tilde_dtheta(grid, phi[:, None], d_H, d_perp)
        self.table_cells = table_cells
        self.build_seconds = time.perf_counter() - start

    def __call__(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interpolate the kernel and its theta-derivative at particle angles.

        Parameters
        ----------
        theta : ndarray, shape (m,)
            Angles in radians; values outside [0, pi/2] are folded back.

        Returns
        -------
        value : ndarray, shape (m, n_phi)
            phi_tilde(theta_j; phi_k).
        slope : ndarray, shape (m, n_phi)
            d phi_tilde / d theta at (theta_j, phi_k), per radian.
        """
        folded, sign = fold_angle(np.asarray(theta, dtype=float).ravel())
        t = folded[:, None]
        on_left = (t < self.kink[None, :]) | (self.right_cells[None, :] == 0)

        # Index of the cell and local coordinate s in [0, 1] inside it.
        left_position = t / self.left_step[None, :]
        right_position = (t - self.kink[None, :]) / self.right_step[None, :]
        position = np.where(on_left, left_position, right_position)
        cell = np.floor(position).astype(np.intp)
        limit = np.where(on_left, self.left_cells[None, :], self.right_cells[None, :])
        cell = np.clip(cell, 0, limit - 1)
        s = position - cell
        cell = cell + np.where(on_left, 0, self.left_cells[None, :])
        step = np.where(on_left, self.left_step[None, :], self.right_step[None, :])

        rows = np.arange(self.phi.size)[None, :]
        f0 = self.values[rows, cell]
        f1 = self.values[rows, cell + 1]
        g0 = self.slopes[rows, cell] * step
        g1 = self.slopes[rows, cell + 1] * step

        # Cubic Hermite basis on [0, 1] and its derivative.
        s2 = s * s
        s3 = s2 * s
        value = (
            (2 * s3 - 3 * s2 + 1) * f0
            + (s3 - 2 * s2 + s) * g0
            + (-2 * s3 + 3 * s2) * f1
            + (s3 - s2) * g1
        )
        slope = (
            (6 * s2 - 6 * s) * f0
            + (3 * s2 - 4 * s + 1) * g0
            + (-6 * s2 + 6 * s) * f1
            + (3 * s2 - 2 * s) * g1
        ) / step
        return value, slope * sign[:, None]
