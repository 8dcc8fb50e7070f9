"""The user API of :mod:`gnomon.logprob`: ``logp``, ``logcdf``, ``icdf``, ``conditional_logp``,
``joint_logp``.

Every function builds a graph; nothing is evaluated. The derivation of one term:

1. each random variable that has a value variable is replaced by that value in the *other*
   terms (the density of ``y ~ normal(mu, 1)`` given ``mu``'s value uses the value, not a draw);
2. the measurable rewrites (:mod:`gnomon.logprob.rewriting`) run on the variable, turning
   expressions of random variables into measurable ops where they know how;
3. the dispatch tables (:mod:`gnomon.logprob.abstract`) build the density of the op that owns
   the (rewritten) variable, or the error names the op that blocks the derivation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from gnomon.errors import (
    GnomonTypeError,
    GnomonValueError,
    format_location,
    user_location,
    with_hint,
    with_user_line,
)
from gnomon.graph.basic import _PROVENANCE, Variable
from gnomon.graph.replace import graph_replace
from gnomon.graph.traversal import ancestors
from gnomon.logprob.abstract import (
    _icdf,
    _logcdf,
    _logprob,
    _NoBuilder,
    measurable_ops,
)
from gnomon.logprob.check import checking as _checking
from gnomon.logprob.rewriting import (
    SUPPORTED_EXPRESSIONS,
    MeasurableOp,
    blocking_node,
    rewrite_measurable,
    strip_measurable,
)
from gnomon.random.op import RandomVariable
from gnomon.tensor.basic import as_tensor, constant
from gnomon.tensor.type import TensorType

__all__ = ["NotMeasurableError", "conditional_logp", "icdf", "joint_logp", "logcdf", "logp"]


class NotMeasurableError(GnomonValueError):
    """The density of a variable cannot be derived: no measurable op owns it."""


def _is_rv_output(v: Variable) -> bool:
    return (v.owner is not None and isinstance(v.owner.op, RandomVariable)
            and v is v.owner.outputs[1])


def _describe(v: Variable) -> str:
    return f"{v.name!r} ({v.type})" if v.name else f"(unnamed {v.type})"


def _rv_name(v: Variable) -> str:
    if _is_rv_output(v):
        return v.owner.op.name  # type: ignore[union-attr]
    return type(v.owner.op).__name__ if v.owner is not None else "root"


def _as_value(rv: Variable, value: Any, what: str) -> Variable:
    """``value`` as a tensor matching ``rv``: same rank, dtype of the same kind."""
    discrete = rv.dtype[0] in "iub"
    if not isinstance(value, Variable):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise GnomonTypeError(_at(with_hint(
                f"{what}: the value must be numeric, got {value!r}",
                "pass a number, a NumPy array or a tensor variable")))
        if arr.dtype.kind == "f" and discrete and not np.all(arr == np.round(arr)):
            raise GnomonTypeError(_at(with_hint(
                f"{what}: {_rv_name(rv)} takes integer values, got {value!r}",
                "pass integers (values outside the support get -inf)")))
        value = constant(arr.astype(rv.dtype))
    if not isinstance(value.type, TensorType):
        raise GnomonTypeError(_at(with_hint(
            f"{what}: the value must be a tensor, got {value.type}",
            "pass a tensor variable such as gt.dvector('x_value')")))
    if value.ndim != rv.ndim:
        raise GnomonTypeError(_at(with_hint(
            f"{what}: the value {_describe(value)} has {value.ndim} dimension(s) but the random "
            f"variable {_describe(rv)}, a {_rv_name(rv)} draw, has {rv.ndim}",
            f"make a value variable like the random variable: gt.tensor(dtype={rv.dtype!r}, "
            f"shape={tuple(rv.type.shape)})  (or rv.type('name'))")))
    kind = value.dtype[0]
    if discrete and kind not in "iub":
        raise GnomonTypeError(_at(with_hint(
            f"{what}: {_rv_name(rv)} is discrete ({rv.dtype}) but the value "
            f"{_describe(value)} has dtype {value.dtype}",
            f"use an integer value variable: gt.tensor(dtype={rv.dtype!r}, "
            f"shape={tuple(rv.type.shape)})")))
    if not discrete and kind != "f":
        raise GnomonTypeError(_at(with_hint(
            f"{what}: {_rv_name(rv)} is continuous ({rv.dtype}) but the value "
            f"{_describe(value)} has dtype {value.dtype}",
            f"use a float value variable: gt.tensor(dtype={rv.dtype!r}, "
            f"shape={tuple(rv.type.shape)}), or cast: gt.cast(value, {rv.dtype!r})")))
    clash = [(a, b) for a, b in zip(value.type.shape, rv.type.shape, strict=True)
             if a is not None and b is not None and a != b and a != 1 and b != 1]
    if clash:
        from gnomon.errors import ShapeError

        raise ShapeError(_at(with_hint(
            f"{what}: the value {_describe(value)} does not fit the random variable "
            f"{_describe(rv)}, a {_rv_name(rv)} draw (static shapes differ)",
            f"give the value the random variable's shape {tuple(rv.type.shape)}")))
    return value


@contextlib.contextmanager
def checking(on: bool, loc: Any) -> Iterator[None]:
    """The parameter-check policy for the block, and the user's line ``loc`` (the call of
    ``logp``...) as the source line of every node built in it, so run-time errors point
    there."""
    token = _PROVENANCE.set(loc)
    try:
        with _checking(on):
            yield
    finally:
        _PROVENANCE.reset(token)


def _at(message: str) -> str:
    """``message`` with the user's line inserted before its hint."""
    return with_user_line(message)


