"""``do`` and ``observe``: new models from an old one, by rewriting its graphs (the old model
is left untouched).

* ``do(model, {x: value})`` replaces the random variable ``x`` by ``value`` everywhere (an
  intervention: ``x`` no longer depends on its parents and its density leaves the model); ``x``
  stays available under its name as a ``Deterministic``.
* ``observe(model, {x: data})`` turns the free variable ``x`` into an observed one (its density
  is now the likelihood of ``data``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import gnomon.tensor as gt
from gnomon.errors import GnomonTypeError, GnomonValueError, with_hint
from gnomon.graph.basic import Variable
from gnomon.graph.replace import graph_replace
from gnomon.logprob.transforms import Interval, default_transform
from gnomon.ppl.model import Model, _at

__all__ = ["do", "observe"]


def _resolve(model: Model, key: Any, what: str) -> Variable:
    if isinstance(key, str):
        if key not in model:
            raise GnomonValueError(_at(with_hint(
                f"{what}: the model has no variable named {key!r}",
                f"choose from {sorted(model.named_vars)}")))
        return model[key]
    if isinstance(key, Variable):
        if key in model.values_to_rvs:
            return model.values_to_rvs[key]
        if any(key is v for v in model.named_vars.values()):
            return key
    raise GnomonValueError(_at(with_hint(
        f"{what}: {key!r} is not a variable of the model",
        "pass a name or a variable of this model")))


def _empty_like(model: Model) -> Model:
    new = object.__new__(Model)
    Model.__init__(new, check_bounds=model.check_bounds, model=None)
    new.parent, new.root, new.name, new.prefix = None, new, model.name, ""
    new._coords = dict(model.coords)
    new._dim_lengths = dict(model.dim_lengths)
    new.data_vars = list(model.data_vars)
    new.named_vars_to_dims = dict(model.named_vars_to_dims)
    for d in model.data_vars:
        new.named_vars[d.name] = d
    return new


def _rebuild(model: Model, repl: Mapping[Variable, Variable], *,
             removed: Mapping[Variable, Variable] | None = None,
             observed: Mapping[Variable, Any] | None = None) -> Model:
    """A new model whose graphs are ``model``'s with ``repl`` substituted; ``removed`` free
    variables become deterministics (their replacement), ``observed`` ones observed."""
    from gnomon.ppl.distributions import _SUPPORT_POINTS, support_point

    removed = dict(removed or {})
    observed = dict(observed or {})
    m = model
    free, obs = list(m.free_RVs), list(m.observed_RVs)
    dets, pots = list(m.deterministics), list(m.potentials)
    sps = [support_point(rv) for rv in free]
    datas = [m.rvs_to_data[rv] for rv in obs]
    everything = [*free, *obs, *dets, *pots, *sps, *datas]
    rebuilt = graph_replace(everything, dict(repl), strict=False) if repl else everything
    new_of = {id(a): b for a, b in zip(everything, rebuilt, strict=True)}
    sp_of = {id(rv): new_of[id(sp)] for rv, sp in zip(free, sps, strict=True)}
    nm = _empty_like(m)
    for rv in free:
        name = rv.name or ""
        if rv in removed:
            continue
        new_rv = new_of[id(rv)]
        new_rv.name = name
        _SUPPORT_POINTS.setdefault(new_rv, sp_of[id(rv)])
        if rv in observed:
            data = nm._observed_data(new_rv, name, observed[rv])
            nm.observed_RVs.append(new_rv)
            nm.rvs_to_data[new_rv] = data
            nm.rvs_to_values[new_rv] = data
            nm.rvs_to_transforms[new_rv] = None
        else:
            t = m.rvs_to_transforms[rv]
            if isinstance(t, Interval) and new_rv is not rv:
                t = default_transform(new_rv)  # its bounds may be graphs of other variables
            value = m.rvs_to_values[rv]
            nm.free_RVs.append(new_rv)
            nm.rvs_to_values[new_rv] = value
            nm.values_to_rvs[value] = new_rv
            nm.rvs_to_transforms[new_rv] = t
            if rv in m.rvs_to_initial_values:
                nm.rvs_to_initial_values[new_rv] = m.rvs_to_initial_values[rv]
        nm.named_vars[name] = new_rv
    for rv, data in zip(obs, datas, strict=True):
        new_rv = new_of[id(rv)]
        new_rv.name = rv.name
        nm.observed_RVs.append(new_rv)
        nm.rvs_to_data[new_rv] = new_of[id(data)]
        nm.rvs_to_values[new_rv] = new_of[id(data)]
        nm.rvs_to_transforms[new_rv] = None
        nm.named_vars[rv.name or ""] = new_rv
    for rv, value in removed.items():
        d = _named_copy(value, rv.name or "")
        nm.deterministics.append(d)
        nm.named_vars[rv.name or ""] = d
    for d in dets:
        nd = new_of[id(d)]
        if nd is not d:
            nd = _named_copy(nd, d.name or "")
        nm.deterministics.append(nd)
        nm.named_vars[d.name or ""] = nd
    for p in pots:
        np_ = new_of[id(p)]
        if np_ is not p:
            np_ = _named_copy(np_, p.name or "")
        nm.potentials.append(np_)
        nm.named_vars[p.name or ""] = np_
    return nm


def _named_copy(v: Variable, name: str) -> Variable:
    out = v * gt.constant(np.ones((), dtype=v.dtype)) if v.owner is None else v
    out.name = name
    return out


def do(model: Model, vars_to_interventions: Mapping[Any, Any], *, prune_vars: bool = False
       ) -> Model:
    """A new model in which each variable of ``vars_to_interventions`` is set to the given
    value (a number, an array, a ``Data`` variable or an expression of other variables).

    Each intervened variable becomes a ``Deterministic`` of its value: its parents no longer
    influence it and its density leaves the model. The original model is not changed.

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0.0, 1.0)
    ...     y = pm.Normal("y", 2 * x, 1.0)
    >>> m_do = pm.do(m, {"x": 3.0})
    >>> draws = pm.draw(m_do["y"], draws=2000, random_seed=1)
    >>> round(float(draws.mean()), 1), [rv.name for rv in m_do.free_RVs]
    (6.0, ['y'])
    """
    repl: dict[Variable, Variable] = {}
    removed: dict[Variable, Variable] = {}
    for key, value in vars_to_interventions.items():
        rv = _resolve(model, key, "do")
        if rv in model.observed_RVs:
            raise GnomonValueError(_at(with_hint(
                f"do: {rv.name!r} is observed; an intervention replaces a free variable or a "
                "deterministic", "intervene on its parents, or build the model without the "
                "observation")))
        if isinstance(value, Variable):
            v = value
        else:
            arr = np.asarray(value)
            if arr.dtype.kind not in "biuf":
                raise GnomonTypeError(_at(with_hint(
                    f"do: the value for {rv.name!r} must be numeric, got {value!r}",
                    "pass a number, an array or a tensor")))
            static = rv.type.shape
            if arr.ndim < rv.ndim and None not in static:
                arr = np.broadcast_to(arr, static)
            v = gt.constant(arr.astype(rv.dtype))
        if v.dtype != rv.dtype:
            v = gt.cast(v, rv.dtype)
        if v.ndim != rv.ndim:
            raise GnomonValueError(_at(with_hint(
                f"do: the value for {rv.name!r} has {v.ndim} dimension(s), the variable "
                f"{rv.ndim}", "pass a value of the variable's shape")))
        repl[rv] = v
        if rv in model.free_RVs:
            removed[rv] = v
    new = _rebuild(model, repl, removed=removed)
    dets = {id(d) for d in model.deterministics if d in repl}
    if dets:
        new.deterministics = [d for d in new.deterministics if id(d) not in dets]
    if prune_vars:
        new = _prune(new)
    return new


def _prune(model: Model) -> Model:
    """Drop free variables that nothing observed, deterministic or potential depends on."""
    from gnomon.graph.traversal import ancestors

    keep_roots = [*model.observed_RVs, *model.deterministics, *model.potentials]
    needed = set(ancestors(keep_roots)) if keep_roots else set()
    for rv in list(model.free_RVs):
        if rv not in needed:
            model.free_RVs.remove(rv)
            v = model.rvs_to_values.pop(rv)
            model.values_to_rvs.pop(v, None)
            model.named_vars.pop(rv.name or "", None)
    return model


def observe(model: Model, vars_to_observations: Mapping[Any, Any]) -> Model:
    """A new model in which the free variables of ``vars_to_observations`` are observed with
    the given data (the original model is not changed).

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0.0, 1.0)
    ...     y = pm.Normal("y", x, 1.0)
    >>> m_obs = pm.observe(m, {"y": 2.0})
    >>> [rv.name for rv in m_obs.free_RVs], [rv.name for rv in m_obs.observed_RVs]
    (['x'], ['y'])
    >>> round(float(pm.find_MAP(model=m_obs)["x"]), 4)
    1.0
    """
    observed: dict[Variable, Any] = {}
    for key, data in vars_to_observations.items():
        rv = _resolve(model, key, "observe")
        if rv not in model.free_RVs:
            raise GnomonValueError(_at(with_hint(
                f"observe: {rv.name!r} is not a free random variable of the model",
                "observe free variables (model.free_RVs)")))
        observed[rv] = data
    return _rebuild(model, {}, observed=observed)
