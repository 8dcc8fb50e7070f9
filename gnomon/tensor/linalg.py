"""Linear algebra: inverses, determinants, solves, factorizations, norms (``gnomon.tensor.linalg``,
also exported from ``gnomon.tensor``).

Each op wraps the NumPy / SciPy (LAPACK) routine of the same name in ``perform`` and has a
gradient written with gnomon's own functions, so gradients of gradients work wherever the
formula is smooth. Run-time LAPACK failures (a singular matrix, a matrix that is not positive
definite) raise :class:`LinAlgError` (also a ``numpy.linalg.LinAlgError``), which the runtime
reports with the node and the line of your code that built it.

Batches (leading dimensions, broadcast where NumPy broadcasts) are accepted by ``inv``, ``det``,
``slogdet``, ``solve``, ``solve_triangular``, ``cho_solve``, ``cholesky``, ``eigh``, ``svd``,
``qr``, ``pinv``, ``matrix_power`` and the matrix norms with ``axis``; ``lstsq`` and ``kron``
take single matrices as in NumPy.

Symmetric inputs: like NumPy, ``cholesky`` and ``eigh`` read only the lower triangle, and
their gradients are those of that function (zero on the strict upper triangle). For an input
built symmetrically (``a = x @ x.T``) the chain rule gives the usual symmetric result.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, ShapeError
from gnomon.errors import at_user_line as _where
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.op import Op, grad_not_implemented
from gnomon.tensor.basic import as_tensor, ones_like
from gnomon.tensor.blas import (
    _batch_shape,
    _broadcast_batch,
    _is_float,
    matmul,
    matrix_transpose,
)
from gnomon.tensor.elemwise import sum_to
from gnomon.tensor.shapes import expand_dims
from gnomon.tensor.type import TensorType

__all__ = [
    "SVD",
    "BandPart",
    "Cholesky",
    "Det",
    "Eigh",
    "LinAlgError",
    "MatrixInverse",
    "Pinv",
    "QR",
    "SLogDet",
    "Solve",
    "SolveTriangular",
    "cho_solve",
    "cholesky",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "kron",
    "lstsq",
    "matrix_power",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
]


class LinAlgError(GnomonValueError, np.linalg.LinAlgError):
    """A LAPACK routine failed on the values it was given (singular, not positive definite).

    Also a ``numpy.linalg.LinAlgError``, so code that catches NumPy's error keeps working.
    """

    # A plain constructor: the runtime then re-raises this same class with the node and the
    # user's line added to the message (instead of a generic GnomonRuntimeError).
    __init__ = Exception.__init__


@functools.lru_cache(maxsize=512)
def _result_dtype(name: str, *dtypes: str) -> str:
    """The dtype NumPy / SciPy gives for ``name`` on inputs of ``dtypes`` (a 1x1 call)."""
    xs = [np.ones((1, 1), d) for d in dtypes]
    with np.errstate(all="ignore"):
        out = _PROBES[name](*xs)
    return np.asarray(out).dtype.name


def _probe_solve_triangular(a: np.ndarray, b: np.ndarray) -> Any:
    import scipy.linalg

    return scipy.linalg.solve_triangular(a, b)


def _first(*dims: int | None) -> int | None:
    return next((d for d in dims if d is not None), None)


def _drop_last(x: Variable) -> Variable:
    """Remove a trailing length-1 axis (the column of a vector solved in matrix form)."""
    from gnomon.tensor.shapes import dimshuffle

    return dimshuffle(x, list(range(x.ndim - 1)))


_PROBES: dict[str, Callable[[np.ndarray], Any]] = {
    "inv": np.linalg.inv,
    "det": np.linalg.det,
    "solve": np.linalg.solve,  # type: ignore[dict-item]
    "solve_triangular": _probe_solve_triangular,  # type: ignore[dict-item]
    "cholesky": np.linalg.cholesky,
    "eigh": lambda x: np.linalg.eigh(x)[0],
    "svd": lambda x: np.linalg.svd(x, compute_uv=False),
    "qr": lambda x: np.linalg.qr(x)[0],
    "pinv": np.linalg.pinv,
}


def _dtype_for(name: str, *xs: Variable) -> str:
    try:
        return _result_dtype(name, *[x.dtype for x in xs])
    except (TypeError, np.linalg.LinAlgError):
        dts = " and ".join(x.dtype for x in xs)
        raise GnomonTypeError(
            f"{name}: arrays of dtype {dts} are not supported by LAPACK{_where()}.\n"
            "Hint: cast the input to float32 or float64 first (x.astype('float64'))."
        ) from None


def _square(what: str, x: Any, min_ndim: int = 2) -> Variable:
    x = as_tensor(x)
    if x.ndim < min_ndim:
        raise ShapeError(
            f"{what} needs a matrix (or a stack of matrices, shape (..., n, n)), but got "
            f"{x.type}{_where()}.\nHint: pass a 2-d array (or a stack of them); check the "
            "argument, or use expand_dims to turn a vector into a one-column matrix."
        )
    m, n = x.type.shape[-2:]
    if m is not None and n is not None and m != n:
        raise ShapeError(
            f"{what} needs square matrices, but the last two dimensions of {x} have lengths "
            f"{m} and {n} (shape {x.type.shape_str()}){_where()}.\n"
            "Hint: for non-square matrices use pinv or lstsq (least squares), or svd."
        )
    return x


def _matrix(what: str, x: Any) -> Variable:
    x = as_tensor(x)
    if x.ndim < 2:
        raise ShapeError(
            f"{what} needs a matrix (or a stack of them, shape (..., m, n)), but got {x.type}"
            f"{_where()}.\nHint: check that you passed the right argument."
        )
    return x


def _lapack(what: str, fn: Callable[[], Any], problem: str, hint: str) -> Any:
    try:
        return fn()
    except np.linalg.LinAlgError as e:
        raise LinAlgError(f"{what}: {problem} (LAPACK: {e}).\nHint: {hint}") from None


_mT = matrix_transpose


def _expand2(x: Variable) -> Variable:
    return expand_dims(x, (-2, -1)) if x.ndim else expand_dims(x, (0, 1))


# --- BandPart: triangles and diagonals ------------------------------------------------------


@dataclass(frozen=True)
class BandPart(Op):
    """Keep ``x[..., i, j]`` where ``lo <= j - i <= hi`` and zero the rest (``None``: no limit).

    ``BandPart(None, 0)`` is ``tril``, ``BandPart(0, None)`` is ``triu`` and ``BandPart(0, 0)``
    keeps the diagonal. Linear and self-adjoint: its gradient is itself.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> BandPart(None, 0)(gt.constant(np.ones((2, 2)))).eval().tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """

    lo: int | None
    hi: int | None

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        if x.ndim < 2:
            raise ShapeError(f"{self} needs an array of rank >= 2, got {x.type}")
        return Apply.make(self, [x], [x.type])

    def perform(self, node, inputs):
        (x,) = inputs
        m, n = x.shape[-2:]
        d = np.arange(n)[None, :] - np.arange(m)[:, None]
        mask = np.ones((m, n), dtype=bool)
        if self.lo is not None:
            mask &= d >= self.lo
        if self.hi is not None:
            mask &= d <= self.hi
        return (np.where(mask, x, np.zeros((), x.dtype)).astype(x.dtype, copy=False),)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def pullback(self, node, output_grads):
        return [self(output_grads[0]) if _is_float(node.inputs[0]) else None]

    def pushforward(self, node, tangents):
        return [None if tangents[0] is None else self(tangents[0])]

    def __str__(self) -> str:
        return f"BandPart{{{self.lo},{self.hi}}}"


def _is_zero(g: Variable | None) -> bool:
    """True for a gradient known to be zero (the filler ``grad`` passes for unused outputs)."""
    from gnomon.graph.basic import Constant
    from gnomon.tensor.basic import Alloc

    if g is None:
        return True
    if g.owner is not None and isinstance(g.owner.op, Alloc):
        g = g.owner.inputs[0]
    return isinstance(g, Constant) and not np.any(g.data)


def _min_dim(m: Variable, n: Variable) -> Variable:
    from gnomon.graph.basic import Constant
    from gnomon.tensor.math import lt, where

    if isinstance(m, Constant) and isinstance(n, Constant):
        return m if int(m.data) <= int(n.data) else n
    return where(lt(m, n), m, n)


def _tril(x: Variable, k: int = 0) -> Variable:
    return BandPart(None, k)(x)


def _triu(x: Variable, k: int = 0) -> Variable:
    return BandPart(k, None)(x)


def _eye_like(x: Variable) -> Variable:
    """Identity matrices of ``x``'s (square) shape and dtype."""
    return BandPart(0, 0)(ones_like(x))