def _not_measurable(v: Variable, what: str, table_name: str) -> NotMeasurableError:
    supported = ", ".join(c.__name__ for c in measurable_ops() if not issubclass(c, MeasurableOp))
    if v.owner is None:
        head = (f"{what}: {_describe(v)} is not a random variable (it is a root: an input, "
                "a shared variable or a constant)")
        hint = "pass the variable returned by a distribution, e.g. x = gr.normal(0, 1)"
        loc = format_location(v.trace) if isinstance(v.trace, tuple) else ""
    else:
        node = v.owner
        op = node.op
        head = (f"{what}: cannot derive the {table_name} of {_describe(v)}: it is computed by "
                f"{op}, which is not a random variable and no measurable rewrite turns it "
                "into one")
        hint = ("the derivation supports random variables and the measurable expressions "
                "listed here; see docs/logprob.md for what is supported and how to add a rule")
        loc = "  Built at:\n" + format_location(node.trace)
        block = blocking_node(v)
        if block is not None and block is not node:
            loc += (f"\n  The derivation stops at {block.op} of a random variable, built at:\n"
                    + format_location(block.trace))
    supported = "".join(f"\n    - {t}" for t in [f"random variables: {supported}",
                                                  *SUPPORTED_EXPRESSIONS])
    return NotMeasurableError(with_hint(f"{head}\n{loc}\n  Supported:{supported}", hint))


def _measured(rv: Variable, replacements: Mapping[Variable, Variable]) -> Variable:
    """``rv`` conditioned on the values in ``replacements`` and rewritten into measurable
    ops."""
    if replacements:
        rv = graph_replace([rv], dict(replacements), strict=False)[0]
    return rewrite_measurable(rv)


def _build(table: Callable[..., Variable], table_name: str, rv: Any, value: Variable,
           what: str, replacements: Mapping[Variable, Variable]) -> Variable:
    if not isinstance(rv, Variable):
        raise GnomonTypeError(_at(with_hint(
            f"{what}: expected a random variable, got {rv!r}",
            "pass the variable returned by a distribution, e.g. x = gr.normal(0, 1)")))
    m = _measured(rv, replacements)
    if m.owner is None:
        raise _not_measurable(rv, what, table_name)
    try:
        out = strip_measurable(table(m.owner.op, value, *m.owner.inputs))
    except _NoBuilder:
        if table is not _logprob and _has_logprob(m):
            name = m.owner.op.name if _is_rv_output(m) else type(m.owner.op).__name__
            raise NotMeasurableError(_at(with_hint(
                f"{what}: {name} has a log-density but no {table_name} in gnomon yet",
                "see the support table in docs/logprob.md"))) from None
        raise _not_measurable(rv if rv.owner is not None else m, what, table_name) from None
    if rv.name and isinstance(out, Variable) and out.name is None and out.owner is not None:
        out.name = f"{rv.name}_{table_name.replace('-', '')}"
    return out


