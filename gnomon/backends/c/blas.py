"""``Gemm`` (gemm and gemv shapes), ``Ger`` and 2-d float ``MatMul`` in C.

Products call BLAS ``?gemm``: in ``mode="c"`` the BLAS that SciPy ships, through the function
pointers ``scipy.linalg.cython_blas`` exports (bound when the module is loaded; no system BLAS
needed); in an exported file, plain C loops, or the system BLAS with ``-DGNOMON_BLAS``. A
strided operand is passed in place when one of its strides is the item size, else copied.
``beta * z`` is added afterwards exactly as the reference computes it (so a NaN in ``z``
propagates even when ``beta`` is 0). ``Ger`` (``z + alpha * outer(x, y)``) is one loop, as
cheap as BLAS ``ger`` for this memory-bound update.
"""

from __future__ import annotations

from gnomon.backends.c.dispatch import alloc, c_funcify, ctype, kernel, tensor_dtypes
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.blas import Gemm, Ger, MatMul


def _float(dt: str) -> str:
    if dt not in ("float32", "float64"):
        raise NotLoweredError(f"BLAS products of {dt}")
    return "d" if dt == "float64" else "s"


def _scalar(k: int, dtype: str, t: str) -> str:
    return f"(({t})*(const {ctype(dtype)} *)in[{k}]->data)"


def _bcast_add(out_nd: int, z_nd: int, t: str, zt: str, beta: str) -> list[str]:
    """``out = beta * z + P`` with ``z`` (input 0) and ``P`` (M x N or M, contiguous)
    broadcast against each other; ``out`` is allocated here."""
    body = [f"out[0].nd = {out_nd};"]
    pshape = ["M", "N"][:out_nd] if out_nd == 2 else ["M"]
    for d in range(out_nd):
        k = d - (out_nd - z_nd)
        zs = f"in[0]->shape[{k}]" if k >= 0 else "1"
        body += [f"int64_t zs{d} = {zs}, ps{d} = {pshape[d]};",
                 f"if (zs{d} != ps{d} && zs{d} != 1 && ps{d} != 1) {{ gn_release(P.base); "
                 "return gn_fail(ctx, \"Gemm: z does not broadcast against the product\"); }",
                 f"out[0].shape[{d}] = zs{d} == 1 ? ps{d} : zs{d};"]
    body.append(f"if (gn_alloc(ctx, &out[0], 0 + OUT_TYPENUM, sizeof({t})) < 0) "
                "{ gn_release(P.base); return -1; }")
    loops, pad = [], ""
    for d in range(out_nd):
        k = d - (out_nd - z_nd)
        zstride = f"(zs{d} == 1 ? 0 : in[0]->strides[{k}])" if k >= 0 else "0"
        pstride = f"(ps{d} == 1 ? 0 : P.strides[{d}])"
        loops += [f"{pad}for (int64_t i{d} = 0; i{d} < out[0].shape[{d}]; i{d}++) {{",
                  f"{pad}    int64_t zo{d} = {'zo' + str(d - 1) + ' + ' if d else ''}"
                  f"i{d} * {zstride}, po{d} = {'po' + str(d - 1) + ' + ' if d else ''}"
                  f"i{d} * {pstride}, oo{d} = {'oo' + str(d - 1) + ' + ' if d else ''}"
                  f"i{d} * out[0].strides[{d}];"]
        pad += "    "
    last = out_nd - 1
    loops.append(f"{pad}*({t} *)(out[0].data + oo{last}) = {beta} * ({t})*(const {zt} *)"
                 f"(in[0]->data + zo{last}) + *({t} *)(P.data + po{last});")
    loops += ["    " * d + "}" for d in reversed(range(out_nd))]
    return body + loops + ["gn_release(P.base);"]


