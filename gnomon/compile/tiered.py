"""Tiered execution: the first result of a new function without waiting for Numba.

Compiling a program with Numba takes seconds with a cold disk cache (about 0.3 s per distinct
kernel on the development machine, then the program; see ``docs/compile-time.md``), while the
NumPy reference backend runs the same scheduled program at once. A tiered function therefore
starts on the reference (the *first tier*) and compiles the Numba program (the *final tier*) in
the background: its first call queues the compile on one worker thread shared by all functions
(Numba compiles one thing at a time anyway), and a later call that needs a program still in
the queue compiles it itself rather than wait for other functions' compiles. The policies:

* ``config.tiered = "first"`` (the default): the first call runs on the reference while the
  final program compiles; every later call runs the final program, waiting for it if it is
  not ready yet. Which tier computed a result depends only on the call's position (the first
  one or not), never on timing, so runs are reproducible.
* ``"async"``: every call runs on the reference until the final program is ready (no call
  ever waits for compilation); which tier computed a result then depends on timing.
* ``"off"``: no tiers: ``gnomon.function`` compiles the final program (the test suite runs
  this way, so that it tests the Numba programs).

Results of the two tiers agree to the tolerances the backend tests state, not bit for bit:
NumPy evaluates transcendental functions with SIMD routines and sums pairwise, Numba calls the
scalar ``libm`` and sums in order. Everything else is the same whichever tier runs: the input
checks, the outputs never alias an argument, a constant or shared storage (the first tier
copies where the graph says an output may alias), updates are applied by
:class:`~gnomon.compile.function.Function` after all outputs are computed, errors name the
node and the user's line, and a pickled function is its graph (compiled again when loaded).

Not tiered: programs that read or produce random generators (the two backends' streams are
not guaranteed to be the same, so a draw must not depend on the tier), programs with an op
that says the reference is slow for it (``slow_on_reference``: a scan runs each step in
Python), also inside inner graphs, and programs without nodes.

The background compile runs the final program once on stand-ins of the first call's
arguments (same types; copies of small arrays, zeros for large ones), so that Numba compiles
for exactly the signature the next call needs, and fills the disk cache for the next process.
It holds Numba's compiler lock while it compiles: another Numba compilation in the process
(a function compiled with ``tiered='off'``) waits for it, and a ``fork`` waits for a running
background compile to finish, so that the child never inherits a held lock.
"""

from __future__ import annotations

import collections
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from gnomon.compile.compiled import CompiledProgram, EntryPoint
from gnomon.compile.schedule import Program

#: the tiering policies, in ``config.tiered`` and ``Mode(..., tiered=...)``
POLICIES = ("off", "first", "async")

#: arrays up to this size are copied for the background compile's run; larger ones are
#: replaced by zeros of the same type and shape (calloc'ed, so they cost no memory until read)
_COPY_BYTES = 1 << 20


