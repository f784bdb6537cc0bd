"""Run configurations: TOML files, command-line values and re-created runs.

A configuration is every option of ``pdeflow solve``. It comes in layers that
override each other in this order: the defaults, the configuration stored in a
run file (``--from``), a TOML file (``--config``) and the command-line flags.
:func:`run_config` solves one configuration and records all of it in the
attributes of the run, so that :func:`read_run_config` can re-create the run from
its NetCDF file alone.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .checks import MAX_N_PHI, check_input_file, is_integer, is_real
from .initial import (
    MAX_MASS,
    MIN_WIDTH,
    PAPER_LABEL,
    Start,
    concentrated_start,
    paper_start,
)
from .limiters import LIMITERS
from .mesh import Mesh
from .output import open_run
from .problem import Problem
from .scheme import DEFAULT_LIMITER, SCHEMES
from .solver import DEFAULT_N_PHI, DEFAULT_SAVES, solve

CONFIG_ATTRIBUTE = "run_config"


class _Unset:
    """Type of UNSET, the default of command-line options that were not given."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()
IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


class ConfigError(ValueError):
    """An invalid configuration value; the one-line message names key, value and fix."""


@dataclass(frozen=True)
class RunConfig:
    """Every option of one run of ``pdeflow solve``, with its defaults.

    Attributes
    ----------
    d, d_H : int
        Input dimension and dimension of the subspace H, 1 <= d_H < d.
    t_end : float
        Final time of the mean-field gradient flow, > 0.
    cells : int
        Number of cells of [0, pi/2], >= 2.
    mesh : str
        ``"uniform"`` or ``"graded"`` (refined toward theta = 0).
    grading : float
        Exponent of the graded mesh, >= 1; unused on a uniform mesh.
    grade_both_ends : bool
        Grade the mesh toward pi/2 as well as toward 0.
    cfl : float
        Courant number in (0, 1].
    dt_max : float
        Upper bound of the time step, > 0, in time units; ``inf`` for none.
    scheme, limiter : str
        Finite-volume scheme and slope limiter of the MUSCL scheme.
    n_phi : int
        Gauss–Jacobi nodes of the angle law g, >= 2.
    saves : int
        Number of log-spaced save times, >= 2, used when ``save_times`` is None.
    save_times : tuple of float or None
        Explicit save times in [0, t_end].
    out : str
        NetCDF file of the run.
    plot : str or None
        Image file to draw the run into.
    start_width : float or None
        None for the start g/2, g/2 of Hajjar and Chizat (2023). Otherwise the
        width in radians, in [1e-12, 0.3], of a tau_plus concentrated at
        theta = 0 (:func:`pdeflow.initial.concentrated_start`).
    start_mass_plus, start_mass_minus : float or None
        Masses of that concentrated start; None for alpha / 2 and 1/2.
    """

    d: int = 30
    d_H: int = 5
    t_end: float = 3000.0
    cells: int = 1024
    mesh: str = "uniform"
    grading: float = 2.0
    grade_both_ends: bool = False
    cfl: float = 0.9
    dt_max: float = math.inf
    scheme: str = "upwind"
    limiter: str = DEFAULT_LIMITER
    n_phi: int = DEFAULT_N_PHI
    saves: int = DEFAULT_SAVES
    save_times: tuple[float, ...] | None = None
    out: str = "run.nc"
    plot: str | None = None
    start_width: float | None = None
    start_mass_plus: float | None = None
    start_mass_minus: float | None = None

    def build_start(self, problem: Problem) -> Start:
        """Build the initial state that this configuration describes."""
        if self.start_width is None:
            return paper_start(problem)
        masses = {
            "mass_plus": self.start_mass_plus,
            "mass_minus": 0.5
            if self.start_mass_minus is None
            else self.start_mass_minus,
        }
        return concentrated_start(problem, self.start_width, **masses)

    def build_mesh(self) -> Mesh:
        """Build the mesh of [0, pi/2] that this configuration describes."""
        if self.mesh == "uniform":
            return Mesh.uniform(self.cells)
        ends = "both" if self.grade_both_ends else "zero"
        return Mesh.graded(self.cells, power=self.grading, ends=ends)

    def to_json(self) -> str:
        """Serialise to JSON; ``dt_max = inf`` is written as ``Infinity``.

        Unset values (None) are left out, and so is ``saves`` when
        ``save_times`` is set, because the solver ignores it then.
        """
        values = {
            key: value for key, value in asdict(self).items() if value is not None
        }
        if "save_times" in values:
            values["save_times"] = list(values["save_times"])
            del values["saves"]
        return json.dumps(values, sort_keys=True)


