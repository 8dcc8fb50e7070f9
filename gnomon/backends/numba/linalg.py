"""Linear algebra: ``Cholesky``, ``MatrixInverse``, ``Det``, ``SLogDet``, ``Solve`` of single
(non-batched) float32/float64 matrices with Numba's ``np.linalg`` (LAPACK); ``SolveTriangular``
(substitution loops, batched, any dtype the reference accepts) and ``BandPart`` (``tril``,
``triu``) written out as loops; ``Eigh``, ``SVD``, ``QR``, ``Pinv`` with ``np.linalg`` on each
matrix of a stack (real inputs).

Batched inputs, complex or integer dtypes of the ``np.linalg`` ops run with the NumPy/SciPy
``perform`` (see ``docs/backends.md``). A run-time failure (a singular or non-positive-definite
matrix, a non-finite entry where SciPy checks for one) raises in the compiled code and the node
is re-run on the reference backend, so the error is the reference's.
"""

from __future__ import annotations

from gnomon.backends.numba.batch import at, batch_loops, batch_shape
from gnomon.backends.numba.dispatch import copy_loops, indent, numba_funcify, shape_tuple_text
from gnomon.backends.numba.scalar import ctor
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.linalg import (
    QR,
    SVD,
    BandPart,
    Cholesky,
    Det,
    Eigh,
    MatrixInverse,
    Pinv,
    SLogDet,
    Solve,
    SolveTriangular,
)

_OK = ("float32", "float64")
_COMPLEX = ("complex64", "complex128")


def _check(node: Apply) -> str:
    a = node.inputs[0]
    dt = node.outputs[0].dtype
    if a.ndim != 2 or a.dtype != dt or dt not in _OK:
        raise NotLoweredError("batched or non-float linear algebra")
    return dt


_SQUARE = ("    if a.shape[0] != a.shape[1]:\n"
           "        raise ValueError('the matrix is not square')\n")


@numba_funcify.register(Cholesky)
def _(op: Cholesky, node: Apply) -> str:
    dt = _check(node)
    return ("def kernel(a):\n" + _SQUARE +
            f"    if a.shape[0] == 0:\n        return (np.empty((0, 0), {ctor(dt)}),)\n"
            "    return (np.linalg.cholesky(np.ascontiguousarray(a)),)\n")


@numba_funcify.register(MatrixInverse)
def _(op: MatrixInverse, node: Apply) -> str:
    dt = _check(node)
    return ("def kernel(a):\n" + _SQUARE +
            f"    if a.shape[0] == 0:\n        return (np.empty((0, 0), {ctor(dt)}),)\n"
            "    return (np.linalg.inv(np.ascontiguousarray(a)),)\n")


@numba_funcify.register(Det)
def _(op: Det, node: Apply) -> str:
    t = ctor(_check(node))
    return ("def kernel(a):\n" + _SQUARE +
            f"    out = np.empty((), {t})\n"
            f"    out[()] = {t}(1) if a.shape[0] == 0 else "
            f"{t}(np.linalg.det(np.ascontiguousarray(a)))\n"
            "    return (out,)\n")


@numba_funcify.register(SLogDet)
def _(op: SLogDet, node: Apply) -> str:
    t = ctor(_check(node))
    return ("def kernel(a):\n" + _SQUARE +
            f"    s = np.empty((), {t})\n    ld = np.empty((), {t})\n"
            "    if a.shape[0] == 0:\n"
            f"        s[()] = {t}(1)\n        ld[()] = {t}(0)\n"
            "    else:\n"
            "        r = np.linalg.slogdet(np.ascontiguousarray(a))\n"
            f"        s[()] = {t}(r[0])\n        ld[()] = {t}(r[1])\n"
            "    return (s, ld)\n")


@numba_funcify.register(Solve)
def _(op: Solve, node: Apply) -> str:
    dt = _check(node)
    b = node.inputs[1]
    if b.dtype != dt or b.ndim not in (1, 2):
        raise NotLoweredError("solve with options, batches or mixed dtypes")
    return ("def kernel(a, b):\n" + _SQUARE +
            "    if a.shape[0] != b.shape[0]:\n"
            "        raise ValueError('solve: a and b do not match')\n"
            "    if a.shape[0] == 0:\n        return (b.copy(),)\n"
            "    return (np.linalg.solve(np.ascontiguousarray(a), "
            "np.ascontiguousarray(b)),)\n")