def _diag_embed(d: Variable) -> Variable:
    """Matrices with ``d`` (shape (..., n)) on the diagonal."""
    from gnomon.tensor.math import mul

    return BandPart(0, 0)(mul(expand_dims(d, -1), ones_like(expand_dims(d, -2))))


def _lower_read_grad(m: Variable) -> Variable:
    """Gradient for a function that reads only the lower triangle of a symmetric argument.

    ``m`` is a gradient valid for symmetric perturbations; the entry below the diagonal stands
    for both itself and its mirror image, so it collects ``m + m.T``.
    """
    from gnomon.tensor.math import add

    return add(_tril(add(m, _mT(m)), -1), BandPart(0, 0)(m))


# --- inverse and determinants --------------------------------------------------------------


@dataclass(frozen=True)
class MatrixInverse(Op):
    """``np.linalg.inv`` of a square matrix or a stack of them."""

    def make_node(self, a: Any) -> Apply:
        a = _square("inv", a)
        return Apply.make(self, [a], [TensorType(_dtype_for("inv", a), a.type.shape)])

    def perform(self, node, inputs):
        out = _lapack("inv", lambda: np.linalg.inv(inputs[0]), "the matrix is singular",
                      "the inverse does not exist; use pinv for a pseudo-inverse, or solve(a, b) "
                      "if you only need inv(a) @ b")
        return (np.asarray(out, dtype=node.outputs[0].dtype),)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import neg

        x = node.outputs[0]
        xt = _mT(x)
        return [neg(matmul(matmul(xt, output_grads[0]), xt))]

    def pushforward(self, node, tangents):
        from gnomon.tensor.math import neg

        x = node.outputs[0]
        return [neg(matmul(matmul(x, tangents[0]), x))]


def inv(a: Any) -> Variable:
    """Inverse of a square matrix (or of each matrix of a stack), like ``np.linalg.inv``.

    Raises :class:`LinAlgError` at run time for a singular matrix.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dmatrix("a")
    >>> (inv(a).eval({a: np.array([[2.0, 0.0], [0.0, 4.0]])}) + 0.0).tolist()  # + 0.0: no -0.0
    [[0.5, 0.0], [0.0, 0.25]]
    """
    return MatrixInverse()(a)


@dataclass(frozen=True)
class Det(Op):
    """``np.linalg.det`` of a square matrix or a stack of them."""

    def make_node(self, a: Any) -> Apply:
        a = _square("det", a)
        return Apply.make(self, [a], [TensorType(_dtype_for("det", a), a.type.shape[:-2])])

    def perform(self, node, inputs):
        return (np.asarray(np.linalg.det(inputs[0]), dtype=node.outputs[0].dtype),)

    def infer_shape(self, node, input_shapes):
        return [tuple(input_shapes[0][:-2])]

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import mul

        # d det = det * tr(inv(a) da): needs an invertible matrix (as does every formula).
        (a,) = node.inputs
        scale = _expand2(mul(output_grads[0], node.outputs[0]))
        return [mul(scale, _mT(inv(a)))]


def det(a: Any) -> Variable:
    """Determinant of a square matrix (or of each matrix of a stack), like ``np.linalg.det``.

    The gradient ``det(a) * inv(a).T`` needs an invertible matrix.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dmatrix("a")
    >>> round(float(det(a).eval({a: np.array([[2.0, 1.0], [1.0, 3.0]])})), 10)
    5.0
    """
    return Det()(a)


