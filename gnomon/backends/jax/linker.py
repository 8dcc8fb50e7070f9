"""Compile a scheduled :class:`~gnomon.compile.schedule.Program` to one ``jax.jit`` function.

The program becomes a single Python function of JAX arrays (inputs, then shared variables) that
calls each node's lowering (:func:`~gnomon.backends.jax.dispatch.jax_funcify`) in schedule order;
``jax.jit`` traces it once per signature of input shapes and dtypes, so the whole graph is one
XLA computation and a call with new shapes retraces (and is cached) automatically.

Static values. While tracing, a node whose inputs are all concrete NumPy values (constants,
shapes of traced arrays, arithmetic on them) is computed with its NumPy ``perform`` instead of
being traced, so shapes derived from input *shapes* stay static (``alloc(0., x.shape[0] * 2)``
works under ``jit``). A shape or a boolean mask derived from input *values* cannot be known at
trace time: the first call then warns (:class:`JaxFallbackWarning`) and the function runs op by op
with eager JAX from then on -- correct, but without the speed of ``jit``.

float64. JAX computes in 32 bits unless its ``jax_enable_x64`` flag is on. A gnomon function
enables it for the duration of each call only (``with jax.enable_x64(True)``, a thread-local
setting), so float64 graphs compute in float64 and the user's global JAX configuration is never
changed. The float64 JAX arrays returned are ordinary arrays; further *JAX* arithmetic on them
outside x64 mode follows JAX's rules (it truncates to float32), so use NumPy on them, or enable
x64 yourself, or return NumPy arrays (:func:`numpy_outputs`).

Outputs are JAX arrays (immutable, so gnomon never copies them); updates of shared variables
store JAX arrays, which stay on the accelerator between calls.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from gnomon.backends.jax.dispatch import (
    NeedsConcreteValue,
    is_concrete,
    is_tracer,
    jax_funcify,
)
from gnomon.compile.compiled import CompiledProgram
from gnomon.compile.schedule import Program
from gnomon.errors import (
    GnomonError,
    GnomonRuntimeError,
    GnomonTypeError,
    GnomonValueError,
    ShapeError,
    node_context,
    runtime_error_class,
    with_hint,
)
from gnomon.graph.basic import Apply, Variable
from gnomon.tensor.type import TensorType

if TYPE_CHECKING:
    from gnomon.compile.function import Function

#: Results of constant folding at trace time larger than this (elements) are computed by XLA
#: instead, so big arrays built from constants are not embedded in the compiled program.
FOLD_LIMIT = 4096


class JaxFallbackWarning(UserWarning):
    """A function compiled with ``mode='jax'`` could not be traced by ``jax.jit`` (a shape or mask
    depends on input values) and runs op by op instead."""


# --- the traced program ----------------------------------------------------------------------


def program_function(program: Program) -> Callable[..., tuple[Any, ...]]:
    """The program as a pure Python function of JAX arrays: ``fn(*inputs) -> tuple(outputs)``.

    Inputs are the program's inputs in order (explicit inputs, then shared variables); outputs
    are the program's outputs (user outputs, then update values). Every op is lowered here, so
    an op without a JAX lowering raises :class:`~gnomon.errors.NotLoweredError` now.
    """
    slot = program.slot
    n_in = len(program.inputs)
    n = program.n_slots
    consts = [(slot[c], np.asarray(c.data)) for c in program.constants]
    steps = [
        (node, jax_funcify(node.op, node), [slot[v] for v in node.inputs],
         [slot[v] for v in node.outputs])
        for node in program.nodes
    ]
    out_slots = [slot[o] for o in program.outputs]

    def fn(*args: Any) -> tuple[Any, ...]:
        if len(args) != n_in:
            raise GnomonTypeError(f"the compiled program takes {n_in} arrays, got {len(args)}")
        storage: list[Any] = [None] * n
        storage[:n_in] = args
        for i, c in consts:
            storage[i] = c
        for node, lowered, ins, outs in steps:
            vals = [storage[i] for i in ins]
            results = _fold(node, vals) if all(is_concrete(v) for v in vals) else None
            if results is None:
                results = _call(node, lowered, vals)
            for i, r in zip(outs, results, strict=True):
                storage[i] = r
        return tuple(storage[i] for i in out_slots)

    return fn


def _fold(node: Apply, vals: list[Any]) -> tuple[Any, ...] | None:
    """Evaluate a node with NumPy at trace time (all inputs known); ``None`` to trace it."""
    try:
        results = node.op.perform(node, [np.asarray(v) for v in vals])
    except Exception:
        return None  # let the JAX lowering run (and report) it
    out = []
    for r, v in zip(results, node.outputs, strict=True):
        r = np.asarray(r)
        if r.size > FOLD_LIMIT or r.dtype.name != v.type.dtype:  # type: ignore[attr-defined]
            return None
        out.append(r)
    return tuple(out)


def _call(node: Apply, lowered: Callable[..., Any], vals: list[Any]) -> tuple[Any, ...]:
    try:
        res = lowered(*vals)
    except GnomonError:
        raise
    except Exception as e:
        shapes = ", ".join(str(tuple(getattr(v, "shape", ()))) for v in vals)
        raise runtime_error_class(e)(
            f"{type(e).__name__} while computing {node.op} with JAX: {e}\n"
            f"  Input shapes: {shapes}\n{node_context(node)}"
        ) from e
    # One output: a bare array (a 1-tuple is accepted too).
    results = res if len(node.outputs) != 1 or isinstance(res, tuple) else (res,)
    if len(results) != len(node.outputs):
        raise GnomonRuntimeError(
            f"the JAX lowering of {node.op} returned {len(results)} values for "
            f"{len(node.outputs)} outputs (a bug in the lowering).\n{node_context(node)}"
        )
    return tuple(_check(node, v, r) for v, r in zip(node.outputs, results, strict=True))


def _check(node: Apply, var: Variable, value: Any) -> Any:
    """Give ``value`` the declared dtype of ``var`` and check its (static) shape."""
    t = var.type
    if not hasattr(value, "dtype"):
        value = jnp.asarray(value)
    if isinstance(t, TensorType):
        if value.dtype != t.dtype:
            value = value.astype(t.dtype)
            if value.dtype != t.dtype:
                raise x64_error(t.dtype, f"{node.op}")
        if not t.fits_shape(tuple(value.shape)):
            raise ShapeError(
                f"{node.op} computed an array of shape {tuple(value.shape)} under JAX, but its "
                f"output type is {t} (a run-time shape mismatch, or a bug in the lowering).\n"
                f"{node_context(node)}"
            )
    return value


def x64_context() -> Any:
    """A thread-local ``jax_enable_x64 = True`` context (``jax.enable_x64(True)``; older JAX
    versions only have ``jax.experimental.enable_x64``)."""
    cm = getattr(jax, "enable_x64", None)
    if cm is None:  # pragma: no cover - older JAX
        from jax.experimental import enable_x64 as cm  # type: ignore[attr-defined, no-redef]
    return cm(True)  # type: ignore[misc]


def x64_error(dtype: str, where: str) -> GnomonTypeError:
    """The error for a 64-bit value met while JAX's x64 mode is off."""
    return GnomonTypeError(with_hint(
        f"{where} needs the 64-bit dtype {dtype}, but JAX's 64-bit mode (jax_enable_x64) is off, "
        "so JAX would silently compute in 32 bits",
        "call it inside `with jax.enable_x64(True):`, or run "
        "jax.config.update('jax_enable_x64', True) once, or build the graph in 32 bits "
        "(gnomon.config.floatX = 'float32'). Functions from gnomon.function(mode='jax') do this "
        "for you",
    ))


