"""Particle baselines of the reduced PDE: reduced particles and finite networks.

- ``simulate_deterministic``: reduced particles, quadrature fields, RK4.
- ``simulate_faithful``: reduced particles, the Monte-Carlo Euler scheme of
  Hajjar and Chizat (2023), one step of size eta being flow time d * eta.
- ``simulate_network``: a width-m two-layer ReLU network trained by gradient
  descent on fresh samples, projected on (tau_plus, tau_minus).

Every simulation returns a dataset in the layout of ``pdeflow.solve``, so
``pdeflow.compare`` and the plotting functions take either kind of run.
"""

from __future__ import annotations

import xarray as xr

from ..problem import Problem
from .network import simulate_network
from .reduced import simulate_deterministic, simulate_faithful

KINDS = ("reduced", "faithful", "network")


def run_particles(problem: Problem, kind: str, **options: object) -> xr.Dataset:
    """Run one particle baseline and return its dataset.

    Parameters
    ----------
    problem : Problem
        Dimensions d and d_H.
    kind : str
        ``"reduced"`` (``simulate_deterministic``), ``"faithful"``
        (``simulate_faithful``) or ``"network"`` (``simulate_network``).
    **options
        Keyword arguments of the chosen function, such as ``t_end``, ``m``,
        ``seed``; ``simulate_faithful`` takes ``steps`` in place of ``t_end``.

    Returns
    -------
    xarray.Dataset
        The run, in the layout of ``pdeflow.solve``.
    """
    if kind == "reduced":
        return simulate_deterministic(problem, **options)
    if kind == "faithful":
        return simulate_faithful(problem, **options)
    if kind == "network":
        return simulate_network(problem, **options)
    raise ValueError(f"kind={kind!r} is unknown: choose one of {', '.join(KINDS)}")


__all__ = [
    "KINDS",
    "run_particles",
    "simulate_deterministic",
    "simulate_faithful",
    "simulate_network",
]
