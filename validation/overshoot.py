"""The critical time t* and the overshoot of the mass of tau_plus above alpha.

Hajjar and Chizat (2023) saw, in particle runs for d = 30 and d_H = 5, the mass
of tau_plus exceed its expected limit alpha = 16/3 after a time t* and could not
tell whether finite width and step size caused it. This script measures t* and
the size of the overshoot with the PDE under mesh and time-step refinement, and
follows the flow far beyond the paper's horizon t = 3000.

Usage: python validation/overshoot.py [--quick] [--out-dir DIR]

Writes overshoot.json (t*, overshoot per resolution, late-time rates),
overshoot_refinement.png and overshoot_long_time.png into the output folder.
"""

from __future__ import annotations

import json
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _common import critical_time, loglog_slope, parse_arguments  # noqa: E402

from pdeflow import Problem, solve  # noqa: E402


def late_rate(times: np.ndarray, values: np.ndarray, start: float) -> float:
    """Fit the exponent p of values ~ t^p over t >= start (log-log least squares)."""
    keep = times >= start
    return loglog_slope(times[keep], values[keep])


def main() -> None:
    # Parameters
    args = parse_arguments(__doc__)
    if args.quick:
        horizon, long_horizon = 300.0, 3e3
        resolutions = [
            ("upwind", 128, np.inf),
            ("muscl", 128, np.inf),
            ("muscl", 256, 0.5),
        ]
        long_cells = 128
    else:
        horizon, long_horizon = 3000.0, 1e6
        resolutions = [
            ("upwind", 256, np.inf),
            ("upwind", 1024, np.inf),
            ("upwind", 4096, np.inf),
            ("muscl", 256, np.inf),
            ("muscl", 1024, np.inf),
            ("muscl", 1024, 0.5),
            ("muscl", 1024, 0.1),
            ("muscl", 2048, 0.1),
        ]
        long_cells = 512

    # Problem: Figure 3 of Hajjar and Chizat (2023).
    problem = Problem(d=30, d_H=5)
    alpha = problem.alpha
    save_times = np.concatenate(
        [np.linspace(0.0, 200.0, 801)[:-1], np.geomspace(200.0, horizon, 200)]
    )

    # Solve: t* and the overshoot under refinement.
    rows = []
    start = time.perf_counter()
    for scheme, cells, dt_max in resolutions:
        run = solve(
            problem,
            horizon,
            cells,
            scheme=scheme,
            dt_max=dt_max,
            save_times=save_times,
            store_fields=False,
        )
        mass = run.mass_plus.values
        rows.append(
            {
                "scheme": scheme,
                "cells": cells,
                "dt_max": None if np.isinf(dt_max) else dt_max,
                "t_star": critical_time(run.time.values, mass, alpha),
                "max_mass_plus": float(mass.max()),
                "overshoot": float(mass.max() - alpha),
                "time_of_max": float(run.time.values[np.argmax(mass)]),
                "mass_plus_at_horizon": float(mass[-1]),
                "steps": int(run.attrs["steps"]),
                "run": run,
            }
        )
        print(
            f"{scheme:6} {cells:5} dt_max={dt_max:<5} t*={rows[-1]['t_star']:.4f} "
            f"overshoot={rows[-1]['overshoot']:.6f}"
        )

    # Solve: the long-time behaviour on a MUSCL run.
    long_times = np.concatenate([[0.0], np.geomspace(1e-2, long_horizon, 300)])
    long_run = solve(
        problem,
        long_horizon,
        long_cells,
        scheme="muscl",
        save_times=long_times,
        store_fields=False,
    )
    seconds = time.perf_counter() - start

    # Measure: late-time exponents of the distances to the expected limits.
    t = long_run.time.values
    tail = long_horizon / 100.0
    rates = {
        "mass_plus_minus_alpha": late_rate(t, long_run.mass_plus.values - alpha, tail),
        "mass_minus": late_rate(t, long_run.mass_minus.values, tail),
        "loss": late_rate(t, long_run.loss.values, tail),
        "w2_plus": late_rate(t, long_run.w2_plus.values, tail),
        "w2_minus": late_rate(t, long_run.w2_minus.values, tail),
    }

    # Plot: refinement of the overshoot, and the long run on log axes.
    figure, axis = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for row in rows:
        run = row["run"]
        label = f"{row['scheme']}, {row['cells']} cells, dt_max {row['dt_max']}"
        axis.plot(run.time.values, run.mass_plus.values - alpha, label=label)
    axis.axhline(0.0, color="black", linewidth=0.8)
    axis.set_xscale("log")
    axis.set_xlim(10.0, horizon)
    axis.set_ylim(-0.5, 0.3)
    axis.set_xlabel("time t of the gradient flow (dimensionless)")
    axis.set_ylabel("mass of tau_plus - alpha (dimensionless)")
    axis.legend(fontsize="small")
    figure.savefig(args.out_dir / "overshoot_refinement.png", dpi=110)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(7, 4.5), layout="constrained")
    keep = t > 0.0
    curves = [
        (np.abs(long_run.mass_plus.values - alpha), "|mass of tau_plus - alpha|"),
        (long_run.mass_minus.values, "mass of tau_minus"),
        (long_run.loss.values, "loss A"),
        (long_run.w2_plus.values, "W2(tau_plus, delta_0) (rad)"),
        (long_run.w2_minus.values, "W2(tau_minus, delta_pi/2) (rad)"),
    ]
    for values, label in curves:
        axis.loglog(t[keep], values[keep], label=label)
    axis.set_xlabel("time t of the gradient flow (dimensionless)")
    axis.set_ylabel("masses and loss (dimensionless), W2 (rad)")
    axis.legend(fontsize="small")
    axis.grid(True, which="both", alpha=0.3)
    figure.savefig(args.out_dir / "overshoot_long_time.png", dpi=110)
    plt.close(figure)

    # Report
    last = long_run.isel(time=-1)
    report = {
        "alpha": alpha,
        "horizon": horizon,
        "refinement": [{k: v for k, v in row.items() if k != "run"} for row in rows],
        "long_run": {
            "t_end": long_horizon,
            "cells": long_cells,
            "mass_plus": float(last.mass_plus),
            "mass_minus": float(last.mass_minus),
            "loss": float(last.loss),
            "w2_plus": float(last.w2_plus),
            "w2_minus": float(last.w2_minus),
            "late_exponents": rates,
        },
        "wall_seconds": seconds,
    }
    (args.out_dir / "overshoot.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["long_run"], indent=2))
    print(f"wall time {seconds:.1f} s; wrote {args.out_dir}/overshoot*.png and .json")


if __name__ == "__main__":
    main()
