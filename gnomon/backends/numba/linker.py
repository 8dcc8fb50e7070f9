"""Compile a scheduled program with Numba.

Every node is lowered to a small kernel (``numba_funcify``), cached by its source, which is a
function of the op and the input types only, so the same kernel serves every program that uses
the op. The program itself is generated as one more function that calls the kernels in order:

* when every node lowers in nopython mode, that function is itself ``@njit``-compiled, so a call
  from Python enters machine code once, and LLVM can inline the kernels into each other;
* otherwise it is a Python function calling compiled kernels and, for the nodes without a
  lowering, the op's NumPy ``perform`` (those ops are listed in ``docs/backends.md``).

All generated code goes through the disk cache (:mod:`gnomon.backends.numba.cache`), so a warm
cache skips Numba's compilation entirely. The memory plan (:mod:`gnomon.compile.memory`) lets
elementwise kernels write into an input buffer that is dead, and outputs that would alias an
input, a constant or another output are copied inside the compiled code, so the thunk can tell
:class:`~gnomon.compile.function.Function` that its outputs never alias anything.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba.core.errors import NumbaError

from gnomon.backends import native_call
from gnomon.backends.numba import cache, release
from gnomon.backends.numba.dispatch import numba_funcify
from gnomon.backends.numba.elemwise import elemwise_source, kernel_constants
from gnomon.backends.numba.scalar import HELPERS
from gnomon.backends.numba.special import module_text as special_module_text
from gnomon.backends.numba.vmath import imports as vmath_imports
from gnomon.backends.numpy.linker import compile_program as reference
from gnomon.backends.numpy.linker import runtime_error
from gnomon.compile.compiled import CompiledProgram, EntryPoint
from gnomon.compile.filters import input_filter  # the fast input check (also tiered's)
from gnomon.compile.memory import fusable_sums, plan_inplace
from gnomon.compile.schedule import Program
from gnomon.errors import (
    GnomonError,
    GnomonRuntimeError,
    NotLoweredError,
    node_context,
    with_hint,
)
from gnomon.graph.basic import Apply
from gnomon.tensor.elemwise import Elemwise

_DECORATOR = '@numba.njit(cache=True, error_model="numpy", nogil=True)'
#: A node's kernel has no C-callable ("cfunc") wrapper: only whole programs are called through
#: their address (gnomon.ppl's bind_numba_program); kernels are called from Python or from a
#: program. Numba builds, optimizes and emits that wrapper for every function otherwise
#: (measured: 10-12 % of a small kernel's cold compile time).
_KERNEL_DECORATOR = ('@numba.njit(cache=True, error_model="numpy", nogil=True, '
                     'no_cfunc_wrapper=True)')
_PRELUDE = ("import math\n\nimport numba\nimport numpy as np\n\n"
            "from gnomon.backends.numba.runtime import empty as _empty\n")

#: Programs with more nodes or arguments than these are a Python function calling the
#: compiled kernels, not one nopython function: LLVM inlines every kernel call into the
#: program and optimizes the result as one function (measured: ~25 ms of CPU per kernel call,
#: ~50 ms per argument, growing faster than linearly), which made a chain of 10,000 steps or
#: a sum of 1,000 scalar inputs take minutes; from Python each kernel call costs ~1 us.
MAX_WHOLE_NODES = 256
MAX_WHOLE_ARGS = 128

# In-process memo: kernel source -> compiled dispatcher (entries leave when their module is
# released: gnomon.backends.numba.release)
_KERNELS: dict[str, Any] = {}
_KERNEL_SOURCES: dict[str, str] = {}  # module name -> kernel source

# gnomon's generated code skips Numba's per-function LLVM pre-pass, and llvmlite's pass
# pipelines are deleted once used (they leaked: see release.py)
release.skip_function_passes()
release.dispose_pass_managers()


def kernel_module_source(source: str) -> str:
    """The full module text of a kernel (prelude, helpers it uses, decorated function)."""
    helpers = HELPERS if any(h in source for h in ("_expit(", "_digamma(", "_ipow(")) else ""
    helpers += special_module_text(source)  # SciPy's exported functions, special_kernels
    if "_vm_" in source:  # vector math (libmvec) intrinsics of blocked loops
        helpers += "\n" + vmath_imports(source)
    if "_bsum(" in source:  # fused reductions
        helpers += "\nfrom gnomon.backends.numba.runtime import block_sum as _bsum\n"
    return _PRELUDE + helpers + "\n\n" + _KERNEL_DECORATOR + "\n" + source


def compile_kernel(source: str, users: list[str] | None = None) -> Any:
    """The Numba dispatcher of a kernel source (from memory, the disk cache, or compiled).

    A compiled program passes ``users``: the kernel's module name is appended and its use
    counted, so that the module is released once no program uses it
    (:mod:`gnomon.backends.numba.release`); other callers' kernels are never released.
    """
    text = kernel_module_source(source)
    name = cache.module_name(text)
    if users is None:
        release.pin(name)
    else:
        release.acquire(name)
        users.append(name)
    k = _KERNELS.get(source)
    if k is None:
        k = cache.load_module(text).kernel
        _KERNELS[source] = k
        _KERNEL_SOURCES[name] = source
    return k


def _forget_kernel(name: str) -> None:
    """Drop the memo entry of a released kernel module."""
    source = _KERNEL_SOURCES.pop(name, None)
    if source is not None:
        _KERNELS.pop(source, None)


def lower_node(node: Apply, inplace: int | None = None) -> str:
    """Kernel source of ``node``; raises NotLoweredError when it must run in Python."""
    for v in (*node.inputs, *node.outputs):
        if getattr(v.type, "dtype", None) == "float16":
            raise NotLoweredError("Numba has no float16 arithmetic")
    if inplace is not None:
        return elemwise_source(node, inplace)
    return numba_funcify(node.op, node)


def _can_inplace(node: Apply) -> bool:
    return isinstance(node.op, Elemwise) and len(node.outputs) == 1


def compile_program(program: Program) -> CompiledProgram:
    """Compile ``program`` to ``run(values) -> outputs`` (see the module docstring)."""
    release.collect()  # the code of programs dropped since the last compile
    users: list[str] = []  # the generated modules this program uses (counted)
    try:
        return _compile_program(program, users)
    except BaseException:
        release.drop(users)
        raise


def _compile_program(program: Program, users: list[str]) -> CompiledProgram:
    slot = program.slot
    sources: list[str | None] = []
    for node in program.nodes:
        try:
            sources.append(lower_node(node))
        except NotImplementedError:
            sources.append(None)
    nopython = all(s is not None for s in sources)
    plan: dict[int, int] = {}
    if nopython:
        # Python fallbacks may return views of their inputs without saying so: no reuse then.
        lowered = {node for node, s in zip(program.nodes, sources, strict=True)
                   if s is not None and not node.op.view_map}
        plan = plan_inplace(program, _can_inplace, lambda n: n in lowered)
        for i, k in plan.items():
            sources[i] = lower_node(program.nodes[i], k)

    # Reductions fused into the loop producing their input (see fusable_sums): the
    # pair runs as one kernel at the elementwise node's place; the Sum's own place is empty.
    fused = fusable_sums(program, [t is not None for t in sources]) if nopython else {}
    alone = list(sources)  # each node's own kernel (the error replay runs the pair apart)
    for i, j in fused.items():
        plan.pop(i, None)
        red = program.nodes[j].op
        sources[i] = elemwise_source(program.nodes[i], reduce=(
            red.axes, program.nodes[j].outputs[0].dtype))  # type: ignore[attr-defined]
    skip = set(fused.values())

    args = [f"v{slot[v]}" for v in program.inputs] + [f"v{slot[c]}" for c in program.constants]
    consts = [c.data for c in program.constants]
    # the scalar constants of fused groups, passed to their kernels (composite.py): program
    # arguments too, so that the program's text does not depend on their values either
    kconsts: dict[int, list[str]] = {}
    for i, (node, src) in enumerate(zip(program.nodes, sources, strict=True)):
        if src is not None and isinstance(node.op, Elemwise):
            vals = kernel_constants(node)
            kconsts[i] = [f"s{len(consts) + j}" for j in range(len(vals))]
            args += kconsts[i]
            consts += vals
    consts_t = tuple(consts)
    namespace: dict[str, Any] = {}
    steps: list[tuple[Apply, Callable[..., Any]]] = []
    lines = [f"def program({', '.join(args)}):"]
    for i, (node, src) in enumerate(zip(program.nodes, sources, strict=True)):
        if i in skip:  # a Sum computed by the kernel of its input's loop
            steps.append((node, _lazy_kernel(alone[i])))
            continue
        outs = "".join(f"v{slot[o]}, " for o in (program.nodes[fused[i]] if i in fused
                                                 else node).outputs)
        ins = ", ".join([f"v{slot[v]}" for v in node.inputs] + kconsts.get(i, []))
        if src is not None:
            # named after the whole kernel module (helpers included): a cached program
            # refers to its kernels' modules by name
            kname = "k_" + cache.module_name(kernel_module_source(src))[len("gnomon_nb_"):]
            namespace[kname] = compile_kernel(src, users)
        else:
            kname = f"py_{i}"
            namespace[kname] = _python_node(node)
        fn = _lazy_kernel(alone[i]) if i in fused else namespace[kname]
        if kconsts.get(i):  # the replay passes the node's inputs; the constants follow
            fn = _with_constants(fn, [consts_t[int(a[1:])] for a in kconsts[i]])
        steps.append((node, fn))
        lines.append(f"    ({outs}) = {kname}({ins})")
    copies = program.outputs_needing_copy()
    rets = [f"v{slot[o]}.copy()" if c else f"v{slot[o]}"
            for o, c in zip(program.outputs, copies, strict=True)]
    lines.append("    return (" + "".join(r + ", " for r in rets) + ")")
    body = "\n".join(lines) + "\n"
    # A large program is a Python function calling the compiled kernels (see MAX_WHOLE_NODES)
    whole = nopython and len(steps) <= MAX_WHOLE_NODES and len(args) <= MAX_WHOLE_ARGS

    def whole_program(counted: list[str] | None = None) -> Any:
        # kernel names are content hashes, so this text identifies the whole program
        text = _PRELUDE + "\n\n" + _DECORATOR + "\n" + body
        if counted is None:  # compiled on demand (compile_whole): kept for the process
            release.pin(cache.module_name(text))
        else:
            release.acquire(cache.module_name(text))
            counted.append(cache.module_name(text))
        return cache.load_module(text, namespace).program

    if whole:
        prog = whole_program(users)
    else:
        glb: dict[str, Any] = {"np": np, **namespace}
        exec(compile(body, f"<gnomon numba program {id(program):x}>", "exec"), glb)
        prog = glb["program"]

    call: list[Callable[..., Any]] = [prog]

    def thunk(values: list[Any]) -> list[Any]:
        try:
            # (no constants: the call without the tuple concatenation; measurable in a + b)
            return list(call[0](*values, *consts_t) if consts_t else call[0](*values))
        except NumbaError as e:
            # Numba could not compile this program for these argument types: a gap in a
            # lowering. Run the reference backend from now on rather than fail the user.
            call[0] = _reference_fallback(program, e)
            return list(call[0](*values, *consts_t))
        except Exception as e:
            raise _explain(program, steps, values, consts_t, e) from e

    # The compiled entry point of a signature whose array inputs are all C-contiguous, for
    # Function's calls (CompiledProgram.direct): it skips the dispatcher's typing of the
    # arguments (1.75 -> 0.82 us for a + b on two 10-vectors). The entry point reads an
    # array of another layout than its signature's wrongly (a strided view as if contiguous),
    # so the EntryPoint names the flags each argument must have: `carray` (C-contiguous,
    # aligned, writeable: exactly the arguments the dispatcher would send to that signature),
    # nothing for 0-d inputs (one layout). Program inputs are never written (the memory plan
    # only reuses buffers the program allocated), so a read-only signature's entry takes
    # writeable arrays too. Looked up again only when the dispatcher has compiled another
    # signature.
    input_types: list[Any] = [v.type for v in program.inputs]
    in_types = [(np.dtype(t.dtype), int(t.ndim)) if hasattr(t, "dtype") else None
                for t in input_types]
    found: list[Any] = [-1, None]  # [number of signatures when last looked, the EntryPoint]

    def direct() -> EntryPoint | None:
        overloads = getattr(prog, "overloads", None)  # (the njit dispatcher's)
        if not whole or call[0] is not prog or overloads is None:
            return None
        if len(overloads) != found[0]:
            found[0] = len(overloads)
            found[1] = _entry_point(list(overloads.items()), in_types, consts_t)
        return found[1]

    # Outputs are fresh arrays or copies made inside the compiled code (never views of inputs,
    # constants, shared storage or each other); Python fallbacks give no such guarantee.
    fallback = [n for n, s in zip(program.nodes, sources, strict=True) if s is None]
    # the modules this program uses are given back when both the thunk and the state are gone
    token = release.Users(users)
    setattr(thunk, "_gnomon_users", token)  # noqa: B010 (an attribute mypy does not know)
    return CompiledProgram(run=thunk, outputs_never_alias=nopython, input_filter=input_filter,
                           direct=direct,
                           state=NumbaProgram(whole, dict(plan), fallback,
                                              prog if whole else None, consts_t, fused,
                                              whole_program if nopython and not whole
                                              else None, token))


def _entry_point(overloads: list[tuple[Any, Any]], in_types: list[tuple[np.dtype[Any], int] | None],
                 consts: tuple[Any, ...]) -> EntryPoint | None:
    """The :class:`EntryPoint` of the first compiled signature (``(arg types, compile
    result)`` pairs) taking the program's inputs as C-contiguous arrays of their dtype and
    rank, and the program's constants as exactly the types the dispatcher gives them, or None.
    Strided ('A') signatures are left to the dispatcher: their loops are slower for contiguous
    arrays than a signature the dispatcher would compile for them.

    The constants' types matter: programs that differ only in their constants share one
    dispatcher (constants are arguments), so it may hold a signature compiled for another
    program's constants (float64 where these are int64, another rank); calling that entry with
    these constants would read them as the wrong type."""
    import numba
    from numba.core import types
    from numba.np.numpy_support import as_dtype

    const_types = tuple(numba.typeof(c) for c in consts)
    n_in = len(in_types)
    for sig, cres in overloads:
        if tuple(sig[n_in:]) != const_types:
            continue
        flags: list[tuple[str, ...]] = []
        for ty, want in zip(sig, in_types):  # (the constants' types follow the inputs')
            if (want is None or not isinstance(ty, types.Array) or ty.layout != "C"
                    or ty.ndim != want[1] or as_dtype(ty.dtype) != want[0]):
                break
            if ty.ndim == 0:
                flags.append(())
            elif not ty.mutable or not ty.aligned:
                flags.append(("c_contiguous", "aligned") if ty.aligned else ("c_contiguous",))
            else:
                flags.append(("carray",))
        else:
            if len(flags) == len(in_types):
                return EntryPoint(cres.entry_point, tuple(flags), consts, native_call.caller)
    return None


def _with_constants(fn: Callable[..., Any], values: list[Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        return fn(*args, *values)

    return run


def _lazy_kernel(source: str | None) -> Callable[..., Any]:
    """A node's own kernel, compiled when first called (only an error replay calls it)."""
    def run(*args: Any) -> Any:
        assert source is not None
        return compile_kernel(source)(*args)

    return run


