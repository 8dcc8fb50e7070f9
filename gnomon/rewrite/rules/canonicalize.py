"""Canonicalization: algebraic simplification into one canonical form, shapes, constant folding.

Every rule returns a value equal to the node's output *up to broadcasting and dtype*: the engine
casts and broadcasts (``Alloc``) the replacement where its type or run-time shape may differ
(:func:`gnomon.rewrite.engine.fit_replacement`).

IEEE special values. Like PyTensor, the algebraic rules treat ``x`` as a finite number:
``x * 0 -> 0``, ``x - x -> 0``, ``x / x -> 1`` and ``x * y / x -> y`` ignore that the left side
is NaN where ``x`` is inf or NaN (and, for the last two, where ``x`` is 0). Exclude the group
``'algebra_ieee'`` (``Mode(...).excluding('algebra_ieee')``) to keep those exact IEEE results.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.rewrite.egraph.rules import register_greedy
from gnomon.rewrite.engine import current_oracle, register_rule, symbolic_shape
from gnomon.rewrite.pattern import (
    Const,
    P,
    Var,
    constant_equals,
    is_float,
    is_inexact,
    scalar_value,
)
from gnomon.scalar.basic import Add, Cast, Identity, Mul, Neg, Pow, Sub, Switch, TrueDiv
from gnomon.scalar.math import Exp, Log
from gnomon.tensor.basic import Alloc, alloc, cast, constant
from gnomon.tensor.elemwise import Elemwise, SumToShape
from gnomon.tensor.indexing import Subtensor
from gnomon.tensor.math import add, ge, mul, neg, power, true_divide, where
from gnomon.tensor.reduce import Sum
from gnomon.tensor.reduce import sum as tsum
from gnomon.tensor.shapes import (
    DimShuffle,
    Join,
    MakeVector,
    Reshape,
    Shape,
    ShapeI,
    dimshuffle,
    make_vector,
    pad_left,
    shape_tuple,
)

CANON = ("canonicalize",)
IEEE = ("canonicalize", "algebra_ieee")
#: Clean-up rules also run in the specialize stage, whose rules build new nodes (``dot`` of
#: vectors adds dimshuffles) that would otherwise be left for the next compilation.
CLEANUP = ("canonicalize", "specialize", "cleanup")


def _zero(dtype: str) -> Variable:
    return constant(0, dtype=dtype)


def _one(dtype: str) -> Variable:
    return constant(1, dtype=dtype)


def _mul_all(factors: list[Variable], dtype: str) -> Variable:
    if not factors:
        return _one(dtype)
    return factors[0] if len(factors) == 1 else mul(*factors)


def _add_all(terms: list[Variable], dtype: str) -> Variable:
    if not terms:
        return _zero(dtype)
    return terms[0] if len(terms) == 1 else add(*terms)


# --- negation, addition, subtraction --------------------------------------------------------


# Rules that are exactly an e-graph equality read left to right are generated from its data
# (gnomon.rewrite.egraph.rules.RULES: one table for both engines; docs/egraph.md).
register_greedy("neg_neg", __name__, groups=CLEANUP)


# x + 0 -> x (the zero may be any broadcast array of zeros)
register_greedy("add_zero", __name__, groups=CANON)


@register_rule(P(Elemwise(Sub), "x", Const(value=0)), groups=CANON)
def sub_zero(node: Apply, x: Variable) -> Variable:
    """``x - 0 -> x``."""
    return x


@register_rule(P(Elemwise(Sub), Const(value=0), "x"), groups=CANON)
def zero_sub(node: Apply, x: Variable) -> Variable | None:
    """``0 - x -> -x`` (when no dtype promotion happens: ``-x`` of an unsigned ``x`` wraps)."""
    if x.dtype == "bool" or x.dtype != node.outputs[0].dtype:
        return None
    return neg(x)


@register_rule(P(Elemwise(Sub), "x", Const("c"), where=is_inexact), groups=CANON)
def sub_constant_to_add(node: Apply, x: Variable, c: Constant) -> Variable | None:
    """``x - c -> x + (-c)`` for a constant ``c`` (inexact dtypes), so that additions of
    constants meet in one add chain (``exp(x) + y - 1`` is ``add(exp(x), y, -1)``)."""
    if isinstance(x, Constant):
        return None
    return add(x, constant(np.negative(c.data)))


@register_rule(P(Elemwise(Sub), "x", "x"), groups=IEEE)
def sub_self(node: Apply, x: Variable) -> Variable:
    """``x - x -> 0`` (NaN for infinite or NaN ``x`` before the rewrite; see the module)."""
    return _zero(node.outputs[0].dtype)


#: A variadic add/mul absorbs no more terms than this. Without a bound, a chain of ``n``
#: additions (a sum written as a loop) flattens into one node of ``n`` inputs, built ``n``
#: times over (O(n**2) time), and then one kernel with ``n`` arguments; bounded, the chain
#: becomes a chain of variadic nodes of at most this many terms.
MAX_ARITY = 32


def _flatten(node: Apply, cls: type) -> Variable | None:
    # Splice nested add/mul nodes of the same dtype into one variadic node. Only when the inner
    # node's dtype is the outer one's: NumPy evaluates add(int8, int8) in int8 (wrapping), so
    # re-associating across a promotion would change results.
    out_dtype = node.outputs[0].dtype
    new: list[Variable] = []
    changed = False
    for k, x in enumerate(node.inputs):
        o = x.owner
        if (o is not None and isinstance(o.op, Elemwise) and isinstance(o.op.scalar_op, cls)
                and x.dtype == out_dtype and all(i.dtype == out_dtype for i in o.inputs)
                and len(new) + len(o.inputs) + len(node.inputs) - k - 1 <= MAX_ARITY):
            new.extend(o.inputs)
            changed = True
        else:
            new.append(x)
    if not changed or not all(x.dtype == out_dtype for x in new):
        return None
    return Elemwise(cls())(*new)


@register_rule(None, ops=[Elemwise(Add)], groups=CANON)
def flatten_add(node: Apply) -> Variable | None:
    """``(a + b) + c -> add(a, b, c)`` (same dtype throughout)."""
    return _flatten(node, Add) if isinstance(node.op.scalar_op, Add) else None


@register_rule(None, ops=[Elemwise(Mul)], groups=CANON)
def flatten_mul(node: Apply) -> Variable | None:
    """``(a * b) * c -> mul(a, b, c)`` (same dtype throughout)."""
    return _flatten(node, Mul) if isinstance(node.op.scalar_op, Mul) else None


def _coef_term(t: Variable) -> tuple[Any, Variable]:
    """Split a term into (Python number coefficient, base): ``3*x -> (3, x)``, ``-x -> (-1, x)``."""
    o = t.owner
    if o is not None and isinstance(o.op, Elemwise):
        so = o.op.scalar_op
        if isinstance(so, Neg):
            c, b = _coef_term(o.inputs[0])
            return -c, b
        if isinstance(so, Mul) and len(o.inputs) >= 2:
            consts = [i for i in o.inputs if isinstance(i, Constant) and scalar_value(i) is not None
                      and _is_scalar_shaped(i)]
            if len(consts) == 1:
                rest = [i for i in o.inputs if i is not consts[0]]
                base = rest[0] if len(rest) == 1 else mul(*rest)
                return scalar_value(consts[0]), base
    return 1, t


def _is_scalar_shaped(v: Variable) -> bool:
    return all(s == 1 for s in v.type.shape)  # type: ignore[attr-defined]


@register_rule(None, ops=[Elemwise(Add)], groups=CANON)
def collect_add_terms(node: Apply) -> Variable | None:
    """Collect like terms: ``x + 2*x + y - x... -> 3*x + y`` (inexact dtypes)."""
    out = node.outputs[0]
    if not isinstance(node.op.scalar_op, Add) or np.dtype(out.dtype).kind not in "fc":
        return None
    if any(t.dtype != out.dtype for t in node.inputs):
        # the sum folds pairwise in NumPy's dtypes: bool + bool is a logical or, int8 + int8
        # wraps, before the float term joins, so 2*b is not b + b there
        return None
    order: list[int] = []
    coefs: dict[int, Any] = {}
    bases: dict[int, Variable] = {}
    for t in node.inputs:
        c, b = _coef_term(t)
        k = id(b)
        if k not in coefs:
            order.append(k)
            coefs[k] = 0
            bases[k] = b
        coefs[k] = coefs[k] + c
    if len(order) == len(node.inputs):
        return None
    terms = []
    for k in order:
        c, b = coefs[k], bases[k]
        if c == 0:
            continue
        terms.append(b if c == 1 else neg(b) if c == -1 else mul(c, b))
    return _add_all(terms, out.dtype)


# --- multiplication and division --------------------------------------------------------------


register_greedy("mul_one", __name__, groups=CANON)


@register_rule(P(Elemwise(Mul), Const(value=0), rest="others"), groups=IEEE)
def mul_zero(node: Apply, others: tuple[Variable, ...]) -> Variable:
    """``x * 0 -> 0``, keeping the broadcast shape and dtype (NaN/inf ``x``: see the module)."""
    return _zero(node.outputs[0].dtype)


@register_rule(P(Elemwise(Mul), Const(value=-1), rest="others"), groups=CANON)
def mul_minus_one(node: Apply, others: tuple[Variable, ...]) -> Variable | None:
    """``x * -1 -> -x`` (when no dtype promotion happens: ``-x`` of an unsigned ``x`` wraps)."""
    dtype = node.outputs[0].dtype
    if dtype == "bool" or any(o.dtype != dtype for o in others):
        return None
    return neg(_mul_all(list(others), node.outputs[0].dtype))


register_greedy("div_one", __name__, groups=CANON)


@register_rule(P(Elemwise(TrueDiv), "x", "x"), groups=IEEE)
def div_self(node: Apply, x: Variable) -> Variable:
    """``x / x -> 1`` (NaN for 0, inf or NaN ``x`` before the rewrite; see the module)."""
    return _one(node.outputs[0].dtype)


def _factors(v: Variable) -> list[Variable]:
    o = v.owner
    if o is not None and isinstance(o.op, Elemwise) and isinstance(o.op.scalar_op, Mul):
        return list(o.inputs)
    return [v]


@register_rule(P(Elemwise(TrueDiv), "num", "den"), groups=IEEE)
def mul_div_cancel(node: Apply, num: Variable, den: Variable) -> Variable | None:
    """Cancel common factors: ``x * y / x -> y``, ``(x*y) / (x*z) -> y / z``."""
    dtype = node.outputs[0].dtype
    if np.dtype(dtype).kind not in "fc":
        return None
    nf, df = _factors(num), _factors(den)
    left = list(df)
    kept: list[Variable] = []
    cancelled = False
    for f in nf:
        for i, g in enumerate(left):
            if g is f:
                del left[i]
                cancelled = True
                break
        else:
            kept.append(f)
    if not cancelled:
        return None
    top = _mul_all(kept, dtype)
    return top if not left else true_divide(top, _mul_all(left, dtype))


@register_rule(None, ops=[Elemwise(Mul)], groups=CANON)
def collect_mul_factors(node: Apply) -> Variable | None:
    """Collect powers of like factors: ``x * x -> x**2``, ``x**2 * x -> x**3`` (inexact)."""
    out = node.outputs[0]
    if not isinstance(node.op.scalar_op, Mul) or np.dtype(out.dtype).kind not in "fc":
        return None
    order: list[int] = []
    exps: dict[int, Any] = {}
    bases: dict[int, Variable] = {}
    for f in node.inputs:
        b, e = f, 1
        o = f.owner
        if (o is not None and isinstance(o.op, Elemwise) and isinstance(o.op.scalar_op, Pow)
                and f.dtype == out.dtype):
            ev = scalar_value(o.inputs[1])
            if ev is not None and _is_scalar_shaped(o.inputs[1]) and float(ev).is_integer():
                b, e = o.inputs[0], int(ev)
        if isinstance(b, Constant):
            b, e = f, 1
        k = id(b)
        if k not in exps:
            order.append(k)
            exps[k] = 0
            bases[k] = b
        exps[k] += e
    if len(order) == len(node.inputs):
        return None
    factors = []
    for k in order:
        e, b = exps[k], bases[k]
        factors.append(b if e == 1 else power(b, e))
    return _mul_all(factors, out.dtype)


# --- powers, exp and log ----------------------------------------------------------------------


register_greedy("pow_one", __name__, groups=CANON)


@register_rule(P(Elemwise(Pow), "x", Const(value=0)), groups=CANON)
def pow_zero(node: Apply, x: Variable) -> Variable:
    """``x ** 0 -> 1`` (also for 0, inf and NaN, as in NumPy)."""
    return _one(node.outputs[0].dtype)


@register_rule(P(Elemwise(Pow), P(Elemwise(Pow), "x", Const("a")), Const("b"), where=is_float),
               groups=CANON)
def pow_pow(node: Apply, x: Variable, a: Constant, b: Constant) -> Variable | None:
    """``(x ** a) ** b -> x ** (a*b)`` for integer constants ``a`` and ``b`` (exact then)."""
    av, bv = scalar_value(a), scalar_value(b)
    if av is None or bv is None or not (_is_scalar_shaped(a) and _is_scalar_shaped(b)):
        return None
    if not (float(av).is_integer() and float(bv).is_integer()):
        return None
    if node.inputs[0].dtype != node.outputs[0].dtype:
        return None
    return power(x, int(av) * int(bv))


@register_rule(P(Elemwise(Exp), P(Elemwise(Log), Var("x", where=is_float))), groups=CANON)
def exp_log(node: Apply, x: Variable) -> Variable:
    """``exp(log(x)) -> x`` where ``x >= 0`` (NaN elsewhere, as before)."""
    return where(ge(x, 0), x, constant(np.nan, dtype=x.dtype))


# log(exp(x)) -> x (real x; also right where exp(x) would overflow)
register_greedy("log_exp", __name__, float_only=True, groups=CANON)


# --- casts, copies, switches ------------------------------------------------------------------


@register_rule(P(Elemwise(Cast), "x"), groups=CLEANUP)
def useless_cast(node: Apply, x: Variable) -> Variable | None:
    """``cast(x, x.dtype) -> x``."""
    return x if x.dtype == node.outputs[0].dtype else None


@register_rule(P(Elemwise(Cast), P(Elemwise(Cast), "x", name="mid")), groups=CLEANUP)
def cast_cast(node: Apply, x: Variable, mid: Variable) -> Variable | None:
    """``cast(cast(x, a), b) -> cast(x, b)`` when the first cast loses nothing."""
    if not np.can_cast(np.dtype(x.dtype), np.dtype(mid.dtype), casting="safe"):
        return None
    return cast(x, node.outputs[0].dtype)


@register_rule(P(Elemwise(Identity), "x"), groups=CLEANUP)
def remove_identity(node: Apply, x: Variable) -> Variable:
    """``identity(x) -> x`` (a compiled function still never returns its own input's memory)."""
    return x


@register_rule(P(Elemwise(Switch), Const("c"), "a", "b"), groups=CANON)
def switch_constant_condition(
    node: Apply, c: Constant, a: Variable, b: Variable
) -> Variable | None:
    """``where(True, a, b) -> a`` and ``where(False, a, b) -> b``."""
    if constant_equals(c, True):
        return a
    if constant_equals(c, False):
        return b
    return None


@register_rule(P(Elemwise(Switch), "c", "a", "a"), groups=CANON)
def switch_same_branches(node: Apply, c: Variable, a: Variable) -> Variable:
    """``where(c, a, a) -> a``."""
    return a


# --- dimshuffle, alloc, reductions --------------------------------------------------------------


@register_rule(P(DimShuffle, "x"), groups=CLEANUP)
def useless_dimshuffle(node: Apply, x: Variable) -> Variable | None:
    """A DimShuffle that keeps every dimension in place is ``x``."""
    op = node.op
    return x if op.new_order == tuple(range(x.ndim)) else None


@register_rule(P(DimShuffle, P(DimShuffle, "x")), groups=CLEANUP)
def dimshuffle_dimshuffle(node: Apply, x: Variable) -> Variable:
    """Two DimShuffles (double transpose, expand then squeeze ...) become one (or none)."""
    outer = node.op
    inner = node.inputs[0].owner.op  # type: ignore[union-attr]
    composed = tuple("x" if d == "x" else inner.new_order[int(d)] for d in outer.new_order)
    return dimshuffle(x, composed)


@register_rule(None, ops=[Alloc], groups=CLEANUP)
def useless_alloc(node: Apply) -> Variable | None:
    """``alloc(v, *v.shape) -> v`` when the shape is provably ``v``'s own."""
    v, dims = node.inputs[0], node.inputs[1:]
    out = node.outputs[0]
    if v.ndim != out.ndim:
        return None
    if any(o is not None and o != s for o, s in zip(out.type.shape, v.type.shape, strict=True)):
        return None
    oracle = current_oracle()
    for d, s in enumerate(dims):
        if oracle.key(v, d) != oracle.dim_value_key(s):
            return None
    return v


@register_rule(None, ops=[Alloc], groups=CLEANUP)
def alloc_alloc(node: Apply) -> Variable | None:
    """``alloc(alloc(v, *s1), *s2) -> alloc(v, *s2)`` (broadcasting twice is broadcasting once)."""
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Alloc):
        return None
    return alloc(inner.inputs[0], *node.inputs[1:])


