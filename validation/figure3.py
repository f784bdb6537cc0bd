"""Figure 3 of Hajjar and Chizat (2023): the PDE against the paper's particle scheme.

d = 30, d_H = 5. The PDE (MUSCL, 1024 cells) and the Monte-Carlo Euler scheme of
the paper (N = 1000 samples per step, eta = 5e-3, one step being flow time
d * eta = 0.15) give tau_plus and tau_minus at six times and, on log-log axes,
the distance of each mass to its expected limit (alpha and 0) and the W2
distance of each normalised measure to delta_0 and delta_(pi/2).

The default is the paper's run: m = 1024 particles and 20000 steps
(t = 3000), about 4 ms per step on 2 cores, so about 1.5 minutes.

Usage: python validation/figure3.py [--quick] [--out-dir DIR]

Writes figure3.png, figure3.json (distances at the snapshot times,
pdeflow.compare numbers at common times, t* of both runs) and the two runs as
figure3_pde.nc and figure3_particles.nc into the output folder.
"""

from __future__ import annotations

import os

# One BLAS thread: these products are small, and on a loaded 2-core machine
# several BLAS threads made a network step about 10 times slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time  # noqa: E402

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _common import critical_time, parse_arguments, write_json  # noqa: E402

from pdeflow import Problem, compare, solve, write_netcdf  # noqa: E402
from pdeflow.particles import run_particles  # noqa: E402


def main() -> None:
    # Parameters
    args = parse_arguments(__doc__)
    if args.quick:
        m, steps, cells = 64, 800, 128
    else:
        m, steps, cells = 1024, 20000, 1024
    samples, eta, seed = 1000, 5e-3, 0

    # Problem: Figure 3 of Hajjar and Chizat (2023).
    problem = Problem(d=30, d_H=5)
    alpha = problem.alpha
    time_per_step = problem.d * eta
    save_steps = np.unique(
        np.concatenate([[0], np.rint(np.geomspace(1, steps, 80)).astype(int)])
    )
    snapshot_steps = np.unique(
        np.rint(np.array([0, 1e-3, 3e-3, 0.03, 0.3, 1.0]) * steps).astype(int)
    )
    save_steps = np.union1d(save_steps, snapshot_steps)
    save_times = save_steps * time_per_step

    # Solve
    start = time.perf_counter()
    pde = solve(
        problem,
        steps * time_per_step,
        cells,
        scheme="muscl",
        save_times=save_times,
        store_fields=False,
    )
    pde_seconds = time.perf_counter() - start
    start = time.perf_counter()
    particles = run_particles(
        problem,
        "faithful",
        steps=steps,
        m=m,
        samples=samples,
        eta=eta,
        seed=seed,
        save_steps=save_steps,
    )
    particle_seconds = time.perf_counter() - start

    # Measure
    comparison = compare(pde, particles)
    runs = {"pde": pde, "particles": particles}
    distances = {}
    for name, run in runs.items():
        picked = run.sel(time=snapshot_steps * time_per_step, method="nearest")
        distances[name] = {
            "time": picked.time.values.tolist(),
            "mass_plus_minus_alpha": (picked.mass_plus.values - alpha).tolist(),
            "mass_minus": picked.mass_minus.values.tolist(),
            "w2_plus": picked.w2_plus.values.tolist(),
            "w2_minus": picked.w2_minus.values.tolist(),
            "loss": picked.loss.values.tolist(),
            "t_star": critical_time(run.time.values, run.mass_plus.values, alpha),
        }
    picked = comparison.sel(time=snapshot_steps * time_per_step, method="nearest")
    compared = {
        name: picked[name].values.tolist()
        for name in (
            "mass_plus_relative_error",
            "mass_minus_relative_error",
            "w2_plus",
            "w2_minus",
            "loss_difference",
            "predictor_max_difference",
        )
    }
    compared["time"] = picked.time.values.tolist()

    # Plot: densities at the snapshot times and the distances on log-log axes.
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.8), layout="constrained")
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, snapshot_steps.size))
    styles = ((pde, "-", "PDE"), (particles, "--", "particles"))
    for axis, side in zip(axes[:2], ("plus", "minus"), strict=True):
        for colour, step in zip(colours, snapshot_steps, strict=True):
            t = step * time_per_step
            for run, style, label in styles:
                row = run.sel(time=t, method="nearest")
                axis.stairs(
                    row[f"tau_{side}"].values,
                    run.theta_edges.values,
                    color=colour,
                    linestyle=style,
                    label=f"{label}, t = {t:.3g}",
                )
        axis.set_yscale("symlog", linthresh=1e-2)
        axis.set_xlabel("angle theta to H (rad)")
        axis.set_ylabel(f"density of tau_{side} (1/rad)")
        axis.set_title(f"tau_{side}: PDE solid, particles dashed")
    axes[0].legend(fontsize="x-small", ncol=2)
    axis = axes[2]
    for run, style, label in styles:
        keep = run.time.values > 0.0
        t = run.time.values[keep]
        curves = (
            (np.abs(run.mass_plus.values - alpha), "C0", "|mass+ - alpha|"),
            (run.mass_minus.values, "C1", "mass-"),
            (run.w2_plus.values, "C2", "W2(tau+, delta_0)"),
            (run.w2_minus.values, "C3", "W2(tau-, delta_pi/2)"),
        )
        for values, colour, name in curves:
            axis.loglog(t, values[keep], style, color=colour, label=f"{label}: {name}")
    axis.set_xlabel("time t of the gradient flow (dimensionless)")
    axis.set_ylabel("mass distances (dimensionless), W2 (rad)")
    axis.legend(fontsize="x-small", ncol=2)
    axis.grid(True, which="both", alpha=0.3)
    figure.suptitle(
        f"d = 30, d_H = 5: PDE (MUSCL, {cells} cells) vs the paper's particle "
        f"scheme (m = {m}, N = {samples}, eta = {eta}, {steps} steps)"
    )
    figure.savefig(args.out_dir / "figure3.png", dpi=100)
    plt.close(figure)

    # Report
    write_netcdf(pde, args.out_dir / "figure3_pde.nc")
    write_netcdf(particles, args.out_dir / "figure3_particles.nc")
    report = {
        "d": problem.d,
        "d_H": problem.d_H,
        "alpha": alpha,
        "pde": {"scheme": "muscl", "cells": cells, "wall_seconds": pde_seconds},
        "particles": {
            "m": m,
            "samples": samples,
            "eta": eta,
            "steps": steps,
            "seed": seed,
            "wall_seconds": particle_seconds,
        },
        "snapshots": distances,
        "compare": compared,
        "max_mass_plus_relative_error": float(
            np.nanmax(comparison.mass_plus_relative_error.values)
        ),
    }
    write_json(args.out_dir / "figure3.json", report)
    for name, values in distances.items():
        print(f"{name:9} t* = {values['t_star']:.2f}")
        for k, t in enumerate(values["time"]):
            excess = values["mass_plus_minus_alpha"][k]
            print(
                f"  t = {t:8.2f}  mass+ - alpha = {excess:+.4f}"
                f"  mass- = {values['mass_minus'][k]:.4f}"
                f"  W2+ = {values['w2_plus'][k]:.4f}"
                f"  W2- = {values['w2_minus'][k]:.4f}"
            )
    print(
        f"PDE {pde_seconds:.1f} s, particles {particle_seconds:.1f} s; "
        f"wrote {args.out_dir}/figure3.png and .json"
    )


if __name__ == "__main__":
    main()
