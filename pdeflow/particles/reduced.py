"""Reduced particles: m signed Dirac masses on [0, pi/2] following the flow.

With tau_plus - tau_minus = (1/m) sum_j eps_j c_j delta_(theta_j) and eps_j the
sign of particle j, the mean-field gradient flow becomes the ODEs

    theta_j' = eps_j V(theta_j),     c_j' = 2 eps_j G(theta_j) c_j,

with G(theta) = int R(phi) phi_tilde(theta; phi) dg(phi) and V = dG/dtheta
(Hajjar and Chizat, 2023, "On the symmetries in the dynamics of wide two-layer
neural networks"). Two methods:

- ``simulate_deterministic``: G and V from the Gauss–Jacobi rule of g and
  interpolated kernel tables, classical fourth-order Runge–Kutta in the time of
  the flow, with Gauss, midpoint or random initial angles.
- ``simulate_faithful``: the Euler scheme of the paper above with Monte-Carlo
  estimates of G and V from N fresh samples of (phi, r, r', s, s') per step.
  Its estimates carry a factor d, so a step of size eta advances the flow by
  d * eta; the saved times are in the time of the flow.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import xarray as xr

from ..fused import compile_kernel
from ..problem import Problem
from ..progress import progress_bar
from .interpolation import DEFAULT_TABLE_CELLS, fold_angle
from .record import (
    DEFAULT_HISTOGRAM_CELLS,
    DEFAULT_N_PHI,
    ParticleState,
    Recorder,
    ReducedFields,
)
from .sampling import initial_particles, sample_angles, sample_coordinate
from .schedule import (
    check_count,
    check_gauss_layout,
    check_positive,
    check_seed,
    check_sizes,
    count_steps,
    save_schedule,
    save_step_schedule,
)

logger = logging.getLogger(__name__)

DEFAULT_DT = 0.01


def _rates(
    fields: ReducedFields, state: ParticleState
) -> tuple[np.ndarray, np.ndarray]:
    G, V, _, _ = fields.evaluate(state)
    return state.sign * V, 2.0 * state.sign * G * state.weight


def _rk4_step(fields: ReducedFields, state: ParticleState, dt: float) -> ParticleState:
    """Advance (theta, c) by one classical Runge–Kutta step of size dt."""

    def shifted(k_theta: np.ndarray, k_weight: np.ndarray, h: float) -> ParticleState:
        return ParticleState(
            state.theta + h * k_theta, state.weight + h * k_weight, state.sign
        )

    k1 = _rates(fields, state)
    k2 = _rates(fields, shifted(*k1, 0.5 * dt))
    k3 = _rates(fields, shifted(*k2, 0.5 * dt))
    k4 = _rates(fields, shifted(*k3, dt))
    theta = state.theta + dt / 6.0 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
    weight = state.weight + dt / 6.0 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    # V vanishes at 0 and pi/2, so only a round-off overshoot can leave the
    # interval; the kernel's mirror symmetry makes folding it back exact.
    theta, _ = fold_angle(theta)
    return ParticleState(theta, weight, state.sign)


def simulate_deterministic(
    problem: Problem,
    t_end: float,
    *,
    m: int = 4000,
    dt: float = DEFAULT_DT,
    layout: str = "gauss",
    seed: int = 0,
    n_phi: int = DEFAULT_N_PHI,
    table_cells: int = DEFAULT_TABLE_CELLS,
    save_times: np.ndarray | None = None,
    saves: int = 41,
    cells: int = DEFAULT_HISTOGRAM_CELLS,
    progress: bool | None = False,
) -> xr.Dataset:
    """Integrate the reduced particle ODEs with quadrature fields and RK4.

    Parameters
    ----------
    problem : Problem
        Dimensions d and d_H.
    t_end : float
        Final time of the gradient flow, > 0.
    m : int
        Number of particles (even unless ``layout="random"``).
    dt : float
        Largest Runge–Kutta step, in the time of the flow; steps are shortened
        to land on the save times. The scheme is explicit, so dt times the
        largest rate of the linearised flow must stay below about 2.8.
    layout : str
        Initial angles: ``"gauss"``, ``"midpoint"`` or ``"random"`` (see
        ``pdeflow.particles.sampling.initial_particles``).
    seed : int
        Seed of the random layout.
    n_phi : int
        Nodes of the Gauss–Jacobi rule of g used for G, V and the loss.
    table_cells : int
        Cells of the kernel interpolation table per phi node.
    save_times : ndarray, optional
        Times in [0, t_end] to save; default ``saves`` evenly spaced times.
    saves : int
        Number of default save times, >= 2.
    cells : int
        Cells of the saved histograms.
    progress : bool or None
        Show a tqdm progress bar; None shows it only on a terminal.

    Returns
    -------
    xarray.Dataset
        The layout of a PDE run (``pdeflow.solve``); attributes ``kind``
        (``"reduced-deterministic"``), ``m``, ``dt``, ``layout``, ``seed``.
    """
    t_end = check_positive("t_end", t_end)
    dt = check_positive("dt", dt)
    m = check_count("m", m, minimum=2)
    seed = check_seed(seed)
    times = save_schedule(t_end, save_times, saves)
    check_sizes(m, n_phi, table_cells, cells, times.size)
    check_gauss_layout(m, layout)
    wall_start = time.perf_counter()
    rng = np.random.default_rng(seed)
    fields = ReducedFields(problem, n_phi, table_cells)
    recorder = Recorder(problem, fields, cells, table_cells)
    state = ParticleState(*initial_particles(problem, m, layout, rng))

    t, steps, stop_reason = 0.0, 0, "completed"
    with progress_bar(float(times[-1]), progress, "t") as bar:
        for target in times:
            while t < target:
                h = min(dt, target - t)
                # Avoid a sliver step of round-off size before a save time.
                if target - (t + h) < 1e-12 * max(1.0, target):
                    h = target - t
                new_state = _rk4_step(fields, state, h)
                if not (
                    np.all(np.isfinite(new_state.weight))
                    and np.all(new_state.weight >= 0)
                ):
                    stop_reason = (
                        f"invalid weights at step {steps + 1}, t={t + h:.6g}: reduce dt"
                    )
                    break
                state = new_state
                t = target if h == target - t else t + h
                steps += 1
                bar.update(h)
            if stop_reason != "completed":
                break
            recorder.save(t, steps, state)
    logger.info("reduced particles stopped at t=%.6g after %d steps", t, steps)

    meta = {
        "title": "pdeflow reduced particle run",
        "kind": "reduced-deterministic",
        "scheme": "particles-rk4",
        "m": m,
        "dt": dt,
        "layout": layout,
        "seed": int(seed),
        "n_phi": int(n_phi),
        "table_cells": int(table_cells),
        "t_end": t_end,
        "steps": steps,
        "wall_seconds": time.perf_counter() - wall_start,
        "stop_reason": stop_reason,
    }
    return recorder.dataset(meta)


def _weight_fault(signed_weight: np.ndarray, sign: np.ndarray) -> str | None:
    """Describe what is wrong with the weights c_j, or return None.

    The Euler factor 1 + 2 eta eps_j G_j turns negative when eta is too large,
    which gives a particle a negative weight in its measure. The flow itself
    only rescales weights by positive factors.
    """
    if not np.all(np.isfinite(signed_weight)):
        return "non-finite weights"
    if np.any(sign * signed_weight < 0.0):
        return "a weight changed sign"
    return None


def _monte_carlo_fields(
    problem: Problem,
    theta: np.ndarray,
    signed_weight: np.ndarray,
    samples: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate d G and d V at the particles from fresh samples, as in the paper.

    Returns the two estimates, shape (m,) each; their means are d times G and
    d times V.
    """
    m = theta.size
    phi = sample_angles(problem, samples, rng)
    r, r_prime = (sample_coordinate(problem.d_H, samples, rng) for _ in range(2))
    s, s_prime = (sample_coordinate(problem.d_perp, samples, rng) for _ in range(2))

    cos_theta, sin_theta = np.cos(theta), np.sin(theta)
    cos_phi, sin_phi = np.cos(phi), np.sin(phi)
    residual = cos_phi - _network_output(
        cos_theta, sin_theta, cos_phi, sin_phi, r_prime, s_prime, signed_weight / m
    )
    G_hat, V_hat = _field_sums(cos_theta, sin_theta, cos_phi, sin_phi, r, s, residual)
    scale = problem.d / samples
    return scale * G_hat, scale * V_hat


