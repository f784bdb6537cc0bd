"""Invariance of the learned predictor under an orthogonal symmetry of the target.

Hajjar and Chizat (2023) prove that when the target f* and the input law are
invariant under an orthogonal map T, the mean-field gradient flow keeps the
predictor invariant: f(mu_t; T x) = f(mu_t; x). A finite network breaks this
only through its random initial neurons, whose empirical measure is invariant
up to fluctuations of order m^(-1/2). This script trains networks of several
widths on f*(x) = relu(x_1) + relu(x_2) in d = 10, invariant under the swap
T of the first two coordinates, and measures max |f(T x) - f(x)| over held-out
unit inputs against m, with several seeds, and fits its slope on log-log axes.

Each step draws fresh unit inputs and adds their images under T, so every
batch loss is itself invariant under T and the sampling noise of the steps
does not break the symmetry. Steps follow ``pdeflow.particles.network.Network``
(step eta is mean-field time eta).

Usage: python validation/invariance.py [--quick] [--out-dir DIR]

Writes invariance.png and invariance.json into the output folder.
"""

from __future__ import annotations

import os

# One BLAS thread: these products are small, and on a loaded 2-core machine
# several BLAS threads made a network step about 10 times slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _common import (  # noqa: E402
    loglog_slope,
    mean_and_spread,
    parse_arguments,
    write_json,  # noqa: E402
)

from pdeflow import Problem  # noqa: E402
from pdeflow.particles.backends import make_backend  # noqa: E402
from pdeflow.particles.network import Network  # noqa: E402


def swap(x: np.ndarray) -> np.ndarray:
    """Apply T, the swap of the first two coordinates, to inputs of shape (n, d)."""
    return x[:, [1, 0, *range(2, x.shape[1])]]


def target(x: np.ndarray) -> np.ndarray:
    """Evaluate f*(x) = relu(x_1) + relu(x_2), invariant under ``swap``."""
    return np.maximum(x[:, 0], 0.0) + np.maximum(x[:, 1], 0.0)


def asymmetry(network: Network, x: np.ndarray) -> float:
    """Return max over the inputs of |f(T x) - f(x)|."""
    return float(np.max(np.abs(network.output(swap(x)) - network.output(x))))


def main() -> None:
    # Parameters
    args = parse_arguments(__doc__)
    if args.quick:
        widths, seeds, t_end = [32, 128, 512], 3, 5.0
    else:
        widths, seeds, t_end = [64, 256, 1024, 4096], 4, 20.0
    d, eta, batch, test_size = 10, 0.02, 256, 2000

    # Problem: held-out unit inputs.
    rng = np.random.default_rng(2024)
    x_test = rng.standard_normal((test_size, d))
    x_test /= np.linalg.norm(x_test, axis=1, keepdims=True)
    steps = int(round(t_end / eta))

    # Solve: train each width and seed, measuring at t = 0 and t = t_end.
    start = time.perf_counter()
    results = {}
    for m in widths:
        initial, final, losses = [], [], []
        for seed in range(seeds):
            backend = make_backend("numpy", "float64", seed)
            # Only d is read from the Problem: the targets come from ``target``.
            network = Network(Problem(d=d, d_H=1), m, backend, m)
            initial.append(asymmetry(network, x_test))
            for _ in range(steps):
                x = backend.normal((batch, d))
                x /= np.linalg.norm(x, axis=1, keepdims=True)
                x = np.concatenate([x, swap(x)])
                network.step(eta, x, target(x))
            final.append(asymmetry(network, x_test))
            residual = target(x_test) - network.output(x_test)
            losses.append(0.5 * float(np.mean(residual**2)))
        results[m] = {"initial": initial, "final": final, "loss": losses}
        print(
            f"m = {m:5d}: max |f(Tx) - f(x)| at t = 0: {np.mean(initial):.4f}, "
            f"at t = {t_end:g}: {np.mean(final):.4f}; held-out loss "
            f"{np.mean(losses):.4f}"
        )
    seconds = time.perf_counter() - start

    # Measure: slopes of the mean asymmetry against m on log-log axes.
    mean_initial = [np.mean(results[m]["initial"]) for m in widths]
    mean_final = [np.mean(results[m]["final"]) for m in widths]
    slope_initial = loglog_slope(np.array(widths), np.array(mean_initial))
    slope_final = loglog_slope(np.array(widths), np.array(mean_final))
    loss_at_zero = 0.5 * float(np.mean(target(x_test) ** 2))

    # Plot
    figure, axis = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    for key, colour, label in (
        ("initial", "C0", f"t = 0, slope {slope_initial:.2f}"),
        ("final", "C1", f"t = {t_end:g}, slope {slope_final:.2f}"),
    ):
        for m in widths:
            axis.loglog([m] * seeds, results[m][key], ".", color=colour, alpha=0.5)
        means = [np.mean(results[m][key]) for m in widths]
        axis.loglog(widths, means, "o-", color=colour, label=label)
    reference = mean_final[0] * (np.array(widths) / widths[0]) ** -0.5
    axis.loglog(widths, reference, "k:", label="m^(-1/2)")
    axis.set_xlabel("width m")
    axis.set_ylabel("max over test inputs of |f(Tx) - f(x)|")
    axis.legend(fontsize="small")
    axis.grid(True, which="both", alpha=0.3)
    figure.savefig(args.out_dir / "invariance.png", dpi=100)
    plt.close(figure)

    # Report
    report = {
        "d": d,
        "eta": eta,
        "batch": 2 * batch,
        "t_end": t_end,
        "test_inputs": test_size,
        "widths": widths,
        "seeds": seeds,
        "by_width": {
            str(m): {
                "initial": mean_and_spread(results[m]["initial"]),
                "final": mean_and_spread(results[m]["final"]),
                "held_out_loss": mean_and_spread(results[m]["loss"]),
            }
            for m in widths
        },
        "held_out_loss_of_zero_predictor": loss_at_zero,
        "slope_initial": slope_initial,
        "slope_final": slope_final,
        "wall_seconds": seconds,
    }
    write_json(args.out_dir / "invariance.json", report)
    print(
        f"slopes of log max |f(Tx) - f(x)| against log m: t = 0: "
        f"{slope_initial:.3f}, t = {t_end:g}: {slope_final:.3f}"
    )
    print(f"wall time {seconds:.1f} s; wrote {args.out_dir}/invariance.png and .json")


if __name__ == "__main__":
    main()
