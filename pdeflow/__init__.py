"""pdeflow: the mean-field training dynamics of wide two-layer ReLU networks.

In the symmetric setting of Hajjar and Chizat (2023), "On the symmetries in the
dynamics of wide two-layer neural networks", the infinite-width gradient flow
reduces to two measures tau_plus and tau_minus on the angle theta in [0, pi/2]
between neurons and a subspace H. pdeflow evolves their densities on a mesh.

>>> import pdeflow
>>> problem = pdeflow.Problem(d=30, d_H=5)
>>> run = pdeflow.solve(problem, t_end=1.0, cells=64, saves=3)
>>> sorted(run.sizes.items())[:2]
[('face', 65), ('phi', 65)]

Names load on first use, so that ``import pdeflow`` and the start of the
command line stay fast and free of numpy, scipy and xarray until needed.
"""

from importlib import import_module as _import_module
from importlib.util import find_spec as _find_spec

# Public name -> module that defines it.
_EXPORTS = {
    "Mesh": "mesh",
    "Problem": "problem",
    "compare": "comparison",
    "open_run": "output",
    "solve": "solver",
    "write_netcdf": "output",
}
_SUBMODULES = ("initial", "kernel", "quadrature", "scheme")

__all__ = [*sorted(_EXPORTS), *_SUBMODULES, "__version__"]


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        value = _import_module(f".{name}", __name__)
    elif name in _EXPORTS:
        value = getattr(_import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name == "__version__":
        value = _import_module(".version", __name__).package_version()
    elif not name.startswith("_") and _find_spec(f"{__name__}.{name}") is not None:
        # Any other submodule, such as pdeflow.config or pdeflow.animation.
        value = _import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'pdeflow' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # Module attributes (__file__, loaded submodules) and the lazy names.
    loaded = [name for name in globals() if not name.startswith("_") or "__" in name]
    return sorted({*loaded, *__all__})
