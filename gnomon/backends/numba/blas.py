"""``MatMul`` of two matrices of one float or complex dtype, with ``np.dot`` (BLAS); the
BLAS-shaped ``Gemm`` (gemm/gemv) and ``Ger`` built by the specialize rewrites, with ``np.dot``
on ``.T`` views and ``np.outer``.

Batched products, integer and mixed dtypes run with the NumPy ``perform`` (Numba's ``np.dot``
is BLAS-only); ``Einsum`` too (see ``docs/backends.md``).
"""

from __future__ import annotations

from gnomon.backends.numba.dispatch import numba_funcify
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.blas import Gemm, Ger, MatMul


@numba_funcify.register(MatMul)
def _(op: MatMul, node: Apply) -> str:
    a, b = node.inputs
    dt = node.outputs[0].dtype
    if a.ndim != 2 or b.ndim != 2 or not (a.dtype == b.dtype == dt) or dt not in (
            "float32", "float64", "complex64", "complex128"):
        raise NotLoweredError("batched or non-float matmul")
    return ("def kernel(a, b):\n"
            "    if a.shape[1] != b.shape[0]:\n"
            "        raise ValueError('matmul: the inner dimensions differ')\n"
            "    if a.shape[0] == 0 or a.shape[1] == 0 or b.shape[1] == 0:\n"
            f"        return (np.zeros((a.shape[0], b.shape[1]), np.{dt}),)\n"
            "    return (np.dot(np.ascontiguousarray(a), np.ascontiguousarray(b)),)\n")


@numba_funcify.register(Gemm)
def _(op: Gemm, node: Apply) -> str:
    dt = node.outputs[0].dtype
    # Strided inputs are made C-contiguous (a no-op for contiguous ones) so that np.dot
    # gets C or Fortran layouts; the transposes are views of them.
    a_txt = "np.ascontiguousarray(a)" + (".T" if op.trans_a else "")
    b_txt = "np.ascontiguousarray(b)" + (".T" if op.trans_b else "")
    vec = node.inputs[3].ndim == 1
    # np.dot in nopython mode calls BLAS directly and accepts transposed (Fortran-order)
    # views, so a transposed operand is not copied. BLAS rejects empty operands.
    empty = ("(A.shape[0],)" if vec else "(A.shape[0], B.shape[1])")
    no_work = "A.shape[0] == 0 or A.shape[1] == 0" + ("" if vec else " or B.shape[1] == 0")
    return ("def kernel(z, alpha, a, b, beta):\n"
            f"    A = {a_txt}\n"
            f"    B = {b_txt}\n"
            "    if A.shape[1] != B.shape[0]:\n"
            "        raise ValueError('Gemm: the inner dimensions differ')\n"
            f"    if {no_work}:\n"
            f"        p = np.zeros({empty}, np.{dt})\n"
            "    else:\n"
            "        p = np.dot(A, B)\n"
            "    out = beta[()] * z + alpha[()] * p\n"
            f"    return (out.astype(np.{dt}),)\n")


@numba_funcify.register(Ger)
def _(op: Ger, node: Apply) -> str:
    dt = node.outputs[0].dtype
    return ("def kernel(z, alpha, x, y):\n"
            "    out = z + alpha[()] * np.outer(x, y)\n"
            f"    return (out.astype(np.{dt}),)\n")
