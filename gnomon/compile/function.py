"""``gnomon.function``: from symbolic inputs and outputs to a Python callable.

The steps, in order: substitute ``givens``; collect shared variables and ``updates``; run the
rewrite pipeline of the mode; schedule; let the backend compile the program; wrap it in a
:class:`Function` that checks inputs, applies updates atomically (also across threads) and never
returns or stores an array that aliases an input, a constant or a shared variable's storage.
"""

from __future__ import annotations

import functools
import operator
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gnomon.compile.compiled import CompiledProgram, EntryPoint
from gnomon.compile.filters import input_filter
from gnomon.compile.io import In, Out
from gnomon.compile.maker import FunctionMaker
from gnomon.compile.mode import Mode, get_mode
from gnomon.compile.schedule import Program, schedule
from gnomon.compile.shared import SharedVariable, TensorSharedVariable
from gnomon.config import config
from gnomon.errors import (
    GnomonTypeError,
    GnomonValueError,
    MissingInputError,
    UnusedInputError,
    with_hint,
)
from gnomon.graph.basic import Constant, Variable, internal_construction, ordered
from gnomon.graph.replace import graph_replace
from gnomon.graph.traversal import graph_inputs
from gnomon.rewrite.pipeline import rewrite_for_mode


class _CallSlot(property):
    """``Function.__call__``: the getter (C code) returns the function's ``_call``, which the
    call then runs. Callable itself, so that ``Function.__call__(f, ...)`` and
    ``inspect.signature(f)`` work as for a method."""

    def __call__(self, function: Function, *args: Any, **kwargs: Any) -> Any:
        return function._call(*args, **kwargs)