KEYS = tuple(item.name for item in fields(RunConfig))


@dataclass(frozen=True)
class _Rule:
    """Accepted type and range of one key, with the fix to show when it fails."""

    # "int", "float", "bool", "str", "float?" and "str?" (None allowed), "times"
    kind: str
    fix: str
    valid: Callable[[Any], bool] = lambda value: True
    problem: str = "is out of range"


def _at_least(minimum: float) -> Callable[[Any], bool]:
    return lambda value: value >= minimum


RULES: dict[str, _Rule] = {
    "d": _Rule("int", "pass an integer >= 2", _at_least(2)),
    "d_H": _Rule("int", "pass an integer >= 1 (and < d)", _at_least(1)),
    "t_end": _Rule(
        "float", "pass a finite time > 0", lambda v: math.isfinite(v) and v > 0
    ),
    "cells": _Rule("int", "pass an integer >= 2", _at_least(2)),
    "mesh": _Rule(
        "str", "pass 'uniform' or 'graded'", lambda v: v in ("uniform", "graded")
    ),
    "grading": _Rule(
        "float", "pass an exponent >= 1", lambda v: math.isfinite(v) and v >= 1
    ),
    "grade_both_ends": _Rule("bool", "pass true or false"),
    "cfl": _Rule("float", "pass a Courant number in (0, 1]", lambda v: 0 < v <= 1),
    "dt_max": _Rule("float", "pass a step bound > 0 (inf for none)", lambda v: v > 0),
    "scheme": _Rule("str", f"pass one of {', '.join(SCHEMES)}", lambda v: v in SCHEMES),
    "limiter": _Rule(
        "str", f"pass one of {', '.join(sorted(LIMITERS))}", lambda v: v in LIMITERS
    ),
    "n_phi": _Rule(
        "int", f"pass an integer in [2, {MAX_N_PHI}]", lambda v: 2 <= v <= MAX_N_PHI
    ),
    "saves": _Rule("int", "pass an integer >= 2", _at_least(2)),
    "save_times": _Rule(
        "times",
        "pass a non-empty list of finite times >= 0, such as [0, 10, 100]",
        lambda v: len(v) > 0 and all(math.isfinite(t) and t >= 0 for t in v),
    ),
    "out": _Rule("str", 'pass a file name such as "run.nc"', lambda v: v != ""),
    "plot": _Rule(
        "str?",
        f"pass an image file name ending in {', '.join(IMAGE_SUFFIXES)}",
        lambda v: Path(v).suffix.lower() in IMAGE_SUFFIXES,
        "has no known suffix",
    ),
    "start_width": _Rule(
        "float?",
        f"pass a width in [{MIN_WIDTH:g}, 0.3] radians",
        lambda v: MIN_WIDTH <= v <= 0.3,
    ),
    "start_mass_plus": _Rule(
        "float?", f"pass a mass in (0, {MAX_MASS:g}]", lambda v: 0 < v <= MAX_MASS
    ),
    "start_mass_minus": _Rule(
        "float?", f"pass a mass in [0, {MAX_MASS:g}]", lambda v: 0 <= v <= MAX_MASS
    ),
}


