"""Predictor, residual and the fields G and V of the reduced gradient flow.

For masses per cell m_plus, m_minus (density times width):

    F(phi_k) = sum_i phi_tilde(theta_i; phi_k) (m_plus_i - m_minus_i)
    R(phi_k) = cos(phi_k) - F(phi_k)
    G(theta) = sum_k w_k R(phi_k) phi_tilde(theta; phi_k)
    V(theta) = dG/dtheta = sum_k w_k R(phi_k) d/dtheta phi_tilde(theta; phi_k)
    A = (1/2) sum_k w_k R(phi_k)^2

with (phi_k, w_k) the Gauss–Jacobi rule of the angle law g. Each evaluation is
three dense mat-vecs with tables built once per run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernel import KernelTables, build_tables
from .mesh import Mesh
from .problem import Problem


@dataclass(frozen=True)
class Fields:
    """Fields of one state.

    Attributes
    ----------
    residual : ndarray, shape (n_phi,)
        R at the phi nodes.
    G : ndarray, shape (cells,)
        Reaction field at the cell centres, per unit time.
    V_faces : ndarray, shape (cells + 1,)
        Velocity dG/dtheta at the faces, radians per unit time; zero at both ends.
    loss : float
        A = (1/2) int R^2 dg.
    """

    residual: np.ndarray
    G: np.ndarray
    V_faces: np.ndarray
    loss: float


class ReducedModel:
    """Kernel tables and quadrature of one (problem, mesh, phi rule).

    Parameters
    ----------
    problem : Problem
        Dimensions d and d_H.
    mesh : Mesh
        Cells of [0, pi/2].
    n_phi : int
        Nodes of the Gauss–Jacobi rule of the angle law g.
    """

    def __init__(self, problem: Problem, mesh: Mesh, n_phi: int) -> None:
        if (
            isinstance(n_phi, bool)
            or not isinstance(n_phi, int | np.integer)
            or n_phi < 2
        ):
            raise ValueError(f"n_phi={n_phi!r} is invalid: pass an integer >= 2")
        self.problem = problem
        self.mesh = mesh
        rule = problem.angle_rule(int(n_phi))
        self.phi = rule.nodes
        self.phi_weights = rule.weights
        self.cos_phi = np.cos(rule.nodes)
        self.widths = mesh.widths
        self.tables: KernelTables = build_tables(
            mesh.centres, mesh.edges, self.phi, problem.d_H, problem.d_perp
        )

        # Per-cell weights of the stiffness bound (see stiffness).
        weighted = self.phi_weights[None, :]
        self._reaction_stiffness = 4.0 * np.sum(
            weighted * self.tables.centres**2, axis=1
        )
        self._transport_stiffness = np.sum(
            weighted * self.tables.dtheta_centres**2, axis=1
        )

    def predictor(self, tau_plus: np.ndarray, tau_minus: np.ndarray) -> np.ndarray:
        """Return F at the phi nodes, shape (n_phi,), for densities per radian."""
        signed_mass = (tau_plus - tau_minus) * self.widths
        return self.tables.centres.T @ signed_mass

    def fields(self, tau_plus: np.ndarray, tau_minus: np.ndarray) -> Fields:
        """Compute R, G, V and the loss for densities of shape (cells,)."""
        residual = self.cos_phi - self.predictor(tau_plus, tau_minus)
        weighted_residual = self.phi_weights * residual
        G = self.tables.centres @ weighted_residual
        V_faces = self.tables.dtheta_faces @ weighted_residual
        V_faces[0] = 0.0
        V_faces[-1] = 0.0
        loss = 0.5 * float(weighted_residual @ residual)
        return Fields(residual, G, V_faces, loss)

    def velocity_at_centres(self, fields: Fields) -> np.ndarray:
        """Return V at the cell centres, shape (cells,), radians per unit time."""
        return self.tables.dtheta_centres @ (self.phi_weights * fields.residual)

    def stiffness(self, tau_plus: np.ndarray, tau_minus: np.ndarray) -> float:
        """Bound the largest rate of the linearised flow, per unit time.

        The Hessian of the loss in the log-masses and positions of the cells is
        bounded by its trace, ``sum_i m_i (4 sum_k w_k phi_tilde_ik^2 +
        sum_k w_k (d phi_tilde_ik / d theta)^2)``. A lagged explicit step is stable
        for ``dt`` below ``2 / stiffness``; the solver keeps ``dt <= cfl / stiffness``.
        """
        mass = (tau_plus + tau_minus) * self.widths
        return float(mass @ (self._reaction_stiffness + self._transport_stiffness))
