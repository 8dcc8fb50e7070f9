"""``Model``: the container of a PyMC-style model, and what inference needs from it.

A model is a set of named random variables (graphs of :mod:`gnomon.random`), their *value
variables* (the unconstrained coordinates a sampler or optimizer moves, with PyMC's names such as
``sigma_log__``), observed data, deterministics and potentials. Its log-density is derived by
:mod:`gnomon.logprob`; nothing here writes a density by hand.

* ``with Model(coords=...) as m:`` collects the variables the distributions create;
  nested models prefix their names (``outer::inner::x``).
* :meth:`Model.logp` is the joint log-density graph over the value variables;
  :meth:`Model.compile_logp`, :meth:`Model.compile_dlogp`, :meth:`Model.initial_point`,
  :meth:`Model.point_logps`, :meth:`Model.debug` are PyMC's;
* :meth:`Model.logp_dlogp_function` is the sampler's view: one flat float64 vector in, the
  log-density and its gradient out, compiled with Numba (and callable from ``@njit`` code).
"""

from __future__ import annotations

import re
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

import gnomon.tensor as gt
from gnomon.compile.function import function as _function
from gnomon.compile.mode import Mode
from gnomon.compile.shared import SharedVariable
from gnomon.compile.shared import shared as _shared
from gnomon.errors import (
    GnomonTypeError,
    GnomonValueError,
    ShapeError,
    with_hint,
    with_user_line,
)
from gnomon.gradient import grad as _grad
from gnomon.graph.basic import Constant, Variable
from gnomon.graph.replace import graph_replace
from gnomon.graph.traversal import ancestors
from gnomon.logprob import conditional_logp
from gnomon.logprob.transforms import Transform

__all__ = [
    "Data", "Deterministic", "LogpDlogpFunction", "Model", "Potential", "modelcontext",
    "set_data",
]

_STACK = threading.local()


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _stack() -> list[Model]:
    if not hasattr(_STACK, "models"):
        _STACK.models = []
    return _STACK.models  # type: ignore[no-any-return]


def _at(message: str) -> str:
    """``message`` with the user's line inserted before its hint."""
    return with_user_line(message)


def modelcontext(model: Model | None = None) -> Model:
    """The model given, or the innermost model of the ``with`` blocks around the call.

    Examples
    --------
    >>> import gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     pm.modelcontext() is m
    True
    """
    if model is not None:
        return model
    st = _stack()
    if not st:
        raise TypeError(_at(with_hint(
            "No model on context stack: distributions with a name must be created inside "
            "`with pm.Model():`",
            "open a model first (`with pm.Model() as model:`), or use `pm.Normal.dist(...)` "
            "for a variable outside any model")))
    return st[-1]


