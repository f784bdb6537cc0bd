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
"""

from . import kernel, quadrature, scheme
from .comparison import compare
from .mesh import Mesh
from .output import open_run, package_version, write_netcdf
from .problem import Problem
from .solver import solve

__version__ = package_version()

__all__ = [
    "Mesh",
    "Problem",
    "compare",
    "kernel",
    "open_run",
    "quadrature",
    "scheme",
    "solve",
    "write_netcdf",
    "__version__",
]
