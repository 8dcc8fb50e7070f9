"""Products of arrays: ``dot``, ``matmul``, ``tensordot``, ``outer``, ``inner``, ``vdot`` and
``einsum``, with NumPy's semantics.

Two ops carry all of them:

* :class:`MatMul` — ``np.matmul`` on operands of rank >= 2, batch dimensions broadcast like NumPy
  (also at run time, for a length-1 batch dimension unknown at graph time). It lowers to BLAS in
  every backend. ``matmul`` and ``dot`` promote 1-d operands with ``expand_dims`` and drop the
  added dimension afterwards, so the op itself never sees a vector.
* :class:`Einsum` — ``np.einsum`` on canonical subscripts (explicit output, letters only: the
  ellipsis is spelled out as letters when the node is built, since ranks are static). Its
  gradient with respect to an operand is another ``Einsum`` of the output gradient with the
  other operands, so gradients of every order stay in the family. ``tensordot`` is an
  ``Einsum``; NumPy evaluates two-operand contractions with BLAS (``optimize=True``).

``outer`` is a broadcast multiplication (an ``Elemwise``), ``dot`` of a 0-d operand is a
multiplication.

Two BLAS-shaped ops are built only by the "specialize" rewrites
(:mod:`gnomon.rewrite.rules.specialize`), never by the functions above: :class:`Gemm`
(``beta * z + alpha * op(a) @ op(b)`` with transpose flags; gemm for a matrix ``b``, gemv for a
vector) and :class:`Ger` (``z + alpha * outer(x, y)``), for float32/float64 operands.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, ShapeError
from gnomon.errors import at_user_line as _where
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.op import Op
from gnomon.tensor.basic import as_tensor, cast, constant
from gnomon.tensor.elemwise import _broadcast_dim, broadcast_static_shapes, sum_to
from gnomon.tensor.shapes import dimshuffle, expand_dims, shape_tuple
from gnomon.tensor.type import TensorType

__all__ = [
    "Einsum",
    "Gemm",
    "Ger",
    "MatMul",
    "dot",
    "einsum",
    "inner",
    "matmul",
    "matrix_transpose",
    "outer",
    "tensordot",
    "vdot",
]


def _fmt(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + (
        ",)" if len(shape) == 1 else ")"
    )


@functools.lru_cache(maxsize=1024)
def _matmul_dtype(a: str, b: str) -> str:
    return np.matmul(np.ones((1, 1), a), np.ones((1, 1), b)).dtype.name


@functools.lru_cache(maxsize=1024)
def _einsum_dtype(dtypes: tuple[str, ...]) -> str:
    ops = [np.ones((1,), d) for d in dtypes]
    subs = ",".join("a" for _ in dtypes) + "->a"
    return np.asarray(np.einsum(subs, *ops)).dtype.name


def _is_float(v: Variable) -> bool:
    return v.dtype[0] in "fc"


def matrix_transpose(x: Any) -> Variable:
    """Swap the last two dimensions of ``x`` (``x.mT``; a view).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> matrix_transpose(gt.tensor("x", shape=(2, 3, 4))).type.shape
    (2, 4, 3)
    """
    x = as_tensor(x)
    if x.ndim < 2:
        raise GnomonValueError(
            f"matrix_transpose needs an array of rank >= 2, got {x.type}{_where()}.\n"
            "Hint: use expand_dims to make a vector a row or a column first."
        )
    return dimshuffle(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))


# --- MatMul --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatMul(Op):
    """``np.matmul`` of two arrays of rank >= 2; leading (batch) dimensions broadcast.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> MatMul()(gt.tensor("a", shape=(5, 1, 2, 3)), gt.tensor("b", shape=(4, 3, 7))).type.shape
    (5, 4, 2, 7)
    """

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor(a), as_tensor(b)
        if a.ndim < 2 or b.ndim < 2:
            raise ShapeError(
                f"MatMul takes operands of rank >= 2, got {a.type} and {b.type}.\n"
                "Hint: use gnomon.tensor.matmul, which handles vectors like NumPy does."
            )
        _check_core("matmul", a.type.shape, b.type.shape, -1, -2)
        batch = _broadcast_batch("matmul", a.type.shape[:-2], b.type.shape[:-2])
        shape = (*batch, a.type.shape[-2], b.type.shape[-1])
        return Apply.make(self, [a, b], [TensorType(_matmul_dtype(a.dtype, b.dtype), shape)])

    def perform(self, node, inputs):
        a, b = inputs
        out = np.matmul(a, b)
        return (np.asarray(out, dtype=node.outputs[0].dtype),)

    def infer_shape(self, node, input_shapes):
        a, b = node.inputs
        sa, sb = input_shapes
        batch = _batch_shape([(a, sa[:-2]), (b, sb[:-2])], node.outputs[0].ndim - 2)
        return [(*batch, sa[-2], sb[-1])]

    def pullback(self, node, output_grads):
        a, b = node.inputs
        (g,) = output_grads
        # Broadcast batch dimensions are summed back by sum_to (also when decided at run time).
        # Two matrices have no batch dimensions: the products have the operands' shapes, and
        # the gradient of one operand need not read the other's shape (PyTensor's tutorial
        # compiles Lop(dot(x, W), W, v) without W among the inputs).
        fit = (lambda p, ref: p) if a.ndim == 2 and b.ndim == 2 else sum_to
        ga = fit(self(g, matrix_transpose(b)), a) if _is_float(a) else None
        gb = fit(self(matrix_transpose(a), g), b) if _is_float(b) else None
        return [ga, gb]

    def pushforward(self, node, tangents):
        from gnomon.tensor.math import add

        a, b = node.inputs
        ta, tb = tangents
        terms = []
        if ta is not None:
            terms.append(self(ta, b))
        if tb is not None:
            terms.append(self(a, tb))
        out = node.outputs[0]
        terms = [cast(t, out.dtype) for t in terms]
        return [terms[0] if len(terms) == 1 else add(*terms)]

    def __str__(self) -> str:
        return "MatMul"


def _check_core(what: str, sa: tuple, sb: tuple, ia: int, ib: int) -> None:
    """Static check that the contracted lengths agree (``sa[ia] == sb[ib]``)."""
    la, lb = sa[ia], sb[ib]
    if la is not None and lb is not None and la != lb:
        raise ShapeError(
            f"{what}: shapes {_fmt(sa)} and {_fmt(sb)} are not aligned: dimension {ia % len(sa)}"
            f" of the first operand has length {la}, but dimension {ib % len(sb)} of the "
            f"second has length {lb}{_where()}.\n"
            "Hint: the contracted dimensions must have the same length; transpose an operand "
            "(x.T or matrix_transpose(x)) if you meant the other side."
        )


def _broadcast_batch(what: str, ba: tuple, bb: tuple) -> tuple:
    n = max(len(ba), len(bb))
    ba = (1,) * (n - len(ba)) + tuple(ba)
    bb = (1,) * (n - len(bb)) + tuple(bb)
    return broadcast_static_shapes(ba, bb, what=f"the batch dimensions of {what}")


def _batch_shape(pairs: list[tuple[Variable, tuple]], n: int) -> list[Variable]:
    """Run-time broadcast of the batch dimensions of several operands (right-aligned)."""
    out = []
    for i in range(n):
        cands = []
        for v, shp in pairs:
            k = i - (n - len(shp))
            if k >= 0 and v.type.shape[k] != 1:
                cands.append(shp[k])
        out.append(_broadcast_dim(cands))
    return out


_matmul = MatMul()


def _drop_axis(x: Variable, axis: int) -> Variable:
    axis = axis % x.ndim
    return dimshuffle(x, [i for i in range(x.ndim) if i != axis])


def matmul(a: Any, b: Any) -> Variable:
    """Matrix product of two arrays, like ``np.matmul`` (the ``@`` operator).

    Leading dimensions are batch dimensions and broadcast. A 1-d first operand is a row
    vector and a 1-d second operand a column vector; the added dimension is removed from the
    result. Scalars are not allowed (use ``*``).

    Parameters
    ----------
    a, b : array_like
        Operands of rank >= 1.

    Returns
    -------
    Variable
        The product, of NumPy's dtype for these operands.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dtensor3("a"); b = gt.dmatrix("b")
    >>> c = a @ b
    >>> x, y = np.ones((2, 3, 4)), np.ones((4, 5))
    >>> c.eval({a: x, b: y}).shape
    (2, 3, 5)
    >>> float(matmul(gt.constant([1.0, 2.0]), gt.constant([3.0, 4.0])).eval())
    11.0
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise GnomonValueError(
            f"matmul: operands must not be scalars, got {a.type} and {b.type}{_where()}.\n"
            "Hint: use a * b to scale an array by a scalar."
        )
    if a.ndim == 1 and b.ndim >= 1:
        _check_core("matmul", a.type.shape, b.type.shape, -1, -2 if b.ndim > 1 else -1)
    elif b.ndim == 1:
        _check_core("matmul", a.type.shape, b.type.shape, -1, -1)
    a2 = expand_dims(a, 0) if a.ndim == 1 else a
    b2 = expand_dims(b, -1) if b.ndim == 1 else b
    out = _matmul(a2, b2)
    if b.ndim == 1:
        out = _drop_axis(out, -1)
    if a.ndim == 1:
        out = _drop_axis(out, -2 if b.ndim > 1 else -1)
    return out


