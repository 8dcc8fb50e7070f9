"""The C backend (``mode="c"``): each node lowered to a C kernel, the whole program compiled
with the machine's C compiler into a small CPython extension module (cached on disk, signed),
and :func:`gnomon.export_c` to write a graph as self-contained C (no Python at run time).

See :mod:`gnomon.backends.c.linker` (how a program is compiled), :mod:`gnomon.backends.c.dispatch`
(how ops are lowered), :mod:`gnomon.backends.c.cache` (the disk cache) and ``docs/c-backend.md``.
``mode="c"`` is never the default mode.
"""

from __future__ import annotations

# The modules that register lowerings, one per op family (imported for their registrations).
from gnomon.backends.c import (  # noqa: F401
    basic,
    blas,
    elemwise,
    indexing,
    linalg,
    reduce,
    shape,
)
from gnomon.compile.ops import FromFunctionOp
from gnomon.control.ifelse import IfElse
from gnomon.control.opfromgraph import OpFromGraph
from gnomon.control.scan import Scan
from gnomon.random import distributions  # noqa: F401  (every RandomVariable class)
from gnomon.random.op import RandomVariable
from gnomon.scalar import math as sm
from gnomon.scalar import special as ss
from gnomon.tensor.blas import Einsum
from gnomon.tensor.creation import Arange, Linspace
from gnomon.tensor.debug import Print
from gnomon.tensor.linalg import (
    QR,
    SVD,
    Det,
    Eigh,
    MatrixInverse,
    Pinv,
    SLogDet,
    Solve,
    SolveTriangular,
)
from gnomon.tensor.sorting import Argsort, PermuteAlongAxis, SearchSorted, Sort

#: mode="c" is never gnomon's default mode (it needs a C compiler at run time).
READY = False

_NOT_YET = "not lowered to C yet"
_LAPACK = "only LAPACK potrf (Cholesky) is bound in C so far"
_INNER = ("ops with inner graphs run their NumPy perform (the inner graph is not compiled "
          "into the C program yet)")
_SCIPY = ("SciPy's special-function code (scipy.special.cython_special) is not bound in C yet")
_RANDOM = ("random draws use NumPy's Generator (a program holding a random generator runs on "
           "the reference backend; gnomon.export_c refuses it)")


_RANDOM_EXPORTED = ("mode='c' runs a program holding a random generator on the reference "
                    "backend (NumPy's Generator); gnomon.export_c draws it in C from a seed "
                    "input (xoshiro256**, gnomon/backends/c/random.py)")


def _random_ops() -> dict[type, str]:
    from gnomon.backends.c.random import _DRAWS

    out: dict[type, str] = {}
    todo = list(RandomVariable.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("gnomon.") and not cls.__name__.startswith("_"):
            out[cls] = _RANDOM_EXPORTED if cls in _DRAWS else _RANDOM
    return dict(sorted(out.items(), key=lambda kv: kv[0].__name__))


#: The op classes (and scalar op classes) with no C lowering, with the reason: their nodes run
#: with the op's NumPy ``perform``, called from the C program between kernels.
#: ``docs/backends.md`` shows this table; ``tests/backends/test_unlowered.py`` checks it.
UNLOWERED: dict[type, str] = {
    IfElse: _INNER, Scan: _INNER, OpFromGraph: _INNER,
    FromFunctionOp: "it calls the user's Python function (as_op)",
    Print: "it prints from Python (its perform, called from the C program)",
    Einsum: _NOT_YET, Arange: _NOT_YET, Linspace: _NOT_YET,
    Sort: _NOT_YET, Argsort: _NOT_YET,
    SearchSorted: _NOT_YET, PermuteAlongAxis: _NOT_YET,
    Det: _LAPACK, MatrixInverse: _LAPACK, SLogDet: _LAPACK, Solve: _LAPACK,
    SolveTriangular: _LAPACK, Eigh: _LAPACK, Pinv: _LAPACK, QR: _LAPACK, SVD: _LAPACK,
    sm.Erfcx: _SCIPY, sm.Erfinv: _SCIPY, sm.Polygamma: _SCIPY, ss.LogNdtr: _SCIPY,
    ss.Ndtri: _SCIPY, ss.BetaLn: _SCIPY, ss.GammaInc: _SCIPY, ss.GammaIncC: _SCIPY,
    ss.GammaIncInv: _SCIPY, ss.GammaIncCInv: _SCIPY, ss.GammaIncDerA: _SCIPY,
    ss.BetaInc: _SCIPY, ss.BetaIncInv: _SCIPY, ss.BetaIncDer: _SCIPY, ss.Hyp2F1: _SCIPY,
    ss.I0: _SCIPY, ss.I0e: _SCIPY, ss.I1: _SCIPY, ss.I1e: _SCIPY,
    **_random_ops(),
}

# lowerings (and UNLOWERED entries) handed over by the layers above (gnomon.ppl's private ops)
from gnomon.backends import backend_loaded as _backend_loaded  # noqa: E402

_backend_loaded("c")
