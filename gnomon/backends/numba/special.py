"""Numba lowerings of the special functions (``gnomon/scalar/special.py``, and ``erfcx``,
``erfinv``, ``polygamma`` of ``gnomon/scalar/math.py``).

Most of them call SciPy's own C implementations, exported by ``scipy.special.cython_special``
as C function pointers, so results are SciPy's bit for bit. A pointer's address changes from
process to process, and kernels are cached on disk as machine code, so the address is never
written into a kernel: importing this module binds each function to a fixed LLVM symbol name
(``gnomon_sp_<name>``, ``llvmlite.binding.add_symbol``) and a kernel calls it through
``numba.types.ExternalFunction`` by that name. The linker adds
``from gnomon.backends.numba.special import ...`` to every kernel module that uses one
(:func:`module_text`), so the binding is in place before cached code is linked in any process.

The derivatives of ``gammainc`` and ``betainc`` in their parameters and polygamma of order
``>= 1`` have no SciPy export: the plain-Python kernels of
:mod:`gnomon.scalar.special_kernels` (the reference's own source) are embedded into the kernel
module and compiled with ``numba.njit``; being part of the source text, they key the disk cache.

dtypes follow NumPy's choice of the SciPy ufunc loop: float32 loops call SciPy's float variant
where it has one (``betainc``, ``betaincinv``, ``erfinv``), otherwise the double one with the
result rounded to float32, as SciPy's own float32 loops do.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

import llvmlite.binding as llvm
import numpy as np
import scipy.special as sp
from numba import types
from numba.extending import get_cython_function_address

from gnomon.backends.numba.scalar import ctor, loop_dtypes, scalar_source
from gnomon.errors import NotLoweredError
from gnomon.scalar import math as sm
from gnomon.scalar import special as ss
from gnomon.scalar import special_kernels

_CAPI = "scipy.special.cython_special"


def _external(capi_name: str, nargs: int, dtype: str) -> types.ExternalFunction:
    """SciPy's exported ``capi_name`` as a function Numba calls by symbol name (each takes a
    trailing ``int`` flag, Cython's ``skip_dispatch``, which is ignored)."""
    symbol = f"gnomon_sp_{capi_name}"
    llvm.add_symbol(symbol, get_cython_function_address(_CAPI, capi_name))
    t = types.float64 if dtype == "float64" else types.float32
    return types.ExternalFunction(symbol, t(*([t] * nargs), types.intc))


# (op class, SciPy ufunc (its loops decide the dtypes), double export, float export or None)
_EXPORTS: list[tuple[type, Any, str, str | None]] = [
    (ss.Ndtr, sp.ndtr, "__pyx_fuse_1ndtr", None),
    (ss.LogNdtr, sp.log_ndtr, "__pyx_fuse_1log_ndtr", None),
    (ss.Ndtri, sp.ndtri, "ndtri", None),
    (ss.BetaLn, sp.betaln, "betaln", None),
    (ss.GammaInc, sp.gammainc, "gammainc", None),
    (ss.GammaIncC, sp.gammaincc, "gammaincc", None),
    (ss.GammaIncInv, sp.gammaincinv, "gammaincinv", None),
    (ss.GammaIncCInv, sp.gammainccinv, "gammainccinv", None),
    (ss.BetaInc, sp.betainc, "__pyx_fuse_0betainc", "__pyx_fuse_1betainc"),
    (ss.BetaIncInv, sp.betaincinv, "__pyx_fuse_0betaincinv", "__pyx_fuse_1betaincinv"),
    (ss.I0, sp.i0, "i0", None),
    (ss.I0e, sp.i0e, "i0e", None),
    (ss.I1, sp.i1, "i1", None),
    (ss.I1e, sp.i1e, "i1e", None),
    (ss.Hyp2F1, sp.hyp2f1, "__pyx_fuse_1hyp2f1", None),
    (sm.Erfcx, sp.erfcx, "__pyx_fuse_1erfcx", None),
    (sm.Erfinv, sp.erfinv, "__pyx_fuse_0erfinv", "__pyx_fuse_1erfinv"),
    (sm.Digamma, sp.psi, "__pyx_fuse_1psi", None),  # used by polygamma of order 0 only
    (ss.Xlogy, sp.xlogy, "__pyx_fuse_1xlogy", None),  # float64 loops only (see _xlog)
    (ss.Xlog1py, sp.xlog1py, "__pyx_fuse_1xlog1py", None),
]


def _pyname(capi_name: str, dtype: str) -> str:
    """The name kernels call SciPy's ``capi_name`` by (``_gsp_betainc_f64``)."""
    base = capi_name.removeprefix("__pyx_fuse_0").removeprefix("__pyx_fuse_1")
    return f"_gsp_{base}_f{dtype[-2:]}"


