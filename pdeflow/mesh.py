"""Cell-centred meshes of the angle interval [0, pi/2]."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .checks import is_integer

HALF_PI = 0.5 * np.pi


@dataclass(frozen=True)
class Mesh:
    """A mesh of [0, pi/2] given by its faces.

    Parameters
    ----------
    edges : ndarray, shape (cells + 1,)
        Strictly increasing faces in radians, from 0 to pi/2.
    kind : str
        Label recorded in the output, such as ``"uniform"``.
    """

    edges: np.ndarray
    kind: str = "custom"

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges, dtype=float)
        if edges.ndim != 1 or edges.size < 3:
            raise ValueError(
                f"mesh has {max(edges.size - 1, 0)} cells: pass at least 2 cells "
                "(3 faces)"
            )
        if not np.all(np.isfinite(edges)):
            raise ValueError("mesh faces contain non-finite values: pass finite angles")
        if np.any(np.diff(edges) <= 0.0):
            raise ValueError("mesh faces are not strictly increasing: sort them")
        if abs(edges[0]) > 1e-14 or abs(edges[-1] - HALF_PI) > 1e-14:
            raise ValueError(
                f"mesh spans [{edges[0]:.17g}, {edges[-1]:.17g}]: faces must run "
                "from 0 to pi/2 = 1.5707963267948966 radians to within 1e-14 "
                "(build float32 faces in float64)"
            )
        edges = edges.copy()
        edges[0], edges[-1] = 0.0, HALF_PI
        edges.setflags(write=False)
        object.__setattr__(self, "edges", edges)

    @classmethod
    def uniform(cls, cells: int) -> Mesh:
        """Build a uniform mesh of ``cells`` cells, at least 2."""
        if not is_integer(cells):
            raise TypeError(f"cells={cells!r} is invalid: pass an integer >= 2")
        if cells < 2:
            raise ValueError(f"cells={cells} is invalid: pass at least 2 cells")
        return cls(np.linspace(0.0, HALF_PI, int(cells) + 1), kind="uniform")

    @classmethod
    def graded(cls, cells: int, power: float = 2.0, ends: str = "zero") -> Mesh:
        """Build a mesh of ``cells`` cells refined toward theta = 0 (or both ends).

        Faces are ``(pi/2) x(s)`` at ``s = k / cells`` with ``x(s) = s^power`` for
        ``ends="zero"`` and ``x(s) = s^power / (s^power + (1-s)^power)`` for
        ``ends="both"``. The first cell is then about ``cells^-power`` of the
        quarter turn wide instead of ``1 / cells``.

        Parameters
        ----------
        cells : int
            Number of cells, at least 2.
        power : float
            Grading exponent, >= 1; 1 with ``ends="zero"`` gives the uniform mesh.
        ends : str
            ``"zero"`` to refine toward theta = 0, ``"both"`` for 0 and pi/2.
        """
        uniform = cls.uniform(cells)
        if not np.isfinite(power) or power < 1.0:
            raise ValueError(f"power={power} is invalid: pass a grading exponent >= 1")
        s = uniform.edges / HALF_PI
        if ends == "zero":
            x = s**power
        elif ends == "both":
            x = s**power / (s**power + (1.0 - s) ** power)
        else:
            raise ValueError(f"ends={ends!r} is unknown: choose 'zero' or 'both'")
        if np.any(np.diff(x) <= 0.0):
            raise ValueError(
                f"power={power:g} with {cells} cells makes the first cells narrower "
                "than double precision can tell apart: lower the power"
            )
        return cls(HALF_PI * x, kind=f"graded(power={power:g}, ends={ends})")

    @property
    def cells(self) -> int:
        """Number of cells."""
        return self.edges.size - 1

    @property
    def centres(self) -> np.ndarray:
        """Cell centres, radians, shape (cells,)."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def widths(self) -> np.ndarray:
        """Cell widths, radians, shape (cells,)."""
        return np.diff(self.edges)

    def cell_averages(self, cdf: ArrayLike) -> np.ndarray:
        """Turn a cumulative distribution at the faces into cell-average densities.

        Parameters
        ----------
        cdf : array_like, shape (cells + 1,)
            Mass of [0, edge] at each face.

        Returns
        -------
        ndarray, shape (cells,)
            Density per radian, exact cell averages of the measure.
        """
        return np.diff(np.asarray(cdf, dtype=float)) / self.widths

    def second_moments(self, centre: float) -> np.ndarray:
        """Integrate (theta - centre)^2 over each cell, radians^3, shape (cells,)."""
        shifted = self.edges - centre
        return np.diff(shifted**3) / 3.0

    def first_moments(self) -> np.ndarray:
        """Integrate theta over each cell, radians^2, shape (cells,)."""
        return np.diff(self.edges**2) / 2.0
