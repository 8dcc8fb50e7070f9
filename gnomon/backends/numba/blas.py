"""``MatMul`` of two matrices of one float or complex dtype, with ``np.dot`` (BLAS); the
BLAS-shaped ``Gemm`` (gemm/gemv) and ``Ger`` built by the specialize rewrites, with ``np.dot``
on ``.T`` views and ``np.outer``.

Stacks of matrices (rank > 2, batch dimensions broadcast at run time) loop over the batch.
Integer and mixed dtypes run with the NumPy ``perform`` (Numba's ``np.dot``
is BLAS-only). ``Einsum`` is one loop nest over its labels (see ``docs/backends.md``).
"""

from __future__ import annotations

from gnomon.backends.numba.batch import at, batch_loops, batch_shape
from gnomon.backends.numba.dispatch import copy_loops, indent, numba_funcify, shape_tuple_text
from gnomon.backends.numba.scalar import ctor
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.blas import Einsum, Gemm, Ger, MatMul


@numba_funcify.register(MatMul)
def _(op: MatMul, node: Apply) -> str:
    a, b = node.inputs
    dt = node.outputs[0].dtype
    if not (a.dtype == b.dtype == dt) or dt not in (
            "float32", "float64", "complex64", "complex128"):
        raise NotLoweredError("non-float or mixed-dtype matmul")
    if a.ndim > 2 or b.ndim > 2:
        return _batched_matmul(a.ndim - 2, b.ndim - 2, dt)
    return ("def kernel(a, b):\n"
            "    if a.shape[1] != b.shape[0]:\n"
            "        raise ValueError('matmul: the inner dimensions differ')\n"
            "    if a.shape[0] == 0 or a.shape[1] == 0 or b.shape[1] == 0:\n"
            f"        return (np.zeros((a.shape[0], b.shape[1]), np.{dt}),)\n"
            "    return (np.dot(np.ascontiguousarray(a), np.ascontiguousarray(b)),)\n")


def _batched_matmul(ra: int, rb: int, dt: str) -> str:
    """Stacks of matrices, batch dimensions broadcast at run time: each product is a loop
    nest when small (one BLAS call per tiny matrix costs more than the product) and ``np.dot``
    otherwise."""
    lines, loops, idx, nb = batch_loops(["a", "b"], [ra, rb])
    ix = "".join(f"i{d}, " for d in range(nb))
    inner = [f"A = {at('a', idx[0])}", f"B = {at('b', idx[1])}", f"C = {at('out', ix)}",
             "if n * k * m <= 512:",
             "    for i in range(n):",
             "        for j in range(m):",
             f"            s = np.{dt}(0)",
             "            for p in range(k):",
             "                s += A[i, p] * B[p, j]",
             "            C[i, j] = s",
             "else:",
             "    P = np.dot(np.ascontiguousarray(A), np.ascontiguousarray(B))",
             *indent(copy_loops("C", "P", 2), 1)]
    body = ["n = a.shape[-2]", "k = a.shape[-1]", "m = b.shape[-1]",
            "if b.shape[-2] != k:\n        raise ValueError('matmul: the inner dimensions differ')",
            *lines, f"out = np.empty({batch_shape(nb, ['n', 'm'])}, np.{dt})",
            *loops, *("    " * nb + ln for ln in inner), "return (out,)"]
    return "def kernel(a, b):\n" + "\n".join(indent(body, 1)) + "\n"


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


@numba_funcify.register(Einsum)
def _(op: Einsum, node: Apply) -> str:
    # One loop nest: the output's labels outside, the summed labels inside, the product of the
    # operands (each cast to the result dtype, as np.einsum does) added up in that dtype. No
    # pairwise contraction through BLAS (np.einsum(optimize=True) in the reference): fine
    # for the small contractions of models, slower for large products (use matmul there).
    dt = node.outputs[0].dtype
    if dt == "bool":
        raise NotLoweredError("einsum of booleans")
    t = ctor(dt)
    ins, out = op.inputs_subs, op.output_subs
    labels = list(dict.fromkeys("".join(ins)))
    summed = [c for c in labels if c not in out]
    names = [f"x{j}" for j in range(len(ins))]
    body = [f"L_{c} = 1" for c in labels]
    for j, (s, v) in enumerate(zip(ins, node.inputs, strict=True)):
        for k, c in enumerate(s):
            if c in summed and v.type.shape[k] == 1:  # type: ignore[attr-defined]
                continue  # a static length 1 broadcasts (the reference's rule)
            d = f"x{j}.shape[{k}]"
            if c in summed:  # other lengths of a summed label must agree exactly
                body += [f"if S_{c} >= 0 and S_{c} != {d}:",
                         "    raise ValueError('einsum: a summed label has unequal lengths')",
                         f"S_{c} = {d}", f"L_{c} = {d}"]
            else:
                body += [f"if {d} != 1:", f"    if L_{c} != 1 and L_{c} != {d}:",
                         "        raise ValueError('einsum: lengths of a label do not match')",
                         f"    L_{c} = {d}"]
    body = [f"S_{c} = -1" for c in summed] + body
    body.append(f"out = np.zeros({shape_tuple_text([f'L_{c}' for c in out])}, {t})")

    def ref(j: int) -> str:
        ix = ", ".join(f"i_{c} * (x{j}.shape[{k}] != 1)" for k, c in enumerate(ins[j]))
        return f"{t}(x{j}[{ix or '()'}])"

    prod = " * ".join(ref(j) for j in range(len(ins)))
    oix = ", ".join(f"i_{c}" for c in out) or "()"
    loops = ["    " * d + f"for i_{c} in range(L_{c}):" for d, c in enumerate(out)]
    pad = "    " * len(out)
    inner = ["    " * d + f"for i_{c} in range(L_{c}):" for d, c in enumerate(summed)]
    ipad = "    " * len(summed)
    body += [*loops, f"{pad}acc = {t}(0)", *(pad + ln for ln in inner),
             f"{pad}{ipad}acc += {prod}", f"{pad}out[{oix}] = acc", "return (out,)"]
    return f"def kernel({', '.join(names)}):\n" + "\n".join(indent(body, 1)) + "\n"
