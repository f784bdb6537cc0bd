"""Figure 1 of Hajjar and Chizat (2023): a ReLU network on an odd target is linear.

For an odd target the mean-field predictor stays odd, and since
relu(z) - relu(-z) = z an odd two-layer ReLU network equals the linear map
x -> <w, x> with w = (1/2) int a b dmu = (1/(2m)) sum_j a_j b_j. The weights w(t)
do not follow gradient descent on the linear least-squares loss
Q(w) = (1/2) E[(f*(x) - <w, x>)^2], but w' = -H(t) grad Q(w) with
H = (1/4)(mean_j a_j^2 I + mean_j b_j b_j^T), so Q(w(t)) - Q(w*) still decays
exponentially, at a rate of at least 2 lambda_min(H) lambda_min(E[x x^T]).

Setup: d = 5, target f*(x) = <w0, x> + c <v, x>^3, inputs a fixed sample of
unit vectors closed under x -> -x (the result holds for any input law, the
empirical one included, and the closure keeps the finite network exactly odd).
The network starts from m/2 neurons (a_j = +-1, b_j uniform on the sphere)
and their negatives (-a_j, -b_j), and takes full-batch gradient steps of size
eta = 1e-2 in the mean-field time of ``pdeflow.particles.network.Network``.
The linear model takes gradient steps on Q from the same w(0).

Usage: python validation/odd_target.py [--quick] [--out-dir DIR]

Writes odd_target.png and odd_target.json (paths of w, fitted decay rates,
bounds, linearity check) into the output folder.
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
from _common import parse_arguments, write_json  # noqa: E402

from pdeflow import Problem  # noqa: E402
from pdeflow.particles.backends import make_backend  # noqa: E402
from pdeflow.particles.network import Network  # noqa: E402


def fit_rate(times: np.ndarray, gap: np.ndarray, window: np.ndarray) -> float:
    """Fit r in gap ~ exp(-r t) over the saves in the window with gap > 1e-24.

    Below about 1e-24 the excess loss of w sits at round-off.
    """
    keep = window & (gap > 1e-24)
    if keep.sum() < 3:
        return float("nan")
    return float(-np.polyfit(times[keep], np.log(gap[keep]), 1)[0])


def main() -> None:
    # Parameters
    args = parse_arguments(__doc__)
    if args.quick:
        m, pairs, t_end = 128, 200, 60.0
    else:
        m, pairs, t_end = 1024, 500, 100.0
    d, eta, seed, record_every = 5, 1e-2, 0, 10
    w0 = np.array([1.0, -0.6, 0.3, 0.0, 0.0])
    v = np.array([1.0, 0.0, 1.0, 0.0, 0.0]) / np.sqrt(2.0)
    c = 2.0

    # Problem: the fixed input sample, its covariance and the least-squares w*.
    rng = np.random.default_rng(seed + 1)
    half = rng.standard_normal((pairs, d))
    half /= np.linalg.norm(half, axis=1, keepdims=True)
    x = np.concatenate([half, -half])
    target = x @ w0 + c * (x @ v) ** 3
    covariance = x.T @ x / x.shape[0]
    moment = x.T @ target / x.shape[0]
    w_star = np.linalg.solve(covariance, moment)
    eigen = np.linalg.eigvalsh(covariance)

    def excess_loss(w: np.ndarray) -> float:
        difference = w - w_star
        return 0.5 * float(difference @ covariance @ difference)

    # Solve: the network (only d is read from the Problem: targets come from here).
    start = time.perf_counter()
    network = Network(Problem(d=d, d_H=1), m, make_backend("numpy", "float64", seed), m)
    a = network.a[: m // 2].copy()
    b = network.b[: m // 2].copy()
    network.a = np.concatenate([a, -a])
    network.b = np.concatenate([b, -b])
    steps = int(round(t_end / eta))
    w_network, h_min = [], []
    for step in range(steps + 1):
        if step % record_every == 0:
            w_network.append(network.a @ network.b / (2 * m))
            h = 0.25 * (np.mean(network.a**2) * np.eye(d) + network.b.T @ network.b / m)
            h_min.append(np.linalg.eigvalsh(h)[0])
        if step < steps:
            network.step(eta, x, target)
    w_network = np.array(w_network)
    linearity_error = float(np.max(np.abs(network.output(x) - x @ w_network[-1])))

    # Solve: gradient descent on Q from the same w(0), same step and time.
    w = w_network[0].copy()
    w_linear = []
    for step in range(steps + 1):
        if step % record_every == 0:
            w_linear.append(w.copy())
        w = w - eta * (covariance @ w - moment)
    w_linear = np.array(w_linear)
    seconds = time.perf_counter() - start

    # Measure: decay of Q - Q(w*) and its fitted rates against the bounds.
    times = np.arange(w_network.shape[0]) * record_every * eta
    gap_network = np.array([excess_loss(w) for w in w_network])
    gap_linear = np.array([excess_loss(w) for w in w_linear])
    # The fit uses the second half of the run, where the slowest mode of
    # the linear model dominates and H(t) of the network has settled.
    window = times >= t_end / 2
    rate_network = fit_rate(times, gap_network, window)
    rate_linear = fit_rate(times, gap_linear, window)
    h_min = np.array(h_min)
    bound_network = 2.0 * float(h_min[window].min()) * float(eigen[0])
    path_distance = float(np.max(np.linalg.norm(w_network - w_linear, axis=1)))
    # Distance between the two paths as curves, whatever the time along them:
    # max over the network path of the distance to the nearest linear point.
    pairwise = np.linalg.norm(w_network[:, None, :] - w_linear[None, :, :], axis=2)
    path_gap = float(pairwise.min(axis=1).max())

    # Plot: paths of two coordinates of w, and Q - Q(w*) against t.
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    axis = axes[0]
    axis.plot(w_network[:, 0], w_network[:, 1], color="C0", label="ReLU network")
    axis.plot(w_linear[:, 0], w_linear[:, 1], color="C1", ls="--", label="linear GD")
    axis.plot(*w_star[:2], "k*", ms=12, label="w*")
    axis.plot(*w_network[0, :2], "ko", ms=5, label="w(0)")
    axis.set_xlabel("w_1")
    axis.set_ylabel("w_2")
    axis.legend(fontsize="small")
    axis = axes[1]
    axis.semilogy(
        times, gap_network, color="C0", label=f"network, rate {rate_network:.3f}"
    )
    axis.semilogy(
        times,
        gap_linear,
        color="C1",
        ls="--",
        label=f"linear GD, rate {rate_linear:.3f}",
    )
    axis.semilogy(
        times,
        gap_network[window][0] * np.exp(-bound_network * (times - t_end / 2)),
        color="grey",
        ls=":",
        label=f"bound exp(-{bound_network:.3f} t)",
    )
    axis.set_xlabel("time t of the gradient flow (dimensionless)")
    axis.set_ylabel("Q(w(t)) - Q(w*)")
    axis.set_ylim(1e-22, None)
    axis.legend(fontsize="small")
    figure.savefig(args.out_dir / "odd_target.png", dpi=100)
    plt.close(figure)

    # Report
    report = {
        "d": d,
        "m": m,
        "eta": eta,
        "inputs": 2 * pairs,
        "t_end": t_end,
        "w_star": w_star.tolist(),
        "covariance_eigenvalues": eigen.tolist(),
        "rate_network": rate_network,
        "rate_linear": rate_linear,
        "rate_linear_bounds": [2.0 * float(eigen[0]), 2.0 * float(eigen[-1])],
        "h_min_initial": float(h_min[0]),
        "h_min_in_fit_window": float(h_min[window].min()),
        "rate_network_bound": bound_network,
        "gap_final_network": float(gap_network[-1]),
        "gap_final_linear": float(gap_linear[-1]),
        "max_path_distance": path_distance,
        "max_path_gap": path_gap,
        "linearity_error": linearity_error,
        "times": times.tolist(),
        "w_network": w_network.tolist(),
        "w_linear": w_linear.tolist(),
        "wall_seconds": seconds,
    }
    write_json(args.out_dir / "odd_target.json", report)
    print(f"max |f(x) - <w, x>| over the inputs: {linearity_error:.2e}")
    print(
        f"rates over t >= {t_end / 2:g}: network {rate_network:.4f} (bound "
        f"{bound_network:.4f}), linear GD {rate_linear:.4f} (between "
        f"2 lambda_min = {2 * eigen[0]:.4f} and 2 lambda_max = {2 * eigen[-1]:.4f})"
    )
    print(
        f"max distance between w(t) of the two models {path_distance:.4f}, "
        f"between the paths as curves {path_gap:.4f}; |w*| = "
        f"{np.linalg.norm(w_star):.4f}"
    )
    print(f"wall time {seconds:.1f} s; wrote {args.out_dir}/odd_target.png and .json")


if __name__ == "__main__":
    main()
