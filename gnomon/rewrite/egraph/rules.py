"""The e-graph's rules, written once as data, and the ops an e-graph term may contain.

A rule is a pair of terms: nested tuples ``(op_name, *args)`` whose leaves are pattern
variables (``str``) or numbers (a constant whose every element equals the number). The same
data is compiled to egglog rules (:func:`egglog_rule`), evaluated numerically by the soundness
test (``tests/rewrite/test_egraph.py`` builds both sides with gnomon's ops and compares them on
random inputs), and listed in ``docs/egraph.md``.

Every rule is an *equality*: egglog unions both sides, so either may be extracted. A rule with
``both=False`` is applied left to right only (the right side is a subterm of the left: adding
the reverse direction would only grow the e-graph). Equality may hold only where the left side
is defined (``exp(log(a)) = a`` for ``a >= 0``); the domains of the variables
(:attr:`EqRule.domain`) say where the soundness test samples. That is the convention of the
greedy ``canonicalize`` rules (``exp_log``, ``mul_div_cancel``): a rewrite may turn a NaN into
a number, never a number into a NaN.

Types never change: every constructor of the e-graph carries its type (dtype and shape class,
an ``i64`` index), the type of each new node of a right side is computed from the types of the
captured variables (broadcasting), and a rule fires only when the right side's type is the left
side's (so ``x * y / x -> y`` does not fire where ``x`` broadcasts ``y``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gnomon.scalar.basic import Add, Mul, Neg, Pow, ScalarOp, Sub, TrueDiv
from gnomon.scalar.math import Exp, Expm1, Log, Log1p, Sigmoid, Softplus, Sqrt

Term = Any  # str (a variable), float (a constant) or tuple (op_name, *args)


@dataclass(frozen=True)
class OpInfo:
    """An op the e-graph knows by name: its egglog constructor, scalar op class, arity and
    cost weight (relative run time per element; see :mod:`gnomon.rewrite.egraph.cost`)."""

    name: str
    ctor: str
    scalar: type[ScalarOp]
    arity: int
    weight: float


#: The ops rules are written with. Weights: transcendental > divide > multiply > add. A stable
#: form costs no more than the naive form it replaces (``log1p(x)`` < ``log(1 + x)``,
#: ``softplus(x)`` < ``log1p(exp(x))``), so extraction prefers it.
OPS: dict[str, OpInfo] = {o.name: o for o in (
    OpInfo("add", "Add", Add, 2, 1.0),
    OpInfo("sub", "Sub", Sub, 2, 1.0),
    OpInfo("neg", "Neg", Neg, 1, 1.0),
    OpInfo("mul", "Mul", Mul, 2, 2.0),
    OpInfo("div", "Div", TrueDiv, 2, 6.0),
    OpInfo("sqrt", "Sqrt", Sqrt, 1, 8.0),
    OpInfo("exp", "Exp", Exp, 1, 16.0),
    OpInfo("log", "Log", Log, 1, 16.0),
    OpInfo("log1p", "Log1p", Log1p, 1, 16.0),
    OpInfo("expm1", "Expm1", Expm1, 1, 16.0),
    OpInfo("sigmoid", "Sigmoid", Sigmoid, 1, 18.0),
    OpInfo("softplus", "Softplus", Softplus, 1, 20.0),
    OpInfo("pow", "Pow", Pow, 2, 24.0),
)}

#: ``(Bcast type a)``: ``a`` broadcast to a larger type (``x * y / x -> y`` where ``x`` may
#: broadcast ``y``); extracted as ``broadcast_to`` (a view). It costs little, but more than
#: nothing: the view is read where it is used, and it keeps fusion from one loop.
BCAST_WEIGHT = 0.5

#: Elementwise ops the rules do not name are kept as generic nodes ``(F<arity> type k args)``
#: so rewrites happen below them; their weight is that of a transcendental op.
GENERIC_WEIGHT = 16.0

BY_SCALAR: dict[type[ScalarOp], OpInfo] = {o.scalar: o for o in OPS.values()}


@dataclass(frozen=True)
class StructInfo:
    """An op that changes the shape, in rules as ``(name, *args)``: ``sum`` and ``drop`` take
    an axes variable first (``"@ax"``: the reduced or dropped axes, a bit mask in egglog),
    then a term. ``sum`` is ``Sum`` over the axes (the dtype kept); ``drop`` removes length-1
    axes (a ``DimShuffle`` view); ``matmul`` is the product of two matrices. The types of
    their results come from the tables ``red`` (a type without the axes) and ``mm``."""

    name: str
    ctor: str
    arity: int  # term arguments
    axes: bool  # an axes argument first


STRUCT: dict[str, StructInfo] = {o.name: o for o in (
    StructInfo("sum", "Sum", 1, True),
    StructInfo("drop", "Drop", 1, True),
    StructInfo("matmul", "MatMul", 2, False),
)}
#: Weights per element: a sum costs an add per input element, a product of an (m, k) and a
#: (k, n) matrix a multiply-add per (i, j, k), dropping axes nothing (a view, tiny as Bcast).
SUM_WEIGHT = 1.0
MATMUL_WEIGHT = 2.0


@dataclass(frozen=True)
class EqRule:
    """An equality ``lhs = rhs`` of the e-graph.

    Attributes
    ----------
    name : unique name
    lhs, rhs : terms (see the module docstring)
    both : also rewrite right to left
    group : ``'canonicalize'`` or ``'stabilize'`` (the greedy stage with the same identities)
    domain : ``(variable, kind)`` pairs, kind ``'positive'`` or ``'nonzero'`` (a variable not
        listed is any real): where the soundness test samples it
    greedy : the name of the greedy rule generated from this equality (left to right; see
        :func:`greedy_rule`), or ``None`` where the greedy engine has its own code
    where : conditions on the variables' types: ``("unit", v)`` (every dimension of ``v`` has
        length 1: a scalar broadcast), ``("same", v, w)`` (equal types: no broadcasting
        between them)
    """

    name: str
    lhs: Term
    rhs: Term
    both: bool = True
    group: str = "canonicalize"
    domain: tuple[tuple[str, str], ...] = ()
    greedy: str | None = None
    where: tuple[tuple[str, ...], ...] = ()

    def variables(self) -> list[str]:
        """The pattern variables of the left side, in order of appearance."""
        out: list[str] = []
        _vars(self.lhs, out)
        return out


def _vars(t: Term, out: list[str]) -> None:
    if isinstance(t, str):
        if t not in out and not t.startswith("@"):
            out.append(t)
    elif isinstance(t, tuple):
        for a in t[1:]:
            _vars(a, out)


def R(name: str, lhs: Term, rhs: Term, *, both: bool = True, group: str = "canonicalize",
      greedy: str | None = None, where: tuple[tuple[str, ...], ...] = (),
      **domain: str) -> EqRule:
    """Shorthand for :class:`EqRule` (variables' domains as keywords)."""
    return EqRule(name, lhs, rhs, both, group, tuple(sorted(domain.items())), greedy, where)


def is_structural(rule: EqRule) -> bool:
    """Whether a rule has a shape-changing op (``sum``, ``drop``, ``matmul``)."""
    def has(t: Term) -> bool:
        return isinstance(t, tuple) and (t[0] in STRUCT or any(has(a) for a in t[1:]))

    return has(rule.lhs) or has(rule.rhs)


#: THE rules of the e-graph (the algebraic equalities of canonicalize and stabilize).
RULES: tuple[EqRule, ...] = (
    # commutativity and associativity (the back-off scheduler guards against their blow-up)
    R("add_comm", ("add", "a", "b"), ("add", "b", "a"), both=False),
    R("mul_comm", ("mul", "a", "b"), ("mul", "b", "a"), both=False),
    R("add_assoc", ("add", ("add", "a", "b"), "c"), ("add", "a", ("add", "b", "c"))),
    R("mul_assoc", ("mul", ("mul", "a", "b"), "c"), ("mul", "a", ("mul", "b", "c"))),
    # distributivity, both ways (factoring is the right-to-left direction)
    R("distribute", ("mul", "a", ("add", "b", "c")), ("add", ("mul", "a", "b"), ("mul", "a", "c"))),
    R("distribute_sub", ("mul", "a", ("sub", "b", "c")),
      ("sub", ("mul", "a", "b"), ("mul", "a", "c"))),
    R("div_distribute", ("div", ("add", "a", "b"), "c"),
      ("add", ("div", "a", "c"), ("div", "b", "c")), c="nonzero"),
    # negation and subtraction
    R("sub_as_add_neg", ("sub", "a", "b"), ("add", "a", ("neg", "b"))),
    R("neg_neg", ("neg", ("neg", "a")), "a", both=False, greedy="neg_neg"),
    R("mul_neg", ("mul", ("neg", "a"), "b"), ("neg", ("mul", "a", "b"))),
    R("add_neg_self", ("add", "a", ("neg", "a")), 0.0, both=False),
    # neutral elements
    R("mul_one", ("mul", "a", 1.0), "a", both=False, greedy="mul_one"),
    R("add_zero", ("add", "a", 0.0), "a", both=False, greedy="add_zero"),
    R("div_one", ("div", "a", 1.0), "a", both=False, greedy="div_one"),
    # division
    R("div_as_mul", ("div", ("mul", "a", "b"), "c"), ("mul", "a", ("div", "b", "c")),
      c="nonzero"),
    R("div_div", ("div", ("div", "a", "b"), "c"), ("div", "a", ("mul", "b", "c")),
      b="nonzero", c="nonzero"),
    R("mul_div", ("mul", ("div", "a", "b"), "c"), ("div", ("mul", "a", "c"), "b"),
      b="nonzero"),
    R("div_self", ("div", "a", "a"), 1.0, both=False, a="nonzero"),
    R("div_cancel", ("div", ("mul", "a", "b"), "a"), "b", both=False, a="nonzero"),
    R("div_self_mul", ("mul", ("div", "a", "b"), "b"), "a", both=False, b="nonzero"),
    # exp and log
    R("exp_add", ("exp", ("add", "a", "b")), ("mul", ("exp", "a"), ("exp", "b"))),
    R("exp_neg", ("exp", ("neg", "a")), ("div", 1.0, ("exp", "a"))),
    R("log_exp", ("log", ("exp", "a")), "a", both=False, greedy="log_exp"),
    R("exp_log", ("exp", ("log", "a")), "a", both=False, a="positive"),
    R("log_div_exp", ("log", ("div", "a", ("exp", "b"))), ("sub", ("log", "a"), "b"),
      a="positive"),
    R("log_mul_exp", ("log", ("mul", "a", ("exp", "b"))), ("add", ("log", "a"), "b"),
      a="positive"),
    # powers
    R("pow_two", ("pow", "a", 2.0), ("mul", "a", "a")),
    R("pow_one", ("pow", "a", 1.0), "a", both=False, greedy="pow_one"),
    R("pow_half", ("pow", "a", 0.5), ("sqrt", "a"), a="positive"),
    R("pow_exp", ("pow", ("exp", "a"), "b"), ("exp", ("mul", "a", "b"))),
    R("pow_minus_one", ("pow", "a", -1.0), ("div", 1.0, "a"), a="nonzero"),
    # stable forms (stabilize): one way only, naive -> stable. The cost model prefers the
    # stable forms, but a two-way rule would let algebra reach other unstable forms
    # (softplus(-x) -> softplus(x) - x cancels catastrophically at x = 40).
    R("log1p_def", ("log", ("add", 1.0, "a")), ("log1p", "a"), both=False, group="stabilize",
      a="positive"),
    R("expm1_def", ("add", ("exp", "a"), -1.0), ("expm1", "a"), both=False, group="stabilize",
      greedy="expm1_from_exp_minus_one"),
    R("expm1_sub", ("sub", ("exp", "a"), 1.0), ("expm1", "a"), both=False, group="stabilize"),
    R("softplus_def", ("log1p", ("exp", "a")), ("softplus", "a"), both=False,
      group="stabilize", greedy="softplus_from_log1p_exp"),
    R("softplus_neg", ("sub", ("softplus", "a"), "a"), ("softplus", ("neg", "a")), both=False,
      group="stabilize"),
    R("log_sigmoid", ("log", ("sigmoid", "a")), ("neg", ("softplus", ("neg", "a"))), both=False,
      group="stabilize", greedy="log_sigmoid"),
    R("log1m_sigmoid", ("log1p", ("neg", ("sigmoid", "a"))), ("neg", ("softplus", "a")),
      both=False, group="stabilize", greedy="log1m_sigmoid"),
    # reductions and matrix products (types: `red` and `mm`; conditions keep shapes exact):
    # a scalar factor leaves a sum or a product, a sum of same-shaped terms splits
    R("sum_scale", ("sum", "@ax", ("mul", "x", "c")),
      ("mul", ("drop", "@ax", "c"), ("sum", "@ax", "x")), group="reduce", where=(("unit", "c"),)),
    R("sum_add", ("sum", "@ax", ("add", "x", "y")),
      ("add", ("sum", "@ax", "x"), ("sum", "@ax", "y")), group="reduce",
      where=(("same", "x", "y"),)),
    R("sum_neg", ("sum", "@ax", ("neg", "x")), ("neg", ("sum", "@ax", "x")), group="reduce"),
    R("matmul_scale_left", ("matmul", ("mul", "a", "c"), "b"), ("mul", "c", ("matmul", "a", "b")),
      group="reduce", where=(("unit", "c"),)),
    R("matmul_scale_right", ("matmul", "a", ("mul", "b", "c")),
      ("mul", "c", ("matmul", "a", "b")), group="reduce", where=(("unit", "c"),)),
    R("matmul_add", ("matmul", ("add", "a", "b"), "c"),
      ("add", ("matmul", "a", "c"), ("matmul", "b", "c")), group="reduce",
      where=(("same", "a", "b"),)),
)


def get_rules(names: Any = None) -> tuple[EqRule, ...]:
    """The rules called ``names`` (rule names or group names; ``None``: all of them)."""
    if names is None:
        return RULES
    if isinstance(names, str):
        names = [names]
    picked: list[EqRule] = []
    for n in names:
        if isinstance(n, EqRule):
            picked.append(n)
            continue
        hit = [r for r in RULES if n in (r.name, r.group)]
        if not hit:
            from gnomon.errors import GnomonValueError, with_hint

            raise GnomonValueError(with_hint(
                f"no e-graph rule or group named {n!r}",
                "the rules are listed in gnomon.rewrite.egraph.RULES (groups: "
                "'canonicalize', 'stabilize', 'reduce'); pass EqRule objects for your own",
            ))
        picked.extend(hit)
    return tuple(dict.fromkeys(picked))


# --- compiling a rule to egglog ---------------------------------------------------------------


def _num(v: float) -> str:
    s = repr(float(v))
    return s if ("." in s or "e" in s) else s + ".0"


class _RuleWriter:
    def __init__(self) -> None:
        self.n = 0
        self.query: list[str] = []
        self.var_ty: dict[str, str] = {}

    def fresh(self, p: str) -> str:
        self.n += 1
        return f"{p}{self.n}"

    def lhs(self, t: Term) -> tuple[str, str]:
        """(pattern text, type variable) of a left-side term."""
        if isinstance(t, str):
            return t, self.ty_of_var(t)
        tv = self.fresh("t")
        if isinstance(t, float | int):
            return f"(Num {tv} {_num(t)})", tv
        if t[0] in STRUCT:
            si = STRUCT[t[0]]
            head = [_axes_var(t[1])] if si.axes else []
            args = head + [self.lhs(a)[0] for a in t[1 + si.axes:]]
            return f"({si.ctor} {tv} {' '.join(args)})", tv
        info = OPS[t[0]]
        args = [self.lhs(a)[0] for a in t[1:]]
        return f"({info.ctor} {tv} {' '.join(args)})", tv

    def ty_of_var(self, v: str) -> str:
        if v not in self.var_ty:
            tv = self.fresh("tv")
            self.var_ty[v] = tv
            self.query.append(f"(= {tv} (ty {v}))")
        return self.var_ty[v]

    def rhs(self, t: Term, root_ty: str) -> tuple[str, str]:
        """(action text, type variable) of a right-side term; adds the type computations."""
        if isinstance(t, str):
            return t, self.ty_of_var(t)
        tv = self.fresh("r")
        if isinstance(t, float | int):
            self.query.append(f"(= {tv} (unit {root_ty}))")
            return f"(Num {tv} {_num(t)})", tv
        if t[0] in STRUCT:
            si = STRUCT[t[0]]
            parts = [self.rhs(a, root_ty) for a in t[1 + si.axes:]]
            if si.axes:
                ax = _axes_var(t[1])
                self.query.append(f"(= {tv} (red {parts[0][1]} {ax}))")
                return f"({si.ctor} {tv} {ax} {parts[0][0]})", tv
            self.query.append(f"(= {tv} (mm {parts[0][1]} {parts[1][1]}))")
            return f"({si.ctor} {tv} {' '.join(p for p, _ in parts)})", tv
        info = OPS[t[0]]
        parts = [self.rhs(a, root_ty) for a in t[1:]]
        if len(parts) == 1:
            tv = parts[0][1]
        else:
            acc = parts[0][1]
            for _, pt in parts[1:]:
                nt = self.fresh("r")
                self.query.append(f"(= {nt} (bc {acc} {pt}))")
                acc = nt
            tv = acc
        return f"({info.ctor} {tv} {' '.join(p for p, _ in parts)})", tv


def _axes_var(a: Any) -> str:
    if not (isinstance(a, str) and a.startswith("@")):
        raise ValueError(f"the axes of a sum or drop are a variable '@name', not {a!r}")
    return "ax_" + a[1:]


def _one_way(lhs: Term, rhs: Term, where: tuple[tuple[str, ...], ...] = ()) -> list[str]:
    w = _RuleWriter()
    pat, _ = w.lhs(lhs)
    # the root's type: the left side's root constructor carries it
    root_ty = "t1"
    w.query.insert(0, f"(= e {pat})")
    for cond in where:
        if cond[0] == "unit":
            tv = w.ty_of_var(cond[1])
            w.query.append(f"(= {tv} (unit {tv}))")
        elif cond[0] == "same":
            w.query.append(f"(= {w.ty_of_var(cond[1])} {w.ty_of_var(cond[2])})")
        else:
            raise ValueError(f"unknown rule condition {cond!r}")
    act, rt = w.rhs(rhs, root_ty)
    same = [*w.query, f"(= {root_ty} {rt})"]
    out = [f"(rule ({' '.join(same)}) ((union e {act})) :ruleset alg)"]
    if not isinstance(rhs, tuple):
        # A right side that drops variables (a variable, a number) may have a smaller type
        # than the left side where a dropped variable broadcast it: then it is broadcast back.
        grow = [*w.query, f"(!= {root_ty} {rt})", f"(= {root_ty} (bc {rt} {root_ty}))"]
        out.append(f"(rule ({' '.join(grow)}) ((union e (Bcast {root_ty} {act}))) :ruleset alg)")
    return out


def egglog_rule(rule: EqRule) -> list[str]:
    """The egglog rules (text) of one equality: one per direction."""
    if isinstance(rule.lhs, str | float | int):
        raise ValueError(f"e-graph rule {rule.name!r}: the left side must be an op")
    out = _one_way(rule.lhs, rule.rhs, rule.where)
    if rule.both:
        if isinstance(rule.rhs, str | float | int):
            raise ValueError(f"e-graph rule {rule.name!r}: a two-way rule needs an op on the right")
        out.extend(_one_way(rule.rhs, rule.lhs, rule.where))
    return out


def declarations() -> str:
    """The egglog declarations: the term datatype, the type functions, the typing rules."""
    ctors = [f"({o.ctor} i64 {' '.join(['Term'] * o.arity)})" for o in OPS.values()]
    ctors += ["(Leaf i64 i64)", "(Num i64 f64)", "(Bcast i64 Term)", "(Sum i64 i64 Term)",
              "(Drop i64 i64 Term)", "(MatMul i64 Term Term)"]
    ctors += [f"(F{k} i64 i64 {' '.join(['Term'] * k)})" for k in (1, 2, 3)]
    typing = [f"(rule ((= e ({o.ctor} t {' '.join(f'a{i}' for i in range(o.arity))}))) "
              "((set (ty e) t)) :ruleset types)" for o in OPS.values()]
    typing += ["(rule ((= e (Leaf t i))) ((set (ty e) t)) :ruleset types)",
               "(rule ((= e (Num t v))) ((set (ty e) t)) :ruleset types)",
               "(rule ((= e (Bcast t a))) ((set (ty e) t)) :ruleset types)",
               "(rule ((= e (Sum t m a))) ((set (ty e) t)) :ruleset types)",
               "(rule ((= e (Drop t m a))) ((set (ty e) t)) :ruleset types)",
               "(rule ((= e (MatMul t a b))) ((set (ty e) t)) :ruleset types)",
               # broadcasting to its own type is no broadcast
               "(rule ((= e (Bcast t a)) (= t (ty a))) ((union e a)) :ruleset types)"]
    typing += [f"(rule ((= e (F{k} t f {' '.join(f'a{i}' for i in range(k))}))) "
               "((set (ty e) t)) :ruleset types)" for k in (1, 2, 3)]
    # A graph comes in as rows of relations (egglog's `input` reads a table in one command;
    # one command per node costs a millisecond each), and the ruleset `build` makes the terms.
    rels = [f"(relation E{o.ctor} (i64 i64 {' '.join(['i64'] * o.arity)}))" for o in OPS.values()]
    rels += ["(relation ELeaf (i64 i64 i64))", "(relation ENum (i64 i64 f64))",
             "(relation ERoot (i64 i64))", "(relation ESum (i64 i64 i64 i64))",
             "(relation EMatMul (i64 i64 i64 i64))"]
    rels += [f"(relation EF{k} (i64 i64 i64 {' '.join(['i64'] * k)}))" for k in (1, 2, 3)]
    build = ["(rule ((ELeaf id t k)) ((set (node id) (Leaf t k))) :ruleset build)",
             "(rule ((ENum id t v)) ((set (node id) (Num t v))) :ruleset build)",
             "(rule ((ERoot r id) (= x (node id))) ((set (root r) x)) :ruleset build)",
             "(rule ((ESum id t m c0) (= x0 (node c0))) ((set (node id) (Sum t m x0)))"
             " :ruleset build)",
             "(rule ((EMatMul id t c0 c1) (= x0 (node c0)) (= x1 (node c1)))"
             " ((set (node id) (MatMul t x0 x1))) :ruleset build)"]
    for o in OPS.values():
        ids = [f"c{i}" for i in range(o.arity)]
        have = " ".join(f"(= x{i} (node c{i}))" for i in range(o.arity))
        build.append(f"(rule ((E{o.ctor} id t {' '.join(ids)}) {have}) "
                     f"((set (node id) ({o.ctor} t {' '.join(f'x{i}' for i in range(o.arity))})))"
                     " :ruleset build)")
    for k in (1, 2, 3):
        ids = [f"c{i}" for i in range(k)]
        have = " ".join(f"(= x{i} (node c{i}))" for i in range(k))
        build.append(f"(rule ((EF{k} id t f {' '.join(ids)}) {have}) "
                     f"((set (node id) (F{k} t f {' '.join(f'x{i}' for i in range(k))})))"
                     " :ruleset build)")
    return "\n".join([
        f"(datatype Term {' '.join(ctors)})",
        *rels,
        "(function node (i64) Term :merge old)",
        "(function root (i64) Term :merge old)",
        "(ruleset build)",
        *build,
        "(function ty (Term) i64 :merge old)",
        "(function bc (i64 i64) i64 :merge old)",
        "(function unit (i64) i64 :merge old)",
        "(function red (i64 i64) i64 :merge old)",
        "(function mm (i64 i64) i64 :merge old)",
        "(ruleset types)",
        "(ruleset alg)",
        *typing,
    ])


def instantiate(term: Term, env: dict[str, Any]) -> Any:
    """The gnomon graph of a rule's term, with its variables taken from ``env`` (numbers become
    constants of the dtype of the first variable): how the soundness test evaluates both sides.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> print(instantiate(("mul", "a", 2.0), {"a": x}).owner.op)
    Elemwise(mul)
    """
    from gnomon.tensor.basic import constant
    from gnomon.tensor.elemwise import Elemwise

    if isinstance(term, str):
        return env[term]
    if isinstance(term, float | int):
        dtype = next(v for k, v in env.items() if not k.startswith("@")).dtype
        return constant(float(term), dtype=dtype)
    if term[0] == "sum":
        from gnomon.tensor.reduce import sum as tsum

        return tsum(instantiate(term[2], env), axis=mask_axes(env[term[1]]))
    if term[0] == "drop":
        from gnomon.tensor.shapes import dimshuffle

        x = instantiate(term[2], env)
        gone = mask_axes(env[term[1]])
        return dimshuffle(x, [i for i in range(x.ndim) if i not in gone])
    if term[0] == "matmul":
        from gnomon.tensor.blas import matmul

        return matmul(instantiate(term[1], env), instantiate(term[2], env))
    return Elemwise(OPS[term[0]].scalar())(*(instantiate(a, env) for a in term[1:]))


# --- the greedy direction -----------------------------------------------------------------------


def greedy_rule(name: str, module: str, *, float_only: bool = False) -> tuple[Any, Any]:
    """The greedy rule of the e-graph equality called ``name``: its left side as a pattern
    (:mod:`gnomon.rewrite.pattern`) and a function building its right side, for
    :func:`gnomon.rewrite.engine.register_rule`. The function is named after
    :attr:`EqRule.greedy` and belongs to ``module`` (the greedy rule module that registers it,
    so the soundness-case guard of the greedy rules covers it).

    Only equalities whose greedy rule is exactly "left side -> right side" are generated:
    a one-way simplification with no condition beyond the variables' dtype (``float_only``:
    the variables must be floating point, as for ``log(exp(x)) -> x``). The greedy engine
    casts and broadcasts a replacement to the node's type, so the right side may drop a
    variable that broadcast the rest.

    Examples
    --------
    >>> pat, fn = greedy_rule("log_exp", __name__, float_only=True)
    >>> fn.__name__
    'log_exp'
    """
    from gnomon.rewrite.pattern import Const, P, Var, is_float
    from gnomon.tensor.elemwise import Elemwise

    (rule,) = [r for r in RULES if r.name == name]
    if rule.greedy is None or rule.both:
        raise ValueError(f"e-graph rule {name!r} has no greedy direction")
    where = is_float if float_only else None

    def pattern(t: Term, root: bool = False) -> Any:
        if isinstance(t, str):
            return Var(t, where=where)
        if isinstance(t, float | int):
            return Const(value=t)
        # a variadic add / mul at the root: the left side may be part of a longer chain
        # (x + 0 + y), and the rest comes back around the right side (associativity)
        rest = REST if root and t[0] in VARIADIC else None
        return P(Elemwise(OPS[t[0]].scalar), *(pattern(a) for a in t[1:]), rest=rest)

    def fn(node: Any, **env: Any) -> Any:
        others = env.pop(REST, ())
        out = instantiate(rule.rhs, env)
        return Elemwise(OPS[rule.lhs[0]].scalar())(out, *others) if others else out

    fn.__name__ = fn.__qualname__ = rule.greedy
    fn.__module__ = module
    fn.__doc__ = f"``{_text(rule.lhs)} -> {_text(rule.rhs)}`` (from the e-graph rule {name!r})."
    return pattern(rule.lhs, root=True), fn


#: Ops whose greedy nodes are variadic (associative and commutative), and the capture name of
#: the inputs a generated pattern leaves over.
VARIADIC = ("add", "mul")
REST = "_rest"


def register_greedy(name: str, module: str, groups: tuple[str, ...], *,
                    float_only: bool = False) -> None:
    """Register the greedy rule of the e-graph equality ``name`` (:func:`greedy_rule`) in
    ``groups``; called by the greedy rule modules."""
    from gnomon.rewrite.engine import register_rule

    pattern, fn = greedy_rule(name, module, float_only=float_only)
    register_rule(pattern, groups=groups)(fn)


def _text(t: Term) -> str:
    if isinstance(t, str):
        return t
    if isinstance(t, float | int):
        return f"{float(t):g}"
    return f"{t[0]}({', '.join(_text(a) for a in t[1:])})"


def axes_mask(axes: Any) -> int:
    """The bit mask of a tuple of axes (how the e-graph writes a sum's axes)."""
    m = 0
    for a in axes:
        m |= 1 << int(a)
    return m


def mask_axes(mask: int) -> tuple[int, ...]:
    """The axes of a bit mask."""
    return tuple(i for i in range(int(mask).bit_length()) if mask >> i & 1)
