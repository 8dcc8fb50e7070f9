"""Patterns over gnomon graphs: what the left-hand side of a rewrite rule looks like.

A pattern is matched against a variable and yields the *bindings* (a dict from capture names to
variables) of every way it matches. The pieces:

* :class:`Var` — any variable (a named capture; the same name twice must be the same variable,
  which is how ``x - x`` is written, thanks to interning).
* :class:`Const` — a constant, optionally one whose every element equals a value (``Const(value=0)``
  matches ``0``, ``0.0`` and a broadcast array of zeros).
* :class:`P` — the output of a node whose op matches, with sub-patterns for its inputs. The op
  is given by reference, never by name: an op instance (equality), an op class
  (``isinstance``), ``Elemwise(Mul)`` (an Elemwise whose scalar op is a ``Mul``) or
  ``Elemwise(Mul())`` (that exact scalar op). A rule imports the op classes it matches, so a
  renamed op fails when the rule module is imported instead of leaving the rule silently dead.
  For a commutative scalar op (``scalar_op.commutative``) the inputs match in any order, and
  ``rest="others"`` lets a variadic node (``add``/``mul`` with more inputs) match: the inputs not
  used by the sub-patterns are bound to ``others`` as a tuple.

Every pattern takes ``where=`` (a predicate on the matched variable) for type and shape tests.

Examples
--------
>>> import gnomon.tensor as gt
>>> from gnomon.scalar.basic import Neg
>>> from gnomon.tensor.elemwise import Elemwise
>>> x = gt.dvector("x")
>>> pat = P(Elemwise(Neg), P(Elemwise(Neg), Var("a")))
>>> [b["a"] is x for b in pat.match(-(-x))]
[True]
"""

from __future__ import annotations

import abc
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError, with_hint
from gnomon.graph.basic import Constant, Variable
from gnomon.graph.op import Op
from gnomon.scalar.basic import ScalarOp
from gnomon.tensor.elemwise import Elemwise

Bindings = dict[str, Any]
Predicate = Callable[[Variable], bool]

#: Commutative nodes with more inputs than this are matched only in their given order (the
#: number of orders grows as n!; add/mul chains longer than this are rare in rule patterns).
MAX_PERMUTE = 5


class Pattern(abc.ABC):
    """Abstract base: a pattern yields every binding under which it matches a variable."""

    def match(self, v: Variable, bindings: Bindings | None = None) -> Iterator[Bindings]:
        """Yield each extension of ``bindings`` under which this pattern matches ``v``."""
        yield from self._match(v, dict(bindings or {}))

    @abc.abstractmethod
    def _match(self, v: Variable, b: Bindings) -> Iterator[Bindings]:
        """Yield the bindings under which this pattern matches ``v``."""

    def root_keys(self) -> list[Any] | None:
        """The op classes (or Elemwise scalar-op classes) a matching node must have; ``None``
        when any node may match (the engine then tries the rule on every node)."""
        return None


def _bind(name: str | None, v: Variable, b: Bindings) -> Bindings | None:
    if name is None:
        return b
    old = b.get(name)
    if old is None:
        b = dict(b)
        b[name] = v
        return b
    return b if old is v else None


class Var(Pattern):
    """Any variable, captured as ``name`` (``None``: match without capturing).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dscalar("x")
    >>> list(Var("a").match(x)) == [{"a": x}]
    True
    """

    def __init__(self, name: str | None = None, where: Predicate | None = None) -> None:
        self.name = name
        self.where = where

    def _match(self, v: Variable, b: Bindings) -> Iterator[Bindings]:
        if self.where is not None and not self.where(v):
            return
        nb = _bind(self.name, v, b)
        if nb is not None:
            yield nb

    def __repr__(self) -> str:
        return f"Var({self.name!r})"


class Const(Pattern):
    """A constant; with ``value=``, one whose every element equals ``value``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> len(list(Const(value=1).match(gt.constant([1.0, 1.0]))))
    1
    """

    def __init__(
        self, name: str | None = None, value: Any = None, where: Predicate | None = None
    ) -> None:
        self.name = name
        self.value = value
        self.where = where

    def _match(self, v: Variable, b: Bindings) -> Iterator[Bindings]:
        if not isinstance(v, Constant):
            return
        if self.value is not None and not constant_equals(v, self.value):
            return
        if self.where is not None and not self.where(v):
            return
        nb = _bind(self.name, v, b)
        if nb is not None:
            yield nb

    def __repr__(self) -> str:
        return f"Const({self.name!r}, value={self.value!r})"


def constant_equals(v: Variable, value: Any) -> bool:
    """True if ``v`` is a constant whose every element equals ``value`` (and it is not empty)."""
    if not isinstance(v, Constant):
        return False
    data = np.asarray(v.data)
    if data.size == 0 or data.dtype.kind not in "biufc":
        return False
    with np.errstate(all="ignore"):
        return bool(np.all(data == value))


def scalar_value(v: Variable) -> Any:
    """The single value of a constant whose elements are all equal, else ``None``."""
    if not isinstance(v, Constant):
        return None
    data = np.asarray(v.data)
    if data.size == 0:
        return None
    first = data.flat[0]
    if data.size > 1 and not np.all(data == first):
        return None
    return first.item() if hasattr(first, "item") else first


# --- ops in patterns ---------------------------------------------------------------------


