"""PyTensor's ``pytensor.tensor.nlinalg`` module path: linear algebra in NumPy's names.

The functions are those of :mod:`gnomon.tensor.linalg` (``inv``, ``det``, ``eigh``, ``svd``,
...) plus PyTensor's own names (``matrix_inverse``, ``matrix_dot``) and ``tensorinv`` /
``tensorsolve`` built from them. Not available: ``eig`` (general, complex eigenvalues).
``lstsq`` returns the solution only (PyTensor's also returns residuals, rank and singular
values).

Examples
--------
>>> import numpy as np
>>> from gnomon.tensor import nlinalg
>>> a = np.array([[2.0, 0.0], [0.0, 4.0]])
>>> nlinalg.matrix_inverse(a).eval().tolist()
[[0.5, 0.0], [0.0, 0.25]]
"""

from __future__ import annotations

from functools import reduce as _reduce
from typing import Any

from gnomon.errors import GnomonValueError, at_user_line
from gnomon.graph.basic import Variable
from gnomon.tensor import blas, reduce, shapes
from gnomon.tensor.arrays import trace
from gnomon.tensor.basic import as_tensor
from gnomon.tensor.linalg import (
    det,
    eigh,
    eigvalsh,
    inv,
    kron,
    lstsq,
    matrix_power,
    norm,
    pinv,
    qr,
    slogdet,
    solve,
    svd,
)

__all__ = [
    "det", "eigh", "eigvalsh", "inv", "kron", "lstsq", "matrix_dot", "matrix_inverse",
    "matrix_power", "norm", "pinv", "qr", "slogdet", "svd", "tensorinv", "tensorsolve", "trace",
]

matrix_inverse = inv


def matrix_dot(*args: Any) -> Variable:
    """The product of several matrices, left to right: ``matrix_dot(a, b, c) = a @ b @ c``."""
    if not args:
        raise GnomonValueError(f"matrix_dot needs at least one matrix{at_user_line()}")
    mats: list[Variable] = [as_tensor(a) for a in args]
    return _reduce(blas.dot, mats)


def _prod(dims: list[Any]) -> Any:
    return reduce.prod(shapes.stack(dims)) if dims else 1


def tensorinv(a: Any, ind: int = 2) -> Variable:
    """The inverse of ``a`` for :func:`numpy.tensordot` with ``ind`` axes (``numpy.linalg.
    tensorinv``): ``tensordot(tensorinv(a, ind), a, ind)`` is the identity.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.eye(6).reshape(6, 2, 3) * 2.0
    >>> np.allclose(tensorinv(a, 1).eval(), np.linalg.tensorinv(a, 1))
    True
    """
    a = as_tensor(a)
    dims = list(shapes.shape_tuple(a))
    first, last = dims[:ind], dims[ind:]
    a2 = shapes.reshape(a, shapes.stack([_prod(first), _prod(last)]))
    return shapes.reshape(inv(a2), shapes.stack([*last, *first]))


def tensorsolve(a: Any, b: Any, axes: Any = None) -> Variable:
    """Solve ``tensordot(a, x, x.ndim) = b`` for ``x`` (``numpy.linalg.tensorsolve``).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.eye(6).reshape(2, 3, 6) + 0.1
    >>> b = np.arange(6.0).reshape(2, 3)
    >>> np.allclose(tensorsolve(a, b).eval(), np.linalg.tensorsolve(a, b))
    True
    """
    a, b = as_tensor(a), as_tensor(b)
    if axes is not None:
        axes = [ax % a.ndim for ax in axes]
        order = [d for d in range(a.ndim) if d not in axes] + axes
        a = shapes.transpose(a, order)
    dims = list(shapes.shape_tuple(a))
    xdims = dims[b.ndim:]
    a2 = shapes.reshape(a, shapes.stack([_prod(dims[:b.ndim]), _prod(xdims)]))
    x = solve(a2, shapes.flatten(b, 1))
    return shapes.reshape(x, shapes.stack(xdims)) if xdims else x
