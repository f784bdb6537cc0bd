"""Command line: ``pdeflow solve`` runs the PDE, ``pdeflow plot`` draws a run.

User errors (bad values, unreadable or unwritable files) end with one line on
stderr and exit code 2, with no traceback and no partial output file.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from .arguments import add_dimensions, integer, number, step_bound, times
from .checks import MAX_N_PHI
from .commands import add_animate, add_sweep
from .entry import Interrupts, deferred_interrupts
from .initial import PAPER_LABEL
from .limiters import LIMITERS
from .mesh import Mesh
from .output import (
    check_distinct,
    check_image_path,
    check_writable,
    open_run,
    package_version,
    write_netcdf,
)
from .particle_commands import add_compare, add_particles
from .problem import Problem
from .scheme import DEFAULT_LIMITER, SCHEMES
from .solver import DEFAULT_N_PHI, DEFAULT_SAVES, solve

USER_ERROR = 2


class UserError(Exception):
    """A mistake in the command line input; its message names the value and the fix."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(USER_ERROR, f"pdeflow: error: {message}\n")


def _add_solve(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "solve",
        help="solve the reduced PDE and write the run to NetCDF",
        description="Solve the reduced mean-field PDE for tau_plus and tau_minus.",
    )
    add_dimensions(parser)
    parser.add_argument(
        "--t-end",
        type=number,
        default=3000.0,
        help="final time of the gradient flow (default 3000)",
    )
    parser.add_argument(
        "--cells",
        type=integer(2),
        default=1024,
        help="number of cells of [0, pi/2] (default 1024)",
    )
    parser.add_argument(
        "--cfl",
        type=number,
        default=0.9,
        help="Courant number in (0, 1] (default 0.9)",
    )
    parser.add_argument(
        "--scheme",
        choices=SCHEMES,
        default="upwind",
        help="upwind (first order) or muscl (second order) (default upwind)",
    )
    parser.add_argument(
        "--limiter",
        choices=sorted(LIMITERS),
        default=DEFAULT_LIMITER,
        help=f"slope limiter of the muscl scheme (default {DEFAULT_LIMITER})",
    )
    parser.add_argument(
        "--dt-max",
        type=step_bound,
        default=float("inf"),
        help="upper bound of the time step (default: none)",
    )
    parser.add_argument(
        "--mesh",
        choices=("uniform", "graded"),
        default="uniform",
        help="uniform cells, or cells graded toward theta = 0 (default uniform)",
    )
    parser.add_argument(
        "--grading",
        type=number,
        default=2.0,
        help="exponent of the graded mesh, >= 1: the first cell is about "
        "cells^-grading of pi/2 wide (default 2)",
    )
    parser.add_argument(
        "--grade-both-ends",
        action="store_true",
        help="grade the mesh toward pi/2 as well as toward 0",
    )
    parser.add_argument(
        "--n-phi",
        type=integer(2, maximum=MAX_N_PHI),
        default=DEFAULT_N_PHI,
        help=f"Gauss–Jacobi nodes of the angle law (default {DEFAULT_N_PHI})",
    )
    _add_start_options(parser)
    saves = parser.add_mutually_exclusive_group()
    saves.add_argument(
        "--saves",
        type=integer(2),
        default=DEFAULT_SAVES,
        help=f"number of save times: 0, then log-spaced from t_end/1e4 "
        f"(default {DEFAULT_SAVES})",
    )
    saves.add_argument(
        "--save-times",
        type=times,
        help="comma-separated save times, such as 0,10,100,1000",
    )
    parser.add_argument(
        "--out", default="run.nc", help="NetCDF file to write (default run.nc)"
    )
    parser.add_argument(
        "--plot",
        metavar="IMAGE",
        help="also draw the run into this image, such as fig.png",
    )
    _add_checkpoint_options(parser)
    _add_config_options(parser)
    parser.set_defaults(handler=_run_solve)


