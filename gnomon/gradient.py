"""Automatic differentiation: ``grad``, ``pullback`` (VJP, Lop), ``pushforward`` (JVP, Rop).

Reverse mode walks the graph from the cost back to the variables, calling each op's
``pullback`` and summing contributions. Forward mode uses each op's ``pushforward`` when every
op on the way has one, and otherwise transposes the pullback (the gradient of a linear function
of a dummy cotangent), which works for every differentiable op.

:func:`grad` differentiates the stable form of its cost (``log(1 + exp(x))`` as
``softplus(x)``) by calling :func:`gnomon.rewrite.pipeline.stabilize_for_grad`: that one function
is all this module uses of the rewrite package, and the rewrite package never imports this
module. The one import of a higher layer, ``gnomon.control.scan`` (Jacobians of expressions of
unknown length), stays inside :func:`_jacobian_scan`, since ``gnomon.control`` builds on this
module.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import (
    DisconnectedInputError,
    GnomonTypeError,
    GnomonValueError,
    NullGradientError,
    format_location,
    with_hint,
)
from gnomon.graph.basic import Apply, Variable

# re-exported: PyTensor users import these markers from the gradient module
from gnomon.graph.op import NullGrad, Op, grad_not_implemented, grad_undefined  # noqa: F401
from gnomon.graph.replace import graph_replace
from gnomon.graph.traversal import graph_inputs, toposort
from gnomon.rewrite.pipeline import stabilize_for_grad
from gnomon.tensor import math as tm
from gnomon.tensor.basic import as_tensor, cast, constant, ones_like, zeros_like
from gnomon.tensor.creation import arange
from gnomon.tensor.reduce import sum as tsum
from gnomon.tensor.shapes import flatten, reshape, shape_tuple, stack
from gnomon.tensor.user_op import DisconnectedType, disconnected_type  # noqa: F401


def _is_float(v: Variable) -> bool:
    # variables of non-array types (random generators) carry no gradient
    return getattr(v.type, "dtype", "-")[0] in "fc"


def _connected(wrt: Sequence[Variable], nodes: list[Apply], stop: set[int]) -> set[int]:
    """ids of variables that depend on some ``wrt`` (not through a ``stop`` variable)."""
    conn = {id(w) for w in wrt}
    for node in nodes:
        if any(id(i) in conn and id(i) not in stop for i in node.inputs):
            conn.update(id(o) for o in node.outputs)
    return conn


def _accumulate(
    outputs_and_grads: Sequence[tuple[Variable, Variable]],
    wrt: Sequence[Variable],
    consider_constant: Sequence[Variable] = (),
) -> dict[int, Variable]:
    """Reverse-mode sweep; returns the gradient of each connected variable, keyed by id."""

    outs = [o for o, _ in outputs_and_grads]
    nodes = toposort(outs)
    stop = {id(v) for v in consider_constant}
    conn = _connected(wrt, nodes, stop)
    grads: dict[int, Variable] = {}
    for o, g in outputs_and_grads:
        if id(o) in conn:
            g = as_tensor(g)
            if g.ndim != o.ndim:
                raise GnomonTypeError(
                    f"the gradient given for {o} has {g.ndim} dimensions, but {o} has {o.ndim}"
                )
            grads[id(o)] = tm.add(grads[id(o)], g) if id(o) in grads else cast(g, o.dtype)
    for node in reversed(nodes):
        if not any(id(o) in grads for o in node.outputs):
            continue
        if not any(id(i) in conn and id(i) not in stop for i in node.inputs):
            continue
        ogs = [
            grads.get(id(o)) if id(o) in grads else (zeros_like(o) if _is_float(o) else None)
            for o in node.outputs
        ]
        in_grads = node.op.pullback(node, ogs)
        if len(in_grads) != len(node.inputs):
            raise GnomonTypeError(
                f"{node.op}.pullback returned {len(in_grads)} gradients for "
                f"{len(node.inputs)} inputs"
            )
        for x, gx in zip(node.inputs, in_grads, strict=True):
            if id(x) not in conn or id(x) in stop or gx is None:
                continue
            if isinstance(gx, NullGrad):
                raise NullGradientError(with_hint(
                    f"cannot differentiate through {gx.op} with respect to its input "
                    f"{gx.index} ({x}): {gx.reason}.\nThe node was built at:\n"
                    f"{format_location(node.trace)}",
                    "wrap that input in gnomon.gradient.disconnected_grad(...) if you do not "
                    "need a gradient through it",
                ))
            if not _is_float(x):
                continue
            gx = as_tensor(gx)
            if gx.dtype != x.dtype:
                gx = cast(gx, x.dtype)
            grads[id(x)] = tm.add(grads[id(x)], gx) if id(x) in grads else gx
    return grads


def grad(
    cost: Any,
    wrt: Variable | Sequence[Variable],
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
    known_grads: dict[Variable, Any] | None = None,
    return_disconnected: str = "zero",
) -> Any:
    """Symbolic gradient of a scalar ``cost`` with respect to ``wrt``.

    Parameters
    ----------
    cost : scalar Variable or None
        ``None`` is allowed when ``known_grads`` gives the starting gradients.
    wrt : Variable or list of Variable
        Inputs, shared variables or intermediate variables.
    consider_constant : list of Variable
        Variables treated as constants: no gradient flows through them.
    disconnected_inputs : {'raise', 'warn', 'ignore'}
        What to do when ``cost`` does not depend on some ``wrt``.
    known_grads : dict
        Gradients of intermediate variables to start from (added to the cost's).
    return_disconnected : {'zero', 'none'}
        For disconnected ``wrt``: a zero array of its shape, or ``None``.

    Examples
    --------
    >>> import gnomon, gnomon.tensor as gt
    >>> x = gt.dscalar("x")
    >>> float(gnomon.grad(x ** 3, x).eval({x: 2.0}))
    12.0
    """

    single = isinstance(wrt, Variable)
    wrt_list: list[Variable] = [wrt] if isinstance(wrt, Variable) else list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise GnomonTypeError(f"grad: wrt must be variables, got {w!r}")
        if not _is_float(w):
            raise GnomonTypeError(with_hint(
                f"grad: cannot differentiate with respect to {w}, of integer/boolean type "
                f"{w.type}", "cast it to a float dtype where it is created",
            ))
    pairs: list[tuple[Variable, Variable]] = []
    if cost is not None:
        cost = as_tensor(cost)
        if cost.ndim != 0:
            raise GnomonTypeError(with_hint(
                f"grad: the cost must be a scalar, but {cost} has type {cost.type}",
                "reduce it first (gt.sum(cost)), or use gnomon.jacobian / gnomon.pullback",
            ))
        if not _is_float(cost):
            raise GnomonTypeError(f"grad: the cost {cost} has non-float type {cost.type}")
        if not known_grads and not consider_constant:
            cost = _stabilized(cost, wrt_list)
        pairs.append((cost, ones_like(cost)))
    for k, v in (known_grads or {}).items():
        pairs.append((k, as_tensor(v)))
    if not pairs:
        raise GnomonTypeError("grad: give a cost or known_grads")
    grads = _accumulate(pairs, wrt_list, consider_constant or ())
    out = []
    for w in wrt_list:
        g = grads.get(id(w))
        if g is None:
            msg = (f"grad: the cost does not depend on {w} (it is disconnected)."
                   f"\n  {w} was created at:\n{format_location(w.trace)}")
            if disconnected_inputs == "raise":
                raise DisconnectedInputError(with_hint(
                    msg, "pass disconnected_inputs='ignore' (or 'warn') to get zeros"))
            if disconnected_inputs == "warn":
                warnings.warn(msg, stacklevel=2)
            g = zeros_like(w) if return_disconnected == "zero" else None
        out.append(g)
    _note_sources(out, [c for c, _ in pairs] + list(wrt_list))
    return out[0] if single else out


#: For each gradient ``grad`` (or ``pushforward``) returned, the roots of the expressions it was
#: derived from (the cost, the ``known_grads`` keys and ``wrt``). ``gnomon.function`` counts
#: these as used inputs: ``function([a, b], grad(a + b, a))`` is PyTensor's own README example,
#: and a gradient that happens not to depend on ``b`` must not make ``b`` an unused input. Weak
#: keys: the entry goes with the gradient variable. Graphs are hash-consed, so one gradient
#: variable built from two costs carries the roots of both (the check errs towards accepting an
#: input).
_GRAD_SOURCES: weakref.WeakKeyDictionary[Variable, frozenset[Variable]] = (
    weakref.WeakKeyDictionary())


def _note_sources(grads: Sequence[Variable | None], sources: Sequence[Variable]) -> None:
    roots = frozenset(graph_inputs(sources, include_constants=False))
    for g in grads:
        if g is not None and g.owner is not None:
            _GRAD_SOURCES[g] = _GRAD_SOURCES.get(g, frozenset()) | roots


def derived_roots(outputs: Sequence[Variable]) -> list[Variable]:
    """Roots of the expressions that ``grad`` differentiated to build ``outputs`` or their
    ancestors (see ``_GRAD_SOURCES``); ``gnomon.function`` does not call these unused."""
    from gnomon.graph.traversal import ancestors

    found: dict[int, Variable] = {}
    if not _GRAD_SOURCES:
        return []
    for v in ancestors(outputs):
        for r in _GRAD_SOURCES.get(v, ()):
            found.setdefault(id(r), r)
    return list(found.values())


def _stabilized(cost: Variable, wrt: Sequence[Variable]) -> Variable:
    """``cost`` after the canonicalize and stabilize rewrites, when that is safe.

    Differentiating ``log(1 + exp(x))`` as written gives ``exp(x) / (1 + exp(x))``, which is
    nan at ``x = 1000``; differentiating its stable form ``softplus(x)`` gives ``sigmoid(x)``.
    Only done when every ``wrt`` is a root (rewrites may remove intermediate variables) and
    stays connected (``grad(x - x, x)`` must still be 0, not "disconnected").
    """
    if any(w.owner is not None for w in wrt):
        return cost
    new = stabilize_for_grad(cost)
    if new is cost:
        return cost
    roots = {id(v) for v in graph_inputs([new], include_constants=False)}
    old_roots = {id(v) for v in graph_inputs([cost], include_constants=False)}
    if any((id(w) in old_roots) != (id(w) in roots) for w in wrt):
        return cost
    return new


def pullback(
    f: Any, wrt: Variable | Sequence[Variable], cotangent: Any, **kw: Any
) -> Any:
    """Vector-Jacobian product ``v^T J`` (a.k.a. Lop): gradients given the output's cotangent.

    ``f`` may be one variable or a list, with ``cotangent`` matching it.

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> vjp = gnomon.pullback(x ** 2, x, gt.constant(np.ones(2)))
    >>> vjp.eval({x: np.array([1.0, 3.0])}).tolist()
    [2.0, 6.0]
    """
    fs = [f] if isinstance(f, Variable) else list(f)
    cs = [cotangent] if isinstance(f, Variable) else list(cotangent)
    return grad(None, wrt, known_grads=dict(zip(fs, cs, strict=True)),
                disconnected_inputs=kw.pop("disconnected_inputs", "ignore"), **kw)


def pushforward(f: Any, wrt: Variable | Sequence[Variable], tangent: Any) -> Any:
    """Jacobian-vector product ``J v`` (a.k.a. Rop): the change of ``f`` along ``tangent``.

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> jvp = gnomon.pushforward(x ** 2, x, gt.constant(np.ones(2)))
    >>> jvp.eval({x: np.array([1.0, 3.0])}).tolist()
    [2.0, 6.0]
    """

    single_f = isinstance(f, Variable)
    fs = [f] if single_f else list(f)
    ws = [wrt] if isinstance(wrt, Variable) else list(wrt)
    ts = [tangent] if isinstance(wrt, Variable) else list(tangent)
    ts = [as_tensor(t) for t in ts]
    fwd = _forward(fs, ws, ts)
    if fwd is not None:
        _note_sources(fwd, fs + ws)
        return fwd[0] if single_f else fwd
    # Transpose the pullback: with u a dummy cotangent, J^T u is linear in u, and the gradient
    # of <J^T u, v> with respect to u is J v.
    us = [o.type(f"u_{i}") for i, o in enumerate(fs)]
    vjps = grad(None, ws, known_grads=dict(zip(fs, us, strict=True)),
                disconnected_inputs="ignore")
    terms = [tsum(tm.mul(g, t)) for g, t in zip(vjps, ts, strict=True)]
    inner = terms[0] if len(terms) == 1 else tm.add(*terms)
    jvps = grad(inner, us, disconnected_inputs="ignore")
    # The result does not depend on u (it is linear in u): cut u out of the graph.
    jvps = graph_replace(jvps, {u: zeros_like(o) for u, o in zip(us, fs, strict=True)},
                         strict=False)
    _note_sources(jvps, fs + ws)
    return jvps[0] if single_f else jvps


def _forward(
    fs: list[Variable], ws: list[Variable], ts: list[Variable]
) -> list[Variable] | None:
    """Forward mode with each op's ``pushforward``; ``None`` if some op has none."""

    tan: dict[int, Variable | None] = {id(w): t for w, t in zip(ws, ts, strict=True)}
    for node in toposort(fs):
        ins = [tan.get(id(i)) for i in node.inputs]
        if all(t is None for t in ins):
            continue
        outs = node.op.pushforward(node, ins)
        if outs is None:
            return None
        for o, t in zip(node.outputs, outs, strict=True):
            tan[id(o)] = t
    return [t if (t := tan.get(id(f))) is not None else zeros_like(f) for f in fs]


def Lop(f: Any, wrt: Variable | Sequence[Variable], eval_points: Any,
        consider_constant: Sequence[Variable] | None = None,
        disconnected_inputs: str = "raise") -> Any:
    """PyTensor's name for :func:`pullback`: ``eval_points^T J``, where ``eval_points``
    matches ``f`` (one variable or a list) and the result matches ``wrt``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> Lop(x ** 2, x, np.ones(2)).eval({x: np.array([1.0, 3.0])}).tolist()
    [2.0, 6.0]
    """
    fs = [f] if isinstance(f, Variable) else list(f)
    es = [eval_points] if isinstance(f, Variable) else list(eval_points)
    es = [as_tensor(e) for e in es]
    return grad(None, wrt, known_grads=dict(zip(fs, es, strict=True)),
                consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)


def Rop(f: Any, wrt: Variable | Sequence[Variable], eval_points: Any,
        disconnected_outputs: str = "raise", return_disconnected: str = "zero") -> Any:
    """PyTensor's name for :func:`pushforward`: ``J eval_points``, where ``eval_points``
    matches ``wrt`` and the result matches ``f`` (one variable or a list).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> Rop(x ** 2, x, np.ones(2)).eval({x: np.array([1.0, 3.0])}).tolist()
    [2.0, 6.0]
    """
    return pushforward(f, wrt, eval_points)


class GradientMismatchError(GnomonValueError):
    """:func:`verify_grad` found a gradient that disagrees with finite differences."""


def verify_grad(fun: Any, pt: Sequence[Any], n_tests: int = 2, rng: Any = None,
                eps: float | None = None, out_type: Any = None, abs_tol: float | None = None,
                rel_tol: float | None = None, mode: Any = "numpy",
                cast_to_output_type: bool = False, no_debug_ref: bool = True) -> None:
    """Check the gradient of ``fun`` at the point ``pt`` against central finite differences,
    as PyTensor's ``verify_grad`` does.

    ``fun`` takes one symbolic input per array of ``pt`` and returns a variable; its output is
    projected on a random array (``n_tests`` projections) so that the check covers the whole
    Jacobian, and every element of every input is perturbed. Raises
    :class:`GradientMismatchError` (also ``verify_grad.E_grad``) naming the input and the
    largest disagreement.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> verify_grad(lambda x: gt.exp(x) * x, [np.array([0.5, -1.0])],
    ...             rng=np.random.default_rng(0))
    """
    from gnomon.compile.function import function  # verify_grad compiles what it checks
    from gnomon.tensor.type import TensorType

    if rng is None:
        rng = np.random.default_rng(0)
    elif not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng.randint(2**31) if hasattr(rng, "randint") else rng)
    # integer points are checked as float64 (finite differences need a float)
    values = [np.array(p, dtype=None if np.asarray(p).dtype.kind in "fc" else "float64")
              for p in pt]
    single32 = all(v.dtype in (np.float32, np.complex64) for v in values)
    eps = eps if eps is not None else (1e-3 if single32 else 1e-6)
    abs_tol = abs_tol if abs_tol is not None else (1e-2 if single32 else 1e-4)
    rel_tol = rel_tol if rel_tol is not None else (1e-2 if single32 else 1e-4)

    xs = [TensorType(v.dtype.name, (None,) * v.ndim)(f"pt{i}") for i, v in enumerate(values)]
    out = as_tensor(fun(*xs))
    out_shape = np.shape(function(xs, out, mode=mode, on_unused_input="ignore")(*values))
    for _ in range(n_tests):
        u = constant(rng.standard_normal(out_shape), dtype=out.dtype)
        cost = tsum(tm.mul(out, u))
        grads = grad(cost, xs, disconnected_inputs="ignore")
        f_cost = function(xs, cost, mode=mode, on_unused_input="ignore")
        f_grad = function(xs, grads, mode=mode, on_unused_input="ignore")
        analytic = f_grad(*values)
        for i, v in enumerate(values):
            numeric = np.zeros(v.shape, dtype="float64")
            flat = numeric.reshape(-1)
            for k in range(v.size):
                up, down = [w.copy() for w in values], [w.copy() for w in values]
                up[i].reshape(-1)[k] += eps
                down[i].reshape(-1)[k] -= eps
                flat[k] = (float(f_cost(*up)) - float(f_cost(*down))) / (2 * eps)
            a = np.asarray(analytic[i], dtype="float64")
            err = np.abs(a - numeric)
            bad = err > abs_tol + rel_tol * np.abs(numeric)
            if bad.any():
                k = int(np.argmax(np.where(bad, err, -1.0)))
                raise GradientMismatchError(with_hint(
                    f"verify_grad: the gradient with respect to input {i} disagrees with "
                    f"finite differences at flat index {k}: analytic "
                    f"{a.reshape(-1)[k]:.6g}, numeric {numeric.reshape(-1)[k]:.6g} "
                    f"(abs_tol={abs_tol}, rel_tol={rel_tol}, eps={eps})",
                    "check the op's pullback, or loosen the tolerances for an ill-conditioned "
                    "point"))


