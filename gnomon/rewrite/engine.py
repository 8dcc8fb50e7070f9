"""The rewrite engine: named rules, the registry, and the memoised bottom-up rewrite.

A :class:`Rule` is a pattern (see :mod:`gnomon.rewrite.pattern`) plus a function that gets the
matched node and the captured variables and returns the replacement (a variable, a list with one
variable per output of the node) or ``None``. A :class:`GraphRule` is a whole-graph pass (fusion
needs to know who uses a variable, which a local rule cannot see). Rules belong to named groups;
:data:`gnomon.rewrite.stages.PIPELINE` is the one ordered list of stages that run them, and
:func:`rewrite_graph` runs that list. The standard rules (:mod:`gnomon.rewrite.rules`) are
registered when the package is imported: ``gnomon/rewrite/__init__.py`` imports
:mod:`gnomon.rewrite.pipeline`, which imports the rule modules. Rules of later layers
(``gnomon.control``) and users' rules are registered after them.

Inside the package, imports go one way: ``stages`` and ``pattern`` <- ``engine`` <- ``rules`` <-
``pipeline``. Patterns and rules name ops by reference (the op classes are imported), never by
string.

How one stage runs (:func:`rewrite_stage`): the graph is walked bottom-up once; each node is
rebuilt from its already-rewritten inputs (``op.make_node``: the IR is immutable and interned,
so an unchanged node is the same object), then the rules indexed under its op are tried in
registration order. When one fires, its replacement is itself rewritten bottom-up before it
takes the node's place, so each node is visited once and the result is a fixed point of the
local rules. Cost: one dictionary lookup per node plus the rules that index on its op, i.e.
linear in the graph size. Graph rules then run, and the stage repeats while they change the
graph.

Replacements are fitted to the node they replace (:func:`fit_replacement`): a wrong dtype gets a
cast, and a value whose shape might differ from the node's at run time (``x * 0 -> 0``, or
``x * y / x -> y`` when ``x`` may broadcast ``y``) is broadcast with ``Alloc`` to the node's shape,
computed symbolically from the node's inputs (``op.infer_shape``). So a rule may return a value
that is only equal *up to broadcasting*; it never needs to reason about shapes itself.

Examples
--------
>>> import gnomon, gnomon.tensor as gt
>>> from gnomon.rewrite.pattern import P, Var
>>> from gnomon.scalar.basic import Neg
>>> from gnomon.tensor.elemwise import Elemwise
>>> @register_rule(P(Elemwise(Neg), P(Elemwise(Neg), "x")), groups=("canonicalize", "doc"),
...                name="doc_neg_neg", default=False)
... def _(node, x):
...     return x
>>> x = gt.dvector("x")
>>> (out,), trace = rewrite_graph([-(-x)], include=["doc_neg_neg"], exclude=["canonicalize"])
>>> out is x, [step.rule for step in trace]
(True, ['doc_neg_neg'])
>>> unregister_rule("doc_neg_neg")
"""

from __future__ import annotations

import difflib
import gc
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# The one import from a layer above: rewrite_graph() defaults to the default mode's backend
# (gnomon.compile.mode imports nothing of gnomon.rewrite).
from gnomon.compile.mode import get_mode
from gnomon.errors import GnomonValueError, node_context, with_hint
from gnomon.graph.basic import (
    Apply,
    Constant,
    Variable,
    built_from,
    internal_construction,
)
from gnomon.rewrite.pattern import P, Pattern
from gnomon.rewrite.stages import PIPELINE, stage_groups
from gnomon.tensor.basic import Alloc, alloc, as_tensor, cast, constant
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.shapes import DimShuffle, ShapeI, shape_i, shape_tuple
from gnomon.tensor.type import TensorType

RuleFn = Callable[..., Any]


class RewriteError(GnomonValueError):
    """A rewrite rule is malformed or produced a replacement that cannot stand for a node."""


# --- rules ---------------------------------------------------------------------------------