def dot(a: Any, b: Any) -> Variable:
    """Dot product of two arrays, like ``np.dot``.

    * 0-d operand: elementwise multiplication;
    * 1-d and 1-d: inner product (a scalar);
    * second operand of rank <= 2: the matrix product over the last axis of ``a`` and the
      first (1-d) or second-to-last (2-d) axis of ``b``;
    * otherwise: the sum over the last axis of ``a`` and the second-to-last of ``b``
      (``tensordot(a, b, axes=([-1], [-2]))``), with all other axes kept.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dmatrix("x"); v = gt.dvector("v")
    >>> dot(x, v).eval({x: np.eye(2), v: np.array([1.0, 2.0])}).tolist()
    [1.0, 2.0]
    >>> dot(gt.tensor("a", shape=(2, 3, 4)), gt.tensor("b", shape=(5, 4, 6))).type.shape
    (2, 3, 5, 6)
    """
    from gnomon.tensor.math import mul

    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if b.ndim <= 2:
        _check_core("dot", a.type.shape, b.type.shape, -1, 0)
        return matmul(a, b)
    _check_core("dot", a.type.shape, b.type.shape, -1, -2)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def inner(a: Any, b: Any) -> Variable:
    """Inner product over the last axes, like ``np.inner``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> float(inner(gt.constant([1.0, 2.0]), gt.constant([3.0, 4.0])).eval())
    11.0
    """
    from gnomon.tensor.math import mul

    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    _check_core("inner", a.type.shape, b.type.shape, -1, -1)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def vdot(a: Any, b: Any) -> Variable:
    """Dot product of the flattened arrays, like ``np.vdot`` (real inputs: no conjugation is
    needed; complex ``a`` is conjugated).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> float(vdot(gt.constant([[1.0, 2.0]]), gt.constant([[3.0, 4.0]])).eval())
    11.0
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.dtype.startswith("complex"):
        import gnomon.tensor as gt

        a = gt.conj(a)
    if a.ndim != b.ndim or a.ndim == 0:
        a, b = _ravel(a), _ravel(b)
    _check_same_size("vdot", a, b)
    letters = string.ascii_lowercase[: a.ndim]
    return einsum(f"{letters},{letters}->", a, b)


def _check_same_size(what: str, a: Variable, b: Variable) -> None:
    for la, lb in zip(a.type.shape, b.type.shape, strict=True):
        if la is not None and lb is not None and la != lb:
            raise ShapeError(
                f"{what}: operands of shapes {a.type.shape_str()} and {b.type.shape_str()} do "
                f"not have the same number of elements{_where()}.\n"
                "Hint: both operands must have the same size."
            )


def _ravel(x: Variable) -> Variable:
    if x.ndim == 1:
        return x
    if x.ndim == 0:
        return expand_dims(x, 0)
    import gnomon.tensor as gt

    if not hasattr(gt, "flatten"):  # pragma: no cover - shape.flatten is built by another module
        raise GnomonTypeError(
            f"flattening a {x.ndim}-d array needs gnomon.tensor.flatten, which is not available."
        )
    return gt.flatten(x, 1)


def outer(a: Any, b: Any) -> Variable:
    """Outer product of two vectors, like ``np.outer`` (inputs of other ranks are flattened).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> outer(gt.constant([1.0, 2.0]), gt.constant([3.0, 4.0, 5.0])).eval().tolist()
    [[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]]
    """
    from gnomon.tensor.math import mul

    a, b = _ravel(as_tensor(a)), _ravel(as_tensor(b))
    return mul(expand_dims(a, 1), expand_dims(b, 0))


# --- BLAS-shaped ops: Gemm (gemm / gemv) and Ger -------------------------------------------
#
# They are not built by user functions: the "specialize" rewrites of gnomon.rewrite.rules
# .specialize fold transposes and scalings of 2-d float matmuls into them, so that a backend
# makes one BLAS call instead of a transpose copy, a product and elementwise passes.

_BLAS_DTYPES = ("float32", "float64")


def _blas_scalar(x: Any, dtype: str, what: str, name: str) -> Variable:
    x = as_tensor(x)
    if x.ndim != 0:
        raise ShapeError(
            f"{what}: {name} must be a scalar (0-d), got {x.type}{_where()}.\n"
            f"Hint: pass a 0-d tensor or a Python number as {name}."
        )
    return cast(x, dtype) if x.dtype != dtype else x


def _blas_check_dtypes(what: str, *xs: Variable) -> str:
    dt = xs[0].dtype
    if dt not in _BLAS_DTYPES or any(x.dtype != dt for x in xs):
        raise GnomonTypeError(
            f"{what} takes float32 or float64 operands of one dtype, got "
            f"{', '.join(str(x.type) for x in xs)}{_where()}.\n"
            "Hint: cast the operands to one float dtype, or use gnomon.tensor.matmul."
        )
    return dt


def _bcast_out(what: str, z: Variable, core: tuple) -> tuple:
    zs = (1,) * (len(core) - z.ndim) + tuple(z.type.shape)
    return tuple(broadcast_static_shapes(zs, core, what=what))


def _bcast_out_sym(z: Variable, sz: tuple, core_vars: list, core_static: tuple) -> list:
    """Run-time shape of ``z`` broadcast against the product (the product's lengths given)."""
    out = []
    off = len(core_static) - z.ndim
    for i, (c, cs) in enumerate(zip(core_vars, core_static, strict=True)):
        cands = [] if cs == 1 else [c]
        k = i - off
        if k >= 0 and z.type.shape[k] != 1:
            cands.append(sz[k])
        out.append(_broadcast_dim(cands))
    return out


@dataclass(frozen=True)
class Gemm(Op):
    """``beta * z + alpha * op(a) @ op(b)``: BLAS ``gemm`` (``b`` a matrix) and ``gemv`` (``b``
    a vector), where ``op(x)`` is ``x.T`` when ``trans_a`` / ``trans_b`` is set.

    Inputs are ``(z, alpha, a, b, beta)``: ``a`` a float32/float64 matrix, ``b`` a matrix or
    (``gemv``) a vector of the same dtype, ``alpha`` and ``beta`` scalars (cast to that dtype),
    ``z`` of at most the product's rank, broadcast against the product like NumPy's ``+``
    (a product without ``z`` uses ``z = 0`` and ``beta = 0``). The output has the operands'
    dtype. ``trans_b`` must be ``False`` for a vector ``b``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a, b, z = gt.dmatrix("a"), gt.dmatrix("b"), gt.dmatrix("z")
    >>> out = Gemm(trans_a=True, trans_b=False)(z, 2.0, a, b, 0.5)
    >>> x, y, w = np.ones((3, 2)), np.ones((3, 4)), np.ones((2, 4))
    >>> out.eval({a: x, b: y, z: w})[0].tolist()
    [6.5, 6.5, 6.5, 6.5]
    """

    trans_a: bool = False
    trans_b: bool = False

    def make_node(self, z: Any, alpha: Any, a: Any, b: Any, beta: Any) -> Apply:
        a, b = as_tensor(a), as_tensor(b)
        if a.ndim != 2 or b.ndim not in (1, 2) or (b.ndim == 1 and self.trans_b):
            raise ShapeError(
                f"Gemm takes a matrix and a matrix or vector, got {a.type} and {b.type} "
                f"(trans_b={self.trans_b}){_where()}.\n"
                "Hint: Gemm is built by the specialize rewrites; use gnomon.tensor.matmul."
            )
        z = as_tensor(z)
        dt = _blas_check_dtypes("Gemm", a, b)
        if z.dtype != dt:
            z = cast(z, dt)
        sa = a.type.shape[::-1] if self.trans_a else a.type.shape
        sb = b.type.shape if b.ndim == 1 else (
            b.type.shape[::-1] if self.trans_b else b.type.shape)
        _check_core("Gemm", sa, sb, -1, 0)
        core = (sa[0],) if b.ndim == 1 else (sa[0], sb[1])
        if z.ndim > len(core):
            raise ShapeError(
                f"Gemm: z has rank {z.ndim}, more than the product's {len(core)}{_where()}.\n"
                "Hint: z is added to the product and must broadcast to its shape."
            )
        shape = _bcast_out("Gemm: z and the product", z, core)
        ins = [z, _blas_scalar(alpha, dt, "Gemm", "alpha"), a, b,
               _blas_scalar(beta, dt, "Gemm", "beta")]
        return Apply.make(self, ins, [TensorType(dt, shape)])

    def perform(self, node, inputs):
        z, alpha, a, b, beta = inputs
        a = a.T if self.trans_a else a
        b = b.T if self.trans_b else b
        if a.shape[1] != b.shape[0]:
            raise ShapeError(
                f"Gemm: operands of shapes {a.shape} and {b.shape} (after transposes) are not "
                "aligned.\nHint: the contracted lengths must be equal."
            )
        dt = node.outputs[0].dtype
        out = beta * z + alpha * np.dot(a, b)
        return (np.asarray(out, dtype=dt),)

    def infer_shape(self, node, input_shapes):
        z = node.inputs[0]
        sz, _, sa, sb, _ = input_shapes
        sa = sa[::-1] if self.trans_a else sa
        core_vars = [sa[0]] if len(sb) == 1 else [sa[0], sb[0] if self.trans_b else sb[1]]
        a, b = node.inputs[2], node.inputs[3]
        ta = a.type.shape[::-1] if self.trans_a else a.type.shape
        tb = b.type.shape[::-1] if self.trans_b else b.type.shape
        core_static = (ta[0],) if b.ndim == 1 else (ta[0], tb[1])
        return [tuple(_bcast_out_sym(z, sz, core_vars, core_static))]

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import mul
        from gnomon.tensor.reduce import sum as _sum

        z, alpha, a, b, beta = node.inputs
        (g,) = output_grads
        opa = matrix_transpose(a) if self.trans_a else a
        opb = matrix_transpose(b) if self.trans_b else b
        prod = matmul(opa, opb)
        # g has the broadcast shape of z and the product: sum it back onto the product first.
        gp = sum_to(g, prod)
        ga_op = matmul(gp, matrix_transpose(opb)) if b.ndim == 2 else outer(gp, b)
        gb_op = matmul(matrix_transpose(opa), gp)
        ga = mul(alpha, matrix_transpose(ga_op) if self.trans_a else ga_op)
        gb = mul(alpha, matrix_transpose(gb_op) if self.trans_b else gb_op)
        gz = sum_to(mul(beta, g), z) if _is_float(z) else None
        return [gz, _sum(mul(gp, prod)), ga, gb, _sum(mul(g, z))]

    def __str__(self) -> str:
        t = "".join(["T" if self.trans_a else "N", "T" if self.trans_b else "N"])
        return f"Gemm{{{t}}}"


@dataclass(frozen=True)
class Ger(Op):
    """``z + alpha * outer(x, y)``: BLAS ``ger`` (rank-1 update).

    Inputs are ``(z, alpha, x, y)``: ``x``, ``y`` float32/float64 vectors of one dtype,
    ``alpha`` a scalar (cast to that dtype), ``z`` of rank <= 2 broadcast against the outer
    product like NumPy's ``+``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> z, x, y = gt.dmatrix("z"), gt.dvector("x"), gt.dvector("y")
    >>> Ger()(z, 3.0, x, y).eval({z: np.zeros((2, 2)), x: np.ones(2), y: np.ones(2)}).tolist()
    [[3.0, 3.0], [3.0, 3.0]]
    """

    def make_node(self, z: Any, alpha: Any, x: Any, y: Any) -> Apply:
        x, y, z = as_tensor(x), as_tensor(y), as_tensor(z)
        if x.ndim != 1 or y.ndim != 1 or z.ndim > 2:
            raise ShapeError(
                f"Ger takes two vectors and z of rank <= 2, got {x.type}, {y.type} and "
                f"{z.type}{_where()}.\nHint: Ger is built by the specialize rewrites; use "
                "gnomon.tensor.outer."
            )
        dt = _blas_check_dtypes("Ger", x, y)
        if z.dtype != dt:
            z = cast(z, dt)
        shape = _bcast_out("Ger: z and the outer product", z, (x.type.shape[0], y.type.shape[0]))
        return Apply.make(self, [z, _blas_scalar(alpha, dt, "Ger", "alpha"), x, y],
                          [TensorType(dt, shape)])

    def perform(self, node, inputs):
        z, alpha, x, y = inputs
        out = z + alpha * np.outer(x, y)
        return (np.asarray(out, dtype=node.outputs[0].dtype),)

    def infer_shape(self, node, input_shapes):
        z, _, x, y = node.inputs
        sz, _, sx, sy = input_shapes
        core_static = (x.type.shape[0], y.type.shape[0])
        return [tuple(_bcast_out_sym(z, sz, [sx[0], sy[0]], core_static))]

    def pullback(self, node, output_grads):
        from gnomon.tensor.math import mul
        from gnomon.tensor.reduce import sum as _sum

        z, alpha, x, y = node.inputs
        (g,) = output_grads
        gz = sum_to(g, z) if _is_float(z) else None
        # g has the broadcast shape; sum it back onto the outer product's (m, n) first.
        gp = sum_to(g, outer(x, y))
        galpha = _sum(mul(gp, outer(x, y)))
        gx = mul(alpha, matmul(gp, y))
        gy = mul(alpha, matmul(matrix_transpose(gp), x))
        return [gz, galpha, gx, gy]

    def __str__(self) -> str:
        return "Ger"


# --- tensordot -----------------------------------------------------------------------------


def tensordot(a: Any, b: Any, axes: int | Sequence[Any] = 2) -> Variable:
    """Sum products over the given axes, like ``np.tensordot``.

    Parameters
    ----------
    a, b : array_like
    axes : int or (sequence of int, sequence of int)
        An int ``N`` contracts the last ``N`` axes of ``a`` with the first ``N`` of ``b``;
        a pair lists the axes of ``a`` and of ``b`` to contract, in matching order.

    Returns
    -------
    Variable
        The free axes of ``a`` followed by the free axes of ``b``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.tensor("a", shape=(3, 4, 5)); b = gt.tensor("b", shape=(4, 3, 2))
    >>> tensordot(a, b, axes=([1, 0], [0, 1])).type.shape
    (5, 2)
    >>> x, y = np.ones((3, 4, 5)), np.ones((4, 3, 2))
    >>> bool(np.allclose(tensordot(a, b, axes=([1, 0], [0, 1])).eval({a: x, b: y}),
    ...                  np.tensordot(x, y, axes=([1, 0], [0, 1]))))
    True
    """
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(axes, int | np.integer):
        n = int(axes)
        if n < 0 or n > a.ndim or n > b.ndim:
            raise GnomonValueError(
                f"tensordot: axes={n} is out of range for operands of ranks {a.ndim} and "
                f"{b.ndim}{_where()}.\nHint: axes must be between 0 and the smaller rank."
            )
        ax_a, ax_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        try:
            ax_a_raw, ax_b_raw = axes
        except (TypeError, ValueError):
            raise GnomonTypeError(
                f"tensordot: axes must be an int or a pair of sequences, got {axes!r}.\n"
                "Hint: write axes=([1, 0], [0, 1])."
            ) from None
        ax_a = [int(ax_a_raw)] if isinstance(ax_a_raw, int | np.integer) else list(ax_a_raw)
        ax_b = [int(ax_b_raw)] if isinstance(ax_b_raw, int | np.integer) else list(ax_b_raw)
        if len(ax_a) != len(ax_b):
            raise GnomonValueError(
                f"tensordot: {len(ax_a)} axes of a and {len(ax_b)} axes of b were given"
                f"{_where()}.\nHint: list the same number of axes for both operands."
            )
        ax_a = [_norm_axis(x, a.ndim, "a") for x in ax_a]
        ax_b = [_norm_axis(x, b.ndim, "b") for x in ax_b]
        if len(set(ax_a)) != len(ax_a) or len(set(ax_b)) != len(ax_b):
            raise GnomonValueError(f"tensordot: repeated axis in axes={axes!r}")
    for i, j in zip(ax_a, ax_b, strict=True):
        la, lb = a.type.shape[i], b.type.shape[j]
        if la is not None and lb is not None and la != lb:
            raise ShapeError(
                f"tensordot: shape-mismatch for sum: axis {i} of a (shape {a.type.shape_str()}) "
                f"has length {la}, but axis {j} of b (shape {b.type.shape_str()}) has length "
                f"{lb}{_where()}.\nHint: pair axes of equal length in axes=."
            )
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(ax_a, ax_b, strict=True):
        sb[j] = sa[i]
    out = [sa[i] for i in range(a.ndim) if i not in ax_a]
    out += [sb[j] for j in range(b.ndim) if j not in ax_b]
    return Einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}")(a, b)


