"""Command line of ``pdeflow sweep`` and ``pdeflow animate``.

``pdeflow.cli`` registers these subcommands; errors raised here as ValueError
or OSError end with one line on stderr and exit code 2 there.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .arguments import integer


def add_sweep(commands: argparse._SubParsersAction) -> None:
    """Register ``pdeflow sweep``."""
    parser = commands.add_parser(
        "sweep",
        help="run a parameter sweep on a Dask cluster, one NetCDF file per point",
        description="Run every point of a sweep file that is not complete yet.",
    )
    parser.add_argument(
        "sweep_file",
        metavar="SWEEP",
        help="TOML file: run options, and lists of values in a [sweep] table",
    )
    parser.add_argument(
        "--folder",
        help="output folder (default: the file's folder key, else its name "
        "without suffix)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler, such as tcp://127.0.0.1:8786 "
        "(default: start a local cluster in this process)",
    )
    parser.add_argument(
        "--workers",
        type=integer(1),
        help="worker processes of the local cluster (default: one in-process "
        "worker with a thread per core)",
    )
    parser.set_defaults(handler=run_sweep_command)


def run_sweep_command(args: argparse.Namespace) -> int:
    """Run ``pdeflow sweep``; return 0, or 1 when a point failed."""
    from .sweep import read_sweep, require_distributed, run_sweep

    if args.scheduler is not None and args.workers is not None:
        raise ValueError(
            "--workers sets the size of the local cluster: drop it when "
            "--scheduler is given"
        )
    # Importing distributed sets its logger to INFO, which reports every
    # start and stop of a cluster; keep its warnings and errors only.
    require_distributed()
    if not args.verbose:
        logging.getLogger("distributed").setLevel(logging.WARNING)
    sweep = read_sweep(args.sweep_file, folder=args.folder)
    report = run_sweep(sweep, scheduler=args.scheduler, workers=args.workers)
    if not args.quiet:
        print(
            f"{len(sweep.points)} points in {sweep.folder}: "
            f"{len(report.computed)} computed, {len(report.skipped)} already "
            f"complete, {len(report.failed)} failed"
        )
        for path, reason in report.failed.items():
            print(f"failed: {path.name}: {reason}")
    return 1 if report.failed else 0


def add_animate(commands: argparse._SubParsersAction) -> None:
    """Register ``pdeflow animate``."""
    parser = commands.add_parser(
        "animate",
        help="animate tau_plus and tau_minus over the saved times of a run",
        description="Write an animation of the two densities, one frame per "
        "saved time.",
    )
    parser.add_argument("run", help="NetCDF file written by 'pdeflow solve'")
    parser.add_argument(
        "--out",
        help="animation file, .gif or .mp4 (needs ffmpeg) (default: the run "
        "file with suffix .gif)",
    )
    parser.add_argument(
        "--fps",
        type=integer(1),
        default=10,
        help="frames per second (default 10)",
    )
    parser.add_argument(
        "--max-frames",
        type=integer(2),
        help="draw at most this many saved times, spread evenly (default: all)",
    )
    parser.set_defaults(handler=run_animate_command)


def run_animate_command(args: argparse.Namespace) -> int:
    """Run ``pdeflow animate``; return 0."""
    from .animation import animate_run, frame_indices
    from .output import check_writable, open_run

    out = Path(args.out or Path(args.run).with_suffix(".gif"))
    check_writable(out, example="run.gif")
    run = open_run(args.run)
    written = animate_run(run, out, fps=args.fps, max_frames=args.max_frames)
    if not args.quiet:
        frames = len(frame_indices(run.time.values, args.max_frames))
        print(f"wrote {written} ({frames} frames of {run.sizes['time']} saved times)")
    return 0
