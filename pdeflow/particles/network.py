"""Finite-width two-layer ReLU networks trained by gradient descent.

f(x) = (1/m) sum_j a_j relu(b_j . x) on inputs x uniform on the unit sphere of
R^d, target f*(x) = ||x_H|| with H spanned by the first d_H coordinates. At
start a_j = +-1 with probability 1/2 and b_j is uniform on the sphere. Each step
draws a fresh batch of inputs and moves every neuron along its mean-field
gradient,

    a_j += eta mean_x[R(x) relu(b_j . x)],
    b_j += eta a_j mean_x[R(x) 1{b_j . x > 0} x],     R = f* - f,

which is gradient descent on the batch loss with step m * eta per neuron, so
step k is time k * eta of the mean-field flow. At each save time the neurons
are projected on the reduced model: angle theta_j = arccos(||b_j,H|| / ||b_j||)
and weight |a_j| ||b_j||, in tau_plus when a_j > 0 and in tau_minus otherwise.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import xarray as xr

from ..problem import Problem
from ..progress import progress_bar
from .backends import make_backend
from .interpolation import DEFAULT_TABLE_CELLS
from .record import (
    DEFAULT_HISTOGRAM_CELLS,
    DEFAULT_N_PHI,
    ParticleState,
    Recorder,
    ReducedFields,
)
from .schedule import (
    check_array_size,
    check_count,
    check_positive,
    check_seed,
    check_sizes,
    count_steps,
    save_schedule,
    save_step_schedule,
)

logger = logging.getLogger(__name__)

# Elements of one (batch x neurons) block, 2^24: 128 MiB in float64.
BLOCK_ELEMENTS = 1 << 24
# Steps between checks for overflow; a check synchronises a GPU, so not every
# step.
FINITE_CHECK_STEPS = 64


class Network:
    """Parameters of a two-layer network and their gradient steps.

    Parameters
    ----------
    problem : Problem
        Dimensions d and d_H.
    m : int
        Width.
    backend : NumpyBackend or TorchBackend
        Arrays and random stream.
    chunk : int
        Neurons per block in the forward and backward passes.
    """

    def __init__(self, problem: Problem, m: int, backend: Any, chunk: int) -> None:
        self.problem = problem
        self.m = m
        self.backend = backend
        self.chunk = chunk
        self.a = backend.signs(m)
        b = backend.normal((m, problem.d))
        self.b = b / backend.row_norms(b)[:, None]

    def sample_inputs(self, size: int) -> tuple[Any, Any]:
        """Draw inputs uniform on the sphere, shape (size, d), and their targets."""
        x = self.backend.normal((size, self.problem.d))
        x = x / self.backend.row_norms(x)[:, None]
        return x, self.backend.row_norms(x[:, : self.problem.d_H])

    def blocks(self) -> range:
        return range(0, self.m, self.chunk)

    def output(self, x: Any) -> Any:
        """Evaluate f on inputs of shape (n, d); returns shape (n,).

        Inputs are taken in row blocks as well, so no block exceeds
        BLOCK_ELEMENTS elements whatever the number of inputs.
        """
        rows = max(1, BLOCK_ELEMENTS // min(self.chunk, self.m))
        parts = [
            self._block_output(x[start : start + rows])
            for start in range(0, x.shape[0], rows)
        ]
        return parts[0] if len(parts) == 1 else self.backend.concatenate(parts)

    def _block_output(self, x: Any) -> Any:
        total = None
        for start in self.blocks():
            block = slice(start, start + self.chunk)
            part = self.backend.relu_(x @ self.b[block].T) @ self.a[block]
            total = part if total is None else total + part
        return total / self.m

    def step(self, eta: float, x: Any, target: Any) -> None:
        """Take one gradient step of size eta on the batch (x, target)."""
        if self.chunk >= self.m:
            # One block: reuse the pre-activations of the forward pass.
            hidden = self.backend.relu_(x @ self.b.T)  # shape (n, m)
            residual = target - hidden @ self.a / self.m
            self._update(slice(None), hidden, eta, x, residual)
            return
        residual = target - self.output(x)
        for start in self.blocks():
            block = slice(start, start + self.chunk)
            hidden = self.backend.relu_(x @ self.b[block].T)  # shape (n, block)
            self._update(block, hidden, eta, x, residual)

    def _update(
        self, block: slice, hidden: Any, eta: float, x: Any, residual: Any
    ) -> None:
        """Move the neurons of ``block``; ``hidden`` is overwritten.

        grad_b_j = a_j mean_i[R_i 1{b_j . x_i > 0} x_i] is computed as
        1{hidden > 0}^T (R x), which needs no second (n x block) array.
        """
        n = x.shape[0]
        grad_a = hidden.T @ residual / n
        active = self.backend.indicator_(hidden)
        grad_b = self.a[block][:, None] * (active.T @ (residual[:, None] * x)) / n
        self.a[block] += eta * grad_a
        self.b[block] += eta * grad_b

    def loss(self, x: Any, target: Any) -> float:
        """Return (1/2) mean (f* - f)^2 over the inputs x."""
        residual = target - self.output(x)
        return 0.5 * float(self.backend.to_numpy(residual @ residual)) / x.shape[0]

    def is_finite(self) -> bool:
        """Tell whether every weight of both layers is finite."""
        return self.backend.all_finite(self.a) and self.backend.all_finite(self.b)

    def project(self) -> ParticleState:
        """Return the angles, weights and signs of the neurons in the reduced model."""
        backend = self.backend
        a = backend.to_numpy(self.a)
        norm_b = backend.to_numpy(backend.row_norms(self.b))
        norm_h = backend.to_numpy(backend.row_norms(self.b[:, : self.problem.d_H]))
        cosine = np.clip(norm_h / np.where(norm_b > 0.0, norm_b, 1.0), 0.0, 1.0)
        sign = np.where(a > 0.0, 1.0, -1.0)
        return ParticleState(np.arccos(cosine), np.abs(a) * norm_b, sign)


def _step_schedule(
    t_end: float, eta: float, save_times: np.ndarray | None, saves: int
) -> tuple[int, np.ndarray]:
    """Return the number of steps and the steps to save after.

    The run ends at the step nearest to t_end and the default schedule spreads
    ``saves`` over whole steps. Requested times are rounded to the nearest
    steps. Each rounding that moves a time by more than round-off is logged.
    """
    description = f"t_end / eta = {t_end:.10g} / {eta:.10g}"
    total_steps = count_steps(t_end / eta, description)
    if abs(total_steps * eta - t_end) > 1e-9 * t_end:
        logger.warning(
            "t_end=%.10g is not a multiple of eta=%.10g: the run ends at the "
            "nearest step, t=%.10g",
            t_end,
            eta,
            total_steps * eta,
        )
    if save_times is None:
        return total_steps, save_step_schedule(total_steps, None, saves)

    times = save_schedule(t_end, save_times, saves)
    steps = np.unique(np.rint(times / eta).astype(np.int64))
    requested = np.asarray(save_times, dtype=float).ravel()
    shift = float(np.max(np.abs(np.rint(requested / eta) * eta - requested)))
    if shift > 1e-9 * t_end:
        logger.warning(
            "save times are not multiples of eta=%.10g: saved at the nearest "
            "steps instead, up to %.3g away; %d saves in all for %d requested "
            "times and the added 0 and t_end",
            eta,
            shift,
            steps.size,
            requested.size,
        )
    return total_steps, steps


def simulate_network(
    problem: Problem,
    t_end: float,
    *,
    m: int = 4096,
    eta: float = 0.01,
    batch: int = 1024,
    seed: int = 0,
    backend: str = "numpy",
    dtype: str = "float64",
    device: str | None = None,
    chunk: int | None = None,
    eval_samples: int = 100_000,
    n_phi: int = DEFAULT_N_PHI,
    table_cells: int = DEFAULT_TABLE_CELLS,
    save_times: np.ndarray | None = None,
    saves: int = 41,
    cells: int = DEFAULT_HISTOGRAM_CELLS,
    progress: bool | None = False,
) -> xr.Dataset:
    """Train a width-m network by gradient descent on fresh batches.

    Parameters
    ----------
    problem : Problem
        Dimensions d and d_H.
    t_end : float
        Final time of the gradient flow, > 0; the run takes
        ``round(t_end / eta)`` steps.
    m : int
        Width (number of neurons).
    eta : float
        Step size, in the time of the mean-field flow.
    batch : int
        Fresh inputs per step.
    seed : int
        Seed of the initial weights and the batches; the held-out inputs use
        the stream of ``seed + 1`` so they differ from every batch.
    backend : str
        ``"numpy"`` (CPU) or ``"torch"`` (CUDA when available, else CPU).
    dtype : str
        ``"float32"`` or ``"float64"``.
    device : str, optional
        torch device such as ``"cuda:0"`` or ``"cpu"``.
    chunk : int, optional
        Neurons per block; the default keeps a (batch x chunk) block at 2^24
        elements (128 MiB in float64) for widths up to 1e6 and more. The
        held-out loss is evaluated in blocks of the same size.
    eval_samples : int
        Held-out inputs for the saved loss.
    n_phi, table_cells : int
        Rule and kernel tables for the saved predictor, fields and dissipation
        of the projected measures.
    save_times : ndarray, optional
        Times in [0, t_end] to save, rounded to the nearest step.
    saves : int
        Number of default evenly spaced save times, >= 2.
    cells : int
        Cells of the saved histograms.
    progress : bool or None
        Show a tqdm progress bar; None shows it only on a terminal.

    Returns
    -------
    xarray.Dataset
        The layout of a PDE run; ``loss`` is the held-out estimate of
        (1/2) E[(f* - f)^2], the other scalars come from the projected
        neurons. Attributes ``kind`` (``"network"``), ``m``, ``eta``, ``batch``,
        ``seed``, ``backend``, ``dtype``, ``device``.
    """
    t_end = check_positive("t_end", t_end)
    eta = check_positive("eta", eta)
    m = check_count("m", m, minimum=1)
    batch = check_count("batch", batch, minimum=1)
    eval_samples = check_count("eval_samples", eval_samples, minimum=1)
    seed = check_seed(seed)
    for name, rows in (("m", m), ("batch", batch), ("eval_samples", eval_samples)):
        check_array_size(name, rows, "d", problem.d)
    if chunk is None:
        chunk = max(1, BLOCK_ELEMENTS // batch)
    chunk = min(check_count("chunk", chunk, minimum=1), m)
    check_array_size("batch", batch, "chunk", chunk)
    total_steps, save_steps = _step_schedule(t_end, eta, save_times, saves)
    check_sizes(m, n_phi, table_cells, cells, save_steps.size)

    wall_start = time.perf_counter()
    arrays = make_backend(backend, dtype, seed, device)
    network = Network(problem, m, arrays, chunk)
    held_out = make_backend(backend, dtype, seed + 1, device)
    x_eval = held_out.normal((eval_samples, problem.d))
    x_eval = x_eval / held_out.row_norms(x_eval)[:, None]
    target_eval = held_out.row_norms(x_eval[:, : problem.d_H])

    fields = ReducedFields(problem, n_phi, table_cells)
    recorder = Recorder(problem, fields, cells, table_cells)
    step, stop_reason = 0, "completed"
    # Overflow is caught by the finiteness checks below and ends the run with
    # its reason, so numpy's warnings would only repeat it.
    bar = progress_bar(int(save_steps.max()), progress, "step")
    with bar, np.errstate(over="ignore", invalid="ignore"):
        for target_step in save_steps:
            while step < target_step:
                x, target = network.sample_inputs(batch)
                network.step(eta, x, target)
                step += 1
                bar.update()
                if step % FINITE_CHECK_STEPS == 0 and not network.is_finite():
                    break
            state = network.project()
            if not np.all(np.isfinite(state.weight)):
                stop_reason = f"non-finite weights by step {step}: reduce eta"
                break
            recorder.save(step * eta, step, state, network.loss(x_eval, target_eval))
    logger.info("network of width %d stopped after %d steps", m, step)

    meta = {
        "title": "pdeflow finite-width network run",
        "kind": "network",
        "scheme": "gradient-descent",
        "m": m,
        "eta": eta,
        "batch": batch,
        "seed": int(seed),
        "backend": arrays.name,
        "dtype": dtype,
        "device": arrays.device,
        "chunk": chunk,
        "eval_samples": eval_samples,
        "n_phi": int(n_phi),
        "table_cells": int(table_cells),
        "t_end": total_steps * eta,
        "steps": step,
        "wall_seconds": time.perf_counter() - wall_start,
        "stop_reason": stop_reason,
    }
    return recorder.dataset(meta)
