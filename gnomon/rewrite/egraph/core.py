"""Equality saturation of gnomon graphs with egglog: translate, saturate, extract, enumerate.

How a graph goes through (see ``docs/egraph.md``):

1. :class:`_Translation` walks the graph once. Floating-point ``Elemwise`` nodes whose inputs
   and output share one dtype and rank form the *region*: each becomes an e-graph term
   ``(Ctor type args...)`` (variadic ``add``/``mul`` are folded into binary nodes). Everything
   else is a leaf ``(Leaf type k)``; uniform finite constants are ``(Num type value)``. Sums
   keeping the dtype and products of two matrices are terms too (``Sum``, ``MatMul``). A node
   outside the region (a cast, a ``DimShuffle``, an ``OpFromGraph``) is opaque: its region
   inputs become roots of the e-graph, so the region below it is rewritten too, and the node
   is rebuilt on the extracted inputs.
2. A *type* is ``(dtype, dims)``: a dimension is its static length, or the set of the root
   dimensions of unknown length it is broadcast from (so ``x + y`` of two vectors of unknown
   length has a different type from ``x``). Broadcasting is the union of those sets, which is
   associative, commutative and idempotent, so the types of new nodes made by a rule are
   well defined (the table ``bc`` is precomputed over the types of the graph).
3. egglog runs the rules (:mod:`gnomon.rewrite.egraph.rules`) one iteration at a time under a
   back-off scheduler (a rule that matches too often sits out), until nothing changes or a
   :class:`Budget` (iterations, e-nodes, seconds) is spent.
4. The e-graph is serialized and the cheapest graph is extracted in Python under the cost
   model (:mod:`gnomon.rewrite.egraph.cost`): the cheapest term of each e-class by tree cost,
   then a local search on the DAG cost (an e-class used twice is computed once), then rebuilt
   as gnomon nodes. The result is kept only if its cost (shared nodes counted once) is below
   the input's.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gnomon.errors import GnomonError, with_hint
from gnomon.graph.basic import Apply, Constant, Variable, built_from, internal_construction
from gnomon.graph.traversal import toposort
from gnomon.rewrite.egraph import cost as costs
from gnomon.rewrite.egraph.rules import (
    BCAST_WEIGHT,
    BY_SCALAR,
    MATMUL_WEIGHT,
    OPS,
    SUM_WEIGHT,
    EqRule,
    _num,
    axes_mask,
    declarations,
    egglog_rule,
    get_rules,
    mask_axes,
)
from gnomon.tensor.basic import constant
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.type import TensorType


class EGraphUnavailableError(GnomonError, ImportError):
    """egglog, the engine of equality saturation, is not installed."""


def egglog_available() -> bool:
    """Whether egglog can be imported (``pip install 'gnomon[egraph]'``)."""
    try:
        import egglog.bindings  # noqa: F401
    except ImportError:
        return False
    return True


def _bindings() -> Any:
    try:
        import egglog.bindings as b
    except ImportError as e:
        raise EGraphUnavailableError(with_hint(
            "equality saturation needs the egglog package, which is not installed",
            "pip install 'gnomon[egraph]' (or egglog>=13.2), or leave out the 'saturate' stage",
        )) from e
    return b


@dataclass(frozen=True)
class Budget:
    """When saturation stops: after ``iterations`` rounds of the rules, when the e-graph holds
    more than ``nodes`` e-nodes, or after ``seconds`` (checked between rounds), whichever comes
    first. ``match_limit`` is the back-off scheduler's threshold: a rule with more matches in
    one round sits that round out (the guard against associativity blowing up)."""

    iterations: int = 12
    nodes: int = 20_000
    seconds: float = 2.0
    match_limit: int = 2_000


#: The budget of the ``saturate`` pipeline stage.
STAGE_BUDGET = Budget(iterations=8, nodes=10_000, seconds=0.5)


@dataclass
class Report:
    """What a saturation did: rounds run, e-nodes at the end, why it stopped, seconds spent,
    costs of the input and of the extracted graph."""

    iterations: int = 0
    nodes: int = 0
    stopped: str = ""
    seconds: float = 0.0
    cost_before: float = 0.0
    cost_after: float = 0.0
    region: int = 0
    #: seconds spent serializing the e-graph and extracting (tree cost, then the DAG search)
    extract_seconds: float = 0.0


# --- expanding inner graphs ---------------------------------------------------------------------

#: op class -> function(node) -> the node's outputs computed by its expanded inner graph.
#: Layers above register theirs (``gnomon.control.opfromgraph`` registers ``OpFromGraph``).
_EXPANDERS: dict[type, Callable[[Apply], Sequence[Variable]]] = {}


def register_expander(op_class: type, fn: Callable[[Apply], Sequence[Variable]]) -> None:
    """Let :func:`saturate` expand nodes of ``op_class`` (a call of an inner graph) with
    ``fn(node) -> outputs`` between its two levels of saturation."""
    _EXPANDERS[op_class] = fn


def _expandable(node: Apply) -> Callable[[Apply], Sequence[Variable]] | None:
    for cls in type(node.op).__mro__:
        fn = _EXPANDERS.get(cls)
        if fn is not None:
            return fn
    return None


# --- types ------------------------------------------------------------------------------------

Dim = Any  # int (a static length other than 1) or frozenset of symbols (empty: length 1)
TypeKey = tuple[str, tuple[Dim, ...]]


def _join_dim(a: Dim, b: Dim) -> Dim | None:
    if isinstance(a, int):
        if isinstance(b, int):
            return a if a == b else None
        return a
    if isinstance(b, int):
        return b
    return a | b


def _join(a: TypeKey, b: TypeKey) -> TypeKey | None:
    if a[0] != b[0] or len(a[1]) != len(b[1]):
        return None
    dims = []
    for x, y in zip(a[1], b[1], strict=True):
        d = _join_dim(x, y)
        if d is None:
            return None
        dims.append(d)
    return (a[0], tuple(dims))


def _reduce(t: TypeKey, mask: int) -> TypeKey | None:
    """``t`` without the axes of ``mask`` (``None`` if an axis is out of range)."""
    if mask >> len(t[1]):
        return None
    return (t[0], tuple(d for i, d in enumerate(t[1]) if not mask >> i & 1))


def _matmul(a: TypeKey, b: TypeKey) -> TypeKey | None:
    """The type of the product of two matrices (``None`` unless both are matrices of one dtype
    whose inner lengths may be equal)."""
    if a[0] != b[0] or len(a[1]) != 2 or len(b[1]) != 2:
        return None
    k1, k2 = a[1][1], b[1][0]
    if isinstance(k1, int) and isinstance(k2, int) and k1 != k2:
        return None
    if (isinstance(k1, int) and not isinstance(k2, int) and not k2) or \
            (isinstance(k2, int) and not isinstance(k1, int) and not k1):
        return None  # a static length against a length 1
    return (a[0], (a[1][0], b[1][1]))


def _elems(t: TypeKey) -> float:
    n = 1.0
    for d in t[1]:
        n *= d if isinstance(d, int) else (costs.UNKNOWN_LENGTH if d else 1)
    return n


# --- translation ------------------------------------------------------------------------------


class _Translation:
    """A graph as egglog commands, and the tables to read the extracted terms back."""

    def __init__(self, outputs: Sequence[Variable]) -> None:
        self.outputs = list(outputs)
        self.types: list[TypeKey] = []
        self.type_id: dict[TypeKey, int] = {}
        self.leaves: list[Variable] = []
        self.leaf_id: dict[Variable, int] = {}
        self.generic: list[Any] = []  # scalar ops of generic nodes
        self.generic_id: dict[Any, int] = {}
        self.term: dict[Variable, int] = {}  # variable -> node id (region, leaves, numbers)
        self.vtype: dict[Variable, TypeKey] = {}
        # rows of the relations egglog builds the terms from (E<Ctor>: id, type, payload...,
        # children ids), loaded with egglog's `input` (one command per relation, not per node)
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self._ids = itertools.count()
        self.roots: list[Variable] = []  # region variables something outside needs
        self.opaque: list[Apply] = []
        self.region_nodes = 0
        self._sym = itertools.count()
        self.sym_src: dict[int, tuple[Variable, int]] = {}  # symbol -> (leaf, dimension)
        self.masks: set[int] = set()  # axes of the sums (bit masks)
        self._translate()
        self.roots_index = {v: i for i, v in enumerate(self.roots)}

    # types
    def tid(self, t: TypeKey) -> int:
        k = self.type_id.get(t)
        if k is None:
            k = self.type_id[t] = len(self.types)
            self.types.append(t)
        return k

    def leaf_type(self, v: Variable) -> TypeKey | None:
        if not isinstance(v.type, TensorType):
            return None
        dims: list[Dim] = []
        for s in v.type.shape:
            if s is None:
                k = next(self._sym)
                self.sym_src[k] = (v, len(dims))
                dims.append(frozenset({k}))
            else:
                dims.append(frozenset() if s == 1 else int(s))
        return (str(v.dtype), tuple(dims))

    def _translate(self) -> None:
        nodes = toposort(self.outputs)
        used_by_region: set[Variable] = set()
        in_region: set[Apply] = set()
        for node in nodes:
            if self._region_ok(node):
                in_region.add(node)
                used_by_region.update(node.inputs)
        needed: set[Variable] = set(o for o in self.outputs)
        for node in nodes:
            if node not in in_region:
                self.opaque.append(node)
                needed.update(node.inputs)
        for node in nodes:
            if node not in in_region:
                continue
            if not isinstance(node.op, Elemwise):
                if self._struct(node, needed):
                    continue
                self._opaque_after_all(node, in_region)
                continue
            args: list[tuple[int, TypeKey]] = []
            for i in node.inputs:
                opnd = self._operand(i)
                if opnd is None:
                    break
                args.append(opnd)
            else:
                t = args[0][1]
                for _, ta in args[1:]:
                    j = _join(t, ta)
                    if j is None:
                        break
                    t = j
                else:
                    so = node.op.scalar_op
                    info = BY_SCALAR.get(type(so))
                    out = node.outputs[0]
                    if info is not None and info.arity == 2 and len(args) > 2:
                        # variadic add / mul: a left fold of binary nodes (same type throughout
                        # is not needed: each partial result gets the join of its operands)
                        acc, at = args[0]
                        for a, ta in args[1:]:
                            at2 = _join(at, ta)
                            assert at2 is not None
                            name = self.row(info.ctor, self.tid(at2), acc, a)
                            acc, at = name, at2
                        self.term[out], self.vtype[out] = acc, at
                    else:
                        if info is not None and info.arity == len(args):
                            name = self.row(info.ctor, self.tid(t), *(a for a, _ in args))
                        else:
                            k = self.generic_id.get(so)
                            if k is None:
                                k = self.generic_id[so] = len(self.generic)
                                self.generic.append(so)
                            name = self.row(f"F{len(args)}", self.tid(t), k,
                                            *(a for a, _ in args))
                        self.term[out], self.vtype[out] = name, t
                    self.region_nodes += 1
                    if out in needed:
                        self.roots.append(out)
                    continue
            # an operand could not be typed: the node is opaque after all
            self._opaque_after_all(node, in_region)
        for o in self.outputs:
            if o in self.term and o.owner is not None and o not in self.roots:
                self.roots.append(o)
        self.roots = list(dict.fromkeys(r for r in self.roots
                                        if r.owner is not None and r in self.term
                                        and r.owner not in set(self.opaque)))
        self.opaque = list(dict.fromkeys(self.opaque))

    def _opaque_after_all(self, node: Apply, in_region: set[Apply]) -> None:
        self.opaque.append(node)
        for i in node.inputs:
            if i in self.term and i.owner is not None and i.owner in in_region \
                    and i not in self.roots:
                self.roots.append(i)

    def _struct(self, node: Apply, needed: set[Variable]) -> bool:
        """A sum or a product of matrices as a term; ``False`` if its operands have no type."""
        from gnomon.tensor.blas import MatMul
        from gnomon.tensor.reduce import Sum

        opnds = [self._operand(i) for i in node.inputs]
        if any(o is None for o in opnds):
            return False
        args = [o for o in opnds if o is not None]
        out = node.outputs[0]
        if isinstance(node.op, Sum):
            mask = axes_mask(node.op.axes)
            t = _reduce(args[0][1], mask)
            if t is None:
                return False
            name = self.row("Sum", self.tid(t), mask, args[0][0])
            self.masks.add(mask)
        elif isinstance(node.op, MatMul):
            mt = _matmul(args[0][1], args[1][1])
            if mt is None:
                return False
            t = mt
            name = self.row("MatMul", self.tid(t), args[0][0], args[1][0])
        else:
            return False
        self.term[out], self.vtype[out] = name, t
        self.region_nodes += 1
        if out in needed:
            self.roots.append(out)
        return True

    def _region_ok(self, node: Apply) -> bool:
        from gnomon.tensor.blas import MatMul
        from gnomon.tensor.reduce import Sum

        if isinstance(node.op, Sum | MatMul):
            # a sum keeping the dtype; a product of two matrices of one floating dtype
            out = node.outputs[0]
            return (np.dtype(out.dtype).kind == "f"
                    and all(isinstance(i.type, TensorType) and i.dtype == out.dtype
                            for i in node.inputs)
                    and (isinstance(node.op, Sum)
                         or all(i.ndim == 2 for i in node.inputs)))
        if not isinstance(node.op, Elemwise) or len(node.outputs) != 1:
            return False
        out = node.outputs[0]
        if np.dtype(out.dtype).kind != "f":
            return False
        if not 1 <= len(node.inputs) <= 3 and type(node.op.scalar_op) not in BY_SCALAR:
            return False
        return all(isinstance(i.type, TensorType) and i.dtype == out.dtype
                   and i.ndim == out.ndim for i in node.inputs)

    def row(self, rel: str, *cols: Any) -> int:
        """A new node of relation ``E<rel>``; its id."""
        k = next(self._ids)
        self.rows.setdefault(rel, []).append((k, *cols))
        return k

    def _operand(self, v: Variable) -> tuple[int, TypeKey] | None:
        if v in self.term:
            return self.term[v], self.vtype[v]
        t = self.leaf_type(v)
        if t is None:
            return None
        if isinstance(v, Constant):
            data = np.asarray(v.data)
            if data.size >= 1 and data.dtype.kind == "f" and all(s == 1 for s in data.shape):
                val = float(data.flat[0])
                if math.isfinite(val):
                    name = self.row("Num", self.tid(t), _num(val))
                    self.term[v], self.vtype[v] = name, t
                    return name, t
        k = self.leaf_id.get(v)
        if k is None:
            k = self.leaf_id[v] = len(self.leaves)
            self.leaves.append(v)
        name = self.row("Leaf", self.tid(t), k)
        self.term[v], self.vtype[v] = name, t
        return name, t

    def type_tables(self, cap: int = 64) -> None:
        """Rows of ``bc`` (broadcast) over the closure of the graph's types (up to ``cap``
        types: a rule needing a join beyond them does not fire) and of ``unit`` (the type of a
        constant of the same dtype and rank)."""
        # the closure under broadcasting, units, reductions by the graph's axes and matrix
        # products (what the right sides of rules may build), up to the cap
        def unit(t: TypeKey) -> TypeKey:
            return (t[0], tuple(frozenset() for _ in t[1]))

        # every type has its unit (not capped: one per dtype and rank)
        for t in list(self.types):
            self.tid(unit(t))
        new = list(self.types)
        while new and len(self.types) < cap:
            fresh = []
            for a in new:
                cands: list[TypeKey | None] = [_reduce(a, m) for m in self.masks]
                for b in list(self.types):
                    cands += [_join(a, b), _matmul(a, b), _matmul(b, a)]
                for j in cands:
                    if j is not None and j not in self.type_id and len(self.types) < cap:
                        self.tid(j)
                        self.tid(unit(j))
                        fresh.append(j)
            new = fresh
        bc = self.rows.setdefault("bc", [])
        mm = self.rows.setdefault("mm", [])
        for a, ia in self.type_id.items():
            for b, ib in self.type_id.items():
                j = _join(a, b)
                if j is not None and j in self.type_id:
                    bc.append((ia, ib, self.type_id[j]))
                p = _matmul(a, b)
                if p is not None and p in self.type_id:
                    mm.append((ia, ib, self.type_id[p]))
        red = self.rows.setdefault("red", [])
        for a, ia in self.type_id.items():
            for m in self.masks:
                r = _reduce(a, m)
                if r is not None and r in self.type_id:
                    red.append((ia, m, self.type_id[r]))
        self.rows["unit"] = [(i, self.type_id[unit(t)]) for t, i in self.type_id.items()]


# --- running egglog ------------------------------------------------------------------------------


#: egglog e-graphs holding the declarations and compiled rules, by rule set (compiling the
#: rules is most of egglog's fixed cost): each saturation pushes, adds its graph, pops.
_BASES: dict[tuple[Any, ...], Any] = {}


def _base(rules: Sequence[EqRule]) -> Any:
    key = tuple((r.name, repr(r.lhs), repr(r.rhs), r.both) for r in rules)
    eg = _BASES.get(key)
    if eg is None:
        b = _bindings()
        eg = b.EGraph()
        text = [declarations()]
        for r in rules:
            text.extend(egglog_rule(r))
        eg.run_program(*eg.parse_program("\n".join(text)))
        if len(_BASES) > 8:
            _BASES.clear()
        _BASES[key] = eg
    return eg


class _EGraph:
    """egglog holding one translated graph (on top of the rules' base e-graph, until
    :meth:`close`)."""

    def __init__(self, tr: _Translation, rules: Sequence[EqRule]) -> None:
        self.eg = _base(rules)
        self.tr = tr
        self.eg.run_program(*self.eg.parse_program("(push)"))
        tr.type_tables()
        tr.rows["Root"] = [(i, tr.term[v]) for i, v in enumerate(tr.roots)]
        try:
            with tempfile.TemporaryDirectory(prefix="gnomon-egraph-") as tmp:
                cmds = []
                for rel, rows in tr.rows.items():
                    path = Path(tmp) / f"{rel}.tsv"
                    path.write_text("".join("\t".join(map(str, r)) + "\n" for r in rows))
                    name = rel if rel in ("bc", "unit", "red", "mm") else f"E{rel}"
                    cmds.append(f'(input {name} "{path.as_posix()}")')
                cmds.append("(run-schedule (saturate (run build)))")
                self.eg.run_program(*self.eg.parse_program("\n".join(cmds)))
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        self.eg.run_program(*self.eg.parse_program("(pop)"))

    def size(self) -> int:
        out = self.eg.run_program(*self.eg.parse_program("(print-size)"))
        return sum(n for f, n in out[0].sizes if f[:1].isupper())

    def run(self, budget: Budget, report: Report) -> None:
        cmd = self.eg.parse_program(
            "(run-schedule (saturate (run types)) (run alg) (saturate (run types)))")
        start = time.perf_counter()
        last = self.size()
        growth, took = 1.0, 0.0
        report.stopped = "iterations"
        for _ in range(budget.iterations):
            # The blow-up guard (associativity and commutativity grow the e-graph
            # geometrically): do not start a round that the last round's growth says would
            # overshoot the node budget fourfold or the time left.
            spent = time.perf_counter() - start
            if last * growth > 4 * budget.nodes:
                report.stopped = "nodes"
                break
            if took * growth > budget.seconds - spent:
                report.stopped = "seconds"
                break
            t0 = time.perf_counter()
            self.eg.run_program(*cmd)
            took = time.perf_counter() - t0
            report.iterations += 1
            size = self.size()
            if size == last:
                report.stopped = "saturated"
                break
            growth = size / max(last, 1)
            last = size
            if size > budget.nodes:
                report.stopped = "nodes"
                break
            if time.perf_counter() - start > budget.seconds:
                report.stopped = "seconds"
                break
        report.nodes = last
        report.seconds += time.perf_counter() - start

    def serialized(self) -> _Classes:
        data = json.loads(self.eg.serialize([]).to_json())
        return _Classes(data, self.tr)


@dataclass
class _ENode:
    ctor: str
    ty: int
    payload: Any  # leaf index, number, generic op index or None
    children: tuple[str, ...]  # e-class ids


class _Classes:
    """The serialized e-graph: e-classes of terms and their e-nodes, and the cost of each."""

    def __init__(self, data: dict[str, Any], tr: _Translation) -> None:
        self.tr = tr
        nodes = data["nodes"]
        ctors = {o.ctor: o for o in OPS.values()}
        self.classes: dict[str, list[_ENode]] = {}
        self.root_class: dict[int, str] = {}
        for _nid, nd in nodes.items():
            op = nd["op"]
            ch = nd["children"]
            if op == "root":
                self.root_class[int(nodes[ch[0]]["op"])] = nd["eclass"]
                continue
            if op in ctors or op in ("Leaf", "Num", "Bcast", "F1", "F2", "F3", "Sum", "Drop",
                                     "MatMul"):
                ty = int(nodes[ch[0]]["op"])
                if op in ("Sum", "Drop"):
                    en = _ENode(op, ty, int(nodes[ch[1]]["op"]), (nodes[ch[2]]["eclass"],))
                elif op == "Leaf":
                    en = _ENode(op, ty, int(nodes[ch[1]]["op"]), ())
                elif op == "Num":
                    en = _ENode(op, ty, float(nodes[ch[1]]["op"]), ())
                elif op[0] == "F" and op[1:].isdigit():
                    en = _ENode(op, ty, int(nodes[ch[1]]["op"]),
                                tuple(nodes[c]["eclass"] for c in ch[2:]))
                else:
                    en = _ENode(op, ty, None, tuple(nodes[c]["eclass"] for c in ch[1:]))
                self.classes.setdefault(nd["eclass"], []).append(en)
        self.ctor_info = ctors
        self.class_ty = {c: ns[0].ty for c, ns in self.classes.items()}
        self.best: dict[str, tuple[float, int]] = {}
        self.dag_cost = math.inf
        self.dag_trials = 0
        self._extract()

    def node_cost(self, n: _ENode) -> float:
        if n.ctor in ("Leaf", "Num"):
            return 0.0
        t = self.tr.types[n.ty]
        itemsize = np.dtype(t[0]).itemsize
        if n.ctor == "Sum":
            src = self.tr.types[self.class_ty[n.children[0]]]
            return costs.node_cost(SUM_WEIGHT, 0, _elems(src), itemsize)
        if n.ctor == "Drop":
            return costs.node_cost(BCAST_WEIGHT, 0, 1.0, itemsize)
        if n.ctor == "MatMul":
            a = self.tr.types[self.class_ty[n.children[0]]]
            inner = _elems(("", a[1][1:]))
            return costs.node_cost(MATMUL_WEIGHT * inner, 1, _elems(t), itemsize)
        info = self.ctor_info.get(n.ctor)
        if n.ctor == "Bcast":
            weight = BCAST_WEIGHT
        else:
            weight = info.weight if info is not None else costs.generic_weight()
        return costs.node_cost(weight, len(n.children), _elems(t), np.dtype(t[0]).itemsize)

    def _extract(self) -> None:
        # The cheapest term of every e-class by tree cost, cheapest classes first (Knuth's
        # generalisation of Dijkstra: a node's cost is its own plus its children's, never less
        # than a child's, so a class is final when it leaves the heap). An e-node enters the
        # heap once all its distinct children are final: O(e-nodes log e-nodes), where a
        # fixed point over all classes repeated until nothing changes took seconds at
        # thousands of e-nodes.
        best: dict[str, tuple[float, int]] = {}
        waiting: dict[tuple[str, int], int] = {}
        parents: dict[str, list[tuple[str, int]]] = {}
        heap: list[tuple[float, int, str, int]] = []
        tie = itertools.count()
        for c, ns in self.classes.items():
            for k, n in enumerate(ns):
                kids = set(n.children)
                if not kids:
                    heapq.heappush(heap, (self.node_cost(n), next(tie), c, k))
                    continue
                waiting[(c, k)] = len(kids)
                for ch in kids:
                    parents.setdefault(ch, []).append((c, k))
        while heap:
            tot, _, c, k = heapq.heappop(heap)
            if c in best:
                continue
            best[c] = (tot, k)
            for p, j in parents.get(c, ()):
                if p in best:
                    continue
                waiting[(p, j)] -= 1
                if waiting[(p, j)] == 0:
                    n = self.classes[p][j]
                    cost = self.node_cost(n) + sum(best[ch][0] for ch in n.children)
                    heapq.heappush(heap, (cost, next(tie), p, j))
        self.best = best
        self.choice = self._dag_extract()

    def _dag_extract(self, trials: int = 100_000, passes: int = 6) -> dict[str, int]:
        """The e-node chosen for each e-class, by the cost of the extracted *DAG* (an e-class
        used twice is computed once), from the tree-cost choices improved by local search.

        Tree cost counts a shared e-class once per use, so it picks ``exp(a + a)`` over
        ``exp(a) * exp(a)`` even where ``exp(a)`` is computed anyway for another output. The
        search switches one e-class at a time to another of its e-nodes and keeps the switch
        if the DAG cost of everything reachable from the roots goes down, until a pass over the
        reachable e-classes changes nothing (a local optimum: optimal DAG extraction is
        NP-hard). The DAG cost is kept incrementally with reference counts (an e-class costs
        its chosen e-node while something reachable uses it), so a trial costs the part of the
        graph it adds or drops, not the whole graph; a switch that would make the choices
        cyclic is not tried. Starting from the tree-cost choices, the result is never costlier
        than them by the DAG cost.
        """
        names = list(self.classes)
        idx = {c: i for i, c in enumerate(names)}
        own: list[list[float]] = []
        kids: list[list[tuple[int, ...]]] = []
        for name in names:
            own.append([self.node_cost(n) for n in self.classes[name]])
            kids.append([tuple(idx[ch] for ch in n.children if ch in idx)
                         for n in self.classes[name]])
        sel = [self.best[name][1] if name in self.best else -1 for name in names]
        ref = [0] * len(names)
        total = [0.0]

        def inc(c: int) -> None:
            stack = [c]
            while stack:
                x = stack.pop()
                ref[x] += 1
                if ref[x] == 1:
                    total[0] += own[x][sel[x]]
                    stack.extend(kids[x][sel[x]])

        def dec(c: int) -> None:
            stack = [c]
            while stack:
                x = stack.pop()
                ref[x] -= 1
                if ref[x] == 0:
                    total[0] -= own[x][sel[x]]
                    stack.extend(kids[x][sel[x]])

        def switch(c: int, k: int) -> None:
            old = sel[c]
            sel[c] = k
            for ch in kids[c][k]:
                inc(ch)
            for ch in kids[c][old]:
                dec(ch)

        roots = [idx[name] for name in self.root_class.values() if name in idx]
        if any(sel[r] < 0 for r in roots):
            return {name: b[1] for name, b in self.best.items()}
        for r in roots:
            inc(r)

        def order() -> dict[int, int]:
            # topological positions of the reachable e-classes (children first)
            pos: dict[int, int] = {}
            for r in roots:
                stack = [(r, False)]
                while stack:
                    x, done = stack.pop()
                    if done:
                        pos.setdefault(x, len(pos))
                        continue
                    if x in pos:
                        continue
                    stack.append((x, True))
                    stack.extend((ch, False) for ch in kids[x][sel[x]] if ch not in pos)
            return pos

        def acyclic(c: int, k: int, pos: dict[int, int]) -> bool:
            # Would choosing e-node k for class c close a cycle? Anything that reaches c
            # comes after it in the order, so reachable classes before c are not followed;
            # unreachable ones (whose choices may be stale) are followed, cycles among them
            # included.
            state: dict[int, int] = {}
            stack = [(ch, False) for ch in kids[c][k]]
            while stack:
                x, done = stack.pop()
                if done:
                    state[x] = 2
                    continue
                if x == c or state.get(x) == 1:
                    return False
                if state.get(x) == 2:
                    continue
                p = pos.get(x)
                if p is not None and p < pos[c]:
                    state[x] = 2
                    continue
                if sel[x] < 0:
                    return False
                state[x] = 1
                stack.append((x, True))
                stack.extend((ch, False) for ch in kids[x][sel[x]])
            return True

        # The search is bounded by a number of trials, not by time, so that its result does not
        # depend on the machine's load (the pipeline must give the same graph every time).
        self.dag_trials = 0
        for _ in range(passes):
            improved = False
            pos = order()
            for c in sorted(pos, key=pos.__getitem__, reverse=True):
                if ref[c] == 0:
                    continue  # dropped by an earlier switch of this pass
                for k in range(len(own[c])):
                    if k == sel[c] or not all(sel[ch] >= 0 for ch in kids[c][k]):
                        continue
                    if not acyclic(c, k, pos):
                        continue
                    self.dag_trials += 1
                    before, old = total[0], sel[c]
                    switch(c, k)
                    if total[0] < before - 1e-9 * max(1.0, abs(before)):
                        improved = True
                        pos = order()
                    else:
                        switch(c, old)
                        total[0] = before  # no drift from undoing
                if self.dag_trials > trials:
                    break
            if not improved or self.dag_trials > trials:
                break
        self.dag_cost = total[0]
        return {names[i]: sel[i] for i in range(len(names)) if sel[i] >= 0}


# --- reading terms back -------------------------------------------------------------------------


class _Builder:
    """Rebuilds gnomon variables from choices of e-nodes (the best ones, or overrides)."""

    def __init__(self, cl: _Classes, overrides: dict[str, int] | None = None) -> None:
        self.cl = cl
        self.tr = cl.tr
        self.over = overrides or {}
        self.memo: dict[Any, Variable] = {}
        self.opaque = set(self.tr.opaque)

    def choice(self, c: str) -> _ENode:
        k = self.over.get(c)
        if k is None:
            k = self.cl.choice[c]
        return self.cl.classes[c][k]

    def deps(self, key: tuple[str, Any]) -> list[tuple[str, Any]]:
        kind, x = key
        if kind == "c":
            n = self.choice(x)
            if n.ctor == "Leaf":
                return [("v", self.tr.leaves[n.payload])]
            deps: list[tuple[str, Any]] = [("c", ch) for ch in n.children]
            if n.ctor == "Bcast":
                # the lengths to broadcast to are those of the leaves the symbols come from
                for sym in self.symbols(n.ty):
                    deps.append(self.var_key(self.tr.sym_src[sym][0]))
            return deps
        v = x
        node = v.owner
        if node is None or node not in self.opaque:
            return []
        return [self.var_key(i) for i in node.inputs]

    def symbols(self, ty: int) -> list[int]:
        return sorted(s for d in self.tr.types[ty][1] if not isinstance(d, int) for s in d)

    def var_key(self, v: Variable) -> tuple[str, Any]:
        k = self.tr.roots_index.get(v)
        if k is not None:
            return ("c", self.cl.root_class[k])
        return ("v", v)

    def make(self, key: tuple[str, Any], vals: list[Variable]) -> Variable:
        kind, x = key
        if kind == "v":
            v = x
            node = v.owner
            if node is None or node not in self.opaque:
                return v
            if all(a is b for a, b in zip(vals, node.inputs, strict=True)):
                return v
            fitted = [_fit(a, b) for a, b in zip(vals, node.inputs, strict=True)]
            with built_from(node):
                new = node.op.make_node(*fitted)
            return new.outputs[v.index]
        n = self.choice(x)
        t = self.tr.types[n.ty]
        if n.ctor == "Leaf":
            return vals[0]
        if n.ctor == "Num":
            return constant(np.full((1,) * len(t[1]), n.payload, dtype=t[0]))
        if n.ctor == "Bcast":
            return self.broadcast(vals[0], t, n.ty, vals[1:])
        if n.ctor == "Sum":
            from gnomon.tensor.reduce import sum as tsum

            return tsum(vals[0], axis=mask_axes(n.payload))
        if n.ctor == "Drop":
            from gnomon.tensor.shapes import dimshuffle

            gone = mask_axes(n.payload)
            return dimshuffle(vals[0], [i for i in range(vals[0].ndim) if i not in gone])
        if n.ctor == "MatMul":
            from gnomon.tensor.blas import matmul

            return matmul(vals[0], vals[1])
        if n.ctor in self.cl.ctor_info:
            so = self.cl.ctor_info[n.ctor].scalar()
        else:
            so = self.tr.generic[n.payload]
        return Elemwise(so)(*vals)

    def broadcast(self, a: Variable, t: TypeKey, ty: int, leaves: list[Variable]) -> Variable:
        from gnomon.tensor.math import maximum
        from gnomon.tensor.shapes import broadcast_to

        src = dict(zip(self.symbols(ty), leaves, strict=True))
        dims: list[Variable] = []
        for d in t[1]:
            if isinstance(d, int):
                dims.append(constant(d, "int64"))
            elif not d:
                dims.append(constant(1, "int64"))
            else:
                parts = [self.length(src[s], self.tr.sym_src[s][1]) for s in sorted(d)]
                m = parts[0]
                for p in parts[1:]:
                    m = maximum(m, p)
                dims.append(m)
        # a view (stride 0 along broadcast axes), not a copy: the consumers read it in place
        return broadcast_to(a, dims)

    @staticmethod
    def length(v: Variable, d: int) -> Variable:
        """``v.shape[d]``, from the shapes of its node's inputs where the op can say (so that
        the length of an opaque node's output does not compute the node)."""
        from gnomon.rewrite.engine import symbolic_shape
        from gnomon.tensor.shapes import shape_i

        dims = symbolic_shape(v) if v.owner is not None else None
        return dims[d] if dims is not None else shape_i(v, d)

    def build(self, key: tuple[str, Any]) -> Variable | None:
        """Iterative post-order evaluation; ``None`` if the choices form a cycle."""
        if key in self.memo:
            return self.memo[key]
        stack: list[tuple[tuple[str, Any], bool]] = [(key, False)]
        on_path: set[Any] = set()
        while stack:
            k, done = stack.pop()
            if k in self.memo:
                if done:
                    on_path.discard(k)
                continue
            ds = self.deps(k)
            if done:
                on_path.discard(k)
                self.memo[k] = self.make(k, [self.memo[d] for d in ds])
                continue
            if k in on_path:
                return None
            on_path.add(k)
            stack.append((k, True))
            for d in ds:
                if d not in self.memo:
                    if d in on_path:
                        return None
                    stack.append((d, False))
        return self.memo[key]

    def outputs(self) -> list[Variable] | None:
        res = []
        for o in self.tr.outputs:
            v = self.build(self.var_key(o))
            if v is None:
                return None
            res.append(_fit(v, o))
        return res