class Function:
    """A compiled function. Call it with values for its inputs, positionally or by name.

    Attributes
    ----------
    inputs, outputs : list of Variable
        The symbolic inputs and the outputs as given by the user.
    program : Program
        The scheduled graph after rewriting (what ``debugprint(f)`` shows).
    compiled : CompiledProgram
        What the backend compiled (``compiled.state`` is the backend's own object).
    mode : Mode
    trust_input : bool
        Skip input checks and conversions (faster calls; wrong values give wrong results or
        crashes, so only set it for values you have checked).

    Notes
    -----
    *Threads.* A function may be called from many threads at once. A call with ``updates``
    holds the lock of every shared variable it reads or updates from reading their values to
    writing the new ones, so concurrent calls (of this function or of others sharing a
    variable) never lose an update; a call without updates takes no lock.

    *Pickling.* A function pickles as its graph and settings (inputs with their
    :class:`~gnomon.compile.io.In` specs, outputs, updates, mode, ``allow_input_downcast``,
    ``trust_input``) and is compiled again when loaded. Its shared variables come along with
    their values; pickle them together with the function (``pickle.dumps((f, w))``) to keep a
    handle on the loaded ones.

    *Defaults.* An input given as ``In(x, value=v)`` may be left out of a call; ``f[x]`` (or
    ``f["x"]``, by name) reads the default and ``f[x] = w`` changes it.
    """

    def __init__(
        self,
        inputs: list[Variable],
        outputs: list[Variable],
        single: bool,
        updates: list[tuple[SharedVariable, Variable]],
        program: Program,
        compiled: CompiledProgram,
        mode: Mode,
        allow_input_downcast: bool,
        shared_inputs: list[SharedVariable],
        rewrite_trace: list[Any],
        in_specs: list[In] | None = None,
    ) -> None:
        specs = in_specs if in_specs is not None else [In(v) for v in inputs]
        self._in_specs = specs
        self.inputs = inputs
        self.outputs = outputs
        self.updates = updates
        self.program = program
        self.mode = mode
        self._trust = False
        self.rewrite_trace = rewrite_trace
        self.compiled = compiled
        self._single = single
        self._execute = compiled.run
        self._n_out = len(outputs)
        self._shared = shared_inputs
        self._update_targets = [s for s, _ in updates]
        self._allow_downcast = allow_input_downcast
        self._names = {sp.name: i for i, sp in enumerate(specs) if sp.name}
        # one default per input (_MISSING where a call must pass it)
        self._defaults: list[Any] = [sp.value if sp.has_default else _MISSING for sp in specs]
        # Backends whose outputs are immutable (JAX arrays) or freshly allocated by a memory
        # plan that never aliases inputs say so (``outputs_never_alias``). For the others (the
        # reference backend, Numba with Python fallbacks) results are copied where the graph
        # says they may alias an input, a constant or an earlier result (``view_map``), and
        # every call checks the memory of the rest (an op's ``perform`` may return an
        # undeclared view).
        never_alias = compiled.outputs_never_alias
        copies = [False] * len(program.outputs) if never_alias else program.outputs_needing_copy()
        self._copy_idx = [i for i, c in enumerate(copies) if c]
        self._check_overlap = not never_alias and bool(program.outputs)
        # A backend may accept its own array types (JAX arrays) without a host copy.
        filt = compiled.input_filter
        self._filters = [
            (filt(v.type) if filt else v.type.filter, v.name or f"input {i} ({v.type})")
            for i, v in enumerate(inputs)
        ]
        # One bound checker per input, so a call does no keyword plumbing.
        self._checkers = [
            _strict_checker(v.type, nm) if sp.strict else functools.partial(
                f, name=nm, allow_downcast=allow_input_downcast if sp.allow_downcast is None
                else sp.allow_downcast)
            for (f, nm), v, sp in zip(self._filters, inputs, specs, strict=True)
        ]
        # defaults are checked once, here, with the input's own check
        self._defaults = [d if d is _MISSING else chk(d)
                          for d, chk in zip(self._defaults, self._checkers, strict=True)]
        self._foreign_ok = filt is not None and compiled.accepts_foreign_arrays
        self._locks = _update_locks(shared_inputs, self._update_targets) if updates else ()
        self._plain = not self._copy_idx and not updates and not self._check_overlap
        self._n = len(inputs)
        # The common call in one generated check: every argument an ndarray of its input's
        # dtype, rank and static lengths, which the fast filter would return as it is.
        fast_filter = filt is input_filter and not any(sp.strict for sp in specs)
        self._arg_types = _arg_types(inputs) if fast_filter else None
        self._fast_check = _fast_check(inputs, specs) if fast_filter else None
        # Calls of a plain function (no updates, shared inputs or copies) go straight to the
        # backend's entry point once it has one (CompiledProgram.direct), behind the checks
        # (_direct_call); ``_find_direct`` asks the backend for it after calls on the usual
        # path, until it has one.
        self._entry: EntryPoint | None = None
        self._find_direct = (compiled.direct if self._plain and not shared_inputs else None)
        self._usual = _usual_call(weakref.ref(self))

    # ``f(*args)`` is ``f._call(*args)``: the generated direct call once there is one (see
    # _direct_call; an attribute of the instance), else the usual path (the method
    # ``_call_usual``). A property whose getter is C code (attrgetter), so a direct call runs
    # no Python frame of Function's own: ~0.1 us of the ~1 us of a trust_input call of
    # ``a + b``.
    __call__ = _CallSlot(operator.attrgetter("_call"),
                         doc="Call the function with one value per input, positionally or by "
                             "name (see the class docstring).")

    @property
    def trust_input(self) -> bool:
        """Skip input checks and conversions: faster calls, but a wrong value gives a wrong
        result or a crash, so only set it for values you have checked (ndarrays of the
        inputs' dtypes, ranks and static lengths; any memory layout). A value that is not an
        ndarray is passed on unconverted: a Numba program cannot type it and falls back to
        the NumPy reference backend for good (with a warning)."""
        return self._trust

    @trust_input.setter
    def trust_input(self, value: bool) -> None:
        self._trust = bool(value)
        self._set_call()

    def _set_call(self) -> None:
        """``f._call``: the direct call for the current ``trust_input`` where there is one,
        else the method ``_call_usual`` (not stored: a bound method of itself would make the
        function a reference cycle, freed only by the garbage collector)."""
        direct = self._direct_call()
        if direct is not None:
            self._call = direct
        else:
            self.__dict__.pop("_call", None)

    def _call_usual(self, *args: Any, **kwargs: Any) -> Any:
        """A call that the direct call does not take (or any call before there is one)."""
        if not kwargs and len(args) == self._n:
            if self._trust:
                values = list(args)
            else:
                fc = self._fast_check
                checked = fc(args) if fc is not None else None
                values = checked if checked is not None else [
                    f(a) for f, a in zip(self._checkers, args)]
            if self._plain and not self._shared:
                results = self._execute(values)
                find = self._find_direct
                if find is not None:
                    self._look_for_direct(find)
                return results[0] if self._single else results
            return self._call_values(values)
        n = self._n
        # (identity, not ``in``: ``in`` compares with ==, which an array default answers
        # with an array)
        if kwargs or (len(args) < n and not any(
                d is _MISSING for d in self._defaults[len(args):])):
            args = self._bind_kwargs(args, kwargs)
        elif len(args) != n:
            raise GnomonTypeError(with_hint(
                f"this function takes {n} argument(s) ({self._signature()}), got {len(args)}",
                "pass one value per input, in the order of gnomon.function's inputs list",
            ))
        if self._trust:
            values = list(args)
        else:
            values = [f(a) for f, a in zip(self._checkers, args)]
        return self._call_values(values)

    _call: Callable[..., Any] = _call_usual

    def _look_for_direct(self, find: Callable[[], EntryPoint | None]) -> None:
        """Ask the backend for its entry point (``find``: ``CompiledProgram.direct``), after
        a call made on the usual path, which compiles what the entry point needs; stop asking
        once it has one. (Threads may do this at once: each finds the same.)"""
        entry = find()
        if entry is not None:
            self._entry = entry
            self._find_direct = None
            self._set_call()

    def _direct_call(self) -> Callable[..., Any] | None:
        """``call(*args, **kwargs)``: the backend's entry point (``self._entry``) for the
        arguments that pass every check the usual path makes of an argument it passes on
        unchanged (an ndarray of the input's dtype, rank and static lengths; with
        ``trust_input`` an ndarray) and the memory layout the entry point needs
        (``EntryPoint.flags``); anything else takes the usual path, which converts it or
        says what is wrong. So does a call whose entry point raises: the usual path gives the
        same error, with its explanation (programs have no side effects to repeat).

        A C object where the backend offers one (``EntryPoint.native``: for ``a + b`` on two
        10-vectors its tests and call of the entry point take ~500 instructions, around the
        entry point's ~5,500), else a generated Python function with the same decisions
        (:func:`_python_direct`, ~3,000 instructions, ~0.3 us more). None where
        there is no entry point (yet)."""
        e = self._entry
        if e is None:
            return None
        types = None
        if not self._trust:
            if self._arg_types is None:  # strict inputs, a backend's own filter
                return None
            types = self._arg_types
        if e.native is not None and config.native_call:
            native = e.native(e, self._usual, self._single, types)
            if native is not None:
                return native
        return _python_direct(e, self._usual, self._single, self._n, types)

    def _call_values(self, values: list[Any]) -> Any:
        """The call once the arguments are checked (``values``: one per input)."""
        if not self._plain:
            return self._call_locked(values) if self._locks else self._run(values)
        # No copies, no updates, no lock: the hot path of small functions.
        if self._shared:
            shared_vals = [s._value for s in self._shared]
            if not self._foreign_ok:
                # A shared value may hold another backend's array (a JAX update): convert it.
                shared_vals = [v if type(v) is np.ndarray or not _is_array_like(v)
                               else np.asarray(v) for v in shared_vals]
            values.extend(shared_vals)
        results = self._execute(values)
        return results[0] if self._single else results

    def _call_locked(self, values: list[Any]) -> Any:
        """A call with updates: :meth:`_run` under the locks of its shared variables."""
        locks = self._locks
        if len(locks) == 1:
            with locks[0]:
                return self._run(values)
        held = 0
        try:
            for lock in locks:
                lock.acquire()
                held += 1
            return self._run(values)
        finally:
            for lock in reversed(locks[:held]):
                lock.release()

    def _run(self, values: list[Any]) -> Any:
        # Reading the shared values, running and writing the updates is one step: with updates
        # the caller holds the locks of every shared variable read or written, so a concurrent
        # call cannot write between this call's read and its write (no lost update).
        if self._shared:
            shared_vals = [s._value for s in self._shared]
            if not self._foreign_ok:
                shared_vals = [v if type(v) is np.ndarray or not _is_array_like(v)
                               else np.asarray(v) for v in shared_vals]
            values.extend(shared_vals)
        results = self._execute(values)
        for i in self._copy_idx:
            results[i] = np.array(results[i], copy=True)
        if self._check_overlap:
            _separate(results, values)
        outs = results[: self._n_out]
        if self._update_targets:
            # Atomic: every output is computed before any shared value changes.
            for s, v in zip(self._update_targets, results[self._n_out:], strict=True):
                s._value = v
        return outs[0] if self._single else outs

    def __reduce__(self) -> tuple[Any, ...]:
        # The recipe, not the compiled code (closures, jitted functions): the user's graph
        # (not the rewritten program), compiled again when loaded, which Numba's disk cache
        # makes fast. Shared variables pickle with their values.
        targets = [*self.outputs, *(u for _, u in self.updates)]
        specs = [_spec_state(sp, d) for sp, d in zip(self._in_specs, self._defaults,
                                                      strict=True)]
        recipe = (self.inputs, self.outputs, self._single, self.updates, self.mode,
                  self._allow_downcast, self.trust_input, specs)
        return (_unpickle_function, ordered(targets, recipe))

    @property
    def jax_fn(self) -> Callable[..., Any]:
        """For ``mode='jax'``: the pure JAX callable of this function's outputs (see
        :func:`gnomon.backends.jax.linker.jax_fn`)."""
        if self.compiled.jax_fn is None:
            raise AttributeError(
                f"jax_fn is only available for mode='jax' functions; this one is "
                f"mode={self.mode.backend!r}.\nHint: compile with gnomon.function(..., mode='jax')."
            )
        return self.compiled.jax_fn(self)

    def _bind_kwargs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        vals: list[Any] = list(args) + [_MISSING] * (len(self.inputs) - len(args))
        if len(args) > len(self.inputs):
            raise GnomonTypeError(f"too many arguments: expected {self._signature()}")
        for k, v in kwargs.items():
            if k not in self._names:
                raise GnomonTypeError(with_hint(
                    f"unexpected keyword argument {k!r}; inputs are ({self._signature()})",
                    "name inputs when you create them, e.g. gt.dvector('x')",
                ))
            i = self._names[k]
            if vals[i] is not _MISSING:
                raise GnomonTypeError(f"got two values for input {k!r}")
            vals[i] = v
        vals = [self._defaults[i] if v is _MISSING else v for i, v in enumerate(vals)]
        missing = [self._label(i) for i, v in enumerate(vals) if v is _MISSING]
        if missing:
            raise GnomonTypeError(f"missing value for input(s) {', '.join(missing)}")
        return tuple(vals)

    def _label(self, i: int) -> str:
        return self._in_specs[i].name or f"#{i}"

    def _signature(self) -> str:
        return ", ".join(f"{self._label(i)}: {v.type}" for i, v in enumerate(self.inputs))

    def __getitem__(self, key: Any) -> Any:
        """The default value of an input (by variable or name), as ``In(x, value=...)`` set."""
        i = self._input_index(key)
        if self._defaults[i] is _MISSING:
            raise KeyError(f"input {self._label(i)} has no default value")
        return self._defaults[i]

    def __setitem__(self, key: Any, value: Any) -> None:
        """Set (or give) the default value of an input (by variable or name)."""
        i = self._input_index(key)
        self._defaults[i] = self._checkers[i](value)

    def _input_index(self, key: Any) -> int:
        if isinstance(key, In):
            key = key.variable
        if isinstance(key, str):
            if key in self._names:
                return self._names[key]
        elif isinstance(key, Variable):
            for i, v in enumerate(self.inputs):
                if v is key:
                    return i
        raise KeyError(f"{key!r} is not an input of this function ({self._signature()})")

    @property
    def maker(self) -> FunctionMaker:
        """PyTensor's ``f.maker``: ``f.maker.fgraph`` is the graph after rewriting
        (:class:`~gnomon.compile.maker.FunctionGraphView`: ``inputs``, ``outputs``,
        ``apply_nodes``, ``toposort()``), ``f.maker.inputs`` the :class:`In` specs."""
        from gnomon.compile.maker import FunctionGraphView, FunctionMaker

        fg = FunctionGraphView(self.program, self._n_out, list(self._update_targets))
        return FunctionMaker(fg, list(self._in_specs), list(self.outputs), self.mode)

    def copy(
        self,
        share_memory: bool = False,
        swap: Mapping[SharedVariable, SharedVariable] | None = None,
        delete_updates: bool = False,
        name: str | None = None,
        profile: Any = None,
    ) -> Function:
        """A copy of this function (PyTensor's ``Function.copy``).

        Parameters
        ----------
        share_memory : bool
            Accepted for PyTensor's sake (PyTensor then shares intermediate buffers); gnomon's
            functions keep no buffers between calls, so it changes nothing.
        swap : dict of SharedVariable to SharedVariable, optional
            Shared variables of this function to replace, in the copy only, by others of the
            same type: the copy reads and updates those instead (the graph is compiled again).
        delete_updates : bool
            The copy applies no updates (compiled again without them).
        name, profile
            Accepted and ignored.

        Without ``swap`` and ``delete_updates`` the copy reuses this function's compiled
        program and its shared variables; its input defaults are its own.

        Examples
        --------
        >>> import numpy as np, gnomon, gnomon.tensor as gt
        >>> state, inc = gnomon.shared(0.0), gt.dscalar("inc")
        >>> acc = gnomon.function([inc], state, updates=[(state, state + inc)], mode="numpy")
        >>> other = gnomon.shared(0.0)
        >>> acc2 = acc.copy(swap={state: other})
        >>> _ = acc2(5.0); float(other.get_value()), float(state.get_value())
        (5.0, 0.0)
        """
        if not swap and not delete_updates:
            f = object.__new__(Function)
            f.__dict__.update(self.__dict__)
            f._defaults = list(self._defaults)
            return f
        repl: dict[Variable, Variable] = {k: v for k, v in (swap or {}).items()}
        for old, new in repl.items():
            if not isinstance(old, SharedVariable) or not isinstance(new, SharedVariable):
                raise GnomonTypeError(with_hint(
                    f"copy(swap=...) maps shared variables to shared variables; got {old!r} -> "
                    f"{new!r}", "write f.copy(swap={old_shared: gnomon.shared(value)})"))
            if old not in self._shared and old not in self._update_targets:
                raise GnomonValueError(f"copy(swap=...): {old} is not a shared variable of this "
                                       "function")
            if new.type != old.type:
                raise GnomonTypeError(f"copy(swap=...): {new} has type {new.type}, but {old} "
                                      f"has type {old.type}")
        updates = [] if delete_updates else list(self.updates)
        targets = [*self.outputs, *(u for _, u in updates)]
        if repl:
            with internal_construction():
                targets = graph_replace(targets, repl)
        outs = targets[: self._n_out]
        new_targets = [swap.get(s, s) if swap else s for s, _ in updates]
        new_updates = list(zip(new_targets, targets[self._n_out:], strict=True))
        ins = [In(v, **_spec_state(sp, d)) for v, sp, d in zip(self.inputs, self._in_specs,
                                                              self._defaults, strict=True)]
        f = function(ins, outs[0] if self._single else outs, updates=new_updates,
                     mode=self.mode, on_unused_input="ignore",
                     allow_input_downcast=self._allow_downcast, no_default_updates=True)
        f.trust_input = self.trust_input
        return f

    def __repr__(self) -> str:
        return f"<gnomon.Function ({self._signature()}) -> {len(self.outputs)} output(s), " \
               f"mode={self.mode.backend}>"


