"""Vectorized transcendental functions for fused loops: glibc's ``libmvec``.

Numba lowers ``np.exp(x)`` on a scalar to LLVM's ``llvm.exp.f64``; LLVM's loop vectorizer
then widens the loop but calls the scalar ``libm`` once per lane, because the LLVM that
llvmlite ships (22) no longer has the ``-vector-library`` option through which Numba used to
select a vector math library. A loop dominated by ``exp``, ``sin`` or ``log1p`` therefore ran
at scalar ``libm`` speed, slower than NumPy's SIMD ufuncs.

glibc (2.22 and later; 2.35 for most functions) ships SIMD versions of its math functions in
``libmvec`` under the x86-64 vector ABI names: ``_ZGVeN8v_exp`` is ``exp`` on eight doubles in
an AVX-512 register, ``_ZGVdN4v_exp`` on four in an AVX2 register. This module exposes them to
generated kernels as Numba intrinsics over whole buffers::

    vm_exp_float64(src, dst, n)        # dst[:n] = exp(src[:n]), W lanes at a time
    vm_pow_float64(src0, src1, dst, n)

Each reads and writes whole vectors, so ``n`` is rounded up to a multiple of the vector width
``W``: buffers are allocated with a length that is a multiple of :data:`BLOCK` (a multiple of
every ``W``). The elementwise lowering (:mod:`gnomon.backends.numba.elemwise`) evaluates fused
loops that contain these functions block by block (see there).

Availability: Linux with glibc's ``libmvec.so.1`` and a CPU with AVX-512F (``e`` variants) or
AVX2 (``d`` variants), and Numba compiling for the host CPU (``NUMBA_CPU_NAME`` and
``NUMBA_CPU_FEATURES`` unset: code compiled for another CPU must not assume its registers).
Anywhere else :func:`available` is False and fused loops call the scalar functions as before.
``GNOMON_VMATH=0`` switches it off.

Accuracy: glibc documents at most 4 ulp for the vector variants (most are within 1-2 ulp of
the correctly rounded result; NumPy's own SIMD routines have similar bounds), so results
differ from NumPy's in the last bits; ``tests/backends/test_numba_vmath.py`` states the bound
it checks against NumPy for every function, including the special values (infinities, NaN,
zeros, the edges of each domain).
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

#: elements per block of a blocked loop (a multiple of every vector width)
BLOCK = 512

#: NumPy ufunc name -> (libmvec name, number of arguments)
FUNCTIONS: dict[str, tuple[str, int]] = {
    "exp": ("exp", 1), "exp2": ("exp2", 1), "expm1": ("expm1", 1),
    "log": ("log", 1), "log2": ("log2", 1), "log10": ("log10", 1), "log1p": ("log1p", 1),
    "sin": ("sin", 1), "cos": ("cos", 1), "tan": ("tan", 1),
    "arcsin": ("asin", 1), "arccos": ("acos", 1), "arctan": ("atan", 1),
    "sinh": ("sinh", 1), "cosh": ("cosh", 1), "tanh": ("tanh", 1),
    "arcsinh": ("asinh", 1), "arccosh": ("acosh", 1), "arctanh": ("atanh", 1),
    "cbrt": ("cbrt", 1),
    "power": ("pow", 2), "arctan2": ("atan2", 2), "hypot": ("hypot", 2),
}

_DTYPES = ("float64", "float32")


@functools.cache
def _isa() -> tuple[str, int] | None:
    """``(ISA letter, register bits)`` of the libmvec variants to call, or None."""
    if os.environ.get("GNOMON_VMATH", "1") in ("0", "off", "false"):
        return None
    if not sys.platform.startswith("linux"):
        return None
    if os.environ.get("NUMBA_CPU_NAME") or os.environ.get("NUMBA_CPU_FEATURES"):
        return None  # Numba compiles for another CPU than this one
    import llvmlite.binding as llvm

    try:
        llvm.load_library_permanently("libmvec.so.1")
    except Exception:  # no glibc libmvec (musl, old glibc)
        return None
    try:
        features = llvm.get_host_cpu_features()
    except Exception:
        return None
    if features.get("avx512f"):
        return ("e", 512)
    if features.get("avx2"):
        return ("d", 256)
    return None


def available() -> bool:
    """Whether generated kernels call libmvec (see the module docstring)."""
    return _isa() is not None


def function_name(ufunc: str, dtype: str, nargs: int) -> str | None:
    """The kernel-side name of the vector version of ``ufunc`` for ``dtype`` arguments
    (``'_vm_exp_float64'``), or None when there is none (or libmvec is not available)."""
    entry = FUNCTIONS.get(ufunc)
    if entry is None or entry[1] != nargs or dtype not in _DTYPES or not available():
        return None
    return f"_vm_{ufunc}_{dtype}"


def imports(source: str) -> str:
    """Import lines of the ``_vm_*`` functions that ``source`` calls."""
    import re

    names = sorted(set(re.findall(r"\b_vm_(\w+?_float(?:64|32))\(", source)))
    return "".join(f"from gnomon.backends.numba.vmath import vm_{n} as _vm_{n}\n"
                   for n in names)


@functools.cache
def _intrinsic(ufunc: str, dtype: str) -> Any:
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    isa = _isa()
    assert isa is not None, "libmvec is not available"
    letter, bits = isa
    name, nargs = FUNCTIONS[ufunc]
    fty = ir.DoubleType() if dtype == "float64" else ir.FloatType()
    width = bits // (64 if dtype == "float64" else 32)
    vty = ir.VectorType(fty, width)
    align = 8 if dtype == "float64" else 4
    symbol = f"_ZGV{letter}N{width}{'v' * nargs}_{name}{'' if dtype == 'float64' else 'f'}"
    nb_dtype = {"float64": types.float64, "float32": types.float32}[dtype]

    def typer(typingctx: Any, *args: Any) -> Any:
        arrays, n = args[:-1], args[-1]
        if len(arrays) != nargs + 1 or not isinstance(n, types.Integer) or any(
                not isinstance(a, types.Array) or a.dtype != nb_dtype or a.ndim != 1
                or a.layout != "C" for a in arrays):
            return None
        sig = types.void(*arrays, types.intp)

        def codegen(context: Any, builder: Any, signature: Any, llargs: Any) -> Any:
            ptrs = [context.make_array(t)(context, builder, v).data
                    for t, v in zip(signature.args[:-1], llargs[:-1], strict=True)]
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vty, [vty] * nargs), symbol)
            i64 = ir.IntType(64)
            with cgutils.for_range_slice(builder, i64(0), llargs[-1], i64(width)) as (k, _):
                vp = [builder.bitcast(builder.gep(p, [k]), vty.as_pointer()) for p in ptrs]
                # element alignment only: buffers need not be aligned to the vector size
                xs = [builder.load(p, align=align) for p in vp[:-1]]
                builder.store(builder.call(fn, xs), vp[-1], align=align)
            return context.get_dummy_value()

        return sig, codegen

    # Numba's intrinsic decorator reads the typer's signature: (typingctx, *args)
    if nargs == 1:
        def one(typingctx, src, dst, n):
            return typer(typingctx, src, dst, n)
        return intrinsic(one)

    def two(typingctx, src0, src1, dst, n):
        return typer(typingctx, src0, src1, dst, n)
    return intrinsic(two)


def __getattr__(attr: str) -> Any:
    # ``from gnomon.backends.numba.vmath import vm_exp_float64`` (generated kernels)
    if attr.startswith("vm_"):
        ufunc, _, dtype = attr[3:].rpartition("_")
        if ufunc in FUNCTIONS and dtype in _DTYPES:
            return _intrinsic(ufunc, dtype)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