def format_value(value: Any) -> str:
    """Format a value as it would appear in a TOML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return repr(value)


def _type_name(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "string"}
    return names.get(type(value), type(value).__name__)


COMMAND_LINE = "command line"


def describe(key: str, value: Any, where: str) -> str:
    """Name a key and its value as the user wrote them, for error messages."""
    if where == COMMAND_LINE:
        flag = "--" + key.replace("_", "-")
        # Ten digits, so that 0.3000001 is not shown as the bound 0.3.
        if isinstance(value, float):
            return f"{flag} {value:.10g}"
        if isinstance(value, list | tuple):
            return f"{flag} " + ",".join(f"{item:.10g}" for item in value)
        return f"{flag} {value}"
    return f"{where}: {key} = {format_value(value)}"


def check_value(key: str, value: Any, where: str) -> Any:
    """Check one configuration value and return it in its canonical type.

    Parameters
    ----------
    key : str
        A key of :class:`RunConfig`.
    value : object
        The value as read from TOML, JSON or the command line.
    where : str
        Origin of the value: a file name such as ``"run.toml"``, or
        ``COMMAND_LINE`` to name the value by its flag in error messages.

    Raises
    ------
    ConfigError
        When the key is unknown or the value has the wrong type or range.
    """
    if key not in RULES:
        close = difflib.get_close_matches(key, KEYS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "remove it"
        raise ConfigError(
            f"{where}: unknown key {key} = {format_value(value)}: {hint} "
            f"(known keys: {', '.join(KEYS)})"
        )
    rule = RULES[key]
    canonical = _convert(rule.kind, value)
    if canonical is _INVALID:
        raise ConfigError(
            f"{describe(key, value, where)} has type {_type_name(value)}: {rule.fix}"
        )
    if canonical is not None and not rule.valid(canonical):
        raise ConfigError(f"{describe(key, value, where)} {rule.problem}: {rule.fix}")
    return canonical


_INVALID = object()


def _convert(kind: str, value: Any) -> Any:
    """Return ``value`` in the type of ``kind``, or ``_INVALID``."""
    if kind == "int":
        return int(value) if is_integer(value) else _INVALID
    if kind == "float":
        return float(value) if is_real(value) else _INVALID
    if kind == "float?":
        return _convert("float", value) if value is not None else None
    if kind == "bool":
        return value if isinstance(value, bool) else _INVALID
    if kind == "str":
        return value if isinstance(value, str) else _INVALID
    if kind == "str?":
        return value if value is None or isinstance(value, str) else _INVALID
    # "times": a list of numbers, or None for "use saves"
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple) or not all(map(is_real, value)):
        return _INVALID
    return tuple(float(item) for item in value)


def check_values(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check a mapping of configuration values; return them in canonical types.

    Setting both ``saves`` and ``save_times`` in one mapping is an error, because
    one of them would be ignored.
    """
    checked = {key: check_value(key, value, where) for key, value in values.items()}
    if checked.get("saves") is not None and checked.get("save_times") is not None:
        raise ConfigError(
            f"{where}: saves = {checked['saves']} and save_times are both set: "
            "keep only one of them"
        )
    return checked


Layer = tuple[Mapping[str, Any], str]


def merge(*layers: Layer) -> RunConfig:
    """Combine checked layers into a validated RunConfig; later layers win.

    Parameters
    ----------
    *layers : (mapping, str)
        Checked values (see :func:`check_values`) and their origin, such as
        ``({"cells": 64}, "run.toml")``.

    A layer that sets ``saves`` clears ``save_times`` of the earlier layers and
    the reverse, so a command-line ``--saves`` overrides a file's ``save_times``.

    Raises
    ------
    ConfigError
        When d_H >= d or a save time lies beyond t_end.
    """
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for layer, where in layers:
        if layer.get("saves") is not None:
            values.pop("save_times", None)
        if layer.get("save_times") is not None:
            values.pop("saves", None)
        values.update(layer)
        origin.update(dict.fromkeys(layer, where))
    config = RunConfig(**values)
    _check_start(config, origin)
    if config.d_H >= config.d:
        name = describe("d_H", config.d_H, origin.get("d_H", "defaults"))
        raise ConfigError(f"{name} is out of range for d = {config.d}: pass d_H < d")
    if config.save_times is not None and max(config.save_times) > config.t_end:
        name = describe("save_times", config.save_times, origin["save_times"])
        raise ConfigError(
            f"{name} go beyond t_end = {config.t_end:g}: pass times in [0, t_end]"
        )
    return config


def _check_start(config: RunConfig, origin: Mapping[str, str]) -> None:
    """Reject start masses given without the width that they belong to."""
    if config.start_width is not None:
        return
    for key in ("start_mass_plus", "start_mass_minus"):
        value = getattr(config, key)
        if value is not None:
            name = describe(key, value, origin[key])
            raise ConfigError(
                f"{name} needs start_width (--start-width): give the width of "
                "the concentrated tau_plus, or drop the mass"
            )


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check the run options of a TOML file.

    Parameters
    ----------
    path : str or path-like
        TOML file with top-level keys of :class:`RunConfig`, such as
        ``cells = 256``.

    Returns
    -------
    dict
        The checked values, in canonical types.

    Raises
    ------
    ConfigError
        When the file is missing, not valid TOML, or contains an invalid key or value.
    """
    return check_values(read_toml(path), str(path))


def read_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a TOML file; raise ConfigError with the fix when that fails."""
    source = check_input_file(path, "configuration file", "a TOML file", ConfigError)
    try:
        with source.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"{source}: invalid TOML ({error}): fix the syntax, for example "
            'cells = 256 or scheme = "muscl"'
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{source}: not UTF-8 text: save the TOML file as UTF-8"
        ) from None


