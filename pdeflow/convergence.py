"""Observed convergence orders of the solver in space, time and phi quadrature.

Each study solves one problem at a sequence of resolutions that double, and
estimates the error of each level by its difference to the next finer level:
for a method of order p the differences fall like N^-p, so a least-squares fit
of their logarithms gives p without a reference solution. Densities of a fine
uniform mesh are averaged onto the coarse cells before their L1 difference is
taken.

- space: cells N = 32, 64, ... with dt <= dt_factor * h, so space and time are
  refined together and the fit gives the order of the full scheme;
- time: one mesh, dt_max halved at each level, so the spatial error cancels in
  the differences;
- quadrature: one mesh and step, n_phi doubled at each level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .mesh import Mesh
from .problem import Problem
from .solver import solve

logger = logging.getLogger(__name__)

# Below this fitted order the differences barely shrink: the levels are then
# too coarse (or round-off dominates), not the scheme of that order.
MIN_CLEAR_ORDER = 0.5

QUANTITIES = ("l1_density", "mass_plus", "mass_minus", "loss")
ROUND_OFF = 1e-9


@dataclass
class Study:
    """Differences between successive levels of one refinement study.

    Attributes
    ----------
    name : str
        Label such as ``"upwind space t=10"``.
    key : str
        Entry in the summary: ``"space"``, ``"space_late"``, ``"time"``, or
        ``"d=30,d_H=5"`` for a quadrature study.
    group : str
        ``"upwind"``, ``"muscl"`` or ``"quadrature"``.
    parameter : str
        What is refined: ``"cells"``, ``"dt_max"`` or ``"n_phi"``.
    levels : list of float
        The coarser level of each difference.
    differences : dict of str to list of float
        For each of ``QUANTITIES``, the difference of each level to the next.
    orders : dict of str to float
        Fitted order of each quantity, positive when the differences shrink.
    """

    name: str
    key: str
    group: str
    parameter: str
    levels: list[float]
    differences: dict[str, list[float]] = field(default_factory=dict)
    orders: dict[str, float] = field(default_factory=dict)


def fitted_order(levels: np.ndarray, differences: np.ndarray, refine_up: bool) -> float:
    """Fit the order p of differences that scale like level^-p (or level^p).

    Parameters
    ----------
    levels : ndarray, shape (n,)
        Resolution parameter of each level (cells or n_phi, or dt).
    differences : ndarray, shape (n,)
        Positive differences to the next level.
    refine_up : bool
        True when a larger level is finer (cells, n_phi), False for dt.

    Returns
    -------
    float
        The slope of log(differences) against log(levels), sign-adjusted so that
        convergence gives a positive order. Levels whose difference is below
        ``ROUND_OFF`` times the largest are left out; nan when fewer than two
        remain.
    """
    levels = np.asarray(levels, dtype=float)
    differences = np.asarray(differences, dtype=float)

    # Differences at round-off carry no order: keep the levels above it.
    above = differences > ROUND_OFF * differences.max(initial=0.0)
    levels, differences = levels[above], differences[above]
    if levels.size < 2:
        return float("nan")
    slope = np.polyfit(np.log(levels), np.log(differences), 1)[0]
    return float(-slope if refine_up else slope)


def _final_state(problem: Problem, t: float, mesh: Mesh, **options) -> dict:
    run = solve(
        problem, t, mesh=mesh, save_times=[0.0, t], store_fields=False, **options
    )
    last = run.isel(time=-1)
    return {
        "tau": np.stack([last.tau_plus.values, last.tau_minus.values]),
        "widths": mesh.widths,
        "mass_plus": float(last.mass_plus),
        "mass_minus": float(last.mass_minus),
        "loss": float(last.loss),
    }


def _restrict(density: np.ndarray, factor: int) -> np.ndarray:
    """Average groups of ``factor`` fine uniform cells onto one coarse cell."""
    return density.reshape(density.shape[0], -1, factor).mean(axis=2)


def _differences(states: list[dict]) -> dict[str, list[float]]:
    result: dict[str, list[float]] = {name: [] for name in QUANTITIES}
    for coarse, fine in zip(states[:-1], states[1:], strict=True):
        factor = fine["tau"].shape[1] // coarse["tau"].shape[1]
        restricted = _restrict(fine["tau"], factor)
        l1 = np.sum(np.abs(coarse["tau"] - restricted) * coarse["widths"])
        result["l1_density"].append(float(l1))
        for name in ("mass_plus", "mass_minus", "loss"):
            result[name].append(abs(coarse[name] - fine[name]))
    return result


def _study(
    name: str, key: str, group: str, parameter: str, levels: list, states: list[dict]
) -> Study:
    study = Study(name, key, group, parameter, list(levels[:-1]))
    study.differences = _differences(states)
    refine_up = parameter != "dt_max"
    study.orders = {
        quantity: fitted_order(np.array(levels[:-1]), np.array(values), refine_up)
        for quantity, values in study.differences.items()
    }
    logger.info("%s: orders %s", name, study.orders)
    return study


def space_study(
    problem: Problem,
    scheme: str,
    t: float,
    cells_list: list[int],
    dt_factor: float = 10.0,
    key: str = "space",
) -> Study:
    """Refine the uniform mesh with dt <= dt_factor * h; fit the orders."""
    states = []
    for cells in cells_list:
        h = 0.5 * np.pi / cells
        options = {"scheme": scheme, "dt_max": dt_factor * h}
        states.append(_final_state(problem, t, Mesh.uniform(cells), **options))
    name = f"{scheme} space t={t:g}"
    return _study(name, key, scheme, "cells", list(cells_list), states)


def time_study(
    problem: Problem, scheme: str, t: float, cells: int, dt_list: list[float]
) -> Study:
    """Halve dt_max on one mesh (with cfl small enough not to bind); fit the orders."""
    mesh = Mesh.uniform(cells)
    states = [
        _final_state(problem, t, mesh, scheme=scheme, dt_max=dt, cfl=1.0)
        for dt in dt_list
    ]
    name = f"{scheme} time t={t:g}"
    return _study(name, "time", scheme, "dt_max", list(dt_list), states)


def quadrature_study(
    problem: Problem, t: float, cells: int, dt_max: float, n_phi_list: list[int]
) -> Study:
    """Double the phi nodes on one mesh and step; fit the orders."""
    mesh = Mesh.uniform(cells)
    states = [
        _final_state(problem, t, mesh, scheme="muscl", dt_max=dt_max, n_phi=n_phi)
        for n_phi in n_phi_list
    ]
    name = f"quadrature d={problem.d} d_H={problem.d_H} t={t:g}"
    key = f"d={problem.d},d_H={problem.d_H}"
    return _study(name, key, "quadrature", "n_phi", list(n_phi_list), states)


@dataclass(frozen=True)
class Plan:
    """Resolutions of a full set of studies.

    Attributes
    ----------
    early, late : float
        Times of the space studies (smooth phase, and after the overshoot).
    cells : list of int
        Levels of the space studies.
    time_cells : int
        Mesh of the time studies.
    dt_list : list of float
        Levels of the time studies.
    n_phi_list : list of int
        Levels of the quadrature studies.
    quadrature_problems : list of tuple of int
        (d, d_H) of the quadrature studies.
    """

    early: float = 10.0
    late: float = 300.0
    cells: tuple[int, ...] = (32, 64, 128, 256, 512)
    time_cells: int = 256
    dt_list: tuple[float, ...] = (0.8, 0.4, 0.2, 0.1, 0.05)
    n_phi_list: tuple[int, ...] = (4, 8, 16, 32, 64, 128)
    quadrature_problems: tuple[tuple[int, int], ...] = ((30, 5), (4, 2), (3, 1))


QUICK_PLAN = Plan(
    early=5.0,
    late=40.0,
    cells=(32, 64, 128, 256),
    time_cells=64,
    dt_list=(0.4, 0.2, 0.1, 0.05),
    n_phi_list=(4, 8, 16, 32),
    quadrature_problems=((30, 5), (4, 2)),
)


def run_studies(problem: Problem, plan: Plan = Plan()) -> list[Study]:
    """Run the space, time and quadrature studies of a plan.

    Parameters
    ----------
    problem : Problem
        The problem of the space and time studies.
    plan : Plan
        Resolutions; ``QUICK_PLAN`` runs in a few seconds.

    Returns
    -------
    list of Study
        Space studies (early and late time) and time studies for upwind and
        MUSCL, then one quadrature study per problem of the plan.
    """
    studies = []
    for scheme in ("upwind", "muscl"):
        for t, key in ((plan.early, "space"), (plan.late, "space_late")):
            studies.append(space_study(problem, scheme, t, list(plan.cells), key=key))
        dt_list = list(plan.dt_list)
        studies.append(
            time_study(problem, scheme, plan.early, plan.time_cells, dt_list)
        )
    for d, d_H in plan.quadrature_problems:
        studies.append(
            quadrature_study(
                Problem(d, d_H),
                plan.early,
                plan.time_cells,
                min(plan.dt_list),
                list(plan.n_phi_list),
            )
        )
    _warn_about_irregular_orders(studies)
    return studies


def _warn_about_irregular_orders(studies: list[Study]) -> None:
    """Log each study whose differences do not shrink as the levels refine."""
    for study in studies:
        poor = {q: p for q, p in study.orders.items() if not p >= MIN_CLEAR_ORDER}
        if poor:
            listed = ", ".join(f"{q} {p:.2f}" for q, p in poor.items())
            logger.warning(
                "%s: observed orders %s are below %.1f, so its levels are not in "
                "the asymptotic range: refine further (for d <= 4, also raise "
                "n_phi) before reading an order from it",
                study.name,
                listed,
                MIN_CLEAR_ORDER,
            )


def summary(studies: list[Study]) -> dict:
    """Collect the orders for scripts: ``{"upwind": {"space": p, ...}, ...}``.

    The order of a study is that of mass_plus; the full table has the others.
    ``space`` is the early-time space study and ``space_late`` the late one.
    """
    result: dict[str, dict[str, float]] = {"upwind": {}, "muscl": {}, "quadrature": {}}
    for study in studies:
        result[study.group][study.key] = study.orders["mass_plus"]
    return result


def format_table(studies: list[Study]) -> str:
    """Format the fitted orders of every study as a fixed-width table."""
    header = f"{'study':<34}{'refined':>8}" + "".join(f"{q:>12}" for q in QUANTITIES)
    lines = [header, "-" * len(header)]
    for study in studies:
        cells = "".join(f"{study.orders[q]:>12.2f}" for q in QUANTITIES)
        lines.append(f"{study.name:<34}{study.parameter:>8}{cells}")
    return "\n".join(lines)