_MISSING = object()


def _is_array_like(v: Any) -> bool:
    # shared values that are not arrays: JAX arrays (converted) or generators (passed as is)
    return not isinstance(v, np.random.Generator)


def _update_locks(
    shared_inputs: Sequence[SharedVariable], targets: Sequence[SharedVariable]
) -> tuple[Any, ...]:
    """The locks a call with updates holds: one per shared variable it reads or writes.

    Per shared variable rather than per function, so that two functions updating the same
    variable exclude each other too; and reads are locked as well as writes, so that calls with
    updates are serializable (``a <- b`` and ``b <- a`` run concurrently cannot both read the
    old values). Locks are taken in creation order (``_uid``, unique and increasing), one order
    for every function, so two calls never wait for each other in a cycle.
    """
    by_id = {id(s): s for s in [*shared_inputs, *targets]}
    return tuple(s._lock for s in sorted(by_id.values(), key=lambda s: s._uid))


def _separate(results: list[Any], values: Sequence[Any]) -> None:
    """Copy, in place, each result that may share memory with an argument, a shared value or an
    earlier result (outputs come before update values in ``results``).

    A result that owns its memory (``base is None``) can only alias an array that *is* it (an
    argument returned as is) or a view of it, and a view of a new result can only be a later
    result, which is checked in turn; so only views pay for ``np.may_share_memory`` (a bounds
    comparison) against the other arrays.
    """
    seen = {id(v) for v in values}
    for k, r in enumerate(results):
        if not isinstance(r, np.ndarray):
            continue
        if id(r) in seen or (r.base is not None and any(
                isinstance(a, np.ndarray) and np.may_share_memory(r, a)
                for a in (*values, *results[:k]))):
            r = results[k] = r.copy()
        seen.add(id(r))


