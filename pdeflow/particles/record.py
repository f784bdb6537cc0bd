"""Saved states of a particle run, in the layout of a PDE run dataset.

A particle state is a list of angles theta_j in [0, pi/2], non-negative
weights c_j and signs eps_j, standing for

    tau_plus  = (1/m) sum_{eps_j = +1} c_j delta_(theta_j)
    tau_minus = (1/m) sum_{eps_j = -1} c_j delta_(theta_j).

At each save time the recorder stores histogram densities on a mesh (for plots
and comparisons) and computes every scalar from the particles themselves: the
masses, mean angles and W2 distances exactly, the loss, the fields G, V and the
dissipation from the Gauss–Jacobi rule of g with interpolated kernel tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..diagnostics import SCALARS
from ..initial import PAPER_LABEL
from ..mesh import HALF_PI, Mesh
from ..output import Record, build_dataset
from ..problem import Problem
from .interpolation import DEFAULT_TABLE_CELLS, KernelInterpolant

PREDICTOR_POINTS = 65  # same phi grid as the PDE runs
DEFAULT_HISTOGRAM_CELLS = 128
DEFAULT_N_PHI = 96


@dataclass
class ParticleState:
    """Angles, weights and signs of m particles.

    Attributes
    ----------
    theta : ndarray, shape (m,)
        Angles to H in radians, folded into [0, pi/2].
    weight : ndarray, shape (m,)
        Weights c_j, dimensionless (|a_j| ||b_j|| for a network neuron).
    sign : ndarray, shape (m,)
        +1 for tau_plus, -1 for tau_minus.
    """

    theta: np.ndarray
    weight: np.ndarray
    sign: np.ndarray


class ReducedFields:
    """Predictor, residual, loss, G and V of a particle state.

    Parameters
    ----------
    problem : Problem
        Dimensions d and d_H.
    n_phi : int
        Nodes of the Gauss–Jacobi rule of g in cos(phi).
    table_cells : int
        Cells of the kernel interpolation table of each phi node.
    """

    def __init__(
        self, problem: Problem, n_phi: int, table_cells: int = DEFAULT_TABLE_CELLS
    ) -> None:
        rule = problem.angle_rule(n_phi)
        self.phi_weights = rule.weights
        self.cos_phi = np.cos(rule.nodes)
        self.kernel = KernelInterpolant(
            rule.nodes, problem.d_H, problem.d_perp, table_cells
        )

    def evaluate(
        self, state: ParticleState
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Compute G and V at the particles, the residual and the loss.

        Returns
        -------
        G : ndarray, shape (m,)
            Reaction field at the particles, per unit time.
        V : ndarray, shape (m,)
            dG/dtheta at the particles, radians per unit time.
        residual : ndarray, shape (n_phi,)
            R(phi_k) = cos(phi_k) - F(phi_k) at the rule nodes.
        loss : float
            (1/2) sum_k w_k R(phi_k)^2.
        """
        value, slope = self.kernel(state.theta)
        signed = state.sign * state.weight / state.theta.size
        residual = self.cos_phi - value.T @ signed
        weighted = self.phi_weights * residual
        loss = 0.5 * float(weighted @ residual)
        return value @ weighted, slope @ weighted, residual, loss


class Recorder:
    """Turn particle states into the saved records of a run dataset.

    Parameters
    ----------
    problem : Problem
        Dimensions d and d_H.
    fields : ReducedFields
        Rule and kernel tables for G, V and the loss.
    cells : int
        Uniform cells of the histograms of tau_plus and tau_minus.
    table_cells : int
        Cells of the kernel table of each point of the predictor grid.
    """

    def __init__(
        self,
        problem: Problem,
        fields: ReducedFields,
        cells: int = DEFAULT_HISTOGRAM_CELLS,
        table_cells: int = DEFAULT_TABLE_CELLS,
    ) -> None:
        self.problem = problem
        self.fields = fields
        self.mesh = Mesh.uniform(cells)
        self.phi_grid = np.linspace(0.0, HALF_PI, PREDICTOR_POINTS)
        self.predictor_kernel = KernelInterpolant(
            self.phi_grid, problem.d_H, problem.d_perp, table_cells
        )
        self.record = Record()

    def save(
        self,
        t: float,
        step: int,
        state: ParticleState,
        loss: float | None = None,
    ) -> None:
        """Append the histograms, predictor and scalars of one state.

        Parameters
        ----------
        t : float
            Time of the mean-field gradient flow.
        step : int
            Steps taken so far.
        state : ParticleState
            The particles.
        loss : float, optional
            Loss estimated elsewhere (a network's held-out samples); by default
            the loss of the phi quadrature.
        """
        m = state.theta.size
        G, V, _, quadrature_loss = self.fields.evaluate(state)
        record = self.record
        record.times.append(float(t))
        record.steps.append(int(step))

        edges = self.mesh.edges
        widths = self.mesh.widths
        scalars: dict[str, float] = {}
        for name, side, target in (("plus", 1.0, 0.0), ("minus", -1.0, HALF_PI)):
            chosen = state.sign == side
            theta = state.theta[chosen]
            weight = state.weight[chosen]
            counts, _ = np.histogram(theta, bins=edges, weights=weight / m)
            getattr(record, f"tau_{name}").append(counts / widths)
            mass = float(weight.sum()) / m
            scalars[f"mass_{name}"] = mass
            total = float(weight.sum())
            if total > 0.0:
                mean = float(weight @ theta) / total
                w2 = float(np.sqrt(weight @ (theta - target) ** 2 / total))
            else:
                mean = w2 = float("nan")
            scalars[f"mean_theta_{name}"] = mean
            scalars[f"w2_{name}"] = w2

        scalars["mass_error_plus"] = abs(scalars["mass_plus"] - self.problem.alpha)
        scalars["loss"] = quadrature_loss if loss is None else float(loss)
        scalars["dissipation"] = float(state.weight @ (V**2 + 2.0 * G**2)) / m
        for name in SCALARS:
            record.scalars[name].append(scalars[name])

        value, _ = self.predictor_kernel(state.theta)
        record.predictor.append(value.T @ (state.sign * state.weight) / m)

    def dataset(self, meta: dict) -> xr.Dataset:
        """Assemble the saved states into a run dataset with attributes ``meta``.

        Every particle route samples the start g/2, g/2 (in law for random
        signs), which ``initial`` records as for a PDE run.
        """
        attributes = {"initial": PAPER_LABEL} | meta
        return build_dataset(
            self.record, self.problem, self.mesh, self.phi_grid, attributes
        )
