"""The nodes of gnomon's immutable, hash-consed graph: Variable, Constant and Apply.

* A root :class:`Variable` (an input, a shared variable) is a unique object: it is equal only to
  itself.
* A :class:`Constant` is interned by its type and value: ``constant(2.0)`` built twice is the same
  object, so constant merging is free.
* An :class:`Apply` is interned by ``(op, inputs)``: applying an equal op to the same inputs returns
  the node built before, so common-subexpression elimination is free and graphs compare by identity.

Names and source locations are metadata, not identity. Nothing here is mutated after construction
except ``Variable.name`` (a label).
"""

from __future__ import annotations

import contextlib
import contextvars
import copyreg
import functools
import itertools
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from gnomon.errors import SourceLocation, user_location

if TYPE_CHECKING:
    from gnomon.graph.op import Op
    from gnomon.graph.type import Type

_counter = itertools.count()

#: Whether building a node that already exists records the caller's line on it. Off while
#: gnomon rebuilds graphs itself (rewriting, compiling): those lines say nothing about where
#: the user wrote the expression.
_RECORD_REUSE: contextvars.ContextVar[bool] = contextvars.ContextVar("record_reuse",
                                                                    default=True)
#: how many earlier build sites a node remembers besides the latest
MAX_EARLIER_TRACES = 3


#: The source line that nodes built now stand for (set while a rewrite replaces a node).
_PROVENANCE: contextvars.ContextVar[SourceLocation | None] = contextvars.ContextVar(
    "provenance", default=None)


@contextlib.contextmanager
def built_from(node: Apply) -> Iterator[None]:
    """New nodes built inside the block take ``node``'s source line: a rewrite's replacement
    (a fused loop, a stable form) points at the expression the user wrote, not at the line
    that compiled it."""
    token = _PROVENANCE.set(node.trace)
    try:
        yield
    finally:
        _PROVENANCE.reset(token)


@contextlib.contextmanager
def internal_construction() -> Iterator[None]:
    """Build nodes without recording the caller's line on nodes that already exist."""
    token = _RECORD_REUSE.set(False)
    try:
        yield
    finally:
        _RECORD_REUSE.reset(token)


class Variable:
    """A value in a graph: the output of an :class:`Apply`, or a root (``owner is None``).

    Users build variables with the type constructors (``gnomon.tensor.dvector("x")``), never by
    calling this class.
    """

    __slots__ = ("type", "owner", "index", "name", "trace", "_uid", "__weakref__")

    def __init__(
        self,
        type: Type,
        owner: Apply | None = None,
        index: int | None = None,
        name: str | None = None,
    ) -> None:
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.trace: SourceLocation | None = user_location() if owner is None else None
        self._uid = next(_counter)

    # Identity semantics on purpose: variables are dictionary keys everywhere.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __bool__(self) -> bool:
        from gnomon.errors import GnomonTypeError

        raise GnomonTypeError(
            f"The truth value of symbolic variable {self} is unknown until the graph runs.\n"
            "Hint: use gnomon.ifelse(cond, a, b) or gt.where(cond, a, b) for a symbolic branch, "
            "and `x is y` to compare variables."
        )

    @property
    def ndim(self) -> int:
        return self.type.ndim  # type: ignore[attr-defined,no-any-return]

    @property
    def dtype(self) -> str:
        return self.type.dtype  # type: ignore[attr-defined,no-any-return]

    def clone(self, name: str | None = None) -> Variable:
        """A new root variable of the same type (a fresh identity)."""
        v = type(self)(self.type, name=name if name is not None else self.name)
        return v

    def eval(self, inputs_to_values: dict[Variable, Any] | None = None, **kw: Any) -> Any:
        """Compile (cached) and evaluate this variable.

        Examples
        --------
        >>> import gnomon.tensor as gt
        >>> x = gt.dscalar("x")
        >>> float((x * 2).eval({x: 3.0}))
        6.0
        """
        from gnomon.compile.function import eval_variable

        return eval_variable(self, inputs_to_values or {}, **kw)

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            if len(self.owner.outputs) == 1:
                return f"{op}.0"
            return f"{op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self) -> str:
        return str(self)

    # Pickling: a graph pickles by structure and is interned again when loaded. A node's
    # output is looked up on its owner (rebuilt by ``Apply.__reduce__``), after the graph's
    # nodes in topological order (``PickleOrder``) unless those are being pickled already; a
    # root keeps its identity within one pickle through pickle's memo and draws a fresh
    # ``_uid`` (a per-process counter) when loaded.
    def __reduce__(self) -> tuple[Any, ...]:
        if self.owner is None:
            return (copyreg.__newobj__, (type(self),), self.__getstate__())  # type: ignore[attr-defined]
        if PickleOrder.active():
            return (_node_output, (self.owner, self.index, self.name))
        return (_ordered_value, ordered([self], self))

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _state_slots(type(self)) if hasattr(self, k)}  # type: ignore[arg-type]

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, v)
        self._uid = next(_counter)