def _spec_state(spec: In, default: Any) -> dict[str, Any]:
    """The keyword arguments rebuilding ``spec`` (with its current default)."""
    out: dict[str, Any] = {"name": spec.name, "mutable": spec.mutable, "strict": spec.strict,
                           "allow_downcast": spec.allow_downcast, "borrow": spec.borrow}
    if default is not _MISSING:
        out["value"] = default
    return out


def _usual_call(ref: weakref.ref[Function]) -> Callable[..., Any]:
    """``Function._call_usual`` of the function ``ref`` refers to, without a reference to it
    (a function's ``_call`` holding a bound method would make every function a cycle, freed
    only by the garbage collector)."""
    def usual(*args: Any, **kwargs: Any) -> Any:
        f = ref()
        assert f is not None  # (a caller holds it)
        return f._call_usual(*args, **kwargs)

    return usual


#: (dtype, static shape) of an argument: an ndarray of exactly this dtype object and rank, with
#: these lengths where they are not None
ArgType = tuple[np.dtype[Any], tuple[int | None, ...]]


def _arg_types(inputs: Sequence[Variable]) -> list[ArgType] | None:
    """Per input, the dtype and static shape of the ndarrays that
    :func:`~gnomon.compile.filters.input_filter` returns as they are; None where an input is
    not an array type."""
    found = []
    for v in inputs:
        t: Any = v.type
        if not hasattr(t, "dtype"):
            return None
        found.append((np.dtype(t.dtype), tuple(t.shape)))
    return found