def _op_spec(op: Any) -> tuple[str, Any]:
    """``(kind, what)`` of an op given to :class:`P`: kind is 'elemwise-class' (``Elemwise(Mul)``),
    'elemwise-eq' (``Elemwise(Mul())``), 'class' (an op class) or 'eq' (an op instance)."""
    if isinstance(op, Elemwise):
        so = op.scalar_op
        if isinstance(so, type) and issubclass(so, ScalarOp):
            return ("elemwise-class", so)
        if isinstance(so, ScalarOp):
            return ("elemwise-eq", so)
    elif isinstance(op, type) and issubclass(op, Op):
        return ("class", op)
    elif isinstance(op, Op):
        return ("eq", op)
    raise GnomonTypeError(with_hint(
        f"a pattern's op must be an op class or an op instance, got {op!r}",
        "import the op and pass it: `from gnomon.scalar.math import Exp` then "
        "`P(Elemwise(Exp), 'x')`; `from gnomon.tensor.reduce import Sum` then `P(Sum, 'x')`",
    ))


class P(Pattern):
    """A node's output: ``P(op, *input_patterns, name=, where=, rest=)``.

    ``op`` is an op instance, an op class, ``Elemwise(ScalarOpClass)`` or
    ``Elemwise(scalar_op)`` (anything else raises :class:`~gnomon.errors.GnomonTypeError`).
    Input patterns may be patterns or capture names (a ``str`` is ``Var(str)``). With
    ``rest=name``, a node with more inputs than sub-patterns matches too (only for associative
    variadic scalar ops such as add and mul) and the inputs left over are bound to ``name`` as a
    tuple. ``output=`` picks the output index for multi-output ops.
    """

    def __init__(
        self,
        op: Any,
        *inputs: Pattern | str,
        name: str | None = None,
        where: Predicate | None = None,
        rest: str | None = None,
        output: int = 0,
    ) -> None:
        self.op = op
        self.spec = _op_spec(op)
        self.inputs = tuple(Var(p) if isinstance(p, str) else p for p in inputs)
        self.name = name
        self.where = where
        self.rest = rest
        self.output = output

    def root_keys(self) -> list[Any] | None:
        kind, what = self.spec
        if kind == "elemwise-class":
            return [("elemwise", what)]
        if kind == "elemwise-eq":
            return [("elemwise", type(what))]
        return [what] if kind == "class" else [type(what)]

    def _op_ok(self, op: Any) -> bool:
        kind, what = self.spec
        if kind == "elemwise-class":
            return isinstance(op, Elemwise) and isinstance(op.scalar_op, what)
        if kind == "elemwise-eq":
            return isinstance(op, Elemwise) and op.scalar_op == what
        if kind == "class":
            return isinstance(op, what)
        return bool(op == what)

    # -- matching -----------------------------------------------------------------------
    def _match(self, v: Variable, b: Bindings) -> Iterator[Bindings]:
        node = v.owner
        if node is None or v.index != self.output or not self._op_ok(node.op):
            return
        if self.where is not None and not self.where(v):
            return
        nb = _bind(self.name, v, b)
        if nb is None:
            return
        ins = node.inputs
        n_pat = len(self.inputs)
        scalar_op = getattr(node.op, "scalar_op", None)
        commutative = bool(getattr(scalar_op, "commutative", False))
        if self.rest is not None:
            if len(ins) < n_pat or not getattr(scalar_op, "associative", False):
                return
        elif len(ins) != n_pat:
            return
        if not commutative:
            if self.rest is not None and len(ins) > n_pat:
                # Not commutative but associative: the pattern matches the leading inputs.
                yield from self._match_seq(ins[:n_pat], ins[n_pat:], nb)
            else:
                yield from self._match_seq(ins, (), nb)
            return
        if len(ins) > MAX_PERMUTE:
            # Too many orders to try: match the sub-patterns against the first inputs only.
            yield from self._match_seq(ins[:n_pat], ins[n_pat:], nb)
            return
        seen: set[tuple[int, ...]] = set()
        for chosen in itertools.permutations(range(len(ins)), n_pat):
            if chosen in seen:
                continue
            seen.add(chosen)
            picked = tuple(ins[i] for i in chosen)
            others = tuple(ins[i] for i in range(len(ins)) if i not in chosen)
            yield from self._match_seq(picked, others, nb)

    def _match_seq(
        self, ins: tuple[Variable, ...], others: tuple[Variable, ...], b: Bindings
    ) -> Iterator[Bindings]:
        def go(i: int, b: Bindings) -> Iterator[Bindings]:
            if i == len(ins):
                if self.rest is not None:
                    nb = dict(b)
                    nb[self.rest] = others
                    yield nb
                else:
                    yield b
                return
            for b2 in self.inputs[i]._match(ins[i], b):
                yield from go(i + 1, b2)

        yield from go(0, b)

    def __repr__(self) -> str:
        args = ", ".join(map(repr, self.inputs))
        return f"P({self.op}{', ' if args else ''}{args})"


# --- predicates for where= -----------------------------------------------------------------


def is_float(v: Variable) -> bool:
    """The variable has a floating-point dtype."""
    return str(v.dtype).startswith("float")


def is_inexact(v: Variable) -> bool:
    """The variable has a floating-point or complex dtype."""
    return np.dtype(v.dtype).kind in "fc"


def has_ndim(n: int) -> Predicate:
    """A predicate: the variable has ``n`` dimensions."""
    return lambda v: v.ndim == n


def is_scalar_like(v: Variable) -> bool:
    """Every static dimension is 1 (a scalar broadcast to the rank of an Elemwise)."""
    return all(s == 1 for s in v.type.shape)  # type: ignore[attr-defined]