class Constant(Variable):
    """A root variable with a fixed value, interned by ``(type, value)``.

    Use :func:`gnomon.tensor.constant` or :func:`gnomon.tensor.as_tensor` to build one.
    """

    __slots__ = ("data", "_key")

    _key: tuple[Any, ...]

    _table: ClassVar[weakref.WeakValueDictionary[Any, Constant]] = weakref.WeakValueDictionary()

    def __init__(self, type: Type, data: Any, name: str | None = None) -> None:
        super().__init__(type, None, None, name)
        self.data = data
        self.trace = None

    @classmethod
    def make(cls, type: Type, data: Any, key: Any, name: str | None = None) -> Constant:
        """Return the interned constant for ``key`` (built by the type from the value)."""
        full_key = (cls, type, key)
        c = cls._table.get(full_key)
        if c is None:
            c = cls(type, data, name)
            c._key = full_key
            cls._table[full_key] = c
        return c

    def clone(self, name: str | None = None) -> Constant:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Interned again by value when loaded: the same constant as one built in this process.
        return (_intern_constant, (type(self), self.type, self.data, self._key[2], self.name))

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        return self.type.constant_str(self.data)


class Apply:
    """An op applied to input variables, producing output variables. Interned by (op, inputs).

    Build nodes with :meth:`Op.make_node` (through ``op(*inputs)``), which calls :meth:`Apply.make`.
    """

    __slots__ = ("op", "inputs", "outputs", "trace", "earlier_traces", "_uid", "__weakref__")

    _table: ClassVar[weakref.WeakValueDictionary[Any, Apply]] = weakref.WeakValueDictionary()

    op: Op
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    trace: SourceLocation | None
    earlier_traces: tuple[SourceLocation, ...]
    _uid: int

    def __new__(cls, op: Op, inputs: Sequence[Variable], outputs: Sequence[Variable]) -> Apply:
        """PyTensor's spelling, for user ops' ``make_node``: ``Apply(self, inputs, outputs)``.

        ``outputs`` are new variables that give the output types (``x.type()``); the node is
        interned like any other (:meth:`make`), so its outputs are its own variables of those
        types, and applying an equal op to the same inputs again returns the same node.
        """
        outs = list(outputs)
        for i, o in enumerate(outs):
            if not isinstance(o, Variable) or o.owner is not None:
                raise TypeError(
                    f"output {i} given to Apply({op}, ...) is {o!r}; pass new variables of the "
                    "output types (e.g. x.type()), one per output")
        return cls.make(op, inputs, [o.type for o in outs])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # built by __new__ / make

    @classmethod
    def make(
        cls,
        op: Op,
        inputs: Sequence[Variable],
        output_types: Sequence[Type],
    ) -> Apply:
        """Return the node ``op(*inputs)``, reusing an equal node if one exists."""
        inputs = tuple(inputs)
        for i, v in enumerate(inputs):
            if not isinstance(v, Variable):
                raise TypeError(f"input {i} of {op} is {type(v).__name__}, not a Variable")
        # Keyed by the inputs' ids, not the inputs: a live entry's node holds its inputs, so
        # their ids cannot be reused while the entry exists, and the key keeps nothing alive
        # (a dead graph is freed in one garbage collection, whatever its depth).
        key = (op, tuple(map(id, inputs)))
        node = cls._table.get(key)
        if node is not None:
            if _RECORD_REUSE.get():
                node._note_build_site()
            return node
        node = object.__new__(cls)
        node.op = op
        node.inputs = inputs
        prov = _PROVENANCE.get()
        node.trace = prov if prov is not None else user_location()
        node.earlier_traces = ()
        node._uid = next(_counter)
        node.outputs = tuple(
            t.variable_class(t, owner=node, index=i) for i, t in enumerate(output_types)
        )
        cls._table[key] = node
        return node

    def _note_build_site(self) -> None:
        # An interned node is shared by every place that builds it: ``trace`` is the latest
        # user line, so an error in a function compiled after that line points at it, and
        # ``earlier_traces`` keeps a few older ones for the message.
        loc = user_location()
        if loc is None or loc == self.trace:
            return
        earlier = tuple(t for t in (self.trace, *self.earlier_traces) if t is not None
                        and t != loc)
        self.trace = loc
        self.earlier_traces = earlier[:MAX_EARLIER_TRACES]

    @property
    def out(self) -> Variable:
        """The single output (raises if the node has several)."""
        if len(self.outputs) != 1:
            raise ValueError(f"{self.op} has {len(self.outputs)} outputs; use .outputs")
        return self.outputs[0]

    def __hash__(self) -> int:
        return object.__hash__(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __repr__(self) -> str:
        return f"Apply({self.op}, {list(self.inputs)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt through Apply.make, so the loaded node is interned (an equal node already in
        # this process is reused) and its outputs come back with it.
        return (_rebuild_node, (self.op, self.inputs, tuple(o.type for o in self.outputs),
                                self.trace))


def is_root(v: Variable) -> bool:
    """True for variables with no owner (inputs, shared variables, constants)."""
    return v.owner is None


# --- pickling helpers (see Variable.__reduce__) ----------------------------------------------


def ordered(outputs: Sequence[Variable], payload: Any) -> tuple[Any, Any, Any]:
    """Arguments ``(order, payload, end)`` for a ``__reduce__`` whose ``payload`` holds the graph
    of ``outputs``: pickle stores that graph's nodes in topological order, then the payload.

    Pickle stores an object's parts before the object, so a node pickled on its own recurses
    down the whole graph, and a graph a few hundred nodes deep exceeds Python's recursion
    limit. In topological order each node finds its inputs' owners in pickle's memo already,
    and pickling recurses one node deep whatever the depth. While the nodes and the payload are
    pickled, variables do not start orders of their own (:meth:`PickleOrder.active`). When
    loaded, ``order`` and ``end`` are ``None``.
    """
    return (PickleOrder(outputs), payload, _PickleOrderEnd())


class PickleOrder:
    """The nodes of a graph in topological order, pickled ahead of it (see :func:`ordered`)."""

    __slots__ = ("nodes", "__weakref__")

    # Per thread, the orders being pickled, held weakly: the pickler holds an order while it
    # pickles the parts after it, so the entry of a pickle that failed midway goes dead rather
    # than staying active for good.
    _local = threading.local()

    def __init__(self, outputs: Sequence[Variable]) -> None:

        self.nodes = tuple(toposort(outputs))

    @classmethod
    def _stack(cls) -> list[weakref.ref[PickleOrder]]:
        return cls._local.__dict__.setdefault("stack", [])  # type: ignore[no-any-return]

    @classmethod
    def active(cls) -> bool:
        """Whether this thread is pickling a graph in order."""
        stack = cls._stack()
        while stack and stack[-1]() is None:
            stack.pop()
        return bool(stack)

    def __reduce__(self) -> tuple[Any, ...]:
        self._stack().append(weakref.ref(self))
        return (_drop, (self.nodes,))


class _PickleOrderEnd:
    """Pickled after an order's payload: the order is done."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        stack = PickleOrder._stack()
        if stack:
            stack.pop()
        return (_drop, ())


def _drop(*parts: Any) -> None:
    return None


@functools.cache
def _state_slots(cls: type) -> tuple[str, ...]:
    """The slots of ``cls`` that a pickled root stores (not the per-process ``_uid``)."""
    names: list[str] = []
    for c in reversed(cls.__mro__):
        slots = c.__dict__.get("__slots__", ())
        for n in (slots,) if isinstance(slots, str) else slots:
            if n not in ("_uid", "__weakref__", "__dict__") and n not in names:
                names.append(n)
    return tuple(names)


def _node_output(node: Apply, index: int, name: str | None) -> Variable:
    v = node.outputs[index]
    if v.name is None and name is not None:
        v.name = name
    return v


def _ordered_value(order: None, value: Any, end: None) -> Any:
    return value


def _rebuild_node(
    op: Op, inputs: tuple[Variable, ...], output_types: tuple[Type, ...], trace: Any
) -> Apply:
    mark = next(_counter)
    with internal_construction():  # pickle.loads is not a line where the user built it
        node = Apply.make(op, inputs, output_types)
    if node._uid > mark:
        # new to this process: it keeps the line where the user first built it
        node.trace = trace
    return node


def _intern_constant(
    cls: type[Constant], ttype: Type, data: Any, key: Any, name: str | None
) -> Constant:
    if hasattr(data, "setflags"):
        data.setflags(write=False)  # read-only, as gnomon.tensor.constant makes constants
    return cls.make(ttype, data, key, name)


# PyTensor's names in this module (``from pytensor.graph.basic import graph_inputs, ancestors``).
# The graph walks live in gnomon.graph.traversal and gnomon.graph.replace, which import this
# module, so they are imported last, once the classes above exist.
from gnomon.graph.replace import clone, clone_replace, graph_replace  # noqa: E402, F401
from gnomon.graph.traversal import (  # noqa: E402, F401
    ancestors,
    applys_between,
    equal_computations,
    graph_inputs,
    io_toposort,
    is_in_ancestors,
    orphans_between,
    toposort,
    vars_between,
    walk,
)