def _type_tests(types: Sequence[ArgType]) -> tuple[list[str], dict[str, Any]]:
    """The tests that argument ``a{k}`` is an ndarray of exactly the type ``types[k]`` (an
    equal dtype, the rank and static lengths), as Python expressions, and the names they
    use."""
    env: dict[str, Any] = {"_nd": np.ndarray}
    tests = []
    for k, (dtype, shape) in enumerate(types):
        env[f"d{k}"] = dtype
        # (the dtype object, or an equal one: arrays made by compiled code loaded from a
        # cache carry an unpickled copy of float64's, which the full check passes unchanged)
        tests += [f"type(a{k}) is _nd", f"(a{k}.dtype is d{k} or a{k}.dtype == d{k})",
                  f"a{k}.ndim == {len(shape)}"]
        tests += [f"a{k}.shape[{i}] == {s}" for i, s in enumerate(shape) if s is not None]
    return tests, env


def _python_direct(e: EntryPoint, usual: Callable[..., Any], single: bool, n: int,
                   types: Sequence[ArgType] | None) -> Callable[..., Any]:
    """``Function._direct_call`` as a generated Python function: the entry point ``e`` for
    ``n`` positional arguments each an ndarray of its type in ``types`` (or, with ``types``
    None, an ndarray or subclass) with the flags ``e.flags`` names, ``usual`` for any other
    call, or when the entry point raises. The same decisions as the C object of
    :func:`gnomon.backends.native_call.caller` (the fallback where there is none)."""
    tests: list[str] = []
    env: dict[str, Any] = {"_entry": e.call, "_usual": usual, "_nd": np.ndarray}
    if types is not None:
        type_tests, type_env = _type_tests(types)
        tests += type_tests
        env.update(type_env)
    for k, flags in enumerate(e.flags):
        if types is None:
            tests.append(f"isinstance(a{k}, _nd)")
        tests += [f"a{k}.flags.{name}" for name in flags]
    names = [f"a{k}" for k in range(n)]
    env.update({f"_c{j}": c for j, c in enumerate(e.extra)})
    env["_M"] = _MISSING
    call = f"_entry({', '.join(names + [f'_c{j}' for j in range(len(e.extra))])})"
    ret = f"{call}[0]" if single else f"list({call})"
    # Positional-only parameters with a default (a keyword argument named like one goes to
    # ``kw``, and a call with fewer arguments binds), cheaper than unpacking ``*args``: the
    # last one given means all are.
    params = "".join(f"{a}=_M, " for a in names) + ("/, " if names else "")
    given = [f"{names[-1]} is not _M"] if names else []
    cond = " and ".join(["not rest", "not kw", *given, *tests])
    src = (f"def call({params}*rest, **kw):\n"
           f"    if {cond}:\n"
           "        try:\n"
           f"            return {ret}\n"
           "        except Exception:\n"
           "            pass\n"
           f"    return _usual({''.join(f'*(() if {a} is _M else ({a},)), ' for a in names)}"
           "*rest, **kw)\n")
    exec(compile(src, "<gnomon direct call>", "exec"), env)
    return env["call"]  # type: ignore[no-any-return]


