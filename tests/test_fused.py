"""The fused numba kernels agree with the numpy scheme to round-off."""

import os
import subprocess
import sys

import numpy as np
import pytest
from cli_args import argv

from pdeflow import scheme as fv
from pdeflow.fused import stable_step_pair, upwind_pair_step


@pytest.mark.parametrize("cells", [2, 3, 17, 500])
def test_fused_step_matches_numpy_scheme(cells):
    rng = np.random.default_rng(cells)
    widths = rng.uniform(0.5, 1.5, cells)
    widths *= 0.5 * np.pi / widths.sum()
    velocity = rng.normal(size=cells + 1)
    velocity[0] = velocity[-1] = 0.0
    tau_plus = rng.uniform(size=cells)
    tau_minus = rng.uniform(size=cells)
    G = 0.3 * rng.normal(size=cells)

    dt = stable_step_pair(velocity, widths, 0.9)
    expected_dt = min(
        fv.max_stable_step(velocity, widths, 0.9),
        fv.max_stable_step(-velocity, widths, 0.9),
    )
    assert dt == expected_dt

    new_plus, new_minus = upwind_pair_step(tau_plus, tau_minus, velocity, G, widths, dt)
    expected_plus = fv.step(tau_plus, velocity, 2.0 * G, widths, dt)
    expected_minus = fv.step(tau_minus, -velocity, -2.0 * G, widths, dt)
    np.testing.assert_allclose(new_plus, expected_plus, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(new_minus, expected_minus, rtol=1e-14, atol=1e-15)


def test_fused_stable_step_without_flow_is_infinite():
    assert stable_step_pair(np.zeros(5), np.full(4, 0.4), 0.9) == np.inf


@pytest.mark.parametrize("limiter", ["minmod", "vanleer", "mc"])
@pytest.mark.parametrize("cells", [2, 3, 40])
def test_fused_muscl_matches_numpy_scheme(limiter, cells):
    from pdeflow.fused import LIMITER_CODES, muscl_step_fused

    rng = np.random.default_rng(cells)
    inner = np.sort(rng.uniform(0.0, 0.5 * np.pi, cells - 1))
    edges = np.r_[0.0, inner, 0.5 * np.pi]
    density = rng.uniform(size=cells)
    velocity = rng.normal(size=cells + 1)
    velocity[0] = velocity[-1] = 0.0
    rate = 0.2 * rng.normal(size=cells)
    dt = fv.stable_dt(velocity, edges, 0.9, "muscl")

    fused = muscl_step_fused(density, velocity, rate, edges, dt, LIMITER_CODES[limiter])
    expected = fv.muscl_step(density, velocity, rate, edges, dt, limiter)
    np.testing.assert_allclose(fused, expected, rtol=1e-13, atol=1e-14)


def test_limiter_codes_cover_every_limiter():
    from pdeflow.fused import LIMITER_CODES
    from pdeflow.limiters import LIMITERS

    assert set(LIMITER_CODES) == set(LIMITERS)


def test_kernels_work_without_a_writable_cache(tmp_path):
    # numba's IPython locator declines ordinary files, so no cache folder is
    # found: the situation of a shared install run by another user.
    environment = os.environ | {"NUMBA_CACHE_LOCATOR_CLASSES": "IPythonCacheLocator"}
    command = argv(
        [sys.executable], "-m pdeflow.cli -q solve --t-end 1 --cells 8 --saves 2"
    )
    result = subprocess.run(
        [*command, "--out", str(tmp_path / "run.nc")],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run.nc").stat().st_size > 0