# --- triangular solves and band parts ------------------------------------------------------


def _finite_check(node: Apply, names: list[str]) -> list[str]:
    # SciPy's check_finite: a non-finite entry anywhere (the unread triangle too) is an error
    # (v - v is NaN exactly for inf and NaN, real or complex: no temporary array)
    return [f"for v in {n}.flat:\n        if v - v != 0:\n            raise ValueError('array "
            "must not contain infs or NaNs')" for n, v in zip(names, node.inputs, strict=True)
            if v.dtype[0] in "fc"]


@numba_funcify.register(SolveTriangular)
def _(op: SolveTriangular, node: Apply) -> str:
    a, b = node.inputs
    dt = node.outputs[0].dtype
    if dt not in _OK + _COMPLEX or any(v.dtype[0] not in "biufc" for v in (a, b)):
        raise NotLoweredError("solve_triangular of this dtype")
    t = ctor(dt)
    vec = b.ndim == 1
    # op(a) = a (trans 0) or a.T (trans 1); op(a) lower: forward substitution, else backward
    forward = op.lower == (op.trans == 0)
    el = "A[i, p]" if op.trans == 0 else "A[p, i]"
    rng_i = "range(n)" if forward else "range(n - 1, -1, -1)"
    rng_p = "range(i)" if forward else "range(i + 1, n)"
    lines, loops, idx, nb = batch_loops(["a"] if vec else ["a", "b"],
                                        [a.ndim - 2] if vec else [a.ndim - 2, b.ndim - 2])
    body = ["n = a.shape[-1]",
            "if a.shape[-2] != n:\n        raise ValueError('the matrix is not square')",
            f"if b.shape[{0 if vec else -2}] != n:\n"
            "        raise ValueError('solve_triangular: a and b do not match')",
            *_finite_check(node, ["a", "b"]), *lines]
    body.append(f"out = np.empty({batch_shape(nb, ['n'] if vec else ['n', 'b.shape[-1]'])}, {t})")
    inner = [f"A = {at('a', idx[0])}", f"X = {at('out', ''.join(f'i{d}, ' for d in range(nb)))}"]
    inner += (["for i in range(n):", f"    X[i] = {t}(b[i])"] if vec else
              [f"B = {at('b', idx[1])}", "for i in range(n):", "    for j in range(B.shape[1]):",
               f"        X[i, j] = {t}(B[i, j])"])
    xs = ("X[i]", "X[p]") if vec else ("X[i, j]", "X[p, j]")
    if not op.unit_diagonal:
        # trtrs checks the diagonal for exact zeros before solving (SciPy: LinAlgError)
        inner += ["for i in range(n):", f"    if {t}(A[i, i]) == 0:",
                  "        raise ValueError('the triangular matrix is singular')"]
    solve = [f"for i in {rng_i}:", f"    s = {xs[0]}", f"    for p in {rng_p}:",
             f"        s -= {t}({el}) * {xs[1]}",
             f"    {xs[0]} = s" + ("" if op.unit_diagonal else f" / {t}(A[i, i])")]
    if not vec:
        solve = ["for j in range(B.shape[1]):", *("    " + ln for ln in solve)]
    inner += solve
    body += loops + ["    " * nb + ln for ln in inner] + ["return (out,)"]
    return "def kernel(a, b):\n" + "\n".join(indent(body, 1)) + "\n"


@numba_funcify.register(BandPart)
def _(op: BandPart, node: Apply) -> str:
    x = node.inputs[0]
    t = ctor(x.dtype)
    conds = ([f"j - i >= {op.lo}"] if op.lo is not None else []) + (
        [f"j - i <= {op.hi}"] if op.hi is not None else [])
    nb = x.ndim - 2
    loops = ["    " * d + f"for i{d} in range(x.shape[{d}]):" for d in range(nb)]
    ix = "".join(f"i{d}, " for d in range(nb))
    cond = " and ".join(conds) or "True"
    inner = ["for i in range(x.shape[-2]):",
             "    for j in range(x.shape[-1]):",
             f"        out[{ix}i, j] = x[{ix}i, j] if {cond} else {t}(0)"]
    body = ["out = _empty(x.shape, " + t + ")", *loops, *("    " * nb + ln for ln in inner),
            "return (out,)"]
    return "def kernel(x):\n" + "\n".join(indent(body, 1)) + "\n"