@register_rule(None, ops=[Sum], groups=CANON)
def sum_of_alloc(node: Apply) -> Variable | None:
    """``sum(alloc(v, *shape), axes)`` without materializing the broadcast: a summed axis
    along which ``v`` is broadcast becomes a factor ``shape[axis]``, the others are summed on
    ``v`` itself (``sum(zeros((n, m)) + c) -> c * n * m``). Declines when it cannot tell
    whether ``v`` is broadcast along a summed axis."""
    a = node.inputs[0]
    if a.owner is None or not isinstance(a.owner.op, Alloc):
        return None
    out = node.outputs[0]
    if np.dtype(out.dtype).kind not in "fciu":
        return None
    dims = a.owner.inputs[1:]
    v = pad_left(a.owner.inputs[0], len(dims))
    axes = node.op.axes
    oracle = current_oracle()
    counts, summed = [], []
    for ax in axes:
        if v.type.shape[ax] == 1:  # type: ignore[attr-defined]
            counts.append(cast(dims[ax], out.dtype))
        elif oracle.key(v, ax) == oracle.dim_value_key(dims[ax]):
            summed.append(ax)
        else:
            return None
    part = tsum(v, axis=summed, keepdims=True, dtype=out.dtype) if summed else cast(v, out.dtype)
    kept = [i for i in range(len(dims)) if i not in axes]
    part = dimshuffle(part, kept)  # the summed / broadcast axes have length 1 here
    total = mul(part, *counts) if counts else part
    rest = [dims[i] for i in kept]
    return alloc(total, *rest) if rest else total