def _norm_axis(ax: Any, ndim: int, which: str) -> int:
    ax = int(ax)
    if not -ndim <= ax < ndim:
        raise GnomonValueError(
            f"tensordot: axis {ax} is out of bounds for operand {which} of rank {ndim}"
        )
    return ax % ndim


# --- Einsum --------------------------------------------------------------------------------


# Above this many multiply-adds (product of all label lengths) einsum plans a BLAS contraction.
_EINSUM_LOOP_MAX = 1 << 15


def _parse(subscripts: str) -> tuple[list[str], str]:
    ins, out = subscripts.split("->")
    return ins.split(","), out


@dataclass(frozen=True)
class Einsum(Op):
    """``np.einsum`` with canonical subscripts: explicit output and letters only.

    Labels broadcast like NumPy: a length-1 axis pairs with any length of the same label.
    Build it with :func:`einsum`, which accepts NumPy's full syntax (implicit output, ``...``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> Einsum("ij,jk->ik")(gt.tensor("a", shape=(2, 3)), gt.tensor("b", shape=(3, 4))).type
    TensorType('float64', (2, 4))
    """

    subscripts: str

    def __post_init__(self) -> None:
        ins, out = _parse(self.subscripts)
        for s in [*ins, out]:
            if not all(c in string.ascii_letters for c in s):
                raise GnomonValueError(f"Einsum: subscripts {self.subscripts!r} are not canonical")
        if len(set(out)) != len(out):
            raise GnomonValueError(f"Einsum: output subscript {out!r} repeats a label")
        known = set("".join(ins))
        if not set(out) <= known:
            raise GnomonValueError(
                f"Einsum: output labels {sorted(set(out) - known)} appear in no operand"
            )

    @property
    def inputs_subs(self) -> list[str]:
        return _parse(self.subscripts)[0]

    @property
    def output_subs(self) -> str:
        return _parse(self.subscripts)[1]

    def make_node(self, *operands: Any) -> Apply:
        ins, out = _parse(self.subscripts)
        xs = [as_tensor(x) for x in operands]
        if len(xs) != len(ins):
            raise GnomonTypeError(
                f"einsum: subscripts {self.subscripts!r} name {len(ins)} operand(s), "
                f"but {len(xs)} were given{_where()}"
            )
        sizes: dict[str, set[int]] = {}
        for k, (x, s) in enumerate(zip(xs, ins, strict=True)):
            if x.ndim != len(s):
                raise ShapeError(
                    f"einsum: operand {k} has {x.ndim} dimension(s) (type {x.type}), but its "
                    f"subscript {s!r} has {len(s)}{_where()}.\n"
                    "Hint: give one label per dimension, or use '...' for leading dimensions."
                )
            for c, d in zip(s, x.type.shape, strict=True):
                sizes.setdefault(c, set())
                if d is not None:
                    sizes[c].add(d)
        for c, ds in sizes.items():
            if len(ds - {1}) > 1:
                raise ShapeError(
                    f"einsum {self.subscripts!r}: label {c!r} has lengths {sorted(ds)} in the "
                    f"operands {', '.join(x.type.shape_str() for x in xs)}{_where()}.\n"
                    "Hint: axes with the same label must have the same length (or length 1)."
                )
        shape = []
        for c in out:
            ds = sizes[c]
            nz = ds - {1}
            all_known = all(
                d is not None for x, s in zip(xs, ins, strict=True)
                for cc, d in zip(s, x.type.shape, strict=True) if cc == c
            )
            shape.append(nz.pop() if nz else (1 if all_known else None))
        dtype = _einsum_dtype(tuple(x.dtype for x in xs))
        return Apply.make(self, xs, [TensorType(dtype, tuple(shape))])

    def perform(self, node, inputs):
        self._check_summed_lengths(node, inputs)
        dtype = node.outputs[0].dtype
        # optimize=True lets NumPy contract pairs with BLAS (tensordot) and order the pairs,
        # but planning costs tens of microseconds: small problems run NumPy's loop directly.
        sizes: dict[str, int] = {}
        for x, sub in zip(inputs, _parse(self.subscripts)[0], strict=True):
            for c, d in zip(sub, x.shape, strict=True):
                sizes[c] = max(sizes.get(c, 1), d)
        work = 1
        for d in sizes.values():
            work *= d
        optimize = len(inputs) > 1 and work > _EINSUM_LOOP_MAX
        out = np.einsum(self.subscripts, *inputs, optimize=optimize)
        out = np.asarray(out, dtype=dtype)
        # einsum may return a view (transposes, diagonals); outputs must own their memory.
        if any(np.may_share_memory(out, x) for x in inputs):
            out = out.copy()
        return (out,)

    def _check_summed_lengths(self, node: Apply, inputs: Sequence[np.ndarray]) -> None:
        """A summed label broadcasts only from axes of static length 1 (see :func:`einsum`)."""
        ins, out = _parse(self.subscripts)
        lengths: dict[str, set[int]] = {}
        for x, v, s in zip(inputs, node.inputs, ins, strict=True):
            for k, c in enumerate(s):
                if c not in out and v.type.shape[k] != 1:
                    lengths.setdefault(c, set()).add(x.shape[k])
        for c, ls in lengths.items():
            if len(ls) > 1:
                raise ShapeError(
                    f"einsum {self.subscripts!r}: the summed label {c!r} has lengths "
                    f"{sorted(ls)} in operands of shapes {', '.join(str(x.shape) for x in inputs)}."
                    "\nHint: axes of a summed label must have equal lengths; a length-1 axis "
                    "broadcasts only when its length is known when the graph is built "
                    "(declare it with shape=(..., 1, ...))."
                )

    def infer_shape(self, node, input_shapes):
        ins, out = _parse(self.subscripts)
        res = []
        for k, c in enumerate(out):
            static = node.outputs[0].type.shape[k]
            if static is not None:
                res.append(constant(static, "int64"))
                continue
            cands = [
                shp[i] for x, s, shp in zip(node.inputs, ins, input_shapes, strict=True)
                for i, cc in enumerate(s) if cc == c and x.type.shape[i] != 1
            ]
            res.append(_broadcast_dim(cands))
        return [tuple(res)]

    def pullback(self, node, output_grads):
        ins, out = _parse(self.subscripts)
        (g,) = output_grads
        grads: list[Variable | None] = []
        for i, x in enumerate(node.inputs):
            if not _is_float(x):
                grads.append(None)
                continue
            others = [(s, v) for j, (s, v) in enumerate(zip(ins, node.inputs, strict=True))
                      if j != i]
            grads.append(_einsum_operand_grad(x, ins[i], out, g, others))
        return grads

    def pushforward(self, node, tangents):
        from gnomon.tensor.math import add

        terms = []
        for i, t in enumerate(tangents):
            if t is None:
                continue
            args = list(node.inputs)
            args[i] = t
            terms.append(cast(self(*args), node.outputs[0].dtype))
        return [terms[0] if len(terms) == 1 else add(*terms)]

    def __str__(self) -> str:
        return f"Einsum{{{self.subscripts}}}"