class Model:
    """A probabilistic model: named random variables, their values and observed data.

    Parameters
    ----------
    name : str
        Prefix of the names of the variables created in this model (``name::x``); nested
        models chain their prefixes.
    coords : dict, optional
        ``{dim name: values}`` (the labels along a dimension; ``None`` for a dimension whose
        length is set later by ``Data``).
    check_bounds : bool
        Check distribution parameters in the log-density (an invalid parameter raises when the
        density is evaluated); ``False`` makes the density ``-inf`` there instead.

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> with pm.Model(coords={"obs": range(3)}) as model:
    ...     mu = pm.Normal("mu", 0.0, 1.0)
    ...     sigma = pm.HalfNormal("sigma", 1.0)
    ...     y = pm.Normal("y", mu, sigma, observed=np.array([0.1, -0.2, 0.3]), dims="obs")
    >>> [v.name for v in model.value_vars]
    ['mu', 'sigma_log__']
    >>> sorted(model.initial_point())
    ['mu', 'sigma_log__']
    """

    def __init__(self, name: str = "", coords: Mapping[str, Any] | None = None,
                 check_bounds: bool = True, *, model: Model | None = None) -> None:
        st = _stack()
        self.parent: Model | None = model if model is not None else (st[-1] if st else None)
        self.root: Model = self.parent.root if self.parent is not None else self
        pre = self.parent.prefix if self.parent is not None else ""
        self.name = f"{pre}{name}" if name else (self.parent.name if self.parent else "")
        self.prefix = f"{pre}{name}::" if name else pre
        self.check_bounds = check_bounds
        self.free_RVs: list[Variable] = []
        self.observed_RVs: list[Variable] = []
        self.deterministics: list[Variable] = []
        self.potentials: list[Variable] = []
        self.data_vars: list[Variable] = []
        self.named_vars: dict[str, Variable] = {}
        self.named_vars_to_dims: dict[str, tuple[str | None, ...]] = {}
        self.rvs_to_values: dict[Variable, Variable] = {}
        self.values_to_rvs: dict[Variable, Variable] = {}
        self.rvs_to_transforms: dict[Variable, Transform | None] = {}
        self.rvs_to_initial_values: dict[Variable, Any] = {}
        self.rvs_to_data: dict[Variable, Variable] = {}
        self.rvs_to_total_sizes: dict[Variable, Any] = {}
        self._coords: dict[str, tuple[Any, ...] | None] = {}
        self._dim_lengths: dict[str, Variable] = {}
        if coords:
            self.add_coords(coords)

    # --- context ------------------------------------------------------------------------------

    def __enter__(self) -> Model:
        _stack().append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        st = _stack()
        if st and st[-1] is self:
            st.pop()

    @classmethod
    def get_context(cls, error_if_none: bool = True) -> Model | None:
        """The innermost model of the ``with`` blocks (``None`` or an error when there is
        none)."""
        st = _stack()
        if st:
            return st[-1]
        if error_if_none:
            modelcontext(None)
        return None

    def _chain(self) -> list[Model]:
        out, m = [], self
        while m is not None:
            out.append(m)
            m = m.parent  # type: ignore[assignment]
        return out

    # --- coords -------------------------------------------------------------------------------

    @property
    def coords(self) -> dict[str, tuple[Any, ...] | None]:
        """``{dim: labels}`` of the whole model (nested models share their root's)."""
        return self.root._coords

    @property
    def dim_lengths(self) -> dict[str, Variable]:
        """``{dim: length}``, int64 scalar tensors (shared lengths for dims set by data)."""
        return self.root._dim_lengths

    def add_coord(self, name: str, values: Iterable[Any] | None = None, *,
                  length: Any = None, mutable: bool | None = None) -> None:
        """Add one dimension: its labels ``values`` (or only its ``length``)."""
        root = self.root
        if name in root._coords and values is not None:
            old = root._coords[name]
            if old is not None and tuple(old) != tuple(values):
                raise GnomonValueError(_at(with_hint(
                    f"Model.add_coord: the dimension {name!r} already has other coordinates",
                    "use a new dimension name, or set_data(..., coords={...}) to change it")))
        if values is not None:
            vals = tuple(np.asarray(values).tolist()) if not isinstance(values, tuple) else values
            root._coords[name] = vals
            n = len(vals)
        else:
            root._coords[name] = None
            if length is None:
                raise GnomonValueError(_at(with_hint(
                    f"Model.add_coord: the dimension {name!r} has neither values nor a length",
                    "pass values=... or length=...")))
            n = length
        if isinstance(n, Variable):
            root._dim_lengths[name] = n
        else:
            root._dim_lengths[name] = _shared(np.int64(n), name=f"{name}_length")

    def add_coords(self, coords: Mapping[str, Any], *, lengths: Mapping[str, Any] | None = None
                   ) -> None:
        """Add several dimensions (``{dim: labels}``)."""
        for k, v in coords.items():
            self.add_coord(k, v)
        for k, n in (lengths or {}).items():
            self.add_coord(k, None, length=n)

    def set_dim(self, name: str, new_length: int, coord_values: Sequence[Any] | None = None
                ) -> None:
        """Change the length of a dimension (for out-of-sample prediction)."""
        length = self.dim_lengths[name]
        if isinstance(length, SharedVariable):
            length.set_value(np.int64(new_length))
        self.root._coords[name] = tuple(coord_values) if coord_values is not None else None

    def shape_from_dims(self, dims: Sequence[str | None], what: str) -> tuple[Any, ...]:
        """The shape given by dim names (an error naming the variable if one is unknown)."""
        out: list[Any] = []
        for d in dims:
            if d is None:
                raise GnomonValueError(_at(with_hint(
                    f"{what}: dims contains None, so the length of that dimension is unknown",
                    "name every dimension, or give shape= as well")))
            if d not in self.dim_lengths:
                known = ", ".join(repr(k) for k in self.coords) or "none"
                raise GnomonValueError(_at(with_hint(
                    f"{what}: the dimension {d!r} is not in the model's coords (known: {known})",
                    f"add it: pm.Model(coords={{{d!r}: values}}) or "
                    f"model.add_coord({d!r}, values)")))
            # symbolic lengths (a shared length, or a Data variable's), as in PyMC: every dim
            # can change length with set_data(..., coords=...)
            out.append(self.dim_lengths[d])
        return tuple(out)

    # --- registration -------------------------------------------------------------------------

    def _check_name(self, name: str, what: str) -> str:
        if not isinstance(name, str):
            raise GnomonTypeError(_at(with_hint(
                f"{what}: the name must be a string, got {name!r}",
                "pass the name first: pm.Normal('x', mu=0, sigma=1)")))
        full = self.prefix + name
        if full in self.root.named_vars:
            raise GnomonValueError(_at(with_hint(
                f"{what}: the name {full!r} is already used in this model by "
                f"{_kind(self.root, self.root.named_vars[full])}",
                "give every variable its own name")))
        return full

    def _add_named(self, full: str, var: Variable, dims: tuple[str | None, ...] | None) -> None:
        for m in self._chain():
            m.named_vars[full] = var
            if dims:
                m.named_vars_to_dims[full] = dims

    def register_rv(self, rv: Variable, name: str, *, observed: Any = None,
                    total_size: Any = None, dims: Any = None, transform: Any = UNSET,
                    default_transform: Any = UNSET, initval: Any = None) -> Variable:
        """Add the random variable ``rv`` under ``name`` (free, or observed with ``observed``).

        Distributions call this; it is public for variables built with :mod:`gnomon.random`.
        """
        from gnomon.logprob.transforms import default_transform as _default

        full = self._check_name(name, "register_rv")
        rv.name = full
        dims_t = _as_dims(dims)
        if observed is None:
            # the distribution's own choice (read once), else gnomon.logprob's default
            chosen = _TRANSFORMS.pop(rv, UNSET)
            if default_transform is not UNSET:
                dt = default_transform
            else:
                dt = _default(rv) if chosen is UNSET else chosen
            t_final: Transform | None = dt
            if transform is not UNSET and transform is not None:
                from gnomon.ppl.transforms import Chain

                t_final = transform if dt is None else Chain([dt, transform])
            if rv.dtype[0] in "iub":
                t_final = None
            vtype = gt.tensor(dtype=rv.dtype if t_final is None else "float64",
                              shape=(None,) * (rv.ndim if t_final is None
                                               else t_final.value_ndim(rv.ndim)))
            vname = full if t_final is None else f"{full}_{_transform_name(t_final)}__"
            value = vtype
            value.name = vname
            for m in self._chain():
                m.free_RVs.append(rv)
                m.rvs_to_values[rv] = value
                m.values_to_rvs[value] = rv
                m.rvs_to_transforms[rv] = t_final
                if initval is not None:
                    m.rvs_to_initial_values[rv] = initval
        else:
            data = self._observed_data(rv, full, observed)
            for m in self._chain():
                m.observed_RVs.append(rv)
                m.rvs_to_data[rv] = data
                m.rvs_to_values[rv] = data
                m.rvs_to_transforms[rv] = None
        if total_size is not None:
            for m in self._chain():
                m.rvs_to_total_sizes[rv] = total_size
        self._add_named(full, rv, dims_t)
        return rv

    def _observed_data(self, rv: Variable, name: str, observed: Any) -> Variable:
        if isinstance(observed, Variable):
            data = observed
            if isinstance(data, Constant):
                _check_nans(np.asarray(data.data), name)
            elif isinstance(data, SharedVariable):  # pm.Data: its current value
                _check_nans(np.asarray(data.get_value(borrow=True)), name)
        else:
            arr = np.asarray(observed)
            if arr.dtype.kind not in "biuf":
                try:
                    arr = arr.astype("float64")
                except (TypeError, ValueError):
                    raise GnomonTypeError(_at(with_hint(
                        f"observed data of {name!r} must be numeric, got dtype {arr.dtype}",
                        "pass a NumPy array of numbers"))) from None
            if np.ma.isMaskedArray(observed):
                arr = np.ma.filled(observed.astype("float64"), np.nan)
            _check_nans(arr, name)
            data = gt.constant(arr.astype(rv.dtype) if rv.dtype[0] in "iub"
                               or arr.dtype.kind in "iub" else arr)
        if data.ndim != rv.ndim:
            raise ShapeError(_at(with_hint(
                f"the observed data of {name!r} has {data.ndim} dimension(s) (shape "
                f"{_static(data)}) but the variable has {rv.ndim} (shape {_static(rv)})",
                "give shape=/dims= matching the data, or reshape the data")))
        for i, (a, b) in enumerate(zip(data.type.shape, rv.type.shape, strict=True)):
            if a is not None and b is not None and a != b:
                raise ShapeError(_at(with_hint(
                    f"the observed data of {name!r} has shape {_static(data)} but the variable "
                    f"has shape {_static(rv)} (dimension {i}: {a} != {b})",
                    "leave shape= out so that the data decides it, or fix the data's shape")))
        if any(b is None for b in rv.type.shape) and None not in data.type.shape:
            # lengths that can change (dims, Data): compare with their current values
            now = _current_shape(rv)
            if now is not None and tuple(now) != tuple(data.type.shape):
                raise ShapeError(_at(with_hint(
                    f"the observed data of {name!r} has shape {_static(data)} but the variable "
                    f"has shape {tuple(now)} (from its dims, shape or parameters)",
                    "make dims/shape match the data, or leave them out so that the data "
                    "decides the shape")))
        kind = data.dtype[0]
        discrete = rv.dtype[0] in "iub"
        if discrete and kind not in "iub":
            data = gt.cast(data, rv.dtype)
        elif not discrete and kind != "f":
            data = gt.cast(data, rv.dtype)
        return data

    # --- views --------------------------------------------------------------------------------

    @property
    def value_vars(self) -> list[Variable]:
        """The value variables of the free random variables, in creation order."""
        return [self.rvs_to_values[rv] for rv in self.free_RVs]

    @property
    def basic_RVs(self) -> list[Variable]:
        """Free and observed random variables."""
        return [*self.free_RVs, *self.observed_RVs]

    @property
    def unobserved_RVs(self) -> list[Variable]:
        """Free random variables and deterministics."""
        return [*self.free_RVs, *self.deterministics]

    @property
    def continuous_value_vars(self) -> list[Variable]:
        """Value variables of float dtype (what gradient-based samplers move)."""
        return [v for v in self.value_vars if v.dtype[0] == "f"]

    @property
    def discrete_value_vars(self) -> list[Variable]:
        """Value variables of integer dtype."""
        return [v for v in self.value_vars if v.dtype[0] != "f"]

    def __getitem__(self, key: str) -> Variable:
        for k in (key, self.prefix + key):
            if k in self.named_vars:
                return self.named_vars[k]
        raise KeyError(key)

    def __contains__(self, key: str) -> bool:
        return key in self.named_vars or self.prefix + key in self.named_vars

    def name_of(self, var: Variable) -> str:
        """The registered name of a variable (a random variable, value, deterministic...)."""
        for k, v in self.named_vars.items():
            if v is var:
                return k
        if var in self.values_to_rvs:
            return var.name or ""
        raise KeyError(var)

    def __repr__(self) -> str:
        lines = [f"<Model{(' ' + repr(self.name)) if self.name else ''}:"]
        for rv in self.free_RVs:
            lines.append(f"  {rv.name} ~ {_dist_name(rv)}")
        for rv in self.observed_RVs:
            lines.append(f"  {rv.name} ~ {_dist_name(rv)} (observed)")
        for d in self.deterministics:
            lines.append(f"  {d.name} = deterministic")
        return "\n".join(lines) + ">"

    # --- graphs over values -------------------------------------------------------------------

    def _constrained(self) -> tuple[dict[Variable, Variable], dict[Variable, Variable]]:
        """``{rv: constrained value}`` for every basic variable (data for observed ones, the
        back-transformed value for free ones), and ``{rv: log-Jacobian term}``."""
        repl: dict[Variable, Variable] = {rv: self.rvs_to_data[rv] for rv in self.observed_RVs}
        jac: dict[Variable, Variable] = {}
        for rv in self.free_RVs:
            v = self.rvs_to_values[rv]
            t = self.rvs_to_transforms[rv]
            if t is None:
                repl[rv] = v
                continue
            x = t.backward(v)
            if x.dtype != rv.dtype:
                x = gt.cast(x, rv.dtype)
            ljd = t.log_jac_det(v)
            x, ljd = graph_replace([x, ljd], repl, strict=False)
            repl[rv] = x
            jac[rv] = ljd
        return repl, jac

    def replace_rvs_by_values(self, graphs: Sequence[Variable]) -> list[Variable]:
        """``graphs`` with every random variable replaced by its (constrained) value."""
        repl, _ = self._constrained()
        return graph_replace(list(graphs), repl, strict=False)

    def logp_terms(self, vars: Sequence[Variable] | None = None, *, jacobian: bool = True
                   ) -> dict[Variable, Variable]:
        """``{rv or potential: log-density term}`` (elementwise, of the variable's batch shape),
        in terms of the value variables."""
        repl, jac = self._constrained()
        rv_values = {rv: repl[rv] for rv in self.basic_RVs}
        try:
            terms = conditional_logp(rv_values, check_parameters=self.check_bounds)
        except GnomonValueError as e:
            raise type(e)(f"{e}\n(while deriving the log-density of the model)") from None
        out: dict[Variable, Variable] = {}
        for rv in self.basic_RVs:
            term = terms[rv_values[rv]]
            if jacobian and rv in jac:
                ljd = jac[rv]
                extra = ljd.ndim - term.ndim
                if extra > 0:
                    ljd = gt.sum(ljd, axis=tuple(range(-extra, 0)))
                term = term + ljd
            if rv in self.rvs_to_total_sizes:
                term = term * _minibatch_scale(self.rvs_to_total_sizes[rv], term)
            out[rv] = term
        if self.potentials:
            pots = graph_replace(list(self.potentials), repl, strict=False)
            for p, g in zip(self.potentials, pots, strict=True):
                out[p] = g
        if vars is not None:
            want = list(vars)
            out = {k: v for k, v in out.items() if k in want or self.rvs_to_values.get(k) in want}
        return out

    def logp(self, vars: Sequence[Variable] | None = None, *, jacobian: bool = True,
             sum: bool = True) -> Variable | list[Variable]:
        """The joint log-density graph in terms of the value variables (a scalar), or the list
        of per-variable terms with ``sum=False``.

        Examples
        --------
        >>> import gnomon.ppl as pm
        >>> with pm.Model() as m:
        ...     x = pm.Normal("x", 0.0, 1.0)
        >>> f = m.compile_logp()
        >>> round(float(f({"x": 0.0})), 6)
        -0.918939
        """
        terms = self.logp_terms(vars, jacobian=jacobian)
        parts = [gt.sum(t) if t.ndim else t for t in terms.values()]
        if not sum:
            return parts
        if not parts:
            return gt.constant(np.float64(0.0))
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return gt.cast(total, "float64") if total.dtype != "float64" else total

    def dlogp(self, vars: Sequence[Variable] | None = None, *, jacobian: bool = True
              ) -> Variable:
        """The gradient of :meth:`logp` with respect to the (continuous) value variables,
        flattened and concatenated."""
        wrt = list(vars) if vars is not None else self.continuous_value_vars
        wrt = [self.rvs_to_values.get(v, v) for v in wrt]
        lp = self.logp(jacobian=jacobian)
        gs = _grad(lp, wrt, disconnected_inputs="ignore")
        return gt.concatenate([gt.flatten(g) for g in gs]) if gs else gt.zeros((0,))

    # --- compiled functions over points -------------------------------------------------------

    def compile_fn(self, outs: Any, *, inputs: Sequence[Variable] | None = None,
                   mode: Any = None, point_fn: bool = True) -> Callable[..., Any]:
        """Compile ``outs`` (graphs of value variables) as a function of a point
        (``{value name: value}``)."""
        single = isinstance(outs, Variable)
        out_list = [outs] if single else list(outs)
        if inputs is None:
            need = set(ancestors(out_list))
            inputs = [v for v in self.value_vars if v in need]
        fn = _function(list(inputs), out_list, mode=mode, on_unused_input="ignore",
                             no_default_updates=True)
        names = [v.name for v in inputs]
        if not point_fn:
            return fn

        def call(point: Mapping[str, Any] | None = None, **kw: Any) -> Any:
            p = dict(point or {}, **kw)
            try:
                args = [p[n] for n in names]
            except KeyError as e:
                raise GnomonValueError(with_hint(
                    f"the point has no value for {e.args[0]!r} (it has {sorted(p)})",
                    "pass a dict like model.initial_point()")) from None
            res = fn(*args)
            return res[0] if single else res

        call.f = fn  # type: ignore[attr-defined]
        return call

    def compile_logp(self, vars: Sequence[Variable] | None = None, jacobian: bool = True,
                     sum: bool = True, *, mode: Any = None) -> Callable[..., Any]:
        """The compiled log-density as a function of a point (``{value name: value}``).

        Examples
        --------
        >>> import gnomon.ppl as pm
        >>> with pm.Model() as m:
        ...     s = pm.HalfNormal("s", 1.0)
        >>> round(float(m.compile_logp(mode="numpy")({"s_log__": 0.0})), 6)
        -0.725791
        """
        return self.compile_fn(self.logp(vars, jacobian=jacobian, sum=sum), mode=mode)

    def compile_dlogp(self, vars: Sequence[Variable] | None = None, jacobian: bool = True, *,
                      mode: Any = None) -> Callable[..., Any]:
        """The compiled gradient of the log-density (flattened over ``vars``, default the
        continuous value variables) as a function of a point."""
        return self.compile_fn(self.dlogp(vars, jacobian=jacobian), mode=mode)

    def d2logp(self, vars: Sequence[Variable] | None = None, jacobian: bool = True,
               negate_output: bool = True) -> Variable:
        """The Hessian of :meth:`logp` with respect to ``vars`` (default: the continuous value
        variables), flattened and concatenated in that order: an ``(n, n)`` graph of the value
        variables. As in PyMC, ``negate_output=True`` (the default) returns the *negative*
        Hessian (the observed information).

        The shapes of the variables are those of :meth:`initial_point` (the second
        derivatives are built over one vector of that length: unrolled up to 256 coordinates,
        a loop beyond).

        Examples
        --------
        >>> import gnomon.ppl as pm
        >>> with pm.Model() as m:
        ...     x = pm.Normal("x", 0.0, 2.0, shape=2)
        >>> (m.compile_d2logp(mode="numpy")({"x": [0.3, -1.0]}) + 0.0).tolist()
        [[0.25, 0.0], [0.0, 0.25]]
        """
        from gnomon.gradient import jacobian as _jacobian

        wrt = list(vars) if vars is not None else self.continuous_value_vars
        wrt = [self.rvs_to_values.get(v, v) for v in wrt]
        for v in wrt:
            if v not in self.values_to_rvs or v.dtype[0] != "f":
                raise GnomonValueError(_at(with_hint(
                    f"d2logp: {v} is not a continuous value variable of the model",
                    "pass variables from model.continuous_value_vars (or their random "
                    "variables)")))
        start = self.initial_point()
        shapes = [tuple(np.shape(start[v.name])) for v in wrt]
        sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
        n = int(np.sum(sizes, dtype=np.int64))
        if n == 0:
            return gt.zeros((0, 0), dtype="float64")  # type: ignore[no-any-return]
        # second derivatives over one root vector q of static length n, then q is replaced by
        # the concatenated value variables (a graph of the model's values again)
        q = gt.tensor("q", dtype="float64", shape=(n,))
        sub: dict[Variable, Variable] = {}
        off = 0
        for v, shp, k in zip(wrt, shapes, sizes, strict=True):
            sub[v] = gt.reshape(gt.cast(q[off:off + k], v.dtype), shp)
            off += k
        lp = graph_replace([self.logp(jacobian=jacobian)], sub, strict=False)[0]
        g = _grad(gt.cast(lp, "float64"), q, disconnected_inputs="ignore")
        h = _jacobian(g, q, vectorize=n <= 256, disconnected_inputs="ignore")
        if negate_output:
            h = -h
        flat = gt.concatenate([gt.flatten(gt.cast(v, "float64")) for v in wrt])
        return graph_replace([h], {q: flat}, strict=False)[0]  # type: ignore[no-any-return]

    def compile_d2logp(self, vars: Sequence[Variable] | None = None, jacobian: bool = True,
                       negate_output: bool = True, *, mode: Any = None) -> Callable[..., Any]:
        """The compiled Hessian of the log-density (:meth:`d2logp`: by default the *negative*
        Hessian, as PyMC's) as a function of a point (``{value name: value}``).

        Examples
        --------
        >>> import gnomon.ppl as pm
        >>> with pm.Model() as m:
        ...     s = pm.HalfNormal("s", 1.0)
        >>> f = m.compile_d2logp(mode="numpy")   # logp(v) = -exp(2v)/2 + v + const
        >>> round(float(f({"s_log__": 0.0})[0, 0]), 6)
        2.0
        """
        return self.compile_fn(self.d2logp(vars, jacobian=jacobian,
                                           negate_output=negate_output), mode=mode)

    # --- initial point ------------------------------------------------------------------------

    def initial_point(self, random_seed: Any = None) -> dict[str, np.ndarray]:
        """``{value variable name: value}``: each free variable's user ``initval`` or its
        distribution's central value (mean, median or mode), in the unconstrained space.

        ``random_seed`` is accepted for PyMC compatibility (gnomon's initial points are
        deterministic; samplers add their own jitter).

        Examples
        --------
        >>> import gnomon.ppl as pm
        >>> with pm.Model() as m:
        ...     mu = pm.Normal("mu", 3.0, 1.0)
        ...     s = pm.Exponential("s", 1.0, initval=2.0)
        >>> {k: round(float(v), 4) for k, v in m.initial_point().items()}
        {'mu': 3.0, 's_log__': 0.6931}
        """
        return self._initial_point(None)

    def _initial_point(self, initvals: Mapping[Any, Any] | None) -> dict[str, np.ndarray]:
        from gnomon.ppl.distributions import support_point

        user: dict[Variable, Any] = dict(self.rvs_to_initial_values)
        for k, v in (initvals or {}).items():
            if v is None:
                continue
            rv = self[k] if isinstance(k, str) else k
            if rv in self.values_to_rvs:
                rv = self.values_to_rvs[rv]
            user[rv] = v
        repl: dict[Variable, Variable] = {rv: self.rvs_to_data[rv] for rv in self.observed_RVs}
        outs: list[Variable] = []
        for rv in self.free_RVs:
            t = self.rvs_to_transforms[rv]
            if rv in user:
                raw = _initval_graph(user[rv], rv)
            else:
                raw = support_point(rv)
            raw_u = t.forward(raw) if t is not None else raw
            g, gu = graph_replace([raw, raw_u], repl, strict=False)
            repl[rv] = g
            outs.append(gu)
        if not outs:
            return {}
        fn = _function([], outs, mode="numpy", no_default_updates=True)
        vals = fn()
        point: dict[str, np.ndarray] = {}
        for rv, val in zip(self.free_RVs, vals, strict=True):
            v = self.rvs_to_values[rv]
            point[v.name] = np.asarray(val, dtype=v.dtype)
        return point

    def point_logps(self, point: Mapping[str, Any] | None = None, round_vals: int = 2
                    ) -> dict[str, float]:
        """``{variable name: summed log-density term}`` at ``point`` (default: the initial
        point), rounded to ``round_vals`` digits; potentials included.

        Examples
        --------
        >>> import gnomon.ppl as pm
        >>> with pm.Model() as m:
        ...     x = pm.Normal("x", 0.0, 1.0)
        >>> m.point_logps()
        {'x': -0.92}
        """
        point = self.initial_point() if point is None else point
        terms = self.logp_terms(jacobian=True)
        keys = list(terms)
        f = self.compile_fn([gt.sum(terms[k]) for k in keys], mode="numpy")
        vals = f(point)
        return {k.name or "potential": round(float(v), round_vals)
                for k, v in zip(keys, vals, strict=True)}

    def debug(self, point: Mapping[str, Any] | None = None, fn: str = "logp",
              verbose: bool = False) -> None:
        """Print which variables have a log-density of ``-inf`` or ``nan`` at ``point``
        (default: the initial point), with their values and parameters, and why (a value
        outside the support, an invalid parameter). :meth:`debug_report` returns the text.

        Examples
        --------
        >>> import gnomon.ppl as pm
        >>> with pm.Model() as m:
        ...     s = pm.HalfNormal("s", 1.0)
        ...     y = pm.Normal("y", 0.0, s, observed=[1.0])
        >>> m.debug({"s_log__": -1e4})  # doctest: +ELLIPSIS
        The log-density of 'y' is -inf at this point.
          value: 1.0
          parameter loc: 0.0
          parameter scale: 0.0  <- invalid: normal: invalid parameter: scale > 0
        ...
        """
        print(self.debug_report(point))

    def debug_report(self, point: Mapping[str, Any] | None = None) -> str:
        """The text :meth:`debug` prints."""
        point = self.initial_point() if point is None else dict(point)
        return _debug_report(self, point, False)

    # --- the sampler's view -------------------------------------------------------------------

    def logp_dlogp_function(self, *, vars: Sequence[Variable] | None = None,
                            initvals: Mapping[Any, Any] | None = None, jacobian: bool = True,
                            mode: Any = "numba", point: Mapping[str, Any] | None = None,
                            discrete: bool = False, gradient: bool = True
                            ) -> LogpDlogpFunction:
        """The log-density and its gradient over one flat float64 vector (see
        :class:`LogpDlogpFunction`).

        Parameters
        ----------
        vars : list of value variables, optional
            The coordinates of the vector (default: every continuous value variable). Others
            (discrete variables) are held at their value in ``point``.
        initvals : dict, optional
            Initial values by name or variable (constrained space), as ``pm.sample``'s.
        jacobian : bool
            Include the log-Jacobians of the transforms (a sampler needs them; a MAP
            optimizer in PyMC's convention does not).
        mode : str or Mode
            ``'numba'`` (compiled, not tiered; ``.numba_fn`` is set when the program is
            nopython), ``'c'`` (compiled by the C compiler as one C function without Python,
            :mod:`gnomon.ppl.c_logp`; an error when an op has no C lowering), ``'auto'``
            (``'c'`` when possible, else ``'numba'``: what ``pm.sample`` uses), ``'numpy'``
            or ``'jax'``.
        point : dict, optional
            Values of the variables not in ``vars`` (default: the initial point).
        discrete : bool
            Allow discrete value variables in ``vars`` (compound samplers): they are stored in
            ``q`` as exact float64 integers and their gradient entries are 0.
        gradient : bool
            False: the second output is zeros (a log-density alone, compiled without the
            gradient graph, for Metropolis steps).

        Examples
        --------
        >>> import numpy as np, gnomon.ppl as pm
        >>> with pm.Model() as m:
        ...     x = pm.Normal("x", 1.0, 2.0, shape=2)
        >>> f = m.logp_dlogp_function(mode="numpy")
        >>> lp, g = f.logp_dlogp(np.zeros(f.n))
        >>> round(lp, 4), g.tolist()
        (-3.4742, [0.25, 0.25])
        """
        return LogpDlogpFunction(self, vars=vars, initvals=initvals, jacobian=jacobian,
                                 mode=mode, point=point, discrete=discrete, gradient=gradient)

    def copy(self) -> Model:
        """A shallow copy of the bookkeeping (the graphs are shared; they are immutable)."""
        new = object.__new__(Model)
        new.__dict__.update(self.__dict__)
        for k, v in self.__dict__.items():
            if isinstance(v, list | dict):
                new.__dict__[k] = type(v)(v)
        new.root = new if self.root is self else self.root
        new.parent = None
        return new


