"""One time step of the coupled flow of (tau_plus, tau_minus).

Contract of :meth:`Stepper.step`: given the state, its fields and the longest
step allowed (the time left to the next save), return the new state and the
step taken. The step never exceeds the stable step of the flux scheme on the
velocities it uses, so a non-negative state stays non-negative.

- ``upwind``: Lie splitting with the fields of the current state (first order in
  time and space).
- ``muscl``: a predictor-corrector that is second order in time. The predictor
  advances with the current fields; the corrector restarts from the current
  state with the mean of the fields at the two ends of the step (trapezoidal
  rule), each with the second-order MUSCL Strang step of ``pdeflow.scheme``.
"""

from __future__ import annotations

import numpy as np

from . import scheme as fv
from .fields import Fields, ReducedModel
from .fused import (
    LIMITER_CODES,
    muscl_step_fused,
    stable_step_pair,
    upwind_pair_step,
)

# The corrector shrinks the step at most this many times when the mean velocity
# is faster than the one that sized the step.
_MAX_RETRIES = 8


class Stepper:
    """Advance (tau_plus, tau_minus) by one step of a chosen scheme.

    Parameters
    ----------
    model : ReducedModel
        Kernel tables and quadrature.
    scheme : str
        ``"upwind"`` or ``"muscl"``.
    limiter : str
        Slope limiter of the MUSCL scheme.
    cfl : float
        Courant number in (0, 1]; it also scales the stiffness limit.
    dt_max : float
        Upper bound of the step.
    """

    def __init__(
        self,
        model: ReducedModel,
        scheme: str,
        limiter: str,
        cfl: float,
        dt_max: float,
    ) -> None:
        fv.check_scheme(scheme, limiter)
        self.model = model
        self.scheme = scheme
        self.limiter = limiter
        self.cfl = cfl
        self.dt_max = dt_max

    def transport_limit(self, V_faces: np.ndarray) -> float:
        """Return the stable step of both densities for face velocities V_faces."""
        widths = self.model.widths
        if self.scheme == "upwind":
            return stable_step_pair(V_faces, widths, self.cfl)
        dt_plus = fv.max_stable_step(V_faces, widths, self.cfl, self.scheme)
        dt_minus = fv.max_stable_step(-V_faces, widths, self.cfl, self.scheme)
        return min(dt_plus, dt_minus)

    def step_size(
        self, tau_plus: np.ndarray, tau_minus: np.ndarray, V_faces: np.ndarray
    ) -> float:
        """Return the step allowed by the CFL, stiffness and dt_max bounds."""
        stiffness = self.model.stiffness(tau_plus, tau_minus)
        dt_stiff = self.cfl / stiffness if stiffness > 0.0 else np.inf
        return min(self.transport_limit(V_faces), dt_stiff, self.dt_max)

    def _advance(
        self,
        tau_plus: np.ndarray,
        tau_minus: np.ndarray,
        G: np.ndarray,
        V_faces: np.ndarray,
        dt: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.scheme == "muscl":
            edges = self.model.mesh.edges
            code = LIMITER_CODES[self.limiter]
            new_plus = muscl_step_fused(tau_plus, V_faces, 2.0 * G, edges, dt, code)
            new_minus = muscl_step_fused(tau_minus, -V_faces, -2.0 * G, edges, dt, code)
            return new_plus, new_minus

        return upwind_pair_step(tau_plus, tau_minus, V_faces, G, self.model.widths, dt)

    def step(
        self,
        tau_plus: np.ndarray,
        tau_minus: np.ndarray,
        fields: Fields,
        dt_cap: float,
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Advance by one step of at most ``dt_cap``; return the new state and dt."""
        dt = min(self.step_size(tau_plus, tau_minus, fields.V_faces), dt_cap)
        if self.scheme == "upwind":
            new_plus, new_minus = self._advance(
                tau_plus, tau_minus, fields.G, fields.V_faces, dt
            )
            return new_plus, new_minus, dt

        for _ in range(_MAX_RETRIES):
            guess_plus, guess_minus = self._advance(
                tau_plus, tau_minus, fields.G, fields.V_faces, dt
            )
            ahead = self.model.fields(guess_plus, guess_minus)
            mean_G = 0.5 * (fields.G + ahead.G)
            mean_V = 0.5 * (fields.V_faces + ahead.V_faces)
            limit = self.transport_limit(mean_V)
            if dt <= limit:
                new_plus, new_minus = self._advance(
                    tau_plus, tau_minus, mean_G, mean_V, dt
                )
                return new_plus, new_minus, dt
            dt = 0.9 * limit
        raise RuntimeError(
            f"the MUSCL corrector could not find a stable step below dt={dt:.3g}"
        )
