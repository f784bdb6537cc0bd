"""Finite-width networks on a GPU: steps per second and agreement with the PDE.

Usage: python benchmarks/gpu_check.py [--quick] [--device cuda:0] [--out-dir DIR]

For d = 30, d_H = 5 it trains networks of width 1e5 and 1e6 in float32 and
float64 with the torch backend up to t = 2 (--quick: widths 256 and 1024 up to
t = 0.2), times the gradient steps alone, and compares mass_plus, mass_minus
and the W2 distance of tau_plus with a MUSCL PDE run at the same times. Without
a GPU it runs on the CPU, which checks the script, not the GPU figures. Writes
gpu_check.json and prints it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pdeflow import Problem, compare, solve
from pdeflow.particles import simulate_network
from pdeflow.particles.backends import make_backend
from pdeflow.particles.network import BLOCK_ELEMENTS, Network

FULL = {"widths": [100_000, 1_000_000], "t_end": 2.0, "batch": 4096}
QUICK = {"widths": [256, 1024], "t_end": 0.2, "batch": 1024}
ETA = 0.01
SAVES = 5
EVAL_SAMPLES = 20_000


def step_rate(problem: Problem, m: int, batch: int, dtype: str, device: str) -> float:
    """Time gradient steps alone, after one warm-up step; returns steps per second.

    The run of ``simulate_network`` also builds kernel tables and evaluates the
    held-out loss, so its wall time overstates the cost of a step.
    """
    import torch

    backend = make_backend("torch", dtype, 0, device)
    network = Network(problem, m, backend, max(1, BLOCK_ELEMENTS // batch))
    x, target = network.sample_inputs(batch)
    network.step(0.01, x, target)
    steps = 10
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        network.step(0.01, x, target)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def main() -> None:
    # Parameters
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small widths only")
    parser.add_argument("--device", default=None, help="torch device (default: auto)")
    parser.add_argument("--out-dir", type=Path, default=Path("benchmarks/output"))
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    settings = QUICK if args.quick else FULL
    widths, t_end, batch = settings["widths"], settings["t_end"], settings["batch"]
    eta = ETA
    save_times = np.linspace(0.0, t_end, SAVES)

    # Problem and reference
    import torch

    device = args.device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    gpu = torch.cuda.get_device_name(device) if device.startswith("cuda") else "none"
    problem = Problem(d=30, d_H=5)
    reference = solve(
        problem, t_end, 1024, scheme="muscl", dt_max=0.01, save_times=save_times
    )

    # Solve and measure
    rows = []
    for m in widths:
        for dtype in ("float32", "float64"):
            start = time.perf_counter()
            run = simulate_network(
                problem,
                t_end,
                m=m,
                eta=eta,
                batch=batch,
                backend="torch",
                dtype=dtype,
                device=device,
                save_times=save_times,
                eval_samples=EVAL_SAMPLES,
            )
            seconds = time.perf_counter() - start
            result = compare(reference, run, rtol=1e-6)
            rows.append(
                {
                    "m": m,
                    "dtype": dtype,
                    "steps_per_second": step_rate(problem, m, batch, dtype, device),
                    "run_seconds": seconds,
                    "max_mass_plus_relative_error": float(
                        result.mass_plus_relative_error.max()
                    ),
                    "max_mass_minus_relative_error": float(
                        result.mass_minus_relative_error.max()
                    ),
                    "max_w2_plus": float(result.w2_plus.max()),
                }
            )
            print(rows[-1], flush=True)

    # Report
    report = {
        "device": device,
        "gpu": gpu,
        "torch": torch.__version__,
        "t_end": t_end,
        "eta": eta,
        "batch": batch,
        "rows": rows,
    }
    (args.out_dir / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