class LogpDlogpFunction:
    """The log-density and its gradient as a function of one flat float64 vector ``q``.

    ``q`` concatenates the flattened value variables ``value_names`` (shapes ``shapes``) in
    that order; inside the compiled graph it is split and reshaped.

    Attributes
    ----------
    n : int
        Length of ``q``.
    value_names : list of str
    shapes : list of tuple of int
    route : str
        How it was compiled: ``'c'``, ``'numba'``, or the mode's backend.
    kernel_fn : numba first-class function or None
        The log-density in the NUTS kernel's calling convention (routes ``'c'`` and
        ``'numba'``).
    numba_fn : numba dispatcher or None
        ``numba_fn(q) -> (logp, grad)``, callable from ``@njit`` code without Python in
        between (routes ``'c'`` and ``'numba'``, when the whole program compiled in nopython
        mode).
    fixed : dict
        Values of the model's free variables that are not coordinates (discrete ones).
    """

    def __init__(self, model: Model, *, vars: Sequence[Variable] | None, initvals: Any,
                 jacobian: bool, mode: Any, point: Mapping[str, Any] | None,
                 discrete: bool = False, gradient: bool = True) -> None:
        self.model = model
        start = model._initial_point(initvals)
        if point is not None:
            start.update({k: np.asarray(v) for k, v in point.items()})
        self._start = start
        wrt = list(vars) if vars is not None else model.continuous_value_vars
        wrt = [model.rvs_to_values.get(v, v) for v in wrt]
        for v in wrt:
            if v not in model.values_to_rvs:
                raise GnomonValueError(with_hint(
                    f"logp_dlogp_function: {v} is not a value variable of the model",
                    "pass variables from model.value_vars"))
            if v.dtype[0] != "f" and not discrete:
                raise GnomonTypeError(with_hint(
                    f"logp_dlogp_function: {v.name!r} is discrete; a gradient needs continuous "
                    "coordinates", "leave discrete variables out of vars, or pass "
                    "discrete=True (their gradient entries are then 0)"))
        self.value_vars = wrt
        self.value_names = [v.name for v in wrt]
        self.shapes = [tuple(np.shape(start[n])) for n in self.value_names]
        self.sizes = [int(np.prod(s, dtype=np.int64)) for s in self.shapes]
        self.offsets = list(np.cumsum([0, *self.sizes]))
        self.n = int(self.offsets[-1])
        self.fixed = {v.name: start[v.name] for v in model.value_vars if v not in wrt}
        self.jacobian = jacobian

        q = gt.dvector("q")
        lp = model.logp(jacobian=jacobian)
        cont = [v for v in wrt if v.dtype[0] == "f"] if gradient else []
        gs = dict(zip(cont, _grad(lp, cont, disconnected_inputs="ignore"), strict=True)
                  ) if cont else {}
        # discrete coordinates (discrete=True) and gradient=False: zeros
        pieces = [gt.flatten(gt.cast(gs[v], "float64")) if v in gs
                  else gt.zeros((size,), dtype="float64")
                  for v, size in zip(wrt, self.sizes, strict=True)]
        flat = gt.concatenate(pieces) if pieces else gt.zeros((0,), dtype="float64")
        repl: dict[Variable, Variable] = {}
        for v, shp, a, b in zip(wrt, self.shapes, self.offsets[:-1], self.offsets[1:],
                                strict=True):
            piece = q[int(a):int(b)]
            if v.dtype[0] != "f":  # a discrete value stored as an exact float64
                piece = gt.cast(piece, v.dtype)
            repl[v] = gt.reshape(piece, shp) if shp else gt.reshape(piece, ())
        for v in model.value_vars:
            if v not in wrt:
                repl[v] = gt.constant(np.asarray(start[v.name], dtype=v.dtype))
        lp_q, g_q = graph_replace([gt.cast(lp, "float64"), flat], repl, strict=False)
        self._c = _c_route(q, [lp_q, g_q], self.n, mode) if mode in ("auto", "c") else None
        self.route = "c" if self._c is not None else (
            "numba" if mode in ("auto", "numba") else str(getattr(mode, "backend", mode)))
        self.fn: Any
        if self._c is not None:
            self.fn = self._c
        else:
            m = Mode("numba", tiered="off") if self.route == "numba" else mode
            self.fn = _function([q], [lp_q, g_q], mode=m, on_unused_input="ignore",
                                no_default_updates=True)
        self._numba_mode = self.route == "numba"
        self._numba_fn: Any = UNSET
        self._kernel_fn: Any = UNSET
        self._point_fns: dict[Any, Any] = {}
        self._batch_fn: Any = None

    @property
    def kernel_fn(self) -> Any:
        """The log-density in the NUTS kernel's calling convention
        (:data:`gnomon.ppl.nuts.LOGP_SIG`: ``f(q_address, grad_address) -> logp``): the C
        library's function (route ``'c'``, which reads the values ``Data`` holds when this is
        read) or the Numba program bound on first use with the values of ``Data`` at that
        time (route ``'numba'``, when the program is nopython); ``None`` otherwise."""
        if self._c is not None:
            self._c.refresh()  # the current values of Data
        if self._kernel_fn is UNSET:
            if self._c is not None:
                self._kernel_fn = self._c.kernel
            else:
                self._kernel_fn = _numba_wrapper(self.fn, self.n) if self._numba_mode else None
        return self._kernel_fn

    @property
    def numba_fn(self) -> Any:
        """``f(q) -> (logp, grad)`` callable from ``@njit`` code (``None`` unless the route is
        ``'c'`` or ``'numba'`` with a nopython program); compiled on first use."""
        if self._numba_fn is UNSET:
            from gnomon.ppl.sampling import tuple_logp

            k = self.kernel_fn
            self._numba_fn = None if k is None else tuple_logp(k, self.n)
        return self._numba_fn

    def __call__(self, q: np.ndarray) -> tuple[float, np.ndarray]:
        return self.logp_dlogp(q)

    def logp_dlogp(self, q: np.ndarray) -> tuple[float, np.ndarray]:
        """``(logp, gradient)`` at the flat vector ``q``."""
        lp, g = self.fn(np.asarray(q, dtype="float64"))
        return float(lp), g

    def initial_q(self) -> np.ndarray:
        """The model's initial point (with ``initvals``) as a flat vector."""
        return self.flatten(self._start)

    def flatten(self, point: Mapping[str, Any]) -> np.ndarray:
        """A point (``{value name: value}``) as a flat vector."""
        if not self.value_names:
            return np.zeros(0)
        return np.concatenate([np.asarray(point[n], dtype="float64").ravel()
                               for n in self.value_names])

    def unflatten_values(self, q: np.ndarray) -> dict[str, np.ndarray]:
        """``{value name: array}``: ``q`` split into the (unconstrained) value variables."""
        q = np.asarray(q, dtype="float64")
        return {n: q[a:b].reshape(s) for n, s, a, b in
                zip(self.value_names, self.shapes, self.offsets[:-1], self.offsets[1:],
                    strict=True)}

    def _output_graphs(self) -> tuple[list[str], list[Variable]]:
        """Names and graphs (of the value variables) of the free variables' constrained values
        and the deterministics."""
        m = self.model
        repl, _ = m._constrained()
        names: list[str] = []
        graphs: list[Variable] = []
        for rv in m.free_RVs:
            names.append(rv.name)
            graphs.append(repl[rv])
        for d in m.deterministics:
            names.append(d.name)
            graphs.append(d)
        return names, graph_replace(graphs, repl, strict=False)

    def _fixed_values(self) -> dict[Variable, Variable]:
        return {v: gt.constant(np.asarray(self.fixed[v.name], dtype=v.dtype))
                for v in self.model.value_vars if v not in self.value_vars}

    def _point_outputs(self, which: Sequence[int] | None = None) -> Any:
        """``(names, fn)``: ``fn(q)`` computes the outputs of :meth:`_output_graphs` (those
        at positions ``which``) at one flat vector."""
        key = None if which is None else tuple(which)
        if key not in self._point_fns:
            names, graphs = self._output_graphs()
            if which is not None:
                names = [names[i] for i in which]
                graphs = [graphs[i] for i in which]
            q = gt.dvector("q")
            sub: dict[Variable, Variable] = self._fixed_values()
            for v, shp, a, b in zip(self.value_vars, self.shapes, self.offsets[:-1],
                                    self.offsets[1:], strict=True):
                piece = q[int(a):int(b)]
                if v.dtype[0] != "f":  # (discrete=True: exact float64 integers)
                    piece = gt.cast(piece, v.dtype)
                sub[v] = gt.reshape(piece, shp)
            graphs = graph_replace(graphs, sub, strict=False)
            fn = _function([q], graphs, mode="numpy", on_unused_input="ignore",
                           no_default_updates=True)
            self._point_fns[key] = (names, fn)
        return self._point_fns[key]

    def _batch_outputs(self) -> Any:
        """The outputs of :meth:`_output_graphs` for a matrix of draws ``Q`` (one row per
        draw) in one call, as far as :func:`gnomon.control.vectorize.batch_graph` can batch
        them: ``(names, fn, batched, rest)`` where ``fn(Q)`` returns the batchable outputs
        (``batched[k]``: whether output ``k`` has the batch axis) and ``rest`` lists the
        positions of the others (computed draw by draw)."""
        if self._batch_fn is None:
            from gnomon.control.vectorize import batch_graph

            names, graphs = self._output_graphs()
            Q = gt.dmatrix("Q")
            n_draws = Q.shape[0]
            sub: dict[Variable, Variable] = {}
            for v, shp, a, b in zip(self.value_vars, self.shapes, self.offsets[:-1],
                                    self.offsets[1:], strict=True):
                piece = Q[:, int(a):int(b)]
                if v.dtype[0] != "f":
                    piece = gt.cast(piece, v.dtype)
                sub[v] = gt.reshape(piece, (n_draws, *shp))
            graphs = graph_replace(graphs, self._fixed_values(), strict=False)
            # an output with an op that has no batching rule is computed draw by draw
            vec = batch_graph(graphs, sub, no_rule="report")
            done = [i for i, r in enumerate(vec) if r is not None]
            rest = [i for i, r in enumerate(vec) if r is None]
            outs = [vec[i][0] for i in done]  # type: ignore[index]
            fn = _function([Q], outs, mode="numpy", on_unused_input="ignore",
                           no_default_updates=True) if outs else None
            self._batch_fn = (names, fn, [(i, vec[i][1]) for i in done],  # type: ignore[index]
                              rest)
        return self._batch_fn

    def unflatten(self, q: np.ndarray, *, deterministics: bool = True
                  ) -> dict[str, np.ndarray]:
        """``{variable name: constrained value}`` at ``q`` (free variables, and the
        deterministics unless ``deterministics=False``)."""
        names, fn = self._point_outputs()
        vals = fn(np.asarray(q, dtype="float64"))
        out = {n: np.asarray(v) for n, v in zip(names, vals, strict=True)}
        if not deterministics:
            out = {k: out[k] for k in names if k in {rv.name for rv in self.model.free_RVs}}
        return out

    def unflatten_many(self, qs: np.ndarray, *, deterministics: bool = True
                       ) -> dict[str, np.ndarray]:
        """:meth:`unflatten` of each row of ``qs`` (shape ``(..., n)``), stacked: arrays of
        shape ``qs.shape[:-1] + variable shape``.

        The draws go through one batched function (:mod:`gnomon.control.vectorize`); only outputs
        whose graphs have an op without a batching rule are computed row by row."""
        qs = np.asarray(qs, dtype="float64")
        lead = qs.shape[:-1]
        count = int(np.prod(lead, dtype=np.int64))
        rows = np.ascontiguousarray(qs.reshape(count, self.n))
        if count == 0:
            return {}
        names, fn, done, rest = self._batch_outputs()
        out: dict[str, np.ndarray] = {}
        if fn is not None:
            for (i, has_batch), val in zip(done, fn(rows), strict=True):
                a = np.asarray(val)
                if not has_batch:  # the same for every draw
                    a = np.broadcast_to(a, (count, *a.shape)).copy()
                out[names[i]] = a
        if rest:
            rnames, rfn = self._point_outputs(rest)
            per_row = [rfn(r) for r in rows]
            for k, name in enumerate(rnames):
                out[name] = np.stack([np.asarray(v[k]) for v in per_row])
        free = {rv.name for rv in self.model.free_RVs}
        return {k: out[k].reshape(lead + out[k].shape[1:]) for k in names
                if deterministics or k in free}


