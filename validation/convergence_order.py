"""Observed convergence orders of pdeflow in space, time and phi quadrature.

Usage: python validation/convergence_order.py [--quick] [--out-dir DIR]

Writes convergence.png and convergence.json (orders of mass_plus by scheme and
study) into the output folder and prints the table of fitted orders.
"""

from __future__ import annotations

import json
import time

from _common import parse_arguments

from pdeflow import Problem
from pdeflow.convergence import QUICK_PLAN, Plan, format_table, run_studies, summary
from pdeflow.plotting import plot_convergence


def main() -> None:
    # Parameters
    args = parse_arguments(__doc__)
    plan = QUICK_PLAN if args.quick else Plan()

    # Problem: the configuration of Figure 3 of Hajjar and Chizat (2023).
    problem = Problem(d=30, d_H=5)

    # Solve and measure
    start = time.perf_counter()
    studies = run_studies(problem, plan)
    seconds = time.perf_counter() - start

    # Plot
    plot_convergence(studies, args.out_dir / "convergence.png")

    # Report
    orders = summary(studies)
    orders["wall_seconds"] = seconds
    (args.out_dir / "convergence.json").write_text(json.dumps(orders, indent=2) + "\n")
    print(format_table(studies))
    print(f"wall time {seconds:.1f} s; wrote {args.out_dir}/convergence.png and .json")


if __name__ == "__main__":
    main()