verify_grad.E_grad = GradientMismatchError  # type: ignore[attr-defined]


# --- Jacobians and Hessians -----------------------------------------------------------------


def jacobian(
    expression: Any, wrt: Variable | Sequence[Variable], vectorize: bool = False,
    disconnected_inputs: str = "raise",
) -> Any:
    """The Jacobian of ``expression`` with respect to each of ``wrt``.

    The result for one ``wrt`` has shape ``expression.shape + wrt.shape``. Row ``i`` is the
    pullback of the one-hot cotangent of element ``i``. When ``expression`` has a static shape
    with at most 64 elements (or any static shape with ``vectorize=True``) the rows are built
    unrolled, one pullback each, which compiles to straight-line code; otherwise a
    :func:`gnomon.scan` over the elements computes one row per step, so expressions whose length
    is known only at run time work too.

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> J = gnomon.gradient.jacobian(x ** 2, x)
    >>> J.eval({x: np.array([1.0, 3.0])}).tolist()
    [[2.0, 0.0], [0.0, 6.0]]
    """

    expression = as_tensor(expression)
    single = isinstance(wrt, Variable)
    ws: list[Variable] = [wrt] if isinstance(wrt, Variable) else list(wrt)
    if expression.ndim == 0:
        return grad(expression, wrt, disconnected_inputs=disconnected_inputs)
    shp = expression.type.shape
    static = all(s is not None for s in shp)
    n = int(np.prod(shp, dtype=int)) if static else None
    if static and n == 0:
        raise GnomonTypeError(f"jacobian: {expression} has no elements (shape {shp})")
    if static and (vectorize or n <= 64):  # type: ignore[operator]
        out = _jacobian_unrolled(expression, ws, n, disconnected_inputs)  # type: ignore[arg-type]
    else:
        out = _jacobian_scan(expression, ws, disconnected_inputs)
    return out[0] if single else out


