"""Speed and memory of pdeflow, and the cost of the PDE against particle baselines.

Usage: python benchmarks/run_benchmarks.py [--quick] [--out-dir DIR]

Measures, on the machine it runs on:

1. kernel table build time against cells, phi nodes and d;
2. the time of one step against cells (fields and step separately), and the
   GFLOP/s of the three field mat-vecs against a plain BLAS mat-vec of the
   same size, measured in the same run;
3. the paper's configuration (d = 30, d_H = 5, 1024 cells, t = 3000) end to
   end, with its peak traced memory;
4. one step of each particle baseline against m;
5. the cost of reaching a given accuracy: wall time of the PDE, of the
   deterministic reduced particles and of the paper's Monte-Carlo scheme to
   reach a relative mass error and a W2 error (normalised tau_plus) below
   1e-3 at an early time, against a mesh-converged reference;
6. scaling of a run against cells, d and t_end.

Writes benchmarks.json and benchmarks.png into the output folder and prints
the tables in Markdown.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import tracemalloc
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from pdeflow import Mesh, Problem, compare, solve  # noqa: E402
from pdeflow.fields import ReducedModel  # noqa: E402
from pdeflow.kernel import build_tables  # noqa: E402
from pdeflow.particles import (  # noqa: E402
    simulate_deterministic,
    simulate_faithful,
    simulate_network,
)
from pdeflow.solver import initial_state  # noqa: E402
from pdeflow.stepper import Stepper  # noqa: E402

PAPER = Problem(30, 5)
TARGET = 1e-3  # relative mass error and W2 error (rad) to reach


def best_of(function, repeats: int) -> float:
    """Return the smallest wall time of ``repeats`` calls, seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def kernel_builds(quick: bool) -> list[dict]:
    cells_list = [256, 1024] if quick else [256, 1024, 4096, 16384]
    rows = []
    for d, d_H in [(30, 5)] if quick else [(6, 2), (30, 5), (200, 5)]:
        for cells in cells_list:
            for n_phi in [96] if quick else [48, 96, 192]:
                mesh = Mesh.uniform(cells)
                phi = Problem(d, d_H).angle_rule(n_phi).nodes
                seconds = best_of(
                    lambda m=mesh, p=phi, d=d, h=d_H: build_tables(
                        m.centres, m.edges, p, h, d - h
                    ),
                    1 if cells > 2000 else 3,
                )
                rows.append(
                    {
                        "d": d,
                        "d_H": d_H,
                        "cells": cells,
                        "n_phi": n_phi,
                        "seconds": seconds,
                    }
                )
    return rows


def step_times(quick: bool) -> list[dict]:
    cells_list = [256, 1024] if quick else [256, 1024, 4096, 16384]
    rows = []
    for cells in cells_list:
        # One BLAS thread, as inside pdeflow.solve; the plain mat-vec is also
        # timed with the default thread count for comparison.
        with threadpool_limits(limits=1, user_api="blas"):
            row = _step_row(cells)
        row["plain_blas_default_threads_gflops"] = _plain_gflops(cells)
        rows.append(row)
    return rows


def _plain_gflops(cells: int, repeats: int = 200) -> float:
    table, y = np.ones((cells, 96)), np.ones(96)

    def plain():
        for _ in range(repeats):
            table @ y

    return 2 * cells * 96 / (best_of(plain, 3) / repeats) / 1e9


def _step_row(cells: int) -> dict:
    """Time the fields, their mat-vecs, a plain BLAS mat-vec and one step."""
    mesh = Mesh.uniform(cells)
    model = ReducedModel(PAPER, mesh, 96)
    tau_plus, tau_minus = initial_state(PAPER, mesh)
    fields = model.fields(tau_plus, tau_minus)
    repeats = 300 if cells <= 4096 else 50
    table, slope = model.tables.centres, model.tables.dtheta_faces
    x, y = np.ones(cells), np.ones(96)
    plain_table = np.ones((cells, 96))

    def evaluate_fields():
        for _ in range(repeats):
            model.fields(tau_plus, tau_minus)

    def matvecs():
        for _ in range(repeats):
            table.T @ x
            table @ y
            slope @ y

    def plain():
        for _ in range(repeats):
            plain_table @ y

    matvec_seconds = best_of(matvecs, 3) / repeats
    plain_seconds = best_of(plain, 3) / repeats
    row = {
        "cells": cells,
        "fields_us": best_of(evaluate_fields, 3) / repeats * 1e6,
        "matvecs_us": matvec_seconds * 1e6,
        "matvec_gflops": 3 * 2 * cells * 96 / matvec_seconds / 1e9,
        "plain_blas_gflops": 2 * cells * 96 / plain_seconds / 1e9,
    }
    for scheme in ("upwind", "muscl"):
        stepper = Stepper(model, scheme, "mc", 0.9, np.inf)

        def steps(stepper=stepper):
            for _ in range(repeats):
                stepper.step(tau_plus, tau_minus, fields, 1e-3)

        row[f"{scheme}_step_us"] = best_of(steps, 3) / repeats * 1e6
    return row