class TieredProgram:
    """The state of a tiered function (``Function.compiled.state``): its first tier, and the
    final program once the background compile has produced it.

    Attributes
    ----------
    policy : str
        ``"first"`` or ``"async"`` (see the module docstring).
    calls_on_first_tier : int
        How many calls the first tier has answered.
    """

    def __init__(self, program: Program, policy: str, first: CompiledProgram,
                 compile_final: Callable[[], CompiledProgram]) -> None:
        self.policy = policy
        self.calls_on_first_tier = 0
        self._program = program
        self._first = _no_alias(first, program)
        self._compile_final = compile_final
        #: the final tier's ``run``; set once, by the background thread (the switch)
        self._final: Callable[[list[Any]], list[Any]] | None = None
        self._error: BaseException | None = None
        self._started = False
        self._queued = False  # the compile is in the worker's queue
        self._claimed = False  # a thread has begun to compile
        self._thread: threading.Thread | None = None  # ... this one
        self._stand_ins: list[Any] | None = None
        self._first_taken = False
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.final: CompiledProgram | None = None

    # --- calls ------------------------------------------------------------------------------

    def run(self, values: list[Any]) -> list[Any]:
        """``CompiledProgram.run`` of a tiered function."""
        final = self._final
        if final is not None:
            return final(values)
        return self._run_slow(values)

    def _run_slow(self, values: list[Any]) -> list[Any]:
        with self._lock:
            start = not self._started
            self._started = True
            first = self.policy == "async" or not self._first_taken
            self._first_taken = True
        if self._error is not None:
            raise self._error
        # "first": the first call runs on the first tier even if the final program is ready
        # (which tier ran depends on the call's position only); "async": whichever is ready
        if first and (self.policy == "first" or self._final is None):
            self.calls_on_first_tier += 1
            if not start:  # the first call is still running ("async"): queue it now
                self._queue(values)
            try:
                return self._first(values)
            finally:
                # queued after the first result, so that the compile's start (importing Numba,
                # generating sources) does not compete with it for the GIL
                if start:
                    self._queue(values)
        # "first" policy, a later call: it needs the final program. If the compile is still
        # queued behind other functions' compiles, this call does it now (it waits for no
        # compile it does not need); if it is running, wait for it.
        self._compile_unless_claimed()
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._final is not None
        return self._final(values)

    def direct(self) -> EntryPoint | None:
        """``CompiledProgram.direct`` of the final program, once it runs calls (under the
        "first" policy, the first call was made; "async": the final program is ready). A
        call through it is a call of the final tier: the entry point computes what the final
        program's ``run`` would."""
        final = self.final
        if final is None or final.direct is None or not final.outputs_never_alias:
            return None
        if self.policy == "first" and not self._first_taken:
            return None
        return final.direct()

    # --- the background compile ---------------------------------------------------------------

    def _queue(self, values: list[Any] | None) -> None:
        """Queue the background compile, for the types of ``values`` (once)."""
        with self._lock:
            if self._queued or self._claimed:  # queued, or a call that needed it compiles it
                return
            self._queued = True
            self._stand_ins = None if values is None else [_stand_in(v) for v in values]
        _WORKER.submit(self)

    def _compile_unless_claimed(self) -> None:
        """Compile in this thread, unless another thread has begun to."""
        with self._lock:
            if self._claimed:
                return
            self._claimed = True
            self._thread = threading.current_thread()
            _RUNNING.add(self)
        stand_ins, self._stand_ins = self._stand_ins, None
        self._compile(stand_ins)

    def _compile(self, stand_ins: list[Any] | None) -> None:
        from gnomon.graph.basic import internal_construction

        try:
            with internal_construction():
                final = self._compile_final()
            if stand_ins is not None:
                try:
                    # Numba compiles lazily, for the types of a call's arguments: one run on
                    # stand-ins compiles exactly what the next call needs (and fills the disk
                    # cache). Its results are thrown away; so is an error (a stand-in of zeros
                    # may be a singular matrix), and NumPy's floating-point warnings are off
                    # (in this thread only): the user's own calls report what is wrong.
                    with np.errstate(all="ignore"):
                        final.run(stand_ins)
                except Exception:
                    pass
            self.final = final
            self._final = _no_alias(final, self._program)
        except BaseException as e:  # a bug in a lowering: the next call raises it
            self._error = e
        finally:
            _RUNNING.discard(self)
            self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the final program has replaced the first tier (queueing its compile if
        no call has yet); True if it has, False after ``timeout`` seconds."""
        self._queue(None)
        ok = self._done.wait(timeout)
        if ok and self._error is not None:
            raise self._error
        return ok

    @property
    def tier(self) -> str:
        """``"first"`` until the final program has replaced the first tier, then ``"final"``."""
        return "final" if self._final is not None else "first"


def compile_program(program: Program, mode: Any, backend: Callable[[str], Any]) -> CompiledProgram:
    """Compile ``program`` for ``mode``: tiered where :func:`tiering_policy` says so, else
    ``backend(mode.backend).compile_program(program)``. ``backend(name)`` is the backend's
    linker module (passed in: backends sit above this layer)."""
    policy = tiering_policy(program, mode.backend, mode.tiered)
    if policy == "off":
        return backend(mode.backend).compile_program(program)  # type: ignore[no-any-return]
    from gnomon.compile.filters import input_filter

    # the final backend (and Numba) is imported by the background thread, not by this call
    return compile_tiered(program, policy, backend("numpy").compile_program,
                          lambda p: backend(mode.backend).compile_program(p), input_filter)


def tiering_policy(program: Program, backend: str, requested: str | None) -> str:
    """The policy that applies to ``program`` (``"off"`` where tiering does not apply)."""
    from gnomon.config import config

    policy = requested if requested is not None else config.tiered
    if policy == "off" or backend != "numba" or not program.nodes:
        return "off"
    return policy if _tierable(program.nodes) else "off"


def _tierable(nodes: Any) -> bool:
    """Whether the first tier may run these nodes (and the nodes of their inner graphs)."""
    from gnomon.graph.traversal import toposort

    for node in nodes:
        # Random generators (and any other value that is not an array) are not tiered: a
        # draw must not depend on which backend made it. Ops that say the reference is slow
        # for them (a scan runs its steps in Python) are not either.
        if getattr(node.op, "slow_on_reference", False):
            return False
        for v in (*node.inputs, *node.outputs):
            if not hasattr(v.type, "dtype"):
                return False
        inner = getattr(node.op, "graph", None)
        if inner is not None and hasattr(inner, "outputs") and not _tierable(
                toposort(list(inner.outputs))):
            return False
    return True


def compile_tiered(
    program: Program,
    policy: str,
    compile_first: Callable[[Program], CompiledProgram],
    compile_final: Callable[[Program], CompiledProgram],
    input_filter: Callable[[Any], Callable[..., Any]] | None,
) -> CompiledProgram:
    """A :class:`CompiledProgram` that runs ``compile_first(program)`` until
    ``compile_final(program)``, compiled in the background, replaces it (see the module
    docstring). ``input_filter`` is the final backend's, so that checks never change."""
    state = TieredProgram(program, policy, compile_first(program),
                          lambda: compile_final(program))
    return CompiledProgram(run=state.run, outputs_never_alias=True, input_filter=input_filter,
                           state=state, direct=state.direct)


