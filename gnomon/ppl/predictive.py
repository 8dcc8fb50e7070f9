"""Forward sampling: ``draw``, ``sample_prior_predictive``, ``sample_posterior_predictive``.

Draws are the model's own graphs of :mod:`gnomon.random` variables, compiled once and called
once per draw. With ``random_seed`` the draws come from new generators seeded from it (the
model's generators are untouched), so results are reproducible.

Results are ArviZ ``InferenceData`` when ArviZ is installed and ``return_inferencedata=True``
(the default), else a dict ``{name: array}`` with leading ``(chain, draw)`` axes (ArviZ is an
optional dependency).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gnomon.compile.function import function
from gnomon.errors import GnomonValueError, with_hint
from gnomon.graph.basic import Variable
from gnomon.graph.replace import graph_replace
from gnomon.graph.traversal import graph_inputs, toposort
from gnomon.ppl.model import Model, _at, modelcontext
from gnomon.random.draw import _next_rng
from gnomon.random.draw import draw as _draw
from gnomon.random.type import RandomGeneratorSharedVariable, shared_rng

__all__ = ["draw", "sample_posterior_predictive", "sample_prior_predictive"]


def draw(vars: Any, draws: int = 1, random_seed: Any = None, *, mode: Any = "numpy",
         **kwargs: Any) -> Any:
    """Draw samples of one variable or a list of variables (``pm.draw``).

    With ``draws=1`` the result has no leading axis; otherwise draws are stacked on a new first
    axis. ``mode`` is the backend (the NumPy reference by default: no compile time).

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> x = pm.Normal.dist(mu=0.0, sigma=1.0, shape=(2,))
    >>> pm.draw(x, draws=3, random_seed=1).shape
    (3, 2)
    """
    return _draw(vars, draws=draws, random_seed=random_seed, mode=mode, **kwargs)


def _seeded(outs: list[Variable], random_seed: Any
            ) -> tuple[list[Variable], list[tuple[Variable, Variable]]]:
    """``outs`` with their shared generators replaced by new ones seeded from ``random_seed``
    (or kept, when ``None``), and the updates that advance them between calls."""
    rngs = [v for v in graph_inputs(outs) if isinstance(v, RandomGeneratorSharedVariable)]
    nodes = toposort(outs)
    nxt = {id(r): _advance(r, nodes) for r in rngs}
    updates = {r: nxt[id(r)] for r in rngs if nxt[id(r)] is not None}
    if random_seed is None:
        return outs, list(updates.items())
    ss = (random_seed if isinstance(random_seed, np.random.SeedSequence)
          else np.random.SeedSequence(random_seed))
    fresh = {r: shared_rng(np.random.Generator(np.random.PCG64(s)), name=r.name, borrow=True)
             for r, s in zip(rngs, ss.spawn(len(rngs)), strict=True)}
    keys = list(updates)
    new = graph_replace([*outs, *updates.values()], dict(fresh), strict=False)
    return new[: len(outs)], [(fresh[r], u) for r, u in zip(keys, new[len(outs):], strict=True)]


def _advance(rng: RandomGeneratorSharedVariable, nodes: list[Any]) -> Variable | None:
    """The generator's state after a call: the ``next_rng`` of its one reader in this graph (a
    rebuilt graph, e.g. after ``do``, may no longer contain the node of its default update),
    else its default update."""
    from gnomon.random.op import RandomVariable

    readers = [n for n in nodes if any(i is rng for i in n.inputs)]
    if len(readers) == 1 and isinstance(readers[0].op, RandomVariable):
        return readers[0].outputs[0]  # type: ignore[no-any-return]
    return _next_rng(rng, nodes)


def _names(model: Model, var_names: Sequence[str] | None, default: list[Variable]
           ) -> list[Variable]:
    if var_names is None:
        return default
    out = []
    for n in var_names:
        if n not in model:
            raise GnomonValueError(_at(with_hint(
                f"var_names: the model has no variable named {n!r}",
                f"choose from {sorted(model.named_vars)}")))
        out.append(model[n])
    return out


def sample_prior_predictive(draws: int = 500, model: Model | None = None,
                            var_names: Sequence[str] | None = None, random_seed: Any = None,
                            return_inferencedata: bool = True,
                            idata_kwargs: Mapping[str, Any] | None = None,
                            compile_kwargs: Mapping[str, Any] | None = None,
                            samples: int | None = None) -> Any:
    """Draw from the prior (free variables, deterministics) and the prior predictive (observed
    variables), ignoring the observed data.

    Parameters
    ----------
    draws : int
        Number of draws (``samples=`` is PyMC's old name).
    var_names : list of str, optional
        Default: every free, observed and deterministic variable.
    random_seed : int or SeedSequence, optional
    return_inferencedata : bool
        ArviZ ``InferenceData`` with groups ``prior``, ``prior_predictive`` and
        ``observed_data`` (when ArviZ is installed); otherwise a dict ``{name: array of shape
        (draws, ...)}``.
    compile_kwargs : dict, optional
        Passed to :func:`gnomon.function` (``{"mode": "numba"}``; the NumPy reference runs by
        default).

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     mu = pm.Normal("mu", 0.0, 1.0)
    ...     y = pm.Normal("y", mu, 1.0, observed=np.zeros(3))
    ...     d = pm.sample_prior_predictive(draws=50, random_seed=1, return_inferencedata=False)
    >>> d["mu"].shape, d["y"].shape
    ((50,), (50, 3))
    """
    model = modelcontext(model)
    draws = samples if samples is not None else draws
    vars = _names(model, var_names, [*model.free_RVs, *model.observed_RVs,
                                     *model.deterministics])
    kw = dict(compile_kwargs or {})
    mode = kw.pop("mode", "numpy")
    outs, updates = _seeded(list(vars), random_seed)
    f = function([], outs, updates=updates, mode=mode, no_default_updates=True, **kw)
    rows = [f() for _ in range(draws)]
    result = {v.name: np.stack([np.asarray(r[i]) for r in rows]) for i, v in enumerate(vars)}
    if not return_inferencedata or not _has_arviz():
        return result
    obs_names = {rv.name for rv in model.observed_RVs}
    prior = {k: v[None] for k, v in result.items() if k not in obs_names}
    prior_pred = {k: v[None] for k, v in result.items() if k in obs_names}
    return _to_idata(model, idata_kwargs, prior=prior, prior_predictive=prior_pred,
                     observed_data=_observed_data(model))


def sample_posterior_predictive(trace: Any, model: Model | None = None,
                                var_names: Sequence[str] | None = None,
                                random_seed: Any = None, *, extend_inferencedata: bool = False,
                                predictions: bool = False, return_inferencedata: bool = True,
                                progressbar: bool = False,
                                idata_kwargs: Mapping[str, Any] | None = None,
                                compile_kwargs: Mapping[str, Any] | None = None) -> Any:
    """Draw the observed (or ``var_names``) variables given each posterior draw.

    The free variables found in ``trace`` are fixed at their posterior draws (named in
    ``var_names``, they are returned unchanged); deterministics are computed from them;
    everything else that ``var_names`` need is drawn (only that part of the graph runs). Data
    changed with :func:`set_data` since sampling is used, for predictions at new inputs.

    Parameters
    ----------
    trace : InferenceData, dict or list of dict
        Posterior draws: an ``InferenceData`` (its ``posterior`` group), a dict
        ``{name: array of shape (chains, draws, ...)}``, or a list of points (``{name:
        value}``, one per draw).
    var_names : list of str, optional
        Default: the observed variables.
    extend_inferencedata : bool
        Add the group to ``trace`` (an ``InferenceData``) and return it.
    predictions : bool
        Name the group ``predictions`` instead of ``posterior_predictive``.
    return_inferencedata : bool
        ``False`` (or ArviZ missing): a dict ``{name: array of shape (chains, draws, ...)}``.

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     mu = pm.Normal("mu", 0.0, 1.0)
    ...     y = pm.Normal("y", mu, 0.1, observed=np.zeros(2))
    >>> post = {"mu": np.full((1, 4), 5.0)}
    >>> pp = pm.sample_posterior_predictive(post, model=m, random_seed=0,
    ...                                     return_inferencedata=False)
    >>> pp["y"].shape, bool(np.all(np.abs(pp["y"] - 5.0) < 1.0))
    ((1, 4, 2), True)
    """
    model = modelcontext(model)
    posterior, chains, ndraws = _posterior_arrays(trace)
    vars = _names(model, var_names, list(model.observed_RVs))
    # the free variables in the trace are fixed at their draws (asked for in var_names, they
    # are returned as they are); deterministics are computed again from them, so they follow
    # data changed by set_data; everything else the outputs need is drawn
    fixed = [rv for rv in model.free_RVs if rv.name in posterior]
    ins = [rv.type(f"{rv.name}_draw") for rv in fixed]
    outs = graph_replace(list(vars), dict(zip(fixed, ins, strict=True)), strict=False)
    kw = dict(compile_kwargs or {})
    mode = kw.pop("mode", "numpy")
    outs, updates = _seeded(outs, random_seed)
    f = function(ins, outs, updates=updates, mode=mode, no_default_updates=True,
                 on_unused_input="ignore", **kw)
    rows: list[list[Any]] = []
    for c in range(chains):
        for d in range(ndraws):
            args = [np.asarray(posterior[rv.name][c, d], dtype=rv.dtype) for rv in fixed]
            rows.append(f(*args))
    result = {v.name: np.stack([np.asarray(r[i]) for r in rows]).reshape(
        (chains, ndraws, *np.shape(rows[0][i]))) for i, v in enumerate(vars)}
    if not return_inferencedata or not _has_arviz():
        return result
    group = "predictions" if predictions else "posterior_predictive"
    idata = _to_idata(model, idata_kwargs, **{group: result})
    if extend_inferencedata and hasattr(trace, "extend"):
        trace.extend(idata)
        return trace
    return idata


def _posterior_arrays(trace: Any) -> tuple[dict[str, np.ndarray], int, int]:
    """``({name: array (chains, draws, ...)}, chains, draws)`` from the forms PyMC accepts."""
    post = getattr(trace, "posterior", None)
    if post is not None:
        arrays = {str(k): np.asarray(post[k].values) for k in post.data_vars}
    elif isinstance(trace, Mapping):
        arrays = {str(k): np.asarray(v) for k, v in trace.items()}
    elif isinstance(trace, Sequence) and trace and isinstance(trace[0], Mapping):
        arrays = {k: np.stack([np.asarray(p[k]) for p in trace])[None] for k in trace[0]}
    else:
        raise GnomonValueError(_at(with_hint(
            f"sample_posterior_predictive: cannot read posterior draws from {type(trace)}",
            "pass an InferenceData, a dict {name: array (chains, draws, ...)} or a list of "
            "points")))
    if not arrays:
        raise GnomonValueError(_at(with_hint("sample_posterior_predictive: the trace is empty",
                                             "pass the result of pm.sample")))
    first = next(iter(arrays.values()))
    if first.ndim < 2:
        raise GnomonValueError(_at(with_hint(
            "sample_posterior_predictive: arrays must have leading (chain, draw) axes",
            "add a chain axis: {name: draws[None]}")))
    return arrays, first.shape[0], first.shape[1]


def _has_arviz() -> bool:
    import importlib.util

    return importlib.util.find_spec("arviz") is not None


def _observed_data(model: Model) -> dict[str, np.ndarray]:
    out = {}
    for rv in model.observed_RVs:
        data = model.rvs_to_data[rv]
        try:
            out[rv.name] = np.asarray(data.eval(mode="numpy"))
        except Exception:  # data that cannot be evaluated alone is left out
            continue
    return out


def _to_idata(model: Model, idata_kwargs: Mapping[str, Any] | None, **groups: Any) -> Any:
    import arviz as az

    coords = {k: list(v) for k, v in model.coords.items() if v is not None}
    dims = {k: [d for d in v if d is not None] for k, v in model.named_vars_to_dims.items()
            if all(d in coords for d in v if d is not None)}
    kw = dict(idata_kwargs or {})
    coords.update(kw.pop("coords", {}) or {})
    dims.update(kw.pop("dims", {}) or {})
    present = {k for g in groups.values() for k in (g or {})}
    dims = {k: v for k, v in dims.items() if k in present}
    groups = {k: v for k, v in groups.items() if v}
    return az.from_dict(**groups, coords=coords, dims=dims, **kw)