def run_attributes(config: RunConfig) -> dict[str, Any]:
    """Return the NetCDF attributes that record a configuration.

    The solver records d, d_H, t_end, cells, cfl, dt_max, scheme, n_phi and the
    mesh kind itself; these attributes add the rest, and ``run_config`` holds
    the whole configuration as JSON.
    """
    return {
        "grading": config.grading,
        "grade_both_ends": int(config.grade_both_ends),
        "saves": -1 if config.save_times is not None else config.saves,
        CONFIG_ATTRIBUTE: config.to_json(),
    }


def run_config(config: RunConfig, progress: bool | None = False) -> xr.Dataset:
    """Solve the run that a configuration describes.

    Parameters
    ----------
    config : RunConfig
        The run; ``out`` and ``plot`` are recorded but not written here.
    progress : bool or None
        Show a progress bar; None shows it only when stderr is a terminal.

    Returns
    -------
    xarray.Dataset
        The run of :func:`pdeflow.solve`, with :func:`run_attributes` added.
    """
    problem = Problem(config.d, config.d_H)
    run = solve(
        problem,
        config.t_end,
        mesh=config.build_mesh(),
        cfl=config.cfl,
        dt_max=config.dt_max,
        scheme=config.scheme,
        limiter=config.limiter,
        n_phi=config.n_phi,
        save_times=None if config.save_times is None else np.array(config.save_times),
        saves=config.saves,
        progress=progress,
        initial=config.build_start(problem),
    )
    run.attrs.update(run_attributes(config))
    return run


_GRADED = re.compile(r"graded\(power=([^,]+), ends=(zero|both)\)")
_CONCENTRATED = re.compile(
    r"concentrated: tau_plus = (\S+) x half-normal\(width=(\S+) rad\), "
    r"tau_minus = (\S+) x g"
)