def _c_route(q: Variable, outputs: list[Variable], n: int, mode: str) -> Any:
    """The log-density compiled by the C compiler (:mod:`gnomon.ppl.c_logp`), or None for
    ``mode="auto"`` when it cannot be (no compiler, an op without a C lowering)."""
    from gnomon.errors import BackendUnavailableError, NotLoweredError
    from gnomon.ppl.c_logp import build_c_logp

    try:
        return build_c_logp(q, outputs, n)
    except (NotLoweredError, BackendUnavailableError, GnomonValueError) as e:
        if mode == "auto":
            return None
        raise GnomonValueError(with_hint(
            f"mode='c': the log-density cannot be compiled as C without Python: {e}",
            "use mode='numba' (or 'auto', which falls back to Numba)")) from None


def _numba_wrapper(fn: Any, n: int) -> Any:
    """``f(q_address, grad_address) -> logp``, an ``@njit`` function of the NUTS kernel's
    calling convention (:data:`gnomon.ppl.nuts.LOGP_SIG`) that calls the compiled program of
    ``fn`` through its entry address
    (:func:`gnomon.ppl.sampling.bind_numba_program`) with the current values of the shared
    inputs (``Data``) and the program's constants frozen in; ``None`` when the program is not
    one nopython function. (A plain ``@njit`` wrapper calling the program would make Numba
    optimise and generate code for the whole linked program again: 2-3 s per model.)"""
    from gnomon.ppl.sampling import bind_numba_program

    state = getattr(fn.compiled, "state", None)
    final = getattr(state, "final", None)  # a tiered program's final tier
    if final is not None:
        state = final.state
    prog = getattr(state, "program", None) if getattr(state, "nopython", False) else None
    if prog is None and getattr(state, "compile_whole", None) is not None:
        # Too large to be one nopython function by default (the Numba linker's
        # MAX_WHOLE_NODES): the sampler needs one, so compile it now, once.
        prog = state.compile_whole()  # type: ignore[union-attr]
    if prog is None:
        return None
    extra = [s.get_value(borrow=True) for s in fn.program.inputs[1:]]
    if any(not isinstance(e, np.ndarray | np.generic) for e in extra):
        return None  # a non-array shared input (a generator) cannot be frozen into the code
    return bind_numba_program(prog, [*extra, *getattr(state, "constants", ())], n)