@dataclass(frozen=True)
class SLogDet(Op):
    """``np.linalg.slogdet``: the sign and the log of the absolute value of the determinant."""

    def make_node(self, a: Any) -> Apply:
        a = _square("slogdet", a)
        t = TensorType(_dtype_for("det", a), a.type.shape[:-2])
        return Apply.make(self, [a], [t, t])

    def perform(self, node, inputs):
        sign, logdet = np.linalg.slogdet(inputs[0])
        dt = node.outputs[0].dtype
        return (np.asarray(sign, dtype=dt), np.asarray(logdet, dtype=dt))

    def infer_shape(self, node, input_shapes):
        s = tuple(input_shapes[0][:-2])
        return [s, s]

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import mul

        # The sign is piecewise constant: only the log-determinant carries a gradient.
        (a,) = node.inputs
        return [mul(_expand2(output_grads[1]), _mT(inv(a)))]


def slogdet(a: Any) -> tuple[Variable, Variable]:
    """Sign and natural log of the absolute determinant, like ``np.linalg.slogdet``.

    Returns
    -------
    sign, logabsdet : Variable
        ``det(a) == sign * exp(logabsdet)``; a singular matrix gives ``(0, -inf)``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dmatrix("a")
    >>> sign, logdet = slogdet(a)
    >>> float(sign.eval({a: -np.eye(3)})), float(logdet.eval({a: 2 * np.eye(2)}))
    (-1.0, 1.3862943611198906)
    """
    sign, logdet = SLogDet()(a)
    return sign, logdet


# --- solves --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Solve(Op):
    """``np.linalg.solve(a, b)``: ``b`` is a vector only when it is 1-d (NumPy 2 rule),
    otherwise a stack of matrices whose batch dimensions broadcast with ``a``'s."""

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = _square("solve", a), as_tensor(b)
        if b.ndim == 0:
            raise ShapeError(
                f"solve: b must be a vector or a matrix, got {b.type}{_where()}.\n"
                "Hint: for a scalar right-hand side use a / scalar."
            )
        n, bn = a.type.shape[-1], b.type.shape[0 if b.ndim == 1 else -2]
        if n is not None and bn is not None and n != bn:
            raise ShapeError(
                f"solve: a has shape {a.type.shape_str()} but b has shape {b.type.shape_str()}: "
                f"b needs {n} rows{_where()}.\n"
                "Hint: b is a vector when 1-d and otherwise has shape (..., n, k); to solve for "
                "a stack of vectors, write solve(a, b[..., None])[..., 0]."
            )
        dtype = _dtype_for("solve", a, b)
        if b.ndim == 1:
            shape = (*a.type.shape[:-2], _first(a.type.shape[-1], b.type.shape[0]))
        else:
            batch = _broadcast_batch("solve", a.type.shape[:-2], b.type.shape[:-2])
            shape = (*batch, _first(a.type.shape[-2], b.type.shape[-2]), b.type.shape[-1])
        return Apply.make(self, [a, b], [TensorType(dtype, shape)])

    def perform(self, node, inputs):
        a, b = inputs
        out = _lapack("solve", lambda: np.linalg.solve(a, b), "the matrix a is singular",
                      "a must be invertible; use lstsq(a, b) for a least-squares solution")
        return (np.asarray(out, dtype=node.outputs[0].dtype),)

    def infer_shape(self, node, input_shapes):
        a, b = node.inputs
        sa, sb = input_shapes
        if b.ndim == 1:
            return [(*sa[:-2], sa[-2])]
        batch = _batch_shape([(a, sa[:-2]), (b, sb[:-2])], node.outputs[0].ndim - 2)
        return [(*batch, sa[-2], sb[-1])]

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import neg

        a, b = node.inputs
        x = node.outputs[0]
        g = output_grads[0]
        vec = b.ndim == 1
        gm = expand_dims(g, -1) if vec else g
        xm = expand_dims(x, -1) if vec else x
        # Matrix form throughout, so a batched a with a vector b is not misread.
        gbm = solve(_mT(a), gm)
        ga = sum_to(neg(matmul(gbm, _mT(xm))), a) if _is_float(a) else None
        gb = None
        if _is_float(b):
            gb = sum_to(_drop_last(gbm) if vec else gbm, b)
        return [ga, gb]

    def pushforward(self, node, tangents):
        from gnomon.tensor.math import sub

        a, b = node.inputs
        ta, tb = tangents
        x = node.outputs[0]
        vec = b.ndim == 1
        xm = expand_dims(x, -1) if vec else x
        rhs = None
        if tb is not None:
            rhs = expand_dims(tb, -1) if vec else tb
        if ta is not None:
            da_x = matmul(ta, xm)
            rhs = da_x if rhs is None else sub(rhs, da_x)
            if tb is None:
                from gnomon.tensor.math import neg

                rhs = neg(rhs)
        out = solve(a, rhs)
        return [_drop_last(out) if vec else out]


def solve(a: Any, b: Any) -> Variable:
    """Solve ``a @ x = b`` for ``x``, like ``np.linalg.solve``.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
        Invertible matrices.
    b : array_like, shape (n,) or (..., n, k)
        A 1-d ``b`` is one vector (for every matrix of ``a``); otherwise a stack of matrices
        whose leading dimensions broadcast with those of ``a``.

    Raises :class:`LinAlgError` at run time when ``a`` is singular.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a, b = gt.dmatrix("a"), gt.dvector("b")
    >>> solve(a, b).eval({a: np.array([[2.0, 0.0], [0.0, 4.0]]), b: np.ones(2)}).tolist()
    [0.5, 0.25]
    """
    return Solve()(a, b)