@dataclass(eq=False)
class Rule:
    """A local rewrite: a pattern and the function building the replacement.

    Attributes
    ----------
    name : unique name (used by include/exclude and in the trace)
    fn : ``fn(node, **captures) -> Variable | list[Variable] | None``
    pattern : what the node's (first) output must match; ``None`` to be tried on the nodes of
        the op classes in ``ops`` (or on every node when ``ops`` is ``None``)
    groups : the named groups the rule belongs to (at least one stage group of the pipeline)
    default : run unless excluded (``False``: run only when included by name or group)
    exact_shape : the replacement always has the node's exact run-time shape (indexing a
        concatenation, merging reshapes), so it is never broadcast to the node's shape; by
        default a replacement is only trusted to be equal up to broadcasting
    """

    name: str
    fn: RuleFn
    pattern: Pattern | None
    groups: tuple[str, ...]
    ops: tuple[Any, ...] | None = None
    default: bool = True
    doc: str = ""
    exact_shape: bool = False

    def keys(self) -> list[Any] | None:
        """Index keys (op classes or ``('elemwise', scalar_class)``); ``None``: every node."""
        if self.pattern is not None:
            return self.pattern.root_keys()
        if self.ops is None:
            return None
        keys: list[Any] = []
        for o in self.ops:
            keys.extend(_keys_of_spec(o))
        return keys

    def apply(self, node: Apply) -> list[Variable] | None:
        """The replacement of ``node``'s outputs, or ``None`` if the rule does not apply."""
        try:
            if self.pattern is None:
                return _as_replacement(self.fn(node), node, self.name)
            for b in self.pattern.match(node.outputs[0]):
                out = self.fn(node, **b)
                if out is not None:
                    return _as_replacement(out, node, self.name)
        except RewriteError:
            raise
        except Exception as e:
            raise RewriteError(with_hint(
                f"rewrite rule {self.name!r} failed on {node.op}: {type(e).__name__}: {e}\n"
                f"{node_context(node)}",
                f"fix the rule, or compile with Mode(...).excluding({self.name!r})",
            )) from e
        return None


def _keys_of_spec(spec: Any) -> list[Any]:
    return P(spec).root_keys() or []


@dataclass(eq=False)
class GraphRule:
    """A whole-graph pass: ``fn(outputs) -> (new_outputs, steps)`` where ``steps`` lists
    ``(old_node, new_variables)`` pairs for the trace. Used where a rule must know the clients
    of a variable (fusion)."""

    name: str
    fn: Callable[[list[Variable]], tuple[list[Variable], list[tuple[Apply, tuple[Variable, ...]]]]]
    groups: tuple[str, ...]
    default: bool = True
    doc: str = ""


def _as_replacement(out: Any, node: Apply, rule: str) -> list[Variable] | None:
    if out is None:
        return None
    outs = list(out) if isinstance(out, list | tuple) else [out]
    if len(outs) != len(node.outputs):
        raise RewriteError(with_hint(
            f"rule {rule!r} returned {len(outs)} replacement(s) for {node.op}, which has "
            f"{len(node.outputs)} output(s)",
            "return one variable per output of the matched node (a list for several)",
        ))
    res = [o if isinstance(o, Variable) else as_tensor(o) for o in outs]
    if all(r is o for r, o in zip(res, node.outputs, strict=True)):
        return None
    return res


# --- the registry --------------------------------------------------------------------------

_RULES: dict[str, Rule | GraphRule] = {}
_GLOBAL_INCLUDE: set[str] = set()
_GLOBAL_EXCLUDE: set[str] = set()
_version = [0]


def register(rule: Rule | GraphRule) -> Rule | GraphRule:
    """Add ``rule`` to the registry (its name must be new, its ops given by reference)."""
    if rule.name in _RULES:
        raise RewriteError(with_hint(
            f"a rewrite rule named {rule.name!r} is already registered",
            "pick another name, or unregister_rule(name) first",
        ))
    if not set(rule.groups) & stage_groups():
        raise RewriteError(with_hint(
            f"rule {rule.name!r} belongs to groups {rule.groups}, none of which a pipeline stage "
            "runs, so it would never run",
            f"add one of {sorted(stage_groups())} to its groups (any extra group names are "
            "free tags you can include or exclude by)",
        ))
    if isinstance(rule, Rule):
        rule.keys()  # an op given by name (or as anything but a class or an instance) raises
    _RULES[rule.name] = rule
    _version[0] += 1
    return rule