# --- the thunk gnomon.function calls ---------------------------------------------------------


class JaxThunk:
    """``thunk(values) -> outputs`` of a ``mode='jax'`` program: the ``run`` and the ``state``
    of the :class:`~gnomon.compile.compiled.CompiledProgram` :func:`compile_program` returns.

    Attributes
    ----------
    jax_fn : callable
        The pure function of JAX arrays (inputs, then shared values), not jitted, for use with
        ``jax.grad`` / ``jax.vmap``; see :func:`to_jax` for a friendlier form.
    numpy_outputs : bool
        Return NumPy arrays instead of JAX arrays (see :func:`numpy_outputs`).
    eager : bool
        True once the function fell back to op-by-op execution (see the module docstring).
    """

    def __init__(self, program: Program) -> None:
        self.program = program
        self.jax_fn = program_function(program)
        self.jitted = jax.jit(self.jax_fn)
        self.numpy_outputs = False
        self.eager = False
        # Switching JAX's x64 flag costs several microseconds a call; programs without a
        # 64-bit value skip it, and so does every program when the user enabled x64 already.
        self.needs_x64 = _has_64bit(program)

    def __call__(self, values: list[Any]) -> list[Any]:
        if self.eager or self.numpy_outputs:
            return self._call_slow(values)
        if not self.needs_x64 or jax.config.jax_enable_x64:  # type: ignore[attr-defined]
            try:
                return list(self.jitted(*values))
            except NeedsConcreteValue as e:
                self._fall_back(e)
                return self._call_slow(values)
        with x64_context():
            try:
                return list(self.jitted(*values))
            except NeedsConcreteValue as e:
                self._fall_back(e)
        return self._call_slow(values)

    def _call_slow(self, values: list[Any]) -> list[Any]:
        with x64_context():
            if self.eager:
                outs = self._run_eager(values)
            else:
                try:
                    outs = self.jitted(*values)
                except NeedsConcreteValue as e:
                    self._fall_back(e)
                    outs = self._run_eager(values)
        if self.numpy_outputs:
            # A copy: np.asarray of a CPU JAX array is a read-only view.
            return [np.array(o) for o in outs]
        return list(outs)

    def _fall_back(self, e: NeedsConcreteValue) -> None:
        warnings.warn(
            f"mode='jax' cannot trace this function with jax.jit, so it runs op by op (slowly) "
            f"from now on:\n{e}",
            JaxFallbackWarning,
            stacklevel=4,
        )
        self.eager = True

    def _run_eager(self, values: list[Any]) -> tuple[Any, ...]:
        # Inputs become JAX arrays, so they are computed by the lowerings rather than folded
        # with NumPy; shapes and masks are now concrete and can be read.
        outs = self.jax_fn(*[jnp.asarray(v) for v in values])
        return tuple(jnp.asarray(o) for o in outs)

    def input_filter(self, ttype: Any) -> Callable[..., Any]:
        """The input check for ``ttype``: JAX arrays pass without a host copy."""
        return make_input_filter(ttype)