def _fast_check(inputs: Sequence[Variable], specs: Sequence[Any]) -> Callable[..., Any] | None:
    """``check(args) -> list | None``: the arguments as a list when each is an ndarray that
    :func:`~gnomon.compile.filters.input_filter` would accept as it is (an equal dtype, the
    rank and static lengths), else None (the per-input checks then convert or explain).
    One generated function with the tests inlined: a call of ``a + b`` checks its two
    arguments in ~0.1 us instead of two checker calls with keyword arguments (~0.6 us)."""
    types = _arg_types(inputs) if inputs and not any(
        getattr(sp, "strict", False) for sp in specs) else None
    if types is None:
        return None
    tests, env = _type_tests(types)
    names = ", ".join(f"a{k}" for k in range(len(inputs)))
    src = (f"def check(args):\n    ({names},) = args\n"
           f"    if {' and '.join(tests)}:\n        return [{names}]\n    return None\n")
    exec(compile(src, "<gnomon input check>", "exec"), env)
    return env["check"]  # type: ignore[no-any-return]


def _strict_checker(t: Any, name: str) -> Callable[[Any], Any]:
    """``In(x, strict=True)``: only values already of the input's type, no conversion."""
    def check(value: Any) -> Any:
        if not t.is_valid_value(value):
            got = (f"a {value.dtype} array with {value.ndim} dimension(s)"
                   if isinstance(value, np.ndarray) else f"a {type(value).__name__}")
            raise GnomonTypeError(with_hint(
                f"{name} is strict (In(..., strict=True)) and takes values of type {t} only; "
                f"got {got}", f"pass np.asarray(value, dtype='{getattr(t, 'dtype', '?')}') "
                "or drop strict=True"))
        return value
    return check


def _unpickle_function(order: None, recipe: tuple[Any, ...], end: None) -> Function:
    """Compile a pickled :class:`Function` again (see :meth:`Function.__reduce__`)."""
    inputs, outputs, single, updates, mode, allow_input_downcast, trust_input = recipe[:7]
    specs = recipe[7] if len(recipe) > 7 else [{} for _ in inputs]
    ins = [In(v, **sp) for v, sp in zip(inputs, specs, strict=True)]
    # ``updates`` holds the default updates the original took, and only those
    f = function(ins, outputs[0] if single else outputs, updates=updates, mode=mode,
                 on_unused_input="ignore", allow_input_downcast=allow_input_downcast,
                 no_default_updates=True)
    f.trust_input = trust_input
    return f


def _as_outputs(outputs: Any) -> tuple[list[Variable], bool]:
    from gnomon.tensor.basic import as_tensor

    if outputs is None:
        return [], False
    # Out(x, borrow=...) stands for x: gnomon always returns arrays the caller owns
    unwrap = (lambda o: o.variable if isinstance(o, Out) else o)  # noqa: E731
    # variables of other types (random generators) are outputs as they are
    if isinstance(outputs, list | tuple):
        return [o if isinstance(o, Variable) else as_tensor(o)
                for o in map(unwrap, outputs)], False
    outputs = unwrap(outputs)
    return [outputs if isinstance(outputs, Variable) else as_tensor(outputs)], True


