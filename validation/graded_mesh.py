"""Graded against uniform meshes on a tau_plus concentrated at theta = 0.

The run starts from tau_plus = alpha/2 times a half-normal law of width w
radians (W2 distance w to delta_0) and tau_minus = g/2, for d = 30 and d_H = 5
(pdeflow.initial.concentrated_start), and follows the flow with MUSCL to
t_end = 1000, long after the reaction has brought the mass of tau_plus to its
plateau. The error of W2(tau_plus / mass, delta_0) at t_end is measured on
uniform meshes and on meshes graded toward 0 (power 3). The reference is a
fine graded mesh. Its error is estimated by halving its cells, and checked by
the Richardson extrapolation of the two finest uniform meshes.

Usage: python validation/graded_mesh.py [--quick] [--out-dir DIR]

Writes graded_mesh.json (errors, orders and the cell ratio at equal accuracy)
and graded_mesh.png into the output folder and prints the table.
"""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _common import loglog_slope, parse_arguments, write_json  # noqa: E402

from pdeflow import Mesh, Problem, solve  # noqa: E402
from pdeflow.initial import concentrated_start  # noqa: E402

POWER = 3.0


def final_w2(problem: Problem, mesh: Mesh, width: float, t_end: float) -> dict:
    """Run MUSCL from the concentrated start; return W2, mass and the density."""
    start = time.perf_counter()
    run = solve(
        problem,
        t_end,
        mesh=mesh,
        scheme="muscl",
        saves=2,
        store_fields=False,
        initial=concentrated_start(problem, width),
    )
    last = run.isel(time=-1)
    return {
        "cells": mesh.cells,
        "w2_plus": float(last.w2_plus),
        "mass_plus": float(last.mass_plus),
        "seconds": time.perf_counter() - start,
        "theta": run.theta.values,
        "tau_plus": last.tau_plus.values,
    }


def uniform_cells_for(
    error: float, cells: np.ndarray, errors: np.ndarray
) -> tuple[float, bool]:
    """Estimate the uniform cells needed for ``error`` by log-log interpolation.

    ``errors`` must decrease as ``cells`` grow. Returns the cells and whether
    they were extrapolated: beyond the finest uniform mesh the order of the
    last two meshes extends the series.
    """
    log_cells, log_errors = np.log(cells), np.log(errors)
    if error >= errors[0]:
        return float(cells[0]), False
    if error >= errors[-1]:
        return float(np.exp(np.interp(-np.log(error), -log_errors, log_cells))), False
    order = -(log_errors[-1] - log_errors[-2]) / (log_cells[-1] - log_cells[-2])
    return float(cells[-1] * (errors[-1] / error) ** (1.0 / order)), True


