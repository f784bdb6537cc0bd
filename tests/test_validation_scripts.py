"""Quick runs of the validation scripts, checked through the JSON they write.

Each test runs ``python validation/<name>.py --quick --out-dir TMP`` (a few
seconds on 2 cores) and checks its numbers against the PDE reference values
with tolerances sized for the small widths and few seeds of the quick runs.
``convergence_order.py`` is tested in test_convergence.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

# t* of the converged PDE for d = 30, d_H = 5 (MUSCL, 1024 to 2048 cells,
# validation/overshoot.py): the first time the mass of tau_plus exceeds 16/3.
PDE_T_STAR = 102.09


def quick_run(name: str, out_dir: Path) -> subprocess.CompletedProcess:
    """Run one validation script in quick mode; return the finished process."""
    script = ROOT / "validation" / f"{name}.py"
    return subprocess.run(
        [sys.executable, str(script), "--quick", "--out-dir", str(out_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def run_script(name: str, out_dir: Path) -> dict:
    """Run one validation script in quick mode and return its JSON report."""
    result = quick_run(name, out_dir)
    assert result.returncode == 0, result.stderr
    return json.loads((out_dir / f"{name}.json").read_text())


def test_figure3_quick(tmp_path):
    report = run_script("figure3", tmp_path)
    pde = report["snapshots"]["pde"]
    particles = report["snapshots"]["particles"]
    # 128 MUSCL cells with the default step put t* within 0.5 of the
    # converged value.
    assert pde["t_star"] == pytest.approx(PDE_T_STAR, abs=0.5)
    # m = 64 particles: the initial mass of tau_plus is off by about
    # 0.5 / sqrt(64) = 0.06, which moves t* by a few time units.
    assert particles["t_star"] == pytest.approx(PDE_T_STAR, abs=15.0)
    assert pde["mass_plus_minus_alpha"][0] == pytest.approx(0.5 - 16 / 3)
    assert np.all(np.diff(pde["w2_plus"]) < 0.0)
    assert np.all(np.diff(particles["w2_plus"]) < 0.0)
    # At the last snapshot, t = 120, the PDE is past t* and the particles
    # are within their initial-mass noise of it.
    assert pde["mass_plus_minus_alpha"][-1] > 0.0
    assert particles["mass_plus_minus_alpha"][-1] > -0.1
    # The initial mass of tau_plus of 64 particles has a relative standard
    # deviation of 1/8, which the flow carries until t* (0.125 with seed 0).
    assert max(report["compare"]["mass_plus_relative_error"]) < 0.3
    assert max(report["compare"]["w2_plus"]) < 0.1
    assert (tmp_path / "figure3.png").stat().st_size > 10_000


def test_overshoot_particles_quick(tmp_path):
    report = run_script("overshoot_particles", tmp_path)
    assert report["pde"]["t_star"] == pytest.approx(PDE_T_STAR, abs=0.5)
    # The PDE is 0.09 above alpha at t = 120 (MUSCL, 256 cells).
    assert report["pde"]["excess_at_horizon"] == pytest.approx(0.088, abs=0.01)
    for table in ("by_eta", "by_width"):
        for row in report[table].values():
            assert row["t_star"]["n"] == 2
            assert row["t_star"]["mean"] == pytest.approx(PDE_T_STAR, abs=20.0)
            assert -0.3 < row["excess_at_horizon"]["mean"] < 0.5
    assert (tmp_path / "overshoot_particles.png").stat().st_size > 10_000


def test_figure2_quick(tmp_path):
    report = run_script("figure2", tmp_path)
    rows = report["per_time"]
    # tau_plus = tau_minus at t = 0, so the PDE predictor vanishes there.
    assert rows[0]["pde_spread_over_r"] == pytest.approx(0.0, abs=1e-12)
    assert rows[0]["pde_at_r0"] == pytest.approx(0.0, abs=1e-12)
    spreads = [row["pde_spread_over_r"] for row in rows]
    assert np.all(np.diff(spreads) > 0.0)
    # m = 256 networks: the initial predictor is of order 1 / sqrt(m).
    for row in rows:
        assert row["max_gap_network_pde"]["mean"] < 0.15
    assert rows[-1]["network_spread_over_r"]["mean"] == pytest.approx(
        rows[-1]["pde_spread_over_r"], abs=0.15
    )
    assert (tmp_path / "figure2.png").stat().st_size > 10_000


def test_odd_target_quick(tmp_path):
    report = run_script("odd_target", tmp_path)
    # The paired initial neurons and the input sample closed under x -> -x
    # keep the network exactly odd, hence linear.
    assert report["linearity_error"] < 1e-12
    low, high = report["rate_linear_bounds"]
    assert low * 0.99 <= report["rate_linear"] <= high
    assert report["rate_network"] >= 0.95 * report["rate_network_bound"]
    assert report["rate_network_bound"] > 0.0
    assert report["gap_final_network"] < 1e-6
    assert report["gap_final_linear"] < 1e-6
    # The two paths differ in speed but are close as curves (|w*| = 2.0).
    assert report["max_path_gap"] < 0.1
    assert (tmp_path / "odd_target.png").stat().st_size > 10_000


def test_invariance_quick(tmp_path):
    report = run_script("invariance", tmp_path)
    widths = [str(m) for m in report["widths"]]
    finals = [report["by_width"][m]["final"]["mean"] for m in widths]
    assert finals[-1] < finals[0]
    # Fluctuations of the initial neurons predict a slope of -1/2; a maximum
    # over 2000 inputs and 3 seeds leaves it uncertain by about 0.2.
    assert -0.9 < report["slope_final"] < -0.2
    for m in widths:
        loss = report["by_width"][m]["held_out_loss"]["mean"]
        assert loss < report["held_out_loss_of_zero_predictor"]
    assert (tmp_path / "invariance.png").stat().st_size > 10_000


def test_alpha_limit_quick(tmp_path):
    report = run_script("alpha_limit", tmp_path)
    rows = {row["d_H"]: row for row in report["rows"]}
    assert rows[1]["alpha"] == pytest.approx(2.0, rel=1e-14)
    assert rows[5]["alpha"] == pytest.approx(16.0 / 3.0, rel=1e-14)
    for row in rows.values():
        # At t = 1e3 the mass of tau_plus is above alpha for every d_H tested.
        assert 0.0 < row["relative_excess_final"] < 0.3
        assert row["t_star"] > 50.0
        assert row["loss_final"] < 1e-3
    assert (tmp_path / "alpha_limit.png").stat().st_size > 10_000


def test_overshoot_quick(tmp_path):
    report = run_script("overshoot", tmp_path)
    muscl = [row for row in report["refinement"] if row["scheme"] == "muscl"]
    for row in muscl:
        assert row["t_star"] == pytest.approx(PDE_T_STAR, abs=0.5)
        assert row["overshoot"] > 0.1


def test_graded_mesh_quick(tmp_path):
    report = run_script("graded_mesh", tmp_path)
    (study,) = report["studies"]
    # MUSCL is second order on both mesh families (1.92 and 2.05 when written).
    assert 1.7 < study["order_uniform"] < 2.3
    assert 1.7 < study["order_graded"] < 2.3
    # The reference's error, by halving its mesh and by Richardson
    # extrapolation of uniform meshes, lies far below the errors compared.
    assert study["reference_error"] < 0.1 * study["graded"][-1]["error"]
    assert study["reference_gap"] < 0.2 * study["graded"][-1]["error"]
    # Each graded mesh is as accurate as a uniform mesh with 10x more cells,
    # the coarsest one within the range of uniform meshes actually run.
    assert all(row["cell_ratio"] >= 10.0 for row in study["graded"])
    assert not study["graded"][0]["extrapolated"]
    assert (tmp_path / "graded_mesh.png").stat().st_size > 10_000


def test_cross_validate_quick(tmp_path):
    report = run_script("cross_validate", tmp_path)
    for name, case in report["cases"].items():
        # Reduced particles (m = 400, RK4) against the PDE extrapolated in dt:
        # measured 9.7e-6 for (6, 2) and 2.6e-7 for (30, 5).
        assert max(case["reduced_mass_plus_relative_error"]) < 1e-4, name
        assert max(case["reduced_mass_minus_relative_error"]) < 1e-4, name
        # The growth of mass_plus removes most of the initial binomial noise.
        # The networks match the PDE's growth within 6 % here, while a time
        # scale off by a factor 2 would double it.
        pde_growth = case["pde_mass_plus"][-1] - case["pde_mass_plus"][0]
        for m, network in case["networks"].items():
            growth = network["mass_plus_mean"][-1] - network["mass_plus_mean"][0]
            assert growth / pde_growth == pytest.approx(1.0, abs=0.15), (name, m)
    # One step of the paper's scheme is flow time d * eta: the particles grow
    # like the PDE at step * d * eta (4 % apart), six times more than at
    # step * eta.
    faithful = report["faithful_time_scale"]
    at_d_eta = faithful["pde_mass_plus_at_step_d_eta"][-1] - 0.5
    at_eta = faithful["pde_mass_plus_at_step_eta"][-1] - 0.5
    growth = (
        faithful["particles_mass_plus_mean"][-1]
        - faithful["particles_mass_plus_mean"][0]
    )
    assert growth / at_d_eta == pytest.approx(1.0, abs=0.15)
    assert growth / at_eta > 3.0
    for name in ("6_2", "30_5"):
        assert (tmp_path / f"{name}_error_vs_width.png").stat().st_size > 10_000


def test_out_dir_that_is_a_file_is_rejected(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    result = quick_run("graded_mesh", a_file)
    assert result.returncode == 2
    assert f"--out-dir {a_file} is a file: pass a folder" in result.stderr
    assert "Traceback" not in result.stderr