# --- shapes --------------------------------------------------------------------------------


@register_rule(P(ShapeI, "x"), groups=("canonicalize", "shape"))
def shape_i_of_expression(node: Apply, x: Variable) -> Variable | None:
    """``x.shape[i]`` from the static shape, or from the shapes of the inputs of ``x``'s node
    (``op.infer_shape``), so the shape of an expression never computes the expression."""
    i = node.op.i
    s = x.type.shape[i]  # type: ignore[attr-defined]
    if s is not None:
        return constant(s, "int64")
    if x.owner is None:
        return None
    shp = symbolic_shape(x)
    if shp is None:
        return None
    d = shp[i]
    if d.owner is not None and d.owner is node:
        return None
    return cast(d, "int64") if d.dtype != "int64" else d


@register_rule(P(Shape, "x"), groups=("canonicalize", "shape"))
def shape_to_shape_i(node: Apply, x: Variable) -> Variable:
    """``shape(x) -> make_vector(x.shape[0], ...)`` (each entry then simplifies on its own)."""
    if x.ndim == 0:
        return constant(np.zeros((0,), dtype="int64"))
    return make_vector(*shape_tuple(x))


# --- constant folding ----------------------------------------------------------------------

#: Outputs larger than this many elements are not folded (a graph should not carry big arrays
#: that are cheap to compute, such as ``zeros((1000, 1000))``).
MAX_FOLD_SIZE = 2**16