def _has_64bit(program: Program) -> bool:
    wide = ("int64", "uint64", "float64", "complex128")
    vs = [*program.inputs, *program.outputs, *program.constants]
    vs += [v for node in program.nodes for v in (*node.inputs, *node.outputs)]
    return any(getattr(v.type, "dtype", None) in wide for v in vs)


def compile_program(program: Program) -> CompiledProgram:
    """Lower ``program`` to a jitted JAX function; the backend entry point of ``mode='jax'``.

    Examples
    --------
    >>> import gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> f = gnomon.function([x], gt.exp(x) * 2, mode="jax")
    >>> out = f([0.0, 1.0])
    >>> str(out.dtype), np.round(np.asarray(out), 4).tolist()
    ('float64', [2.0, 5.4366])
    """
    from gnomon.backends.jax.random import RandomJaxThunk, has_generators

    # random generators at the boundary become JAX keys
    thunk = RandomJaxThunk(program) if has_generators(program) else JaxThunk(program)
    # JAX arrays are immutable: outputs never alias an input the user could mutate; shared
    # variables may hold JAX arrays (from earlier updates) and need no host copy.
    return CompiledProgram(run=thunk, outputs_never_alias=True, input_filter=thunk.input_filter,
                           accepts_foreign_arrays=True, jax_fn=jax_fn, state=thunk)


