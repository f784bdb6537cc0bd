"""Time loop of the reduced PDE for (tau_plus, tau_minus).

    d/dt tau_plus  = -d/dtheta(+V tau_plus)  + 2 G tau_plus
    d/dt tau_minus = -d/dtheta(-V tau_minus) - 2 G tau_minus

on [0, pi/2], starting from tau_plus = tau_minus = g / 2 (Hajjar and Chizat,
2023). V vanishes at theta = 0 and pi/2 by symmetry, so the zero-flux walls of the
scheme are exact. Each step comes from ``pdeflow.stepper.Stepper``; its size is
the smallest of the CFL step of each density, ``cfl`` over the stiffness bound of
the fields (see ``ReducedModel.stiffness``), ``dt_max`` and the time left to the
next save time, which is then hit exactly.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from . import scheme as fv
from .checkpoint import check_checkpoint_path, write_checkpoint
from .checks import check_table_size, is_integer, is_real
from .diagnostics import measure
from .fields import ReducedModel
from .initial import PAPER_LABEL, Start, paper_start
from .kernel import phi_tilde
from .mesh import HALF_PI, Mesh
from .output import Record, build_dataset, check_writable
from .problem import Problem
from .progress import progress_bar
from .stepper import Stepper

logger = logging.getLogger(__name__)

DEFAULT_N_PHI = 96
DEFAULT_SAVES = 100
PREDICTOR_POINTS = 65


def default_save_times(t_end: float, saves: int = DEFAULT_SAVES) -> np.ndarray:
    """Return 0, then ``saves - 1`` times log-spaced from t_end / 1e4 to t_end.

    With ``saves = 2`` the times are 0 and t_end.
    """
    if isinstance(saves, bool) or not isinstance(saves, int | np.integer) or saves < 2:
        raise ValueError(f"saves={saves!r} is invalid: pass an integer >= 2")
    if saves == 2:
        return np.array([0.0, t_end])
    return np.concatenate([[0.0], np.geomspace(t_end * 1e-4, t_end, int(saves) - 1)])


def _check_save_times(save_times: np.ndarray, t_end: float) -> np.ndarray:
    """Validate save times; return them sorted, unique, with 0 and t_end added."""
    times = np.asarray(save_times, dtype=float).ravel()
    if times.size == 0:
        raise ValueError("save_times is empty: pass at least one time in [0, t_end]")
    if not np.all(np.isfinite(times)):
        raise ValueError("save_times contains nan or inf: pass finite times")
    if times.min() < 0.0 or times.max() > t_end:
        raise ValueError(
            f"save_times must lie in [0, t_end={t_end}]: got values from "
            f"{times.min():.6g} to {times.max():.6g}"
        )
    return np.unique(np.concatenate([[0.0, t_end], times]))


def initial_state(problem: Problem, mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
    """Return tau_plus = tau_minus = g / 2 as exact cell averages, per radian."""
    return paper_start(problem).densities(mesh)


def _check_run_options(t_end: float, cfl: float, scheme: str, limiter: str) -> None:
    for name, value in (("t_end", t_end), ("cfl", cfl)):
        if not is_real(value):
            raise TypeError(f"{name}={value!r} is invalid: pass a number")
    if not np.isfinite(t_end) or t_end <= 0.0:
        raise ValueError(f"t_end={t_end} is invalid: pass a finite time > 0")
    if not np.isfinite(cfl) or not (0.0 < cfl <= 1.0):
        raise ValueError(f"cfl={cfl} is invalid: pass a Courant number in (0, 1]")
    fv.check_scheme(scheme, limiter)


class _Run:
    """State of one run between save times."""

    def __init__(
        self, model: ReducedModel, stepper: Stepper, store_fields: bool
    ) -> None:
        self.model = model
        self.stepper = stepper
        self.store_fields = store_fields
        self.record = Record()
        grid = np.linspace(0.0, HALF_PI, PREDICTOR_POINTS)
        self.phi_grid = grid
        self.predictor_table = phi_tilde(
            model.mesh.centres[:, None],
            grid[None, :],
            model.problem.d_H,
            model.problem.d_perp,
        )

    def save(
        self, t: float, steps: int, tau_plus: np.ndarray, tau_minus: np.ndarray, fields
    ) -> None:
        record = self.record
        record.times.append(t)
        record.steps.append(steps)
        record.tau_plus.append(tau_plus.copy())
        record.tau_minus.append(tau_minus.copy())
        signed_mass = (tau_plus - tau_minus) * self.model.widths
        record.predictor.append(self.predictor_table.T @ signed_mass)
        if self.store_fields:
            record.G.append(fields.G.copy())
            record.V.append(self.model.velocity_at_centres(fields))
        for name, value in measure(self.model, tau_plus, tau_minus, fields).items():
            record.scalars[name].append(value)


@dataclass(frozen=True)
class Settings:
    """Options of a run besides the problem and the mesh, as stored in its output."""

    t_end: float
    save_times: np.ndarray
    cfl: float = 0.9
    dt_max: float = np.inf
    scheme: str = "upwind"
    limiter: str = fv.DEFAULT_LIMITER
    n_phi: int = DEFAULT_N_PHI
    store_fields: bool = True
    max_steps: int | None = None
    initial: str = PAPER_LABEL

    def attributes(self) -> dict:
        """Return the settings as NetCDF attributes (save times excluded)."""
        return {
            "t_end": self.t_end,
            "cfl": self.cfl,
            "dt_max": self.dt_max,
            "scheme": self.scheme,
            "limiter": self.limiter if self.scheme == "muscl" else "none",
            "splitting": "strang" if self.scheme == "muscl" else "lie",
            "n_phi": self.n_phi,
            "store_fields": int(self.store_fields),
            "max_steps": -1 if self.max_steps is None else self.max_steps,
            "initial": self.initial,
        }


def solve(
    problem: Problem,
    t_end: float,
    cells: int = 512,
    *,
    mesh: Mesh | None = None,
    cfl: float = 0.9,
    dt_max: float = np.inf,
    scheme: str = "upwind",
    limiter: str = fv.DEFAULT_LIMITER,
    n_phi: int = DEFAULT_N_PHI,
    save_times: np.ndarray | None = None,
    saves: int = DEFAULT_SAVES,
    store_fields: bool = True,
    max_steps: int | None = None,
    progress: bool | None = False,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: float | None = None,
    initial: Start | None = None,
    keep_checkpoint: bool = False,
) -> xr.Dataset:
    """Solve the reduced PDE up to t_end, by default from tau_plus = tau_minus = g/2.

    Parameters
    ----------
    problem : Problem
        Dimensions d and d_H.
    t_end : float
        Final time, in the time of the mean-field gradient flow, > 0.
    cells : int
        Number of uniform cells of [0, pi/2], >= 2; ignored when ``mesh`` is given.
    mesh : Mesh, optional
        A mesh of [0, pi/2] to use instead of the uniform one.
    cfl : float
        Courant number in (0, 1]; it also scales the stiffness limit of the step.
    dt_max : float
        Upper bound of the time step, > 0; use it to refine time with the mesh.
    scheme : str
        ``"upwind"`` (Lie splitting, first order) or ``"muscl"`` (limited MUSCL
        fluxes, Strang splitting and a trapezoidal predictor-corrector for the
        fields, second order on smooth solutions).
    limiter : str
        Slope limiter of the MUSCL scheme: ``"minmod"``, ``"vanleer"`` or ``"mc"``.
    n_phi : int
        Nodes of the Gauss–Jacobi rule of the angle law g. The kernel has a
        kink in phi, so the rule converges like n_phi^-(d/2): spectrally fast
        for d = 30, but for d <= 4 the default 96 leaves relative errors near
        1e-5 in the masses (8e-6 measured for d = 2 at t = 4).
    save_times : ndarray, optional
        Times in [0, t_end] at which to save; 0 and t_end are always added.
        Default ``default_save_times``.
    saves : int
        Number of default save times when ``save_times`` is not given.
    store_fields : bool
        Save G and V at the cell centres.
    max_steps : int, optional
        Stop after this many steps and record that in the stop reason.
    progress : bool or None
        Show a tqdm progress bar; None shows it only on a terminal.
    checkpoint : path, optional
        File for the state of the run. It is written when the run stops early
        (numerical fault, SIGINT, SIGTERM, max_steps) and every
        ``checkpoint_every`` seconds of wall time, and removed when the run
        completes; :func:`resume` continues from it.
    checkpoint_every : float, optional
        Wall-clock seconds between periodic checkpoints.
    initial : Start, optional
        Initial measures; default :func:`pdeflow.initial.paper_start`. See
        :func:`pdeflow.initial.concentrated_start` for a tau_plus narrower than
        a uniform cell, to be run on a graded mesh.
    keep_checkpoint : bool
        Leave the checkpoint in place when the run completes, for a caller
        that removes it only once the result is stored safely.

    Returns
    -------
    xarray.Dataset
        Dimensions ``time``, ``theta`` (cell centres, radians), ``phi`` (predictor
        grid, radians) and ``face``. Variables ``tau_plus``, ``tau_minus``
        (densities per radian), the scalars of ``pdeflow.diagnostics.SCALARS``,
        ``predictor``, ``steps``, ``save_times`` and optionally ``G``, ``V``. The
        attribute ``stop_reason`` is ``"completed"`` unless the run stopped early.
    """
    _check_run_options(t_end, cfl, scheme, limiter)
    if not is_real(dt_max):
        raise TypeError(f"dt_max={dt_max!r} is invalid: pass a number > 0")
    if not dt_max > 0.0:
        raise ValueError(f"dt_max={dt_max} is invalid: pass a step bound > 0")
    if max_steps is not None and (not is_integer(max_steps) or max_steps < 1):
        raise ValueError(
            f"max_steps={max_steps!r} is invalid: pass an integer >= 1, or None "
            "for no limit"
        )
    if checkpoint_every is not None and not checkpoint_every > 0.0:
        raise ValueError(
            f"checkpoint_every={checkpoint_every} is invalid: pass seconds > 0"
        )
    if checkpoint is not None:
        check_checkpoint_path(checkpoint)
    if initial is None:
        initial = paper_start(problem)
    elif not isinstance(initial, Start):
        raise TypeError(
            f"initial={initial!r} is invalid: pass a pdeflow.initial.Start, such as "
            "pdeflow.initial.concentrated_start(problem, width)"
        )
    t_end = float(t_end)
    mesh = Mesh.uniform(cells) if mesh is None else mesh
    check_table_size(mesh.cells, n_phi)
    times = _check_save_times(
        default_save_times(t_end, saves) if save_times is None else save_times, t_end
    )
    settings = Settings(
        t_end,
        times,
        float(cfl),
        float(dt_max),
        scheme,
        limiter,
        int(n_phi),
        bool(store_fields),
        max_steps,
        initial.label,
    )
    start = initial.densities(mesh)
    _warn_if_unresolved(initial, mesh)
    return execute(
        problem,
        mesh,
        settings,
        start,
        Record(),
        0.0,
        0,
        progress,
        checkpoint,
        checkpoint_every,
        keep_checkpoint,
    )


def _warn_if_unresolved(initial: Start, mesh: Mesh) -> None:
    if initial.width is not None and mesh.widths[0] > initial.width:
        logger.warning(
            "the first cell is %.3g rad wide, wider than the start's width %.3g "
            "rad, so the mesh does not resolve tau_plus: use more cells or a "
            "graded mesh with a larger power",
            mesh.widths[0],
            initial.width,
        )


# The mat-vecs of a step are memory-bound: a second OpenBLAS thread gains nothing
# and, beside other busy threads, slowed 8192-cell mat-vecs twentyfold on a
# 2-core machine (benchmarks/run_benchmarks.py), so a run uses one BLAS thread.
@threadpool_limits.wrap(limits=1, user_api="blas")
def execute(
    problem: Problem,
    mesh: Mesh,
    settings: Settings,
    state: tuple[np.ndarray, np.ndarray],
    record: Record,
    t: float,
    steps: int,
    progress: bool | None,
    checkpoint: str | os.PathLike | None,
    checkpoint_every: float | None,
    keep_checkpoint: bool = False,
) -> xr.Dataset:
    """Run the time loop from a given state and return the dataset of the run.

    This is the common part of :func:`solve` and :func:`pdeflow.checkpoint.resume`:
    the record contains the saves made before ``t``.
    """
    wall_start = time.perf_counter()
    model = ReducedModel(problem, mesh, settings.n_phi)
    logger.info(
        "kernel tables for %d cells x %d phi nodes built in %.3f s",
        mesh.cells,
        settings.n_phi,
        model.tables.build_seconds,
    )
    stepper = Stepper(
        model, settings.scheme, settings.limiter, settings.cfl, settings.dt_max
    )
    run = _Run(model, stepper, settings.store_fields)
    run.record = record
    saver = _CheckpointSaver(problem, mesh, settings, run, checkpoint, checkpoint_every)

    stop_reason, t, steps = _time_loop(run, state, t, steps, settings, progress, saver)
    wall_seconds = time.perf_counter() - wall_start
    logger.info("run stopped at t=%.6g after %d steps (%s)", t, steps, stop_reason)

    meta = settings.attributes() | {
        "final_time": t,
        "steps": steps,
        "wall_seconds": wall_seconds,  # kernel tables included
        "kernel_build_seconds": model.tables.build_seconds,
        "stop_reason": stop_reason,
    }
    if run.record.times and run.record.times[0] == 0.0:
        # The loss of the actual start; d_H / (2 d) only for the paper's start.
        meta["initial_loss"] = float(run.record.scalars["loss"][0])
    dataset = build_dataset(run.record, problem, mesh, run.phi_grid, meta)
    dataset["save_times"] = ("save", settings.save_times, {"units": "1"})
    if stop_reason == "completed" and not keep_checkpoint:
        saver.remove()
    return dataset


class _StopRequest:
    """Turns SIGINT and SIGTERM into a flag that the time loop checks between steps.

    A signal then never lands between the update of the state and of the time,
    so the state saved after it is consistent. Handlers are installed only in the
    main thread, where Python delivers signals.
    """

    def __init__(self) -> None:
        self.signal_name = ""
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def _handle(self, number: int, frame: object) -> None:
        self.signal_name = signal.Signals(number).name

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)


def _time_loop(
    run: _Run,
    state: tuple[np.ndarray, np.ndarray],
    t: float,
    steps: int,
    settings: Settings,
    progress: bool | None,
    saver: _CheckpointSaver,
) -> tuple[str, float, int]:
    """Advance to each save time in turn; return (stop reason, time, steps)."""
    model = run.model
    times = settings.save_times
    tau_plus, tau_minus = state
    index = len(run.record.times)
    bar = progress_bar(float(times[-1]), progress, "t", initial=t)
    with _StopRequest() as stop, bar:
        while True:
            fields = model.fields(tau_plus, tau_minus)
            if index < times.size and t >= times[index]:
                run.save(t, steps, tau_plus, tau_minus, fields)
                index += 1
                continue
            if index == times.size:
                return "completed", t, steps

            reason = ""
            if stop.signal_name:
                reason = f"interrupted by {stop.signal_name} at t={t:.6g}"
                logger.warning("%s after %d steps", reason, steps)
            elif settings.max_steps is not None and steps >= settings.max_steps:
                reason = f"max_steps={settings.max_steps} reached at t={t:.6g}"
            if reason:
                saver.save((tau_plus, tau_minus), t, steps, reason)
                return reason, t, steps

            t_next = times[index]
            new_plus, new_minus, dt = run.stepper.step(
                tau_plus, tau_minus, fields, t_next - t
            )
            fault = _find_fault(new_plus, new_minus)
            if fault:
                reason = (
                    f"{fault} at step {steps + 1}, t={t + dt:.6g}; "
                    f"last good state at t={t:.6g}"
                )
                logger.error("%s", reason)
                saver.save((tau_plus, tau_minus), t, steps, reason)
                return reason, t, steps

            t_new = t_next if dt >= t_next - t else t + dt
            bar.update(t_new - t)
            tau_plus, tau_minus, t, steps = new_plus, new_minus, t_new, steps + 1
            saver.save_if_due((tau_plus, tau_minus), t, steps)


class _CheckpointSaver:
    """Writes checkpoints of a run to one file, on request or every few seconds."""

    def __init__(
        self,
        problem: Problem,
        mesh: Mesh,
        settings: Settings,
        run: _Run,
        path: str | os.PathLike | None,
        every: float | None,
    ) -> None:
        self.problem = problem
        self.mesh = mesh
        self.settings = settings
        self.run = run
        self.path = None if path is None else Path(path)
        self.every = every
        self.last = time.perf_counter()
        if self.path is not None:
            check_writable(self.path)

    def save(
        self, state: tuple[np.ndarray, np.ndarray], t: float, steps: int, reason: str
    ) -> None:
        if self.path is None:
            return
        write_checkpoint(
            self.path,
            self.problem,
            self.mesh,
            self.settings,
            self.run.record,
            self.run.phi_grid,
            state,
            t,
            steps,
            reason,
        )
        self.last = time.perf_counter()
        logger.info("checkpoint at t=%.6g written to %s", t, self.path)

    def save_if_due(
        self, state: tuple[np.ndarray, np.ndarray], t: float, steps: int
    ) -> None:
        if self.every is not None and time.perf_counter() - self.last >= self.every:
            self.save(state, t, steps, f"periodic checkpoint at t={t:.6g}")

    def remove(self) -> None:
        if self.path is not None and self.path.exists():
            self.path.unlink()


def _find_fault(tau_plus: np.ndarray, tau_minus: np.ndarray) -> str:
    """Name the first numerical fault of a new state, or return an empty string."""
    for name, density in (("tau_plus", tau_plus), ("tau_minus", tau_minus)):
        if not np.all(np.isfinite(density)):
            return f"non-finite value in {name}"
        if density.min() < 0.0:
            return f"negative density {density.min():.3g} in {name}"
    return ""
