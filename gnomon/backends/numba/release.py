"""Releasing the compiled code of dropped functions (issue 13 goal 4).

Numba never frees what it compiles: a dispatcher's weak finalizer holds its compile results,
whose environment holds the module globals, which hold the dispatcher, so every module-level
``@njit`` function lives as long as the process, with its Numba IR, its LLVM modules (in
Numba's one MCJIT engine) and its entry in the target context. So the Numba linker counts,
for every generated module (a kernel or a program), the compiled programs that use it; when
none does, the module becomes *idle*. The :data:`IDLE_KEEP` most recently idle modules are
kept (a kernel shared by the functions of a test or a model rebuilt in a loop is not compiled
again), older ones are *released*:

* the module leaves gnomon's memos (``cache._MODULES``, ``sys.modules``, the kernel memo),
  so a later use loads it again (from the disk cache when there is one);
* each of its dispatchers loses its own name in the module's globals, which is what closed
  the cycle: it now lives exactly as long as someone holds it (a live program of gnomon's
  calling the kernel, a sampler bound to a program's entry point) and stays fully usable
  until then; when it dies, Numba's finalizer removes its compiled functions from the target
  context and the garbage collector frees its Python objects;
* the LLVM modules of its compiled libraries are then removed from Numba's execution engine
  and disposed (the IR; MCJIT keeps the machine code it emitted).

Releases and unloads run at the start of the next compile of a program (:func:`collect`),
under Numba's compiler lock, never inside the garbage collector (finalizers only queue
names and libraries), so they never race a compile. Modules loaded outside
``compile_program`` (control flow bodies, the lazily compiled kernels of error replays, the
on-demand whole programs of large models) are pinned: never released.

Separately, two hooks on Numba's codegen remove most of what stays after a release:

* :func:`dispose_pass_managers`: llvmlite 0.50 never deletes an LLVM pass pipeline (its
  ``ModulePassManager``/``FunctionPassManager`` classes put ``ObjectRef`` first in their bases,
  so the no-op ``ObjectRef._dispose`` hides ``NewPassManager._dispose``), and Numba builds a
  new pipeline for every optimization run: each run leaked the pipeline and the buffers its
  passes grew while running (measured: 44 KiB per function pass run, 72 KiB per ``-O3``
  module pass run, 1.4 KiB of it the pass builder's instrumentation callbacks). The hook
  makes the pipelines Numba's codegen builds delete themselves when Numba drops them.
* :func:`skip_function_passes`: Numba runs LLVM's function simplification pipeline on each
  function of each IR module it adds to a library (~90 runs per gnomon function). For
  gnomon's generated code that pre-pass is skipped: the library's final module still runs
  the full ``-O3`` module pipeline, which simplifies every function again.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

#: idle modules kept loaded (most recently idle first out last); older ones are released
IDLE_KEEP = 32
#: ``GNOMON_NUMBA_RELEASE=0`` turns all three mechanisms off (nothing is released, Numba's
#: pre-pass runs, llvmlite's pass pipelines are never deleted): an escape hatch should a
#: Numba or llvmlite version disagree with them (they reach into Numba's private
#: ``CPUCodeLibrary``, ``CPUCodegen`` and execution engine)
ENABLED = os.environ.get("GNOMON_NUMBA_RELEASE", "1").strip().lower() not in (
    "0", "off", "false", "no")

_LOCK = threading.Lock()
_USERS: dict[str, int] = {}  # module name -> live compiled programs using it
_IDLE: OrderedDict[str, None] = OrderedDict()  # modules no live program uses, oldest first
_PINNED: set[str] = set()  # loaded outside compile_program: never released
_PENDING: list[tuple[str, ...]] = []  # programs collected since the last collect()
_DEAD: list[list[Any]] = []  # libraries of released dispatchers that have died since
#: modules released so far (for tests and docs/compile-time.md's figures)
released_count = 0


def acquire(name: str) -> None:
    """Count one more user of module ``name`` (before it is looked up, so that no
    :func:`collect` in another thread releases it in between)."""
    with _LOCK:
        _USERS[name] = _USERS.get(name, 0) + 1
        _IDLE.pop(name, None)


def drop(names: Iterable[str]) -> None:
    """Give back one use of each of ``names`` (counted by :func:`acquire`) at the next
    :func:`collect`."""
    _PENDING.append(tuple(names))  # (list.append is atomic: safe from any thread)


class Users:
    """Held by a compiled program (its thunk and its ``NumbaProgram``): when the last holder
    is gone, the uses it counted with :func:`acquire` are given back."""

    __slots__ = ("__weakref__", "names")

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)
        weakref.finalize(self, drop, self.names)


def pin(name: str) -> None:
    """Never release module ``name`` (loaded by code that does not count its uses)."""
    with _LOCK:
        _PINNED.add(name)
        _IDLE.pop(name, None)


def collect(keep: int | None = None) -> int:
    """Account for the programs collected since the last call, release the idle modules
    beyond the ``keep`` (default :data:`IDLE_KEEP`) most recent, and unload the LLVM modules
    of released dispatchers that have died since; returns how many modules it released."""
    if not ENABLED:
        with _LOCK:
            _PENDING.clear()
        return 0
    keep = IDLE_KEEP if keep is None else keep
    out: list[str] = []
    with _LOCK:
        while _PENDING:
            for n in _PENDING.pop():
                c = _USERS.get(n, 0) - 1
                if c > 0:
                    _USERS[n] = c
                    continue
                _USERS.pop(n, None)
                if n not in _PINNED:
                    _IDLE[n] = None
                    _IDLE.move_to_end(n)
        while len(_IDLE) > keep:
            out.append(_IDLE.popitem(last=False)[0])
    for n in out:
        _release(n)
    _unload_dead()
    return len(out)


def _release(name: str) -> None:
    global released_count
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.dispatcher import Dispatcher

    from gnomon.backends.numba import cache, linker

    with cache._LOCK:
        mod = cache._MODULES.pop(name, None)
        if mod is None:
            return
        if sys.modules.get(name) is mod:
            del sys.modules[name]
    linker._forget_kernel(name)
    released_count += 1
    with global_compiler_lock:
        for key, obj in list(vars(mod).items()):
            if not (isinstance(obj, Dispatcher)
                    and getattr(obj.py_func, "__module__", None) == name):
                continue
            disp: Any = obj  # (Numba's private attributes, untyped)
            # The cycle that keeps it alive goes through its own name in the module's
            # globals: without that name, it lives as long as someone (gnomon's other
            # programs, a sampler bound to it) holds it, then Numba's finalizer clears it
            # and our own one queues its libraries for _unload. (A non-recursive function
            # never reads its own name; a later compile of it does not either.)
            del mod.__dict__[key]
            weakref.finalize(disp, _DEAD.append,
                             [cres.library for cres in disp.overloads.values()])


def _unload_dead() -> None:
    from numba.core.compiler_lock import global_compiler_lock

    with global_compiler_lock:
        while _DEAD:
            for lib in _DEAD.pop():
                _unload(lib)


def _unload(lib: Any) -> None:
    """Remove a finalized library's LLVM module from Numba's engine and dispose of it (and of
    its copy for linking). Anything unexpected leaves it as it is: a leak, never a crash."""
    try:
        if not lib._finalized:
            return
        final = lib._final_module
        shared = lib._shared_module
        ee = lib._codegen._engine._ee
        ee.remove_module(final)  # gives the module back to us (MCJIT keeps the machine code)
        final.close()
        if shared is not None and shared is not final:
            shared.close()
    except Exception:
        return


def _is_gnomon_module(ll_module: Any) -> bool:
    return any("gnomon_nb_" in fn.name for fn in ll_module.functions
               if not fn.is_declaration)


def skip_function_passes() -> None:
    """Skip Numba's per-function LLVM pre-pass for gnomon's generated code (see the module
    docstring). Numba's own and the user's functions are optimized as Numba does."""
    from numba.core.codegen import CPUCodeLibrary

    orig = getattr(CPUCodeLibrary, "_optimize_functions", None)
    if not ENABLED or orig is None:  # (off, or a Numba without the method: nothing to skip)
        return
    if getattr(orig, "_gnomon", False):
        return

    def optimize_functions(self: Any, ll_module: Any) -> None:
        if _is_gnomon_module(ll_module):
            # what the pre-pass does besides optimizing: the data layout of the target
            ll_module.data_layout = self._codegen._data_layout
            return
        orig(self, ll_module)

    optimize_functions._gnomon = True  # type: ignore[attr-defined]
    CPUCodeLibrary._optimize_functions = optimize_functions  # type: ignore[method-assign]


def _owning_class(cls: Any) -> type | None:
    """A subclass of llvmlite's pass manager class ``cls`` whose disposal deletes the C++
    pipeline (llvmlite's own ``NewPassManager._dispose``), or None where ``cls`` already
    deletes it (a fixed llvmlite) or the layout is not the one this was written for."""
    from llvmlite.binding import ffi, newpassmanagers

    try:
        base: Any = newpassmanagers.NewPassManager
    except AttributeError:  # (an llvmlite laid out otherwise: leave it as it is)
        return None
    if not issubclass(cls, base) or cls._dispose is not ffi.ObjectRef._dispose:
        return None
    return type(f"Owning{cls.__name__}", (cls,), {"_dispose": base._dispose,
                                                   "__module__": __name__})


def dispose_pass_managers() -> None:
    """Make the LLVM pass pipelines Numba's codegen builds delete themselves when Numba drops
    them (see the module docstring). The pipeline, the pass builder and the passes run are
    Numba's, unchanged: only the end of the pipeline's life changes. Applies to all code
    Numba compiles (its own, the user's, gnomon's): nothing reads a pipeline after Numba's
    ``_optimize_*`` methods drop it."""
    from llvmlite.binding import newpassmanagers
    from numba.core.codegen import CPUCodegen

    if not ENABLED or getattr(CPUCodegen._module_pass_manager, "_gnomon", False):
        return
    owning = {}
    for cls in (newpassmanagers.ModulePassManager, newpassmanagers.FunctionPassManager):
        sub = _owning_class(cls)
        if sub is not None:
            owning[cls] = sub
    if not owning:
        return

    def wrap(orig: Any) -> Any:
        def build(self: Any, **kwargs: Any) -> Any:
            pm, pb = orig(self, **kwargs)
            sub = owning.get(type(pm))
            if sub is not None:  # (another class: leave it as it is)
                pm.__class__ = sub
            return pm, pb

        build._gnomon = True  # type: ignore[attr-defined]
        build.__wrapped__ = orig  # type: ignore[attr-defined]
        return build

    CPUCodegen._module_pass_manager = wrap(  # type: ignore[method-assign]
        CPUCodegen._module_pass_manager)
    CPUCodegen._function_pass_manager = wrap(  # type: ignore[method-assign]
        CPUCodegen._function_pass_manager)