# --- inputs ----------------------------------------------------------------------------------


def make_input_filter(ttype: Any) -> Callable[..., Any]:
    """Return ``filter(value, *, name, allow_downcast)`` for an input of type ``ttype``.

    NumPy arrays and Python values go through ``ttype.filter`` (the same checks as every
    backend); JAX arrays are checked (dtype, rank, static shape) and kept on their device.
    """
    base = ttype.filter
    if not isinstance(ttype, TensorType):
        return base
    np_dtype, ndim = ttype.numpy_dtype, ttype.ndim
    known = tuple((i, s) for i, s in enumerate(ttype.shape) if s is not None)

    def filt(value: Any, *, name: str = "input", allow_downcast: bool = False) -> Any:
        # Fast path (checked per call, so it matters): an array of exactly this type passes.
        t = type(value)
        if (t is np.ndarray or isinstance(value, jax.Array)) and value.dtype == np_dtype \
                and value.ndim == ndim and all(value.shape[i] == s for i, s in known):
            return value
        if isinstance(value, jax.Array):
            return filter_jax_array(ttype, value, name=name, allow_downcast=allow_downcast)
        return base(value, name=name, allow_downcast=allow_downcast)

    return filt


def filter_jax_array(
    ttype: TensorType, value: Any, *, name: str = "input", allow_downcast: bool = False
) -> Any:
    """Check a JAX array against ``ttype`` like :meth:`TensorType.filter` checks NumPy arrays.

    A lossless dtype conversion happens on the array's device; a lossy one raises unless
    ``allow_downcast``.
    """
    dtype = np.dtype(value.dtype)
    if dtype.name != ttype.dtype:
        ok = allow_downcast or np.can_cast(dtype, ttype.dtype, casting="safe")
        with x64_context():
            converted = value.astype(ttype.dtype)
            if not ok and dtype.kind in "iub" and ttype.dtype.startswith("float") and not \
                    is_tracer(value):
                # Integers that the float type holds exactly are fine, as for NumPy inputs.
                ok = bool(jnp.array_equal(converted.astype(dtype), value))
        if not ok:
            raise GnomonTypeError(
                f"{name} has type {ttype} but got a JAX array of dtype {dtype.name}; converting "
                f"it to {ttype.dtype} could lose information.\n"
                f"Hint: convert it yourself (value.astype('{ttype.dtype}')), or compile with "
                f"gnomon.function(..., allow_input_downcast=True) to allow lossy conversion."
            )
        value = converted
    ttype.check_shape(tuple(value.shape), name)
    return value


# --- the JAX callable for users ------------------------------------------------------------


def _thunk_of(f: Function) -> JaxThunk:
    thunk = f.compiled.state
    if not isinstance(thunk, JaxThunk):
        raise GnomonValueError(with_hint(
            f"{f!r} was not compiled with mode='jax'",
            "compile it with gnomon.function(..., mode='jax'), or use "
            "gnomon.backends.jax.to_jax(outputs, inputs)",
        ))
    return thunk


def numpy_outputs(f: Function, enable: bool = True) -> Function:
    """Make the ``mode='jax'`` function ``f`` return NumPy arrays (``enable=False``: JAX arrays,
    the default). Returns ``f``.

    The arrays are writable copies. Update values of shared variables are converted too (they
    are then stored as NumPy arrays, which every backend reads).

    Examples
    --------
    >>> import gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> f = numpy_outputs(gnomon.function([x], x + 1, mode="jax"))
    >>> type(f([1.0, 2.0])).__name__
    'ndarray'
    """
    _thunk_of(f).numpy_outputs = enable
    return f


