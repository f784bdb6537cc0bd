"""Cross-validate the PDE solver against reduced particles and finite networks.

For (d, d_H) = (6, 2) and (30, 5): the PDE with its time step bounded and
extrapolated to dt -> 0 (its splitting is first order in time) against
deterministic reduced particles, against trained networks of several widths m
(several seeds each), and, for (6, 2), against the Monte-Carlo Euler scheme of
Hajjar and Chizat (2023) to settle its time per step. Writes figures and
cross_validate.json into --out-dir.

    python validation/cross_validate.py --quick      # about 30 seconds
    python validation/cross_validate.py               # about 20 minutes on 2 cores
"""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _common import parse_arguments, write_json  # noqa: E402

import pdeflow  # noqa: E402
from pdeflow.comparison import compare, plot_comparison  # noqa: E402
from pdeflow.particles import (  # noqa: E402
    simulate_deterministic,
    simulate_faithful,
    simulate_network,
)

# --- parameters -------------------------------------------------------------

FULL = {
    "cases": {
        "6_2": {
            "d": 6,
            "d_H": 2,
            "t_end": 8.0,
            "widths": [256, 512, 1024, 2048, 4096],
            "seeds": 12,
        },
        "30_5": {
            "d": 30,
            "d_H": 5,
            "t_end": 4.0,
            "widths": [256, 1024, 4096],
            "seeds": 8,
        },
    },
    "pde_cells": 512,
    "pde_dt_max": 0.01,
    "reduced_m": 4000,
    "reduced_dt": 0.02,
    "network_eta": 0.02,
    "network_batch": 1024,
    "faithful": {"m": 1024, "samples": 1000, "eta": 2e-3, "steps": 300, "seeds": 3},
    "saves": 9,
}
QUICK = {
    "cases": {
        "6_2": {"d": 6, "d_H": 2, "t_end": 2.0, "widths": [128, 512], "seeds": 3},
        "30_5": {"d": 30, "d_H": 5, "t_end": 1.0, "widths": [128, 512], "seeds": 2},
    },
    "pde_cells": 128,
    "pde_dt_max": 0.02,
    "reduced_m": 400,
    "reduced_dt": 0.05,
    "network_eta": 0.05,
    "network_batch": 512,
    "faithful": {"m": 256, "samples": 400, "eta": 2e-3, "steps": 100, "seeds": 2},
    "saves": 5,
}
TABLES = {"n_phi": 64, "table_cells": 1024}


# --- problem ----------------------------------------------------------------


def reference_pde(problem, t_end, times, cells, dt_max):
    """PDE at dt_max and dt_max / 2, Richardson-extrapolated in dt."""
    coarse = pdeflow.solve(problem, t_end, cells=cells, save_times=times, dt_max=dt_max)
    fine = pdeflow.solve(
        problem, t_end, cells=cells, save_times=times, dt_max=dt_max / 2
    )
    extrapolated = fine.copy(deep=True)
    for name in (
        "mass_plus",
        "mass_minus",
        "loss",
        "tau_plus",
        "tau_minus",
        "predictor",
    ):
        extrapolated[name] = 2.0 * fine[name] - coarse[name]
    step_error = np.abs(fine.mass_plus.values - coarse.mass_plus.values)
    return extrapolated, step_error


# --- solve ------------------------------------------------------------------


def solve_case(settings, case):
    problem = pdeflow.Problem(case["d"], case["d_H"])
    t_end = case["t_end"]
    times = np.linspace(0.0, t_end, settings["saves"])
    start = time.perf_counter()
    pde, pde_step_error = reference_pde(
        problem, t_end, times, settings["pde_cells"], settings["pde_dt_max"]
    )
    reduced = simulate_deterministic(
        problem,
        t_end,
        m=settings["reduced_m"],
        dt=settings["reduced_dt"],
        save_times=times,
        **TABLES,
    )
    networks = {}
    for m in case["widths"]:
        networks[m] = [
            simulate_network(
                problem,
                t_end,
                m=m,
                eta=settings["network_eta"],
                batch=settings["network_batch"],
                seed=seed,
                eval_samples=20000,
                save_times=times,
                **TABLES,
            )
            for seed in range(case["seeds"])
        ]
    seconds = time.perf_counter() - start
    return problem, pde, pde_step_error, reduced, networks, seconds


