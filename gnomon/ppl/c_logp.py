"""A model's log-density and gradient compiled by the C compiler, for the NUTS kernel.

The sampler's kernel (``nuts.py``) calls the log-density through a plain C function pointer,
``double f(const double *q, double *grad)`` (:data:`gnomon.ppl.nuts.LOGP_SIG`). This module
builds that function with the C backend: the graph is rewritten as for ``mode="c"``, written as
standalone C (``gnomon.export_c``'s code: no Python inside, so the chains' threads call it
without the GIL), a small entry function is added, and the whole is compiled by the machine's C
compiler into a shared library, cached on disk and signed like every C module
(:mod:`gnomon.backends.c.cache`).

Why: a new model then needs no Numba compile at all. Compiling eight schools' log-density and
gradient with Numba takes 9-12 s in a fresh process (Numba's type inference and LLVM on the
linked program); the C compiler takes about 1 s, and the NUTS kernel itself is model-independent
(Numba's disk cache). A second process with the same model loads the library from the cache.

The values of shared variables (``pm.Data``) are not compiled in: :meth:`CLogp.bind` hands the
library pointers to the arrays (kept alive here), so a model with new data reuses the compiled
library. Each :class:`CLogp` loads its own copy of the library
(:func:`gnomon.backends.c.cache.load_library`), so those pointers are its own. A failing
evaluation (a shape error from ``Data`` of the wrong length, say) returns NaN to the kernel; the
library counts failures and keeps the first message, and the sampler stops with it
(:meth:`CLogp.failure`).
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from gnomon.errors import GnomonRuntimeError, with_hint

__all__ = ["CLogp", "build_c_logp", "overlapping"]

_NAME = "gnlp"

_ENTRY = r"""
/* ---- the sampler's entry points (gnomon/ppl/c_logp.py) ---- */
#include <string.h>
#define GN_N {n}
#define GN_NSH {nsh}
static const void *gn_sh_data[GN_NSH + 1];
static int64_t gn_sh_ndim[GN_NSH + 1];
static int64_t gn_sh_shape[GN_NSH + 1][GNOMON_MAX_NDIM];
static long gn_n_errors = 0;
static char gn_first_error[512];

/* Point shared input k at data (kept alive by the caller) of the given rank and shape. */
int gnomon_logp_bind(int k, const void *data, int64_t ndim, const int64_t *shape) {{
    if (k < 0 || k >= GN_NSH || ndim < 0 || ndim > GNOMON_MAX_NDIM) return 1;
    gn_sh_data[k] = data;
    gn_sh_ndim[k] = ndim;
    for (int64_t d = 0; d < ndim; d++) gn_sh_shape[k][d] = shape[d];
    return 0;
}}

/* The log-density at q (GN_N doubles); writes the gradient to grad unless it is 0.
   Status GNOMON_OK, or an error code with the message in err. */
int gnomon_logp_status(uintptr_t qa, uintptr_t ga, double *lp, char *err, size_t errlen) {{
    int64_t qshape[1] = {{GN_N}};
    gnomon_input in[GN_NSH + 1];
    in[0].data = (const void *)qa; in[0].ndim = 1; in[0].shape = qshape; in[0].strides = NULL;
    for (int k = 0; k < GN_NSH; k++) {{
        in[k + 1].data = gn_sh_data[k]; in[k + 1].ndim = gn_sh_ndim[k];
        in[k + 1].shape = gn_sh_shape[k]; in[k + 1].strides = NULL;
    }}
    gnomon_output out[2];
    int rc = {name}_run(in, out, err, errlen);
    if (rc != GNOMON_OK) return rc;
    *lp = *(const double *)out[0].data;
    if (ga != 0) memcpy((void *)ga, out[1].data, GN_N * sizeof(double));
    {name}_free(out);
    return GNOMON_OK;
}}

/* The kernel's function: the log-density, NaN when the evaluation failed (counted; the first
   message kept for gnomon_logp_errors). */
