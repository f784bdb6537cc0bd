"""Meshes: uniform and graded faces, moments, and a graded run that is not uniform."""

import numpy as np
import pytest

from pdeflow import Mesh, Problem, solve

HALF_PI = 0.5 * np.pi


def test_uniform_mesh():
    mesh = Mesh.uniform(8)
    np.testing.assert_allclose(mesh.widths, HALF_PI / 8, rtol=1e-15)
    assert mesh.cells == 8
    assert mesh.kind == "uniform"


@pytest.mark.parametrize("ends", ["zero", "both"])
def test_graded_mesh_refines_toward_ends(ends):
    mesh = Mesh.graded(64, power=3.0, ends=ends)
    widths = mesh.widths
    assert mesh.edges[0] == 0.0
    assert mesh.edges[-1] == HALF_PI
    s = 1.0 / 64.0
    first = s**3 if ends == "zero" else s**3 / (s**3 + (1.0 - s) ** 3)
    assert widths[0] == pytest.approx(HALF_PI * first, rel=1e-12)
    assert widths[0] < widths[32] / 100
    if ends == "both":
        assert widths[-1] == pytest.approx(widths[0], rel=1e-12)
    else:
        assert widths[-1] > widths[32]


def test_second_moments_are_exact_cell_integrals():
    mesh = Mesh.graded(10, power=2.0)
    expected = np.diff((mesh.edges - 0.3) ** 3) / 3.0
    np.testing.assert_allclose(mesh.second_moments(0.3), expected, rtol=1e-15)
    assert np.all(mesh.second_moments(HALF_PI) > 0.0)


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        ([0.0, 1.0], "at least 2 cells"),
        ([0.0, 1.0, 0.5, HALF_PI], "not strictly increasing"),
        ([0.1, 1.0, HALF_PI], "must run from 0 to pi/2"),
        ([0.0, np.nan, HALF_PI], "non-finite"),
    ],
)
def test_mesh_rejects_bad_faces(edges, message):
    with pytest.raises(ValueError, match=message):
        Mesh(np.array(edges))


def test_graded_rejects_bad_options():
    with pytest.raises(ValueError, match="power=0.5"):
        Mesh.graded(10, power=0.5)
    with pytest.raises(ValueError, match="ends='left'"):
        Mesh.graded(10, ends="left")


def test_graded_run_converges_at_second_order():
    # A graded mesh must give the answer of its own cells, not the uniform one.
    # MUSCL masses at t = 40 (d = 30, d_H = 5, dt <= 0.05) on graded meshes of
    # 96, 192 and 384 cells approach a 1536-cell uniform reference at second
    # order (observed errors of mass_plus 4.8e-5, 1.2e-5, 2.9e-6).
    problem = Problem(30, 5)

    def masses(mesh):
        run = solve(
            problem,
            40.0,
            mesh=mesh,
            scheme="muscl",
            save_times=[0.0, 40.0],
            dt_max=0.05,
        )
        return np.array([run.mass_plus.values[-1], run.mass_minus.values[-1]])

    reference = masses(Mesh.uniform(1536))
    errors = [
        np.abs(masses(Mesh.graded(cells, power=2.0, ends="both")) - reference)
        for cells in (96, 192, 384)
    ]
    for coarse, fine in zip(errors[:-1], errors[1:], strict=True):
        assert np.all(coarse / fine > 3.5), (coarse, fine)
    uniform_error = np.abs(masses(Mesh.uniform(96)) - reference)
    assert not np.allclose(uniform_error, errors[0], rtol=1e-3, atol=0.0)


def test_extreme_grading_is_rejected():
    # 8^-400 of pi/2 underflows to 0, so the first faces coincide.
    with pytest.raises(ValueError, match="power=400 with 8 cells .* lower the power"):
        Mesh.graded(8, power=400.0)


def test_float32_faces_are_named_to_full_precision():
    edges = np.linspace(0.0, HALF_PI, 9).astype(np.float32)
    with pytest.raises(ValueError, match="1.5707963705062866.*float32 faces"):
        Mesh(edges)