def solve_faithful(settings):
    problem = pdeflow.Problem(6, 2)
    options = settings["faithful"]
    every = max(options["steps"] // 6, 1)
    save_steps = np.arange(0, options["steps"] + 1, every)
    runs = [
        simulate_faithful(
            problem,
            options["steps"],
            m=options["m"],
            samples=options["samples"],
            eta=options["eta"],
            seed=seed,
            save_steps=save_steps,
            **TABLES,
        )
        for seed in range(options["seeds"])
    ]
    flow_times = runs[0].time.values  # step * d * eta
    naive_times = runs[0].steps.values * options["eta"]  # step * eta
    t_end = float(flow_times[-1])
    pde, _ = reference_pde(
        problem,
        t_end,
        np.unique(np.concatenate([flow_times, naive_times])),
        settings["pde_cells"],
        settings["pde_dt_max"],
    )
    return problem, runs, flow_times, naive_times, pde


# --- measure ----------------------------------------------------------------


def measure_case(pde, pde_step_error, reduced, networks):
    reduced_vs_pde = compare(pde, reduced)
    result = {
        "times": pde.time.values.tolist(),
        "pde_mass_plus": pde.mass_plus.values.tolist(),
        "pde_mass_minus": pde.mass_minus.values.tolist(),
        "pde_dt_step_error_mass_plus": pde_step_error.tolist(),
        "reduced_mass_plus_relative_error": (
            reduced_vs_pde.mass_plus_relative_error.values.tolist()
        ),
        "reduced_mass_minus_relative_error": (
            reduced_vs_pde.mass_minus_relative_error.values.tolist()
        ),
        "reduced_w2_plus": reduced_vs_pde.w2_plus.values.tolist(),
        "networks": {},
    }
    for m, runs in networks.items():
        masses = np.array([run.mass_plus.values for run in runs])
        mean = masses.mean(axis=0)
        sd = masses.std(axis=0, ddof=1)
        standard_error = sd / np.sqrt(masses.shape[0])
        gap = np.abs(mean - pde.mass_plus.values)
        rms = np.sqrt(np.mean((masses - pde.mass_plus.values) ** 2, axis=0))
        result["networks"][str(m)] = {
            "seeds": masses.shape[0],
            "mass_plus_mean": mean.tolist(),
            "mass_plus_sd": sd.tolist(),
            "mass_plus_standard_error": standard_error.tolist(),
            "mean_minus_pde_in_standard_errors": (
                gap[1:] / standard_error[1:]
            ).tolist(),
            "rms_error_mass_plus": rms.tolist(),
            "loss_mean": np.mean([run.loss.values for run in runs], axis=0).tolist(),
        }
    widths = sorted(networks)
    final_errors = [
        np.array([run.mass_plus.values[-1] for run in networks[m]])
        - pde.mass_plus.values[-1]
        for m in widths
    ]
    slope, intercept = rms_slope(widths, final_errors)
    result["rms_error_slope_vs_m"] = slope
    result["rms_error_intercept"] = intercept
    result["rms_error_slope_bootstrap_sd"] = bootstrap_slope_sd(widths, final_errors)
    return result


def rms_slope(widths, errors):
    """Fit log RMS error = intercept + slope log m (errors[k]: one per seed)."""
    rms = [np.sqrt(np.mean(e**2)) for e in errors]
    slope, intercept = np.polyfit(np.log(widths), np.log(rms), 1)
    return float(slope), float(intercept)


def bootstrap_slope_sd(widths, errors, resamples=2000):
    """Spread of the fitted slope when the seeds of each width are resampled.

    With a handful of seeds per width each RMS error is itself uncertain by
    about 1 / sqrt(2 x seeds), and this spread measures the effect on the slope.
    """
    rng = np.random.default_rng(0)
    slopes = [
        rms_slope(widths, [rng.choice(e, size=e.size) for e in errors])[0]
        for _ in range(resamples)
    ]
    return float(np.std(slopes, ddof=1))


def measure_faithful(runs, flow_times, naive_times, pde):
    masses = np.array([run.mass_plus.values for run in runs])
    mean, sd = masses.mean(axis=0), masses.std(axis=0, ddof=1)
    at = lambda t: np.interp(t, pde.time.values, pde.mass_plus.values)  # noqa: E731
    return {
        "steps": runs[0].steps.values.tolist(),
        "flow_time_d_eta": flow_times.tolist(),
        "particles_mass_plus_mean": mean.tolist(),
        "particles_mass_plus_standard_error": (sd / np.sqrt(len(runs))).tolist(),
        "pde_mass_plus_at_step_d_eta": at(flow_times).tolist(),
        "pde_mass_plus_at_step_eta": at(naive_times).tolist(),
    }


# --- plot -------------------------------------------------------------------


def plot_case(name, pde, reduced, networks, result, out_dir):
    plot_comparison(
        pde,
        reduced,
        out_dir / f"{name}_pde_vs_reduced.png",
        labels=("PDE", f"reduced particles m={reduced.attrs['m']}"),
    )
    widest = max(networks)
    plot_comparison(
        pde,
        networks[widest][0],
        out_dir / f"{name}_pde_vs_network.png",
        labels=("PDE", f"network m={widest}, seed 0"),
    )

    plot_error_vs_width(result, out_dir / f"{name}_error_vs_width.png")


def plot_error_vs_width(result, path):
    """Draw the RMS error of the networks' mass_plus at the last time against m."""
    widths = np.array(sorted(int(m) for m in result["networks"]))
    rms = [result["networks"][str(m)]["rms_error_mass_plus"][-1] for m in widths]
    slope = result["rms_error_slope_vs_m"]
    fit = np.exp(result["rms_error_intercept"]) * widths.astype(float) ** slope
    # The reference m^(-1/2) passes through the geometric mean of the points.
    middle = np.exp(np.mean(np.log(rms)) + 0.5 * np.mean(np.log(widths)))

    figure, axis = plt.subplots(figsize=(5.5, 4), constrained_layout=True)
    axis.loglog(widths, rms, "o", label="networks, RMS over seeds")
    spread = result["rms_error_slope_bootstrap_sd"]
    axis.loglog(widths, fit, "--", label=f"fit, slope {slope:.2f} ± {spread:.2f}")
    axis.loglog(widths, middle * widths**-0.5, ":", color="grey", label="m^(-1/2)")
    axis.set_xticks(widths, [str(m) for m in widths])
    axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axis.set_xlabel("width m (neurons)")
    t_last = result["times"][-1]
    axis.set_ylabel(f"RMS of mass_plus - PDE at t = {t_last:g} (dimensionless)")
    axis.legend()
    figure.savefig(path, dpi=120)
    plt.close(figure)


# --- report -----------------------------------------------------------------


def main() -> None:
    arguments = parse_arguments(__doc__)
    settings = QUICK if arguments.quick else FULL
    out_dir = arguments.out_dir
    results = {"quick": arguments.quick, "settings": settings, "cases": {}}

    for name, case in settings["cases"].items():
        problem, pde, step_error, reduced, networks, seconds = solve_case(
            settings, case
        )
        result = measure_case(pde, step_error, reduced, networks)
        result["wall_seconds"] = seconds
        plot_case(name, pde, reduced, networks, result, out_dir)
        results["cases"][name] = result
        print(f"(d, d_H) = ({problem.d}, {problem.d_H}) in {seconds:.0f} s")
        print(
            f"  reduced particles, max relative mass_plus error: "
            f"{max(result['reduced_mass_plus_relative_error']):.2e}"
        )
        for m, network in result["networks"].items():
            print(
                f"  network m={m}: |mean - PDE| / SE = "
                f"{np.round(network['mean_minus_pde_in_standard_errors'], 2)}"
            )
        print(
            f"  slope of RMS error vs m: {result['rms_error_slope_vs_m']:.2f} "
            f"(bootstrap sd {result['rms_error_slope_bootstrap_sd']:.2f})"
        )

    problem, runs, flow_times, naive_times, pde = solve_faithful(settings)
    results["faithful_time_scale"] = measure_faithful(
        runs, flow_times, naive_times, pde
    )
    print("faithful scheme, mass_plus (particles, PDE at step*d*eta, PDE at step*eta):")
    faithful = results["faithful_time_scale"]
    for row in zip(
        faithful["particles_mass_plus_mean"],
        faithful["pde_mass_plus_at_step_d_eta"],
        faithful["pde_mass_plus_at_step_eta"],
        strict=True,
    ):
        print("  " + "  ".join(f"{value:.4f}" for value in row))

    write_json(out_dir / "cross_validate.json", results)
    print(f"wrote {out_dir / 'cross_validate.json'}")


if __name__ == "__main__":
    main()
