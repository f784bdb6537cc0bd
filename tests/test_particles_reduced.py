"""Reduced particles: kernel tables, initial layouts, the Monte-Carlo estimator
of the paper's scheme and the deterministic particle flow against the PDE."""

import re

import numpy as np
import pytest

import pdeflow
from pdeflow.kernel import phi_tilde, phi_tilde_dtheta
from pdeflow.particles import run_particles, simulate_deterministic, simulate_faithful
from pdeflow.particles.interpolation import KernelInterpolant, fold_angle
from pdeflow.particles.record import ParticleState, ReducedFields
from pdeflow.particles.reduced import _monte_carlo_fields
from pdeflow.particles.sampling import initial_particles

HALF_PI = 0.5 * np.pi


@pytest.mark.parametrize(
    ("d", "d_H", "value_tol", "slope_tol"),
    [
        # Measured at 512 cells per node: (2, 1) 1e-11 / 4e-9, (6, 2) 4e-9 / 1.4e-6,
        # (30, 5) 4e-8 / 1.5e-5. Tolerances are three times those, so a loss of
        # one order of the cubic Hermite error (a factor 8 or more) fails.
        (2, 1, 3e-11, 1.2e-8),
        (6, 2, 1.2e-8, 4.5e-6),
        (30, 5, 1.2e-7, 4.5e-5),
    ],
)
def test_interpolant_matches_exact_kernel(d, d_H, value_tol, slope_tol):
    problem = pdeflow.Problem(d, d_H)
    phi = problem.angle_rule(96).nodes
    table = KernelInterpolant(phi, d_H, problem.d_perp, table_cells=512)
    rng = np.random.default_rng(3)
    theta = rng.uniform(0.0, HALF_PI, 400)
    # Points within 1e-4 rad of the kink theta + phi = pi/2 of every fourth node.
    near_kink = np.clip(
        HALF_PI - phi[::4] + rng.normal(0.0, 1e-4, phi[::4].size), 0, HALF_PI
    )
    theta = np.concatenate([theta, near_kink, [0.0, HALF_PI]])

    value, slope = table(theta)
    exact_value = phi_tilde(theta[:, None], phi[None, :], d_H, problem.d_perp)
    exact_slope = phi_tilde_dtheta(theta[:, None], phi[None, :], d_H, problem.d_perp)
    assert np.max(np.abs(value - exact_value)) < value_tol
    assert np.max(np.abs(slope - exact_slope)) < slope_tol


def test_interpolant_keeps_slope_jump_for_d2():
    # For d = 2, phi_tilde = (|cos(theta - phi)| + |cos(theta + phi)|) / 4, whose
    # theta-derivative jumps by 1/2 across theta + phi = pi/2.
    phi = np.array([0.3, 0.9])
    table = KernelInterpolant(phi, 1, 1, table_cells=64)
    offsets = np.array([-1e-9, 1e-9])
    for k, node in enumerate(phi):
        theta = HALF_PI - node + offsets
        _, slope = table(theta)
        expected = -0.25 * (
            np.sin(theta - node) + np.sign(np.cos(theta + node)) * np.sin(theta + node)
        )
        assert np.allclose(slope[:, k], expected, atol=1e-7)
        assert slope[1, k] - slope[0, k] == pytest.approx(0.5, abs=1e-7)


def test_fold_angle_mirrors_kernel():
    theta = np.array([-0.4, 0.4, np.pi - 0.4, np.pi + 0.4, 2.0])
    folded, sign = fold_angle(theta)
    assert np.allclose(folded, [0.4, 0.4, 0.4, 0.4, np.pi - 2.0])
    assert np.array_equal(sign, [-1.0, 1.0, -1.0, 1.0, -1.0])
    # The mirror is a symmetry of the kernel: E relu(r cos(t) c + s sin(t) s')
    # is unchanged by t -> -t and t -> pi - t (flip s or r).
    table = KernelInterpolant(np.array([0.7]), 2, 4, table_cells=256)
    value, slope = table(np.array([-0.4, 0.4, np.pi - 0.4]))
    assert np.allclose(value, value[1])
    assert np.allclose(slope[:, 0], [-slope[1, 0], slope[1, 0], -slope[1, 0]])


