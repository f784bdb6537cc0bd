"""Argument types of the command line, with messages that name the value and the fix."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np


def integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """Return an argparse type for integers in [minimum, maximum]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not an integer: pass a whole number >= {minimum}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"{value} is too small: pass a value >= {minimum}"
            )
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(
                f"{value} is too large: pass a value <= {maximum}"
            )
        return value

    return parse


def number(text: str) -> float:
    """Parse a finite decimal number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number: pass a decimal such as 0.5 or 3e3"
        ) from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not finite: pass a finite number"
        )
    return value


def step_bound(text: str) -> float:
    """Parse an upper bound > 0 that may be ``inf`` (no bound)."""
    if text.strip().lower() in ("inf", "+inf", "infinity"):
        return float("inf")
    return positive_number(text)


def positive_number(text: str) -> float:
    """Parse a finite number > 0."""
    value = number(text)
    if value <= 0.0:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: pass a number > 0")
    return value


def times(text: str) -> np.ndarray:
    """Parse a comma-separated list of finite times."""
    try:
        values = np.array([float(item) for item in text.split(",") if item.strip()])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of times, such as 0,1,10,100"
        ) from None
    if not np.all(np.isfinite(values)):
        raise argparse.ArgumentTypeError(
            f"{text!r} contains nan or inf: pass finite times, such as 0,1,10,100"
        )
    return values


def add_dimensions(parser: argparse.ArgumentParser) -> None:
    """Add ``--d`` and ``--d-H``, the dimensions of the problem (default 30, 5)."""
    parser.add_argument(
        "--d", type=integer(2), default=30, help="input dimension d (default 30)"
    )
    parser.add_argument(
        "--d-H",
        dest="d_H",
        type=integer(1),
        default=5,
        help="dimension d_H of the subspace H, 1 <= d_H < d (default 5)",
    )