def _einsum_operand_grad(
    x: Variable, sx: str, out: str, g: Variable, others: list[tuple[str, Variable]]
) -> Variable:
    """Gradient of ``einsum`` with respect to operand ``x`` (subscript ``sx``).

    The output gradient contracted with the other operands gives the gradient on the distinct
    labels of ``x`` that the rest of the expression sees. Labels only ``x`` has (summed away in
    the forward pass) come back by broadcasting, length-1 labels that were broadcast are summed,
    and a label repeated in ``sx`` (a diagonal) puts the gradient on that diagonal.
    """
    from gnomon.tensor.basic import alloc

    seen = set(out).union(*[set(s) for s, _ in others])
    uniq: list[str] = []
    for c in sx:
        if c not in uniq:
            uniq.append(c)
    kept = "".join(c for c in uniq if c in seen)
    subs = ",".join([out, *[s for s, _ in others]]) + "->" + kept
    gk = cast(Einsum(subs)(g, *[v for _, v in others]), x.dtype)
    # Sum the labels where x had length 1 and was broadcast (x's axis of each kept label).
    gk = _sum_to_axes(gk, x, [sx.index(c) for c in kept])
    # A summed label whose axes in the other operands are all (statically) 1 was broadcast
    # against x's axis: the gradient is the same along it.
    broadcast = any(
        c not in out and x.type.shape[sx.index(c)] != 1
        and all(v.type.shape[k] == 1 for s, v in others for k, cc in enumerate(s) if cc == c)
        for c in kept
    )
    if kept == sx and not broadcast:
        return gk
    # Lay the kept labels out on x's axes: first occurrences get data, the rest length 1.
    pattern: list[int | str] = []
    placed: set[str] = set()
    for c in sx:
        if c in kept and c not in placed:
            pattern.append(kept.index(c))
            placed.add(c)
        else:
            pattern.append("x")
    gx = dimshuffle(gk, pattern)
    if "x" in pattern or broadcast:
        gx = alloc(gx, *shape_tuple(x))
    for c in uniq:
        pos = [k for k, cc in enumerate(sx) if cc == c]
        for p in pos[1:]:
            gx = _diagonal_mask(gx, pos[0], p)
    return gx