def _fit(new: Variable, old: Variable) -> Variable:
    """``new`` with ``old``'s static type where the static shapes differ only in what is known
    (the e-graph's types guarantee equal run-time shapes and dtypes)."""
    if new is old or new.type == old.type:
        return new
    from gnomon.tensor.basic import alloc, cast
    from gnomon.tensor.shapes import shape_i

    if new.dtype != old.dtype:
        new = cast(new, old.dtype)
    ot = old.type.shape  # type: ignore[attr-defined]
    nt = new.type.shape  # type: ignore[attr-defined]
    if all(o is None or o == n for o, n in zip(ot, nt, strict=True)):
        return new
    dims = [constant(o, "int64") if o is not None else shape_i(new, d) for d, o in enumerate(ot)]
    return alloc(new, *dims)


# --- the public functions -----------------------------------------------------------------------


@dataclass
class _Run:
    tr: _Translation
    cl: _Classes
    report: Report = field(default_factory=Report)


def _saturate_once(outputs: list[Variable], rules: Sequence[EqRule], budget: Budget) -> _Run | None:
    tr = _Translation(outputs)
    if not tr.roots:
        return None
    report = Report(region=tr.region_nodes)
    eg = _EGraph(tr, rules)
    try:
        eg.run(budget, report)
        t0 = time.perf_counter()
        cl = eg.serialized()
        report.extract_seconds += time.perf_counter() - t0
    finally:
        eg.close()
    return _Run(tr, cl, report)


