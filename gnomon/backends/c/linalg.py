"""Linear algebra in C: ``Cholesky`` of one float matrix through LAPACK ``?potrf`` (SciPy's
``scipy.linalg.cython_lapack`` in ``mode="c"``; a plain C factorization, or the system LAPACK
with ``-DGNOMON_BLAS``, in an exported file). A matrix that is not positive definite fails the
call, and the reference's error (``LinAlgError`` with the hint) is raised."""

from __future__ import annotations

from gnomon.backends.c.dispatch import alloc, c_funcify, ctype, kernel, tensor_dtypes
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.linalg import BandPart, Cholesky


@c_funcify.register(Cholesky)
def _(op: Cholesky, node: Apply) -> str:
    tensor_dtypes(node)
    a = node.inputs[0]
    dt = node.outputs[0].dtype
    if a.ndim != 2 or a.dtype != dt or dt not in ("float32", "float64"):
        raise NotLoweredError("batched or non-float cholesky")
    t, s = ctype(dt), ("d" if dt == "float64" else "s")
    return kernel([
        "int64_t n = in[0]->shape[0];",
        "if (in[0]->shape[1] != n) return gn_fail(ctx, \"cholesky: the matrix is not square\");",
        "if (n > 2147483647) return gn_fail(ctx, \"matrix too large for LAPACK\");",
        "out[0].nd = 2; out[0].shape[0] = n; out[0].shape[1] = n;",
        alloc("out[0]", dt),
        f"{t} *o = ({t} *)out[0].data;",
        # the lower triangle of the row-major input (the reference reads only that)
        "for (int64_t i = 0; i < n; i++) for (int64_t j = 0; j < n; j++)",
        f"    o[i * n + j] = j <= i ? *(const {t} *)(in[0]->data + i * in[0]->strides[0] "
        "+ j * in[0]->strides[1]) : 0;",
        "if (n == 0) return 0;",
        "char uplo = 'U'; int n_ = (int)n, info = 0;",
        f"gn_{s}potrf(&uplo, &n_, o, &n_, &info);",
        "if (info != 0) return gn_fail(ctx, \"cholesky: the matrix is not positive definite\");",
        "for (int64_t i = 0; i < n; i++) for (int64_t j = i + 1; j < n; j++) o[i * n + j] = 0;",
    ])


@c_funcify.register(BandPart)
def _(op: BandPart, node: Apply) -> str:
    """``x[..., i, j]`` where ``lo <= j - i <= hi``, else 0: one walk over the output in C
    order, reading the input through its strides."""
    tensor_dtypes(node)
    x = node.inputs[0]
    nd, dt = x.ndim, node.outputs[0].dtype
    t = ctype(dt)
    keep = " && ".join([f"j - i >= {op.lo}LL"] * (op.lo is not None)
                       + [f"j - i <= {op.hi}LL"] * (op.hi is not None)) or "1"
    return kernel([
        f"out[0].nd = {nd};",
        *[f"out[0].shape[{d}] = in[0]->shape[{d}];" for d in range(nd)],
        alloc("out[0]", dt),
        f"int64_t total = gn_size(&out[0]), idx[{nd}] = {{0}};",
        f"{t} *o = ({t} *)out[0].data;",
        "for (int64_t k = 0; k < total; k++) {",
        f"    int64_t off = 0, i = idx[{nd - 2}], j = idx[{nd - 1}];",
        f"    for (int d = 0; d < {nd}; d++) off += idx[d] * in[0]->strides[d];",
        f"    o[k] = ({keep}) ? *(const {t} *)(in[0]->data + off) : ({t})0;",
        f"    for (int d = {nd - 1}; d >= 0; d--) {{ if (++idx[d] < out[0].shape[d]) break; "
        "idx[d] = 0; }",
        "}",
    ])
