"""Initial measures tau_plus(0) and tau_minus(0) of a run.

A start is given by the cumulative masses F(theta) = tau([0, theta]) of both
measures, evaluated at the mesh faces, so that its cell averages are exact on any
mesh, uniform or graded, however narrow the measure is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from .checks import is_real
from .mesh import HALF_PI, Mesh
from .problem import Problem

CumulativeMass = Callable[[np.ndarray], np.ndarray]

PAPER_LABEL = "paper: tau_plus = tau_minus = g/2"

# The limit mass alpha is below 80 for every d_H <= 1000, so masses far above
# it are typing errors; they would also make the fields overflow.
MAX_MASS = 1e6

# Narrower starts cannot be followed: the first cell of a graded mesh with
# 1e5 cells and power 3 is 1.6e-15 rad wide, and W2 needs several cells.
MIN_WIDTH = 1e-12


@dataclass(frozen=True)
class Start:
    """Initial state of a run, given by the cumulative mass of each measure.

    Parameters
    ----------
    cdf_plus, cdf_minus : callable
        Map faces in radians, shape (faces,), to the mass of tau_plus (tau_minus)
        on [0, face], shape (faces,); 0 at theta = 0 and non-decreasing.
    label : str
        Description recorded in the ``initial`` attribute of the output.
    width : float, optional
        Radius in radians within which tau_plus is concentrated, when it is;
        :func:`pdeflow.solve` warns when the first cell of the mesh is wider.
    """

    cdf_plus: CumulativeMass
    cdf_minus: CumulativeMass
    label: str
    width: float | None = None

    def __post_init__(self) -> None:
        for name in ("cdf_plus", "cdf_minus"):
            if not callable(getattr(self, name)):
                raise TypeError(
                    f"{name}={getattr(self, name)!r} is invalid: pass a function "
                    "from face angles (radians) to cumulative masses"
                )
        if not isinstance(self.label, str) or not self.label:
            raise TypeError(
                f"label={self.label!r} is invalid: pass a non-empty description"
            )
        if self.width is not None:
            _checked("width", self.width, 0.0, HALF_PI, unit="radians")

    def densities(self, mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
        """Return the cell averages of tau_plus and tau_minus, per radian.

        Returns
        -------
        tuple of ndarray, each shape (cells,)
        """
        return (
            _cell_averages(self.cdf_plus, mesh, "tau_plus"),
            _cell_averages(self.cdf_minus, mesh, "tau_minus"),
        )


def _cell_averages(cdf: CumulativeMass, mesh: Mesh, name: str) -> np.ndarray:
    """Check a cumulative mass at the faces and difference it into densities."""
    raw = np.asarray(cdf(mesh.edges.copy()))
    if raw.dtype.kind not in "biuf":
        raise ValueError(
            f"the cumulative mass of {name} has dtype {raw.dtype}: return real "
            "numbers, one per face"
        )
    values = raw.astype(float)
    if values.shape != mesh.edges.shape:
        raise ValueError(
            f"the cumulative mass of {name} has shape {values.shape} for "
            f"{mesh.edges.size} faces: return one value per face"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"the cumulative mass of {name} contains nan or inf: return finite masses"
        )

    scale = max(1.0, abs(values[-1]))
    if abs(values[0]) > 1e-12 * scale:
        raise ValueError(
            f"the cumulative mass of {name} is {values[0]:.6g} at theta = 0: it "
            "must be 0, the mass of [0, 0]"
        )
    if np.any(np.diff(values) < -1e-14 * scale):
        raise ValueError(
            f"the cumulative mass of {name} decreases between faces: pass a "
            "non-decreasing function (a positive measure)"
        )

    if values[-1] > MAX_MASS:
        raise ValueError(
            f"the mass of {name} is {values[-1]:.3g}: pass at most {MAX_MASS:g}, "
            "since the limit mass alpha is below 80"
        )
    with np.errstate(over="ignore"):  # overflow is reported just below
        densities = np.maximum(mesh.cell_averages(values - values[0]), 0.0)
    if not np.all(np.isfinite(densities)):
        raise ValueError(
            f"the density of {name} overflows in the narrowest cells: spread "
            "its mass over a wider angle"
        )
    return densities


def paper_start(problem: Problem) -> Start:
    """Return the start of Hajjar and Chizat (2023): tau_plus = tau_minus = g/2.

    Each measure has mass 1/2.
    """

    def half(theta: np.ndarray) -> np.ndarray:
        return 0.5 * problem.angle_cdf(theta)

    return Start(half, half, PAPER_LABEL)


def concentrated_start(
    problem: Problem,
    width: float,
    mass_plus: float | None = None,
    mass_minus: float = 0.5,
) -> Start:
    """Return a start with tau_plus concentrated near theta = 0.

    tau_plus is ``mass_plus`` times the half-normal law of scale ``width``
    restricted to [0, pi/2], whose W2 distance to delta_0 is ``width`` up to a
    relative error below exp(-(pi/2)^2 / (2 width^2)), under 1e-5 for
    width <= 0.3. tau_minus is ``mass_minus`` times the angle law g, as in
    Hajjar and Chizat (2023). Runs from here follow a measure much narrower
    than a uniform cell, which is what graded meshes are for.

    Parameters
    ----------
    problem : Problem
        Dimensions d and d_H.
    width : float
        Scale of tau_plus in radians, in [1e-12, 0.3].
    mass_plus : float, optional
        Mass of tau_plus, in (0, 1e6]; default alpha / 2, so that the reaction
        still has half of the limit mass to create.
    mass_minus : float
        Mass of tau_minus, in [0, 1e6].
    """
    width = _checked("width", width, MIN_WIDTH, 0.3, unit="radians", closed=True)
    if mass_plus is None:
        mass_plus = 0.5 * problem.alpha
    mass_plus = _checked("mass_plus", mass_plus, 0.0, MAX_MASS)
    mass_minus = _checked("mass_minus", mass_minus, 0.0, MAX_MASS, closed=True)
    scale = width * np.sqrt(2.0)
    total = erf(HALF_PI / scale)

    def cdf_plus(theta: np.ndarray) -> np.ndarray:
        return mass_plus * erf(theta / scale) / total

    def cdf_minus(theta: np.ndarray) -> np.ndarray:
        return mass_minus * problem.angle_cdf(theta)

    # Full-precision numbers, so that a run can be re-created from its label.
    label = (
        f"concentrated: tau_plus = {mass_plus!r} x half-normal(width={width!r} "
        f"rad), tau_minus = {mass_minus!r} x g"
    )
    return Start(cdf_plus, cdf_minus, label, width)


def _checked(
    name: str,
    value: float,
    lower: float,
    upper: float = np.inf,
    unit: str = "",
    closed: bool = False,
) -> float:
    """Return ``value`` as a float after checking lower < value <= upper.

    With ``closed`` the lower bound is allowed too.
    """
    if not is_real(value):
        raise TypeError(f"{name}={value!r} is invalid: pass a number")
    value = float(value)
    above = value >= lower if closed else value > lower
    if not (np.isfinite(value) and above and value <= upper):
        bound = ">=" if closed else ">"
        limit = "" if np.isinf(upper) else f" and <= {upper:g}"
        raise ValueError(
            f"{name}={value:.10g} is invalid: pass a finite value {bound} {lower:g}"
            f"{limit} {unit}".rstrip()
        )
    return value