@dataclass(frozen=True)
class NumbaProgram:
    """What the Numba linker says about a compiled program (``CompiledProgram.state``)."""

    #: the whole program is one nopython function (no node runs its ``perform`` in Python)
    nopython: bool
    #: the memory plan: node index -> the input whose buffer its output reuses
    inplace: dict[int, int]
    #: the nodes that run with their NumPy ``perform`` (no lowering for these inputs)
    fallback_nodes: list[Apply]
    #: the nopython dispatcher ``program(*inputs, *constants) -> tuple(outputs)`` (None unless
    #: nopython), callable from other njit code (the NUTS loop calls a model's log-density)
    program: Any = None
    #: the constants ``program`` takes after the inputs
    constants: tuple[Any, ...] = ()
    #: reductions fused into the loop producing their input: elementwise node index -> Sum
    #: node index (the pair runs as one kernel, without the elementwise values in memory)
    fused_reductions: dict[int, int] = field(default_factory=dict)
    #: for a program that lowers entirely but is too large to be one nopython function by
    #: default (MAX_WHOLE_NODES, MAX_WHOLE_ARGS): compiles that function on demand and returns
    #: its dispatcher (the NUTS loop asks for it: seconds of compile once, then no Python per
    #: leapfrog step); None otherwise
    compile_whole: Callable[[], Any] | None = None
    #: the generated modules the program uses, counted while this object or the thunk lives
    #: (:mod:`gnomon.backends.numba.release`)
    users: Any = field(default=None, repr=False, compare=False)


