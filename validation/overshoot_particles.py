"""The overshoot of the mass of tau_plus above alpha in the paper's particle scheme.

Hajjar and Chizat (2023) saw, with their Monte-Carlo Euler scheme for d = 30
and d_H = 5, the mass of tau_plus cross alpha = 16/3 at a time t* and keep
growing, and asked whether finite width m and step size eta cause it. This
script runs that scheme (N = 1000 samples per step, one step being flow time
d * eta) under refinement of eta at fixed m and of m at fixed eta, with several
seeds, and compares t* and the excess mass_plus - alpha at the horizon with
the converged PDE (MUSCL, 1024 cells), for which t* = 102.09 and the excess
keeps growing after t*.

The horizon is t = 150, after t* and before the first local maximum of the
PDE excess (0.171 near t = 300); the whole script takes about 1.2 minutes on
2 cores. Widths stop at m = 1024: m = 4096 would cost about four times as
much per step.

Usage: python validation/overshoot_particles.py [--quick] [--out-dir DIR]

Writes overshoot_particles.json and overshoot_particles.png into the output
folder.
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
from _common import (  # noqa: E402
    critical_time,
    mean_and_spread,
    parse_arguments,
    write_json,
)

from pdeflow import Problem, solve  # noqa: E402
from pdeflow.particles import run_particles  # noqa: E402


def main() -> None:
    # Parameters
    args = parse_arguments(__doc__)
    if args.quick:
        horizon, samples, spacing = 120.0, 150, 1.2
        fixed_m, etas, seeds_by_eta = 64, [1e-2, 5e-3], 2
        fixed_eta, widths, seeds_by_width = 1e-2, [32, 64], {32: 2, 64: 2}
        pde_cells = 256
    else:
        horizon, samples, spacing = 150.0, 1000, 0.3
        fixed_m, etas, seeds_by_eta = 256, [5e-3, 2e-3, 1e-3], 3
        fixed_eta, widths = 5e-3, [64, 256, 1024]
        seeds_by_width = {64: 6, 256: 3, 1024: 2}
        pde_cells = 1024

    # Problem: Figure 3 of Hajjar and Chizat (2023).
    problem = Problem(d=30, d_H=5)
    alpha = problem.alpha
    save_times = np.arange(0.0, horizon + spacing / 2, spacing)

    # Solve: the PDE reference and the particle runs. A run is keyed by
    # (m, eta, seed), so the shared setting (fixed_m, fixed_eta) runs once.
    start = time.perf_counter()
    pde = solve(
        problem,
        horizon,
        pde_cells,
        scheme="muscl",
        dt_max=0.1,
        save_times=save_times,
        store_fields=False,
    )
    settings = [(fixed_m, eta, seed) for eta in etas for seed in range(seeds_by_eta)]
    settings += [
        (m, fixed_eta, seed) for m in widths for seed in range(seeds_by_width[m])
    ]
    runs = {}
    for m, eta, seed in dict.fromkeys(settings):
        steps = int(round(horizon / (problem.d * eta)))
        stride = int(round(spacing / (problem.d * eta)))
        run = run_particles(
            problem,
            "faithful",
            steps=steps,
            m=m,
            samples=samples,
            eta=eta,
            seed=seed,
            save_steps=np.arange(0, steps + 1, stride),
        )
        runs[m, eta, seed] = run
        print(
            f"m = {m:5d}  eta = {eta:.0e}  seed = {seed}  "
            f"t* = {critical_time(run.time.values, run.mass_plus.values, alpha):7.2f}"
            f"  excess = {float(run.mass_plus[-1]) - alpha:+.4f}"
            f"  ({run.attrs['wall_seconds']:.1f} s)"
        )
    seconds = time.perf_counter() - start

    # Measure: t* and the excess at the horizon, per setting and over seeds.
    def summarise(keys: list[tuple[int, float, int]]) -> dict:
        chosen = [runs[key] for key in keys]
        t_star = [
            critical_time(run.time.values, run.mass_plus.values, alpha)
            for run in chosen
        ]
        excess = [float(run.mass_plus[-1]) - alpha for run in chosen]
        initial = [float(run.mass_plus[0]) for run in chosen]
        return {
            "t_star": mean_and_spread(t_star),
            "excess_at_horizon": mean_and_spread(excess),
            "initial_mass_plus": mean_and_spread(initial),
            "t_star_runs": t_star,
            "excess_runs": excess,
        }

    by_eta = {
        f"{eta:g}": summarise([(fixed_m, eta, s) for s in range(seeds_by_eta)])
        for eta in etas
    }
    by_width = {
        str(m): summarise([(m, fixed_eta, s) for s in range(seeds_by_width[m])])
        for m in widths
    }
    pde_result = {
        "cells": pde_cells,
        "t_star": critical_time(pde.time.values, pde.mass_plus.values, alpha),
        "excess_at_horizon": float(pde.mass_plus[-1]) - alpha,
    }

    # Plot: mass_plus - alpha against t, and t* and the excess against eta and m.
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.6), layout="constrained")
    axis = axes[0]
    axis.plot(pde.time, pde.mass_plus - alpha, color="black", lw=2, label="PDE")
    pairs = list(dict.fromkeys((m, eta) for m, eta, _ in settings))
    colours = {pair: f"C{k}" for k, pair in enumerate(pairs)}
    labelled = set()
    for (m, eta, _), run in runs.items():
        label = None if (m, eta) in labelled else f"m = {m}, eta = {eta:g}"
        labelled.add((m, eta))
        axis.plot(
            run.time, run.mass_plus - alpha, color=colours[m, eta], lw=0.8, label=label
        )
    axis.axhline(0.0, color="grey", lw=0.8)
    axis.set_xlim(60.0, horizon)
    axis.set_ylim(-0.6, 0.4)
    axis.set_xlabel("time t of the gradient flow (dimensionless)")
    axis.set_ylabel("mass of tau_plus - alpha (dimensionless)")
    axis.legend(fontsize="x-small")
    for axis, quantity, unit in (
        (axes[1], "t_star", "t* (time units)"),
        (axes[2], "excess_at_horizon", f"mass_plus - alpha at t = {horizon:g}"),
    ):
        for table, values, colour, name in (
            (by_eta, etas, "C0", f"eta (m = {fixed_m})"),
            (by_width, [1.0 / m for m in widths], "C1", f"1/m (eta = {fixed_eta:g})"),
        ):
            rows = list(table.values())
            means = [row[quantity]["mean"] for row in rows]
            errors = [row[quantity]["sd"] for row in rows]
            axis.errorbar(
                values, means, yerr=errors, fmt="o-", color=colour, label=name
            )
        axis.axhline(pde_result[quantity], color="black", lw=1.5, label="PDE")
        axis.set_xscale("log")
        axis.set_xlabel("eta, or 1/m (mean and sd over seeds)")
        axis.set_ylabel(unit)
        axis.legend(fontsize="small")
    figure.savefig(args.out_dir / "overshoot_particles.png", dpi=100)
    plt.close(figure)

    # Report
    report = {
        "alpha": alpha,
        "horizon": horizon,
        "samples": samples,
        "pde": pde_result,
        "fixed_m": fixed_m,
        "by_eta": by_eta,
        "fixed_eta": fixed_eta,
        "by_width": by_width,
        "wall_seconds": seconds,
    }
    write_json(args.out_dir / "overshoot_particles.json", report)
    print(
        f"PDE: t* = {pde_result['t_star']:.3f}, excess at t = {horizon:g}: "
        f"{pde_result['excess_at_horizon']:+.4f}"
    )
    for title, table in (("eta", by_eta), ("m", by_width)):
        for key, row in table.items():
            print(
                f"{title} = {key:>6}: t* = {row['t_star']['mean']:7.2f} "
                f"+- {row['t_star']['sd']:.2f}, excess = "
                f"{row['excess_at_horizon']['mean']:+.4f} "
                f"+- {row['excess_at_horizon']['sd']:.4f} (n = {row['t_star']['n']})"
            )
    print(f"wall time {seconds:.1f} s; wrote {args.out_dir}/overshoot_particles.*")


if __name__ == "__main__":
    main()
