"""PyTensor's ``pytensor.tensor.slinalg`` module path: linear algebra in SciPy's names.

``cholesky``, ``solve``, ``solve_triangular``, ``cho_solve`` take SciPy's keywords (those
without a meaning here, such as ``check_finite`` and ``overwrite_a``, are accepted and
ignored); ``eigvalsh`` also solves the generalized problem ``a v = w b v``; ``block_diag``,
``solve_discrete_lyapunov`` and ``solve_continuous_lyapunov`` are built from other ops.
Not available: ``lu``, ``lu_factor``, ``lu_solve``, ``expm``, ``schur``, ``qz``,
``solve_discrete_are``; ``cholesky(on_error="nan")``.

Examples
--------
>>> import numpy as np
>>> from gnomon.tensor import slinalg
>>> a = np.array([[4.0, 2.0], [2.0, 3.0]])
>>> np.allclose(slinalg.cholesky(a).eval(), np.linalg.cholesky(a))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gnomon.errors import GnomonValueError, at_user_line, with_hint
from gnomon.graph.basic import Variable
from gnomon.tensor import basic as tb
from gnomon.tensor import creation, linalg, shapes
from gnomon.tensor import math as tm
from gnomon.tensor.basic import as_tensor
from gnomon.tensor.linalg import kron

__all__ = [
    "block_diag", "cho_solve", "cholesky", "eigvalsh", "kron", "qr", "solve",
    "solve_continuous_lyapunov", "solve_discrete_lyapunov", "solve_triangular",
]


def cholesky(x: Any, lower: bool = True, *, check_finite: bool = False,
             overwrite_a: bool = False, on_error: str = "raise") -> Variable:
    """Cholesky factor of a symmetric positive-definite matrix (``scipy.linalg.cholesky``):
    ``L @ L.T == x`` for ``lower=True``, else ``U.T @ U == x``. A matrix that is not positive
    definite raises ``LinAlgError`` at run time."""
    if on_error != "raise":
        raise GnomonValueError(with_hint(
            f"cholesky(on_error={on_error!r}) is not supported{at_user_line()}",
            "use on_error='raise' and check the matrix first (gnomon.ifelse on a condition)"))
    return linalg.cholesky(x, lower=lower)


def solve(a: Any, b: Any, *, assume_a: str = "gen", lower: bool = False,
          check_finite: bool = True, transposed: bool = False,
          b_ndim: int | None = None) -> Variable:
    """Solve ``a @ x = b`` (``scipy.linalg.solve``). ``assume_a`` (``'gen'``, ``'sym'``,
    ``'her'``, ``'pos'``) does not change the result here: every kind is solved by LU."""
    if assume_a not in ("gen", "sym", "her", "pos"):
        raise GnomonValueError(f"solve: assume_a={assume_a!r} is not one of 'gen', 'sym', "
                               f"'her', 'pos'{at_user_line()}")
    a = as_tensor(a)
    if transposed:
        a = shapes.swapaxes(a, -1, -2)
    return linalg.solve(a, b)


def solve_triangular(a: Any, b: Any, *, trans: int | str = 0, lower: bool = False,
                     unit_diagonal: bool = False, check_finite: bool = True,
                     b_ndim: int | None = None) -> Variable:
    """Solve ``a @ x = b`` for triangular ``a`` (``scipy.linalg.solve_triangular``)."""
    return linalg.solve_triangular(a, b, lower=lower, trans=trans, unit_diagonal=unit_diagonal)


def cho_solve(c_and_lower: tuple[Any, bool], b: Any, *, check_finite: bool = True,
              b_ndim: int | None = None) -> Variable:
    """Solve ``a @ x = b`` given ``(cholesky factor of a, lower)`` (``scipy.linalg.cho_solve``)."""
    return linalg.cho_solve(c_and_lower, b)


def eigvalsh(a: Any, b: Any = None, lower: bool = True) -> Variable:
    """Eigenvalues (ascending) of the symmetric ``a``, or of the generalized problem
    ``a v = w b v`` with ``b`` symmetric positive definite (``scipy.linalg.eigvalsh``).

    Examples
    --------
    >>> import numpy as np, scipy.linalg
    >>> a, b = np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> np.allclose(eigvalsh(a, b).eval(), scipy.linalg.eigvalsh(a, b))
    True
    """
    if not lower:
        raise GnomonValueError(with_hint(
            f"eigvalsh(lower=False) is not supported{at_user_line()}",
            "pass the matrix transposed (a.T) with lower=True"))
    if b is None:
        return linalg.eigvalsh(a)
    a = as_tensor(a)
    chol = linalg.cholesky(b, lower=True)
    # L^-1 a L^-T has the eigenvalues of the generalized problem
    m = linalg.solve_triangular(chol, a, lower=True)
    m = linalg.solve_triangular(chol, shapes.swapaxes(m, -1, -2), lower=True)
    return linalg.eigvalsh(m)


def qr(a: Any, mode: str = "economic", pivoting: bool = False) -> Any:
    """QR decomposition (``scipy.linalg.qr``): ``mode='economic'`` gives ``(q, r)`` of the
    reduced sizes, ``mode='r'`` gives ``(r,)``. ``'full'`` and pivoting are not supported."""
    if pivoting or mode not in ("economic", "r"):
        raise GnomonValueError(with_hint(
            f"qr(mode={mode!r}, pivoting={pivoting}) is not supported{at_user_line()}",
            "use mode='economic' or mode='r' without pivoting"))
    if mode == "r":
        return (linalg.qr(a, mode="r"),)
    return linalg.qr(a, mode="reduced")


def block_diag(*matrices: Any) -> Variable:
    """A block-diagonal matrix with the given matrices on its diagonal
    (``scipy.linalg.block_diag``).

    Examples
    --------
    >>> import numpy as np
    >>> block_diag(np.ones((1, 1)), 2 * np.ones((2, 1))).eval().tolist()
    [[1.0, 0.0], [0.0, 2.0], [0.0, 2.0]]
    """
    ms = [as_tensor(m) for m in matrices]
    if not ms:
        raise GnomonValueError(f"block_diag needs at least one matrix{at_user_line()}")
    for m in ms:
        if m.ndim != 2:
            raise GnomonValueError(f"block_diag takes matrices, got {m.type}{at_user_line()}")
    dtype = np.result_type(*[m.dtype for m in ms]).name
    rows = []
    for i, mi in enumerate(ms):
        row = [tb.cast(mi, dtype) if j == i else
               tb.zeros(shapes.stack([shapes.shape_i(mi, 0), shapes.shape_i(mj, 1)]), dtype)
               for j, mj in enumerate(ms)]
        rows.append(shapes.concatenate(row, axis=1))
    return shapes.concatenate(rows, axis=0)


def _vec_solve(op: Any, q: Any) -> Variable:
    q = as_tensor(q)
    n = shapes.shape_i(q, 0)
    x = linalg.solve(op, shapes.flatten(q, 1))
    return shapes.reshape(x, shapes.stack([n, n]))


def solve_discrete_lyapunov(a: Any, q: Any, method: str = "direct") -> Variable:
    """The ``X`` with ``a X a^H - X + q = 0`` (``scipy.linalg.solve_discrete_lyapunov``),
    solved directly as an ``n^2 x n^2`` linear system (for the small ``n`` of state-space
    models; ``method`` is accepted for compatibility).

    Examples
    --------
    >>> import numpy as np, scipy.linalg
    >>> a, q = np.array([[0.5, 0.1], [0.0, 0.3]]), np.eye(2)
    >>> np.allclose(solve_discrete_lyapunov(a, q).eval(),
    ...             scipy.linalg.solve_discrete_lyapunov(a, q))
    True
    """
    a = as_tensor(a)
    n = shapes.shape_i(a, 0)
    eye = creation.eye(tm.mul(n, n), dtype=a.dtype)
    return _vec_solve(tm.sub(eye, kron(a, tm.conj(a))), q)


def solve_continuous_lyapunov(a: Any, q: Any) -> Variable:
    """The ``X`` with ``a X + X a^H = q`` (``scipy.linalg.solve_continuous_lyapunov``), solved
    directly as an ``n^2 x n^2`` linear system.

    Examples
    --------
    >>> import numpy as np, scipy.linalg
    >>> a, q = np.array([[-1.0, 0.2], [0.0, -2.0]]), np.eye(2)
    >>> np.allclose(solve_continuous_lyapunov(a, q).eval(),
    ...             scipy.linalg.solve_continuous_lyapunov(a, q))
    True
    """
    a = as_tensor(a)
    eye = creation.eye(shapes.shape_i(a, 0), dtype=a.dtype)
    return _vec_solve(tm.add(kron(a, eye), kron(eye, tm.conj(a))), q)

