"""Convergence studies: the order fit on synthetic data, and the quick study run."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pdeflow.convergence import fitted_order

ROOT = Path(__file__).resolve().parents[1]


def test_fitted_order_recovers_known_rates():
    levels = np.array([32.0, 64.0, 128.0, 256.0])
    assert fitted_order(levels, 3.0 * levels**-2.0, refine_up=True) == pytest.approx(
        2.0
    )
    steps = np.array([0.4, 0.2, 0.1])
    assert fitted_order(steps, 5.0 * steps, refine_up=False) == pytest.approx(1.0)


def test_fitted_order_skips_round_off_levels():
    levels = np.array([4.0, 8.0, 16.0, 32.0])
    differences = np.array([1e-4, 1e-6, 1e-16, 0.0])
    assert fitted_order(levels, differences, refine_up=True) == pytest.approx(
        np.log2(100.0)
    )
    assert np.isnan(fitted_order(levels[:1], differences[:1], refine_up=True))


def test_quick_study_shows_scheme_orders(tmp_path):
    # The quick plan of validation/convergence_order.py: d = 30, d_H = 5, space
    # levels 32 to 256 cells, time levels dt_max = 0.4 to 0.05 on 64 cells.
    script = ROOT / "validation" / "convergence_order.py"
    result = subprocess.run(
        [sys.executable, str(script), "--quick", "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    orders = json.loads((tmp_path / "convergence.json").read_text())
    assert 0.8 <= orders["upwind"]["space"] <= 1.2
    assert 0.8 <= orders["upwind"]["time"] <= 1.2
    assert orders["muscl"]["space"] >= 1.7
    assert orders["muscl"]["time"] >= 1.7
    # d = 30 has a smooth kernel, so the phi quadrature converges far faster
    # than any fixed algebraic order a kink would allow.
    assert orders["quadrature"]["d=30,d_H=5"] > 8.0
    assert (tmp_path / "convergence.png").stat().st_size > 10_000


def test_irregular_orders_are_reported(caplog):
    from pdeflow.convergence import Study, _warn_about_irregular_orders

    clear = Study("muscl space t=5", "space", "muscl", "cells", [32.0, 64.0])
    clear.orders = {"mass_plus": 2.0, "loss": 1.9}
    irregular = Study("muscl time t=5", "time", "muscl", "dt_max", [0.1, 0.05])
    irregular.orders = {"mass_plus": -0.53, "loss": float("nan")}
    with caplog.at_level("WARNING", logger="pdeflow"):
        _warn_about_irregular_orders([clear, irregular])
    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith("muscl time t=5: observed orders mass_plus -0.53")
    assert "loss nan are below 0.5" in message
