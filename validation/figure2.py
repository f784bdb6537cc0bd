"""Figure 2 of Hajjar and Chizat (2023): the predictor along a ray leaving H.

d = 20, d_H = 5, target f*(x) = ||x_H||. For a unit u_H in H and a unit e_perp
orthogonal to H, the predictor f(mu_t; u_H + r e_perp) depends on r at finite
times even though the target equals 1 on the whole ray. The PDE gives it as
sqrt(1 + r^2) F(arctan r) by positive homogeneity, with F the predictor on
unit inputs at angle phi to H (the dataset variable ``predictor``, here
interpolated by a cubic spline). A width-1024 network trained by gradient
descent on 256 fresh inputs per step gives it directly; one step of size eta
is flow time eta, as in ``pdeflow.particles.simulate_network``.

Usage: python validation/figure2.py [--quick] [--out-dir DIR]

Writes figure2.png and figure2.json (the curves, their spread over r and the
PDE-network gap per time) into the output folder.
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
from _common import mean_and_spread, parse_arguments, write_json  # noqa: E402
from scipy.interpolate import CubicSpline  # noqa: E402

from pdeflow import Problem, solve  # noqa: E402
from pdeflow.particles.backends import make_backend  # noqa: E402
from pdeflow.particles.network import Network  # noqa: E402


def ray_points(d: int, d_H: int, radii: np.ndarray, seed: int) -> np.ndarray:
    """Return the points u_H + r e_perp, shape (radii, d), for random unit vectors.

    H is spanned by the first d_H coordinates, as in ``pdeflow.particles``.
    """
    rng = np.random.default_rng(seed)
    u_H = np.zeros(d)
    u_H[:d_H] = rng.standard_normal(d_H)
    u_H /= np.linalg.norm(u_H)
    e_perp = np.zeros(d)
    e_perp[d_H:] = rng.standard_normal(d - d_H)
    e_perp /= np.linalg.norm(e_perp)
    return u_H[None, :] + radii[:, None] * e_perp[None, :]


def pde_ray(run, radii: np.ndarray) -> np.ndarray:
    """Evaluate sqrt(1 + r^2) F(arctan r) at every saved time, shape (time, radii)."""
    phi = run.phi.values
    values = []
    for row in run.predictor.values:
        spline = CubicSpline(phi, row)
        values.append(np.sqrt(1.0 + radii**2) * spline(np.arctan(radii)))
    return np.array(values)


def main() -> None:
    # Parameters
    args = parse_arguments(__doc__)
    if args.quick:
        times = np.array([0.0, 1.0, 5.0, 20.0])
        m, seeds, cells = 256, 2, 128
    else:
        times = np.array([0.0, 1.0, 10.0, 30.0, 100.0, 300.0])
        m, seeds, cells = 1024, 3, 512
    batch, eta = 256, 0.02
    radii = np.linspace(0.0, 3.0, 31)

    # Problem
    problem = Problem(d=20, d_H=5)
    points = ray_points(problem.d, problem.d_H, radii, seed=12345)

    # Solve: the PDE, then networks of width m with different seeds.
    start = time.perf_counter()
    pde = solve(
        problem,
        times[-1],
        cells,
        scheme="muscl",
        dt_max=0.5,
        save_times=times,
        store_fields=False,
    )
    pde_values = pde_ray(pde, radii)
    steps = np.rint(times / eta).astype(int)
    network_values = np.zeros((seeds, times.size, radii.size))
    for seed in range(seeds):
        backend = make_backend("numpy", "float64", seed)
        network = Network(problem, m, backend, chunk=m)
        step = 0
        for k, target_step in enumerate(steps):
            while step < target_step:
                network.step(eta, *network.sample_inputs(batch))
                step += 1
            network_values[seed, k] = network.output(points)
    seconds = time.perf_counter() - start

    # Measure: dependence on r (max - min over the ray) and the PDE-network gap.
    pde_spread = pde_values.max(axis=1) - pde_values.min(axis=1)
    network_spread = network_values.max(axis=2) - network_values.min(axis=2)
    gap = np.abs(network_values - pde_values[None]).max(axis=2)
    per_time = [
        {
            "time": float(t),
            "pde_spread_over_r": float(pde_spread[k]),
            "network_spread_over_r": mean_and_spread(network_spread[:, k].tolist()),
            "max_gap_network_pde": mean_and_spread(gap[:, k].tolist()),
            "pde_at_r0": float(pde_values[k, 0]),
            "pde_at_rmax": float(pde_values[k, -1]),
        }
        for k, t in enumerate(times)
    ]

    # Plot: one panel per time, the PDE curve over the network curves.
    size = (3.2 * times.size, 3.4)
    figure, axes = plt.subplots(
        1, times.size, figsize=size, layout="constrained", sharey=True
    )
    for k, axis in enumerate(axes):
        for seed in range(seeds):
            axis.plot(
                radii,
                network_values[seed, k],
                color="C1",
                lw=0.9,
                label=f"network m = {m}" if seed == 0 else None,
            )
        axis.plot(radii, pde_values[k], color="black", lw=2, label="PDE")
        axis.axhline(1.0, color="grey", ls=":", label="target")
        axis.set_title(f"t = {times[k]:g}")
        axis.set_xlabel("distance r to H")
    axes[0].set_ylabel("f(u_H + r e_perp)")
    axes[0].legend(fontsize="x-small")
    figure.savefig(args.out_dir / "figure2.png", dpi=100)
    plt.close(figure)

    # Report
    report = {
        "d": problem.d,
        "d_H": problem.d_H,
        "m": m,
        "batch": batch,
        "eta": eta,
        "seeds": seeds,
        "pde_cells": cells,
        "radii": radii.tolist(),
        "per_time": per_time,
        "pde_curves": pde_values.tolist(),
        "network_curves": network_values.tolist(),
        "wall_seconds": seconds,
    }
    write_json(args.out_dir / "figure2.json", report)
    for row in per_time:
        print(
            f"t = {row['time']:6g}: spread over r PDE {row['pde_spread_over_r']:.4f},"
            f" network {row['network_spread_over_r']['mean']:.4f}"
            f" +- {row['network_spread_over_r']['sd']:.4f};"
            f" max |network - PDE| {row['max_gap_network_pde']['mean']:.4f}"
        )
    print(f"wall time {seconds:.1f} s; wrote {args.out_dir}/figure2.png and .json")


if __name__ == "__main__":
    main()