# --- Data, Deterministic, Potential -------------------------------------------------------------


def Data(name: str, value: Any, *, dims: Any = None, coords: Any = None,
         mutable: bool | None = None, model: Model | None = None, **kwargs: Any) -> Any:
    """A named shared variable holding data; change it with :func:`set_data`.

    Parameters
    ----------
    name : str
    value : array_like
    dims : str or tuple of str, optional
        Dimension names; a name not yet in the coords is added with the data's length (and no
        labels), and follows the data's length when :func:`set_data` changes it.

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     x = pm.Data("x", np.array([1.0, 2.0]))
    ...     pm.set_data({"x": np.array([3.0, 4.0, 5.0])})
    >>> x.get_value().tolist()
    [3.0, 4.0, 5.0]
    """
    m = modelcontext(model)
    full = m._check_name(name, "Data")
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise GnomonTypeError(_at(with_hint(
            f"Data {full!r}: the value must be numeric, got dtype {arr.dtype}",
            "pass a NumPy array of numbers")))
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        pass  # NaNs in covariates are the user's business; in observed data they are checked
    shared = _shared(arr, name=full)
    dims_t = _as_dims(dims)
    if dims_t:
        if len(dims_t) != arr.ndim:
            raise ShapeError(_at(with_hint(
                f"Data {full!r}: {len(dims_t)} dims {dims_t} for data of shape {arr.shape}",
                "give one dim name per dimension")))
        for i, d in enumerate(dims_t):
            if d is None:
                continue
            if d not in m.dim_lengths:
                m.root._coords[d] = None
                m.root._dim_lengths[d] = shared.shape[i]
            else:
                n = m.coords.get(d)
                if n is not None and len(n) != arr.shape[i]:
                    raise ShapeError(_at(with_hint(
                        f"Data {full!r}: dimension {i} has length {arr.shape[i]} but the "
                        f"coords of {d!r} have {len(n)}", "make the data match its dims")))
    for mm in m._chain():
        mm.data_vars.append(shared)
    m._add_named(full, shared, dims_t)
    return shared


