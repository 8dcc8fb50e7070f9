"""PyTensor's Op protocol for user-defined ops, adapted to gnomon's.

Users wrap external code (a black-box likelihood, an ODE solver, a C library) in an op written
the way PyTensor documents it, subclassing :class:`gnomon.graph.op.Op`::

    class LogLike(Op):
        itypes = [gt.dvector]          # or make_node returning Apply(self, inputs, outputs)
        otypes = [gt.dscalar]
        __props__ = ()                 # equality and hashing by these attributes

        def perform(self, node, inputs, output_storage):
            (theta,) = inputs
            output_storage[0][0] = np.asarray(my_loglike(theta))

        def grad(self, inputs, output_grads):          # or L_op(inputs, outputs, output_grads)
            return [output_grads[0] * LogLikeGrad()(inputs[0])]

        def infer_shape(self, fgraph, node, input_shapes):
            return [()]

gnomon's own ops use a different internal protocol (``perform(node, inputs)`` returning the
outputs, ``pullback``, ``pushforward``, ``infer_shape(node, input_shapes)``).
:meth:`Op.__init_subclass__ <gnomon.graph.op.Op>` recognises a class written with PyTensor's
protocol (:func:`~gnomon.graph.op.uses_pytensor_protocol`) and calls :func:`adapt`, which gives
it gnomon's methods, each calling the user's:

==========================================  ================================================
the user writes (PyTensor)                  gnomon calls
==========================================  ================================================
``itypes`` / ``otypes``                     ``make_node`` (inputs converted and checked)
``make_node`` returning ``Apply(...)``      used as is (the node is interned)
``perform(node, inputs, output_storage)``   ``perform(node, inputs)`` returning the outputs,
                                            converted to the output types and checked
``L_op`` / ``grad``                         ``pullback(node, output_grads)``
``R_op``                                    ``pushforward(node, tangents)``
``infer_shape(fgraph, node, shapes)``       ``infer_shape(node, shapes)``
``__props__``                               ``__eq__``, ``__hash__``, ``__str__``
``view_map`` ``{out: [in]}``                ``view_map`` ``{out: in}``
``destroy_map``                             inputs copied before ``perform`` (never in place)
``do_constant_folding``                     ``constant_foldable = False`` (never folded)
==========================================  ================================================

The backends run such an op with its ``perform``: the NumPy backend directly, Numba as a Python
node between compiled kernels, JAX through ``jax.pure_callback`` (see
:mod:`gnomon.backends.jax.callback`). ``docs/differences.md`` lists what differs from PyTensor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, at_user_line, with_hint
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.op import NullGrad, Op, grad_not_implemented, set_user_op_adapter
from gnomon.graph.type import Type
from gnomon.tensor.basic import as_tensor, cast, constant, zeros_like
from gnomon.tensor.type import TensorType

__all__ = ["DisconnectedType", "adapt", "as_type", "disconnected_type"]


class DisconnectedType(Type):
    """PyTensor's marker type: an op's ``grad`` returns ``DisconnectedType()()`` for an input
    the outputs do not depend on (gnomon reads it as no gradient, ``None``)."""

    variable_class = Variable
    constant_class = Variable

    def filter(self, value: Any, *, name: str = "input", allow_downcast: bool = False) -> Any:
        raise GnomonTypeError(f"{name}: a disconnected gradient has no value")

    def is_valid_value(self, value: Any) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return type(other) is DisconnectedType

    def __hash__(self) -> int:
        return hash(DisconnectedType)

    def __str__(self) -> str:
        return "DisconnectedType"


#: PyTensor's instance: ``disconnected_type()`` is a disconnected gradient
disconnected_type = DisconnectedType()


def as_type(t: Any) -> Type:
    """A type given as PyTensor users give ``itypes``/``otypes`` entries: a type (``TensorType(
    "float64", shape=(None,))``) or a type constructor (``gt.dvector``)."""
    if isinstance(t, Type):
        return t
    if isinstance(t, Variable):
        return t.type
    if callable(t):
        v = t()
        if isinstance(v, Variable):
            return v.type
    raise GnomonTypeError(with_hint(
        f"{t!r} is not a type",
        "give itypes/otypes as types or type constructors, e.g. [gt.dvector, gt.dscalar] or "
        "[gt.TensorType('float64', shape=(None,))]",
    ))


def _declared(cls: type, name: str) -> Any:
    """``name`` as the user's classes define it (``None`` if only gnomon's Op has it)."""
    for c in cls.__mro__:
        if c is Op:
            return None
        if name in c.__dict__:
            return c.__dict__[name]
    return None


def _argcount(f: Any) -> int:
    code = getattr(f, "__code__", None)
    return code.co_argcount if code is not None else -1


def adapt(cls: type) -> None:
    """Give ``cls`` (a PyTensor-protocol subclass of :class:`~gnomon.graph.op.Op`) gnomon's
    methods; called by ``Op.__init_subclass__`` for the class and each of its subclasses."""
    ns = cls.__dict__
    cls._pytensor_protocol = True  # type: ignore[attr-defined]

    perform = ns.get("perform")
    if perform is not None and _argcount(perform) >= 4:
        cls.perform = _perform_adapter(perform)  # type: ignore[attr-defined]

    infer = ns.get("infer_shape")
    if infer is not None and _argcount(infer) == 4:
        cls.infer_shape = _infer_shape_adapter(infer)  # type: ignore[attr-defined]

    if _declared(cls, "make_node") is None:
        cls.make_node = _make_node_from_types  # type: ignore[attr-defined]

    if "__props__" in ns and "__eq__" not in ns:
        props = tuple(ns["__props__"])
        for p in props:
            if not isinstance(p, str):
                raise GnomonTypeError(f"{cls.__name__}.__props__ must be a tuple of attribute "
                                      f"names, got {p!r}")
        cls.__eq__ = _props_eq  # type: ignore[method-assign,assignment]
        cls.__hash__ = _props_hash  # type: ignore[assignment,method-assign]
        if "__str__" not in ns:
            cls.__str__ = _props_str  # type: ignore[method-assign,assignment]

    view_map = ns.get("view_map")
    if view_map:
        cls.view_map = {int(o): int(i[0] if isinstance(i, list | tuple) else i)  # type: ignore[attr-defined]
                        for o, i in view_map.items()}
    destroy_map = ns.get("destroy_map")
    if destroy_map is not None:
        cls._destroyed = frozenset(int(i) for ins in destroy_map.values()  # type: ignore[attr-defined]
                                   for i in (ins if isinstance(ins, list | tuple) else [ins]))
    if "do_constant_folding" in ns:
        # PyTensor asks per node; gnomon's constant folding asks the op. Never folding is sound.
        cls.constant_foldable = False  # type: ignore[attr-defined]

    if "pullback" not in ns:
        cls.pullback = _pullback  # type: ignore[attr-defined]
    if "pushforward" not in ns:
        cls.pushforward = _pushforward  # type: ignore[attr-defined]
    if "__call__" not in ns:
        cls.__call__ = _call  # type: ignore[method-assign]


# --- make_node ---------------------------------------------------------------------------------


def _make_node_from_types(self: Op, *inputs: Any) -> Apply:
    cls = type(self)
    itypes, otypes = getattr(self, "itypes", None), getattr(self, "otypes", None)
    if itypes is None or otypes is None:
        raise GnomonTypeError(with_hint(
            f"{cls.__name__} has neither make_node nor itypes/otypes{at_user_line()}",
            "define itypes = [...] and otypes = [...] (types such as gt.dvector), or a method "
            "make_node(self, *inputs) returning Apply(self, inputs, [out.type() ...])",
        ))
    itypes = [as_type(t) for t in itypes]
    otypes = [as_type(t) for t in otypes]
    if len(inputs) != len(itypes):
        raise GnomonTypeError(
            f"{self} takes {len(itypes)} input(s) ({', '.join(map(str, itypes))}), got "
            f"{len(inputs)}{at_user_line()}")
    return Apply.make(self, [_convert_input(self, i, x, t) for i, (x, t)
                             in enumerate(zip(inputs, itypes, strict=True))], otypes)


def _convert_input(op: Op, i: int, x: Any, t: Type) -> Variable:
    if not isinstance(t, TensorType):
        if isinstance(x, Variable) and x.type == t:
            return x
        raise GnomonTypeError(f"input {i} of {op} must be of type {t}, got {x!r}"
                              f"{at_user_line()}")
    v = as_tensor(x) if not isinstance(x, Variable) else x
    if isinstance(v.type, TensorType) and v.dtype != t.dtype and v.ndim == t.ndim \
            and np.can_cast(v.dtype, t.dtype, "safe"):
        v = cast(v, t.dtype)  # a lossless cast, as PyTensor's filter_variable makes
    ok = t.convert_variable(v) if isinstance(v.type, TensorType) else None
    if ok is None:
        raise GnomonTypeError(with_hint(
            f"input {i} of {op} must be {t}, got {v} of type {v.type}{at_user_line()}",
            f"pass a variable of type {t} (cast with gt.cast(x, '{t.dtype}') or change the "
            "op's itypes)",
        ))
    return ok


def _call(self: Op, *inputs: Any, **kwargs: Any) -> Any:
    return_list = kwargs.pop("return_list", False)
    name = kwargs.pop("name", None)
    node = self.make_node(*inputs, **kwargs)
    if not isinstance(node, Apply):
        raise GnomonTypeError(f"{type(self).__name__}.make_node returned {node!r}, not an "
                              "Apply; return Apply(self, inputs, outputs)")
    outs = list(node.outputs)
    if name is not None and len(outs) == 1:
        outs[0].name = name
    if return_list:
        return outs
    default = getattr(self, "default_output", None)
    if default is not None:
        return outs[default]
    return outs[0] if len(outs) == 1 else outs


# --- perform -----------------------------------------------------------------------------------


def _perform_adapter(user_perform: Callable[..., Any]) -> Callable[..., Any]:
    # PyTensor passes a fifth argument, the op's params, to a perform that takes one
    code = user_perform.__code__
    wants_params = code.co_argcount - len(user_perform.__defaults__ or ()) >= 5

    def perform(self: Op, node: Apply, inputs: Sequence[Any], output_storage: Any = None,
                *params: Any) -> Any:
        if output_storage is not None:
            # the user's own call (a subclass's perform calling super().perform(...))
            return user_perform(self, node, inputs, output_storage, *params)
        destroyed: frozenset[int] = getattr(self, "_destroyed", frozenset())
        args = [_input_value(x, i in destroyed) for i, x in enumerate(inputs)]
        storage: list[list[Any]] = [[None] for _ in node.outputs]
        if wants_params:
            get_params = getattr(self, "get_params", None)
            user_perform(self, node, args, storage, get_params(node) if get_params else None)
        else:
            user_perform(self, node, args, storage)
        return tuple(_output_value(self, node, k, cell[0]) for k, cell in enumerate(storage))

    perform.__doc__ = user_perform.__doc__
    perform.__wrapped__ = user_perform  # type: ignore[attr-defined]
    return perform


def _input_value(x: Any, destroyed: bool) -> Any:
    if not isinstance(x, np.ndarray):
        return x  # random generators and other non-array values pass as they are
    if destroyed:
        return x.copy()  # the op may write into it: give it its own copy (never in place)
    # A read-only view (no copy): an op that writes into an input it did not declare in
    # destroy_map fails at once instead of corrupting the caller's array.
    v = x.view()
    v.flags.writeable = False
    return v


def _output_value(op: Op, node: Apply, k: int, value: Any) -> Any:
    out = node.outputs[k]
    t = out.type
    if value is None:
        raise GnomonValueError(with_hint(
            f"{op}.perform did not set output_storage[{k}][0]",
            f"assign each output: output_storage[{k}][0] = np.asarray(result)",
        ))
    if not isinstance(t, TensorType):
        return value
    arr = np.asarray(value)
    if arr.ndim != t.ndim:
        raise GnomonValueError(with_hint(
            f"{op}.perform set output {k} to an array with {arr.ndim} dimension(s) of shape "
            f"{arr.shape}, but the output type {t} has {t.ndim}",
            "return an array of the declared type (otypes / the outputs given to Apply)",
        ))
    if arr.dtype != t.numpy_dtype:
        if not np.can_cast(arr.dtype, t.numpy_dtype, "same_kind"):
            raise GnomonValueError(with_hint(
                f"{op}.perform set output {k} to a {arr.dtype} array, but the output type is "
                f"{t}",
                f"convert the result: np.asarray(result, dtype='{t.dtype}')",
            ))
        arr = arr.astype(t.numpy_dtype)
    t.check_shape(arr.shape, name=f"output {k} of {op}")
    return arr


# --- infer_shape -------------------------------------------------------------------------------


def _infer_shape_adapter(user_infer: Callable[..., Any]) -> Callable[..., Any]:
    def infer_shape(self: Op, *args: Any) -> Any:
        if len(args) == 3:  # the user's own call, PyTensor's signature
            return user_infer(self, *args)
        node, input_shapes = args
        shapes = user_infer(self, None, node, [tuple(s) for s in input_shapes])
        if shapes is None:
            return None
        return [tuple(_length(d) for d in s) for s in shapes]

    infer_shape.__wrapped__ = user_infer  # type: ignore[attr-defined]
    return infer_shape


def _length(d: Any) -> Any:
    if isinstance(d, Variable):
        return d if d.dtype == "int64" else cast(d, "int64")
    if isinstance(d, int | np.integer):
        return constant(np.int64(d))
    return d  # gnomon's own placeholders pass through


# --- gradients ---------------------------------------------------------------------------------


def _pullback(self: Op, node: Apply, output_grads: Sequence[Variable | None]) -> list[Any]:
    l_op = _declared(type(self), "L_op")
    grad = _declared(type(self), "grad")
    if l_op is None and grad is None:
        return [grad_not_implemented(self, i, v, f"{type(self).__name__} defines no grad or L_op")
                for i, v in enumerate(node.inputs)]
    # PyTensor hands the op a gradient for every output; gnomon has None for outputs the cost
    # does not depend on: zeros of the output's type stand for them.
    grads = [g if g is not None else zeros_like(o)
             for g, o in zip(output_grads, node.outputs, strict=True)]
    inputs, outputs = list(node.inputs), list(node.outputs)
    res = (self.L_op(inputs, outputs, grads) if l_op is not None  # type: ignore[attr-defined]
           else self.grad(inputs, grads))  # type: ignore[attr-defined]
    res = list(res)
    if len(res) != len(inputs):
        raise GnomonValueError(
            f"{type(self).__name__}.{'L_op' if l_op is not None else 'grad'} returned "
            f"{len(res)} gradient(s) for {len(inputs)} input(s)")
    pattern = _connection_pattern(self, node)
    return [None if pattern is not None and not any(pattern[i])
            else _as_gradient(self, i, g, x) for i, (g, x) in enumerate(zip(res, inputs,
                                                                            strict=True))]


def _connection_pattern(op: Op, node: Apply) -> list[list[bool]] | None:
    cp = getattr(op, "connection_pattern", None)
    return [list(r) for r in cp(node)] if callable(cp) else None


def _as_gradient(op: Op, i: int, g: Any, x: Variable) -> Any:
    if g is None or isinstance(g, NullGrad):
        return g
    if isinstance(getattr(g, "type", None), DisconnectedType):
        return None
    g = as_tensor(g)
    if isinstance(x.type, TensorType) and g.ndim != x.ndim:
        raise GnomonValueError(with_hint(
            f"the gradient {type(op).__name__} returned for input {i} has {g.ndim} "
            f"dimension(s), but the input has {x.ndim}",
            "return one gradient per input with the input's shape",
        ))
    return g


def _pushforward(self: Op, node: Apply, tangents: Sequence[Variable | None]) -> Any:
    if _declared(type(self), "R_op") is None:
        return None  # gnomon derives it from the pullback
    res = self.R_op(list(node.inputs), list(tangents))  # type: ignore[attr-defined]
    return [None if r is None else as_tensor(r) for r in res]


# --- __props__ -----------------------------------------------------------------------------------


def _props(op: Any) -> tuple[Any, ...]:
    return tuple(getattr(op, p) for p in type(op).__props__)


def _props_eq(self: Any, other: object) -> bool:
    if type(self) is not type(other):
        return False
    a, b = _props(self), _props(other)
    return all(_same(x, y) for x, y in zip(a, b, strict=True))


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return bool(np.array_equal(x, y))
    return bool(x == y)


def _props_hash(self: Any) -> int:
    return hash((type(self), tuple(_hashable(p) for p in _props(self))))


def _hashable(p: Any) -> Any:
    if isinstance(p, np.ndarray):
        return (p.dtype.str, p.shape, p.tobytes())
    if isinstance(p, list):
        return tuple(_hashable(q) for q in p)
    return p


def _props_str(self: Any) -> str:
    props = type(self).__props__
    if not props:
        return type(self).__name__
    return f"{type(self).__name__}{{{', '.join(f'{p}={getattr(self, p)!r}' for p in props)}}}"


# The adapter is installed here because gnomon.graph.op cannot import this layer.
set_user_op_adapter(adapt)