@register_rule(None, groups=("constant_folding",))
def constant_fold(node: Apply) -> list[Variable] | None:
    """A node whose inputs are all constants is replaced by its value (computed with the
    op's reference ``perform``). Ops can opt out with ``constant_foldable = False``
    (random number generators, say)."""
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    if not getattr(node.op, "constant_foldable", True):
        return None
    for o in node.outputs:
        shp = getattr(o.type, "shape", None)
        if shp is None:
            return None
        if all(s is not None for s in shp) and math.prod(shp) > MAX_FOLD_SIZE:
            return None
    try:
        with np.errstate(all="ignore"):
            values = node.op.perform(node, [i.data for i in node.inputs])
    except Exception:
        return None  # leave the error to run time, where it names the user's line
    outs = []
    for v, o in zip(values, node.outputs, strict=True):
        arr = np.asarray(v)
        if arr.size > MAX_FOLD_SIZE or arr.dtype.name != o.dtype:
            return None
        outs.append(constant(arr))
    return outs



# --- reshapes, joins, indexing ------------------------------------------------------------------


@register_rule(None, ops=[Reshape], groups=CANON, exact_shape=True)
def reshape_reshape(node: Apply) -> Variable | None:
    """``reshape(reshape(x, s1), s2) -> reshape(x, s2)`` (C order is kept by both)."""
    inner = node.inputs[0].owner
    if inner is None or type(inner.op) is not type(node.op):
        return None
    return node.op.make_node(inner.inputs[0], *node.inputs[1:]).outputs[0]