@dataclass(frozen=True)
class SolveTriangular(Op):
    """``scipy.linalg.solve_triangular``: only the triangle named by ``lower`` is read (and not
    the diagonal when ``unit_diagonal``). ``trans`` 0 solves ``a x = b``, 1 ``a.T x = b``."""

    lower: bool = True
    trans: int = 0
    unit_diagonal: bool = False

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = _square("solve_triangular", a), as_tensor(b)
        if b.ndim == 0:
            raise ShapeError(f"solve_triangular: b must be a vector or a matrix, got {b.type}")
        n, bn = a.type.shape[-1], b.type.shape[0 if b.ndim == 1 else -2]
        if n is not None and bn is not None and n != bn:
            raise ShapeError(
                f"solve_triangular: a has shape {a.type.shape_str()} but b has shape "
                f"{b.type.shape_str()}: b needs {n} rows{_where()}.\n"
                "Hint: b has shape (n,) or (..., n, k)."
            )
        dtype = _dtype_for("solve_triangular", a, b)
        if b.ndim == 1:
            shape = (*a.type.shape[:-2], _first(a.type.shape[-1], b.type.shape[0]))
        else:
            batch = _broadcast_batch("solve_triangular", a.type.shape[:-2], b.type.shape[:-2])
            shape = (*batch, _first(a.type.shape[-1], b.type.shape[-2]), b.type.shape[-1])
        return Apply.make(self, [a, b], [TensorType(dtype, shape)])

    def perform(self, node, inputs):
        import scipy.linalg

        a, b = inputs
        bm = b[:, None] if b.ndim == 1 else b

        def run() -> Any:
            return scipy.linalg.solve_triangular(
                a, bm, trans=self.trans, lower=self.lower, unit_diagonal=self.unit_diagonal
            )

        out = _lapack("solve_triangular", run, "the triangular matrix is singular (a zero on "
                      "its diagonal)", "check the diagonal of a, and the lower= flag")
        if b.ndim == 1:
            out = out[..., 0]
        return (np.asarray(out, dtype=node.outputs[0].dtype),)

    def infer_shape(self, node, input_shapes):
        a, b = node.inputs
        sa, sb = input_shapes
        if b.ndim == 1:
            return [(*sa[:-2], sa[-1])]
        batch = _batch_shape([(a, sa[:-2]), (b, sb[:-2])], node.outputs[0].ndim - 2)
        return [(*batch, sa[-1], sb[-1])]

    def _mask(self, m: Variable) -> Variable:
        k = 1 if self.unit_diagonal else 0
        return _tril(m, -k) if self.lower else _triu(m, k)

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import neg

        a, b = node.inputs
        x = node.outputs[0]
        vec = b.ndim == 1
        gm = expand_dims(output_grads[0], -1) if vec else output_grads[0]
        xm = expand_dims(x, -1) if vec else x
        adjoint = SolveTriangular(self.lower, 1 - self.trans, self.unit_diagonal)
        gbm = adjoint(a, gm)
        ga = None
        if _is_float(a):
            # op(a) x = b gives d op(a) = -gb x^T; with trans the gradient of a is its transpose.
            m = neg(matmul(gbm, _mT(xm))) if self.trans == 0 else neg(matmul(xm, _mT(gbm)))
            ga = sum_to(self._mask(m), a)
        gb = None
        if _is_float(b):
            gb = sum_to(_drop_last(gbm) if vec else gbm, b)
        return [ga, gb]

    def __str__(self) -> str:
        return (f"SolveTriangular{{lower={self.lower}, trans={self.trans}, "
                f"unit_diagonal={self.unit_diagonal}}}")


def solve_triangular(
    a: Any, b: Any, *, lower: bool = False, trans: int | str = 0, unit_diagonal: bool = False
) -> Variable:
    """Solve ``a @ x = b`` for a triangular ``a``, like ``scipy.linalg.solve_triangular``.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
        Only its lower (``lower=True``) or upper triangle is read.
    b : array_like, shape (n,) or (..., n, k)
    lower : bool
        Default ``False``, as in SciPy.
    trans : {0, 1, 2, 'N', 'T', 'C'}
        Solve ``a x = b`` (0, 'N') or ``a.T x = b`` (1, 'T'; 2 and 'C' are the same for real
        matrices).
    unit_diagonal : bool
        Assume ones on the diagonal of ``a`` (its diagonal is not read).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a, b = gt.dmatrix("a"), gt.dvector("b")
    >>> x = solve_triangular(a, b, lower=True)
    >>> x.eval({a: np.array([[2.0, 0.0], [1.0, 1.0]]), b: np.array([2.0, 3.0])}).tolist()
    [1.0, 2.0]
    """
    t = {"N": 0, "T": 1, "C": 1, 0: 0, 1: 1, 2: 1}.get(trans)
    if t is None:
        raise GnomonValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', "
                               f"not {trans!r}")
    return SolveTriangular(bool(lower), t, bool(unit_diagonal))(a, b)


# --- Cholesky ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cholesky(Op):
    """``np.linalg.cholesky``: the lower factor ``L`` with ``a = L @ L.T``; reads only the lower
    triangle of ``a``."""

    def make_node(self, a: Any) -> Apply:
        a = _square("cholesky", a)
        return Apply.make(self, [a], [TensorType(_dtype_for("cholesky", a), a.type.shape)])

    def perform(self, node, inputs):
        out = _lapack("cholesky", lambda: np.linalg.cholesky(inputs[0]),
                      "the matrix is not positive definite",
                      "cholesky needs a symmetric positive-definite matrix; if it is only "
                      "positive semi-definite or slightly indefinite from rounding, add a small "
                      "multiple of the identity (jitter) to it")
        return (np.asarray(out, dtype=node.outputs[0].dtype),)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import mul

        # Murray (2016): with P = Phi(L^T Lbar) (lower triangle, halved diagonal),
        # S = L^-T P L^-1 is the gradient for symmetric perturbations of a.
        chol = node.outputs[0]
        lbar = output_grads[0]
        p = matmul(_mT(chol), lbar)
        p = _tril(p, -1) + mul(BandPart(0, 0)(p), 0.5)
        y = solve_triangular(chol, p, lower=True, trans=1)
        s = _mT(solve_triangular(chol, _mT(y), lower=True, trans=1))
        return [_lower_read_grad(s)]