def set_data(new_data: Mapping[str, Any], model: Model | None = None, *,
             coords: Mapping[str, Any] | None = None) -> None:
    """Replace the values of ``Data`` variables (``{name: new value}``), e.g. for
    out-of-sample prediction; dims that follow the data change length with it.

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     x = pm.Data("x", np.zeros(2))
    >>> pm.set_data({"x": np.ones(4)}, model=m)
    >>> x.get_value().shape
    (4,)
    """
    m = modelcontext(model)
    for name, value in new_data.items():
        if name not in m:
            raise GnomonValueError(_at(with_hint(
                f"set_data: the model has no variable named {name!r}",
                "pass the names of pm.Data variables")))
        var = m[name]
        if not isinstance(var, SharedVariable):
            raise GnomonTypeError(_at(with_hint(
                f"set_data: {name!r} is not a Data variable (it is {_kind(m, var)})",
                f"create it with pm.Data({name!r}, value)")))
        arr = np.asarray(value)
        old = var.get_value(borrow=True)
        if arr.ndim != np.ndim(old):
            raise ShapeError(_at(with_hint(
                f"set_data: {name!r} has {np.ndim(old)} dimension(s), the new value has "
                f"{arr.ndim}", "keep the number of dimensions")))
        if arr.dtype != old.dtype:
            if arr.dtype.kind == "f" and old.dtype.kind in "iu" and not np.all(
                    arr == np.round(arr)):
                raise GnomonTypeError(_at(with_hint(
                    f"set_data: {name!r} holds integers, the new value has fractions",
                    "pass integers")))
            arr = arr.astype(old.dtype)
        var.set_value(arr)
    for k, v in (coords or {}).items():
        vals = tuple(np.asarray(v).tolist())
        length = m.dim_lengths.get(k)
        if isinstance(length, SharedVariable):
            length.set_value(np.int64(len(vals)))
        m.root._coords[k] = vals
    # a dim of a Data variable whose length changed without new coords follows the data
    for name in new_data:
        var = m[name]
        for i, d in enumerate(m.named_vars_to_dims.get(var.name or "", ()) or ()):
            length = m.dim_lengths.get(d) if d is not None else None
            n = int(np.shape(var.get_value(borrow=True))[i])
            if (isinstance(length, SharedVariable) and d not in (coords or {})
                    and int(length.get_value()) != n):
                length.set_value(np.int64(n))
                m.root._coords[d] = None  # the old labels no longer fit