def _jacobian_unrolled(
    expression: Variable, ws: list[Variable], n: int, disconnected_inputs: str
) -> list[Variable]:

    shp = expression.type.shape  # type: ignore[attr-defined]
    rows: list[list[Variable]] = [[] for _ in ws]
    for i in range(n):
        onehot = np.zeros(n, dtype=expression.dtype)
        onehot[i] = 1
        gs = grad(None, ws, known_grads={expression: constant(onehot.reshape(shp))},
                  disconnected_inputs=disconnected_inputs)
        for k, g in enumerate(gs):
            rows[k].append(g)
    out = []
    for w, r in zip(ws, rows, strict=True):
        j = stack(r)
        if len(shp) > 1:
            j = reshape(j, (*shp, *shape_tuple(w)))
        out.append(j)
    return out


def _jacobian_scan(
    expression: Variable, ws: list[Variable], disconnected_inputs: str
) -> list[Variable]:
    # gnomon.control is a layer above this module (scan's pullback calls grad): import on use.
    from gnomon.control.scan import scan

    flat = flatten(expression, 1) if expression.ndim > 1 else expression
    n = shape_tuple(flat)[0]

    def row(i: Variable) -> list[Variable]:
        return grad(flat[i], ws, disconnected_inputs=disconnected_inputs)  # type: ignore[index]

    rows, _ = scan(row, sequences=[arange(n)])
    rows = list(rows) if isinstance(rows, list | tuple) else [rows]
    if expression.ndim > 1:
        rows = [reshape(r, (*shape_tuple(expression), *shape_tuple(w)))
                for r, w in zip(rows, ws, strict=True)]
    return rows