def cholesky(a: Any, lower: bool = True) -> Variable:
    """Cholesky factor of a symmetric positive-definite matrix (or stack of them).

    Only the lower triangle of ``a`` is read, as in ``np.linalg.cholesky``. Raises
    :class:`LinAlgError` at run time if ``a`` is not positive definite.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
    lower : bool
        Return ``L`` (``a = L @ L.T``) or, if ``False``, ``U = L.T`` (``a = U.T @ U``).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dmatrix("a")
    >>> cholesky(a).eval({a: np.array([[4.0, 2.0], [2.0, 5.0]])}).tolist()
    [[2.0, 0.0], [1.0, 2.0]]
    """
    chol = Cholesky()(a)
    return chol if lower else _mT(chol)


def cho_solve(c_and_lower: tuple[Any, bool], b: Any) -> Variable:
    """Solve ``a @ x = b`` given the Cholesky factor of ``a``, like ``scipy.linalg.cho_solve``.

    Parameters
    ----------
    c_and_lower : (c, lower)
        The factor (``a = c @ c.T`` if ``lower`` else ``a = c.T @ c``) and which triangle of
        ``c`` holds it.
    b : array_like, shape (n,) or (..., n, k)

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a, b = gt.dmatrix("a"), gt.dvector("b")
    >>> x = cho_solve((cholesky(a), True), b)
    >>> x.eval({a: np.array([[4.0, 2.0], [2.0, 5.0]]), b: np.array([6.0, 7.0])}).tolist()
    [1.0, 1.0]
    """
    c, lower = c_and_lower
    c = as_tensor(c)
    if lower:
        y = solve_triangular(c, b, lower=True)
        return solve_triangular(c, y, lower=True, trans=1)
    y = solve_triangular(c, b, lower=False, trans=1)
    return solve_triangular(c, y, lower=False)


# --- eigh ----------------------------------------------------------------------------------


def _spectral_f(w: Variable, square: bool) -> Variable:
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it (``w**2`` if ``square``)."""
    from gnomon.tensor.math import add, mul, sub, true_divide

    if square:
        w = mul(w, w)
    diff = sub(expand_dims(w, -2), expand_dims(w, -1))
    eye = _eye_like(diff)
    # The diagonal of diff is 0; adding the identity there avoids 0/0, the numerator kills it.
    return true_divide(sub(ones_like(diff), eye), add(diff, eye))


@dataclass(frozen=True)
class Eigh(Op):
    """``np.linalg.eigh`` (``UPLO='L'``): eigenvalues in ascending order and eigenvectors
    (columns) of a symmetric matrix, reading its lower triangle."""

    def make_node(self, a: Any) -> Apply:
        a = _square("eigh", a)
        dt = _dtype_for("eigh", a)
        n = a.type.shape[-1] if a.type.shape[-1] is not None else a.type.shape[-2]
        w = TensorType(dt, (*a.type.shape[:-2], n))
        v = TensorType(dt, (*a.type.shape[:-2], n, n))
        return Apply.make(self, [a], [w, v])

    def perform(self, node, inputs):
        w, v = np.linalg.eigh(inputs[0])
        dt = node.outputs[0].dtype
        return (np.asarray(w, dtype=dt), np.asarray(v, dtype=dt))

    def infer_shape(self, node, input_shapes):
        s = tuple(input_shapes[0])
        return [s[:-1], s]

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import add, mul

        # a = V diag(w) V^T; for distinct eigenvalues the symmetric gradient is
        # V (diag(wbar) + F * (V^T Vbar)) V^T with F[i, j] = 1 / (w[j] - w[i]).
        w, v = node.outputs
        wbar, vbar = output_grads
        if _is_zero(vbar):
            # Eigenvalues only: V diag(wbar) V^T, finite even for repeated eigenvalues.
            m = matmul(mul(v, expand_dims(wbar, -2)), _mT(v))
        else:
            inner = add(_diag_embed(wbar), mul(_spectral_f(w, False), matmul(_mT(v), vbar)))
            m = matmul(matmul(v, inner), _mT(v))
        return [_lower_read_grad(m)]


def eigh(a: Any) -> tuple[Variable, Variable]:
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, like ``np.linalg.eigh``.

    Only the lower triangle of ``a`` is read. Eigenvectors are the columns of ``v``; their
    signs are whatever LAPACK returns.

    The gradient is exact for distinct eigenvalues; with repeated eigenvalues the eigenvectors
    are not unique and the gradient through ``v`` is infinite or NaN. When only ``w`` is used
    the gradient is ``v @ diag(w_bar) @ v.T``, correct for repeated eigenvalues too.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dmatrix("a")
    >>> w, v = eigh(a)
    >>> w.eval({a: np.array([[2.0, 1.0], [1.0, 2.0]])}).round(6).tolist()
    [1.0, 3.0]
    """
    w, v = Eigh()(a)
    return w, v


def eigvalsh(a: Any) -> Variable:
    """Eigenvalues (ascending) of a symmetric matrix, like ``np.linalg.eigvalsh``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> eigvalsh(gt.constant(np.diag([3.0, 1.0]))).eval().tolist()
    [1.0, 3.0]
    """
    return eigh(a)[0]