def jax_fn(f: Function) -> Callable[..., Any]:
    """The JAX-callable computing the ``mode='jax'`` function ``f``'s outputs (not its updates).

    It takes one array per input of ``f`` and returns what ``f`` returns (one array, or a list).
    It is a pure JAX function: compose it with ``jax.jit``, ``jax.grad``, ``jax.vmap``. Shared
    variables are read when it is called -- or traced, if you ``jax.jit`` it yourself, which
    bakes in their values; list them among the inputs to pass them explicitly. It runs under
    *your* JAX settings: a float64 graph needs ``jax.enable_x64`` (a clear error says so).

    Examples
    --------
    >>> import jax, gnomon, gnomon.tensor as gt
    >>> x = gt.vector("x", dtype="float32")
    >>> g = jax.grad(jax_fn(gnomon.function([x], gt.sum(x * x), mode="jax")))
    >>> np.asarray(g(np.array([1.0, 2.0], dtype="float32"))).tolist()
    [2.0, 4.0]
    """
    thunk = _thunk_of(f)
    return _callable(thunk, list(f.inputs), len(f.outputs), f._single, list(f._shared))


def to_jax(
    outputs: Any, inputs: Sequence[Variable], **function_kwargs: Any
) -> Callable[..., Any]:
    """Compile ``outputs`` as a function of ``inputs`` to a pure JAX callable.

    The rewrites of ``mode='jax'`` run first, as for :func:`gnomon.function` (which takes the
    same keyword arguments, e.g. ``givens``). See :func:`jax_fn` for how the callable behaves.

    Examples
    --------
    >>> import jax, gnomon.tensor as gt
    >>> x = gt.vector("x", dtype="float32")
    >>> f = to_jax(gt.sum(gt.exp(x)), [x])
    >>> xs = np.zeros((3, 2), dtype="float32")
    >>> np.asarray(jax.vmap(f)(xs)).tolist()
    [2.0, 2.0, 2.0]
    """
    import gnomon

    kwargs = {"on_unused_input": "ignore", **function_kwargs, "mode": "jax"}
    return jax_fn(gnomon.function(list(inputs), outputs, **kwargs))


def _callable(
    thunk: JaxThunk, inputs: list[Variable], n_out: int, single: bool, shared: list[Any]
) -> Callable[..., Any]:
    types = [v.type for v in inputs]
    names = [v.name or f"input {i}" for i, v in enumerate(inputs)]
    inner = jax.jit(thunk.jax_fn)

    def call(*xs: Any) -> Any:
        if len(xs) != len(types):
            raise GnomonTypeError(
                f"this JAX function takes {len(types)} argument(s) ({', '.join(names)}), "
                f"got {len(xs)}"
            )
        args = [_coerce(x, t, nm) for x, t, nm in zip(xs, types, names, strict=True)]  # type: ignore[arg-type]
        args += [jnp.asarray(s.get_value(borrow=True)) for s in shared]
        outs = inner(*args)[:n_out]
        return outs[0] if single else list(outs)

    return call


def _coerce(x: Any, t: TensorType, name: str) -> Any:
    # Arguments become JAX values (so they are traced, never folded with NumPy) of the input's
    # dtype; under the user's JAX settings, a 64-bit dtype needs x64 mode.
    a = x if isinstance(x, jax.Array) else jnp.asarray(np.asarray(x))
    if a.dtype != t.dtype:
        a = a.astype(t.dtype)
        if a.dtype != t.dtype:
            raise x64_error(t.dtype, name)
    if a.ndim != t.ndim:
        raise GnomonTypeError(
            f"{name} expects {t.ndim} dimension(s) ({t}), got shape {tuple(a.shape)}.\n"
            "Hint: reshape the value (jax.vmap maps over a leading axis for you)."
        )
    return a