@c_funcify.register(Gemm)
def _(op: Gemm, node: Apply) -> str:
    tensor_dtypes(node)
    z, alpha, a, b, beta = node.inputs
    dt = node.outputs[0].dtype
    if not (a.dtype == b.dtype == dt):
        raise NotLoweredError("Gemm of mixed dtypes")
    s, t = _float(dt), ctype(dt)
    vec = b.ndim == 1
    out_nd = 1 if vec else 2
    a0, a1 = ("1", "0") if op.trans_a else ("0", "1")
    body = [f"int64_t M = in[2]->shape[{a0}], K = in[2]->shape[{a1}];",
            f"int64_t as0 = in[2]->strides[{a0}], as1 = in[2]->strides[{a1}];"]
    if vec:
        body += ["int64_t K2 = in[3]->shape[0], N = 1;",
                 f"int64_t bs0 = in[3]->strides[0], bs1 = sizeof({t});"]
    else:
        b0, b1 = ("1", "0") if op.trans_b else ("0", "1")
        body += [f"int64_t K2 = in[3]->shape[{b0}], N = in[3]->shape[{b1}];",
                 f"int64_t bs0 = in[3]->strides[{b0}], bs1 = in[3]->strides[{b1}];"]
    body += ["if (K != K2) return gn_fail(ctx, \"Gemm: operands are not aligned (%lld != %lld)\","
             " (long long)K, (long long)K2);",
             f"gn_arr P; P.nd = {out_nd}; P.shape[0] = M;" + ("" if vec else " P.shape[1] = N;"),
             alloc("P", dt),
             f"if (gn_matmul_{s}(ctx, in[2]->data, as0, as1, in[3]->data, bs0, bs1, "
             f"({t} *)P.data, M, N, K, {_scalar(1, alpha.dtype, t)}) < 0) "
             "{ gn_release(P.base); return -1; }"]
    body += _bcast_add(out_nd, z.ndim, t, ctype(z.dtype),
                       _scalar(4, beta.dtype, t))
    from gnomon.backends.c.dispatch import typenum

    return kernel(body).replace("0 + OUT_TYPENUM", str(typenum(dt)))


@c_funcify.register(MatMul)
def _(op: MatMul, node: Apply) -> str:
    tensor_dtypes(node)
    a, b = node.inputs
    dt = node.outputs[0].dtype
    if a.ndim != 2 or b.ndim != 2 or not (a.dtype == b.dtype == dt):
        raise NotLoweredError("batched, vector or mixed-dtype matmul")
    s, t = _float(dt), ctype(dt)
    return kernel([
        "int64_t M = in[0]->shape[0], K = in[0]->shape[1], N = in[1]->shape[1];",
        "if (in[1]->shape[0] != K) return gn_fail(ctx, \"matmul: the inner dimensions differ "
        "(%lld != %lld)\", (long long)K, (long long)in[1]->shape[0]);",
        "out[0].nd = 2; out[0].shape[0] = M; out[0].shape[1] = N;",
        alloc("out[0]", dt),
        f"return gn_matmul_{s}(ctx, in[0]->data, in[0]->strides[0], in[0]->strides[1], "
        f"in[1]->data, in[1]->strides[0], in[1]->strides[1], ({t} *)out[0].data, M, N, K, "
        f"({t})1);"])


@c_funcify.register(Ger)
def _(op: Ger, node: Apply) -> str:
    tensor_dtypes(node)
    z, alpha, x, y = node.inputs
    dt = node.outputs[0].dtype
    if not (x.dtype == y.dtype == dt):
        raise NotLoweredError("Ger of mixed dtypes")
    t, xt = ctype(dt), ctype(x.dtype)
    zt = ctype(z.dtype)
    zn = z.ndim
    body = ["int64_t M = in[2]->shape[0], N = in[3]->shape[0];",
            f"{t} al = {_scalar(1, alpha.dtype, t)};",
            "out[0].nd = 2;"]
    for d, n in enumerate(("M", "N")):
        k = d - (2 - zn)
        if k >= 0:
            body += [f"int64_t zs{d} = in[0]->shape[{k}];",
                     f"if (zs{d} != {n} && zs{d} != 1 && {n} != 1) return gn_fail(ctx, "
                     "\"Ger: z does not broadcast against the outer product\");",
                     f"out[0].shape[{d}] = zs{d} == 1 ? {n} : zs{d};",
                     f"int64_t zst{d} = zs{d} == 1 ? 0 : in[0]->strides[{k}];"]
        else:
            body += [f"out[0].shape[{d}] = {n};", f"int64_t zst{d} = 0;"]
    body += [alloc("out[0]", dt),
             "int64_t xs = M == 1 ? 0 : in[2]->strides[0], ys = N == 1 ? 0 : in[3]->strides[0];",
             "for (int64_t i = 0; i < out[0].shape[0]; i++) {",
             f"    {t} xv = *(const {xt} *)(in[2]->data + i * xs);",
             "    for (int64_t j = 0; j < out[0].shape[1]; j++) {",
             f"        {t} zv = ({t})*(const {zt} *)(in[0]->data + i * zst0 + j * zst1);",
             f"        {t} yv = *(const {xt} *)(in[3]->data + j * ys);",
             f"        *({t} *)(out[0].data + i * out[0].strides[0] + j * out[0].strides[1]) = "
             "zv + al * (xv * yv);",
             "    }", "}"]
    return kernel(body)
