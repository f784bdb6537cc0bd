"""Finite-width networks: gradient steps, projection, backends and time scale."""

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_args import argv

import pdeflow
from pdeflow.particles import simulate_network
from pdeflow.particles.backends import make_backend
from pdeflow.particles.network import Network
from pdeflow.particles.record import ReducedFields


def _batch_loss(a, b, x, target):
    output = np.maximum(x @ b.T, 0.0) @ a / a.size
    return 0.5 * np.mean((target - output) ** 2)


@pytest.mark.parametrize("chunk", [8, 3])
def test_step_is_scaled_gradient_descent(chunk):
    # One step must equal a -= m * eta * dL/da (and the same for b), L the
    # batch loss, with the gradient from central finite differences.
    problem = pdeflow.Problem(5, 2)
    network = Network(problem, 8, make_backend("numpy", "float64", 4), chunk)
    x, target = network.sample_inputs(16)
    a0, b0 = network.a.copy(), network.b.copy()
    eta = 1e-3
    network.step(eta, x, target)

    h = 1e-6
    grad_a = np.zeros_like(a0)
    for j in range(a0.size):
        shift = np.zeros_like(a0)
        shift[j] = h
        up = _batch_loss(a0 + shift, b0, x, target)
        down = _batch_loss(a0 - shift, b0, x, target)
        grad_a[j] = (up - down) / (2 * h)
    grad_b = np.zeros_like(b0)
    for index in np.ndindex(b0.shape):
        shift = np.zeros_like(b0)
        shift[index] = h
        up = _batch_loss(a0, b0 + shift, x, target)
        down = _batch_loss(a0, b0 - shift, x, target)
        grad_b[index] = (up - down) / (2 * h)
    # Central differences carry errors near h^2 + 1e-16 / h, about 1e-10.
    assert np.allclose(network.a, a0 - 8 * eta * grad_a, rtol=0, atol=1e-11)
    assert np.allclose(network.b, b0 - 8 * eta * grad_b, rtol=0, atol=1e-11)


def test_projection_at_start():
    problem = pdeflow.Problem(6, 2)
    m = 20000
    network = Network(problem, m, make_backend("numpy", "float64", 0), m)
    state = network.project()
    # |a| = ||b|| = 1 at start, so every weight is one and the masses sum to 1.
    assert np.allclose(state.weight, 1.0, rtol=1e-14)
    # E_g[cos^2 theta] = d_H / d, with a sampling error of sd / sqrt(m).
    cos2 = np.cos(state.theta) ** 2
    standard_error = cos2.std() / np.sqrt(m)
    assert abs(cos2.mean() - problem.d_H / problem.d) < 4 * standard_error


def test_chunked_run_matches_one_block():
    problem = pdeflow.Problem(6, 2)
    options = dict(
        m=64,
        eta=0.05,
        batch=32,
        eval_samples=256,
        n_phi=16,
        table_cells=64,
        saves=3,
        cells=16,
    )
    whole = simulate_network(problem, 0.5, chunk=64, **options)
    blocks = simulate_network(problem, 0.5, chunk=10, **options)
    # The blocks only reorder sums, so differences stay at round-off.
    assert np.allclose(whole.mass_plus.values, blocks.mass_plus.values, rtol=1e-12)
    assert np.allclose(whole.loss.values, blocks.loss.values, rtol=1e-12)


def test_output_in_row_blocks_matches_formula(monkeypatch):
    # Blocks of 40 elements split 50 inputs x 8 neurons into row and neuron
    # blocks; the sums are only reordered.
    problem = pdeflow.Problem(6, 2)
    network = Network(problem, 8, make_backend("numpy", "float64", 3), 4)
    x, _ = network.sample_inputs(50)
    monkeypatch.setattr("pdeflow.particles.network.BLOCK_ELEMENTS", 40)
    direct = np.maximum(x @ network.b.T, 0.0) @ network.a / 8
    assert np.allclose(network.output(x), direct, rtol=1e-14, atol=0)


def test_network_follows_pde_time_scale():
    # Mass growth of tau_plus from t = 0 to 1 for (6, 2): the PDE gives 0.0965.
    # With time k * eta the network matches it within sampling noise (measured
    # sd 0.0027 per run over 8 seeds at m = 1024, so 0.01 is 6 standard errors
    # of a 3-seed mean); a time scale off by a factor 2 moves it by 0.05.
    problem = pdeflow.Problem(6, 2)
    times = np.array([0.0, 1.0])
    pde = pdeflow.solve(problem, 1.0, cells=128, save_times=times, dt_max=0.01)
    expected = float(pde.mass_plus.values[1] - pde.mass_plus.values[0])
    growth = []
    for seed in range(3):
        run = simulate_network(
            problem,
            1.0,
            m=1024,
            eta=0.02,
            batch=512,
            seed=seed,
            eval_samples=1000,
            n_phi=24,
            table_cells=128,
            save_times=times,
            cells=16,
        )
        growth.append(float(run.mass_plus.values[1] - run.mass_plus.values[0]))
    assert abs(np.mean(growth) - expected) < 0.01, (growth, expected)