def _as_pairs(x: Any, what: str) -> list[tuple[Any, Any]]:
    if x is None:
        return []
    if isinstance(x, Mapping):
        return list(x.items())
    pairs = list(x)
    for p in pairs:
        if not (isinstance(p, tuple | list) and len(p) == 2):
            raise GnomonTypeError(
                f"{what} must be a dict or a list of (variable, new_value) pairs; got {p!r}"
            )
    return [tuple(p) for p in pairs]


def function(
    inputs: Sequence[Variable | In],
    outputs: Any = None,
    *,
    updates: Any = None,
    givens: Any = None,
    mode: Any = None,
    on_unused_input: str | None = None,
    allow_input_downcast: bool = False,
    name: str | None = None,
    no_default_updates: bool | Sequence[SharedVariable] = False,
) -> Function:
    """Compile a function from symbolic ``inputs`` to ``outputs``.

    Parameters
    ----------
    inputs : list of Variable or In
        Root variables the caller provides, in call order. Shared variables are not listed:
        their current value is read on each call. :class:`~gnomon.compile.io.In` gives an input
        a default value, a keyword name or ``strict`` checking.
    outputs : Variable or list of Variable (or Out)
        A single variable gives a function returning one array; a list, a list of arrays.
    updates : dict or list of (SharedVariable, Variable)
        New values for shared variables, applied after all outputs are computed.
    givens : dict or list of (Variable, Variable)
        Substitutions made in the graph before compiling.
    mode : str or Mode
        ``'numba'`` (the default when installed), ``'numpy'`` (the reference), ``'jax'``, or a
        :class:`gnomon.Mode` with rewrites included or excluded.
    on_unused_input : {'raise', 'warn', 'ignore'}
        What to do with an input the outputs do not need (default ``config.on_unused_input``).
    allow_input_downcast : bool
        Convert arguments to the input dtype even when that loses precision.
    no_default_updates : bool or list of SharedVariable
        Leave out the ``default_update`` of every shared variable (``True``) or of those listed
        (see :mod:`gnomon.compile.updates`; random generators use them to advance at each call).

    Examples
    --------
    >>> import gnomon, gnomon.tensor as gt
    >>> a, b = gt.dscalar("a"), gt.dscalar("b")
    >>> f = gnomon.function([a, b], a + b, mode="numpy")
    >>> float(f(1.5, 2.5))
    4.0
    """

    on_unused_input = on_unused_input or config.on_unused_input
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise GnomonValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', not "
                               f"{on_unused_input!r}")
    given: Any = [inputs] if isinstance(inputs, In) else inputs  # PyTensor takes a single In
    if isinstance(given, Variable):
        _check_inputs(given)  # the error for a single variable
    in_specs = [x if isinstance(x, In) else In(x) if isinstance(x, Variable) else x
                for x in given]
    inputs = _check_inputs([x.variable if isinstance(x, In) else x for x in in_specs])
    outs, single = _as_outputs(outputs)
    update_pairs = _check_updates(_as_pairs(updates, "updates"))
    m = get_mode(mode)

    # 1. givens
    given_pairs = _as_pairs(givens, "givens")
    if given_pairs:
        from gnomon.tensor.basic import as_tensor

        repl = {k: as_tensor(v) for k, v in given_pairs}
        for k in repl:
            if not isinstance(k, Variable):
                raise GnomonTypeError(f"givens keys must be variables, got {k!r}")
        n_out = len(outs)
        all_out = graph_replace(outs + [u for _, u in update_pairs], repl)
        outs = all_out[:n_out]
        update_pairs = [(s, u) for (s, _), u in zip(update_pairs, all_out[n_out:], strict=True)]

    from gnomon.compile.updates import default_updates

    update_pairs += default_updates(outs, update_pairs, no_default_updates)
    targets = outs + [u for _, u in update_pairs]
    # 2. check that every root is provided, and every input used
    _check_roots(inputs, targets, on_unused_input)

    # Nodes that gnomon rebuilds from here on do not record this line as one where the user
    # built them (an error should point at the expression, not at gnomon.function).
    with internal_construction():
        # 3. rewrite
        trace: list[Any] = []
        if m.optimize and targets:
            out, trace = rewrite_for_mode(targets, m)
            targets = list(out)

        # 4. schedule and compile
        shared_inputs = [v for v in graph_inputs(targets) if isinstance(v, SharedVariable)
                         and v not in inputs]
        program = schedule([*inputs, *shared_inputs], targets)
        from gnomon.compile.tiered import compile_program

        compiled = compile_program(program, m, _backend)  # tiered or not (compile/tiered.py)
    return Function(list(inputs), outs, single, update_pairs, program, compiled, m,
                    allow_input_downcast, shared_inputs, trace, in_specs)