def tier(f: Any) -> str:
    """Which tier a :class:`~gnomon.compile.function.Function` runs on now: ``"first"`` or
    ``"final"`` (always ``"final"`` for a function that is not tiered)."""
    state = getattr(getattr(f, "compiled", None), "state", None)
    return state.tier if isinstance(state, TieredProgram) else "final"


def wait(f: Any, timeout: float | None = None) -> bool:
    """Wait until ``f`` runs its final program (see :meth:`TieredProgram.wait`); True at once
    for a function that is not tiered."""
    state = getattr(getattr(f, "compiled", None), "state", None)
    return state.wait(timeout) if isinstance(state, TieredProgram) else True


# --- helpers ------------------------------------------------------------------------------------


def _no_alias(c: CompiledProgram, program: Program) -> Callable[[list[Any]], list[Any]]:
    """``c.run``, with the copies that make its outputs never alias an argument, a constant,
    shared storage or each other (what a tiered program promises, whichever tier runs)."""
    if c.outputs_never_alias:
        return c.run
    from gnomon.compile.function import _separate

    run = c.run
    copy_idx = [i for i, need in enumerate(program.outputs_needing_copy()) if need]

    def guarded(values: list[Any]) -> list[Any]:
        results = list(run(values))
        for i in copy_idx:
            results[i] = np.array(results[i], copy=True)
        _separate(results, values)
        return results

    return guarded


def _stand_in(v: Any) -> Any:
    """A value of the same Numba type as ``v`` (dtype, rank, layout, writability) and shape:
    a copy for small arrays, zeros otherwise (the user may change ``v`` while the background
    compile runs)."""
    if type(v) is not np.ndarray:
        return v
    if v.flags.c_contiguous:
        out = np.zeros(v.shape, v.dtype)
    elif v.flags.f_contiguous:
        out = np.zeros(v.shape, v.dtype, order="F")
    else:  # strided: a view of every other element of a wider array
        out = np.zeros((*v.shape[:-1], 2 * v.shape[-1]), v.dtype)[..., ::2]
    if v.nbytes <= _COPY_BYTES:
        out[...] = v
    if not v.flags.writeable:
        out.flags.writeable = False
    return out


# --- the worker thread ----------------------------------------------------------------------


class _Worker:
    """One daemon thread compiling queued programs in order, alive while there is work.

    One is enough: Numba compiles under a global lock, so more threads would only wait (and
    hold their stand-ins meanwhile). A call that needs a program still in the queue compiles
    it itself (:meth:`TieredProgram._compile_unless_claimed`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: collections.deque[TieredProgram] = collections.deque()
        self._thread: threading.Thread | None = None

    def submit(self, state: TieredProgram) -> None:
        with self._lock:
            self._queue.append(state)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="gnomon-tiered-compile",
                                                daemon=True)
                self._thread.start()

    def after_fork_in_child(self) -> None:
        # the worker thread does not exist in a child, and its lock may have been copied held
        self._lock = threading.Lock()
        self._thread = None
        if self._queue:
            self.submit(self._queue.popleft())

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._thread = None
                    return
                state = self._queue.popleft()
            state._compile_unless_claimed()


_WORKER = _Worker()

# --- fork ---------------------------------------------------------------------------------------

#: tiered programs being compiled now (by the worker or by a call that needed one)
_RUNNING: weakref.WeakSet[TieredProgram] = weakref.WeakSet()


def _before_fork() -> None:
    # A child forked while a background compile holds Numba's compiler lock (or gnomon's cache
    # lock) would inherit it held by a thread that does not exist there, and deadlock at its
    # first compile. So a fork waits for running background compiles to finish.
    # (queued compiles hold no lock: they are not waited for)
    me = threading.current_thread()
    for state in list(_RUNNING):
        if state._thread is not me:  # a compile that forks (a subprocess) must not wait for itself
            state._done.wait()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_WORKER.after_fork_in_child)
