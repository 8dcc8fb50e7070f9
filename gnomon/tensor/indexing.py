"""Indexing: ``x[idx]`` (basic and advanced, NumPy semantics), ``set_subtensor``,
``inc_subtensor``, ``take`` and ``nonzero``.

An index expression is split in two parts when a node is built:

* the *structure*, kept in the op's ``idx_list`` field (hashable, so rewrites and static shape
  rules can see it): one entry per index item after ``...`` is expanded -- a constant ``int``,
  a :class:`SliceIndex` (each of start/stop/step ``None``, a constant ``int`` or
  :data:`INPUT`), :data:`NEWAXIS`, or :data:`INPUT` for an integer scalar, integer array or
  boolean mask;
* the *dynamic parts* (symbolic integer scalars, index arrays and masks), which become node
  inputs after the indexed array, in the order their :data:`INPUT` markers appear.

Basic indexing (ints, slices, ``None``, ``...``) builds a :class:`Subtensor`, whose output is a
view of its input. An index with at least one integer array or boolean mask builds an
:class:`AdvancedSubtensor` (a copy), where, as in NumPy, integer scalars are advanced indices
too: the broadcast shape of the advanced indices goes where the first of them stands when they
are next to each other (``None`` entries do not separate them), and first otherwise.

``set_subtensor(x[idx], y)`` and ``inc_subtensor(x[idx], y)`` find the indexing node of their
first argument and build :class:`IncSubtensor` / :class:`AdvancedIncSubtensor`, which return a
new array; repeated advanced indices accumulate in ``inc_subtensor`` (``np.add.at``).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, ShapeError, with_hint
from gnomon.errors import at_user_line as _where
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.tensor.basic import as_tensor, cast, constant
from gnomon.tensor.shapes import Shape, ShapeI
from gnomon.tensor.type import TensorType

# The INPUT / NEWAXIS / ELLIPSIS markers stay in this module (backends import them from here).
__all__ = [
    "AdvancedIncSubtensor",
    "AdvancedSubtensor",
    "EllipsisIndex",
    "FromInput",
    "IncSubtensor",
    "IndexOutOfBoundsError",
    "NewAxis",
    "Nonzero",
    "SliceIndex",
    "Subtensor",
    "getitem",
    "inc_subtensor",
    "newaxis",
    "nonzero",
    "set_subtensor",
    "take",
]


#: ``gt.newaxis`` is ``None``, as in NumPy.
newaxis = None


class IndexOutOfBoundsError(GnomonValueError, IndexError):
    """An index is outside the array (found at graph-build time, or at run time).

    It is both a ``ValueError`` and an ``IndexError``, like NumPy's ``AxisError``.
    """


# --- the index structure ------------------------------------------------------------------


@dataclass(frozen=True)
class FromInput:
    """Marks an index part whose value is the next dynamic input of the node."""

    def __reduce__(self) -> str:
        return "INPUT"  # the module's marker: ops test for it with ``is``

    def __str__(self) -> str:
        return "?"


@dataclass(frozen=True)
class NewAxis:
    """A ``None`` / ``np.newaxis`` entry: a new dimension of length 1."""

    def __reduce__(self) -> str:
        return "NEWAXIS"  # the module's marker: ops test for it with ``is``

    def __str__(self) -> str:
        return "None"


@dataclass(frozen=True)
class EllipsisIndex:
    """An ``...`` that stands for no dimension but separates advanced indices.

    NumPy puts the advanced dimensions first when anything, even an empty ``...``, stands
    between advanced indices; every other ``...`` is expanded into full slices when parsing.
    """

    def __reduce__(self) -> str:
        return "ELLIPSIS"  # the module's marker: ops test for it with ``is``

    def __str__(self) -> str:
        return "..."


#: The marker of a dynamic index part (see the module docstring).
INPUT = FromInput()
#: The marker of a new axis.
NEWAXIS = NewAxis()
#: The marker of an empty ``...`` between advanced indices.
ELLIPSIS = EllipsisIndex()

Part = int | FromInput | None


@dataclass(frozen=True)
class SliceIndex:
    """A slice whose start, stop and step are each ``None``, a constant int or :data:`INPUT`."""

    start: Part = None
    stop: Part = None
    step: Part = None

    @property
    def is_full(self) -> bool:
        return self.start is None and self.stop is None and self.step is None

    def parts(self) -> tuple[Part, Part, Part]:
        return (self.start, self.stop, self.step)

    def __str__(self) -> str:
        s = ["" if p is None else str(p) for p in self.parts()]
        return f"{s[0]}:{s[1]}" + (f":{s[2]}" if self.step is not None else "")


Entry = int | FromInput | SliceIndex | NewAxis | EllipsisIndex


def _n_inputs(idx_list: Sequence[Entry]) -> int:
    n = 0
    for e in idx_list:
        if e is INPUT:
            n += 1
        elif isinstance(e, SliceIndex):
            n += sum(p is INPUT for p in e.parts())
    return n


def _fmt_idx(idx_list: Sequence[Entry]) -> str:
    return "{" + ", ".join(str(e) for e in idx_list) + "}"


# --- layout: where each output dimension comes from ---------------------------------------

# An output dimension is ("new",), ("slice", axis, SliceIndex, input positions of its dynamic
# parts) or ("adv", j): dimension j of the broadcast shape of the advanced indices. Advanced
# components are ("int", value or input position, axis), ("arr", input position, axis) or
# ("mask", input position, first axis). Input positions count the dynamic inputs from 0.


@dataclass(frozen=True)
class _Layout:
    dims: tuple[tuple[Any, ...], ...]
    adv: tuple[tuple[Any, ...], ...]
    adv_ndim: int
    consumed: int  # how many dimensions of x the index uses


def _layout(idx_list: Sequence[Entry], x_ndim: int, dyn: Sequence[Variable],
            advanced: bool) -> _Layout:
    dims: list[tuple[Any, ...]] = []
    adv: list[tuple[Any, ...]] = []
    adv_entries: list[int] = []  # positions of the advanced entries in idx_list
    first_adv_out: int | None = None
    axis = 0
    k = 0
    pos = 0
    for e in idx_list:
        if isinstance(e, NewAxis | EllipsisIndex):
            # Both separate advanced indices (NumPy counts them as non-advanced entries).
            if isinstance(e, NewAxis):
                dims.append(("new",))
            pos += 1
            continue
        if isinstance(e, SliceIndex):
            ks = []
            for p in e.parts():
                ks.append(k if p is INPUT else None)
                k += p is INPUT
            dims.append(("slice", axis, e, tuple(ks)))
            axis += 1
        else:
            if e is INPUT:
                v = dyn[k]
                if v.ndim == 0:
                    comp: tuple[Any, ...] = ("int", ("in", k), axis)
                    axis += 1
                elif v.dtype == "bool":
                    comp = ("mask", k, axis)
                    axis += v.ndim
                else:
                    comp = ("arr", k, axis)
                    axis += 1
                k += 1
            else:
                comp = ("int", e, axis)
                axis += 1
            if advanced:
                if first_adv_out is None:
                    first_adv_out = len(dims)
                adv.append(comp)
                adv_entries.append(pos)
        pos += 1
    for a in range(axis, x_ndim):
        dims.append(("slice", a, SliceIndex(), (None, None, None)))
    adv_ndim = 0
    if adv:
        for c in adv:
            adv_ndim = max(adv_ndim, 1 if c[0] == "mask" else (dyn[c[1]].ndim if c[0] == "arr"
                                                                 else 0))
        contiguous = adv_entries[-1] - adv_entries[0] + 1 == len(adv_entries)
        at = first_adv_out if contiguous and first_adv_out is not None else 0
        dims[at:at] = [("adv", j) for j in range(adv_ndim)]
    return _Layout(tuple(dims), tuple(adv), adv_ndim, axis)


def _static_slice_len(n: int | None, sl: SliceIndex, ks: tuple[int | None, ...]) -> int | None:
    if sl.is_full:
        return n
    if n is None or any(q is not None for q in ks):
        return None
    return len(range(n)[slice(sl.start, sl.stop, sl.step)])  # type: ignore[arg-type]


def _check_bounds(value: Any, n: int | None, axis: int, what: str) -> None:
    if n is None:
        return
    arr = np.asarray(value)
    if arr.size and (arr.min() < -n or arr.max() >= n):
        bad = arr[(arr < -n) | (arr >= n)].flat[0]
        raise IndexOutOfBoundsError(with_hint(
            f"{what} {int(bad)} is out of bounds for axis {axis} with size {n}{_where()}",
            f"valid indices along axis {axis} are {-n} to {n - 1}"
            if n else f"axis {axis} has length 0, so it cannot be indexed by an integer",
        ))


def _static_shape(x: Variable, idx_list: Sequence[Entry], dyn: Sequence[Variable],
                  advanced: bool) -> tuple[tuple[int | None, ...], _Layout]:
    """The static output shape, after checking what can be checked at graph-build time."""
    from gnomon.tensor.elemwise import broadcast_static_shapes

    xs = x.type.shape  # type: ignore[attr-defined]
    lay = _layout(idx_list, x.ndim, dyn, advanced)
    if lay.consumed > x.ndim:
        raise IndexOutOfBoundsError(with_hint(
            f"too many indices for {x} of type {x.type}: the array is {x.ndim}-dimensional, "
            f"but the index {_fmt_idx(idx_list)} uses {lay.consumed} dimensions{_where()}",
            "use one index per dimension at most"))
    comp_shapes = []
    for c in lay.adv:
        kind, ref, axis = c
        if kind == "int":
            if not isinstance(ref, tuple):
                _check_bounds(ref, xs[axis], axis, "index")
            comp_shapes.append(())
        elif kind == "arr":
            v = dyn[ref]
            if isinstance(v, Constant):
                _check_bounds(v.data, xs[axis], axis, "index")
            comp_shapes.append(v.type.shape)
        else:
            m = dyn[ref]
            for j, (ms, s) in enumerate(zip(m.type.shape, xs[axis:axis + m.ndim],
                                            strict=True)):
                if ms is not None and s is not None and ms != s:
                    raise IndexOutOfBoundsError(with_hint(
                        f"boolean index did not match the indexed array along axis {axis + j}: "
                        f"the array has length {s} there, but the mask has length {ms}"
                        f"{_where()}",
                        "the mask's shape must equal the shape of the dimensions it indexes",
                    ))
            nnz = int(np.count_nonzero(m.data)) if isinstance(m, Constant) else None
            comp_shapes.append((nnz,))  # type: ignore[arg-type]
    if not advanced:
        for e, a in _int_axes(idx_list):
            _check_bounds(e, xs[a], a, "index")
    adv_shape: tuple[int | None, ...] = ()
    if lay.adv:
        padded = [(1,) * (lay.adv_ndim - len(s)) + tuple(s) for s in comp_shapes]
        adv_shape = broadcast_static_shapes(*padded, what="the index arrays")
    out: list[int | None] = []
    for d in lay.dims:
        if d[0] == "new":
            out.append(1)
        elif d[0] == "slice":
            out.append(_static_slice_len(xs[d[1]], d[2], d[3]))
        else:
            out.append(adv_shape[d[1]])
    return tuple(out), lay


def _int_axes(idx_list: Sequence[Entry]) -> list[tuple[int, int]]:
    """(constant int, axis) pairs of a basic index."""
    out, axis = [], 0
    for e in idx_list:
        if isinstance(e, NewAxis | EllipsisIndex):
            continue
        if isinstance(e, int):
            out.append((e, axis))
        axis += 1
    return out


def _symbolic_shape(node: Apply, x_shape: Sequence[Variable], dyn: Sequence[Variable],
                    dyn_shapes: Sequence[Sequence[Variable]], advanced: bool,
                    static: Sequence[int | None]) -> tuple[Variable, ...]:
    """Output shape as int64 scalars, from the input shapes (for ``infer_shape``)."""
    from gnomon.tensor.elemwise import _broadcast_dim
    from gnomon.tensor.reduce import sum as tsum

    x = node.inputs[0]
    idx_list = node.op.idx_list  # type: ignore[attr-defined]
    lay = _layout(idx_list, x.ndim, dyn, advanced)
    one = constant(1, "int64")
    adv_dims: list[Variable] = []
    if lay.adv:
        shapes: list[list[Variable]] = []
        for kind, ref, _axis in lay.adv:
            if kind == "int":
                shapes.append([])
            elif kind == "arr":
                shapes.append(list(dyn_shapes[ref]))
            else:
                shapes.append([tsum(dyn[ref], dtype="int64")])
        padded = [[one] * (lay.adv_ndim - len(s)) + s for s in shapes]
        for j in range(lay.adv_ndim):
            adv_dims.append(_broadcast_dim([s[j] for s in padded if s[j] is not one]))
    out: list[Variable] = []
    for i, d in enumerate(lay.dims):
        if static[i] is not None:
            out.append(constant(static[i], "int64"))
        elif d[0] == "slice":
            parts = [
                cast(dyn[q], "int64") if q is not None else p
                for p, q in zip(d[2].parts(), d[3], strict=True)
            ]
            out.append(_sym_slice_len(x_shape[d[1]], *parts))
        elif d[0] == "adv":
            out.append(adv_dims[d[1]])
        else:
            out.append(one)
    return tuple(out)


def _sym_slice_len(n: Variable, start: Any, stop: Any, step: Any) -> Variable:
    """``len(range(n)[start:stop:step])`` for symbolic parts (NumPy's clipping rules)."""
    from gnomon.tensor import math as tm

    def clip(v: Any, lo: Any, hi: Any) -> Any:
        return tm.where(tm.lt(v, lo), lo, tm.where(tm.gt(v, hi), hi, v))

    def norm(v: Any) -> Any:
        return tm.where(tm.lt(v, 0), tm.add(v, n), v)

    def forward(st: Any) -> Any:
        s = 0 if start is None else clip(norm(start), 0, n)
        e = n if stop is None else clip(norm(stop), 0, n)
        d = tm.sub(e, s)
        return tm.where(tm.gt(d, 0), tm.floor_divide(tm.add(d, tm.sub(st, 1)), st), 0)

    def backward(st: Any) -> Any:
        last = tm.sub(n, 1)
        s = last if start is None else clip(norm(start), -1, last)
        e = -1 if stop is None else clip(norm(stop), -1, last)
        d = tm.sub(s, e)
        return tm.where(tm.gt(d, 0), tm.floor_divide(tm.sub(tm.add(d, tm.neg(st)), 1),
                                                     tm.neg(st)), 0)

    if step is None or isinstance(step, int):
        st = 1 if step is None else step
        out = forward(st) if st > 0 else backward(st)
    else:
        out = tm.where(tm.gt(step, 0), forward(step), backward(step))
    return cast(as_tensor(out), "int64")


# --- building the NumPy index at run time ---------------------------------------------------


def _index_tuple(idx_list: Sequence[Entry], dyn: Sequence[Any]) -> tuple[Any, ...]:
    it = iter(dyn)

    def part(p: Part) -> Any:
        return int(next(it)) if p is INPUT else p

    key: list[Any] = []
    for e in idx_list:
        if isinstance(e, NewAxis):
            key.append(None)
        elif isinstance(e, EllipsisIndex):
            key.append(Ellipsis)
        elif isinstance(e, SliceIndex):
            start = part(e.start)
            stop = part(e.stop)
            key.append(slice(start, stop, part(e.step)))
        elif e is INPUT:
            v = next(it)
            key.append(int(v) if np.ndim(v) == 0 else v)
        else:
            key.append(e)
    return tuple(key)


def _run_index(fn: Any) -> Any:
    """Run ``fn``; turn NumPy's IndexError into one with a hint (the runtime adds the node)."""
    try:
        return fn()
    except IndexError as e:
        raise IndexOutOfBoundsError(with_hint(
            str(e), "index values are checked only when the graph runs; check the indices "
            "(and masks) against the shape of the indexed array")) from e


def _check_dyn(op: Op, dyn: Sequence[Variable], advanced: bool) -> None:
    """The dynamic inputs must fit the ``INPUT`` markers of ``op.idx_list``."""
    idx_list = op.idx_list  # type: ignore[attr-defined]
    want = _n_inputs(idx_list)
    if len(dyn) != want:
        raise GnomonTypeError(f"{op} takes {want} index input(s), got {len(dyn)}")
    k = 0
    n_arrays = 0
    for e in idx_list:
        parts = e.parts() if isinstance(e, SliceIndex) else ((e,) if e is INPUT else ())
        for p in parts:
            if p is not INPUT:
                continue
            v = dyn[k]
            k += 1
            scalar_only = isinstance(e, SliceIndex) or not advanced
            kind = v.dtype[0]
            if v.ndim == 0 and v.dtype != "bool" and kind in "iu":
                continue
            if not scalar_only and v.ndim > 0 and (kind in "iu" or v.dtype == "bool"):
                n_arrays += 1
                continue
            raise GnomonTypeError(f"{op}: index input {v} of type {v.type} is not "
                                  + ("an integer scalar" if scalar_only else
                                     "an integer scalar, an integer array or a boolean mask"))
    if not advanced and any(isinstance(e, EllipsisIndex) for e in idx_list):
        raise GnomonTypeError(f"{op}: an ELLIPSIS entry only belongs in an advanced index")
    if advanced and not n_arrays:
        raise GnomonTypeError(f"{op} needs at least one index array; use Subtensor instead")


# --- ops ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _IndexRead(Op):
    """What basic and advanced reads share; the subclasses differ in ``_advanced``, in the op
    their gradient writes with (``_write``) and in how :meth:`perform` indexes."""

    idx_list: tuple[Entry, ...]

    _advanced: ClassVar[bool]
    _write: ClassVar[type[Op]]

    def make_node(self, x: Any, *dyn: Any) -> Apply:
        x = as_tensor(x)
        dyn = tuple(as_tensor(d) for d in dyn)
        _check_dyn(self, dyn, advanced=self._advanced)
        shape, _ = _static_shape(x, self.idx_list, dyn, advanced=self._advanced)
        return Apply.make(self, [x, *dyn], [TensorType(x.dtype, shape)])

    def infer_shape(self, node, input_shapes):
        dyn = node.inputs[1:]
        return [_symbolic_shape(node, input_shapes[0], dyn, input_shapes[1:], self._advanced,
                                node.outputs[0].type.shape)]

    def pullback(self, node, output_grads):
        from gnomon.tensor.basic import zeros_like

        x, *dyn = node.inputs
        gx = None
        if x.dtype[0] in "fc":
            # The advanced write accumulates: an element picked twice gets both gradients.
            gx = self._write(self.idx_list, False)(zeros_like(x), output_grads[0], *dyn)
        return [gx] + [None] * len(dyn)

    def pushforward(self, node, tangents):
        t = tangents[0]
        return [None if t is None else self(t, *node.inputs[1:])]

    def __str__(self) -> str:
        return f"{type(self).__name__}{_fmt_idx(self.idx_list)}"


@dataclass(frozen=True)
class Subtensor(_IndexRead):
    """Basic indexing ``x[idx]`` (ints, slices, new axes); the output is a view of ``x``.

    Inputs: ``x``, then one integer scalar per :data:`INPUT` marker in ``idx_list``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> y = gt.dmatrix("x")[1:, 0]
    >>> y.owner.op
    Subtensor(idx_list=(SliceIndex(start=1, stop=None, step=None), 0))
    >>> print(y.owner.op)
    Subtensor{1:, 0}
    """

    _advanced = False
    view_map = {0: 0}  # noqa: RUF012

    def perform(self, node, inputs):
        x, *dyn = inputs
        key = _index_tuple(self.idx_list, dyn)
        # A trailing ``...`` makes NumPy return a 0-d view instead of a scalar copy.
        return (_run_index(lambda: x[(*key, Ellipsis)]),)


@dataclass(frozen=True)
class AdvancedSubtensor(_IndexRead):
    """Indexing with at least one integer array or boolean mask; the output is a copy.

    Inputs: ``x``, then one input per :data:`INPUT` marker: an integer scalar, an integer array
    or a boolean mask for a whole-entry marker, an integer scalar for a slice part.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dmatrix("x")
    >>> y = x[[2, 0], 1:]
    >>> print(y.owner.op)
    AdvancedSubtensor{?, 1:}
    >>> y.eval({x: np.arange(9.0).reshape(3, 3)}).tolist()
    [[7.0, 8.0], [1.0, 2.0]]
    """

    _advanced = True

    def perform(self, node, inputs):
        x, *dyn = inputs
        key = _index_tuple(self.idx_list, dyn)
        return (np.asarray(_run_index(lambda: x[key])),)


def _make_inc_node(op: Any, x: Any, y: Any, dyn: Sequence[Any], advanced: bool) -> Apply:
    x, y = as_tensor(x), as_tensor(y)
    dyn = tuple(as_tensor(d) for d in dyn)
    _check_dyn(op, dyn, advanced)
    if y.dtype != x.dtype:
        raise GnomonTypeError(with_hint(
            f"{op}: the values have dtype {y.dtype} but the array has dtype {x.dtype}",
            "use gt.set_subtensor / gt.inc_subtensor, which convert the values"))
    shape, _ = _static_shape(x, op.idx_list, dyn, advanced)
    _check_fits(y, shape, "set_subtensor" if op.set_instead_of_inc else "inc_subtensor")
    return Apply.make(op, [x, y, *dyn], [TensorType(x.dtype, x.type.shape)])


def _check_fits(y: Variable, shape: tuple[int | None, ...], fname: str) -> None:
    ys = y.type.shape  # type: ignore[attr-defined]
    fmt = "(" + ", ".join("?" if s is None else str(s) for s in shape) + (
        ",)" if len(shape) == 1 else ")")
    if len(ys) > len(shape):
        raise ShapeError(with_hint(
            f"{fname}: the values {y} have {len(ys)} dimensions, more than the {len(shape)} of "
            f"the indexed part (shape {fmt}){_where()}",
            "reshape or index the values so that they broadcast to the indexed shape"))
    for a, b in zip(ys[::-1], shape[::-1], strict=False):
        if a is not None and a != 1 and b is not None and a != b:
            raise ShapeError(with_hint(
                f"{fname}: values of shape {y.type.shape_str()} cannot be broadcast to the "  # type: ignore[attr-defined]
                f"indexed part of shape {fmt}{_where()}",
                "the values must broadcast to x[idx].shape (NumPy's rule for a[idx] = y)"))


@dataclass(frozen=True)
class _IndexWrite(Op):
    """What basic and advanced set/increment share; the subclasses differ in ``_advanced``, in
    the read their gradient takes (``_read``) and in how an increment lands (:meth:`_add`)."""

    idx_list: tuple[Entry, ...]
    set_instead_of_inc: bool = False

    _advanced: ClassVar[bool]
    _read: ClassVar[type[Op]]

    @staticmethod
    @abc.abstractmethod
    def _add(out: np.ndarray, key: tuple[Any, ...], y: np.ndarray) -> None:
        """Increment ``out[key]`` by ``y`` in place."""

    def make_node(self, x: Any, y: Any, *dyn: Any) -> Apply:
        return _make_inc_node(self, x, y, dyn, advanced=self._advanced)

    def perform(self, node, inputs):
        x, y, *dyn = inputs
        out = x.copy()  # never write into an input
        key = _index_tuple(self.idx_list, dyn)

        def run() -> None:
            if self.set_instead_of_inc:
                out[key] = y
            else:
                self._add(out, key, y)

        _run_index(run)
        return (out,)

    def infer_shape(self, node, input_shapes):
        return [tuple(input_shapes[0])]

    def pullback(self, node, output_grads):
        return _inc_pullback(self, node, output_grads[0], self._read(self.idx_list))

    def pushforward(self, node, tangents):
        return _inc_pushforward(self, node, tangents)

    def __str__(self) -> str:
        mode = "set" if self.set_instead_of_inc else "inc"
        return f"{type(self).__name__}{{{mode}, {_fmt_idx(self.idx_list)[1:]}"


@dataclass(frozen=True)
class IncSubtensor(_IndexWrite):
    """A copy of ``x`` with ``x[idx]`` (basic index) set to, or incremented by, ``y``.

    Inputs: ``x``, ``y`` (same dtype, broadcastable to ``x[idx]``), then the index scalars.
    Users call :func:`set_subtensor` and :func:`inc_subtensor`.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> z = gt.set_subtensor(gt.dvector("x")[::2], 0.0)
    >>> print(z.owner.op)
    IncSubtensor{set, ::2}
    """

    _advanced = False
    _read = Subtensor

    @staticmethod
    def _add(out: np.ndarray, key: tuple[Any, ...], y: np.ndarray) -> None:
        out[key] += y


@dataclass(frozen=True)
class AdvancedIncSubtensor(_IndexWrite):
    """A copy of ``x`` with ``x[idx]`` (advanced index) set to, or incremented by, ``y``.

    Incrementing accumulates at repeated indices, like ``np.add.at``; setting with repeated
    indices keeps one of the values (NumPy's ``a[idx] = y``).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> z = gt.inc_subtensor(x[[0, 0, 2]], 1.0)
    >>> z.eval({x: np.zeros(3)}).tolist()
    [2.0, 0.0, 1.0]
    """

    _advanced = True
    _read = AdvancedSubtensor

    @staticmethod
    def _add(out: np.ndarray, key: tuple[Any, ...], y: np.ndarray) -> None:
        np.add.at(out, key, y)  # accumulates at repeated indices


Subtensor._write = IncSubtensor
AdvancedSubtensor._write = AdvancedIncSubtensor


def _inc_pullback(op: Any, node: Apply, g: Variable, read: Op) -> list[Any]:
    from gnomon.tensor.elemwise import sum_to

    x, y, *dyn = node.inputs
    gx = gy = None
    if x.dtype[0] in "fc":
        # Setting overwrites x[idx], so that part of x gets no gradient.
        gx = type(op)(op.idx_list, True)(g, constant(0, x.dtype), *dyn) \
            if op.set_instead_of_inc else g
    if y.dtype[0] in "fc":
        gy = sum_to(read(g, *dyn), y)
    return [gx, gy] + [None] * len(dyn)


def _inc_pushforward(op: Any, node: Apply, tangents: Sequence[Any]) -> list[Any]:
    from gnomon.tensor.basic import zeros_like

    x, y, *dyn = node.inputs
    tx, ty = tangents[0], tangents[1]
    if tx is None and ty is None:
        return [None]
    # Both set and inc are linear in (x, y) jointly.
    tx = zeros_like(x) if tx is None else tx
    ty = constant(0, y.dtype) if ty is None else ty
    return [op(tx, ty, *dyn)]


@dataclass(frozen=True)
class Nonzero(Op):
    """The indices of the non-zero elements of ``x``: one int64 vector per dimension."""

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        if x.ndim == 0:
            raise GnomonValueError(with_hint(
                f"nonzero of the 0-d array {x} is not defined (NumPy refuses it too)",
                "use gt.atleast_1d(x) or x[None] first"))
        return Apply.make(self, [x], [TensorType("int64", (None,))] * x.ndim)

    def perform(self, node, inputs):
        return tuple(np.asarray(i, dtype="int64") for i in np.nonzero(inputs[0]))

    def infer_shape(self, node, input_shapes):
        from gnomon.tensor import math as tm
        from gnomon.tensor.reduce import sum as tsum

        n = tsum(tm.neq(node.inputs[0], 0), dtype="int64")
        return [(n,)] * len(node.outputs)

    def pullback(self, node, output_grads):
        return [None]  # integer outputs: nothing flows back


# --- parsing a user's index ------------------------------------------------------------------


_ELLIPSIS = object()


def _bad_index(item: Any, why: str) -> GnomonTypeError:
    return GnomonTypeError(with_hint(
        f"cannot index with {item!r}: {why}{_where()}",
        "index with ints, slices, None, ..., integer arrays or boolean masks; convert a float "
        "index with .astype('int64')"))


def _slice_part(p: Any, sl: slice) -> Part | Variable:
    if p is None:
        return None
    if isinstance(p, int | np.integer):  # (bool is an int, as in Python's own slices)
        return int(p)
    v = as_tensor(p) if isinstance(p, Variable | np.ndarray) else None
    if v is None or v.ndim != 0 or v.dtype == "bool" or v.dtype[0] not in "iu":
        what = v.type if v is not None else type(p).__name__
        raise _bad_index(sl, f"slice bounds must be integers or integer scalars, not {what}")
    if isinstance(v, Constant):
        return int(v.data)
    return v


def _parse_item(item: Any) -> tuple[str, Any]:
    """Classify one index item: (kind, value) with kind in int, dyn, slice, new, ellipsis,
    array, mask."""
    if item is None:
        return ("new", None)
    if item is Ellipsis:
        return ("ellipsis", None)
    if isinstance(item, slice):
        return ("slice", tuple(_slice_part(p, item) for p in (item.start, item.stop,
                                                                 item.step)))
    if isinstance(item, bool | np.bool_):
        raise _bad_index(item, "a boolean scalar index (x[True]) is not supported")
    if isinstance(item, int | np.integer):
        return ("int", int(item))
    if isinstance(item, Variable):
        v = as_tensor(item)
    else:
        arr = np.asarray(item)
        if arr.dtype == object:
            v = as_tensor(item)  # a list holding variables: stacked
        else:
            if arr.size == 0 and arr.dtype.kind == "f":
                arr = arr.astype("int64")  # an empty list indexes like an empty int array
            v = constant(arr)
    if v.dtype == "bool":
        if v.ndim == 0:
            raise _bad_index(item, "a 0-d boolean index (x[True]) is not supported")
        return ("mask", v)
    if v.dtype[0] not in "iu":
        raise _bad_index(item, f"arrays used as indices must be of integer or boolean type, "
                               f"not {v.dtype}")
    if v.ndim == 0:
        return ("int", int(v.data)) if isinstance(v, Constant) else ("dyn", v)
    return ("array", v)


def _parse(x: Variable, idx: Any) -> tuple[tuple[Entry, ...], list[Variable], bool]:
    items = idx if isinstance(idx, tuple) else (idx,)
    parsed = [_parse_item(it) for it in items]
    n_ell = sum(k == "ellipsis" for k, _ in parsed)
    if n_ell > 1:
        raise GnomonValueError(with_hint(
            f"an index can only have a single ellipsis ('...'), got {n_ell}{_where()}",
            "keep one '...'"))
    used = sum(v.ndim if k == "mask" else 1 for k, v in parsed if k not in ("new", "ellipsis"))
    if used > x.ndim:
        masks = [v for k, v in parsed if k == "mask"]
        extra = (f" (a boolean mask counts as many indices as it has dimensions: "
                 f"{', '.join(f'{m.ndim}-d' for m in masks)})" if masks else "")
        raise IndexOutOfBoundsError(with_hint(
            f"too many indices for {x} of type {x.type}: the array is {x.ndim}-dimensional, "
            f"but {used} were indexed{extra}{_where()}",
            "use one index per dimension at most; add dimensions with None (np.newaxis)"))
    advanced = any(k in ("array", "mask") for k, _ in parsed)
    if n_ell:
        at = next(i for i, (k, _) in enumerate(parsed) if k == "ellipsis")
        adv_kinds = ("array", "mask", "int", "dyn")
        between = (advanced and x.ndim == used and any(k in adv_kinds for k, _ in parsed[:at])
                   and any(k in adv_kinds for k, _ in parsed[at + 1:]))
        parsed[at:at + 1] = ([("ellipsis", None)] if between
                             else [("slice", (None, None, None))] * (x.ndim - used))
    xs = x.type.shape  # type: ignore[attr-defined]
    entries: list[Entry] = []
    dyn: list[Variable] = []
    axis = 0
    for kind, val in parsed:
        if kind in ("new", "ellipsis"):
            entries.append(NEWAXIS if kind == "new" else ELLIPSIS)
            continue
        n = xs[axis] if axis < len(xs) else None
        if kind == "int":
            # Negative constants on a known length become non-negative: one canonical form.
            entries.append(val + n if n is not None and -n <= val < 0 else val)
        elif kind == "slice":
            entries.append(_make_slice(val, n, dyn))
        else:
            entries.append(INPUT)
            dyn.append(val)
        axis += val.ndim if kind == "mask" else 1
    # Trailing full slices change nothing: drop them for one canonical op (unless a kept
    # ``...`` must keep standing for no dimension at run time).
    while (entries and isinstance(entries[-1], SliceIndex) and entries[-1].is_full
           and ELLIPSIS not in entries):
        entries.pop()
    return tuple(entries), dyn, advanced


def _make_slice(parts: tuple[Any, ...], n: int | None, dyn: list[Variable]) -> SliceIndex:
    start, stop, step = parts
    if step == 1:
        step = None
    forward = step is None or (isinstance(step, int) and step > 0)
    if forward and start == 0 and isinstance(start, int):
        start = None
    if forward and n is not None and isinstance(stop, int) and stop >= n:
        stop = None
    if isinstance(step, int) and step == 0:
        raise GnomonValueError(with_hint(f"slice step cannot be zero{_where()}",
                                         "use a positive or negative step"))
    out: list[Part] = []
    for p in (start, stop, step):
        if isinstance(p, Variable):
            dyn.append(p)
            out.append(INPUT)
        else:
            out.append(p)
    return SliceIndex(*out)


# --- user functions ---------------------------------------------------------------------------


def getitem(x: Any, idx: Any) -> Variable:
    """``x[idx]`` with NumPy's semantics (what ``x[idx]`` on a variable calls).

    Parameters
    ----------
    x : array-like or Variable
    idx : index
        Python ints and integer scalar variables, slices (bounds may be integer scalar
        variables), ``None`` / ``np.newaxis``, ``...``, integer arrays (constant or symbolic) and
        boolean masks. Basic indices give a view (:class:`Subtensor`); an integer array or mask
        gives a copy (:class:`AdvancedSubtensor`).

    Returns
    -------
    Variable
        The static shape is known where the indexed lengths and the index are constants.
        Constant indices outside a dimension of known length raise
        :class:`IndexOutOfBoundsError` now; others raise when the graph runs.

    Notes
    -----
    ``x.shape[i]`` with a constant ``i`` is built as :func:`gnomon.tensor.shape_i` directly (a
    constant when the length is static). A 0-d boolean index (``x[True]``) is not supported.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.tensor("x", shape=(4, None))
    >>> x[1:, None, ::-1].type
    TensorType('float64', (3, 1, None))
    >>> v = np.arange(8.0).reshape(4, 2)
    >>> x[x[:, 0] > 3].eval({x: v}).tolist()
    [[4.0, 5.0], [6.0, 7.0]]
    >>> i = gt.lscalar("i")
    >>> x[i, ::-1].eval({x: v, i: -1}).tolist()
    [7.0, 6.0]
    """
    x = as_tensor(x)
    owner = x.owner
    if owner is not None and isinstance(owner.op, Shape):
        folded = _shape_index(owner.inputs[0], idx)
        if folded is not None:
            return folded
    entries, dyn, advanced = _parse(x, idx)
    op = AdvancedSubtensor(entries) if advanced else Subtensor(entries)
    return op(x, *dyn)


def _shape_index(inner: Variable, idx: Any) -> Variable | None:
    """``x.shape[i]`` / ``x.shape[a:b]`` built from ``shape_i`` (no indexing node)."""
    from gnomon.tensor.shapes import make_vector, shape_i

    n = inner.ndim
    if isinstance(idx, int | np.integer) and not isinstance(idx, bool | np.bool_):
        i = int(idx)
        if not -n <= i < n:
            raise IndexOutOfBoundsError(with_hint(
                f"index {i} is out of bounds for the shape of {inner}, which has {n} "
                f"entries{_where()}", f"use an index from {-n} to {n - 1}"))
        return shape_i(inner, i % n)
    if isinstance(idx, slice) and all(
        p is None or (isinstance(p, int | np.integer) and not isinstance(p, bool))
        for p in (idx.start, idx.stop, idx.step)
    ):
        if idx.step == 0:
            return None
        return make_vector(*[shape_i(inner, j) for j in range(n)[idx]])
    return None


def _prepare_values(v: Variable, y: Any, set_: bool, fname: str) -> Variable:
    """Convert ``y`` to the dtype of the indexed array and drop extra leading length-1 dims."""
    from gnomon.tensor.shapes import dimshuffle

    dtype = v.dtype
    if isinstance(y, bool | int | float | complex) and not isinstance(y, Variable):
        kind = np.dtype(dtype).kind
        ok = {"b": (bool,), "i": (bool, int), "u": (bool, int), "f": (bool, int, float),
              "c": (bool, int, float, complex)}[kind]
        if isinstance(y, ok):
            arr = np.array(y).astype(dtype) if kind not in "iu" else None
            if arr is None:
                info = np.iinfo(dtype)
                if not info.min <= y <= info.max:  # type: ignore[operator]
                    raise GnomonValueError(with_hint(
                        f"{fname}: the value {y} does not fit in {dtype}, the dtype of the array",
                        "cast the array to a wider dtype first"))
                arr = np.array(y, dtype=dtype)
            y = constant(arr)
    y = as_tensor(y)
    if y.dtype != dtype:
        if not set_ and not np.can_cast(y.dtype, dtype, casting="same_kind"):
            raise GnomonTypeError(with_hint(
                f"{fname}: cannot add values of dtype {y.dtype} into an array of dtype {dtype} "
                f"(NumPy's same_kind rule){_where()}",
                f"cast the values first (y.astype('{dtype}')), or use set_subtensor"))
        y = cast(y, dtype)
    extra = y.ndim - v.ndim
    if extra > 0:
        lead = y.type.shape[:extra]
        if any(s != 1 for s in lead):
            raise ShapeError(with_hint(
                f"{fname}: the values {y} (shape {y.type.shape_str()}) have more dimensions "
                f"than the indexed part {v} (shape {v.type.shape_str()}){_where()}",  # type: ignore[attr-defined]
                "the values must broadcast to x[idx].shape; reshape them"))
        y = dimshuffle(y, list(range(extra, y.ndim)))
    return y


def _update(x_indexed: Any, y: Any, set_: bool) -> Variable:
    fname = "set_subtensor" if set_ else "inc_subtensor"
    v = x_indexed
    node = v.owner if isinstance(v, Variable) else None
    if node is None or not isinstance(node.op, Subtensor | AdvancedSubtensor):
        made_by = f"it is the output of {node.op}" if node is not None else (
            "it is a constant or an input, not an indexing result")
        shape_note = (" (x.shape[i] is built directly as a shape scalar, not by indexing, "
                      "so it cannot be updated)" if node is not None
                      and isinstance(node.op, ShapeI) else "")
        raise GnomonTypeError(with_hint(
            f"{fname} expects the result of indexing, x[idx], as its first argument, but "
            f"got {v!r}: {made_by}{shape_note}{_where()}",
            f"write {fname}(x[idx], y), passing the indexing expression itself; to update a "
            "shape, build the new shape with gt.make_vector / gt.stack"))
    x, *dyn = node.inputs
    yv = _prepare_values(v, y, set_, fname)
    cls = IncSubtensor if isinstance(node.op, Subtensor) else AdvancedIncSubtensor
    return cls(node.op.idx_list, set_)(x, yv, *dyn)


def set_subtensor(x: Any, y: Any) -> Variable:
    """A copy of the indexed array with the indexed part replaced by ``y``.

    ``set_subtensor(a[idx], y)`` is the symbolic form of NumPy's ``a2 = a.copy();
    a2[idx] = y``: ``y`` is converted to ``a``'s dtype and broadcast to ``a[idx].shape``.

    Parameters
    ----------
    x : Variable
        The result of indexing, ``a[idx]``: its node gives ``a`` and ``idx``. For a nested
        index (``a[i][j]``) the array updated is the innermost one (``a[i]``); write
        ``a[i, j]`` to update ``a``.
    y : array-like or Variable
        The new values. With repeated advanced indices one of the values is kept, as in NumPy.

    Notes
    -----
    The gradient with respect to ``y`` assumes the advanced indices do not repeat (with
    repeats, the values that NumPy overwrites still get a gradient).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dmatrix("a")
    >>> b = gt.set_subtensor(a[:, 0], [10.0, 20.0])
    >>> b.eval({a: np.zeros((2, 2))}).tolist()
    [[10.0, 0.0], [20.0, 0.0]]
    """
    return _update(x, y, True)


def inc_subtensor(x: Any, y: Any) -> Variable:
    """A copy of the indexed array with ``y`` added to the indexed part.

    ``inc_subtensor(a[idx], y)`` is ``a2 = a.copy(); np.add.at(a2, idx, y)``: elements picked
    several times by an advanced index get every increment. ``y`` must convert to ``a``'s dtype
    under NumPy's ``same_kind`` rule and broadcast to ``a[idx].shape``.

    Parameters
    ----------
    x : Variable
        The result of indexing, ``a[idx]`` (see :func:`set_subtensor`).
    y : array-like or Variable
        The increments.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = gt.dvector("a")
    >>> i = gt.lvector("i")
    >>> gt.inc_subtensor(a[i], 1.0).eval({a: np.zeros(3), i: [0, 2, 0]}).tolist()
    [2.0, 0.0, 1.0]
    """
    return _update(x, y, False)


def take(x: Any, indices: Any, axis: int | None = None) -> Variable:
    """Elements of ``x`` at ``indices`` along ``axis`` (like ``np.take``, ``mode='raise'``).

    With ``axis=None`` the flattened ``x`` is indexed. Boolean ``indices`` are read as the
    integers 0 and 1, as ``np.take`` does.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dmatrix("x")
    >>> gt.take(x, [1, 1, 0], axis=1).eval({x: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [[2.0, 2.0, 1.0], [4.0, 4.0, 3.0]]
    """
    from gnomon.tensor.shapes import _axis

    x = as_tensor(x)
    if axis is None:
        from gnomon import tensor as gt

        x = gt.flatten(x)
        axis = 0
    axis = _axis(int(axis), x.ndim)
    ind = indices if isinstance(indices, Variable) else np.asarray(indices)
    if isinstance(ind, np.ndarray) and ind.size == 0:
        ind = ind.astype("int64")
    if np.dtype(ind.dtype) == np.bool_:
        ind = cast(as_tensor(ind), "int64")
    key = (slice(None),) * axis + (ind,)
    return getitem(x, key)


def nonzero(x: Any) -> tuple[Variable, ...]:
    """The indices of the non-zero elements of ``x``, one int64 vector per dimension.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> rows, cols = gt.nonzero(gt.constant([[0, 3], [5, 0]]))
    >>> rows.eval().tolist(), cols.eval().tolist()
    ([0, 1], [1, 0])
    """
    outs = Nonzero().make_node(as_tensor(x)).outputs
    return tuple(outs)