@pytest.mark.parametrize("layout", ["gauss", "midpoint"])
def test_initial_layout_moments(layout):
    problem = pdeflow.Problem(6, 2)
    theta, weight, sign = initial_particles(problem, 400, layout, None)
    for side in (1.0, -1.0):
        chosen = sign == side
        assert weight[chosen].sum() / 400 == pytest.approx(0.5, rel=1e-14)
        # E_g[cos^2] = d_H / d. Gauss nodes in cos(theta) integrate it exactly;
        # midpoint quantiles are O(m^-(1 + 1/d_perp)) off, near 1e-3 at m/2 = 200.
        second = weight[chosen] @ np.cos(theta[chosen]) ** 2 / weight[chosen].sum()
        tol = 1e-13 if layout == "gauss" else 3e-3
        assert second == pytest.approx(problem.d_H / problem.d, abs=tol)


def test_initial_layout_rejects_odd_count():
    with pytest.raises(ValueError, match="even number"):
        initial_particles(pdeflow.Problem(6, 2), 7, "gauss", None)


def test_monte_carlo_estimate_has_mean_d_times_G():
    # The paper's estimator carries a factor d; its mean over samples must be
    # d * G and d * V with G, V from the quadrature route.
    problem = pdeflow.Problem(6, 2)
    rng = np.random.default_rng(11)
    theta, weight, sign = initial_particles(problem, 64, "random", rng)
    fields = ReducedFields(problem, n_phi=64, table_cells=512)
    G, V, _, _ = fields.evaluate(ParticleState(theta, weight, sign))

    draws = 40
    estimates = np.array(
        [
            _monte_carlo_fields(problem, theta, sign * weight, 20000, rng)
            for _ in range(draws)
        ]
    )
    for index, field in ((0, G), (1, V)):
        mean = estimates[:, index].mean(axis=0) / problem.d
        standard_error = (
            estimates[:, index].std(axis=0, ddof=1) / problem.d / np.sqrt(draws)
        )
        # Five standard errors over 64 particles: a false alarm has odds
        # below 1e-4, while a factor d (6) off is hundreds of errors away.
        assert np.all(np.abs(mean - field) < 5.0 * standard_error + 1e-12)


def test_faithful_run_time_axis_and_seed():
    problem = pdeflow.Problem(6, 2)
    options = dict(
        m=64, samples=50, eta=1e-3, seed=5, n_phi=32, table_cells=128, saves=3
    )
    run = simulate_faithful(problem, 10, **options)
    again = simulate_faithful(problem, 10, **options)
    assert np.allclose(run.time.values, [0.0, 5 * 6e-3, 10 * 6e-3], rtol=1e-12)
    assert run.attrs["time_per_step"] == pytest.approx(6e-3)
    assert np.array_equal(run.tau_plus.values, again.tau_plus.values)
    assert run.attrs["stop_reason"] == "completed"


def test_faithful_run_stops_when_a_weight_changes_sign():
    # With eta = 1 the Euler factor 1 - 2 eta G_hat of a tau_minus particle is
    # negative at the first step; the run stops instead of saving a negative
    # weight.
    problem = pdeflow.Problem(6, 2)
    options = dict(m=20, samples=20, seed=0, n_phi=16, table_cells=64, saves=4)
    run = simulate_faithful(problem, 3, eta=1.0, **options)
    assert run.attrs["stop_reason"] == "a weight changed sign at step 1: reduce eta"
    assert run.sizes["time"] == 1
    assert simulate_faithful(problem, 3, eta=0.3, **options).sizes["time"] == 4


