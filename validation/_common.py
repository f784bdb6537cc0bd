"""Helpers shared by the validation scripts: arguments, JSON output, fits.

The scripts run as ``python validation/<name>.py``, so this folder is on
``sys.path`` and they import this module as ``_common``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def parse_arguments(doc: str) -> argparse.Namespace:
    """Parse ``--quick`` and ``--out-dir`` and create the output folder."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small runs for the test suite"
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path("validation/output"),
        help="folder of the figures and the JSON file",
    )
    args = parser.parse_args()
    if args.out_dir.exists() and not args.out_dir.is_dir():
        parser.error(f"--out-dir {args.out_dir} is a file: pass a folder")
    try:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--out-dir {args.out_dir} cannot be created ({error})")
    return args


def write_json(path: Path, report: dict) -> None:
    """Write the report as indented JSON, with NaN stored as null."""

    def clean(value: object) -> object:
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [clean(item) for item in value]
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not np.isfinite(value):
            return None
        return value

    path.write_text(json.dumps(clean(report), indent=2) + "\n")


def critical_time(times: np.ndarray, mass_plus: np.ndarray, alpha: float) -> float:
    """Return the first time the mass of tau_plus exceeds alpha, or nan.

    The crossing is located by linear interpolation between the two saves
    around it.
    """
    above = np.flatnonzero(mass_plus > alpha)
    if above.size == 0 or above[0] == 0:
        return float("nan")
    k = above[0]
    fraction = (alpha - mass_plus[k - 1]) / (mass_plus[k] - mass_plus[k - 1])
    return float(times[k - 1] + fraction * (times[k] - times[k - 1]))


def loglog_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Fit the exponent p of y ~ x^p by least squares on log-log axes.

    Non-positive values are left out; returns nan with fewer than two points.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = (x > 0.0) & (y > 0.0)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def mean_and_spread(values: list[float]) -> dict:
    """Return the mean, the sample standard deviation and the count."""
    array = np.asarray(values, dtype=float)
    spread = float(array.std(ddof=1)) if array.size > 1 else float("nan")
    return {"mean": float(array.mean()), "sd": spread, "n": int(array.size)}