def _sum_to_axes(g: Variable, x: Variable, axes: list[int]) -> Variable:
    """Like ``sum_to(g, x)``, where axis ``k`` of ``g`` matches axis ``axes[k]`` of ``x``."""
    from gnomon.tensor.elemwise import SumToShape
    from gnomon.tensor.reduce import sum as _sum
    from gnomon.tensor.shapes import make_vector, shape_i

    static = [x.type.shape[a] for a in axes]
    ones = tuple(k for k, (a, b) in enumerate(zip(static, g.type.shape, strict=True))
                 if a == 1 and b != 1)
    if ones:
        g = _sum(g, axis=ones, keepdims=True)
    if any(a is None and b != 1 for a, b in zip(static, g.type.shape, strict=True)):
        # An axis of g of static length 1 stays 1 (it is broadcast to x's length later).
        dims = [shape_i(x, a) if b != 1 else constant(1, "int64")
                for a, b in zip(axes, g.type.shape, strict=True)]
        g = SumToShape()(g, make_vector(*dims))
    return g


def _diagonal_mask(x: Variable, p: int, q: int) -> Variable:
    """Zero the entries of ``x`` off the diagonal of axes ``p`` and ``q``."""
    from gnomon.tensor.linalg import BandPart

    rest = [k for k in range(x.ndim) if k not in (p, q)]
    order = [*rest, p, q]
    y = BandPart(0, 0)(dimshuffle(x, order))
    back = [order.index(k) for k in range(x.ndim)]
    return dimshuffle(y, back)