def graph_cost(outputs: Iterable[Variable]) -> float:
    """The cost of a graph under the e-graph's cost model: every distinct elementwise node once
    (other nodes cost the same before and after a saturation and are not counted).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> graph_cost([gt.exp(x)]) > graph_cost([x + x])
    True
    """
    from gnomon.tensor.basic import Alloc
    from gnomon.tensor.blas import MatMul
    from gnomon.tensor.reduce import Sum
    from gnomon.tensor.shapes import BroadcastTo

    def elements(v: Variable) -> float:
        n = 1.0
        for s in v.type.shape:  # type: ignore[attr-defined]
            n *= costs.UNKNOWN_LENGTH if s is None else s
        return n

    total = 0.0
    for node in toposort(list(outputs)):
        if isinstance(node.op, Sum):
            x = node.inputs[0]
            total += costs.node_cost(SUM_WEIGHT, 0, elements(x), np.dtype(x.dtype).itemsize)
            continue
        if isinstance(node.op, MatMul):
            a, out = node.inputs[0], node.outputs[0]
            inner = a.type.shape[-1]  # type: ignore[attr-defined]
            inner = costs.UNKNOWN_LENGTH if inner is None else inner
            total += costs.node_cost(MATMUL_WEIGHT * inner, 1, elements(out),
                                     np.dtype(out.dtype).itemsize)
            continue
        if isinstance(node.op, Alloc | BroadcastTo):
            out = node.outputs[0]
            elems = 1.0
            for s in out.type.shape:  # type: ignore[attr-defined]
                elems *= costs.UNKNOWN_LENGTH if s is None else s
            total += costs.node_cost(BCAST_WEIGHT, 1, elems, np.dtype(out.dtype).itemsize)
            continue
        fn = _expandable(node)
        if fn is not None:
            # a call of an inner graph costs what its expansion adds
            with internal_construction():
                inner = list(fn(node))
            total += graph_cost(inner) - graph_cost(node.inputs)
            continue
        if not isinstance(node.op, Elemwise):
            continue
        so = node.op.scalar_op
        info = BY_SCALAR.get(type(so))
        weight = info.weight if info is not None else costs.generic_weight()
        n_in = len(node.inputs)
        if info is not None and info.arity == 2 and n_in > 2:
            weight *= n_in - 1  # a variadic add / mul is n-1 binary operations
        out = node.outputs[0]
        elems = 1.0
        for s in out.type.shape:  # type: ignore[attr-defined]
            elems *= costs.UNKNOWN_LENGTH if s is None else s
        itemsize = np.dtype(out.dtype).itemsize if out.dtype != "bool" else 1
        total += costs.node_cost(weight, n_in, elems, itemsize)
    return total


