"""Cubic Hermite tables of the kernel phi_tilde(theta; phi_k) for moving particles.

The exact kernel (``pdeflow.kernel``) costs a few microseconds per point, too much
for particles that move every step. For each fixed input angle phi_k this module
tabulates the kernel and its exact theta-derivative once, on a theta grid with
a node at the kink theta = pi/2 - phi_k and cells graded toward it, and
interpolates with cubic Hermite polynomials. No cell straddles the kink.

Measured maximum errors against ``pdeflow.kernel`` (3000 random angles plus
points near each kink, 96-node rule of g, 2048 cells per node): value 5e-14,
slope 6e-11 for (d, d_H) = (2, 1); 2e-11 and 2e-8 for (6, 2); 2e-10 and 2e-7
for (30, 5). Value errors fall like cells^-4 and slope errors like cells^-3.
"""

from __future__ import annotations

import time

import numpy as np

from ..fused import compile_kernel
from ..kernel import phi_tilde, phi_tilde_dtheta
from ..mesh import HALF_PI

DEFAULT_TABLE_CELLS = 2048
DEFAULT_GRADING = 3.0


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

    Each phi node gets its own theta grid: ``left`` intervals on [0, kink] and
    ``right`` intervals on [kink, pi/2] with kink = pi/2 - phi_k, graded as
    ``(i / n)^grading`` toward the kink. Near the kink the kernel behaves like a
    fractional power of the distance to it on at least one side, and the
    grading keeps the interpolation error small there.

    Parameters
    ----------
    phi : ndarray, shape (n_phi,)
        Input angles in [0, pi/2], radians.
    d_H, d_perp : int
        Dimensions of H and of its orthogonal complement.
    table_cells : int
        Intervals of the theta grid of each phi node, split between the two
        sides of the kink in proportion to their lengths.
    grading : float
        Exponent of the grading toward the kink, >= 1 (1 is uniform).

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
        grading: float = DEFAULT_GRADING,
    ) -> None:
        if isinstance(table_cells, bool) or not isinstance(
            table_cells, int | np.integer
        ):
            raise TypeError(f"table_cells={table_cells!r} is invalid: pass an integer")
        if table_cells < 4:
            raise ValueError(f"table_cells={table_cells} is invalid: pass at least 4")
        if not grading >= 1.0:
            raise ValueError(f"grading={grading} is invalid: pass an exponent >= 1")
        start = time.perf_counter()
        phi = np.asarray(phi, dtype=float).ravel()
        self.phi = phi
        self.grading = float(grading)
        self.table_cells = int(table_cells)
        kink = HALF_PI - phi
        self.kink = kink

        # Intervals left of the kink: at least table_cells // 16 on each side of
        # a kink inside (0, pi/2), because a short side next to an end still
        # contains the steep part of the kernel; none on the empty side of a kink
        # at an end of the interval.
        floor = max(table_cells // 16, 1)
        left = np.rint(table_cells * kink / HALF_PI).astype(int)
        left = np.clip(left, floor, table_cells - floor)
        left = np.where(kink > 0.0, left, 0)
        left = np.where(kink < HALF_PI, left, table_cells)
        self.left_cells = left
        self.right_cells = table_cells - left

        index = np.arange(table_cells + 1)[None, :]
        n_left = np.maximum(left, 1)[:, None]
        n_right = np.maximum(self.right_cells, 1)[:, None]
        left_part = 1.0 - np.clip(1.0 - index / n_left, 0.0, 1.0) ** grading
        right_part = np.clip((index - left[:, None]) / n_right, 0.0, 1.0) ** grading
        grid = np.where(
            index <= left[:, None],
            kink[:, None] * left_part,
            kink[:, None] + (HALF_PI - kink[:, None]) * right_part,
        )
        grid[:, 0] = 0.0
        grid[:, -1] = HALF_PI
        self.grid = grid
        self.values = phi_tilde(grid, phi[:, None], d_H, d_perp)
        slopes = phi_tilde_dtheta(grid, phi[:, None], d_H, d_perp)

        # Slopes at the two ends of each cell. They differ only at the kink and
        # only for d = 2, where phi_tilde = (|cos(theta - phi)| + |cos(theta +
        # phi)|) / 4 and the theta-derivative jumps by +1/2 across the kink;
        # phi_tilde_dtheta returns the limit from the left there.
        self.start_slopes = slopes[:, :-1].copy()
        self.end_slopes = slopes[:, 1:].copy()
        if d_H == 1 and d_perp == 1:
            rows = np.flatnonzero((left > 0) & (self.right_cells > 0))
            self.start_slopes[rows, left[rows]] += 0.5
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
        shape = (folded.size, self.phi.size)
        value, slope = np.empty(shape), np.empty(shape)
        _hermite(
            folded,
            sign,
            self.kink,
            self.left_cells,
            self.right_cells,
            1.0 / self.grading,
            self.grid,
            self.values,
            self.start_slopes,
            self.end_slopes,
            value,
            slope,
        )
        return value, slope


@compile_kernel
def _hermite(
    folded: np.ndarray,
    sign: np.ndarray,
    kink: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    inverse_grading: float,
    grid: np.ndarray,
    values: np.ndarray,
    start_slopes: np.ndarray,
    end_slopes: np.ndarray,
    value: np.ndarray,
    slope: np.ndarray,
) -> None:
    """Fill value and slope, shape (m, n_phi), from the tables in one loop.

    For each particle angle and phi node: invert the graded map of the side of
    the kink that contains the angle to find its cell, then evaluate the cubic
    Hermite polynomial of that cell and its derivative.
    """
    for j in range(folded.size):
        t = folded[j]
        for k in range(kink.size):
            if t < kink[k] or right[k] == 0:
                fraction = min(max(1.0 - t / kink[k], 0.0), 1.0)
                position = left[k] * (1.0 - fraction**inverse_grading)
                lower, upper = 0, left[k] - 1
            else:
                fraction = (t - kink[k]) / (HALF_PI - kink[k])
                fraction = min(max(fraction, 0.0), 1.0)
                position = left[k] + right[k] * fraction**inverse_grading
                lower, upper = left[k], left[k] + right[k] - 1
            cell = min(max(int(np.floor(position)), lower), upper)

            x0 = grid[k, cell]
            step = grid[k, cell + 1] - x0
            s = min(max((t - x0) / step, 0.0), 1.0)
            f0, f1 = values[k, cell], values[k, cell + 1]
            g0 = start_slopes[k, cell] * step
            g1 = end_slopes[k, cell] * step

            s2 = s * s
            s3 = s2 * s
            value[j, k] = (
                (2 * s3 - 3 * s2 + 1) * f0
                + (s3 - 2 * s2 + s) * g0
                + (-2 * s3 + 3 * s2) * f1
                + (s3 - s2) * g1
            )
            derivative = (
                (6 * s2 - 6 * s) * f0
                + (3 * s2 - 4 * s + 1) * g0
                + (-6 * s2 + 6 * s) * f1
                + (3 * s2 - 2 * s) * g1
            )
            slope[j, k] = derivative / step * sign[j]