def _canonical_subscripts(subscripts: str, ndims: Sequence[int]) -> str:
    """NumPy's einsum syntax -> explicit subscripts without ellipsis or spaces."""
    subscripts = subscripts.replace(" ", "")
    if subscripts.count("->") > 1:
        raise GnomonValueError(f"einsum: subscripts {subscripts!r} have more than one '->'")
    ins_str, arrow, out = subscripts.partition("->")
    ins = ins_str.split(",")
    if len(ins) != len(ndims):
        raise GnomonValueError(
            f"einsum: subscripts {subscripts!r} name {len(ins)} operand(s), but {len(ndims)} "
            f"were given{_where()}.\nHint: separate the operands' subscripts with commas."
        )
    for s in [*ins, out]:
        bad = set(s.replace("...", "")) - set(string.ascii_letters)
        if bad or s.replace("...", "").count(".") or s.count("...") > 1:
            raise GnomonValueError(
                f"einsum: invalid subscript {s!r} in {subscripts!r}{_where()}.\n"
                "Hint: use letters a-z, A-Z and at most one '...' per operand."
            )
    free = [c for c in string.ascii_letters if c not in subscripts]
    n_ell = 0
    for s, nd in zip(ins, ndims, strict=True):
        n_named = len(s.replace("...", ""))
        if "..." in s:
            if nd < n_named:
                raise ShapeError(
                    f"einsum: operand with subscript {s!r} has only {nd} dimension(s){_where()}"
                )
            n_ell = max(n_ell, nd - n_named)
        elif nd != n_named:
            raise ShapeError(
                f"einsum: an operand has {nd} dimension(s), but its subscript {s!r} has "
                f"{n_named}{_where()}.\nHint: give one label per dimension, or use '...'."
            )
    if n_ell > len(free):
        raise GnomonValueError("einsum: too many dimensions under '...' (out of letters)")
    ell = "".join(free[:n_ell])

    def expand(s: str, nd: int) -> str:
        if "..." not in s:
            return s
        k = nd - len(s.replace("...", ""))
        return s.replace("...", ell[n_ell - k:] if k else "")

    new_ins = [expand(s, nd) for s, nd in zip(ins, ndims, strict=True)]
    if not arrow:
        counts: dict[str, int] = {}
        for s in ins:
            for c in s.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1))
    else:
        has_ell = any("..." in s for s in ins)
        if "..." in out:
            out = out.replace("...", ell)
        elif has_ell and n_ell:
            raise GnomonValueError(
                f"einsum {subscripts!r}: the operands have dimensions under '...' but the "
                f"output does not{_where()}.\nHint: write '...' in the output too, or sum "
                "those dimensions afterwards."
            )
        for c in out:
            if c not in "".join(new_ins):
                raise GnomonValueError(
                    f"einsum {subscripts!r}: output label {c!r} appears in no operand{_where()}"
                )
        if len(set(out)) != len(out):
            raise GnomonValueError(
                f"einsum {subscripts!r}: the output repeats a label{_where()}.\n"
                "Hint: each output label must appear once."
            )
    return ",".join(new_ins) + "->" + out