def _reference_fallback(program: Program, err: Exception) -> Callable[..., Any]:
    """The NumPy reference program, with the output copies the no-alias promise needs."""
    warnings.warn(
        f"Numba could not compile this function ({type(err).__name__}: "
        f"{str(err).splitlines()[0] if str(err) else ''}); it runs on the NumPy reference "
        "backend instead (correct, slower). This is a gap in gnomon's Numba backend.\n"
        "Hint: please report it; pass mode='numpy' to silence this warning.",
        RuntimeWarning, stacklevel=4,
    )
    ref = reference(program).run
    n_in = len(program.inputs)
    copies = program.outputs_needing_copy()

    def run(*args: Any) -> tuple[Any, ...]:
        outs = ref(list(args[:n_in]))
        return tuple(np.array(o, copy=True) if c else o
                     for o, c in zip(outs, copies, strict=True))

    return run


def _python_node(node: Apply) -> Callable[..., tuple[Any, ...]]:
    """Run ``node`` with its NumPy ``perform`` (for ops without a Numba lowering); errors name
    the node and the user's line, as the reference backend's do."""
    op = node.op

    def run(*args: Any) -> tuple[Any, ...]:
        try:
            res = op.perform(node, list(args))
        except Exception as e:
            raise runtime_error(node, list(args), e) from e
        # arrays, or values of other types (random generators) as they are
        return tuple(r if isinstance(r, np.ndarray | np.random.Generator) else np.asarray(r)
                     for r in res)

    return run


