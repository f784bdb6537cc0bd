"""The late mass of tau_plus against alpha(d_H) for d = 30 and d_H = 1 to 10.

Hajjar and Chizat (2023) expect tau_plus to tend to alpha delta_0 with
alpha(d_H) = 2 sqrt(pi) Gamma((d_H + 1)/2) / Gamma(d_H/2), the mass at which
alpha delta_0 fits the target with zero loss. This script solves the PDE
(MUSCL, 512 cells) for each d_H at d = 30 up to t = 1e6 (5 minutes on 2
loaded cores for the ten runs), reports the mass of tau_plus there against
alpha(d_H), and fits the late-time exponent p of |mass_plus - alpha| ~ t^p
over the last two decades.
A negative p means the mass still approaches alpha, and p near zero means it
has stalled at a distance from alpha.

Usage: python validation/alpha_limit.py [--quick] [--out-dir DIR]

Writes alpha_limit.png and alpha_limit.json into the output folder.
"""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _common import (  # noqa: E402
    critical_time,
    loglog_slope,
    parse_arguments,
    write_json,  # noqa: E402
)
from scipy.special import gammaln  # noqa: E402

from pdeflow import Problem, solve  # noqa: E402


def alpha_of(d_H: int) -> float:
    """Return alpha(d_H) = 2 sqrt(pi) Gamma((d_H + 1)/2) / Gamma(d_H/2)."""
    return float(
        2.0 * np.sqrt(np.pi) * np.exp(gammaln((d_H + 1) / 2) - gammaln(d_H / 2))
    )


def main() -> None:
    # Parameters
    args = parse_arguments(__doc__)
    if args.quick:
        dimensions, t_end, cells = [1, 5, 10], 1e3, 128
    else:
        dimensions, t_end, cells = list(range(1, 11)), 1e6, 512
    d = 30
    save_times = np.concatenate([[0.0], np.geomspace(1e-2, t_end, 48 * 8 + 1)])

    # Solve
    start = time.perf_counter()
    runs = {}
    for d_H in dimensions:
        problem = Problem(d=d, d_H=d_H)
        runs[d_H] = solve(
            problem,
            t_end,
            cells,
            scheme="muscl",
            save_times=save_times,
            store_fields=False,
        )
        print(f"d_H = {d_H:2d} solved ({time.perf_counter() - start:.1f} s so far)")
    seconds = time.perf_counter() - start

    # Measure: final mass, its sign against alpha, the late exponent and t*.
    rows = []
    for d_H, run in runs.items():
        alpha = alpha_of(d_H)
        if not np.isclose(alpha, run.attrs["alpha"], rtol=1e-12):
            raise RuntimeError(f"alpha({d_H}) = {alpha} differs from the solver's")
        t = run.time.values
        distance = np.abs(run.mass_plus.values - alpha)
        t_star = critical_time(t, run.mass_plus.values, alpha)
        # The fit starts after 5 t*, clear of the crossing of alpha where the
        # distance dips to zero, and spans at most the last two decades.
        late = t >= max(t_end / 100, 5.0 * np.nan_to_num(t_star))
        rows.append(
            {
                "d_H": d_H,
                "alpha": alpha,
                "mass_plus_final": float(run.mass_plus[-1]),
                "mass_plus_final_minus_alpha": float(run.mass_plus[-1]) - alpha,
                "relative_excess_final": (float(run.mass_plus[-1]) - alpha) / alpha,
                "mass_minus_final": float(run.mass_minus[-1]),
                "signed_mass_final_minus_alpha": float(
                    run.mass_plus[-1] - run.mass_minus[-1]
                )
                - alpha,
                "loss_final": float(run.loss[-1]),
                "w2_plus_final": float(run.w2_plus[-1]),
                "t_star": t_star,
                "fit_start": float(t[late][0]),
                "late_exponent": loglog_slope(t[late], distance[late]),
                "late_exponent_mass_minus": loglog_slope(
                    t[late], run.mass_minus.values[late]
                ),
                "late_exponent_loss": loglog_slope(t[late], run.loss.values[late]),
            }
        )

    # Plot: relative distance to alpha against t, and the final masses against d_H.
    figure, axes = plt.subplots(1, 2, figsize=(13, 4.6), layout="constrained")
    colours = plt.cm.viridis(np.linspace(0.0, 0.95, len(dimensions)))
    for colour, (d_H, run) in zip(colours, runs.items(), strict=True):
        keep = run.time.values > 0.0
        relative = (run.mass_plus.values - alpha_of(d_H)) / alpha_of(d_H)
        axes[0].plot(
            run.time.values[keep], relative[keep], color=colour, label=f"d_H = {d_H}"
        )
    axes[0].set_xscale("log")
    axes[0].set_yscale("symlog", linthresh=1e-3)
    axes[0].axhline(0.0, color="black", lw=0.8)
    axes[0].set_xlabel("time t of the gradient flow (dimensionless)")
    axes[0].set_ylabel("(mass of tau_plus - alpha) / alpha")
    axes[0].legend(fontsize="x-small", ncol=2)
    axes[1].semilogy(
        dimensions,
        [r["relative_excess_final"] for r in rows],
        "o-",
        color="C1",
        label="(mass of tau_plus - alpha) / alpha",
    )
    axes[1].semilogy(
        dimensions,
        [r["mass_minus_final"] / r["alpha"] for r in rows],
        "x--",
        color="C0",
        label="mass of tau_minus / alpha",
    )
    axes[1].set_title(f"t = {t_end:g}")
    axes[1].set_xlabel("d_H (d = 30)")
    axes[1].set_ylabel("relative to alpha(d_H)")
    axes[1].legend(fontsize="small")
    figure.savefig(args.out_dir / "alpha_limit.png", dpi=100)
    plt.close(figure)

    # Report
    report = {
        "d": d,
        "t_end": t_end,
        "cells": cells,
        "scheme": "muscl",
        "rows": rows,
        "wall_seconds": seconds,
    }
    write_json(args.out_dir / "alpha_limit.json", report)
    print(" d_H   alpha    mass+(t_end)  rel. excess   t*        exponent  mass-")
    for r in rows:
        print(
            f"{r['d_H']:4d} {r['alpha']:8.5f} {r['mass_plus_final']:12.5f} "
            f"{r['relative_excess_final']:+11.2e} {r['t_star']:9.2f} "
            f"{r['late_exponent']:8.3f}  {r['mass_minus_final']:.5f}"
        )
    print(f"wall time {seconds:.1f} s; wrote {args.out_dir}/alpha_limit.png and .json")


if __name__ == "__main__":
    main()