# --- SVD -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SVD(Op):
    """``np.linalg.svd``: ``(u, s, vh)`` or only ``s`` when ``compute_uv`` is false."""

    full_matrices: bool = True
    compute_uv: bool = True

    def make_node(self, a: Any) -> Apply:
        a = _matrix("svd", a)
        dt = _dtype_for("svd", a)
        batch = a.type.shape[:-2]
        m, n = a.type.shape[-2:]
        k = None if m is None or n is None else min(m, n)
        s = TensorType(dt, (*batch, k))
        if not self.compute_uv:
            return Apply.make(self, [a], [s])
        if self.full_matrices:
            u, vh = TensorType(dt, (*batch, m, m)), TensorType(dt, (*batch, n, n))
        else:
            u, vh = TensorType(dt, (*batch, m, k)), TensorType(dt, (*batch, k, n))
        return Apply.make(self, [a], [u, s, vh])

    def perform(self, node, inputs):
        dts = [o.dtype for o in node.outputs]

        def run() -> Any:
            return np.linalg.svd(inputs[0], full_matrices=self.full_matrices,  # type: ignore[call-overload]
                                 compute_uv=self.compute_uv)

        out = _lapack("svd", run, "the SVD did not converge", "check the input for inf/NaN")
        outs = tuple(out) if self.compute_uv else (out,)
        return tuple(np.asarray(o, dtype=d) for o, d in zip(outs, dts, strict=True))

    def infer_shape(self, node, input_shapes):
        *batch, m, n = input_shapes[0]
        k = _min_dim(m, n)
        if not self.compute_uv:
            return [(*batch, k)]
        if self.full_matrices:
            return [(*batch, m, m), (*batch, k), (*batch, n, n)]
        return [(*batch, m, k), (*batch, k), (*batch, k, n)]

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import add, mul, sub, true_divide

        (a,) = node.inputs
        if not self.compute_uv or (_is_zero(output_grads[0]) and _is_zero(output_grads[2])):
            # Only s: a_bar = U diag(s_bar) V^T, with the reduced factors.
            sbar = output_grads[0] if not self.compute_uv else output_grads[1]
            u, _, vh = SVD(False, True)(a)
            return [matmul(mul(u, expand_dims(sbar, -2)), vh)]
        m, n = a.type.shape[-2:]
        if self.full_matrices and (m is None or n is None or m != n):
            return [grad_not_implemented(
                self, 0, a, "with full_matrices=True the extra singular vectors are not unique, "
                "so only square matrices (of static shape) are supported; use "
                "full_matrices=False")]
        # Townsend (2016), reduced SVD, distinct nonzero singular values.
        u, s, vh = node.outputs
        ubar, sbar, vhbar = output_grads
        v, vbar = _mT(vh), _mT(vhbar)
        f = _spectral_f(s, True)
        ut_ubar = matmul(_mT(u), ubar)
        vt_vbar = matmul(_mT(v), vbar)
        j = mul(f, sub(ut_ubar, _mT(ut_ubar)))
        k = mul(f, sub(vt_vbar, _mT(vt_vbar)))
        core = add(mul(j, expand_dims(s, -2)), _diag_embed(sbar), mul(expand_dims(s, -1), k))
        out = matmul(matmul(u, core), vh)
        # Parts outside the column spaces of U and V (zero for square matrices).
        u_perp = true_divide(sub(ubar, matmul(u, ut_ubar)), expand_dims(s, -2))
        v_perp = true_divide(sub(vbar, matmul(v, vt_vbar)), expand_dims(s, -2))
        out = add(out, matmul(u_perp, vh), matmul(u, _mT(v_perp)))
        return [out]


def svd(
    a: Any, full_matrices: bool = True, compute_uv: bool = True
) -> Variable | tuple[Variable, Variable, Variable]:
    """Singular value decomposition ``a = u @ diag(s) @ vh``, like ``np.linalg.svd``.

    Batched over leading dimensions; ``s`` is in descending order.

    Gradients: through ``s`` alone (``compute_uv=False``, or ``u`` and ``vh`` unused) for any
    shape, where the singular values are distinct; through ``u`` and ``vh`` for distinct,
    nonzero singular values and either ``full_matrices=False`` or square matrices of static
    shape (the extra columns of a full ``u`` or ``vh`` are not unique, so they have no
    gradient).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dmatrix("a")
    >>> svd(a, compute_uv=False).eval({a: np.diag([1.0, 3.0])}).tolist()
    [3.0, 1.0]
    """
    out = SVD(bool(full_matrices), bool(compute_uv))(a)
    if compute_uv:
        u, s, vh = out
        return u, s, vh
    return out


# --- QR ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QR(Op):
    """``np.linalg.qr(a, mode='reduced')``: ``q`` with orthonormal columns, upper ``r``."""

    def make_node(self, a: Any) -> Apply:
        a = _matrix("qr", a)
        dt = _dtype_for("qr", a)
        batch = a.type.shape[:-2]
        m, n = a.type.shape[-2:]
        k = None if m is None or n is None else min(m, n)
        return Apply.make(self, [a], [TensorType(dt, (*batch, m, k)),
                                      TensorType(dt, (*batch, k, n))])

    def perform(self, node, inputs):
        q, r = np.linalg.qr(inputs[0], mode="reduced")
        return (np.asarray(q, dtype=node.outputs[0].dtype),
                np.asarray(r, dtype=node.outputs[1].dtype))

    def infer_shape(self, node, input_shapes):
        *batch, m, n = input_shapes[0]
        k = _min_dim(m, n)
        return [(*batch, m, k), (*batch, k, n)]

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import add, sub

        (a,) = node.inputs
        m, n = a.type.shape[-2:]
        if m is not None and n is not None and m < n:
            return [grad_not_implemented(self, 0, a, "only tall or square (m >= n) matrices")]
        # For full column rank: M = R Rbar^T - Qbar^T Q; a_bar = (Qbar + Q copyltu(M)) R^-T.
        q, r = node.outputs
        qbar, rbar = output_grads
        mm = sub(matmul(r, _mT(rbar)), matmul(_mT(qbar), q))
        copyltu = add(_tril(mm, 0), _mT(_tril(mm, -1)))
        b = add(qbar, matmul(q, copyltu))
        return [_mT(solve_triangular(r, _mT(b), lower=False))]