double gnomon_logp(uintptr_t qa, uintptr_t ga) {{
    double lp;
    char err[512];
    if (gnomon_logp_status(qa, ga, &lp, err, sizeof err) == GNOMON_OK) return lp;
    if (__atomic_fetch_add(&gn_n_errors, 1, __ATOMIC_RELAXED) == 0)
        memcpy(gn_first_error, err, sizeof gn_first_error);
    return NAN;
}}

/* Failures of gnomon_logp so far; the first message into msg. */
long gnomon_logp_errors(char *msg, size_t len) {{
    long n = __atomic_load_n(&gn_n_errors, __ATOMIC_RELAXED);
    if (n > 0 && len > 0) {{ strncpy(msg, gn_first_error, len - 1); msg[len - 1] = 0; }}
    return n;
}}
"""


class CLogp:
    """``f(q) -> [logp, grad]`` compiled by the C compiler, and its C function pointer.

    Built by :func:`build_c_logp`; :attr:`kernel` is what the NUTS kernel calls.
    """

    def __init__(self, lib: ctypes.CDLL, n: int, shared: list[Any]) -> None:
        self.lib = lib
        self.n = n
        self.shared = shared
        self._status = lib.gnomon_logp_status
        self._status.restype = ctypes.c_int
        self._status.argtypes = [ctypes.c_size_t, ctypes.c_size_t,
                                 ctypes.POINTER(ctypes.c_double), ctypes.c_char_p,
                                 ctypes.c_size_t]
        self._errors = lib.gnomon_logp_errors
        self._errors.restype = ctypes.c_long
        self._errors.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        self.address = int(ctypes.cast(lib.gnomon_logp, ctypes.c_void_p).value or 0)
        self._bound: list[np.ndarray] = []
        self._sources: list[Any] = []
        self._baseline = 0
        self.bind()
        self.kernel = _kernel_object(self.address, self)

    def bind(self) -> None:
        """Hand the library the current values of the shared inputs (``pm.Data``)."""
        bind = self.lib.gnomon_logp_bind
        bind.restype = ctypes.c_int
        bind.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int64,
                         ctypes.POINTER(ctypes.c_int64)]
        arrays = []
        for k, s in enumerate(self.shared):
            a = np.ascontiguousarray(s.get_value(borrow=True))
            shape = (ctypes.c_int64 * max(a.ndim, 1))(*a.shape)
            if bind(k, a.ctypes.data, a.ndim, shape) != 0:
                raise GnomonRuntimeError(f"cannot bind shared input {k} ({s.name}) to the "
                                         "compiled log-density")
            arrays.append(a)
        self._bound = arrays  # alive as long as the library may read them
        self._sources = [s.get_value(borrow=True) for s in self.shared]

    def refresh(self) -> None:
        """:meth:`bind` again if a shared variable holds a new value (``pm.set_data``)."""
        if any(s.get_value(borrow=True) is not v
               for s, v in zip(self.shared, self._sources, strict=True)):
            self.bind()

    def __call__(self, q: np.ndarray) -> list[Any]:
        q = np.ascontiguousarray(q, dtype=np.float64)
        if q.shape != (self.n,):
            raise GnomonRuntimeError(with_hint(
                f"the compiled log-density takes a vector of {self.n} values, got shape "
                f"{q.shape}", "pass a flat vector such as LogpDlogpFunction.initial_q()"))
        self.refresh()
        g = np.empty(self.n)
        lp = ctypes.c_double()
        if self._status(q.ctypes.data, g.ctypes.data, ctypes.byref(lp), None, 0) != 0:
            # again for the message (an evaluation is deterministic)
            err = ctypes.create_string_buffer(512)
            self._status(q.ctypes.data, g.ctypes.data, ctypes.byref(lp), err, 512)
            raise GnomonRuntimeError(with_hint(
                f"the model's compiled log-density failed: {err.value.decode(errors='replace')}",
                "check the shapes of pm.Data values (pm.set_data) against the model; "
                "model.debug() shows the failing term"))
        return [np.asarray(lp.value), g]

    def errors(self) -> tuple[int, str]:
        """``(count, first message)`` of the evaluations that failed inside the kernel."""
        msg = ctypes.create_string_buffer(512)
        n = int(self._errors(msg, 512))
        return n, msg.value.decode(errors="replace")

    def reset(self) -> None:
        """Count failures from now on (a sampler run calls it before it starts)."""
        self._baseline = self.errors()[0]

    def failure(self) -> str | None:
        """The first failure inside the kernel since :meth:`reset` (with the count), or
        None. (The message is the library's first one ever: they repeat.)"""
        n, msg = self.errors()
        n -= self._baseline
        return None if n <= 0 else f"{msg} ({n} evaluation{'s' if n > 1 else ''} failed)"


def _kernel_object(address: int, owner: Any) -> Any:
    """The C function at ``address`` as a Numba first-class function of the kernel's type."""
    from numba import types

    from gnomon.ppl.nuts import LOGP_SIG

    class _CLogpPointer(types.WrapperAddressProtocol):  # type: ignore[misc]
        def __wrapper_address__(self) -> int:
            return address

        def signature(self) -> Any:
            return LOGP_SIG

    obj = _CLogpPointer()
    obj.owner = owner  # type: ignore[attr-defined]  # the library stays loaded while used
    return obj


def available() -> bool:
    """Whether a C compiler is there (the C route's one requirement)."""
    from gnomon.backends.c import cache
    from gnomon.errors import BackendUnavailableError

    try:
        cache.compiler()
    except BackendUnavailableError:
        return False
    return True


def _probe_compiler() -> None:
    from gnomon.backends.c import cache
    from gnomon.errors import BackendUnavailableError

    with contextlib.suppress(BackendUnavailableError):
        cache.versions()


@contextlib.contextmanager
def overlapping(callback: Callable[[], None]) -> Iterator[None]:
    """Around the compile of a model's log-density: the C compiler's version and target
    (two compiler subprocesses, part of the cache key) are read in a background thread
    meanwhile, and ``callback`` runs once the C compiler has started on the model
    (:func:`gnomon.backends.c.cache.when_compiling`), not before: ``pm.sample`` loads the
    NUTS kernel there, which would otherwise compete for the GIL with the code generation."""
    from gnomon.backends.c import cache

    threading.Thread(target=_probe_compiler, daemon=True, name="gnomon-cc-probe").start()
    with cache.when_compiling(callback):
        yield


def build_c_logp(q: Any, outputs: list[Any], n: int) -> CLogp:
    """Compile ``outputs = [logp, grad]`` (graphs of the float64 vector ``q`` of length ``n``
    and of shared variables) with the C compiler.

    Raises :class:`gnomon.errors.NotLoweredError` when a node of the rewritten graph has no C
    lowering, :class:`gnomon.errors.GnomonValueError` when the program is not exportable (the
    caller then uses Numba), :class:`gnomon.errors.BackendUnavailableError` without a C
    compiler.
    """
    from gnomon.backends.c import cache, linker
    from gnomon.backends.c.export import standalone_source
    from gnomon.compile.function import function
    from gnomon.compile.mode import Mode

    cache.compiler()
    with linker.export_only():  # rewritten and scheduled; the C is written below
        f = function([q], outputs, mode=Mode("c"), on_unused_input="ignore",
                     no_default_updates=True)
    # two translation units, compiled at once (a cold compile in about half the time on
    # two free cores; one unit for a program of a few kernels)
    source = standalone_source(f, _NAME, units=2 if len(f.program.nodes) >= 8 else 1)
    shared = list(f.program.inputs[1:])
    source += _ENTRY.format(n=int(n), nsh=len(shared), name=_NAME)
    lib = cache.load_library(source)
    return CLogp(lib, int(n), shared)
