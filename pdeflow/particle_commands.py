"""Command line of ``pdeflow particles`` and ``pdeflow compare``.

``pdeflow.cli`` registers these subcommands. Bad values raise ValueError,
TypeError or ImportError (torch missing), which ``pdeflow.cli`` turns into one
line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .arguments import add_dimensions, integer, positive_number, times


def add_particles(commands: argparse._SubParsersAction) -> None:
    """Register ``pdeflow particles``."""
    parser = commands.add_parser(
        "particles",
        help="run a particle baseline and write it in the layout of a PDE run",
        description="Run reduced particles, the Monte-Carlo scheme of Hajjar and "
        "Chizat (2023), or a finite-width network, and write NetCDF.",
    )
    parser.add_argument(
        "--kind",
        choices=("reduced", "faithful", "network"),
        required=True,
        help="reduced: quadrature fields and RK4; faithful: the Monte-Carlo Euler "
        "scheme (one step is time d * eta); network: gradient descent in dimension d",
    )
    add_dimensions(parser)
    parser.add_argument(
        "--t-end",
        type=positive_number,
        help="final time of the flow, dimensionless (reduced, network); faithful "
        "runs take --steps instead",
    )
    parser.add_argument(
        "--m",
        type=integer(2),
        help="number of particles or neurons (default: reduced 4000, faithful "
        "1024, network 4096)",
    )
    parser.add_argument(
        "--seed", type=integer(0, maximum=2**32 - 2), help="random seed (default 0)"
    )
    parser.add_argument(
        "--saves",
        type=integer(2),
        help="number of evenly spaced save times (default 41)",
    )
    parser.add_argument(
        "--save-times",
        type=times,
        help="comma-separated save times; 0 and the end are added",
    )
    parser.add_argument(
        "--cells",
        type=integer(2),
        help="histogram cells of the densities (default 128)",
    )
    parser.add_argument(
        "--n-phi", type=integer(2), help="phi nodes of the angle law (default 96)"
    )
    reduced = parser.add_argument_group("reduced particles")
    reduced.add_argument(
        "--dt", type=positive_number, help="RK4 time step, in flow time (default 0.01)"
    )
    reduced.add_argument(
        "--layout",
        choices=("gauss", "midpoint", "random"),
        help="initial positions (default gauss)",
    )
    faithful = parser.add_argument_group("faithful scheme and network")
    faithful.add_argument(
        "--steps",
        type=integer(1),
        help="Euler steps (faithful; default 20000, the paper's run)",
    )
    faithful.add_argument(
        "--samples",
        type=integer(1),
        help="Monte-Carlo samples per step (faithful; default 1000)",
    )
    faithful.add_argument(
        "--eta",
        type=positive_number,
        help="step size: a faithful step is flow time d x eta (default 0.005), a "
        "network step flow time eta (default 0.01)",
    )
    network = parser.add_argument_group("network")
    network.add_argument(
        "--batch", type=integer(1), help="fresh inputs per step (default 1024)"
    )
    network.add_argument(
        "--backend", choices=("numpy", "torch"), help="array library (default numpy)"
    )
    network.add_argument(
        "--dtype", choices=("float64", "float32"), help="precision (default float64)"
    )
    network.add_argument(
        "--device",
        help="torch device, such as cuda:0 or cpu (default: cuda when torch sees "
        "a GPU, else cpu)",
    )
    network.add_argument(
        "--chunk", type=integer(1), help="neurons per block (default 2^24 / batch)"
    )
    network.add_argument(
        "--eval-samples",
        type=integer(1),
        help="held-out inputs for the loss (default 100000)",
    )
    parser.add_argument(
        "--out",
        default="particles.nc",
        help="NetCDF file to write (default particles.nc)",
    )
    parser.set_defaults(handler=run_particles_command)


_OPTIONS = {
    "reduced": (
        "t_end",
        "m",
        "dt",
        "layout",
        "seed",
        "n_phi",
        "save_times",
        "saves",
        "cells",
    ),
    "faithful": ("steps", "m", "samples", "eta", "seed", "n_phi", "saves", "cells"),
    "network": (
        "t_end",
        "m",
        "eta",
        "batch",
        "seed",
        "backend",
        "dtype",
        "device",
        "chunk",
        "eval_samples",
        "n_phi",
        "save_times",
        "saves",
        "cells",
    ),
}


_RUN_NAMES = {
    "reduced": "reduced particles",
    "faithful": "faithful particles",
    "network": "network",
}


def run_particles_command(args: argparse.Namespace) -> int:
    """Run ``pdeflow particles``; return the exit code."""
    from .output import check_writable, write_netcdf
    from .particles import run_particles
    from .problem import Problem

    problem = Problem(args.d, args.d_H)
    allowed = _OPTIONS[args.kind]
    every = {name for names in _OPTIONS.values() for name in names}
    for name in sorted(every - set(allowed)):
        if getattr(args, name, None) is not None:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} does not apply to --kind {args.kind}: drop it")
    if args.saves is not None and args.save_times is not None:
        raise ValueError("--saves and --save-times exclude each other: pass one")
    if args.kind != "faithful" and args.t_end is None:
        raise ValueError(f"--kind {args.kind} needs --t-end: pass a final time > 0")
    check_writable(Path(args.out))

    options = {name: getattr(args, name) for name in allowed}
    options = {name: value for name, value in options.items() if value is not None}
    # Show a bar on a terminal unless --quiet is given, as pdeflow solve does.
    options["progress"] = None if not args.quiet else False
    run = run_particles(problem, args.kind, **options)
    write_netcdf(run, args.out)
    failure = _failure(run)
    if failure:
        print(
            f"pdeflow: {args.kind} run failed: {failure}; wrote {args.out}",
            file=sys.stderr,
        )
        return 1
    if not args.quiet:
        last = run.isel(time=-1)
        print(
            f"{_RUN_NAMES[args.kind]}: t = {float(last.time):.6g}, mass of tau_plus "
            f"{float(last.mass_plus):.6f} (alpha {problem.alpha:.6f}), mass of "
            f"tau_minus {float(last.mass_minus):.6f}, loss {float(last.loss):.3e}; "
            f"wrote {args.out}"
        )
    return 0


def _failure(run) -> str:
    """Describe why a particle run is not usable, or return an empty string."""
    reason = str(run.attrs.get("stop_reason", "completed"))
    if reason != "completed":
        return reason
    for name in ("mass_plus", "mass_minus", "loss"):
        values = np.asarray(run[name].values, dtype=float)
        if not np.all(np.isfinite(values)) or np.abs(values).max() > 1e12:
            return f"{name} diverged (reduce --eta)"
    if run.sizes["time"] < 2 or float(run.time[-1]) <= 0.0:
        return "no step was taken (the final time is shorter than one step)"
    return ""


def add_compare(commands: argparse._SubParsersAction) -> None:
    """Register ``pdeflow compare``."""
    parser = commands.add_parser(
        "compare",
        help="compare two runs at their common saved times",
        description="Compare two runs (PDE or particles) at their common times: "
        "mass errors, W1 and W2 distances, loss and predictor differences.",
    )
    parser.add_argument("run_a", metavar="A", help="first run file")
    parser.add_argument("run_b", metavar="B", help="second run file")
    parser.add_argument("--out", help="NetCDF file for the comparison")
    parser.add_argument("--plot", metavar="IMAGE", help="draw the overlays")
    parser.add_argument(
        "--labels", default="A,B", help="two comma-separated names for the legend"
    )
    parser.add_argument(
        "--rtol",
        type=positive_number,
        default=1e-6,
        help="relative tolerance for matching saved times (default 1e-6)",
    )
    parser.set_defaults(handler=run_compare_command)


def run_compare_command(args: argparse.Namespace) -> int:
    """Run ``pdeflow compare``; return the exit code."""
    from .comparison import compare, plot_comparison
    from .output import (
        check_distinct,
        check_image_path,
        check_writable,
        open_run,
        write_netcdf,
    )

    labels = [label.strip() for label in args.labels.split(",")]
    if len(labels) != 2 or not all(labels):
        raise ValueError(f"--labels {args.labels!r} is invalid: pass two names, a,b")
    if args.out:
        check_writable(Path(args.out))
    if args.plot:
        check_image_path(args.plot, example="comparison.png")
    check_distinct(
        {"--out": args.out, "--plot": args.plot}, {"A": args.run_a, "B": args.run_b}
    )
    run_a, run_b = open_run(args.run_a), open_run(args.run_b)

    result = compare(run_a, run_b, rtol=args.rtol)
    # The figure matches times with the table's tolerance. It is drawn before
    # --out is written, so a failed drawing leaves no table behind. The --out
    # path was checked above, and its write is atomic.
    if args.plot:
        plot_comparison(run_a, run_b, args.plot, labels=tuple(labels), rtol=args.rtol)
    if args.out:
        write_netcdf(result, args.out)
    if not args.quiet:
        # The errors, one row per common time; the file has every variable.
        columns = [
            "mass_plus_relative_error",
            "mass_minus_relative_error",
            "w1_plus",
            "w2_plus",
            "w1_minus",
            "w2_minus",
            "loss_difference",
            "predictor_max_difference",
        ]
        table = result[columns].to_dataframe()
        print(table.to_string(float_format=lambda value: f"{value:.3e}"))
    return 0