def einsum(subscripts: str, *operands: Any) -> Variable:
    """Einstein summation, like ``np.einsum``.

    Supports NumPy's syntax: explicit (``'ij,jk->ik'``) and implicit (``'ij,jk'``: labels seen
    once, in alphabetical order) outputs, ``'...'`` for broadcast leading dimensions, repeated
    labels for diagonals (``'ii->i'``) and traces (``'ii'``). Gradients of every order are
    einsums again.

    Length-1 axes broadcast against other axes of the same label, as in NumPy, with one
    restriction: for a label that is summed (not in the output), the length 1 must be known
    when the graph is built (static shape); otherwise unequal lengths are a run-time error.
    Labels of the output (and ``'...'``) broadcast at run time too.

    Parameters
    ----------
    subscripts : str
    *operands : array_like

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dmatrix("a"); b = gt.dmatrix("b")
    >>> x, y = np.arange(6.0).reshape(2, 3), np.ones((3, 2))
    >>> einsum("ij,jk->ik", a, b).eval({a: x, b: y}).tolist()
    [[3.0, 3.0], [12.0, 12.0]]
    >>> float(einsum("ii", gt.constant(np.eye(3))).eval())
    3.0
    >>> einsum("...ij,...jk", gt.tensor("s", shape=(5, 2, 3)), b).type.shape
    (5, 2, None)
    """
    if not isinstance(subscripts, str):
        raise GnomonTypeError(
            "einsum: the first argument must be the subscripts string.\n"
            "Hint: einsum('ij,jk->ik', a, b); the interleaved form of NumPy is not supported."
        )
    xs = [as_tensor(x) for x in operands]
    if not xs:
        raise GnomonValueError("einsum: give at least one operand")
    canon = _canonical_subscripts(subscripts, [x.ndim for x in xs])
    ins, out = _parse(canon)
    if len(xs) == 1 and len(set(ins[0])) == len(ins[0]) and set(out) == set(ins[0]):
        # A pure permutation: a (free) DimShuffle instead of a copy.
        return dimshuffle(xs[0], [ins[0].index(c) for c in out])
    return Einsum(canon)(*xs)