def qr(a: Any, mode: str = "reduced") -> Any:
    """QR decomposition ``a = q @ r``, like ``np.linalg.qr``.

    Parameters
    ----------
    a : array_like, shape (..., m, n)
    mode : {'reduced', 'r'}
        ``'reduced'`` returns ``(q, r)`` with ``k = min(m, n)`` columns; ``'r'`` only ``r``.
        ``'complete'`` and ``'raw'`` are not supported.

    The gradient covers full-rank square and tall (``m >= n``) matrices.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dmatrix("a")
    >>> q, r = qr(a)
    >>> x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> bool(np.allclose((q @ r).eval({a: x}), x))
    True
    """
    if mode not in ("reduced", "r"):
        raise GnomonValueError(
            f"qr: mode={mode!r} is not supported{_where()}.\n"
            "Hint: use mode='reduced' (the default) or mode='r'."
        )
    q, r = QR()(a)
    return (q, r) if mode == "reduced" else r


# --- pseudo-inverse and least squares ------------------------------------------------------


@dataclass(frozen=True)
class Pinv(Op):
    """``np.linalg.pinv`` (Moore-Penrose pseudo-inverse), cutoff ``rcond`` relative to the
    largest singular value (NumPy's default when ``None``)."""

    rcond: float | None = None

    def make_node(self, a: Any) -> Apply:
        a = _matrix("pinv", a)
        shape = (*a.type.shape[:-2], a.type.shape[-1], a.type.shape[-2])
        return Apply.make(self, [a], [TensorType(_dtype_for("pinv", a), shape)])

    def perform(self, node, inputs):
        a = inputs[0]
        out = np.linalg.pinv(a) if self.rcond is None else np.linalg.pinv(a, rcond=self.rcond)
        return (np.asarray(out, dtype=node.outputs[0].dtype),)

    def infer_shape(self, node, input_shapes):
        s = input_shapes[0]
        return [(*s[:-2], s[-1], s[-2])]

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import add, neg, sub

        # Golub & Pereyra (constant rank): with X = pinv(A),
        # A_bar = -X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A).
        (a,) = node.inputs
        x = node.outputs[0]
        g = output_grads[0]
        xt, gt_ = _mT(x), _mT(g)
        t1 = neg(matmul(matmul(xt, g), xt))
        p = matmul(gt_, matmul(x, xt))
        t2 = sub(p, matmul(a, matmul(x, p)))
        q = matmul(matmul(xt, x), gt_)
        t3 = sub(q, matmul(matmul(q, x), a))
        return [add(t1, t2, t3)]


def pinv(a: Any, rcond: float | None = None) -> Variable:
    """Moore-Penrose pseudo-inverse, like ``np.linalg.pinv`` (batched).

    The gradient assumes the rank is constant near ``a`` (e.g. full rank).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dmatrix("a")
    >>> pinv(a).eval({a: np.array([[2.0], [0.0]])}).tolist()
    [[0.5, 0.0]]
    """
    return Pinv(None if rcond is None else float(rcond))(a)