def Deterministic(name: str, var: Any, model: Model | None = None, dims: Any = None) -> Any:
    """Name a quantity computed from other variables, so that it is recorded in traces and
    predictive draws.

    Examples
    --------
    >>> import gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0.0, 1.0)
    ...     y = pm.Deterministic("y", 2 * x)
    >>> m.deterministics[0].name
    'y'
    """
    m = modelcontext(model)
    full = m._check_name(name, "Deterministic")
    var = gt.as_tensor(var)
    if var.owner is None and not isinstance(var, Constant | SharedVariable):
        var = gt.identity(var) if hasattr(gt, "identity") else var + 0
    if any(var is d for d in m.root.deterministics) or var in m.root.rvs_to_values:
        var = _fresh_copy(var)
    var.name = full
    for mm in m._chain():
        mm.deterministics.append(var)
    m._add_named(full, var, _as_dims(dims))
    return var


def Potential(name: str, var: Any, model: Model | None = None, dims: Any = None) -> Any:
    """Add ``var`` (summed) to the model's log-density, e.g. a soft constraint.

    Examples
    --------
    >>> import gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0.0, 1.0)
    ...     pen = pm.Potential("pen", -x ** 2)
    >>> round(float(m.compile_logp(mode="numpy")({"x": 1.0})), 4)
    -2.4189
    """
    m = modelcontext(model)
    full = m._check_name(name, "Potential")
    var = gt.as_tensor(var)
    if var.dtype[0] != "f":
        var = gt.cast(var, "float64")
    if any(var is p for p in m.root.potentials) or var in m.root.rvs_to_values:
        var = _fresh_copy(var)
    var.name = full
    for mm in m._chain():
        mm.potentials.append(var)
    m._add_named(full, var, _as_dims(dims))
    return var