def _add_start_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--start-width",
        type=number,
        metavar="RAD",
        help="start from a tau_plus concentrated at theta = 0 with this W2 width "
        "in radians, in [1e-12, 0.3], instead of g/2; follow it on --mesh graded",
    )
    parser.add_argument(
        "--start-mass-plus",
        type=number,
        metavar="MASS",
        help="mass of that concentrated tau_plus (default alpha/2)",
    )
    parser.add_argument(
        "--start-mass-minus",
        type=number,
        metavar="MASS",
        help="mass of tau_minus = MASS x g with --start-width (default 0.5)",
    )


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    from .config import KEYS, UNSET

    parser.add_argument(
        "--config",
        metavar="TOML",
        help="read run options from this TOML file; flags given here override it",
    )
    parser.add_argument(
        "--from",
        dest="from_run",
        metavar="RUN",
        help="re-create the run stored in this NetCDF file (default --out: "
        "RUN with suffix .rerun.nc); --config and flags override its options",
    )
    # Options absent from the command line stay absent, so they cannot
    # override the values of --config or --from.
    parser.set_defaults(**dict.fromkeys(KEYS, UNSET))


def _add_checkpoint_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint",
        help="checkpoint file, written when the run stops early (fault, SIGINT, "
        "SIGTERM) and every --checkpoint-every seconds (default: OUT.checkpoint "
        "for solve, the input checkpoint for resume)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=number,
        metavar="SECONDS",
        help="wall-clock seconds between periodic checkpoints (default: none)",
    )


def _add_resume(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "resume",
        help="continue a run from its checkpoint",
        description="Continue a run from a checkpoint written by 'pdeflow solve'.",
    )
    parser.add_argument("checkpoint_file", metavar="CHECKPOINT", help="checkpoint file")
    parser.add_argument(
        "--out", default="run.nc", help="NetCDF file of the whole run (default run.nc)"
    )
    parser.add_argument("--plot", metavar="IMAGE", help="also draw the run")
    _add_checkpoint_options(parser)
    parser.set_defaults(handler=_run_resume)


def _checkpoint_path(args: argparse.Namespace, default: str | None = None) -> Path:
    """Return the checkpoint path (default OUT.checkpoint) after checking it."""
    path = Path(args.checkpoint or default or f"{args.out}.checkpoint")
    if args.checkpoint_every is not None and args.checkpoint_every <= 0.0:
        raise UserError(
            f"--checkpoint-every {args.checkpoint_every:g} is invalid: pass seconds > 0"
        )
    check_writable(path, example="run.nc.checkpoint")
    return path


def _finish(run, args: argparse.Namespace, image: Path | None, checkpoint: Path) -> int:
    """Write the run and its image, print the summary; return the exit code.

    The checkpoint of a completed run is removed only after the run file is
    written, so a failed write still leaves a state to resume from.
    """
    with deferred_interrupts():
        write_netcdf(run, args.out)
    completed = run.attrs["stop_reason"] == "completed"
    if completed and checkpoint.exists():
        checkpoint.unlink()
    if image is not None:
        from .plotting import plot_run

        plot_run(run, image)
    if not args.quiet:
        print(summary_table(run, args.out, image))
        if not completed and checkpoint.exists():
            print(f"resume with: pdeflow resume {checkpoint} --out {args.out}")
    return 0 if completed else 1


def _run_resume(args: argparse.Namespace) -> int:
    from .checkpoint import resume

    check_writable(Path(args.out))
    image = _image_path(args.plot)
    checkpoint = _checkpoint_path(args, default=args.checkpoint_file)
    check_distinct(
        {"--out": args.out, "--plot": image, "--checkpoint": args.checkpoint},
        {"CHECKPOINT": args.checkpoint_file},
    )
    attributes = _resumed_run_attributes(args)
    run = resume(
        args.checkpoint_file,
        progress=None if not args.quiet else False,
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        keep_checkpoint=True,
    )
    run.attrs.update(attributes)
    return _finish(run, args, image, checkpoint)


def _resumed_run_attributes(args: argparse.Namespace) -> dict:
    """Return the configuration attributes of a resumed run, as solve adds them.

    They are rebuilt from the checkpoint's solver attributes; a run that the
    options of pdeflow solve cannot describe (a custom mesh or start) gets none.
    """
    from .config import ConfigError, merge, read_run_config, run_attributes

    try:
        values = read_run_config(args.checkpoint_file)
    except (ConfigError, OSError, KeyError):
        return {}
    values |= {"out": str(args.out), "plot": args.plot}
    return run_attributes(merge((values, str(args.checkpoint_file))))


