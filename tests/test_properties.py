"""Property-based tests over random dimensions, meshes and Courant numbers."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pdeflow import Mesh, Problem, solve
from pdeflow.kernel import phi_tilde
from pdeflow.scheme import advance, stable_dt

HALF_PI = 0.5 * np.pi
FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def problems(draw):
    d = draw(st.integers(min_value=2, max_value=60))
    d_H = draw(st.integers(min_value=1, max_value=d - 1))
    return Problem(d, d_H)


@st.composite
def meshes(draw):
    cells = draw(st.integers(min_value=2, max_value=40))
    kind = draw(st.sampled_from(["uniform", "graded", "random"]))
    if kind == "uniform":
        return Mesh.uniform(cells)
    if kind == "graded":
        power = draw(st.floats(min_value=1.0, max_value=4.0))
        return Mesh.graded(
            cells, power=power, ends=draw(st.sampled_from(["zero", "both"]))
        )
    seed = draw(st.integers(min_value=0, max_value=2**31))
    inner = np.sort(
        np.random.default_rng(seed).uniform(0.01, HALF_PI - 0.01, cells - 1)
    )
    edges = np.r_[0.0, inner, HALF_PI]
    if np.any(np.diff(edges) <= 1e-9):
        edges = np.linspace(0.0, HALF_PI, cells + 1)
    return Mesh(edges)


@FAST
@given(
    problems(),
    meshes(),
    st.floats(min_value=0.05, max_value=1.0),
    st.sampled_from(["upwind", "muscl"]),
)
def test_runs_stay_positive_and_lose_no_loss(problem, mesh, cfl, scheme):
    run = solve(
        problem,
        5.0,
        mesh=mesh,
        cfl=cfl,
        scheme=scheme,
        n_phi=24,
        save_times=np.linspace(0.0, 5.0, 11),
    )
    assert run.attrs["stop_reason"] == "completed"
    assert float(run.tau_plus.min()) >= 0.0
    assert float(run.tau_minus.min()) >= 0.0
    # The loss may rise by the truncation error of a step only.
    assert np.diff(run.loss.values).max() <= 1e-8 * problem.initial_loss
    assert run.mass_plus.values[0] == np.float64(run.mass_plus.values[0])


@FAST
@given(
    meshes(),
    st.integers(min_value=0, max_value=2**31),
    st.floats(0.05, 1.0),
    st.sampled_from(["upwind", "muscl"]),
)
def test_step_mass_balance(mesh, seed, cfl, scheme):
    # Transport conserves the mass; with the reaction on, a cell without
    # transport gains exactly exp(rate dt).
    rng = np.random.default_rng(seed)
    density = rng.uniform(0.0, 2.0, mesh.cells)
    velocity = rng.normal(size=mesh.cells + 1)
    dt = stable_dt(velocity, mesh.edges, cfl, scheme)
    moved = advance(density, velocity, np.zeros(mesh.cells), mesh.edges, dt, scheme)
    assert abs(moved @ mesh.widths - density @ mesh.widths) <= 1e-13 * (
        density @ mesh.widths
    )
    assert moved.min() >= -1e-14 * density.max()


@FAST
@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.floats(0.0, HALF_PI),
    st.floats(0.0, HALF_PI),
)
def test_kernel_symmetry(d_H, d_perp, theta, phi):
    forward = phi_tilde(theta, phi, d_H, d_perp)
    swapped = phi_tilde(phi, theta, d_H, d_perp)
    assert abs(forward - swapped) <= 2e-15


@settings(max_examples=5, deadline=None)
@given(problems(), meshes())
def test_identical_inputs_give_identical_bits(problem, mesh):
    first = solve(problem, 2.0, mesh=mesh, n_phi=16, saves=4)
    second = solve(problem, 2.0, mesh=mesh, n_phi=16, saves=4)
    for name in ("tau_plus", "tau_minus", "loss", "predictor"):
        assert first[name].values.tobytes() == second[name].values.tobytes()