#: Python name (as kernels spell it) -> ExternalFunction; the names are importable from here.
EXTERNALS: dict[str, types.ExternalFunction] = {}
for _cls, _ufunc, _d, _f in _EXPORTS:
    _n = _ufunc.nin
    EXTERNALS[_pyname(_d, "float64")] = _external(_d, _n, "float64")
    if _f is not None:
        EXTERNALS[_pyname(_f, "float32")] = _external(_f, _n, "float32")
globals().update(EXTERNALS)


def _loop(ufunc: Any, op: object, in_dtypes: Sequence[str]) -> str:
    loop = loop_dtypes(ufunc, in_dtypes)
    if any(np.dtype(d).kind != "f" for d in loop) or len(set(loop)) != 1:
        raise NotLoweredError(f"{op} for inputs {', '.join(in_dtypes)} (loop {loop})")
    return loop[0]


def _export_call(ufunc: Any, double: str, single: str | None) -> Callable[..., str]:
    def lower(op, args, in_dtypes, out_dtypes):
        ld = _loop(ufunc, op, in_dtypes)
        if ld == "float32" and single is not None:
            return f"{_pyname(single, 'float32')}({''.join(f'np.float32({a}), ' for a in args)}0)"
        call = f"{_pyname(double, 'float64')}({''.join(f'np.float64({a}), ' for a in args)}0)"
        return call if out_dtypes[0] == "float64" else f"{ctor(out_dtypes[0])}({call})"

    return lower


for _cls, _ufunc, _d, _f in _EXPORTS:
    if _cls not in (sm.Digamma, ss.Xlogy, ss.Xlog1py):
        scalar_source.register(_cls)(_export_call(_ufunc, _d, _f))


def _xlog(log: str) -> Callable[..., str]:
    # float64: SciPy's export (its log1p is Cephes', not libm's). float32 has no export; SciPy's
    # loop gives 0 where x == 0 and y is not NaN, else x * log(y) in float32, with log1p
    # computed in double (Cephes': xlog1py(1, y)) and rounded. Checked bit for bit.
    ufunc = sp.xlogy if log == "log" else sp.xlog1py
    double = _export_call(ufunc, f"__pyx_fuse_1x{log}y", None)
    log1p = _pyname("__pyx_fuse_1xlog1py", "float64")

    def lower(op, args, in_dtypes, out_dtypes):
        ld = _loop(ufunc, op, in_dtypes)
        if ld == "float64":
            return double(op, args, in_dtypes, out_dtypes)
        t = ctor(ld)
        x, y = (f"{t}({a})" for a in args)
        logy = (f"np.log({y})" if log == "log"
                else f"{t}({log1p}(np.float64(1.0), np.float64({y}), 0))")
        return f"({t}(0) if {x} == 0 and not np.isnan({y}) else {x} * {logy})"

    return lower


scalar_source.register(ss.Xlogy)(_xlog("log"))
scalar_source.register(ss.Xlog1py)(_xlog("log1p"))


def _kernel_call(ufunc: Any, kernel: str, extra: Callable[[Any], str]) -> Callable[..., str]:
    """A call of a :mod:`special_kernels` function in float64, rounded to the output dtype."""
    def lower(op, args, in_dtypes, out_dtypes):
        _loop(ufunc, op, in_dtypes)
        call = f"{kernel}({''.join(f'np.float64({a}), ' for a in args)}{extra(op)})"
        return call if out_dtypes[0] == "float64" else f"{ctor(out_dtypes[0])}({call})"

    return lower


scalar_source.register(ss.GammaIncDerA)(
    _kernel_call(sp.gammainc, "_gsk_gammainc_da", lambda op: ""))
scalar_source.register(ss.BetaIncDer)(
    _kernel_call(sp.betainc, "_gsk_betainc_dab", lambda op: str(op.wrt)))


@scalar_source.register
def _(op: sm.Polygamma, args, in_dtypes, out_dtypes):
    _loop(sp.psi, op, in_dtypes)
    x = f"np.float64({args[0]})"
    call = (f"{_pyname('__pyx_fuse_1psi', 'float64')}({x}, 0)" if op.n == 0
            else f"_gsk_polygamma({op.n}, {x})")
    return call if out_dtypes[0] == "float64" else f"{ctor(out_dtypes[0])}({call})"


@functools.cache
def _kernels_text() -> str:
    src = inspect.getsource(special_kernels)
    names = [n for n, v in vars(special_kernels).items()
             if n.startswith("_gsk_") and inspect.isfunction(v)]
    jit = "".join(f'{n} = numba.njit({n}, error_model="numpy")\n' for n in names)
    return "\n\n# gnomon/scalar/special_kernels.py\n" + src + "\n\n" + jit


def module_text(source: str) -> str:
    """The module-level text a kernel ``source`` needs for the special functions it calls
    (empty if it calls none): an import of the SciPy functions and the embedded kernels."""
    out = ""
    used = sorted(set(re.findall(r"\b_gsp_\w+", source)))
    if used:
        out += f"\nfrom gnomon.backends.numba.special import {', '.join(used)}\n"
    if "_gsk_" in source:
        out += _kernels_text()
    return out