def _fresh_copy(var: Variable) -> Variable:
    # graphs are hash-consed: the same expression registered twice is one node; a copy with
    # its own identity keeps the two names apart
    return var * gt.constant(np.ones((), dtype=var.dtype))


# --- helpers -------------------------------------------------------------------------------------


# transforms chosen by the distribution classes, keyed by the variable (read at registration)
_TRANSFORMS: weakref.WeakKeyDictionary[Variable, Transform | None] = weakref.WeakKeyDictionary()


def _as_dims(dims: Any) -> tuple[str | None, ...] | None:
    if dims is None:
        return None
    if isinstance(dims, str):
        return (dims,)
    return tuple(dims)


def _static(v: Variable) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in v.type.shape) + (
        ",)" if v.ndim == 1 else ")")


def _check_nans(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        n = int(np.isnan(arr).sum())
        raise GnomonValueError(_at(with_hint(
            f"the observed data of {name!r} has {n} missing value(s) (NaN); gnomon.ppl "
            "imputes missing observations only for a scalar distribution, or whole rows of a "
            "vector one (MvNormal, Dirichlet, Multinomial), observed with a NumPy array of "
            "known shape (not a derived distribution, nor Data), not this one",
            "drop the missing entries (y[~np.isnan(y)], with the matching rows of the "
            "covariates), or model them as a separate free variable")))


def _current_shape(v: Variable) -> tuple[int, ...] | None:
    """The shape ``v`` has now (shared lengths at their current values), without drawing."""
    try:
        fn = _function([], v.shape, mode="numpy", no_default_updates=True,
                       on_unused_input="ignore")
        return tuple(int(x) for x in fn())
    except Exception:  # a shape that needs inputs: checked when the model runs
        return None


def _minibatch_scale(total_size: Any, term: Variable) -> Variable:
    """PyMC's ``total_size``: the factor that scales the density of a minibatch up to the
    whole data set (``total_size`` rows of which ``term.shape[0]`` are observed; a tuple
    scales dimension by dimension, ``None`` entries are not scaled)."""
    sizes = total_size if isinstance(total_size, tuple | list) else (total_size,)
    if len(sizes) > max(term.ndim, 1):
        raise GnomonValueError(with_hint(
            f"total_size={total_size!r} has more entries than the variable has dimensions "
            f"({term.ndim})", "give one total size per leading dimension"))
    factor: Any = gt.constant(np.float64(1.0))
    for i, n in enumerate(sizes):
        if n is None:
            continue
        if term.ndim == 0:
            factor = factor * float(n)
        else:
            factor = factor * (float(n) / gt.cast(term.shape[i], "float64"))
    return factor  # type: ignore[no-any-return]


def _transform_name(t: Transform) -> str:
    """PyMC's name of a transform in value-variable names (``sigma_log__``, ``x_interval__``:
    PyMC names every bounded transform ``interval``, one bound or two)."""
    from gnomon.logprob.transforms import Interval

    if isinstance(t, Interval):
        lo, hi = t.lower, t.upper  # type: ignore[attr-defined]
        if hi is None and isinstance(lo, Constant) and np.all(lo.data == 0):
            return "log"
    return getattr(t, "name", "transform")


def _initval_graph(value: Any, rv: Variable) -> Variable:
    if isinstance(value, Variable):
        v = value
    else:
        v = gt.constant(np.asarray(value, dtype=rv.dtype))
    if v.dtype != rv.dtype:
        v = gt.cast(v, rv.dtype)
    if v.ndim < rv.ndim or any(a is None or a == 1 for a in v.type.shape):
        v = gt.broadcast_to(v, rv.shape)
    return v


def _dist_name(rv: Variable) -> str:
    node = rv.owner
    if node is None:
        return "?"
    return getattr(node.op, "name", type(node.op).__name__)


def _kind(model: Model, var: Variable) -> str:
    if var in model.free_RVs:
        return "a free random variable"
    if var in model.observed_RVs:
        return "an observed random variable"
    if any(var is d for d in model.deterministics):
        return "a Deterministic"
    if any(var is p for p in model.potentials):
        return "a Potential"
    if isinstance(var, SharedVariable):
        return "a Data variable"
    return "a variable"


def _debug_report(model: Model, point: dict[str, Any], verbose: bool) -> str:
    """Evaluate each term at ``point`` (invalid parameters give ``-inf`` here) and explain the
    ones that are not finite: the value, the parameters, and the failed condition."""
    saved = model.check_bounds
    model.check_bounds = False
    try:
        terms = model.logp_terms(jacobian=True)
    finally:
        model.check_bounds = saved
    keys = list(terms)
    vals = model.compile_fn([terms[k] for k in keys], mode="numpy")(point)
    repl, _ = model._constrained()
    lines: list[str] = []
    for k, val in zip(keys, vals, strict=True):
        a = np.asarray(val)
        bad = ~np.isfinite(a)
        if not bad.any():
            continue
        name = k.name or "potential"
        what = "nan" if np.isnan(a).any() else "-inf"
        lines.append(f"The log-density of {name!r} is {what} at this point"
                     + (f" ({int(bad.sum())} of {a.size} entries)" if a.size > 1 else "") + ".")
        if any(k is p for p in model.potentials):
            lines.append("  It is a Potential: its expression is not finite here.")
            lines.append("Hint: check the expression of the Potential at this point")
            continue
        node = k.owner
        is_rv = node is not None and hasattr(node.op, "param_names") and hasattr(node.op, "name")
        params = list(node.inputs[2:]) if is_rv else []  # type: ignore[union-attr]
        pnames = list(node.op.param_names) if is_rv else []  # type: ignore[union-attr]
        shown = model.compile_fn([repl[k], *graph_replace(params, repl, strict=False)],
                                 mode="numpy")(point)
        failed = _failed_condition(model, k, point)
        lines.append(f"  value: {_short(shown[0])}")
        for pn, pv in zip(pnames, shown[1:], strict=False):
            note = ""
            if failed and re.search(rf"\b{pn}\b", failed):
                note = f"  <- invalid: {failed}"
            lines.append(f"  parameter {pn}: {_short(pv)}{note}")
        if failed:
            lines.append(f"  A parameter is invalid ({failed}).")
            lines.append("Hint: check the priors of the parameters that feed it (a scale that "
                         "underflows to 0, a probability outside [0, 1]); pass initvals= to "
                         "start from a valid point")
        elif k in model.observed_RVs:
            lines.append("  The observed data is outside the distribution's support (a "
                         "negative count, a value outside the bounds) for these parameters.")
            lines.append("Hint: check the data, and whether the distribution fits it")
        else:
            lines.append("  The value is outside the distribution's support.")
            lines.append("Hint: pass initvals= with a value inside the support")
    if not lines:
        return "No problems found: every log-density term is finite at this point."
    return "\n".join(lines)


def _failed_condition(model: Model, rv: Variable, point: dict[str, Any]) -> str:
    """The parameter condition that fails for ``rv`` at ``point`` ("" when none does)."""
    try:
        term = model.logp_terms([rv], jacobian=False)[rv]
        model.compile_fn(term, mode="numpy")(point)
    except GnomonValueError as e:
        first = str(e).splitlines()[0]
        return first.split("check_parameters: ", 1)[-1]
    except Exception:
        return ""
    return ""


def _short(v: Any) -> str:
    a = np.asarray(v)
    return repr(a.item()) if a.size == 1 else np.array2string(a, threshold=8, separator=", ")


def _warn(msg: str) -> None:
    warnings.warn(msg, UserWarning, stacklevel=3)
