"""Value transforms: bijections from a constrained support to an unconstrained space, for
samplers and optimizers that move freely in ``R^n``.

A transform has ``forward`` (constrained value -> unconstrained), ``backward`` (unconstrained ->
constrained) and ``log_jac_det(y)``, the log of the absolute determinant of the Jacobian of
``backward`` at the unconstrained ``y``: the density of ``y`` is
``logp(backward(y)) + log_jac_det(y)``. ``ndim_supp`` is the number of trailing dimensions one
application acts on (0: elementwise; 1: a vector, as for :class:`Simplex`); ``log_jac_det``
sums over them.

:func:`default_transform` gives the transform gnomon uses for a distribution (positive ->
:class:`Log`, unit interval -> :class:`LogOdds`, bounded -> :class:`Interval`, simplex ->
:class:`Simplex`, circular -> :class:`Circular`); :func:`transformed_conditional_logp` builds
the densities in the unconstrained space.

Examples
--------
>>> import numpy as np, gnomon.tensor as gt
>>> t = Interval(0.0, 2.0)
>>> y = gt.dscalar("y")
>>> float(t.backward(y).eval({y: 0.0}, mode="numpy"))
1.0
>>> round(float(t.log_jac_det(y).eval({y: 0.0}, mode="numpy")), 6)  # log(2 / 4)
-0.693147
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

import gnomon.random.distributions as rd
import gnomon.tensor as gt
from gnomon.errors import GnomonTypeError, GnomonValueError, user_location, with_hint
from gnomon.graph.basic import Variable
from gnomon.graph.op import Op

__all__ = [
    "CholeskyCorr", "Circular", "Interval", "Log", "LogOdds", "Ordered", "Simplex", "Transform",
    "default_transform", "transformed_conditional_logp",
]


class Transform(abc.ABC):
    """A bijection between a constrained support and an unconstrained space."""

    #: trailing dimensions one application acts on (``log_jac_det`` sums over them)
    ndim_supp: int = 0
    name: str = "transform"

    @abc.abstractmethod
    def forward(self, x: Any) -> Variable:
        """Constrained ``x`` to the unconstrained space."""

    @abc.abstractmethod
    def backward(self, y: Any) -> Variable:
        """Unconstrained ``y`` back to the support."""

    @abc.abstractmethod
    def log_jac_det(self, y: Any) -> Variable:
        """``log |det J_backward(y)|``, summed over the last ``ndim_supp`` dimensions."""

    def value_ndim(self, rv_ndim: int) -> int:
        """The rank of the unconstrained value of a variable of rank ``rv_ndim``."""
        return rv_ndim

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Log(Transform):
    """``(0, inf) <-> R``: ``y = log(x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> y = gt.dscalar("y")
    >>> float(Log().backward(y).eval({y: 0.0}, mode="numpy"))
    1.0
    """

    name = "log"

    def forward(self, x: Any) -> Variable:
        return gt.log(x)

    def backward(self, y: Any) -> Variable:
        return gt.exp(y)

    def log_jac_det(self, y: Any) -> Variable:
        return gt.as_tensor(y)


class LogOdds(Transform):
    """``(0, 1) <-> R``: ``y = logit(x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> y = gt.dscalar("y")
    >>> float(LogOdds().backward(y).eval({y: 0.0}, mode="numpy"))
    0.5
    """

    name = "logodds"

    def forward(self, x: Any) -> Variable:
        return gt.logit(x)

    def backward(self, y: Any) -> Variable:
        return gt.sigmoid(y)

    def log_jac_det(self, y: Any) -> Variable:
        return -gt.softplus(-y) - gt.softplus(y)


class Interval(Transform):
    """``(lower, upper) <-> R`` (scaled log-odds); with one bound ``None``, a shifted
    :class:`Log` (``(lower, inf)``) or its mirror (``(-inf, upper)``). Bounds may be tensors.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> y = gt.dscalar("y")
    >>> float(Interval(2.0, None).backward(y).eval({y: 0.0}, mode="numpy"))
    3.0
    """

    name = "interval"

    def __init__(self, lower: Any = None, upper: Any = None) -> None:
        if lower is None and upper is None:
            raise GnomonValueError(with_hint("Interval: give at least one bound",
                                             "Interval(lower, upper), Interval(0.0, None)"))
        self.lower = None if lower is None else gt.as_tensor(lower)
        self.upper = None if upper is None else gt.as_tensor(upper)

    def forward(self, x: Any) -> Variable:
        a, b = self.lower, self.upper
        if b is None:
            return gt.log(x - a)
        if a is None:
            return gt.log(b - x)
        return gt.log(x - a) - gt.log(b - x)

    def backward(self, y: Any) -> Variable:
        a, b = self.lower, self.upper
        if b is None:
            return a + gt.exp(y)
        if a is None:
            return b - gt.exp(y)
        return a + (b - a) * gt.sigmoid(y)

    def log_jac_det(self, y: Any) -> Variable:
        a, b = self.lower, self.upper
        y = gt.as_tensor(y)
        if a is None or b is None:
            return y
        return gt.log(b - a) - gt.softplus(-y) - gt.softplus(y)

    def __repr__(self) -> str:
        return f"Interval({self.lower}, {self.upper})"


class Circular(Transform):
    """Angles: ``forward`` wraps to ``[-pi, pi]``; ``backward`` is the identity (a sampler may
    move past ``pi``; the von Mises density is periodic), so ``log_jac_det`` is 0.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dscalar("x")
    >>> round(float(Circular().forward(x).eval({x: 3 * np.pi / 2}, mode="numpy")), 6)
    -1.570796
    """

    name = "circular"

    def forward(self, x: Any) -> Variable:
        return gt.arctan2(gt.sin(x), gt.cos(x))

    def backward(self, y: Any) -> Variable:
        return gt.as_tensor(y)

    def log_jac_det(self, y: Any) -> Variable:
        return gt.zeros_like(y)


class Ordered(Transform):
    """Increasing vectors (last dimension) ``<-> R^k``: ``y[0] = x[0]``,
    ``y[i] = log(x[i] - x[i-1])``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> y = gt.dvector("y")
    >>> Ordered().backward(y).eval({y: np.array([1.0, 0.0, 0.0])}, mode="numpy").tolist()
    [1.0, 2.0, 3.0]
    """

    name = "ordered"
    ndim_supp = 1

    def forward(self, x: Any) -> Variable:
        x = gt.as_tensor(x)
        return gt.concatenate([x[..., :1], gt.log(x[..., 1:] - x[..., :-1])], axis=-1)

    def backward(self, y: Any) -> Variable:
        y = gt.as_tensor(y)
        return gt.cumsum(gt.concatenate([y[..., :1], gt.exp(y[..., 1:])], axis=-1), axis=-1)

    def log_jac_det(self, y: Any) -> Variable:
        return gt.sum(gt.as_tensor(y)[..., 1:], axis=-1)


class Simplex(Transform):
    """Probability vectors of length ``k`` (last dimension) ``<-> R^(k-1)``, by stick
    breaking: ``z[i] = sigmoid(y[i] - log(k-1-i))`` is the fraction of the remaining stick
    given to ``x[i]``; the last entry takes the rest. ``y = 0`` maps to the uniform vector.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> y = gt.dvector("y")
    >>> Simplex().backward(y).eval({y: np.zeros(3)}, mode="numpy").round(6).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """

    name = "simplex"
    ndim_supp = 1

    @staticmethod
    def _offsets(n: Any) -> Variable:
        # log(k-1-i) for i = 0 .. k-2, where n = k - 1
        return gt.log(gt.cast(n - gt.arange(n), "float64"))

    def _pieces(self, y: Any) -> tuple[Variable, Variable, Variable]:
        y = gt.as_tensor(y)
        t = y - self._offsets(y.shape[-1])
        log_z = -gt.softplus(-t)
        log_1mz = -gt.softplus(t)
        # log of the stick left before piece i: exclusive cumulative sum of log(1 - z)
        log_rest = gt.cumsum(log_1mz, axis=-1) - log_1mz
        return log_z, log_1mz, log_rest

    def forward(self, x: Any) -> Variable:
        x = gt.as_tensor(x)
        head = x[..., :-1]
        rest = 1.0 - (gt.cumsum(head, axis=-1) - head)
        z = head / rest
        return gt.logit(z) + self._offsets(head.shape[-1])

    def backward(self, y: Any) -> Variable:
        log_z, log_1mz, log_rest = self._pieces(y)
        last = gt.sum(log_1mz, axis=-1, keepdims=True)
        return gt.exp(gt.concatenate([log_rest + log_z, last], axis=-1))

    def log_jac_det(self, y: Any) -> Variable:
        log_z, log_1mz, log_rest = self._pieces(y)
        return gt.sum(log_z + log_1mz + log_rest, axis=-1)


class CholeskyCorr(Transform):
    """Cholesky factors of ``n x n`` correlation matrices (lower triangular, unit rows)
    ``<-> R^(n(n-1)/2)``, for LKJ priors: ``z = tanh(y)`` are canonical partial correlations
    filled row by row below the diagonal; row ``i`` of ``L`` is ``z`` scaled by the length
    left, ``L[i, j] = z[i, j] * sqrt(1 - sum_{m<j} L[i, m]**2)``, and the diagonal takes the
    rest. ``n`` must be known; the value is a vector (``value_ndim`` is one less than the
    matrix's rank; batches are not supported).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> y = gt.dvector("y")
    >>> L = CholeskyCorr(2).backward(y).eval({y: np.array([0.0])}, mode="numpy")
    >>> L.tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """

    name = "cholesky_corr"
    ndim_supp = 1

    def __init__(self, n: int) -> None:
        if not isinstance(n, int | np.integer) or n < 1:
            raise GnomonValueError(with_hint(f"CholeskyCorr: n must be a positive int, got {n!r}",
                                             "pass the matrix size, CholeskyCorr(3)"))
        self.n = int(n)

    def value_ndim(self, rv_ndim: int) -> int:
        return rv_ndim - 1

    def _rows(self, y: Any) -> tuple[list[list[Variable]], Variable]:
        y = gt.as_tensor(y)
        z = gt.tanh(y)
        rows: list[list[Variable]] = [[gt.as_tensor(1.0)]]
        ljd = gt.sum(gt.log1p(-gt.square(z)))  # dz/dy = 1 - z**2
        k = 0
        for i in range(1, self.n):
            row: list[Variable] = []
            left = gt.as_tensor(1.0)  # 1 - sum of squares so far in this row
            for _ in range(i):
                zk = z[k]
                k += 1
                entry = zk * gt.sqrt(left)
                ljd = ljd + 0.5 * gt.log(left)
                row.append(entry)
                left = left - gt.square(entry)
            row.append(gt.sqrt(left))
            rows.append(row)
        return rows, ljd

    def forward(self, x: Any) -> Variable:
        x = gt.as_tensor(x)
        out = []
        for i in range(1, self.n):
            left = gt.as_tensor(1.0)
            for j in range(i):
                out.append(gt.arctanh(x[i, j] / gt.sqrt(left)))
                left = left - gt.square(x[i, j])
        if not out:
            return gt.zeros((0,))
        return gt.stack(out)

    def backward(self, y: Any) -> Variable:
        rows, _ = self._rows(y)
        zero = gt.as_tensor(0.0)
        full = [[*r, *[zero] * (self.n - len(r))] for r in rows]
        return gt.stack([gt.stack(r) for r in full])

    def log_jac_det(self, y: Any) -> Variable:
        # of the map to the n(n-1)/2 free entries below the diagonal (the diagonal follows)
        return self._rows(y)[1]

    def __repr__(self) -> str:
        return f"CholeskyCorr({self.n})"


# --- default transforms per distribution --------------------------------------------------------


@functools.singledispatch
def _default_transform(op: Op, *params: Variable) -> Transform | None:
    return None


def _register(*classes: type, make: Any) -> None:
    for c in classes:
        _default_transform.register(c)(lambda op, *params, _m=make: _m(*params))


_register(rd.Exponential, rd.Gamma, rd.InvGamma, rd.ChiSquare, rd.Weibull, rd.LogNormal,
          rd.Wald, make=lambda *p: Log())
_register(rd.Beta, make=lambda *p: LogOdds())
_register(rd.HalfNormal, rd.HalfCauchy, make=lambda loc, scale: Interval(loc, None))
_register(rd.Pareto, make=lambda alpha, m: Interval(m, None))
_register(rd.Uniform, make=lambda low, high: Interval(low, high))
_register(rd.Triangular, make=lambda left, mode, right: Interval(left, right))
_register(rd.Dirichlet, make=lambda alpha: Simplex())
for _name, _make in (("GenGamma", lambda *p: Log()), ("VonMises", lambda *p: Circular())):
    if hasattr(rd, _name):  # distributions added in the same release as this module
        _register(getattr(rd, _name), make=_make)


def default_transform(rv: Variable) -> Transform | None:
    """The transform gnomon uses for the values of ``rv`` (``None``: already unconstrained, or
    discrete).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> default_transform(gr.gamma(2.0))
    Log()
    >>> default_transform(gr.normal()) is None
    True
    """
    node = rv.owner
    if node is None:
        return None
    from gnomon.random.op import RandomVariable

    if isinstance(node.op, RandomVariable):
        return _default_transform(node.op, *node.inputs[2:])
    return _default_transform(node.op, *node.inputs)


def transformed_conditional_logp(
    rv_values: Mapping[Variable, Any],
    transforms: Mapping[Variable, Transform | None] | None = None,
    *,
    check_parameters: bool = True,
) -> dict[Variable, Variable]:
    """Like :func:`~gnomon.logprob.conditional_logp`, with each value variable in the
    unconstrained space of its variable's transform.

    A term is ``logp(rv, backward(value)) + log_jac_det(value)``, and every other term sees the
    constrained ``backward(value)``. ``transforms`` maps random variables to a transform or
    ``None`` (no transform); variables it does not name get :func:`default_transform`. A
    transform whose parameters depend on other variables (``uniform(0, sigma)``) is built from
    their values.

    Examples
    --------
    >>> import numpy as np, scipy.stats as st, gnomon.tensor as gt, gnomon.random as gr
    >>> s = gr.exponential(2.0)
    >>> y = gt.dscalar("y")                          # log(s)
    >>> term = transformed_conditional_logp({s: y})[y]
    >>> got = float(term.eval({y: 0.5}, mode="numpy"))
    >>> bool(np.isclose(got, st.expon(scale=2.0).logpdf(np.exp(0.5)) + 0.5))
    True
    """
    from gnomon.graph.replace import graph_replace
    from gnomon.graph.traversal import toposort
    from gnomon.logprob.abstract import _logprob
    from gnomon.logprob.basic import _as_value, _at, _build, _check_no_hidden_rvs, checking

    transforms = dict(transforms or {})
    pairs = list(rv_values.items())
    for rv, _ in pairs:
        if not isinstance(rv, Variable):
            raise GnomonTypeError(_at(with_hint(
                f"transformed_conditional_logp: keys must be random variables, got {rv!r}",
                "pass {rv: value_variable, ...}")))
    unknown = [r for r in transforms if r not in rv_values]
    if unknown:
        raise GnomonValueError(_at(with_hint(
            f"transformed_conditional_logp: transforms names {len(unknown)} variable(s) that "
            "have no value variable", "give them values in rv_values, or leave them out")))
    # parents before children, so that transforms built from parameters see the values
    order = {n: i for i, n in enumerate(toposort([r for r, _ in pairs]))}
    pairs.sort(key=lambda p: order.get(p[0].owner, -1) if p[0].owner is not None else -1)
    constrained: dict[Variable, Variable] = {}
    terms: dict[Variable, Variable] = {}  # by random variable
    values: dict[Variable, Variable] = {}
    with checking(check_parameters, user_location()):
        for rv, value in pairs:
            cond = graph_replace([rv], constrained, strict=False)[0] if constrained else rv
            t = transforms[rv] if rv in transforms else default_transform(cond)
            if t is None:
                v = _as_value(rv, value, "transformed_conditional_logp")
                x = v
                term = _build(_logprob, "logp", cond, v, "transformed_conditional_logp", {})
            else:
                v = gt.as_tensor(value)
                want = t.value_ndim(rv.ndim)
                if v.dtype[0] != "f" or v.ndim != want:
                    raise GnomonTypeError(_at(with_hint(
                        f"transformed_conditional_logp: the unconstrained value of a "
                        f"{t.name}-transformed variable must be a float tensor of rank {want}, "
                        f"got {v.type}", "make it like gt.tensor(dtype='float64', "
                        f"shape=(None,) * {want})")))
                x = t.backward(v)
                if x.dtype != rv.dtype:
                    x = gt.cast(x, rv.dtype)
                term = _build(_logprob, "logp", cond, x, "transformed_conditional_logp", {})
                ljd = t.log_jac_det(v)
                extra = ljd.ndim - term.ndim
                if extra > 0:
                    ljd = gt.sum(ljd, axis=tuple(range(-extra, 0)))
                term = term + ljd
            _check_no_hidden_rvs(term, rv, set())
            constrained[rv] = x
            terms[rv] = term
            values[rv] = v
    return {values[rv]: terms[rv] for rv in rv_values}