def read_run_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read the configuration of a run file, for re-creating the run.

    Files written by ``pdeflow solve`` or :func:`run_config` store it in the
    ``run_config`` attribute. For other pdeflow runs it is rebuilt from the
    attributes of the solver and the ``save_times`` variable, and the mesh is
    checked against the stored cell faces. ``out`` and ``plot`` are left out,
    so a re-created run never overwrites its source.

    Raises
    ------
    OSError
        When the file is not a pdeflow run.
    ConfigError
        When the stored values are invalid or the mesh cannot be rebuilt.
    """
    run = open_run(path)
    if "kind" in run.attrs:  # set by the particle routes only
        raise ConfigError(
            f"{path} is a particle run ({run.attrs['kind']}): --from re-creates "
            "runs of pdeflow solve; run pdeflow particles again instead"
        )
    where = f"{path} (attribute {CONFIG_ATTRIBUTE})"
    if CONFIG_ATTRIBUTE in run.attrs:
        try:
            stored = json.loads(run.attrs[CONFIG_ATTRIBUTE])
        except json.JSONDecodeError as error:
            raise ConfigError(
                f"{where} is not valid JSON ({error}): re-create the run from a "
                "TOML file instead"
            ) from None
        if not isinstance(stored, dict):
            raise ConfigError(
                f"{where} is not a JSON object of options: re-create the run "
                "from a TOML file instead"
            )
    else:
        where = f"{path} (solver attributes)"
        stored = _config_from_attributes(run, where)
    stored = {k: v for k, v in stored.items() if k not in ("out", "plot")}
    values = check_values(stored, where)
    config = merge((values, where))
    mesh = config.build_mesh()
    if mesh.cells != run.sizes["theta"] or not np.array_equal(
        mesh.edges, run.theta_edges.values
    ):
        raise ConfigError(
            f"{where}: mesh = {format_value(values.get('mesh'))} does not rebuild "
            "the cell faces stored in the file: re-create the run from a TOML file"
        )
    _check_start_rebuilds(run, config, mesh, where)
    return values


def _check_start_rebuilds(
    run: xr.Dataset, config: RunConfig, mesh: Mesh, where: str
) -> None:
    """Raise ConfigError when the rebuilt start differs from the stored t = 0."""
    if run.sizes["time"] == 0 or float(run.time[0]) != 0.0:
        return
    problem = Problem(config.d, config.d_H)
    rebuilt = config.build_start(problem).densities(mesh)
    stored = (run.tau_plus.values[0], run.tau_minus.values[0])
    for name, new, old in zip(("tau_plus", "tau_minus"), rebuilt, stored, strict=True):
        if not np.allclose(new, old, rtol=1e-12, atol=0.0):
            raise ConfigError(
                f"{where}: the start {config.build_start(problem).label!r} does not "
                f"rebuild {name} as stored at t = 0: re-create the run in Python "
                "with its pdeflow.initial.Start"
            )


def _config_from_attributes(run: xr.Dataset, where: str) -> dict[str, Any]:
    attrs = run.attrs
    values: dict[str, Any] = {
        "d": int(attrs["d"]),
        "d_H": int(attrs["d_H"]),
        "cells": int(attrs["cells"]),
        "save_times": [float(t) for t in run.save_times.values]
        if "save_times" in run
        else [float(t) for t in run.time.values],
    }
    for key in ("t_end", "cfl", "dt_max"):
        if key in attrs:
            values[key] = float(attrs[key])
    for key in ("scheme", "n_phi"):
        if key in attrs:
            values[key] = attrs[key] if key == "scheme" else int(attrs[key])
    if attrs.get("limiter", "none") != "none":
        values["limiter"] = str(attrs["limiter"])
    kind = str(attrs.get("mesh", "uniform"))
    graded = _GRADED.fullmatch(kind)
    if graded:
        values["mesh"] = "graded"
        try:
            values["grading"] = float(graded.group(1))
        except ValueError:
            raise ConfigError(
                f"{where}: mesh = {format_value(kind)} has no numeric power: "
                "re-create the run from a TOML file"
            ) from None
        values["grade_both_ends"] = graded.group(2) == "both"
    elif kind != "uniform":
        raise ConfigError(
            f"{where}: mesh = {format_value(kind)} cannot be rebuilt from the "
            "options of pdeflow solve: only uniform and graded meshes can"
        )
    label = str(attrs.get("initial", PAPER_LABEL))
    return values | _start_from_label(label, Problem(values["d"], values["d_H"]), where)


def _start_from_label(label: str, problem: Problem, where: str) -> dict[str, Any]:
    """Return the start options that the ``initial`` attribute of a run names.

    Masses equal to their defaults (alpha / 2 and 1/2) are left unset, as a
    run of ``pdeflow solve`` records them, so that both kinds of run file
    follow a changed d or d_H in the same way.
    """
    if label == PAPER_LABEL:
        return {}
    concentrated = _CONCENTRATED.fullmatch(label)
    try:
        mass_plus, width, mass_minus = (float(text) for text in concentrated.groups())
    except (AttributeError, ValueError):
        raise ConfigError(
            f"{where}: initial = {format_value(label)} cannot be rebuilt from the "
            "options of pdeflow solve: only the paper's and concentrated starts can"
        ) from None
    values = {"start_width": width}
    if mass_plus != 0.5 * problem.alpha:
        values["start_mass_plus"] = mass_plus
    if mass_minus != 0.5:
        values["start_mass_minus"] = mass_minus
    return values


def resolve_arguments(args: argparse.Namespace) -> RunConfig:
    """Merge ``--from``, ``--config`` and the flags of ``pdeflow solve``.

    The solve options of ``args`` must default to ``UNSET``, so that only flags
    given on the command line override the files.
    ``args`` is then filled with every value of the merged configuration, with
    ``save_times`` as an array or None.

    Raises
    ------
    ConfigError
        On an invalid value in any layer.
    OSError
        When the ``--from`` file is not a pdeflow run.
    """
    layers: list[Layer] = []
    source = getattr(args, "from_run", None)
    if source is not None:
        values = read_run_config(source)
        values["out"] = str(Path(source).with_name(Path(source).stem + ".rerun.nc"))
        layers.append((values, str(source)))
    if getattr(args, "config", None) is not None:
        layers.append((read_config_file(args.config), str(args.config)))
    flags = {
        key: getattr(args, key)
        for key in KEYS
        if getattr(args, key, UNSET) is not UNSET
    }
    layers.append((check_values(flags, COMMAND_LINE), COMMAND_LINE))
    config = merge(*layers)

    for key in KEYS:
        setattr(args, key, getattr(config, key))
    if config.save_times is not None:
        args.save_times = np.array(config.save_times)
    return config