def _has_logprob(m: Variable) -> bool:
    from gnomon.logprob.abstract import has_logprob

    return m.owner is not None and has_logprob(type(m.owner.op))


def logp(rv: Variable, value: Any, *, check_parameters: bool = True) -> Variable:
    """The log-density (log-probability mass for discrete variables) of ``rv`` at ``value``.

    Parameters
    ----------
    rv : Variable
        A random variable (the draw returned by a distribution), or an expression the measurable
        rewrites understand.
    value : Variable or array_like
        Where to evaluate; same rank as ``rv`` and a dtype of the same kind (float for
        continuous, integer for discrete variables).
    check_parameters : bool
        ``True``: invalid parameters raise an error when the graph is evaluated (``nan`` on
        JAX); ``False``: the density is ``-inf`` there. See docs/logprob.md.

    Returns
    -------
    Variable
        The elementwise log-density, of ``rv``'s batch shape (support dimensions are summed).
        ``-inf`` outside the support. Parameters that depend on other random variables stay
        symbolic (use :func:`conditional_logp` to condition on their values).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt, gnomon.random as gr
    >>> from gnomon.logprob import logp
    >>> x = gr.normal(0.0, 2.0, size=3)
    >>> v = gt.dvector("v")
    >>> logp(x, v).eval({v: np.array([0.0, 2.0, -np.inf])}, mode="numpy").round(4).tolist()
    [-1.6121, -2.1121, -inf]
    """
    with checking(check_parameters, user_location()):
        value = _as_value(rv, value, "logp") if isinstance(rv, Variable) else value
        return _build(_logprob, "logp", rv, value, "logp", {})


def logcdf(rv: Variable, value: Any, *, check_parameters: bool = True) -> Variable:
    """The log of the cumulative distribution function ``log P(rv <= value)``.

    Scalar-support distributions only; ``-inf`` below the support and ``0`` above it.
    ``check_parameters`` as in :func:`logp`.

    Examples
    --------
    >>> import numpy as np, gnomon.random as gr
    >>> from gnomon.logprob import logcdf
    >>> x = gr.exponential(2.0)
    >>> round(float(logcdf(x, 2.0).eval(mode="numpy")), 6)  # log(1 - exp(-2 / 2))
    -0.458675
    """
    with checking(check_parameters, user_location()):
        value = _as_value(rv, value, "logcdf") if isinstance(rv, Variable) else value
        return _build(_logcdf, "logcdf", rv, value, "logcdf", {})


def icdf(rv: Variable, q: Any, *, check_parameters: bool = True) -> Variable:
    """The inverse cumulative distribution function (quantile function) of ``rv`` at ``q``.

    ``nan`` for ``q`` outside ``[0, 1]``. For discrete variables, the smallest support point
    ``x`` with ``cdf(x) >= q`` (as ``scipy.stats``' ``ppf``), as a float (``nan`` needs a float).
    ``check_parameters`` as in :func:`logp` (failed checks give ``nan`` when ``False``).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> from gnomon.logprob import icdf
    >>> x = gr.uniform(1.0, 3.0)
    >>> float(icdf(x, 0.25).eval(mode="numpy"))
    1.5
    """
    with checking(check_parameters, user_location()):
        if not isinstance(q, Variable):
            q = constant(np.asarray(q, dtype="float64" if np.asarray(q).dtype.kind != "f"
                                    else np.asarray(q).dtype))
        q = as_tensor(q)
        if isinstance(rv, Variable) and q.ndim != rv.ndim:
            raise GnomonTypeError(_at(with_hint(
                f"icdf: q has {q.ndim} dimension(s) but the random variable {_describe(rv)} "
                f"has {rv.ndim}", "pass q with the random variable's rank")))
        if q.dtype[0] != "f":
            raise GnomonTypeError(_at(with_hint(
                f"icdf: q must be a float tensor (probabilities), got {q.dtype}",
                "cast it: gt.cast(q, 'float64')")))
        return _build(_icdf, "icdf", rv, q, "icdf", {})