def _one_level(outputs: list[Variable], rules: Sequence[EqRule], budget: Budget,
               report: Report) -> list[Variable]:
    run = _saturate_once(outputs, rules, budget)
    if run is None:
        return outputs
    r = run.report
    report.iterations += r.iterations
    report.nodes = max(report.nodes, r.nodes)
    report.stopped = r.stopped
    report.seconds += r.seconds
    report.extract_seconds += r.extract_seconds
    report.region += r.region
    with internal_construction():
        new = _Builder(run.cl).outputs()
    if new is None:
        return outputs
    if graph_cost(new) >= graph_cost(outputs) * (1 - 1e-9):
        # Only a strictly cheaper graph replaces the input: tree-cost extraction can lose
        # sharing, and an equally cheap reordering would make the pipeline not idempotent.
        return outputs
    return new


def saturate(
    outputs: Variable | Sequence[Variable],
    rules: Any = None,
    *,
    budget: Budget | None = None,
    expand: bool = True,
    report: Report | None = None,
) -> Any:
    """Rewrite ``outputs`` by equality saturation and return the cheapest equivalent graph.

    Parameters
    ----------
    outputs : Variable or sequence of Variable
    rules : names of e-graph rules or groups, or :class:`EqRule` objects (default: all of
        :data:`~gnomon.rewrite.egraph.rules.RULES`)
    budget : Budget, optional
        When to stop (default ``Budget()``).
    expand : bool
        Graphs with ``OpFromGraph`` nodes are saturated with those nodes as units first, then
        the nodes are expanded into their inner graphs and the result is saturated again.
        ``False``: only the first level (the nodes stay).
    report : Report, optional
        Filled in with what the saturation did.

    Returns
    -------
    The rewritten outputs (a single variable if one was given). Types (dtype and static shape)
    are those of ``outputs``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> a, b = gt.dvector("a"), gt.dvector("b")
    >>> out = saturate(gt.log(gt.exp(a) * gt.exp(b)))
    >>> print(out.owner.op)
    Elemwise(add)
    """
    single = isinstance(outputs, Variable)
    outs: list[Variable] = [outputs] if isinstance(outputs, Variable) else list(outputs)
    rs = get_rules(rules)
    budget = budget or Budget()
    report = report if report is not None else Report()
    report.cost_before = graph_cost(outs)
    new = _one_level(outs, rs, budget, report)
    if expand:
        expanded = _expand_all(new)
        if any(a is not b for a, b in zip(expanded, new, strict=True)):
            new = _one_level(expanded, rs, budget, report)
    report.cost_after = graph_cost(new)
    return new[0] if single else new