@compile_kernel
def _network_output(
    cos_theta: np.ndarray,
    sin_theta: np.ndarray,
    cos_phi: np.ndarray,
    sin_phi: np.ndarray,
    r: np.ndarray,
    s: np.ndarray,
    weight: np.ndarray,
) -> np.ndarray:
    """Return the network output at each sample, shape (samples,).

    That is sum_j weight_j relu(cos(theta_j) cos(phi_k) r_k + sin(theta_j)
    sin(phi_k) s_k), in one loop over (particle, sample) pairs in place of
    four (m x samples) temporaries.
    """
    output = np.zeros(cos_phi.size)
    for j in range(cos_theta.size):
        for k in range(cos_phi.size):
            pre = cos_theta[j] * cos_phi[k] * r[k] + sin_theta[j] * sin_phi[k] * s[k]
            if pre > 0.0:
                output[k] += weight[j] * pre
    return output


@compile_kernel
def _field_sums(
    cos_theta: np.ndarray,
    sin_theta: np.ndarray,
    cos_phi: np.ndarray,
    sin_phi: np.ndarray,
    r: np.ndarray,
    s: np.ndarray,
    residual: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return sum_k psi_jk R_k and sum_k chi_jk R_k, shape (m,) each.

    psi is relu of the pre-activation and chi its theta-derivative,
    1{pre > 0} (-sin(theta) cos(phi) r + cos(theta) sin(phi) s).
    """
    G_sum, V_sum = np.zeros(cos_theta.size), np.zeros(cos_theta.size)
    for j in range(cos_theta.size):
        g, v = 0.0, 0.0
        for k in range(cos_phi.size):
            a, b = cos_theta[j] * cos_phi[k], sin_theta[j] * sin_phi[k]
            pre = a * r[k] + b * s[k]
            if pre > 0.0:
                g += pre * residual[k]
                slope = (
                    -sin_theta[j] * cos_phi[k] * r[k] + cos_theta[j] * sin_phi[k] * s[k]
                )
                v += slope * residual[k]
        G_sum[j], V_sum[j] = g, v
    return G_sum, V_sum


def simulate_faithful(
    problem: Problem,
    steps: int = 20000,
    *,
    m: int = 1024,
    samples: int = 1000,
    eta: float = 5e-3,
    seed: int = 0,
    n_phi: int = DEFAULT_N_PHI,
    table_cells: int = DEFAULT_TABLE_CELLS,
    save_steps: np.ndarray | None = None,
    saves: int = 41,
    cells: int = DEFAULT_HISTOGRAM_CELLS,
    progress: bool | None = False,
) -> xr.Dataset:
    """Run the Euler scheme with Monte-Carlo fields of Hajjar and Chizat (2023).

    Each step draws ``samples`` fresh values of (phi, r, r', s, s'), estimates
    G and V at the particles with the factor d of the paper's estimator and
    updates ``c_j <- (1 + 2 eta eps_j G_j) c_j`` and ``theta_j <- theta_j + eta
    eps_j V_j``. The defaults are the paper's run for d = 30, d_H = 5.

    Parameters
    ----------
    problem : Problem
        Dimensions d and d_H.
    steps : int
        Number of Euler steps; the run ends at flow time ``steps * d * eta``.
    m : int
        Number of particles, with random angles from g and random signs.
    samples : int
        Monte-Carlo samples N per step.
    eta : float
        Step size of the paper's scheme; one step is flow time ``d * eta``.
    seed : int
        Seed of the initial particles and of all samples.
    n_phi, table_cells : int
        Rule and kernel tables of the saved loss, predictor and fields.
    save_steps : ndarray, optional
        Step indices in [0, steps] to save; default ``saves`` evenly spaced.
    saves : int
        Number of default save points, >= 2.
    cells : int
        Cells of the saved histograms.
    progress : bool or None
        Show a tqdm progress bar; None shows it only on a terminal.

    Returns
    -------
    xarray.Dataset
        The layout of a PDE run, with ``time = step * d * eta``; attributes
        ``kind`` (``"reduced-faithful"``), ``m``, ``samples``, ``eta``, ``seed``,
        ``time_per_step``. Angles are folded into [0, pi/2] before saving
        (the scheme lets a few leave it), an exact symmetry of the kernel.
    """
    steps = count_steps(check_count("steps", steps, minimum=1), f"steps={steps}")
    m = check_count("m", m, minimum=1)
    samples = check_count("samples", samples, minimum=1)
    eta = check_positive("eta", eta)
    seed = check_seed(seed)
    time_per_step = problem.d * eta
    save_steps = save_step_schedule(steps, save_steps, saves)
    check_sizes(m, n_phi, table_cells, cells, save_steps.size)

    wall_start = time.perf_counter()
    rng = np.random.default_rng(seed)
    fields = ReducedFields(problem, n_phi, table_cells)
    recorder = Recorder(problem, fields, cells, table_cells)
    theta, weight, sign = initial_particles(problem, m, "random", rng)
    signed_weight = sign * weight  # c_j of the paper

    stop_reason = "completed"
    step = 0
    with progress_bar(int(save_steps.max()), progress, "step") as bar:
        for target in save_steps:
            while step < target and _weight_fault(signed_weight, sign) is None:
                # Overflow ends the loop at the next check and is reported below.
                with np.errstate(over="ignore", invalid="ignore"):
                    G_hat, V_hat = _monte_carlo_fields(
                        problem, theta, signed_weight, samples, rng
                    )
                    signed_weight = (1.0 + 2.0 * eta * sign * G_hat) * signed_weight
                    theta = theta + eta * sign * V_hat
                step += 1
                bar.update()
            fault = _weight_fault(signed_weight, sign)
            if fault is not None:
                stop_reason = f"{fault} at step {step}: reduce eta"
                break
            folded, _ = fold_angle(theta)
            state = ParticleState(folded, sign * signed_weight, sign)
            recorder.save(step * time_per_step, step, state)
    logger.info("faithful particles stopped after %d steps", step)

    meta = {
        "title": "pdeflow reduced particle run (Monte-Carlo Euler scheme)",
        "kind": "reduced-faithful",
        "scheme": "particles-euler-monte-carlo",
        "m": m,
        "samples": samples,
        "eta": eta,
        "time_per_step": time_per_step,
        "seed": int(seed),
        "n_phi": int(n_phi),
        "table_cells": int(table_cells),
        "t_end": steps * time_per_step,
        "steps": step,
        "wall_seconds": time.perf_counter() - wall_start,
        "stop_reason": stop_reason,
    }
    return recorder.dataset(meta)