def register_rule(
    pattern: Pattern | None = None,
    *,
    groups: Sequence[str] = ("canonicalize",),
    name: str | None = None,
    ops: Sequence[Any] | None = None,
    default: bool = True,
    exact_shape: bool = False,
) -> Callable[[RuleFn], RuleFn]:
    """Decorator: register ``fn(node, **captures)`` as a rule matching ``pattern``.

    Parameters
    ----------
    pattern : Pattern, optional
        The left-hand side. Without it, the function is called on every node whose op is one of
        ``ops`` (or on every node) and does its own matching.
    groups : sequence of str
        Named groups; at least one must be a stage group of :mod:`gnomon.rewrite.pipeline`
        (``'canonicalize'``, ``'stabilize'``, ``'specialize'``, ``'fusion'``), which decides when
        the rule runs. Other names are tags to include or exclude by.
    name : str, optional
        Defaults to the function's name.
    default : bool
        Whether the rule runs unless excluded; ``False`` makes it opt-in
        (``Mode(...).including(name)``).
    exact_shape : bool
        Promise that the replacement has exactly the node's run-time shape. By default the
        engine only trusts it to be equal up to broadcasting and broadcasts it (``Alloc``) to the
        node's shape unless it can prove the shapes equal.

    Examples
    --------
    >>> import gnomon, gnomon.tensor as gt
    >>> from gnomon.rewrite.pattern import P, Var
    >>> from gnomon.scalar.math import Exp
    >>> from gnomon.tensor.elemwise import Elemwise
    >>> @register_rule(P(Elemwise(Exp), "x"), groups=("specialize", "mine"), default=False)
    ... def exp_as_power(node, x):
    ...     return gt.power(float(__import__("math").e), x)
    >>> x = gt.dscalar("x")
    >>> f = gnomon.function([x], gt.exp(x), mode=gnomon.Mode("numpy").including("mine"))
    >>> [s.rule for s in f.rewrite_trace]
    ['exp_as_power']
    >>> unregister_rule("exp_as_power")
    """

    def deco(fn: RuleFn) -> RuleFn:
        register(Rule(name or fn.__name__, fn, pattern, tuple(groups),
                      None if ops is None else tuple(ops), default, (fn.__doc__ or "").strip(),
                      exact_shape))
        return fn

    return deco