def _add_plot(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "plot",
        help="draw the densities and the distances of a run",
        description="Draw tau_plus and tau_minus at several times and the "
        "distances to the limit.",
    )
    parser.add_argument("run", help="NetCDF file written by 'pdeflow solve'")
    parser.add_argument(
        "--out", help="image file (default: the run file with suffix .png)"
    )
    parser.add_argument(
        "--snapshots",
        type=integer(1, maximum=12),
        default=6,
        help="times drawn per density panel, 1 to 12 (default 6)",
    )
    parser.set_defaults(handler=_run_plot)


def _add_convergence(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "convergence",
        help="measure the observed orders in space, time and phi quadrature",
        description="Measure observed convergence orders from successive refinements.",
    )
    add_dimensions(parser)
    parser.add_argument(
        "--quick", action="store_true", help="coarse levels, a few seconds in all"
    )
    parser.add_argument("--json", metavar="PATH", help="write the orders as JSON")
    parser.add_argument("--plot", metavar="IMAGE", help="draw the differences")
    parser.set_defaults(handler=_run_convergence)


def _run_convergence(args: argparse.Namespace) -> int:
    from .convergence import QUICK_PLAN, Plan, format_table, run_studies, summary

    problem = _problem(args)
    image = _image_path(args.plot)
    if args.json:
        check_writable(Path(args.json), example="orders.json")
    check_distinct({"--json": args.json, "--plot": image}, {})

    studies = run_studies(problem, QUICK_PLAN if args.quick else Plan())
    if args.json:
        Path(args.json).write_text(json.dumps(summary(studies), indent=2) + "\n")
    if image is not None:
        from .plotting import plot_convergence

        plot_convergence(studies, image)
    if not args.quiet:
        print(format_table(studies))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``pdeflow`` command."""
    parser = _Parser(prog="pdeflow", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--version", action="version", version=f"pdeflow {package_version()}"
    )
    _add_verbosity(parser)
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    _add_solve(commands)
    _add_plot(commands)
    _add_convergence(commands)
    _add_resume(commands)
    add_sweep(commands)
    add_animate(commands)
    add_particles(commands)
    add_compare(commands)
    for subparser in commands.choices.values():
        _add_verbosity(subparser, default=argparse.SUPPRESS)
    return parser


def _add_verbosity(parser: argparse.ArgumentParser, default: object = False) -> None:
    """Add -v and -q; subcommands take them too, without hiding the global ones."""
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log details of the run",
    )
    verbosity.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="print warnings and errors only: no summary, no progress bar",
    )


def _image_path(text: str | None) -> Path | None:
    return None if text is None else check_image_path(text)


def _build_mesh(args: argparse.Namespace) -> Mesh:
    if args.mesh == "uniform":
        return Mesh.uniform(args.cells)
    if args.grading < 1.0:
        raise UserError(f"--grading {args.grading:g} is invalid: pass an exponent >= 1")
    ends = "both" if args.grade_both_ends else "zero"
    try:
        return Mesh.graded(args.cells, power=args.grading, ends=ends)
    except ValueError as error:
        raise UserError(str(error).replace("power=", "--grading ")) from None


def _problem(args: argparse.Namespace) -> Problem:
    try:
        return Problem(args.d, args.d_H)
    except ValueError as error:
        message = str(error).replace("d_H=", "--d-H ").replace("d=", "--d ")
        raise UserError(message) from None


def _run_solve(args: argparse.Namespace) -> int:
    from .config import resolve_arguments, run_attributes

    config = resolve_arguments(args)
    problem = _problem(args)
    if args.t_end <= 0.0:
        raise UserError(f"--t-end {args.t_end:g} is invalid: pass a final time > 0")
    if not 0.0 < args.cfl <= 1.0:
        raise UserError(
            f"--cfl {args.cfl:g} is invalid: pass a Courant number in (0, 1]"
        )
    if not args.dt_max > 0.0:
        raise UserError(f"--dt-max {args.dt_max:g} is invalid: pass a step bound > 0")
    mesh = _build_mesh(args)
    check_writable(Path(args.out))
    image = _image_path(args.plot)
    checkpoint = _checkpoint_path(args)
    check_distinct(
        {"--out": args.out, "--plot": image, "--checkpoint": checkpoint},
        {"--from": args.from_run, "--config": args.config},
    )

    run = solve(
        problem,
        args.t_end,
        mesh=mesh,
        cfl=args.cfl,
        dt_max=args.dt_max,
        scheme=args.scheme,
        limiter=args.limiter,
        n_phi=args.n_phi,
        save_times=args.save_times,
        saves=args.saves,
        progress=None if not args.quiet else False,
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        keep_checkpoint=True,
        initial=config.build_start(problem),
    )
    run.attrs.update(run_attributes(config))
    return _finish(run, args, image, checkpoint)


def _distance(value: object) -> str:
    """Format a W2 distance; it is nan for a measure without mass."""
    number = float(value)
    return "undefined, no mass" if math.isnan(number) else f"{number:.3e}"


def summary_table(run, out: str | Path, image: Path | None = None) -> str:
    """Format the end of a run as a table: masses against alpha, loss, steps, time."""
    alpha = float(run.attrs["alpha"])
    last = run.isel(time=-1)
    rows = [
        ("d, d_H", f"{run.attrs['d']}, {run.attrs['d_H']}"),
        (
            "mesh, scheme",
            f"{run.attrs['cells']} cells {run.attrs['mesh']}, {run.attrs['scheme']}",
        ),
        ("time reached", f"{float(run.attrs.get('final_time', last.time)):.6g}"),
        ("last saved time", f"{float(last.time):.6g}"),
        (
            "mass of tau_plus",
            f"{float(last.mass_plus):.6f} (alpha = {alpha:.6f}, "
            f"diff {float(last.mass_plus) - alpha:+.2e})",
        ),
        ("mass of tau_minus", f"{float(last.mass_minus):.6f} (limit 0)"),
        (
            "loss A",
            f"{float(last.loss):.3e} (initial {float(run.attrs['initial_loss']):.3e})",
        ),
        (
            "W2 to limits (rad)",
            f"{_distance(last.w2_plus)} (tau_plus), "
            f"{_distance(last.w2_minus)} (tau_minus)",
        ),
        ("time steps", f"{run.attrs['steps']}"),
        (
            "wall time",
            f"{run.attrs['wall_seconds']:.2f} s, of which kernel tables "
            f"{run.attrs['kernel_build_seconds']:.2f} s",
        ),
        ("stop reason", str(run.attrs["stop_reason"])),
        ("written", str(out) + (f", {image}" if image else "")),
    ]
    start = str(run.attrs.get("initial", PAPER_LABEL))
    if start != PAPER_LABEL:
        rows.insert(2, ("start", start))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _run_plot(args: argparse.Namespace) -> int:
    run = open_run(args.run)
    image = _image_path(args.out or str(Path(args.run).with_suffix(".png")))
    from .plotting import plot_run

    plot_run(run, image, snapshots=args.snapshots)
    if not args.quiet:
        print(f"wrote {image}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pdeflow`` command; return its exit code."""
    with Interrupts() as interrupts:
        try:
            return _dispatch(argv)
        except (UserError, ValueError, TypeError, OSError, ImportError) as error:
            if interrupts.received:
                return _interrupted(interrupts.received)
            print(f"pdeflow: error: {error}", file=sys.stderr)
            return USER_ERROR
        except KeyboardInterrupt:
            # The solver's time loop handles its own signals and saves its data.
            # Signals that reach here arrive elsewhere (kernel tables, sweeps,
            # particle runs), where only completed files exist.
            return _interrupted(interrupts.received or signal.SIGINT)
        except Exception:
            # A library may turn an interrupt into another error (matplotlib's
            # animation writer raises IndexError when its frames are cut off).
            if interrupts.received:
                return _interrupted(interrupts.received)
            raise


def _dispatch(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose and args.quiet:
        parser.error("-v/--verbose and -q/--quiet exclude each other: pass one")

    # Other libraries (h5py, matplotlib) stay at WARNING; -v opens pdeflow's log.
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.verbose:
        logging.getLogger("pdeflow").setLevel(logging.DEBUG)
    return args.handler(args)


def _interrupted(number: int) -> int:
    name = signal.Signals(number).name
    print(
        f"pdeflow: interrupted by {name}; files finished before it are kept",
        file=sys.stderr,
    )
    return 128 + number


if __name__ == "__main__":
    sys.exit(main())
