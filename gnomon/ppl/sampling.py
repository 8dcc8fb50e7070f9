"""``pm.sample``: NUTS chains in parallel threads, results as ArviZ ``InferenceData``.

Chains run in **threads**: the compiled NUTS kernel (``gnomon/ppl/nuts.py``) is ``nogil``, so
the chains of one model share the compiled log-density and the compiled kernel, and run on all
cores without pickling the model or compiling it again in worker processes. Each thread calls the
kernel for a chunk of iterations (about 0.2 s of work), so the main thread can show progress and
stop the chains between chunks on Ctrl-C (the draws made so far are returned). A log-density that
could not be compiled to one nopython function runs through the same algorithm in Python, which
holds the GIL: its chains then take turns rather than run in parallel.

Each chain has its own ``numpy.random.Generator`` (PCG64) from ``SeedSequence(random_seed)
.spawn(chains)``, passed into the compiled kernel, so results depend on ``random_seed`` only,
not on the thread schedule or the number of cores.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gnomon.errors import GnomonRuntimeError, GnomonValueError, with_hint
from gnomon.ppl import c_logp
from gnomon.ppl import nuts as _nuts
from gnomon.ppl.adaptation import metric_update_window, window_schedule

__all__ = ["NUTS", "NutsResult", "bind_numba_program", "run_nuts", "sample"]

_log = logging.getLogger("gnomon.ppl")

_INITS = ("auto", "jitter+adapt_diag", "adapt_diag", "jitter+adapt_full", "adapt_full",
          "jitter+adapt_low_rank", "adapt_low_rank")
#: the metric each ``init`` adapts (``adaptation.METRICS``)
_INIT_METRIC = {"auto": 0, "jitter+adapt_diag": 0, "adapt_diag": 0, "jitter+adapt_full": 1,
                "adapt_full": 1, "jitter+adapt_low_rank": 2, "adapt_low_rank": 2}


@dataclass(frozen=True)
class NUTS:
    """The No-U-Turn sampler's settings, for ``pm.sample(step=pm.NUTS(...))``.

    Parameters
    ----------
    vars : list of variables, optional
        The continuous variables NUTS samples (default: all continuous free variables not
        given to another step); the others get other steps (a compound sampler,
        ``gnomon/ppl/compound.py``).
    target_accept : float
        Target of the mean acceptance statistic for step-size adaptation.
    max_treedepth : int
        Maximum number of trajectory doublings.
    max_rank : int
        Most directions of the low-rank metric (``init="jitter+adapt_low_rank"``; a gnomon
        extension).

    Examples
    --------
    >>> from gnomon.ppl.sampling import NUTS
    >>> NUTS(target_accept=0.9).max_treedepth
    10
    """

    vars: Any = None
    target_accept: float = 0.8
    max_treedepth: int = 10
    max_rank: int = 10


@dataclass
class NutsResult:
    """Raw output of :func:`run_nuts` (flat unconstrained draws and statistics).

    Attributes
    ----------
    draws : numpy.ndarray
        Kept draws, shape ``(chains, n_draws, n)``.
    stats : dict of str to numpy.ndarray
        Per-draw statistics (``nuts.STAT_NAMES``), each of shape ``(chains, n_draws)``.
    warmup_draws, warmup_stats
        The same for the tuning iterations.
    inv_mass : numpy.ndarray
        Adapted diagonal inverse mass matrix per chain, ``(chains, n)``.
    interrupted : bool
        Sampling was stopped by Ctrl-C; only the draws made by then are returned (the same
        number for every chain).
    compiled : bool
        The compiled kernel ran (False: the Python fallback).
    sampling_time : float
        Seconds spent in the chains.
    """

    draws: np.ndarray
    stats: dict[str, np.ndarray]
    warmup_draws: np.ndarray
    warmup_stats: dict[str, np.ndarray]
    inv_mass: np.ndarray
    interrupted: bool = False
    compiled: bool = True
    sampling_time: float = 0.0
    tune: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def inv_mass_matrix(self) -> np.ndarray:
        """The adapted inverse mass matrices, ``(chains, n, n)``:
        ``S (I + U diag(lam - 1) U^T) S`` with ``S = diag(sqrt(inv_mass))`` (the dense and
        low-rank metrics' form; the diagonal one has no ``U``)."""
        sd = np.sqrt(self.inv_mass)
        u = self.meta.get("metric_u")
        lam = self.meta.get("metric_lam")
        out = []
        for c in range(sd.shape[0]):
            core = np.eye(sd.shape[1])
            if u is not None and u.shape[2]:
                core = core + (u[c] * (lam[c] - 1.0)) @ u[c].T
            out.append(sd[c][:, None] * core * sd[c][None, :])
        return np.stack(out)


# --- seeds and the log-density ---------------------------------------------------------------

def _generators(random_seed: Any, chains: int) -> list[np.random.Generator]:
    """One independent PCG64 generator per chain, determined by ``random_seed``."""
    if isinstance(random_seed, np.random.Generator):
        return list(random_seed.spawn(chains))
    if isinstance(random_seed, Sequence) and not isinstance(random_seed, str):
        if len(random_seed) != chains:
            raise GnomonValueError(with_hint(
                f"random_seed has {len(random_seed)} entries but there are {chains} chains",
                "pass one int, or one seed per chain"))
        return [np.random.default_rng(s) for s in random_seed]
    ss = np.random.SeedSequence(random_seed)
    return [np.random.Generator(np.random.PCG64(s)) for s in ss.spawn(chains)]


def _kernel_logp(numba_fn: Any, n: int) -> Any:
    """A Numba log-density as the kernel's first-class function argument
    (:data:`gnomon.ppl.nuts.LOGP_SIG`, ``f(q_address, grad_address) -> logp``): itself when it
    has that signature already (a bound program, a C function pointer), else a small wrapper
    around ``numba_fn(q) -> (logp, grad)``."""
    from numba import carray, njit, types

    if isinstance(numba_fn, types.WrapperAddressProtocol) or getattr(
            numba_fn, "_gnomon_kernel", False):
        return numba_fn
    arg = _nuts.LOGP_SIG.args
    if arg in getattr(numba_fn, "overloads", {}):
        return numba_fn
    as_ptr = _nuts.as_f64_pointer

    @njit(_nuts.LOGP_SIG, nogil=True)
    def f(qa, ga):  # type: ignore[no-untyped-def]  # pragma: no cover
        q = carray(as_ptr(qa), n)
        lp, grad = numba_fn(q)
        if ga != 0:
            g = carray(as_ptr(ga), n)
            for i in range(n):
                g[i] = grad[i]
        return float(lp)

    f._gnomon_kernel = True
    return f


def tuple_logp(kernel_fn: Any, n: int) -> Any:
    """``f(q) -> (logp, grad)``, a Numba function around a log-density of the kernel's type
    (``LogpDlogpFunction.numba_fn``, for ``@njit`` code that wants arrays back).

    Examples
    --------
    >>> import numpy as np
    >>> from numba import carray, njit
    >>> from gnomon.ppl.nuts import LOGP_SIG, as_f64_pointer
    >>> @njit(LOGP_SIG)
    ... def k(qa, ga):  # log N(q | 1, I) up to a constant, in the kernel's convention
    ...     q, g = carray(as_f64_pointer(qa), 2), carray(as_f64_pointer(ga), 2)
    ...     g[:] = 1.0 - q
    ...     return -0.5 * np.sum((q - 1.0) ** 2)
    >>> f = tuple_logp(k, 2)
    >>> lp, g = f(np.zeros(2))
    >>> float(lp), g.tolist()
    (-1.0, [1.0, 1.0])
    """
    from numba import njit

    @njit(_nuts.ARRAY_LOGP_SIG, nogil=True)
    def f(q):  # type: ignore[no-untyped-def]  # pragma: no cover
        g = np.empty(n)
        lp = kernel_fn(q.ctypes.data, g.ctypes.data)
        return lp, g

    f._gnomon_kernel_fn = kernel_fn  # type: ignore[attr-defined]
    return f


_PROGRAM_FAILED = (
    "the model's compiled log-density raised an error during sampling (printed above as "
    "'Exception ignored')\nHint: evaluate the model at the failing values with model.debug() "
    "or LogpDlogpFunction.logp_dlogp(q) to see where it fails")


def bind_numba_program(prog: Any, consts: Sequence[Any], n: int) -> Any:
    """The log-density of the kernel's type (:data:`gnomon.ppl.nuts.LOGP_SIG`,
    ``f(q_address, grad_address) -> logp``) around a compiled Numba program
    ``prog(q, *consts) -> (logp as a 0-d array, grad)`` over vectors of length ``n``,
    compiled in a fraction of a second.

    A plain ``@njit`` wrapper that calls ``prog`` makes Numba link the whole program into the
    wrapper and optimise and generate code for all of it again (seconds for a model). Here the
    wrapper calls the program's existing compiled entry point through its address (Numba's
    wrapper address protocol), so only the wrapper itself is compiled. A failure inside the
    program (Numba prints it as "Exception ignored") raises ``ValueError`` in the wrapper,
    which stops the sampler.

    Parameters
    ----------
    prog : numba dispatcher
        The program; compiled here for the argument types if it is not yet.
    consts : sequence of numpy.ndarray
        The arguments after ``q``, bound (frozen) into the wrapper: read-only arrays and
        scalars as constants of its code, writable arrays (``Data``) as a private copy read
        through its address, so that ``prog``'s signature is the one a call from Python with
        the same arguments compiles.
    n : int
        Length of ``q``.

    Examples
    --------
    >>> import numpy as np
    >>> from numba import njit
    >>> @njit
    ... def prog(q, a):
    ...     return np.array(-0.5 * np.sum((q - a) ** 2)), a - q
    >>> f = bind_numba_program(prog, [np.ones(2)], 2)
    >>> q, g = np.zeros(2), np.zeros(2)
    >>> f(q.ctypes.data, g.ctypes.data), g.tolist()
    (-1.0, [1.0, 1.0])
    """
    import numba
    from numba import carray, njit

    # NumPy scalars stay scalars: the program was compiled for them as such on its first call
    # (gnomon's Numba linker passes scalar constants unboxed), and a 0-d array in their place
    # would compile the whole program again for that signature (7.5 s of a 17 s cold compile
    # of a four-parameter model)
    args = [c if isinstance(c, np.generic | int | float) else np.asarray(c) for c in consts]
    def frozen(a: Any) -> Any:  # an array global is read-only inside the wrapper
        t = numba.typeof(a)
        return t.copy(readonly=True) if isinstance(t, numba.types.Array) else t

    # Writable arrays (the values of Data) are viewed from the address of a private copy (the
    # values frozen just the same; the copy lives as long as the wrapper) rather than frozen
    # as globals, which are read-only: the program's signature is then the one its calls
    # from Python compile (they pass Data's writable arrays), and binding compiles nothing
    # more (a read-only signature compiled the whole program again: 2.8 s for a small model)
    copies = {i: np.array(a, order="C", copy=True) for i, a in enumerate(args)
              if isinstance(a, np.ndarray) and a.ndim > 0 and a.flags.writeable}
    argtys = (numba.types.float64[::1], *(numba.typeof(copies[i]) if i in copies
                                          else frozen(a) for i, a in enumerate(args)))
    cres = prog.overloads.get(argtys)
    if cres is None:
        prog.compile(argtys)
        cres = prog.overloads[argtys]
    addr = cres.library.get_pointer_to_function(cres.fndesc.llvm_cfunc_wrapper_name)
    sig = cres.signature

    class _Entry(numba.types.WrapperAddressProtocol):
        def __wrapper_address__(self) -> int:
            return int(addr)

        def signature(self) -> Any:
            return sig

    names = [f"v{i}" if i in copies else f"a{i}" for i in range(len(args))]
    views = "".join(f"    v{i} = carray(P{i}(A{i}), S{i})\n" for i in copies)
    lp_item = ".item()" if getattr(sig.return_type[0], "ndim", 0) == 0 and isinstance(
        sig.return_type[0], numba.types.Array) else ""
    # an error inside the program cannot cross the entry point (Numba prints it as
    # "Exception ignored" and returns empty arrays): detect that and raise here
    src = ("def f(qa, ga):\n"
           "    q = carray(as_ptr(qa), N)\n"
           + views +
           f"    out = entry(q{''.join(', ' + n for n in names)})\n"
           "    grad = out[1]\n"
           "    if grad.shape[0] != N:\n"
           "        raise ValueError(MSG)\n"
           "    if ga != 0:\n"
           "        g = carray(as_ptr(ga), N)\n"
           "        for i in range(N):\n"
           "            g[i] = grad[i]\n"
           f"    return float(out[0]{lp_item})\n")
    glb: dict[str, Any] = {"entry": _Entry(), "MSG": _PROGRAM_FAILED, "carray": carray,
                           "N": int(n),
                           "as_ptr": _nuts.as_f64_pointer,
                           **{f"a{i}": a for i, a in enumerate(args) if i not in copies}}
    for i, c in copies.items():
        glb.update({f"P{i}": _as_pointer(c.dtype), f"A{i}": c.ctypes.data, f"S{i}": c.shape})
    exec(compile(src, "<gnomon.ppl bound program>", "exec"), glb)
    f = njit(_nuts.LOGP_SIG, nogil=True)(glb["f"])
    f._gnomon_entry = glb["entry"]  # keep the entry object (and the program) alive
    f._gnomon_data = copies  # (the memory the wrapper's views read)
    f._gnomon_program = prog
    f._gnomon_kernel = True
    return f


_POINTERS: dict[np.dtype, Any] = {}


def _as_pointer(dtype: np.dtype) -> Any:
    """An intrinsic viewing an integer address as a pointer to ``dtype`` (for ``carray``)."""
    if dtype not in _POINTERS:
        from numba import types
        from numba.core.extending import intrinsic
        from numba.np.numpy_support import from_dtype

        ptr = types.CPointer(from_dtype(dtype))

        @intrinsic
        def as_pointer(typingctx, addr):  # type: ignore[no-untyped-def]  # pragma: no cover
            def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
                return builder.inttoptr(args[0], context.get_value_type(ptr))

            return ptr(addr), codegen

        _POINTERS[dtype] = as_pointer
    return _POINTERS[dtype]


def _model_kernel_logp(fn: Any) -> Any:
    """The model's log-density for the kernel (``fn.kernel_fn``: the C library's function
    pointer, or the compiled Numba program bound with :func:`bind_numba_program`), or None:
    the Python loop."""
    try:
        return fn.kernel_fn
    except Exception:  # internals changed: the slower, always valid route
        return None


def _python_logp(logp_dlogp: Any, n: int) -> Any:
    """A Python log-density ``logp_dlogp(q) -> (logp, grad)`` with the kernel's calling
    convention (addresses of ``q`` and of the gradient), for the kernel's Python loop."""
    import ctypes

    vec = ctypes.c_double * n

    def f(qa: int, ga: int) -> float:
        q = np.frombuffer(vec.from_address(int(qa)), dtype=np.float64).copy()
        lp, grad = logp_dlogp(q)
        if ga:
            np.frombuffer(vec.from_address(int(ga)), dtype=np.float64)[:] = grad
        return float(lp)

    return f


# --- the chains ----------------------------------------------------------------------------------

class _Chain:
    """State of one chain between kernel calls."""

    def __init__(self, f: Any, lp_grad: Any, q0: np.ndarray, rng: np.random.Generator,
                 cfg: np.ndarray, schedule: np.ndarray, step_size: float, *, f_lp: Any = None,
                 rank: int = 0, frozen: np.ndarray | None = None,
                 tables: tuple[np.ndarray, ...] | None = None, n_mh: int = 0,
                 check: Any = None) -> None:
        n = q0.shape[0]
        self.f = f
        # a C log-density cannot raise inside the kernel: it returns NaN and counts the
        # failure; check() gives the message (the chain stops at the end of its chunk)
        self.check = check
        self.f_lp = f if f_lp is None else f_lp
        self.q = np.ascontiguousarray(q0, dtype=np.float64).copy()
        self.sc = np.zeros(_nuts.N_SCALARS)
        lp, g = lp_grad(self.q)  # (from Python: the kernel's f may be a bare C pointer)
        self.g = np.array(g, dtype=np.float64)
        self.sc[_nuts.S_LOGP] = lp
        self.sc[1] = math.log(step_size)  # adaptation.S_LOG_EPS
        self.sc[3] = math.log(step_size)  # adaptation.S_LOG_EPS_BAR (used if tune == 0)
        self.minv = np.ones(n)
        if frozen is not None:
            self.minv[frozen] = 0.0  # coordinates NUTS does not move (compound steps)
        # the metric's eigen-directions (adaptation.py): none for the diagonal metric
        self.u = np.zeros((n, rank))
        self.lam = np.ones(rank)
        self.w_mean = np.zeros(n)
        self.w_m2 = np.zeros(n)
        self.cfg = cfg
        self.schedule = schedule
        blocks, bidx, bcoord, bf = tables if tables is not None else _nuts.nuts_only_blocks()
        # copies: the blocks' tuning state (scalings, counters) is per chain
        self.blocks = blocks.copy()
        self.bidx = bidx
        self.bcoord = bcoord.copy()
        self.bf = bf
        total = schedule.shape[0]
        self.out_q = np.zeros((total, n))
        self.out_stats = np.zeros((total, len(_nuts.STAT_NAMES)))
        self.out_mh = np.zeros((total, n_mh))
        self.rng = rng
        self.done = 0
        self.total = total
        self.error: BaseException | None = None
        self.t_start = 0.0
        self.t_end = 0.0

    def advance(self, stop: int) -> None:
        """Run the kernel up to iteration ``stop``; at the end of a dense or low-rank metric's
        window the kernel returns early and the metric is updated here (NumPy), before the
        next call starts with a step-size search."""
        while self.done < stop:
            done = _nuts.run_chain(self.f, self.f_lp, self.q, self.g, self.sc, self.minv,
                                   self.u, self.lam, self.w_mean, self.w_m2, self.cfg,
                                   self.schedule, self.out_q, self.out_stats, self.rng,
                                   self.done, stop, self.blocks, self.bidx, self.bcoord,
                                   self.bf, self.out_mh)
            if self.sc[_nuts.S_PENDING] == _nuts.PENDING_METRIC:
                k = int(self.sc[6])  # adaptation.S_W_N: draws in the window
                metric_update_window(int(self.cfg[_nuts.C_METRIC]),
                                     self.out_q[done - k:done], self.minv, self.u, self.lam)
                self.sc[6] = 0.0
                self.w_mean[:] = 0.0
                self.w_m2[:] = 0.0
                self.sc[_nuts.S_PENDING] = _nuts.PENDING_SEARCH
            self.done = done

    def run(self, stop_event: threading.Event) -> None:
        chunk = 10
        self.t_start = time.perf_counter()
        try:
            while self.done < self.total and not stop_event.is_set():
                stop = min(self.total, self.done + chunk)
                t = time.perf_counter()
                self.advance(stop)
                failed = self.check() if self.check is not None else None
                if failed:
                    raise GnomonRuntimeError(with_hint(
                        f"the model's compiled log-density failed during sampling: {failed}",
                        "evaluate the model at the failing values with model.debug() or "
                        "LogpDlogpFunction.logp_dlogp(q) to see where it fails"))
                dt = time.perf_counter() - t
                chunk = int(min(max(chunk * 0.2 / max(dt, 1e-4), 1), 4 * chunk + 1, 5000))
        except BaseException as e:
            self.error = e
            stop_event.set()  # the other chains stop too; the main thread re-raises
        self.t_end = time.perf_counter()

    def divergences(self, tune: int) -> int:
        d = self.out_stats[tune:self.done, _nuts.STAT_NAMES.index("diverging")]
        return int(d.sum()) if d.size else 0


def _from_python(f: Any, n: int) -> Any:
    """``q -> (logp, grad)`` from Python through the kernel's log-density ``f`` (the values
    the kernel will see)."""
    def lp_grad(q: np.ndarray) -> tuple[float, np.ndarray]:
        q = np.ascontiguousarray(q, dtype=np.float64)
        g = np.zeros(n)
        return float(f(q.ctypes.data, g.ctypes.data)), g

    return lp_grad


def _initial_points(fn: Any, lp_grad: Any, rngs: list[np.random.Generator], jitter: bool,
                    q_start: np.ndarray, mask: np.ndarray | None = None) -> list[np.ndarray]:
    """``jitter+adapt_diag``: the initial point plus Uniform(-1, 1) noise per coordinate
    (as PyMC; only where ``mask``, i.e. not on discrete coordinates), redrawn up to 10 times
    until the log-density and gradient are finite."""
    points = []
    for c, rng in enumerate(rngs):
        q = q_start.copy()
        ok = False
        for _ in range(10 if jitter else 1):
            q = q_start + rng.uniform(-1.0, 1.0, q_start.shape[0]) if jitter else q_start.copy()
            if jitter and mask is not None:
                q = np.where(mask, q, q_start)
            lp, g = lp_grad(q)
            if np.isfinite(lp) and np.all(np.isfinite(g)):
                ok = True
                break
        if not ok:
            raise GnomonValueError(with_hint(
                f"chain {c}: the log-density at the initial point is {lp} (or its gradient is "
                f"not finite) at {_describe_point(fn, q)}",
                "pass initvals=, check the model with model.debug(), or use init='adapt_diag' "
                "to start without jitter"))
        points.append(q)
    return points


def _describe_point(fn: Any, q: np.ndarray) -> str:
    try:
        vals = fn.unflatten_values(q)
        return ", ".join(f"{k}={np.round(v, 3).tolist()}" for k, v in vals.items())
    except Exception:
        return f"q={np.round(q, 3).tolist()}"


class _Progress:
    """One line per chain on stderr: draws done, draws per second, divergences."""

    def __init__(self, chains: list[_Chain], tune: int, enabled: bool) -> None:
        self.chains = chains
        self.tune = tune
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self.last = 0.0

    def _line(self) -> str:
        parts = []
        for i, c in enumerate(self.chains):
            dt = (c.t_end or time.perf_counter()) - c.t_start if c.t_start else 0.0
            rate = c.done / dt if dt > 0 else 0.0
            phase = "tune" if c.done < self.tune else "draw"
            parts.append(f"chain {i}: {c.done}/{c.total} ({phase}) {rate:,.0f} draws/s "
                         f"{c.divergences(self.tune)} div")
        return " | ".join(parts)

    def update(self, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if final:
            print(("\r" if self.tty else "") + "Sampling: " + self._line(), file=sys.stderr)
        elif self.tty and now - self.last > 0.25:
            self.last = now
            print("\rSampling: " + self._line(), end="", file=sys.stderr, flush=True)


def run_nuts(fn: Any, *, draws: int = 1000, tune: int = 1000, chains: int = 2,
             cores: int | None = None, random_seed: Any = None, target_accept: float = 0.8,
             max_treedepth: int = 10, init: str = "jitter+adapt_diag",
             q_start: np.ndarray | None = None, progressbar: bool = False,
             compiled: bool | None = None, numba_fn: Any = None, max_rank: int = 10,
             plan: Any = None) -> NutsResult:
    """Run NUTS chains on a flat log-density; :func:`sample` wraps this for models.

    Parameters
    ----------
    fn : object
        With ``n`` (length of the flat vector), ``logp_dlogp(q) -> (logp, grad)``,
        ``numba_fn`` (a Numba function ``f(q) -> (logp, grad)`` or None), optionally
        ``kernel_fn`` (the log-density in the kernel's calling convention,
        :data:`gnomon.ppl.nuts.LOGP_SIG`, preferred over ``numba_fn``) and ``initial_q()`` (as
        :meth:`gnomon.ppl.Model.logp_dlogp_function` returns).
    draws, tune, chains, cores, random_seed, target_accept, init, progressbar
        As in :func:`sample`.
    max_treedepth : int
        Maximum number of trajectory doublings.
    q_start : numpy.ndarray, optional
        Flat starting point (default ``fn.initial_q()``).
    compiled : bool, optional
        Force the compiled kernel (True) or the Python loop (False); default: compiled when
        ``fn.numba_fn`` is set.
    numba_fn : numba function, optional
        Use this ``f(q) -> (logp, grad)`` (or a function of the kernel's calling convention)
        instead of ``fn.kernel_fn`` / ``fn.numba_fn``.
    max_rank : int
        Most directions of the low-rank metric (``init="jitter+adapt_low_rank"``).
    plan : compound.Plan, optional
        The steps of a compound sampler (``gnomon/ppl/compound.py``): its block tables, the
        coordinates NUTS does not move, and the log-density the Metropolis blocks evaluate.

    Returns
    -------
    NutsResult

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> fn = SimpleNamespace(n=1, numba_fn=None, initial_q=lambda: np.zeros(1),
    ...                      logp_dlogp=lambda q: (-0.5 * float(q @ q), -q))
    >>> r = run_nuts(fn, draws=20, tune=20, chains=1, random_seed=1)
    >>> r.draws.shape
    (1, 20, 1)
    """
    if init not in _INITS:
        raise GnomonValueError(with_hint(
            f"init={init!r} is not supported; gnomon's NUTS knows {', '.join(_INITS)}",
            "use init='jitter+adapt_diag' (the default), 'jitter+adapt_full' (a dense mass "
            "matrix) or 'jitter+adapt_low_rank'"))
    if not 0.0 < target_accept < 1.0:
        raise GnomonValueError(with_hint(
            f"target_accept={target_accept} must lie strictly between 0 and 1",
            "values between 0.8 and 0.99 are usual; raise it when there are divergences"))
    if draws < 0 or tune < 0 or chains < 1:
        raise GnomonValueError(with_hint(
            f"draws={draws}, tune={tune}, chains={chains}: need draws >= 0, tune >= 0, "
            "chains >= 1", "pass non-negative numbers of draws and tuning steps"))
    n = int(fn.n)
    nfn = numba_fn
    if nfn is None:
        nfn = getattr(fn, "kernel_fn", None) or fn.numba_fn
    use_numba = (nfn is not None) if compiled is None else compiled
    if use_numba and nfn is None:
        raise GnomonValueError(with_hint(
            "compiled=True but the log-density has no compiled function (numba_fn is None)",
            "leave compiled unset to use the Python loop"))
    f = _kernel_logp(nfn, n) if use_numba else _python_logp(fn.logp_dlogp, n)
    f_lp = None
    if plan is not None and plan.fn_lp is not None:
        f_lp = (_kernel_logp(plan.numba_lp, n) if use_numba and plan.numba_lp is not None
                else _python_logp(plan.fn_lp.logp_dlogp, n))
        if use_numba and plan.numba_lp is None:
            f_lp = f  # (the gradient program; the log-density is the same)
    rngs = _generators(random_seed, chains)
    q0 = np.asarray(fn.initial_q() if q_start is None else q_start, dtype=np.float64)
    jitter = init.startswith("jitter+") or init == "auto"
    lp_grad = _from_python(f, n) if callable(f) else fn.logp_dlogp
    starts = _initial_points(fn, lp_grad, rngs, jitter, q0,
                             None if plan is None else ~plan.discrete)
    schedule = window_schedule(tune, draws)
    metric = _INIT_METRIC[init]
    cfg = np.zeros(_nuts.N_SETTINGS)
    cfg[_nuts.C_TARGET] = target_accept
    cfg[_nuts.C_MAXDEPTH] = max_treedepth
    cfg[_nuts.C_MAX_DH] = 1000.0
    cfg[_nuts.C_METRIC] = metric
    cfg[_nuts.C_TUNE] = tune
    rank = (0, n, max(0, min(int(max_rank), n)))[metric]
    owners = {id(o): o for o in (getattr(f, "owner", None), getattr(f_lp, "owner", None))
              if o is not None}
    for o in owners.values():
        o.reset()
    checks = [o.failure for o in owners.values()]
    extra: dict[str, Any] = {"rank": rank, "check": (lambda: next(
        (m for m in (c() for c in checks) if m), None)) if checks else None}
    if plan is not None:
        extra.update(f_lp=f_lp, frozen=plan.frozen, tables=plan.tables, n_mh=plan.n_mh_cols)
    # Stan's first step size is 1; the window-start search refines it
    cs = [_Chain(f, lp_grad, q, rng, cfg, schedule, 1.0, **extra)
          for q, rng in zip(starts, rngs, strict=True)]
    if use_numba:
        _nuts.compiled_kernel()  # compile (or load) once, before the threads start
    n_workers = max(1, min(chains, cores if cores is not None else _default_cores()))
    stop = threading.Event()
    progress = _Progress(cs, tune, progressbar)
    interrupted = False
    t0 = time.perf_counter()
    pending = list(range(chains))
    lock = threading.Lock()

    def worker() -> None:
        while not stop.is_set():
            with lock:
                if not pending:
                    return
                i = pending.pop(0)
            cs[i].run(stop)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(n_workers)]
    try:
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.1)
            progress.update()
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
        for t in threads:
            t.join()
    elapsed = time.perf_counter() - t0
    progress.update(final=True)
    for c in cs:
        if c.error is not None:
            raise c.error
    kept = min(c.done for c in cs) - tune
    if interrupted:
        _log.warning("Sampling was interrupted: returning %d draws per chain "
                     "(%d requested).", max(kept, 0), draws)
    kept = max(kept, 0)
    warm = min(min(c.done for c in cs), tune)
    names = _nuts.STAT_NAMES
    return NutsResult(
        draws=np.stack([c.out_q[tune:tune + kept] for c in cs]).reshape(chains, kept, n),
        stats={k: np.stack([c.out_stats[tune:tune + kept, j] for c in cs])
               for j, k in enumerate(names)},
        warmup_draws=np.stack([c.out_q[:warm] for c in cs]).reshape(chains, warm, n),
        warmup_stats={k: np.stack([c.out_stats[:warm, j] for c in cs])
                      for j, k in enumerate(names)},
        inv_mass=np.stack([c.minv for c in cs]),
        interrupted=interrupted, compiled=use_numba, sampling_time=elapsed, tune=tune,
        meta={"metric_u": np.stack([c.u for c in cs]),
              "metric_lam": np.stack([c.lam for c in cs]),
              "mh": np.stack([c.out_mh[tune:tune + kept] for c in cs]),
              "warmup_mh": np.stack([c.out_mh[:warm] for c in cs])})