def register_graph_rule(
    *, groups: Sequence[str], name: str | None = None, default: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register a whole-graph pass (see :class:`GraphRule`)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        register(GraphRule(name or fn.__name__, fn, tuple(groups), default,
                           (fn.__doc__ or "").strip()))
        return fn

    return deco


def unregister_rule(name: str) -> None:
    """Remove a rule from the registry (a no-op for an unknown name)."""
    if _RULES.pop(name, None) is not None:
        _version[0] += 1


def get_rule(name: str) -> Rule | GraphRule:
    """The registered rule called ``name``."""
    try:
        return _RULES[name]
    except KeyError:
        raise RewriteError(with_hint(f"no rewrite rule named {name!r}",
                                     "list them with gnomon.rewrite.list_rules()")) from None


def list_rules(group: str | None = None) -> list[str]:
    """Names of the registered rules (of one group), in registration order."""
    return [n for n, r in _RULES.items() if group is None or group in r.groups]


def known_names() -> set[str]:
    """Every rule name, group name and stage name (what include/exclude accept)."""
    names = set(_RULES)
    for r in _RULES.values():
        names.update(r.groups)
    names.update(s.name for s in PIPELINE)
    return names


def enable(*names: str) -> None:
    """Include rules or groups in every rewrite from now on (also the opt-in ones)."""
    _GLOBAL_EXCLUDE.difference_update(names)
    _GLOBAL_INCLUDE.update(names)
    _version[0] += 1


def disable(*names: str) -> None:
    """Exclude rules or groups from every rewrite from now on (a per-function ``include``
    brings them back)."""
    _GLOBAL_INCLUDE.difference_update(names)
    _GLOBAL_EXCLUDE.update(names)
    _version[0] += 1


def check_names(names: Iterable[str]) -> None:
    """Raise for a name that is no rule, group or stage (a typo would silently do nothing)."""
    names = list(names)
    if not names:
        return
    known = known_names()
    bad = [n for n in names if n not in known]
    if bad:
        close = difflib.get_close_matches(bad[0], sorted(known), n=3)
        raise RewriteError(with_hint(
            f"unknown rewrite rule or group name(s): {', '.join(map(repr, bad))}",
            (f"did you mean {', '.join(map(repr, close))}? " if close else "")
            + "gnomon.rewrite.list_rules() lists the rules; groups are "
            + ", ".join(sorted({g for r in _RULES.values() for g in r.groups})),
        ))


def select_rules(
    stage_groups: Iterable[str], include: Iterable[str], exclude: Iterable[str]
) -> list[Rule | GraphRule]:
    """The rules a stage runs: members of its groups, default or included, not excluded.

    Exclusion wins over the global include list, and a per-call include wins over the global
    exclude list.
    """
    key = (_version[0], tuple(stage_groups), tuple(sorted(include)), tuple(sorted(exclude)))
    hit = _select_cache.get(key)
    if hit is not None:
        return hit
    res = _select(stage_groups, include, exclude)
    if len(_select_cache) > 256:
        _select_cache.clear()
    _select_cache[key] = res
    return res


_select_cache: dict[tuple[Any, ...], list[Rule | GraphRule]] = {}


def _select(
    stage_groups: Iterable[str], include: Iterable[str], exclude: Iterable[str]
) -> list[Rule | GraphRule]:
    include = set(include) | (_GLOBAL_INCLUDE - set(exclude))
    exclude = set(exclude) | (_GLOBAL_EXCLUDE - include)
    sg = set(stage_groups)
    out = []
    for r in _RULES.values():
        tags = {r.name, *r.groups}
        if not (sg & set(r.groups)):
            continue
        if tags & exclude and r.name not in include:
            continue
        if r.default or tags & include:
            out.append(r)
    return out


# --- the trace -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RewriteStep:
    """One rule firing: in which stage, which rule, the node it rewrote and what replaced it."""

    stage: str
    rule: str
    node: Apply
    replacement: tuple[Variable, ...]

    def __str__(self) -> str:
        ins = ", ".join(_short(v) for v in self.node.inputs)
        new = ", ".join(_short(v) for v in self.replacement)
        return f"[{self.stage}] {self.rule}: {self.node.op}({ins}) -> {new}"


def _short(v: Variable) -> str:
    if v.name is not None:
        return v.name
    if isinstance(v, Constant):
        return str(v)
    if v.owner is not None:
        return f"{v.owner.op}(...)"
    return str(v.type)


def format_trace(trace: Sequence[RewriteStep]) -> str:
    """One line per rule firing, in order.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dscalar("x")
    >>> _, trace = rewrite_graph([-(-x)])
    >>> print(format_trace(trace))
    [canonicalize] neg_neg: Elemwise(neg)(Elemwise(neg)(...)) -> x
    """
    return "\n".join(str(s) for s in trace)


# --- fitting a replacement to the node it replaces -------------------------------------------


class ShapeOracle:
    """Decides, without running anything, whether two variables surely have the same length in a
    dimension: each (variable, dim) gets a key; equal keys mean equal lengths at run time.

    Keys: a static length is its int; an Elemwise output inherits the key its inputs agree on
    (inputs of static length 1 do not count); DimShuffle, Alloc and reductions map dimensions;
    anything else is its own key. Deep chains are cut at ``max_depth`` (a unique key: "not
    provably equal", which is always safe).
    """

    def __init__(self, max_depth: int = 64) -> None:
        # Keyed by the variable itself (not its id): holding it keeps ids from being reused.
        self.memo: dict[tuple[Variable, int], Any] = {}
        self.max_depth = max_depth

    def key(self, v: Variable, d: int, depth: int = 0) -> Any:
        s = v.type.shape[d]  # type: ignore[attr-defined]
        if s is not None:
            return s
        k = (v, d)
        hit = self.memo.get(k)
        if hit is not None:
            return hit
        res = self._compute(v, d, depth) if depth < self.max_depth else None
        if res is None:
            res = ("dim", v, d)
        self.memo[k] = res
        return res

    def _compute(self, v: Variable, d: int, depth: int) -> Any:
        node = v.owner
        if node is None:
            return None
        op = node.op
        if isinstance(op, Elemwise):
            keys = {self.key(i, d, depth + 1) for i in node.inputs if i.type.shape[d] != 1}  # type: ignore[attr-defined]
            return keys.pop() if len(keys) == 1 else None
        if isinstance(op, DimShuffle):
            src = op.new_order[d]
            return 1 if src == "x" else self.key(node.inputs[0], int(src), depth + 1)
        if isinstance(op, Alloc):
            return self.dim_value_key(node.inputs[1 + d], depth + 1)
        return self._from_infer_shape(node, v.index, d, depth)  # type: ignore[arg-type]

    def _from_infer_shape(self, node: Apply, index: int, d: int, depth: int) -> Any:
        # Ask the op's shape rule with placeholders for the input lengths: an output length
        # that *is* an input's length (reductions, softmax, reshape-free ops ...) inherits
        # that input's key. Shape rules that compute with the lengths fail on placeholders,
        # and the answer is then "unknown" (always safe).
        placeholders = [tuple(_Dim(k, j) for j in range(getattr(i, "ndim", 0)))
                        for k, i in enumerate(node.inputs)]
        try:
            shapes = node.op.infer_shape(node, placeholders)  # type: ignore[arg-type]
            entry = shapes[index][d] if shapes is not None else None
        except Exception:
            return None
        if isinstance(entry, _Dim):
            return self.key(node.inputs[entry.input], entry.dim, depth + 1)
        if isinstance(entry, Variable):
            return self.dim_value_key(entry, depth + 1)
        return None

    def dim_value_key(self, s: Variable, depth: int = 0) -> Any:
        """The key of a symbolic length (an int64 scalar such as ``Shape_i(x)``)."""
        if isinstance(s, Constant):
            return int(s.data)
        if s.owner is not None and isinstance(s.owner.op, ShapeI):
            return self.key(s.owner.inputs[0], s.owner.op.i, depth + 1)
        return ("value", s)

    def same_shape(self, a: Variable, b: Variable) -> bool:
        """True if ``a`` and ``b`` surely have the same shape (same rank required)."""
        if a.ndim != b.ndim:
            return False
        return all(self.key(a, d) == self.key(b, d) for d in range(a.ndim))


@dataclass(frozen=True)
class _Dim:
    """Placeholder for "the length of dimension ``dim`` of input ``input``"."""

    input: int
    dim: int


def symbolic_shape(v: Variable) -> tuple[Variable, ...] | None:
    """The shape of ``v`` as int64 scalars computed from its node's input shapes (without
    computing ``v``), or ``None`` when its op has no ``infer_shape``."""
    node = v.owner
    if node is None:
        return tuple(shape_tuple(v))
    try:
        # inputs that are not arrays (random generators) have no shape
        shapes = node.op.infer_shape(node, [tuple(shape_tuple(i)) if isinstance(i.type, TensorType)
                                            else () for i in node.inputs])
    except Exception:  # an op whose shape rule does not cover this case
        return None
    if shapes is None:
        return None
    return tuple(shapes[v.index])  # type: ignore[index]


def fit_replacement(
    new: Variable, old: Variable, oracle: ShapeOracle, exact_shape: bool = False
) -> Variable | None:
    """``new`` made to stand for ``old``: same dtype, same run-time shape, and a static type at
    least as specific. ``None`` if that cannot be done (the rewrite is then skipped)."""
    if new is old or (new.type == old.type and not isinstance(old.type, TensorType)):
        return new
    if not (isinstance(new.type, TensorType) and isinstance(old.type, TensorType)):
        return None  # other types (random generators ...) must match exactly
    if new.dtype != old.dtype:
        new = cast(new, old.dtype)
    if new.ndim > old.ndim:
        return None
    ot, nt = old.type.shape, new.type.shape  # type: ignore[attr-defined]
    specific = new.ndim == old.ndim and all(
        o is None or o == n for o, n in zip(ot, nt, strict=True)
    )
    if specific and (exact_shape or oracle.same_shape(new, old)):
        return new
    if all(s is not None for s in ot):
        dims: tuple[Variable, ...] | None = tuple(constant(s, "int64") for s in ot)
    else:
        dims = symbolic_shape(old)
        if dims is None:
            return None
        # Where the static shape knows a length, use it: it keeps the type as specific.
        dims = tuple(constant(s, "int64") if s is not None else d
                     for s, d in zip(ot, dims, strict=True))
    return alloc(new, *dims)  # type: ignore[misc]


# --- running one stage -----------------------------------------------------------------------


class _Index:
    """Rules of a stage indexed by op class / Elemwise scalar-op class, with an MRO cache."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.by_key: dict[Any, list[Rule]] = {}
        self.generic: list[Rule] = []
        self.order = {id(r): i for i, r in enumerate(rules)}
        for r in rules:
            keys = r.keys()
            if keys is None:
                self.generic.append(r)
            else:
                for k in keys:
                    self.by_key.setdefault(k, []).append(r)
        self.cache: dict[Any, list[Rule]] = {}

    def rules_for(self, op: Any) -> list[Rule]:
        so = getattr(op, "scalar_op", None) if isinstance(op, Elemwise) else None
        ck = (type(op), type(so))
        hit = self.cache.get(ck)
        if hit is not None:
            return hit
        found: list[Rule] = []
        for cls in type(op).__mro__:
            found.extend(self.by_key.get(cls, ()))
        if so is not None:
            for cls in type(so).__mro__:
                found.extend(self.by_key.get(("elemwise", cls), ()))
        found.extend(self.generic)
        uniq = {id(r): r for r in found}
        res = sorted(uniq.values(), key=lambda r: self.order[id(r)])
        self.cache[ck] = res
        return res


def rewrite_stage(
    outputs: Sequence[Variable],
    rules: Sequence[Rule],
    stage: str,
    trace: list[RewriteStep],
    oracle: ShapeOracle | None = None,
) -> list[Variable]:
    """Rewrite ``outputs`` bottom-up with local ``rules`` until none applies (one stage).

    Iterative (no recursion limit), memoised per variable: every node is visited once, and
    replacements are normalised before they are used.
    """
    fast_ops = (Elemwise, DimShuffle)
    index = _index_for(rules)
    oracle = oracle or ShapeOracle()
    _current_oracle.append(oracle)
    try:
        return _rewrite_stage(outputs, index, stage, trace, oracle, fast_ops)
    finally:
        _current_oracle.pop()


_current_oracle: list[ShapeOracle] = []
_index_cache: dict[tuple[Any, ...], _Index] = {}


def _index_for(rules: Sequence[Rule]) -> _Index:
    # Compiling many small functions must not rebuild the index each time. The key is the
    # registry version plus the rules' identities.
    key = (_version[0], *map(id, rules))
    hit = _index_cache.get(key)
    if hit is not None:
        return hit
    index = _Index(rules)
    if len(_index_cache) > 64:
        _index_cache.clear()
    _index_cache[key] = index
    return index


def current_oracle() -> ShapeOracle:
    """The shape oracle of the stage being run (its memo is shared by the rules of the stage);
    a fresh one outside a rewrite."""
    return _current_oracle[-1] if _current_oracle else ShapeOracle()


def _rewrite_stage(
    outputs: Sequence[Variable],
    index: _Index,
    stage: str,
    trace: list[RewriteStep],
    oracle: ShapeOracle,
    fast_ops: tuple[type, ...],
) -> list[Variable]:
    memo: dict[Variable, Variable] = {}
    fired: set[Apply] = set()  # nodes a rule rewrote; met again (a cycle), they are kept
    budget = [0]
    limit = 10_000

    def rebuild(node: Apply, new_inputs: list[Variable]) -> Apply:
        if type(node.op) in fast_ops and all(
            a.type == b.type for a, b in zip(new_inputs, node.inputs, strict=True)
        ):
            # Elemwise and DimShuffle types are functions of the input types alone: same input
            # types, same output types, so skip make_node's checks (a large share of the time).
            with built_from(node):
                return Apply.make(node.op, new_inputs, [o.type for o in node.outputs])
        try:
            with built_from(node):
                return node.op.make_node(*new_inputs)
        except Exception as e:
            raise RewriteError(with_hint(
                f"rebuilding {node.op} on rewritten inputs failed in stage {stage!r}: {e}",
                "a rule produced a replacement whose type does not fit where it is used; "
                "the trace (rewrite_graph(...)[1]) shows the rules that fired before",
            )) from e

    def try_rules(node: Apply) -> tuple[Rule, list[Variable]] | None:
        rules = index.rules_for(node.op)
        if not rules:
            return None
        with built_from(node):
            for r in rules:
                repl = r.apply(node)
                if repl is None:
                    continue
                fitted = []
                for new, old in zip(repl, node.outputs, strict=True):
                    f = fit_replacement(new, old, oracle, r.exact_shape)
                    if f is None:
                        break
                    fitted.append(f)
                else:
                    if all(a is b for a, b in zip(fitted, node.outputs, strict=True)):
                        continue
                    return r, fitted
        return None

    visit, finish = 0, 1
    for root in outputs:
        stack: list[tuple[int, Any]] = [(visit, root)]
        while stack:
            kind, item = stack.pop()
            if kind == finish:
                node, node2, repl = item
                for o, o2, r in zip(node.outputs, node2.outputs, repl, strict=True):
                    memo[o] = memo[o2] = memo[r]
                continue
            v = item
            if v in memo:
                continue
            node = v.owner
            if node is None:
                memo[v] = v
                continue
            missing = [i for i in node.inputs if i not in memo]
            if missing:
                stack.append((visit, v))
                stack.extend((visit, i) for i in reversed(missing))
                continue
            new_inputs = [memo[i] for i in node.inputs]
            if any(a is not b for a, b in zip(new_inputs, node.inputs, strict=True)):
                node2 = rebuild(node, new_inputs)
                if node2.outputs[0] in memo:
                    for o, o2 in zip(node.outputs, node2.outputs, strict=True):
                        memo[o] = memo[o2]
                    continue
            else:
                node2 = node
            found = None if node2 in fired else try_rules(node2)
            if found is None:
                for o, o2 in zip(node.outputs, node2.outputs, strict=True):
                    memo[o] = memo[o2] = o2
                continue
            rule, repl = found
            budget[0] += 1
            if budget[0] > limit + 20 * len(memo):
                warnings.warn(
                    f"rewrite stage {stage!r} stopped after {budget[0]} rewrites (rule "
                    f"{rule.name!r} last); some rules may be rewriting in a circle. "
                    "Hint: exclude the rule with Mode(...).excluding(name).",
                    stacklevel=2,
                )
                index = _Index([])
                for o, o2 in zip(node.outputs, node2.outputs, strict=True):
                    memo[o] = memo[o2] = o2
                continue
            fired.add(node2)
            trace.append(RewriteStep(stage, rule.name, node2, tuple(repl)))
            stack.append((finish, (node, node2, repl)))
            stack.extend((visit, r) for r in repl)
    return [memo[o] for o in outputs]


def run_stage(
    outputs: Sequence[Variable],
    rules: Sequence[Rule | GraphRule],
    stage: str,
    trace: list[RewriteStep],
    max_rounds: int = 8,
) -> list[Variable]:
    """Local rules to a fixed point, then graph rules; repeat while the graph rules change it."""
    local = [r for r in rules if isinstance(r, Rule)]
    graph = [r for r in rules if isinstance(r, GraphRule)]
    outs = list(outputs)
    for _ in range(max_rounds):
        if local:
            outs = rewrite_stage(outs, local, stage, trace)
        changed = False
        for g in graph:
            new, steps = g.fn(outs)
            for node, repl in steps:
                trace.append(RewriteStep(stage, g.name, node, tuple(repl)))
            if any(a is not b for a, b in zip(new, outs, strict=True)):
                changed = True
                outs = list(new)
        if not changed:
            break
    return outs


# --- running the pipeline --------------------------------------------------------------------


def rewrite_with(
    outputs: Sequence[Variable],
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    backend: str | None = None,
) -> tuple[list[Variable], list[RewriteStep]]:
    """Run the stages of :data:`~gnomon.rewrite.stages.PIPELINE` on ``outputs``, with rules
    included / excluded by name.

    ``include`` / ``exclude`` names may be rules, groups or stages. Excluding a stage name skips
    the stage (except for rules included by their own name); excluding a group leaves out its
    rules wherever they run (``constant_folding`` runs in three stages). ``backend='numpy'``
    leaves out the fusion and inplace stages unless they are included.
    """
    check_names(include + exclude)
    excl = set(exclude)
    if backend == "numpy":  # the reference runs the graph as built, op by op
        excl.update(s for s in ("fusion", "inplace") if s not in include)
    trace: list[RewriteStep] = []
    outs = list(outputs)
    # The rewrite allocates many small, cyclic objects (a node and its outputs point at each
    # other) and frees few: Python's cyclic collector would scan the whole growing heap again
    # and again, which makes compile time grow faster than the graph. Pause it meanwhile.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with internal_construction():
            outs = _run_stages(outs, include, excl, trace)
    finally:
        if was_enabled:
            gc.enable()
    outs = [_keep_type(new, old) for new, old in zip(outs, outputs, strict=True)]
    return outs, trace


#: (include, exclude) of the pipelines being run, innermost last (see :func:`rule_selected`).
_selection: list[tuple[tuple[str, ...], frozenset[str]]] = []


def rule_selected(name: str) -> bool:
    """Whether the rule ``name`` runs in the pipeline being run now (``False`` outside one).

    For a graph rule that does another rule's work on the way: the ``saturate`` stage expands
    ``OpFromGraph`` nodes only where ``inline_opfromgraph`` would expand them next.
    """
    rule = _RULES.get(name)
    if rule is None or not _selection:
        return False
    include, excl = _selection[-1]
    stage = next((s for s in PIPELINE if set(s.groups) & set(rule.groups)), None)
    if stage is None or (stage.name in excl and name not in include):
        return False
    return any(r is rule for r in select_rules(stage.groups, include, excl))


def _run_stages(
    outs: list[Variable], include: tuple[str, ...], excl: set[str], trace: list[RewriteStep]
) -> list[Variable]:
    _selection.append((include, frozenset(excl)))
    try:
        return _run_stages_inner(outs, include, excl, trace)
    finally:
        _selection.pop()


def _run_stages_inner(
    outs: list[Variable], include: tuple[str, ...], excl: set[str], trace: list[RewriteStep]
) -> list[Variable]:
    for stage in PIPELINE:
        rules = select_rules(stage.groups, include, excl)
        if stage.name in excl and stage.name not in include:
            # An excluded stage runs only the rules included by their own name.
            rules = [r for r in rules if r.name in include]
        if rules:
            outs = run_stage(outs, rules, stage.name, trace)
    return outs


def _keep_type(new: Variable, old: Variable) -> Variable:
    """An output keeps its dtype and a static shape at least as specific as before."""
    if new is old or new.type == old.type:
        return new
    if not isinstance(old.type, TensorType) or new.ndim != old.ndim:
        # fit_replacement broadcasts every replacement to its node's rank, so this is a bug.
        raise RewriteError(f"the pipeline changed the type of output {old} ({old.type} -> "
                           f"{new.type}).\nHint: this is a bug in a rewrite rule; exclude the "
                           "rules of the trace one by one to find it, and report it.")
    if new.dtype != old.dtype:
        new = cast(new, old.dtype)
    ot, nt = old.type.shape, new.type.shape  # type: ignore[attr-defined]
    if all(o is None or o == n for o, n in zip(ot, nt, strict=True)):
        return new
    dims = [constant(o, "int64") if o is not None else shape_i(new, d) for d, o in enumerate(ot)]
    return alloc(new, *dims)


def rewrite_graph(
    outputs: Variable | Sequence[Variable],
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    *,
    backend: str | None = None,
) -> tuple[Any, list[RewriteStep]]:
    """Rewrite a graph with the standard pipeline without compiling it.

    Parameters
    ----------
    outputs : Variable or sequence of Variable
    include, exclude : names of rules, groups or stages to add or leave out (like
        ``Mode.including`` / ``Mode.excluding``)
    backend : str, optional
        The backend the graph is meant for (default: the backend of the default mode,
        ``gnomon.config.mode``); ``'numpy'`` leaves out fusion unless it is included.

    Returns
    -------
    (outputs, trace)
        The rewritten outputs (a single variable if one was given) and the list of
        :class:`RewriteStep` (which rule rewrote which node, in order).

    Examples
    --------
    >>> import gnomon, gnomon.tensor as gt
    >>> x, y = gt.dscalar("x"), gt.dscalar("y")
    >>> out, trace = gnomon.rewrite_graph(x * y / x)
    >>> out is y
    True
    """
    if backend is None:
        backend = get_mode(None).backend
    single = isinstance(outputs, Variable)
    outs: list[Variable] = [outputs] if isinstance(outputs, Variable) else list(outputs)
    new, trace = rewrite_with(outs, tuple(include), tuple(exclude), backend)
    return (new[0] if single else new), trace