def _shape_entries(shape: Variable) -> list[Any] | None:
    """The entries of a shape vector: ints of a constant, scalars of a ``make_vector``."""
    if isinstance(shape, Constant):
        return [int(s) for s in np.asarray(shape.data).reshape(-1)]
    if shape.owner is not None and isinstance(shape.owner.op, MakeVector):
        return list(shape.owner.inputs)
    return None


@register_rule(None, ops=[SumToShape], groups=CANON)
def useless_sum_to_shape(node: Apply) -> Variable | None:
    """``sum_to(g, shape) -> g`` when every length in ``shape`` is provably ``g``'s own
    (nothing is summed; gradients of inputs that were not broadcast)."""
    g, shape = node.inputs
    entries = _shape_entries(shape)
    if entries is None or len(entries) != g.ndim:
        return None
    oracle = current_oracle()
    for d, s in enumerate(entries):
        key = s if isinstance(s, int) else oracle.dim_value_key(s)
        if oracle.key(g, d) != key:
            return None
    return g


@register_rule(None, ops=[Reshape], groups=CANON)
def useless_reshape(node: Apply) -> Variable | None:
    """``reshape(x, x.shape) -> x`` when every new length is provably ``x``'s own."""
    x, dims = node.inputs[0], node.inputs[1:]
    out = node.outputs[0]
    if x.ndim != len(dims):
        return None
    if any(o is not None and o != s for o, s in zip(out.type.shape, x.type.shape, strict=True)):
        return None
    oracle = current_oracle()
    for d, s in enumerate(dims):
        if oracle.key(x, d) != oracle.dim_value_key(s):
            return None
    return x