def _explain(program: Program, steps: list[tuple[Apply, Callable[..., Any]]],
             values: list[Any], consts: tuple[Any, ...], e: Exception) -> Exception:
    """Turn a failure inside compiled code into an error that names the node and the line.

    Compiled code reports only the exception, so the program is replayed one node at a time,
    with the same compiled kernels and the same values, up to the node that fails (never more
    work than the failed call did). That node's reference ``perform`` then gives the precise
    message; a MemoryError is reported as it is (the reference would try the same allocation).
    """
    if isinstance(e, GnomonError):
        return e
    slot = program.slot
    storage: dict[int, Any] = {slot[v]: x for v, x in zip(program.inputs, values, strict=True)}
    # (the scalar constants of fused groups follow the program's constants)
    storage.update({slot[c]: x for c, x in zip(program.constants, consts, strict=False)})
    for node, fn in steps:
        args = [storage[slot[v]] for v in node.inputs]
        try:
            res = fn(*args)
        except GnomonError as err:
            return err
        except Exception as err:
            if isinstance(err, MemoryError):
                return runtime_error(node, args, err)
            try:
                node.op.perform(node, [np.asarray(a) for a in args])
            except Exception as ref_err:
                return runtime_error(node, args, ref_err)
            return GnomonRuntimeError(with_hint(
                f"{type(err).__name__} in Numba-compiled code: {err}\n(The NumPy reference "
                f"runs this node without error, so this is a bug in gnomon's Numba "
                f"backend.)\n{node_context(node)}",
                "use mode='numpy' for now and report the bug",
            ))
        for o, r in zip(node.outputs, res, strict=True):
            storage[slot[o]] = r
    first = program.nodes[0] if program.nodes else None
    where = node_context(first) if first is not None else ""
    return GnomonRuntimeError(with_hint(
        f"{type(e).__name__} in Numba-compiled code: {e}\n(Replaying the program node by node "
        f"did not fail again, so this is a bug in gnomon's Numba backend.)\n{where}",
        "use mode='numpy' for now and report the bug",
    ))