# --- factorizations: eigh, svd, qr, pinv ----------------------------------------------------


def _factor_kernel(node: Apply, outs: list[str], core: list[str], square: bool = False) -> str:
    """A kernel applying ``core`` to each matrix ``A`` (C-contiguous, in the result dtype) of
    the stack ``a``; ``outs`` are the core shapes of the outputs (text in ``m``, ``n``, ``k``),
    and ``core`` assigns ``O0, O1, ...``, the outputs' matrices of this batch."""
    a = node.inputs[0]
    dts = {o.dtype for o in node.outputs}
    if len(dts) != 1 or not dts <= set(_OK) or a.dtype[0] not in "biuf":
        raise NotLoweredError("complex or float16 factorizations")
    t = ctor(dts.pop())
    nb = a.ndim - 2
    loops = ["    " * d + f"for i{d} in range(a.shape[{d}]):" for d in range(nb)]
    ix = "".join(f"i{d}, " for d in range(nb))
    shape = [f"a.shape[{d}]" for d in range(nb)]
    body = ["m = a.shape[-2]", "n = a.shape[-1]", "k = min(m, n)"]
    if square:
        body.append("if m != n:\n        raise ValueError('the matrix is not square')")
    body += [f"out{j} = np.zeros({shape_tuple_text(shape + s.split(', '))}, {t})"
             for j, s in enumerate(outs)]
    inner = [f"A = np.ascontiguousarray({at('a', ix)}).astype({t})",
             *[f"O{j} = {at(f'out{j}', ix)}" for j in range(len(outs))], *core]
    body += loops + ["    " * nb + ln for ln in inner]
    body.append("return (" + "".join(f"out{j}, " for j in range(len(outs))) + ")")
    return "def kernel(a):\n" + "\n".join(indent(body, 1)) + "\n"


@numba_funcify.register(Eigh)
def _(op: Eigh, node: Apply) -> str:
    # Numba's eigh reads the lower triangle (UPLO='L'), as NumPy's and the reference's
    return _factor_kernel(node, ["n", "n, n"], [
        "if n > 0:", "    w, v = np.linalg.eigh(A)", *indent(copy_loops("O0", "w", 1), 1),
        *indent(copy_loops("O1", "v", 2), 1)],
        square=True)


@numba_funcify.register(SVD)
def _(op: SVD, node: Apply) -> str:
    if not op.compute_uv:
        return _factor_kernel(node, ["k"], [
            "if k > 0:", "    s = np.linalg.svd(A, False)[1]",
            *indent(copy_loops("O0", "s", 1), 1)])
    # NumPy gives identity factors for an empty matrix (the full ones of the non-empty side)
    us, vs = (["m, m", "n, n"] if op.full_matrices else ["m, k", "k, n"])
    return _factor_kernel(node, [us, "k", vs], [
        "if k > 0:",
        f"    u, s, vh = np.linalg.svd(A, {op.full_matrices})",
        *indent(copy_loops("O0", "u", 2) + copy_loops("O1", "s", 1) + copy_loops("O2", "vh", 2),
                1),
        "else:",
        "    for i in range(min(O0.shape[0], O0.shape[1])):", "        O0[i, i] = 1",
        "    for i in range(min(O2.shape[0], O2.shape[1])):", "        O2[i, i] = 1"])


@numba_funcify.register(QR)
def _(op: QR, node: Apply) -> str:
    return _factor_kernel(node, ["m, k", "k, n"], [
        "if k > 0:", "    q, r = np.linalg.qr(A)",
        *indent(copy_loops("O0", "q", 2) + copy_loops("O1", "r", 2), 1)])


@numba_funcify.register(Pinv)
def _(op: Pinv, node: Apply) -> str:
    # NumPy's formula: singular values at most rcond * max(s) count as zero (rcond 1e-15 by
    # default, NumPy's), then vh.T @ (1/s * u.T)
    rcond = 1e-15 if op.rcond is None else op.rcond
    return _factor_kernel(node, ["n, m"], [
        "if k > 0:",
        "    u, s, vh = np.linalg.svd(A, False)",
        f"    cut = {rcond!r} * np.max(s)",
        "    for i in range(k):",
        "        s[i] = 1 / s[i] if s[i] > cut else 0",
        "    P = np.dot(vh.T.copy(), (s.reshape(k, 1) * u.T))",
        *indent(copy_loops("O0", "P", 2), 1)])