def _expand_all(outputs: list[Variable]) -> list[Variable]:
    memo: dict[Variable, Variable] = {}
    with internal_construction():
        for node in toposort(outputs):
            ins = [memo.get(i, i) for i in node.inputs]
            fn = _expandable(node)
            if fn is not None:
                with built_from(node):
                    new_node = node if all(a is b for a, b in zip(ins, node.inputs, strict=True)) \
                        else node.op.make_node(*ins)
                    outs = list(fn(new_node))
                for o, n in zip(node.outputs, outs, strict=True):
                    memo[o] = _fit(n, o)
            elif any(a is not b for a, b in zip(ins, node.inputs, strict=True)):
                with built_from(node):
                    nn = node.op.make_node(*ins)
                for o, n in zip(node.outputs, nn.outputs, strict=True):
                    memo[o] = n
    return [memo.get(o, o) for o in outputs]


def variants(
    outputs: Variable | Sequence[Variable],
    rules: Any = None,
    n: int = 10,
    *,
    budget: Budget | None = None,
) -> list[Any]:
    """Up to ``n`` distinct graphs equal to ``outputs`` under ``rules``, cheapest first.

    The e-graph is saturated (to ``budget``); the cheapest extraction comes first, then graphs
    that differ from an earlier one in the choice of one e-node, explored cheapest first
    (a best-first search over choices, deduplicated by the graph built: the IR is hash-consed,
    so equal graphs are the same variables). Each result has the types of ``outputs``.

    Parameters
    ----------
    outputs : Variable or sequence of Variable
    rules : e-graph rule names, group names or :class:`EqRule` objects (default: all)
    n : int
        The most graphs to return.
    budget : Budget, optional
        Saturation budget (default ``Budget()``).

    Returns
    -------
    list
        Each entry is a variable (if one was given) or a list of variables.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> a, b, c = gt.dvector("a"), gt.dvector("b"), gt.dvector("c")
    >>> vs = variants(a * b + a * c, rules=["distribute", "mul_comm", "add_comm"], n=4)
    >>> len(vs), str(vs[0].owner.op), str(vs[-1].owner.op)
    (4, 'Elemwise(mul)', 'Elemwise(mul)')
    """
    single = isinstance(outputs, Variable)
    outs: list[Variable] = [outputs] if isinstance(outputs, Variable) else list(outputs)
    if n < 1:
        return []
    run = _saturate_once(outs, get_rules(rules), budget or Budget())
    if run is None:
        return [outputs]
    cl = run.cl
    # alternatives per class, sorted by own cost + children's best costs
    alts: dict[str, list[tuple[float, int]]] = {}
    for c, ns in cl.classes.items():
        lst = []
        for k, node in enumerate(ns):
            tot = cl.node_cost(node) + sum(cl.best.get(ch, (math.inf, 0))[0]
                                           for ch in node.children)
            if math.isfinite(tot):
                lst.append((tot, k))
        alts[c] = sorted(lst)
    seen: set[tuple[int, ...]] = set()
    results: list[tuple[float, list[Variable]]] = []
    counter = itertools.count()
    heap: list[tuple[float, int, tuple[tuple[str, int], ...]]] = [(0.0, next(counter), ())]
    tried: set[tuple[tuple[str, int], ...]] = set()
    budget_steps = 200 * n
    with internal_construction():
        while heap and len(results) < n and budget_steps > 0:
            budget_steps -= 1
            extra, _, over = heapq.heappop(heap)
            if over in tried:
                continue
            tried.add(over)
            b = _Builder(cl, dict(over))
            got = b.outputs()
            if got is None:
                continue
            key = tuple(id(v) for v in got)
            if key not in seen:
                seen.add(key)
                results.append((graph_cost(got), got))
            # neighbours: one class that the built graph uses takes its next alternative
            used = [k[1] for k in b.memo if k[0] == "c"]
            od = dict(over)
            for c in used:
                base = cl.best[c][0]
                cur = od.get(c, cl.choice[c])
                for tot, k in alts.get(c, []):
                    if k == cur or (c, k) in over:
                        continue
                    nov = tuple(sorted({**od, c: k}.items()))
                    if nov not in tried:
                        heapq.heappush(heap, (extra + tot - base, next(counter), nov))
    results.sort(key=lambda r: r[0])
    return [r[1][0] if single else r[1] for r in results[:n]]