@pytest.mark.parametrize("kind", ["reduced", "faithful", "network"])
def test_particle_runs_show_progress(kind, capsys):
    problem = pdeflow.Problem(6, 2)
    length = {"steps": 4} if kind == "faithful" else {"t_end": 0.2}
    options = dict(m=8, n_phi=8, table_cells=32, saves=2, progress=True)
    run_particles(problem, kind, **length, **options)
    bar = capsys.readouterr().err
    assert "pdeflow" in bar
    assert ("t/s" if kind == "reduced" else "step/s") in bar
    run_particles(problem, kind, **length, **(options | {"progress": False}))
    assert capsys.readouterr().err == ""


@pytest.fixture(scope="module")
def short_runs():
    problem = pdeflow.Problem(6, 2)
    times = np.linspace(0.0, 2.0, 11)
    particles = simulate_deterministic(
        problem, 2.0, m=400, dt=0.05, n_phi=48, table_cells=512, save_times=times
    )
    # The PDE solver's error is dominated by its first-order time splitting
    # (its default step is set by stiffness, near 0.2 here), so the reference
    # uses two bounded steps and Richardson extrapolation in dt.
    pde_runs = [
        pdeflow.solve(problem, 2.0, cells=256, save_times=times, dt_max=dt_max)
        for dt_max in (0.02, 0.01)
    ]
    return problem, particles, pde_runs


def test_deterministic_particles_match_pde(short_runs):
    _, particles, (coarse, fine) = short_runs
    for name in ("mass_plus", "mass_minus"):
        reference = 2.0 * fine[name].values - coarse[name].values
        step_error = np.abs(fine[name].values - coarse[name].values) / reference
        relative = np.abs(particles[name].values - reference) / reference
        # Measured at t = 2: 5e-6 relative (Gauss layout, m = 400), against a
        # time-step error of 1e-4 between the two PDE runs; 5e-5 is ten times
        # the measured gap and still fails for a 1e-4 slip in the fields.
        assert np.max(relative) < 5e-5, (relative, step_error)


def test_deterministic_loss_decays_at_dissipation_rate(short_runs):
    _, particles, _ = short_runs
    loss = particles.loss.values
    t = particles.time.values
    assert np.all(np.diff(loss) < 0.0)
    # Energy identity dA/dt = -dissipation, with dA/dt by central differences
    # over steps of 0.2 (truncation error near 1e-4 relative here).
    slope = (loss[2:] - loss[:-2]) / (t[2:] - t[:-2])
    dissipation = particles.dissipation.values[1:-1]
    assert np.allclose(-slope, dissipation, rtol=2e-3)


def test_deterministic_run_layout(short_runs):
    problem, particles, (pde, _) = short_runs
    for name in (
        "tau_plus",
        "tau_minus",
        "mass_plus",
        "w2_plus",
        "predictor",
        "theta_edges",
    ):
        assert name in particles
    assert particles.attrs["kind"] == "reduced-deterministic"
    assert particles.attrs["d"] == problem.d
    # Histogram mass equals the particle mass up to round-off.
    widths = np.diff(particles.theta_edges.values)
    assert np.allclose(
        particles.tau_plus.values @ widths, particles.mass_plus.values, rtol=1e-13
    )
    # The predictor grid matches the PDE run, so runs compare point by point.
    assert np.array_equal(particles.phi.values, pde.phi.values)