def hessian(cost: Any, wrt: Variable | Sequence[Variable], **kw: Any) -> Any:
    """The Hessian of a scalar ``cost`` with respect to each (vector or array) ``wrt``.

    For an array ``wrt`` of shape ``s`` the result has shape ``s + s`` (see :func:`jacobian`
    for how it is built).

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x", shape=(2,))
    >>> H = gnomon.gradient.hessian(gt.sum(x ** 3), x)
    >>> H.eval({x: np.array([1.0, 2.0])}).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    single = isinstance(wrt, Variable)
    ws: list[Variable] = [wrt] if isinstance(wrt, Variable) else list(wrt)
    out = [jacobian(grad(cost, w, **kw), w) for w in ws]
    return out[0] if single else out


def hessian_vector_product(cost: Any, wrt: Variable, vector: Any) -> Variable:
    """``H v`` for the Hessian ``H`` of ``cost`` at ``wrt``, without building ``H``.

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> hv = gnomon.gradient.hessian_vector_product(gt.sum(x ** 3), x, gt.constant([1.0, 1.0]))
    >>> hv.eval({x: np.array([1.0, 2.0])}).tolist()
    [6.0, 12.0]
    """

    g = grad(cost, wrt)
    return grad(tsum(tm.mul(g, as_tensor(vector))), wrt)


# --- gradient modifiers ---------------------------------------------------------------------


@dataclass(frozen=True)
class GradientModifier(Op):
    """Identity in the forward pass; changes what flows back in :func:`grad`.

    ``kind`` is ``'zero'`` (gradient 0), ``'disconnected'`` (no gradient at all), ``'scale'``
    (multiply by ``a``) or ``'clip'`` (clip to ``[a, b]``). The rewrite pipeline removes these
    nodes before compiling.
    """

    kind: str
    a: float = 0.0
    b: float = 0.0

    view_map = {0: 0}  # noqa: RUF012

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        return Apply.make(self, [x], [x.type])

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        return (inputs[0],)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def pullback(self, node, output_grads):

        g = output_grads[0]
        if self.kind == "zero":
            return [zeros_like(node.inputs[0])]
        if self.kind == "disconnected":
            return [None]
        if self.kind == "scale":
            return [tm.mul(g, self.a)]
        return [tm.clip(g, self.a, self.b)]

    def pushforward(self, node, tangents):

        t = tangents[0]
        if self.kind in ("zero", "disconnected") or t is None:
            return [zeros_like(node.outputs[0])]
        if self.kind == "scale":
            return [tm.mul(t, self.a)]
        return [t]

    def __str__(self) -> str:
        args = {"scale": f"{self.a}", "clip": f"{self.a}, {self.b}"}.get(self.kind)
        return f"{self.kind}_grad" + (f"{{{args}}}" if args else "")


def zero_grad(x: Any) -> Variable:
    """``x`` in the forward pass; its gradient is zero (still connected).

    Examples
    --------
    >>> import gnomon, gnomon.tensor as gt
    >>> x = gt.dscalar("x")
    >>> float(gnomon.grad(x * zero_grad(x), x).eval({x: 3.0}))
    3.0
    """
    return GradientModifier("zero")(x)


def disconnected_grad(x: Any) -> Variable:
    """``x`` in the forward pass, with no gradient flowing through it (stop-gradient)."""
    return GradientModifier("disconnected")(x)


stop_gradient = disconnected_grad


def grad_scale(x: Any, multiplier: float) -> Variable:
    """``x`` in the forward pass; its gradient is multiplied by ``multiplier``."""
    return GradientModifier("scale", float(multiplier))(x)


def grad_clip(x: Any, lower: float, upper: float) -> Variable:
    """``x`` in the forward pass; its gradient is clipped to ``[lower, upper]``."""
    if lower > upper:
        raise GnomonValueError(f"grad_clip: lower={lower} is above upper={upper}")
    return GradientModifier("clip", float(lower), float(upper))(x)


def consider_constant(x: Any) -> Variable:
    """``x`` treated as a constant by :func:`grad` (same as :func:`disconnected_grad`)."""
    return disconnected_grad(x)