def lstsq(a: Any, b: Any, rcond: float | None = None) -> Variable:
    """Least-squares solution ``x`` minimizing ``||a @ x - b||``, like ``np.linalg.lstsq``.

    Unlike NumPy, only the solution is returned (not the residuals, rank and singular values;
    compute them with ``a @ x - b`` or ``svd(a, compute_uv=False)``). It is ``pinv(a) @ b``,
    so the gradient assumes ``a`` has constant (e.g. full) rank.

    Parameters
    ----------
    a : array_like, shape (m, n)
    b : array_like, shape (m,) or (m, k)
    rcond : float, optional
        Cutoff for small singular values, relative to the largest.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a, b = gt.dmatrix("a"), gt.dvector("b")
    >>> x = lstsq(a, b)
    >>> x.eval({a: np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
    ...         b: np.array([1.0, 2.0, 3.0])}).round(6).tolist()
    [1.0, 2.0]
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim not in (1, 2):
        raise ShapeError(
            f"lstsq takes a matrix a and a vector or matrix b, got {a.type} and {b.type}"
            f"{_where()}.\nHint: for stacks of matrices use pinv(a) @ b."
        )
    m, bm = a.type.shape[0], b.type.shape[0]
    if m is not None and bm is not None and m != bm:
        raise ShapeError(
            f"lstsq: a has {m} rows but b has {bm}{_where()}.\n"
            "Hint: a and b must have the same number of rows."
        )
    return matmul(pinv(a, rcond), b)


# --- norms, powers, Kronecker products -----------------------------------------------------


def _gt() -> Any:
    import gnomon.tensor as gt

    return gt


def _abs(x: Variable) -> Variable:
    gt = _gt()
    return gt.abs(x) if hasattr(gt, "abs") else gt.where(gt.lt(x, 0), gt.neg(x), x)


def _sqrt(x: Variable) -> Variable:
    gt = _gt()
    return gt.sqrt(x) if hasattr(gt, "sqrt") else gt.power(x, 0.5)


def _float(x: Variable) -> Variable:
    from gnomon.tensor.basic import cast

    return x if x.dtype[0] in "fc" else cast(x, "float64")


def norm(
    x: Any, ord: Any = None, axis: int | tuple[int, int] | None = None, keepdims: bool = False
) -> Variable:
    """Vector or matrix norm, like ``np.linalg.norm``.

    Parameters
    ----------
    x : array_like
    ord : {None, 'fro', 'nuc', inf, -inf, 0, 1, -1, 2, -2, other number}
        Vector norms (1-d, or one ``axis``): ``None``/2 (Euclidean), 1, inf, -inf, 0 (number
        of nonzeros), and any other ``p`` (``sum(|x|**p)**(1/p)``). Matrix norms (2-d, or two
        axes): ``None``/'fro' (Frobenius), 'nuc' (sum of singular values), 1/-1 (max/min
        column sum), inf/-inf (max/min row sum), 2/-2 (largest/smallest singular value).
    axis : int or (int, int), optional
        Default: the whole array as a vector when ``ord`` is None, else ``x`` must be 1-d or
        2-d, as in NumPy.
    keepdims : bool

    Gradients exist where the norm is smooth: not at ``x = 0`` for the Euclidean/Frobenius
    norms, only almost everywhere for 1, inf and the max/min forms (ties pick one element),
    and through the singular values for 2, -2 and 'nuc' (distinct singular values). ``ord=0``
    has no gradient.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> float(norm(gt.constant([3.0, 4.0])).eval())
    5.0
    >>> float(norm(gt.constant([[1.0, -2.0], [3.0, 4.0]]), ord=1).eval())
    6.0
    """
    gt = _gt()
    x = _float(as_tensor(x))
    nd = x.ndim
    if axis is None:
        if ord is None:
            axes: tuple[int, ...] = tuple(range(nd))
            flat = True
        elif nd in (1, 2):
            axes, flat = tuple(range(nd)), False
        else:
            raise GnomonValueError(
                f"norm: ord={ord!r} needs a 1-d or 2-d array or axis=, got {x.type}{_where()}.\n"
                "Hint: pass axis=-1 for vector norms or axis=(-2, -1) for matrix norms."
            )
    else:
        axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
        flat = False
    for a in axes:
        if not -nd <= int(a) < max(nd, 1):
            raise GnomonValueError(f"norm: axis {a} is out of bounds for {x.type}")
    axes = tuple(int(a) % nd for a in axes)
    if len(set(axes)) != len(axes) or (len(axes) not in (1, 2) and not flat):
        raise GnomonValueError(f"norm: axis={axis!r} must name one or two distinct axes")
    if flat or len(axes) == 1:
        out = _vector_norm(x, ord if not flat else None, axes)
    else:
        out = _matrix_norm(x, ord, axes)
    if keepdims:
        out = expand_dims(out, sorted(axes))
    return gt.cast(out, x.dtype) if out.dtype != x.dtype else out


def _vector_norm(x: Variable, ord: Any, axes: tuple[int, ...]) -> Variable:
    gt = _gt()
    if ord is None or ord == 2:
        return _sqrt(gt.sum(gt.mul(x, x), axis=axes))
    if ord == np.inf:
        return gt.max(_abs(x), axis=axes)
    if ord == -np.inf:
        return gt.min(_abs(x), axis=axes)
    if ord == 0:
        return gt.sum(gt.cast(gt.neq(x, 0), x.dtype), axis=axes)
    if ord == 1:
        return gt.sum(_abs(x), axis=axes)
    if isinstance(ord, str):
        raise GnomonValueError(f"norm: ord={ord!r} is a matrix norm; vectors take numbers")
    p = float(ord)
    return gt.power(gt.sum(gt.power(_abs(x), p), axis=axes), 1.0 / p)


def _matrix_norm(x: Variable, ord: Any, axes: tuple[int, ...]) -> Variable:
    gt = _gt()
    r, c = axes
    if ord is None or ord == "fro":
        return _sqrt(gt.sum(gt.mul(x, x), axis=axes))
    if ord in (1, -1, np.inf, -np.inf):
        # 1: max over columns of the column sums; inf: max over rows of the row sums.
        summed, keep = (r, c) if ord in (1, -1) else (c, r)
        sums = gt.sum(_abs(x), axis=summed)
        kept = keep - 1 if keep > summed else keep
        return gt.max(sums, axis=kept) if ord in (1, np.inf) else gt.min(sums, axis=kept)
    if ord in (2, -2, "nuc"):
        rest = [k for k in range(x.ndim) if k not in axes]
        from gnomon.tensor.shapes import dimshuffle

        s = svd(dimshuffle(x, [*rest, r, c]), compute_uv=False)
        if ord == "nuc":
            return gt.sum(s, axis=-1)
        return gt.max(s, axis=-1) if ord == 2 else gt.min(s, axis=-1)
    raise GnomonValueError(
        f"norm: ord={ord!r} is not a matrix norm{_where()}.\n"
        "Hint: use None, 'fro', 'nuc', 1, -1, 2, -2, inf or -inf."
    )


def matrix_power(a: Any, n: int) -> Variable:
    """Raise a square matrix (or stack) to the integer power ``n``, like
    ``np.linalg.matrix_power``: ``n = 0`` gives the identity, ``n < 0`` powers of ``inv(a)``.

    Built by repeated squaring (about ``2 log2 |n|`` matrix products).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dmatrix("a")
    >>> matrix_power(a, 3).eval({a: np.array([[1.0, 1.0], [0.0, 1.0]])}).tolist()
    [[1.0, 3.0], [0.0, 1.0]]
    >>> (matrix_power(a, -1).eval({a: np.diag([2.0, 4.0])}) + 0.0).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise GnomonTypeError(
            f"matrix_power: the exponent must be a Python int, got {n!r}{_where()}.\n"
            "Hint: symbolic exponents are not supported; use eigh or a scan for those."
        )
    a = _square("matrix_power", a)
    n = int(n)
    if n == 0:
        return _eye_like(a)
    if n < 0:
        a, n = inv(a), -n
    result: Variable | None = None
    base = a
    while True:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if not n:
            break
        base = matmul(base, base)
    assert result is not None
    return result


def kron(a: Any, b: Any) -> Variable:
    """Kronecker product, like ``np.kron``: blocks ``a[i, j] * b``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> kron(gt.constant(np.eye(2)), gt.constant([[1.0, 2.0]])).eval().tolist()
    [[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0]]
    """
    from gnomon.tensor.math import mul
    from gnomon.tensor.shapes import dimshuffle, shape_tuple

    gt = _gt()
    a, b = as_tensor(a), as_tensor(b)
    nd = max(a.ndim, b.ndim, 1)
    a = dimshuffle(a, ["x"] * (nd - a.ndim) + list(range(a.ndim)))
    b = dimshuffle(b, ["x"] * (nd - b.ndim) + list(range(b.ndim)))
    # Interleave the axes: (a0, b0, a1, b1, ...), then merge each pair.
    pa: list[int | str] = []
    pb: list[int | str] = []
    for k in range(nd):
        pa += [k, "x"]
        pb += ["x", k]
    prod = mul(dimshuffle(a, pa), dimshuffle(b, pb))
    sa, sb = shape_tuple(a), shape_tuple(b)
    new_shape = [gt.mul(sa[k], sb[k]) for k in range(nd)]
    return gt.reshape(prod, new_shape)