def test_held_out_loss_matches_projection():
    # The term E[f* f] of the loss depends on each neuron only through its
    # angle and weight, so the sampled loss of the network and the quadrature
    # loss of its projected measures differ by sampling noise plus the gap
    # between E[f^2] and int F^2 dg, both at most 1 / (2 d m) at start.
    problem = pdeflow.Problem(6, 2)
    m = 1024
    network = Network(problem, m, make_backend("numpy", "float64", 9), m)
    x, target = network.sample_inputs(20000)
    squared = 0.5 * (target - network.output(x)) ** 2
    standard_error = squared.std() / np.sqrt(squared.size)
    fields = ReducedFields(problem, n_phi=64, table_cells=256)
    _, _, _, quadrature_loss = fields.evaluate(network.project())
    gap = abs(squared.mean() - quadrature_loss)
    assert gap < 4.0 * standard_error + 1.0 / (2 * problem.d * m)
    # Network.loss, which the runs save, is this same sample mean.
    assert network.loss(x, target) == pytest.approx(squared.mean(), rel=1e-12)


def test_rejects_unknown_backend():
    with pytest.raises(ValueError, match="backend"):
        make_backend("jax", "float64", 0)


def test_torch_backend_matches_numpy():
    torch = pytest.importorskip("torch")
    problem = pdeflow.Problem(6, 2)
    reference = Network(problem, 32, make_backend("numpy", "float64", 1), 32)
    other = Network(problem, 32, make_backend("torch", "float64", 1, "cpu"), 8)
    other.a = torch.from_numpy(reference.a.copy())
    other.b = torch.from_numpy(reference.b.copy())
    x, target = reference.sample_inputs(64)
    for _ in range(3):
        reference.step(0.05, x, target)
        other.step(0.05, torch.from_numpy(x), torch.from_numpy(target))
    # Same arithmetic in float64, different summation order: round-off only.
    assert np.allclose(other.a.numpy(), reference.a, rtol=0, atol=1e-13)
    assert np.allclose(other.b.numpy(), reference.b, rtol=0, atol=1e-13)


def test_torch_float32_run_completes():
    pytest.importorskip("torch")
    problem = pdeflow.Problem(6, 2)
    run = simulate_network(
        problem,
        0.2,
        m=256,
        eta=0.05,
        batch=64,
        backend="torch",
        dtype="float32",
        device="cpu",
        eval_samples=512,
        n_phi=16,
        table_cells=64,
        saves=3,
        cells=16,
    )
    assert run.attrs["backend"] == "torch"
    assert run.attrs["stop_reason"] == "completed"
    # float32 round-off on weights near 1 is below 1e-6 per step.
    assert run.mass_plus.values[0] + run.mass_minus.values[0] == pytest.approx(
        1.0, abs=1e-5
    )


def test_gpu_check_script_runs_on_cpu(tmp_path):
    # The GPU script in its small variant: it must run without a GPU and report
    # errors of the size of the binomial noise of the initial signs.
    pytest.importorskip("torch")
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
    command = [sys.executable, str(script), "--quick", "--device", "cpu"]
    subprocess.run([*command, "--out-dir", str(tmp_path)], check=True, timeout=300)
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["gpu"] == "none"
    assert [(row["m"], row["dtype"]) for row in report["rows"]] == [
        (256, "float32"),
        (256, "float64"),
        (1024, "float32"),
        (1024, "float64"),
    ]
    for row in report["rows"]:
        # The initial mass of tau_plus is binomial: relative sd 1/sqrt(m).
        assert row["max_mass_plus_relative_error"] < 4 / np.sqrt(row["m"])
        assert row["max_mass_minus_relative_error"] < 4 / np.sqrt(row["m"])
        assert row["steps_per_second"] > 0


@pytest.mark.parametrize(
    ("device", "needle"),
    [
        ("tpu", "device='tpu' is invalid: pass 'cpu' or 'cuda:N'"),
        ("", "device='' is invalid"),
        ("meta", "device='meta' is not supported"),
    ],
)
def test_torch_backend_rejects_unusable_devices(device, needle):
    pytest.importorskip("torch")
    with pytest.raises(ValueError, match=re.escape(needle)):
        make_backend("torch", "float64", 0, device)


def test_cuda_device_without_gpu_is_one_line(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible, so the device is usable")
    command = argv(
        [sys.executable],
        "-m pdeflow.cli particles --kind network --t-end 0.1 --m 16",
        "--backend torch --device cuda --out",
        tmp_path / "run.nc",
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "torch sees no CUDA GPU, so pass device='cpu'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run.nc").exists()


def test_gpu_check_full_sizes_pass_the_checks(monkeypatch):
    # The GPU run itself needs a GPU; this shows that its widths 1e5 and 1e6
    # pass every size check of simulate_network, which runs before any array
    # is built, by stopping the run at its first allocation.
    monkeypatch.syspath_prepend(Path(__file__).resolve().parents[1] / "benchmarks")
    gpu_check = importlib.import_module("gpu_check")

    class Allocated(Exception):
        pass

    def stop(*args, **options):
        raise Allocated

    monkeypatch.setattr("pdeflow.particles.network.make_backend", stop)
    settings = gpu_check.FULL
    for m in settings["widths"]:
        with pytest.raises(Allocated):
            simulate_network(
                pdeflow.Problem(30, 5),
                settings["t_end"],
                m=m,
                eta=gpu_check.ETA,
                batch=settings["batch"],
                backend="torch",
                save_times=np.linspace(0.0, settings["t_end"], gpu_check.SAVES),
                eval_samples=gpu_check.EVAL_SAMPLES,
            )