def _backend(name: str) -> Any:
    from gnomon.backends import get_backend

    return get_backend(name)


def _check_inputs(given: Any) -> list[Variable]:
    if isinstance(given, Variable):
        raise GnomonTypeError(with_hint(
            "gnomon.function's inputs must be a list of variables, got a single variable",
            f"write gnomon.function([{given}], ...)",
        ))
    inputs: list[Variable] = list(given)
    seen: set[int] = set()
    for i, v in enumerate(inputs):
        if not isinstance(v, Variable):
            raise GnomonTypeError(
                f"input {i} of gnomon.function is a {type(v).__name__}, not a symbolic variable"
            )
        if v.owner is not None:
            raise GnomonTypeError(with_hint(
                f"input {i} ({v}) is computed from other variables, so it cannot be an input",
                "list root variables as inputs, or use givens={expr: value_variable}",
            ))
        if isinstance(v, Constant):
            raise GnomonTypeError(f"input {i} is a constant ({v}); constants cannot be inputs")
        if id(v) in seen:
            raise GnomonValueError(f"input {v} appears twice in the inputs list")
        seen.add(id(v))
    return inputs


def _check_updates(pairs: list[tuple[Any, Any]]) -> list[tuple[SharedVariable, Variable]]:
    from gnomon.tensor.basic import as_tensor

    out: list[tuple[SharedVariable, Variable]] = []
    seen: set[int] = set()
    for s, u in pairs:
        if not isinstance(s, SharedVariable):
            raise GnomonTypeError(with_hint(
                f"updates can only change shared variables, but {s!r} is not one",
                "create it with gnomon.shared(value)",
            ))
        if id(s) in seen:
            raise GnomonValueError(f"shared variable {s} is updated twice")
        seen.add(id(s))
        u = u if isinstance(u, Variable) and not isinstance(s, TensorSharedVariable) \
            else as_tensor(u)
        if u.type != s.type and not isinstance(s, TensorSharedVariable):
            raise GnomonTypeError(f"the update of shared variable {s} has type {u.type}, but {s} "
                                  f"has type {s.type}")
        if u.type != s.type:
            assert isinstance(s, TensorSharedVariable)
            conv = s.type.convert_variable(u) if u.dtype == s.dtype else None
            if conv is None:
                raise GnomonTypeError(with_hint(
                    f"the update of shared variable {s} has type {u.type}, but {s} has type "
                    f"{s.type}",
                    f"cast the new value: (…).astype('{s.dtype}')" if u.ndim == s.ndim else
                    "the new value must have the same number of dimensions",
                ))
        out.append((s, u))
    return out


def _check_roots(inputs: list[Variable], targets: list[Variable], on_unused: str) -> None:
    roots = [v for v in graph_inputs(targets, include_constants=False)
             if not isinstance(v, SharedVariable)]
    given = set(map(id, inputs))
    missing = [v for v in roots if id(v) not in given]
    if missing:
        v = missing[0]
        from gnomon.errors import format_location

        raise MissingInputError(with_hint(
            f"the outputs depend on {v} ({v.type}), which is not among the inputs.\n"
            f"It was created at:\n{format_location(v.trace)}",
            f"add {v} to the inputs list, or replace it with givens={{{v}: ...}}",
        ))
    used = {id(v) for v in roots}
    unused = [v for v in inputs if id(v) not in used]
    if unused:
        # An input the user's expression used before ``grad`` simplified it away is not unused
        # (PyTensor checks the graph before rewriting, where such inputs are still present).
        from gnomon.gradient import derived_roots

        used |= {id(v) for v in derived_roots(targets)}
        unused = [v for v in inputs if id(v) not in used]
    if unused and on_unused != "ignore":
        msg = with_hint(
            f"input(s) {', '.join(str(v) for v in unused)} are not used to compute the outputs",
            "remove them, or pass on_unused_input='ignore' (or 'warn')",
        )
        if on_unused == "raise":
            raise UnusedInputError(msg)
        warnings.warn(msg, stacklevel=3)


# --- Variable.eval ---------------------------------------------------------------------------

_EVAL_CACHE: dict[tuple[Any, ...], Function] = {}


def eval_variable(var: Variable, inputs_to_values: Mapping[Variable, Any], **kw: Any) -> Any:
    """Compile ``var`` for the given inputs (cached) and return its value."""
    keys = tuple(inputs_to_values)
    for k in keys:
        if not isinstance(k, Variable):
            raise GnomonTypeError(
                f"eval() takes a dict from variables to values; got the key {k!r}"
            )
    cache_key = (var, keys, kw.get("mode"))
    f = _EVAL_CACHE.get(cache_key)
    if f is None:
        if len(_EVAL_CACHE) > 256:
            _EVAL_CACHE.clear()
        f = function(list(keys), var, on_unused_input="ignore", **kw)
        _EVAL_CACHE[cache_key] = f
    return f(*[inputs_to_values[k] for k in keys])