def _default_cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


# --- diagnostics (ArviZ's definitions; used when ArviZ is missing) ----------------------------

def _z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalise draws ``(chains, draws)`` (Vehtari et al. 2021, eq. 14)."""
    from scipy.special import ndtri
    from scipy.stats import rankdata

    r = rankdata(x, method="average").reshape(x.shape)
    return ndtri((r - 3.0 / 8.0) / (x.size + 1.0 / 4.0))


def _split(x: np.ndarray) -> np.ndarray:
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _rhat_basic(x: np.ndarray) -> float:
    _m, n = x.shape
    if n < 2:
        return math.nan
    w = np.mean(np.var(x, axis=1, ddof=1))
    b = n * np.var(np.mean(x, axis=1), ddof=1)
    if w == 0:
        return math.nan
    return float(math.sqrt(((n - 1) / n * w + b / n) / w))


def rhat(x: np.ndarray) -> float:
    """Rank-normalised split-R-hat of draws ``(chains, draws)`` (Vehtari et al. 2021).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(4, 500))
    >>> bool(rhat(x) < 1.01)
    True
    """
    x = np.asarray(x, dtype=np.float64)
    s = _split(x)
    bulk = _rhat_basic(_z_scale(s))
    folded = np.abs(s - np.median(s))
    tail = _rhat_basic(_z_scale(folded))
    return float(max(bulk, tail))


def ess_bulk(x: np.ndarray) -> float:
    """Bulk effective sample size of draws ``(chains, draws)``: split chains, rank-normalised,
    Geyer's initial monotone sequence (Vehtari et al. 2021).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(4, 500))
    >>> 1500 < ess_bulk(x) < 2500
    True
    """
    return _ess(_z_scale(_split(np.asarray(x, dtype=np.float64))))


def _ess(x: np.ndarray) -> float:
    m, n = x.shape
    if n < 4:
        return math.nan
    xc = x - x.mean(axis=1, keepdims=True)
    size = 2 ** math.ceil(math.log2(2 * n))
    fx = np.fft.rfft(xc, size, axis=1)
    acov = np.fft.irfft(fx * np.conjugate(fx), size, axis=1)[:, :n] / n
    chain_var = acov[:, 0] * n / (n - 1.0)
    mean_var = float(np.mean(chain_var))
    if mean_var == 0:
        return math.nan
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus += float(np.var(x.mean(axis=1), ddof=1))
    rho_all = 1.0 - (mean_var - np.mean(acov, axis=0)) / var_plus
    # Geyer's initial positive sequence over pairs (even, odd) of lags, the last positive
    # even lag kept ("improved estimation"), then the initial monotone sequence (Stan's
    # reference manual, "Effective sample size"; Vehtari et al. 2021)
    rho = np.zeros(n)
    rho[0] = 1.0
    even, odd = 1.0, rho_all[1]
    rho[1] = odd
    t = 1
    while t < n - 3 and even + odd > 0.0:
        even, odd = rho_all[t + 1], rho_all[t + 2]
        if even + odd >= 0.0:
            rho[t + 1] = even
            rho[t + 2] = odd
        t += 2
    max_t = t - 2
    if even > 0.0:
        rho[max_t + 1] = even
    t = 1
    while t <= max_t - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = (rho[t - 1] + rho[t]) / 2.0
            rho[t + 2] = rho[t + 1]
        t += 2
    tau = -1.0 + 2.0 * float(np.sum(rho[:max_t + 1])) + float(np.sum(rho[max_t + 1:max_t + 2]))
    tau = max(tau, 1.0 / math.log10(m * n))
    return float(m * n / tau)


# --- pm.sample --------------------------------------------------------------------------------

def sample(draws: int = 1000, *, tune: int = 1000, chains: int | None = None,
           cores: int | None = None, random_seed: Any = None, target_accept: float = 0.8,
           init: str = "jitter+adapt_diag", initvals: Mapping[Any, Any] | None = None,
           var_names: Sequence[str] | None = None, progressbar: bool = True, step: Any = None,
           return_inferencedata: bool = True, model: Any = None, max_treedepth: int = 10,
           discard_tuned_samples: bool = True, compute_convergence_checks: bool = True,
           idata_kwargs: Mapping[str, Any] | None = None, nuts_sampler: str = "pymc",
           nuts_sampler_kwargs: Mapping[str, Any] | None = None,
           compile_kwargs: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
    """Draw posterior samples of the model's free variables with NUTS (as PyMC's
    ``pm.sample``).

    Parameters
    ----------
    draws : int
        Draws kept per chain, after tuning.
    tune : int
        Tuning (warm-up) iterations per chain: step size by dual averaging and a diagonal
        mass matrix from Stan's windows (``gnomon/ppl/adaptation.py``); discarded.
    chains : int, optional
        Number of chains (default: ``max(2, cores)``).
    cores : int, optional
        Chains run in that many threads at once (default: the available cores, at most 4,
        as PyMC).
    random_seed : int, sequence of int or numpy.random.Generator, optional
        Makes the result reproducible (independent of ``cores``).
    target_accept : float
        Target mean acceptance statistic of step-size adaptation (raise it, e.g. to 0.95, when
        there are divergences).
    init : {'jitter+adapt_diag', 'adapt_diag', 'auto', 'jitter+adapt_full', 'adapt_full', \
'jitter+adapt_low_rank', 'adapt_low_rank'}
        Start at the initial point (``initvals`` applied) plus Uniform(-1, 1) jitter on the
        unconstrained space (``jitter+...``, ``auto``) or without jitter, and adapt a
        diagonal, dense (``adapt_full``) or diagonal plus low-rank mass matrix
        (``gnomon/ppl/adaptation.py``).
    initvals : dict, optional
        Initial values by variable name (constrained space).
    var_names : list of str, optional
        Variables (free variables and deterministics) kept in the posterior (default: all).
    progressbar : bool
        Show draws, draws per second and divergences per chain on stderr.
    step : step method, list of step methods or CompoundStep, optional
        ``pm.NUTS``, ``pm.Metropolis``, ``pm.BinaryGibbsMetropolis``,
        ``pm.CategoricalGibbsMetropolis``, ``pm.Slice`` (PyMC's signatures); variables not
        given to a step get PyMC's automatic assignment (``gnomon/ppl/compound.py``). A NUTS
        step's ``target_accept``, ``max_treedepth`` and ``max_rank`` apply.
    return_inferencedata : bool
        Return ArviZ's ``InferenceData``. Without ArviZ installed, or with False, a plain dict
        ``{'posterior': {name: array (chains, draws, *shape)}, 'sample_stats': {...},
        'observed_data': {...}}`` is returned.
    model : Model, optional
        Default: the model of the enclosing ``with`` block.
    max_treedepth : int
        Maximum number of trajectory doublings (10).
    discard_tuned_samples : bool
        False keeps the tuning draws in ``warmup_posterior`` / ``warmup_sample_stats``.
    compute_convergence_checks : bool
        Log PyMC's warnings about divergences, R-hat > 1.01, bulk ESS < 100 per chain and the
        maximum tree depth.
    nuts_sampler : {'pymc', 'numpyro', 'blackjax'}
        ``'pymc'`` (the default): gnomon's compiled NUTS. ``'numpyro'`` / ``'blackjax'``: the
        model's log-density through gnomon's JAX backend, sampled by NumPyro's or BlackJAX's
        NUTS (``gnomon/ppl/jax_samplers.py``; ``cores`` does not apply there).
    nuts_sampler_kwargs : dict, optional
        For the JAX samplers: ``chain_method`` (``'parallel'``, ``'sequential'``,
        ``'vectorized'``), ``nuts_kwargs`` (passed to their NUTS kernel), ``jitter``,
        ``keep_untransformed``.

    compile_kwargs : dict, optional
        ``{"mode": ...}``: how the log-density and gradient are compiled for NUTS. ``"auto"``
        (the default): with the C compiler when the machine has one and every op of the
        rewritten graph has a C lowering (``gnomon/ppl/c_logp.py``: about 1 s for a new model,
        no Numba compile), else with Numba. ``"c"`` or ``"numba"`` force one route.

    Returns
    -------
    arviz.InferenceData or dict
        Groups ``posterior`` (with the model's coords and dims), ``sample_stats``
        (``diverging``, ``tree_depth``, ``energy``, ``step_size``, ``lp``,
        ``acceptance_rate``, ``n_steps``, ...) and ``observed_data``.

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> with pm.Model():
    ...     mu = pm.Normal("mu", 0.0, 10.0)
    ...     y = pm.Normal("y", mu, 1.0, observed=np.array([0.5, 1.5]))
    ...     res = pm.sample(100, tune=100, chains=1, random_seed=1, progressbar=False,
    ...                     return_inferencedata=False, compute_convergence_checks=False)
    >>> res["posterior"]["mu"].shape
    (1, 100)
    """
    from gnomon.ppl.model import modelcontext

    if kwargs:
        unknown = ", ".join(sorted(kwargs))
        raise TypeError(with_hint(f"pm.sample() got unsupported keyword(s): {unknown}",
                                  "see help(pm.sample) for the arguments gnomon supports"))
    m = modelcontext(model)
    mode = _compile_mode(compile_kwargs)
    native = nuts_sampler in ("pymc", "gnomon")
    if native and mode == "numba":
        _nuts.preload()  # the kernel loads while the model compiles
    plan = None
    nuts_step = NUTS()
    if step is not None or m.discrete_value_vars:
        from gnomon.ppl.compound import assign_step_methods, make_plan

        nuts_steps = [s for s, _ in assign_step_methods(m, step) if isinstance(s, NUTS)]
        if nuts_steps and step is not None:
            nuts_step = nuts_steps[0]
            target_accept = nuts_step.target_accept
            max_treedepth = nuts_step.max_treedepth
    if nuts_sampler not in ("pymc", "gnomon") or nuts_sampler_kwargs:
        from gnomon.ppl.jax_samplers import sample_jax_nuts

        return sample_jax_nuts(
            m, nuts_sampler=nuts_sampler, draws=draws, tune=tune,
            chains=chains if chains is not None else max(2, min(4, _default_cores())),
            random_seed=random_seed,
            target_accept=target_accept, max_treedepth=max_treedepth, init=init,
            initvals=initvals, var_names=var_names, progressbar=progressbar,
            discard_tuned_samples=discard_tuned_samples,
            compute_convergence_checks=compute_convergence_checks,
            return_inferencedata=return_inferencedata, idata_kwargs=idata_kwargs,
            nuts_sampler_kwargs=nuts_sampler_kwargs)
    # C route: the kernel loads once the C compiler runs (it releases the GIL); loading it
    # earlier slowed the Python code generating the C by as much (c_logp.overlapping)
    with c_logp.overlapping(_nuts.preload) if mode != "numba" else contextlib.nullcontext():
        if step is not None or m.discrete_value_vars:
            plan = make_plan(m, step, initvals, mode=mode)
        if plan is None:
            fn = m.logp_dlogp_function(initvals=initvals, mode=mode)
    _nuts.preload()  # (a cache hit or the Numba route: now)
    if cores is None:
        cores = min(4, _default_cores())  # PyMC's default
    if chains is None:
        chains = max(2, cores)
    if plan is not None:  # a compound step (gnomon/ppl/compound.py)
        fn = plan.fn
        _log.info("CompoundStep\n%s", plan.describe())
    numba_fn = _model_kernel_logp(fn)
    if plan is not None and plan.fn_lp is not None:
        plan.numba_lp = numba_fn if plan.fn_lp is fn else _model_kernel_logp(plan.fn_lp)
    t0 = time.perf_counter()
    res = run_nuts(fn, draws=draws, tune=tune, chains=chains, cores=cores,
                   random_seed=random_seed, target_accept=target_accept,
                   max_treedepth=max_treedepth, init=init, progressbar=progressbar,
                   numba_fn=numba_fn, plan=plan, max_rank=nuts_step.max_rank)
    res.meta["sampling_wall"] = time.perf_counter() - t0
    res.meta["plan"] = plan
    groups = _groups(m, fn, res, var_names, discard_tuned_samples)
    if compute_convergence_checks and (plan is None or plan.nuts is not None):
        _convergence_warnings(groups["posterior"], res, max_treedepth)
    if not return_inferencedata:
        return groups
    try:
        import arviz as az
    except ImportError:
        return groups
    return _to_inferencedata(az, m, groups, res, idata_kwargs or {})


def _compile_mode(compile_kwargs: Mapping[str, Any] | None) -> str:
    """The log-density's compile route from ``pm.sample(compile_kwargs=...)``."""
    kw = dict(compile_kwargs or {})
    mode = kw.pop("mode", "auto")
    if kw:
        raise TypeError(with_hint(
            f"pm.sample(compile_kwargs=...): unsupported key(s) {', '.join(sorted(kw))}",
            "gnomon takes {'mode': 'auto' | 'c' | 'numba'} there"))
    if mode not in ("auto", "c", "numba"):
        raise GnomonValueError(with_hint(
            f"pm.sample(compile_kwargs={{'mode': {mode!r}}}): NUTS runs a log-density "
            "compiled with 'c' or 'numba'", "use 'auto' (the default), 'c' or 'numba'"))
    return str(mode)


def _groups(m: Any, fn: Any, res: NutsResult, var_names: Sequence[str] | None,
            keep_warmup: bool) -> dict[str, dict[str, np.ndarray]]:
    def post(qs: np.ndarray) -> dict[str, np.ndarray]:
        c, d, _ = qs.shape
        if c * d == 0:
            vals = fn.unflatten(fn.initial_q())
            return {k: np.zeros((c, d) + np.shape(v)) for k, v in vals.items()}
        return fn.unflatten_many(qs)

    def pick(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if var_names is None:
            return d
        missing = [v for v in var_names if v not in d]
        if missing:
            raise GnomonValueError(with_hint(
                f"var_names {missing} are not free variables or deterministics of the model "
                f"(known: {sorted(d)})", "check the spelling of var_names"))
        return {k: d[k] for k in var_names}

    stats = _stats(res.stats, res, False)
    out = {"posterior": pick(post(res.draws)), "sample_stats": stats,
           "observed_data": _observed(m)}
    if not keep_warmup:
        out["warmup_posterior"] = pick(post(res.warmup_draws))
        out["warmup_sample_stats"] = _stats(res.warmup_stats, res, True)
    return out


def _stats(raw: dict[str, np.ndarray], res: NutsResult | None = None,
           warmup: bool = False) -> dict[str, np.ndarray]:
    plan = None if res is None else res.meta.get("plan")
    if plan is not None:
        from gnomon.ppl.compound import stack_mh_stats

        mh = stack_mh_stats(plan, res.meta["warmup_mh" if warmup else "mh"])  # type: ignore[union-attr]
        if plan.nuts is None:  # no NUTS step: no NUTS statistics (as PyMC)
            return mh
        return {**_stats(raw), **mh}
    out = dict(raw)
    out["diverging"] = raw["diverging"].astype(bool)
    out["tree_depth"] = raw["tree_depth"].astype(np.int64)
    out["n_steps"] = raw["n_steps"].astype(np.int64)
    return out


def _observed(m: Any) -> dict[str, np.ndarray]:
    out = {}
    from gnomon.compile.shared import SharedVariable
    from gnomon.graph.basic import Constant

    for rv in m.observed_RVs:
        data = m.rvs_to_data[rv]
        try:
            # (no compile for the usual cases: an eval() compiles a function, 0.1 s each)
            if isinstance(data, Constant):
                out[rv.name] = np.asarray(data.data)
            elif isinstance(data, SharedVariable):
                out[rv.name] = np.array(data.get_value(borrow=True))
            else:
                out[rv.name] = np.asarray(data.eval(mode="numpy"))
        except Exception:
            continue
    return out


def _convergence_warnings(posterior: Mapping[str, np.ndarray], res: NutsResult,
                          max_treedepth: int) -> None:
    chains, kept = res.draws.shape[:2]
    if kept == 0:
        return
    n_div = int(res.stats["diverging"].sum())
    if n_div:
        _log.warning("There were %d divergences after tuning. Increase `target_accept` or "
                     "reparameterize.", n_div)
    at_max = res.stats["tree_depth"] >= max_treedepth
    if at_max.any():
        _log.warning("%d of %d draws reached the maximum tree depth. Increase `max_treedepth`, "
                     "increase `target_accept` or reparameterize.", int(at_max.sum()), at_max.size)
    if kept < 100:
        return
    rhats = []
    esss = []
    for v in posterior.values():
        x = v.reshape(chains, kept, -1)
        for j in range(x.shape[2]):
            if chains > 1:
                rhats.append(rhat(x[:, :, j]))
            esss.append(ess_bulk(x[:, :, j]))
    if chains > 1 and any(r > 1.01 for r in rhats if np.isfinite(r)):
        _log.warning("The rhat statistic is larger than 1.01 for some parameters. This "
                     "indicates problems during sampling. See https://arxiv.org/abs/1903.08008 "
                     "for details")
    if any(e < 100 * chains for e in esss if np.isfinite(e)):
        _log.warning("The effective sample size per chain is smaller than 100 for some "
                     "parameters.  A higher number is needed for reliable rhat and ess "
                     "computation. See https://arxiv.org/abs/1903.08008 for details")


def _to_inferencedata(az: Any, m: Any, groups: dict[str, dict[str, np.ndarray]],
                      res: NutsResult, idata_kwargs: Mapping[str, Any]) -> Any:
    coords = {k: list(v) for k, v in m.coords.items() if v is not None}
    dims = {k: [d for d in v] for k, v in m.named_vars_to_dims.items()}
    # dims without coordinate values get 0..n-1 (ArviZ names anonymous ones itself)
    for name, ds in dims.items():
        arr = (groups["posterior"].get(name) if name in groups["posterior"]
               else groups["observed_data"].get(name))
        if arr is None:
            continue
        shape = arr.shape[2:] if name in groups["posterior"] else arr.shape
        for d, length in zip(ds, shape, strict=False):
            if d is not None and d not in coords:
                coords[d] = list(range(length))
    dims = {k: v for k, v in dims.items() if all(d is not None for d in v)}
    from importlib.metadata import PackageNotFoundError, version

    try:
        lib_version = version("gnomon")
    except PackageNotFoundError:  # pragma: no cover - a checkout that is not installed
        lib_version = ""
    attrs = {"inference_library": "gnomon", "inference_library_version": lib_version,
             "sampling_time": res.sampling_time,
             "tuning_steps": res.tune}
    kw: dict[str, Any] = {"posterior": groups["posterior"],
                          "sample_stats": groups["sample_stats"],
                          "observed_data": groups["observed_data"] or None,
                          "coords": coords, "dims": dims}
    if "warmup_posterior" in groups:
        kw["warmup_posterior"] = groups["warmup_posterior"]
        kw["warmup_sample_stats"] = groups["warmup_sample_stats"]
        kw["save_warmup"] = True
    kw.update(idata_kwargs)
    idata = az.from_dict(**kw)
    for g in ("posterior", "sample_stats"):  # (from_dict's attrs= is not applied by ArviZ 0.23)
        idata[g].attrs.update(attrs)
    return idata