def paper_run() -> dict:
    tracemalloc.start()
    start = time.perf_counter()
    run = solve(PAPER, 3000.0, 1024, store_fields=False)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds": seconds,
        "kernel_seconds": run.attrs["kernel_build_seconds"],
        "steps": int(run.attrs["steps"]),
        "peak_traced_mb": peak / 2**20,
        "mass_plus": float(run.mass_plus[-1]),
    }


def particle_steps(quick: bool) -> list[dict]:
    """Time one step of each baseline; the difference of 40 and 20 steps removes
    the set-up (kernel tables, sampling) from the figure."""
    rows = []
    for m in [256, 1024] if quick else [256, 1024, 4096, 16384]:
        row = {"m": m}
        runners = {
            "reduced": lambda n, m=m: simulate_deterministic(
                PAPER, 0.05 * n, m=m, dt=0.05, saves=2
            ),
            "faithful": lambda n, m=m: simulate_faithful(
                PAPER, steps=n, m=m, samples=1000, saves=2
            ),
            "network": lambda n, m=m: simulate_network(
                PAPER,
                0.01 * n,
                m=m,
                eta=0.01,
                batch=1024,
                saves=2,
                eval_samples=10_000,
            ),
        }
        for name, runner in runners.items():
            # Best of three: one run each was at the mercy of other jobs.
            long = best_of(lambda r=runner: r(40), 3)
            short = best_of(lambda r=runner: r(20), 3)
            row[f"{name}_step_ms"] = max(long - short, 0.0) / 20 * 1e3
        rows.append(row)
    return rows


def step_milliseconds(value: float) -> str:
    """Format a step time; below 0.5 ms the difference of two runs is noise."""
    return f"{value:.1f}" if value >= 0.5 else "< 0.5"


def errors(reference, run) -> tuple[float, float]:
    """Return the relative mass error and the W2 error of tau_plus at the end."""
    result = compare(reference, run, rtol=1e-3).isel(time=-1)
    return float(result.mass_plus_relative_error), float(result.w2_plus)


def accuracy_race(quick: bool, t: float) -> dict:
    """Wall time of each method to reach TARGET at time t, against a reference."""
    save = [0.0, t]
    reference = solve(PAPER, t, 2048, scheme="muscl", dt_max=0.02, save_times=save)
    race: dict[str, list[dict]] = {"pde_muscl": [], "reduced": [], "faithful": []}

    for cells in [16, 32, 64, 128, 256]:
        start = time.perf_counter()
        run = solve(PAPER, t, cells, scheme="muscl", dt_max=0.25, save_times=save)
        seconds = time.perf_counter() - start
        mass_error, w2 = errors(reference, run)
        race["pde_muscl"].append(
            {"cells": cells, "seconds": seconds, "mass_error": mass_error, "w2": w2}
        )
        if max(mass_error, w2) < TARGET:
            break

    for m in [24, 50, 100, 200] if quick else [24, 50, 100, 200, 400]:
        start = time.perf_counter()
        run = simulate_deterministic(PAPER, t, m=m, save_times=np.array(save))
        seconds = time.perf_counter() - start
        mass_error, w2 = errors(reference, run)
        race["reduced"].append(
            {"m": m, "seconds": seconds, "mass_error": mass_error, "w2": w2}
        )
        if max(mass_error, w2) < TARGET:
            break

    steps = int(round(t / (PAPER.d * 5e-3)))
    for m in [256, 1024]:
        for seed in range(1 if quick else 3):
            start = time.perf_counter()
            run = simulate_faithful(
                PAPER,
                steps=steps,
                m=m,
                samples=1000,
                seed=seed,
                save_steps=np.array([0, steps]),
            )
            seconds = time.perf_counter() - start
            mass_error, w2 = errors(reference, run)
            race["faithful"].append(
                {
                    "m": m,
                    "seed": seed,
                    "seconds": seconds,
                    "mass_error": mass_error,
                    "w2": w2,
                }
            )
    return race


def scaling(quick: bool) -> dict:
    result: dict[str, list] = {"cells": [], "d": [], "t_end": []}
    for cells in [128, 512, 2048] if quick else [128, 512, 2048, 8192]:
        start = time.perf_counter()
        solve(PAPER, 100.0, cells, saves=10, store_fields=False)
        result["cells"].append([cells, time.perf_counter() - start])
    for d in [10, 30, 100, 300] if quick else [10, 30, 100, 300, 1000]:
        start = time.perf_counter()
        solve(Problem(d, 5), 100.0, 512, saves=10, store_fields=False)
        result["d"].append([d, time.perf_counter() - start])
    for t_end in [10.0, 100.0, 1000.0] if quick else [10.0, 100.0, 1e3, 1e4, 1e5]:
        start = time.perf_counter()
        solve(PAPER, t_end, 512, saves=10, store_fields=False)
        result["t_end"].append([t_end, time.perf_counter() - start])
    return result


