"""The problem definition: validation, alpha, the angle law and the initial loss."""

import numpy as np
import pytest
from scipy.integrate import quad

from pdeflow import Mesh, Problem
from pdeflow.fields import ReducedModel
from pdeflow.solver import initial_state


@pytest.mark.parametrize(
    ("d_H", "alpha"),
    # 2 sqrt(pi) Gamma((d_H+1)/2) / Gamma(d_H/2) in closed form.
    [(1, 2.0), (2, np.pi), (3, 4.0), (5, 16.0 / 3.0), (7, 32.0 / 5.0)],
)
def test_alpha_closed_form(d_H, alpha):
    assert Problem(d=30, d_H=d_H).alpha == pytest.approx(alpha, rel=1e-14)


@pytest.mark.parametrize(("d", "d_H"), [(2, 1), (6, 2), (30, 5), (200, 7)])
def test_angle_density_integrates_to_one(d, d_H):
    problem = Problem(d, d_H)
    total, _ = quad(problem.angle_density, 0.0, 0.5 * np.pi, limit=200)
    assert total == pytest.approx(1.0, abs=1e-8)
    assert problem.angle_cdf(0.5 * np.pi) == pytest.approx(1.0, abs=1e-15)


def test_angle_cdf_matches_density():
    problem = Problem(30, 5)
    mass, _ = quad(problem.angle_density, 0.4, 1.1)
    difference = problem.angle_cdf(1.1) - problem.angle_cdf(0.4)
    assert difference == pytest.approx(mass, rel=1e-10)


@pytest.mark.parametrize(("d", "d_H"), [(2, 1), (6, 2), (30, 5), (30, 29)])
def test_initial_loss_is_d_H_over_2d(d, d_H):
    # At t = 0 tau_plus = tau_minus, so F = 0 and A = E_g[cos^2]/2 = d_H / (2 d).
    problem = Problem(d, d_H)
    mesh = Mesh.uniform(16)
    model = ReducedModel(problem, mesh, 40)
    fields = model.fields(*initial_state(problem, mesh))
    assert fields.loss == pytest.approx(d_H / (2 * d), rel=1e-13)
    assert problem.initial_loss == d_H / (2 * d)


def test_initial_masses_are_one_half():
    problem = Problem(30, 5)
    mesh = Mesh.uniform(100)
    tau_plus, tau_minus = initial_state(problem, mesh)
    assert tau_plus @ mesh.widths == pytest.approx(0.5, rel=1e-14)
    assert tau_minus @ mesh.widths == pytest.approx(0.5, rel=1e-14)


@pytest.mark.parametrize(
    ("d", "d_H", "error", "message"),
    [
        (5, 5, ValueError, "d_H=5 with d=5"),
        (5, 7, ValueError, "d_H=7 with d=5"),
        (5, 0, ValueError, "d_H=0"),
        (1, 1, ValueError, "d=1 is invalid: pass d >= 2"),
        (30.5, 5, TypeError, "d=30.5"),
        ("30", 5, TypeError, "d='30'"),
        (30, True, TypeError, "d_H=True"),
    ],
)
def test_problem_rejects_bad_input(d, d_H, error, message):
    with pytest.raises(error, match=message):
        Problem(d, d_H)