def conditional_logp(rv_values: Mapping[Variable, Any], *, check_parameters: bool = True
                     ) -> dict[Variable, Variable]:
    """One log-density term per value variable: ``{value: logp(rv | values of the others)}``.

    Each random variable's density is built with every *other* valued random variable replaced
    by its value, so the terms together are the joint log-density of the values. A random
    variable that a term depends on must have a value too (or be fixed by a generator: a
    term may not hide a draw).

    Parameters
    ----------
    rv_values : mapping
        ``{random variable: value variable}``.
    check_parameters : bool
        As in :func:`logp`.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt, gnomon.random as gr
    >>> from gnomon.logprob import conditional_logp
    >>> mu = gr.normal(0.0, 1.0)
    >>> y = gr.normal(mu, 1.0, size=2)
    >>> mu_v, y_v = gt.dscalar("mu_v"), gt.dvector("y_v")
    >>> terms = conditional_logp({mu: mu_v, y: y_v})
    >>> terms[y_v].eval({mu_v: 1.0, y_v: np.array([1.0, 1.0])}, mode="numpy").round(4).tolist()
    [-0.9189, -0.9189]
    """
    with checking(check_parameters, user_location()):
        pairs: list[tuple[Variable, Variable]] = []
        seen: set[Variable] = set()
        for rv, value in rv_values.items():
            if not isinstance(rv, Variable):
                raise GnomonTypeError(_at(with_hint(
                    f"conditional_logp: keys must be random variables, got {rv!r}",
                    "pass {rv: value_variable, ...}")))
            v = _as_value(rv, value, "conditional_logp")
            if v in seen:
                raise GnomonValueError(_at(with_hint(
                    f"conditional_logp: the value variable {_describe(v)} is given for two "
                    "random variables", "give each random variable its own value variable")))
            seen.add(v)
            pairs.append((rv, v))
        replacements = dict(pairs)
        valued = set(replacements)
        out: dict[Variable, Variable] = {}
        for rv, v in pairs:
            others = {r: x for r, x in replacements.items() if r is not rv}
            term = _build(_logprob, "logp", rv, v, "conditional_logp", others)
            _check_no_hidden_rvs(term, rv, valued)
            out[v] = term
        return out


def _check_no_hidden_rvs(term: Variable, rv: Variable, valued: set[Variable]) -> None:
    for a in ancestors([term]):
        if _is_rv_output(a) and a not in valued:
            raise GnomonValueError(with_hint(
                f"conditional_logp: the density of {_describe(rv)} depends on the random "
                f"variable {_describe(a)} ({a.owner.op.name}), which has no value variable\n"  # type: ignore
                f"  It was built at:\n{format_location(a.owner.trace)}",  # type: ignore
                "give it a value variable in rv_values (a density cannot contain a draw)"))


def joint_logp(rv_values: Mapping[Variable, Any], *, check_parameters: bool = True,
               sum: bool = True) -> Variable | list[Variable]:
    """The joint log-density of the values: the sum of :func:`conditional_logp`'s terms.

    With ``sum=False``, the list of terms (in the order of ``rv_values``) instead.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt, gnomon.random as gr
    >>> from gnomon.logprob import joint_logp
    >>> sigma = gr.exponential(1.0)
    >>> y = gr.normal(0.0, sigma, size=3)
    >>> s_v, y_v = gt.dscalar("s_v"), gt.dvector("y_v")
    >>> lp = joint_logp({sigma: s_v, y: y_v})
    >>> round(float(lp.eval({s_v: 1.0, y_v: np.zeros(3)}, mode="numpy")), 4)
    -3.7568
    """
    from gnomon.tensor.math import add
    from gnomon.tensor.reduce import sum as tsum

    terms = conditional_logp(rv_values, check_parameters=check_parameters)
    values = list(terms)
    if not sum:
        return [terms[v] for v in values]
    parts = [tsum(terms[v]) if terms[v].ndim else terms[v] for v in values]
    if not parts:
        return constant(np.float64(0.0))
    return parts[0] if len(parts) == 1 else add(*parts)