def study(problem: Problem, width: float, plan: dict) -> dict:
    """Run both mesh families for one width and compare them at equal accuracy."""
    t_end = plan["t_end"]
    reference = final_w2(problem, Mesh.graded(plan["reference"], POWER), width, t_end)
    half = final_w2(problem, Mesh.graded(plan["reference"] // 2, POWER), width, t_end)
    uniform = [
        final_w2(problem, Mesh.uniform(n), width, t_end) for n in plan["uniform"]
    ]
    graded = [
        final_w2(problem, Mesh.graded(n, POWER), width, t_end) for n in plan["graded"]
    ]

    # Two estimates of the reference's own error. Halving the reference mesh:
    # MUSCL converges at second order, so the error is a third of the change.
    # Richardson extrapolation of the two finest uniform meshes (ratio 2): a
    # second route, valid once uniform cells resolve the width.
    reference_error = abs(reference["w2_plus"] - half["w2_plus"]) / 3.0
    fine, finer = uniform[-2]["w2_plus"], uniform[-1]["w2_plus"]
    extrapolated = finer + (finer - fine) / 3.0
    for row in uniform + graded:
        row["error"] = abs(row["w2_plus"] - reference["w2_plus"])

    # Cell ratios only where the error is well above the reference's.
    u_cells = np.array([row["cells"] for row in uniform], dtype=float)
    u_errors = np.array([row["error"] for row in uniform])
    for row in graded:
        cells, beyond = uniform_cells_for(row["error"], u_cells, u_errors)
        trusted = row["error"] > 10.0 * reference_error
        row["uniform_cells_same_error"] = cells if trusted else None
        row["extrapolated"] = beyond
        row["cell_ratio"] = cells / row["cells"] if trusted else None
    return {
        "width": width,
        "t_end": t_end,
        "reference": reference,
        "reference_error": reference_error,
        "richardson_uniform": extrapolated,
        "reference_gap": abs(extrapolated - reference["w2_plus"]),
        "uniform": uniform,
        "graded": graded,
        "order_uniform": -loglog_slope(u_cells, u_errors),
        "order_graded": -loglog_slope(
            [row["cells"] for row in graded], [row["error"] for row in graded]
        ),
    }


def format_study(result: dict) -> str:
    """Format one study as a table of errors, wall times and cell ratios."""
    reference = result["reference"]
    lines = [
        f"width {result['width']:g} rad, t_end {result['t_end']:g}: reference "
        f"W2 = {reference['w2_plus']:.9e} rad (graded {reference['cells']} cells, "
        f"error about {result['reference_error']:.1e}); uniform Richardson "
        f"{result['richardson_uniform']:.9e} (gap {result['reference_gap']:.1e})",
        f"{'mesh':>8} {'cells':>6} {'W2 error (rad)':>15} {'seconds':>8} "
        f"{'uniform cells, same error':>26}",
    ]
    for row in result["uniform"]:
        lines.append(
            f"{'uniform':>8} {row['cells']:>6} {row['error']:>15.3e} "
            f"{row['seconds']:>8.2f}"
        )
    for row in result["graded"]:
        if row["cell_ratio"] is None:
            match = "at the reference's accuracy"
        else:
            note = ", extrapolated" if row["extrapolated"] else ""
            match = (
                f"{row['uniform_cells_same_error']:>12.0f} "
                f"({row['cell_ratio']:.0f}x{note})"
            )
        lines.append(
            f"{'graded':>8} {row['cells']:>6} {row['error']:>15.3e} "
            f"{row['seconds']:>8.2f} {match}"
        )
    lines.append(
        f"observed orders: uniform {result['order_uniform']:.2f}, graded "
        f"{result['order_graded']:.2f}"
    )
    return "\n".join(lines)


def plot(results: list[dict], path) -> None:
    """Draw error against cells and the final tau_plus near 0 on log axes."""
    figure, (errors, profile) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"uniform": ("o", "-"), "graded": ("s", "--")}
    for number, result in enumerate(results):
        label = f"w = {result['width']:g} rad"
        for family, (marker, line) in styles.items():
            rows = result[family]
            errors.loglog(
                [row["cells"] for row in rows],
                [row["error"] for row in rows],
                marker=marker,
                linestyle=line,
                color=f"C{number}",
                label=f"{family}, {label}",
            )
    errors.set_xlabel("cells")
    errors.set_ylabel("|W2(tau_plus) - reference| at t_end (rad)")
    errors.set_title("late-time W2 error (MUSCL)")
    errors.legend(fontsize=8)

    first = results[0]
    curves = [first["reference"], first["uniform"][0], first["graded"][0]]
    names = ["reference, graded", "uniform", "graded"]
    for row, name in zip(curves, names, strict=True):
        profile.loglog(
            row["theta"],
            row["tau_plus"],
            drawstyle="steps-mid",
            label=f"{name}, {row['cells']} cells",
        )
    profile.set_xlabel("theta (rad)")
    profile.set_ylabel("tau_plus density at t_end (1/rad)")
    profile.set_title(f"tau_plus near 0, w = {first['width']:g} rad")
    peak = np.max(first["reference"]["tau_plus"])
    profile.set_ylim(1e-6 * peak, 3.0 * peak)
    profile.set_xlim(1e-3 * first["width"], 0.5 * np.pi)
    profile.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    # Parameters
    args = parse_arguments(__doc__)
    if args.quick:
        plan = {"t_end": 100.0, "uniform": [320, 640, 1280], "graded": [32, 64, 128]}
        plan["reference"] = 1024
        widths = [1e-3]
    else:
        plan = {
            "t_end": 1000.0,
            "uniform": [256, 1024, 4096, 8192, 16384],
            "graded": [64, 128, 256, 512, 1024],
            "reference": 8192,
        }
        widths = [1e-3, 1e-4]

    # Problem: the dimensions of Figure 3 of Hajjar and Chizat (2023).
    problem = Problem(d=30, d_H=5)

    # Solve
    start = time.perf_counter()
    results = [study(problem, width, plan) for width in widths]
    seconds = time.perf_counter() - start

    # Plot and report
    plot(results, args.out_dir / "graded_mesh.png")
    for result in results:
        print(format_study(result))
        rows = [result["reference"], *result["uniform"], *result["graded"]]
        for row in rows:
            del row["theta"], row["tau_plus"]
    write_json(
        args.out_dir / "graded_mesh.json",
        {"d": problem.d, "d_H": problem.d_H, "power": POWER, "studies": results}
        | {"wall_seconds": seconds},
    )
    print(f"wall time {seconds:.1f} s; wrote {args.out_dir}/graded_mesh.png and .json")


if __name__ == "__main__":
    main()