def _leading_int(node: Apply) -> int | None:
    idx = node.op.idx_list
    if not idx or type(idx[0]) is not int:
        return None
    return idx[0]


@register_rule(None, ops=[Subtensor], groups=CANON, exact_shape=True)
def index_of_join(node: Apply) -> Variable | None:
    """``concatenate([a, b, ...])[k, ...] -> a[k, ...]`` (or ``b[k - len(a), ...]`` ...) for a
    constant ``k`` and parts of static length along axis 0; covers ``stack``."""
    k = _leading_int(node)
    j = node.inputs[0]
    if k is None or j.owner is None or not isinstance(j.owner.op, Join) or j.owner.op.axis != 0:
        return None
    lengths = [p.type.shape[0] for p in j.owner.inputs]  # type: ignore[attr-defined]
    if any(n is None for n in lengths):
        return None
    total = sum(lengths)
    if not -total <= k < total:
        return None  # out of bounds: leave the error to run time
    k %= total
    for part, n in zip(j.owner.inputs, lengths, strict=True):
        if k < n:
            op = type(node.op)((k, *node.op.idx_list[1:]))
            return op.make_node(part, *node.inputs[1:]).outputs[0]
        k -= n
    return None  # pragma: no cover


@register_rule(None, ops=[Subtensor], groups=CANON, exact_shape=True)
def index_of_expand_dims(node: Apply) -> Variable | None:
    """``expand_dims(x, 0)[0, ...] -> x[...]``: indexing a new length-1 axis removes it."""
    k = _leading_int(node)
    d = node.inputs[0]
    if k not in (0, -1) or d.owner is None or not isinstance(d.owner.op, DimShuffle):
        return None
    order = d.owner.op.new_order
    if not order or order[0] != "x":
        return None
    inner = dimshuffle(d.owner.inputs[0], order[1:])
    rest = node.op.idx_list[1:]
    if not rest:
        return inner
    return type(node.op)(rest).make_node(inner, *node.inputs[1:]).outputs[0]  # type: ignore


@register_rule(None, ops=[Subtensor], groups=CANON, exact_shape=True)
def index_of_make_vector(node: Apply) -> Variable | None:
    """``make_vector(a, b, ...)[k] -> a`` (or ``b`` ...) for a constant ``k``."""
    k = _leading_int(node)
    v = node.inputs[0]
    if k is None or len(node.op.idx_list) != 1 or v.owner is None:
        return None
    if not isinstance(v.owner.op, MakeVector):
        return None
    n = len(v.owner.inputs)
    if not -n <= k < n:
        return None
    return v.owner.inputs[k]
