"""``MatMul`` of two matrices of one float or complex dtype, with ``np.dot`` (BLAS).

Batched products, integer and mixed dtypes run with the NumPy ``perform`` (Numba's ``np.dot``
is BLAS-only); ``Einsum`` too (see ``docs/backends.md``).
"""

from __future__ import annotations

from gnomon.backends.numba.dispatch import numba_funcify


def _register() -> None:
    import importlib

    tb = importlib.import_module("gnomon.tensor.blas")

    if hasattr(tb, "MatMul"):
        @numba_funcify.register(tb.MatMul)
        def _(op, node):  # type: ignore[no-untyped-def]
            a, b = node.inputs
            dt = node.outputs[0].dtype
            if a.ndim != 2 or b.ndim != 2 or not (a.dtype == b.dtype == dt) or dt not in (
                    "float32", "float64", "complex64", "complex128"):
                raise NotImplementedError("batched or non-float matmul")
            return ("def kernel(a, b):\n"
                    "    if a.shape[1] != b.shape[0]:\n"
                    "        raise ValueError('matmul: the inner dimensions differ')\n"
                    "    if a.shape[0] == 0 or a.shape[1] == 0 or b.shape[1] == 0:\n"
                    f"        return (np.zeros((a.shape[0], b.shape[1]), np.{dt}),)\n"
                    "    return (np.dot(np.ascontiguousarray(a), np.ascontiguousarray(b)),)\n")


_register()