@pytest.mark.parametrize(
    ("kind", "options", "needle"),
    [
        ("network", dict(t_end=1, eval_samples=10**9), "eval_samples=1000000000 x d=6"),
        ("network", dict(t_end=1, m=10**8), "m=100000000 x d=6 exceed"),
        ("network", dict(t_end=1, batch=10**9), "batch=1000000000 x d=6 exceed"),
        ("reduced", dict(t_end=1, cells=10**8), "histogram cells exceed"),
        ("reduced", dict(t_end=1, m=2 * 10**7), "20000000 particles and n_phi=96"),
        ("reduced", dict(t_end=1, m=40_002), "too large for layout 'gauss'"),
        ("reduced", dict(t_end=1, n_phi=100_000), "n_phi=100000 is invalid"),
        ("reduced", dict(t_end=1, n_phi=1), "n_phi=1 is invalid"),
        ("reduced", dict(t_end=1, n_phi=2.5), "n_phi=2.5 is invalid"),
        ("reduced", dict(t_end=1, saves=10**8), "pass at most 10000"),
        ("reduced", dict(t_end=1, seed=None), "seed=None is invalid"),
        ("reduced", dict(t_end=1, seed=-1), "seed=-1 is invalid"),
        ("network", dict(t_end=1, seed=2**64 - 1), "seed=18446744073709551615"),
        ("faithful", dict(steps=4, saves=1), "saves=1 is invalid"),
        ("faithful", dict(steps=4, save_steps=[0, 2.7]), "whole numbers of steps"),
        ("network", dict(t_end=0.005, eta=0.01), "rounds to zero steps"),
        ("network", dict(t_end=1e20, eta=1e-6), "gives 1e+26 steps: pass at most"),
        ("network", dict(t_end=1e300, eta=1e-10), "gives inf steps"),
        ("faithful", dict(steps=10**12 + 1), "gives 1000000000001 steps: pass at"),
        ("faithful", dict(steps=4, save_steps=[]), "save_steps is empty"),
        ("faithful", dict(steps=4, save_steps=["a"]), "save_steps=['a'] is invalid"),
    ],
)
def test_particle_runs_reject_bad_sizes(kind, options, needle):
    # Each case fails before any array is built, so none takes memory or time.
    problem = pdeflow.Problem(6, 2)
    with pytest.raises((ValueError, TypeError), match=re.escape(needle)):
        run_particles(problem, kind, **options)


def test_reduced_run_saves_start_and_end():
    problem = pdeflow.Problem(6, 2)
    options = dict(m=8, n_phi=8, table_cells=32, save_times=[0.05])
    run = simulate_deterministic(problem, 0.1, **options)
    assert np.allclose(run.time.values, [0.0, 0.05, 0.1])


def test_network_warns_about_rounded_save_times(caplog):
    problem = pdeflow.Problem(6, 2)
    options = dict(m=8, eta=0.3, n_phi=8, table_cells=32, eval_samples=64)
    run = run_particles(problem, "network", t_end=1.0, save_times=[0, 0.4], **options)
    assert np.allclose(run.time.values, [0.0, 0.3, 0.9])
    assert "t_end=1 is not a multiple of eta=0.3" in caplog.text
    assert "the run ends at the nearest step, t=0.9" in caplog.text
    assert "save times are not multiples of eta=0.3" in caplog.text
    assert "3 saves in all for 2 requested times" in caplog.text


def test_network_blames_only_t_end_when_it_moves(caplog):
    problem = pdeflow.Problem(6, 2)
    options = dict(m=8, eta=0.01, n_phi=8, table_cells=32, eval_samples=64)
    run = run_particles(problem, "network", t_end=0.025, save_times=[0.01], **options)
    assert np.allclose(run.time.values, [0.0, 0.01, 0.02])
    assert "t_end=0.025 is not a multiple of eta=0.01" in caplog.text
    assert "save times are not multiples" not in caplog.text


def test_network_default_saves_fall_on_steps(caplog):
    problem = pdeflow.Problem(6, 2)
    options = dict(m=8, eta=0.01, n_phi=8, table_cells=32, eval_samples=64)
    run = run_particles(problem, "network", t_end=0.1, saves=4, **options)
    steps = run.time.values / 0.01
    assert np.allclose(steps, np.rint(steps), rtol=0, atol=1e-9)
    assert "not multiples" not in caplog.text