def plot(report: dict, path: Path) -> None:
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
    for key, label in [
        ("cells", "cells"),
        ("d", "input dimension d"),
        ("t_end", "final time t_end (dimensionless)"),
    ]:
        axis = axes[["cells", "d", "t_end"].index(key)]
        values = np.array(report["scaling"][key])
        axis.loglog(values[:, 0], values[:, 1], "o-")
        axis.set_xlabel(label)
        axis.set_ylabel("wall time of a run (s)")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_title("d = 30, d_H = 5, t_end = 100")
    axes[1].set_title("d_H = 5, 512 cells, t_end = 100")
    axes[2].set_title("d = 30, d_H = 5, 512 cells")
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _cheapest(entries: list[dict]) -> dict | None:
    """Return the first entry that reaches TARGET in mass and W2, or None."""
    for entry in entries:
        if max(entry["mass_error"], entry["w2"]) < TARGET:
            return entry
    return None


def markdown(report: dict) -> str:
    """Format a benchmark report as the Markdown tables of docs/benchmarks.md."""
    parts = [f"Machine: {report['machine']}.", "", "### Kernel tables", ""]
    parts.append(
        _table(
            ["d", "d_H", "cells", "n_phi", "build time (s)"],
            [
                [r["d"], r["d_H"], r["cells"], r["n_phi"], f"{r['seconds']:.3f}"]
                for r in report["kernel_builds"]
            ],
        )
    )
    parts += ["", "### One time step (d = 30, d_H = 5, 96 phi nodes)", ""]
    parts.append(
        _table(
            [
                "cells",
                "fields (us)",
                "of which mat-vecs (us)",
                "mat-vec GFLOP/s",
                "plain BLAS GFLOP/s, 1 thread",
                "plain BLAS GFLOP/s, default threads",
                "upwind step (us)",
                "MUSCL step (us)",
            ],
            [
                [
                    r["cells"],
                    f"{r['fields_us']:.1f}",
                    f"{r['matvecs_us']:.1f}",
                    f"{r['matvec_gflops']:.2f}",
                    f"{r['plain_blas_gflops']:.2f}",
                    f"{r.get('plain_blas_default_threads_gflops', float('nan')):.2f}",
                    f"{r['upwind_step_us']:.1f}",
                    f"{r['muscl_step_us']:.1f}",
                ]
                for r in report["step_times"]
            ],
        )
    )
    paper = report["paper_run"]
    parts += [
        "",
        "### The paper's configuration",
        "",
        f"d = 30, d_H = 5, 1024 cells, upwind, t = 3000: "
        f"{paper['seconds']:.2f} s in all, {paper['kernel_seconds']:.2f} s of "
        f"it for the kernel tables, {paper['steps']} steps, peak traced "
        f"memory {paper['peak_traced_mb']:.1f} MB.",
        "",
        "### One step of each particle baseline (d = 30, d_H = 5)",
        "",
    ]
    parts.append(
        _table(
            [
                "m",
                "reduced, RK4 (ms)",
                "faithful, N = 1000 (ms)",
                "network, batch 1024 (ms)",
            ],
            [
                [
                    r["m"],
                    step_milliseconds(r["reduced_step_ms"]),
                    step_milliseconds(r["faithful_step_ms"]),
                    step_milliseconds(r["network_step_ms"]),
                ]
                for r in report["particle_steps"]
            ],
        )
    )
    race = report["accuracy_race"]
    parts += [
        "",
        f"### Cost of reaching a relative mass error and a W2 error below {TARGET:g}",
        "",
    ]
    rows = []
    for name, key in [
        ("PDE, MUSCL", "cells"),
        ("reduced particles", "m"),
        ("paper's Monte-Carlo scheme", "m"),
    ]:
        entries = race[
            {
                "PDE, MUSCL": "pde_muscl",
                "reduced particles": "reduced",
                "paper's Monte-Carlo scheme": "faithful",
            }[name]
        ]
        for entry in entries:
            rows.append(
                [
                    name,
                    f"{key} = {entry[key]}",
                    f"{entry['seconds']:.3f}",
                    f"{entry['mass_error']:.2e}",
                    f"{entry['w2']:.2e}",
                ]
            )
    parts.append(
        _table(
            [
                "method",
                "resolution",
                "wall time (s)",
                "relative mass error",
                "W2 error (rad)",
            ],
            rows,
        )
    )
    return "\n".join(parts) + "\n"


def main() -> None:
    # Parameters
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--out-dir", type=Path, default=Path("benchmarks/output"))
    parser.add_argument(
        "--from-json", type=Path, help="only format the tables of an earlier report"
    )
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.from_json:
        print(markdown(json.loads(args.from_json.read_text())))
        return

    # Measure
    report = {
        "machine": f"{platform.processor() or platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"numpy {np.__version__}",
        "kernel_builds": kernel_builds(args.quick),
        "step_times": step_times(args.quick),
        "paper_run": paper_run(),
        "particle_steps": particle_steps(args.quick),
        "accuracy_race": accuracy_race(args.quick, 5.0 if args.quick else 10.0),
        "scaling": scaling(args.quick),
    }

    # Plot and report
    plot(report, args.out_dir / "benchmarks.png")
    (args.out_dir / "benchmarks.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out_dir / "benchmarks.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
