"""``pm.sample(nuts_sampler="numpyro" | "blackjax")``: NUTS from the JAX ecosystem on a gnomon
model.

The model's log-density over the flat unconstrained vector (the one
:meth:`~gnomon.ppl.Model.logp_dlogp_function` defines) is compiled with gnomon's JAX backend
(``mode="jax"``) into a pure JAX function (:func:`jax_logp`); NumPyro's ``MCMC`` with a
``potential_fn`` or BlackJAX's window adaptation + NUTS then run the chains, and the flat draws
go through the same post-processing as the default sampler's (constrained values,
Deterministics, coords and dims, ``sample_stats`` with PyMC's names), so the result has the
same structure.

The gradient JAX sees is gnomon's symbolic gradient (the same graph the default sampler
differentiates), attached with ``jax.custom_vjp``: reverse mode (``jax.grad``,
``jax.value_and_grad``, which both samplers use) works; forward mode (``jax.jvp``,
``jax.hessian``) does not.

JAX computes in float64 here without changing the user's global JAX configuration: the
chains run inside ``jax.enable_x64(True)``, a thread-local setting.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gnomon.errors import BackendUnavailableError, GnomonTypeError, GnomonValueError, with_hint

__all__ = ["JAX_SAMPLERS", "jax_logp", "sample_jax_nuts"]

#: The ``nuts_sampler`` values this module handles.
JAX_SAMPLERS = ("numpyro", "blackjax")

# Statistics of the JAX routes (a subset of the default sampler's, PyMC's names): NumPyro and
# BlackJAX do not report the energy error of a transition (the initial energy is not kept) nor
# the dual-averaging average of the step size.
STAT_NAMES = ("lp", "energy", "step_size", "acceptance_rate", "n_steps", "tree_depth",
              "diverging")

_KNOWN_KWARGS = ("chain_method", "nuts_kwargs", "jitter", "keep_untransformed",
                 "postprocessing_backend")
_CHAIN_METHODS = ("parallel", "sequential", "vectorized")


def _require(package: str, sampler: str) -> Any:
    """Import ``package`` for ``nuts_sampler=sampler`` or say how to install it."""
    import importlib

    try:
        return importlib.import_module(package)
    except ImportError as e:
        extra = "jax" if package == "jax" else "dev"
        raise BackendUnavailableError(with_hint(
            f"pm.sample(nuts_sampler={sampler!r}) needs the package {package!r}, which is not "
            f"installed ({e})",
            f"pip install {package} (or pip install 'gnomon[{extra}]'), or leave nuts_sampler "
            "unset to use gnomon's own compiled NUTS")) from e


class JaxLogp:
    """The model's log-density as a pure JAX function of the flat unconstrained vector.

    Attributes
    ----------
    logp : callable
        ``logp(q) -> scalar``, a JAX function (jit, vmap and reverse-mode differentiation work;
        float64 needs ``jax.enable_x64``).
    fn : LogpDlogpFunction
        The flat layout (``n``, ``value_names``, ``shapes``), ``initial_q()`` and the
        post-processing (``unflatten_many``) of the draws.
    """

    def __init__(self, logp: Callable[[Any], Any], fn: Any) -> None:
        self.logp = logp
        self.fn = fn


def jax_logp(model: Any = None, *, initvals: Mapping[Any, Any] | None = None) -> JaxLogp:
    """The model's log-density (with the transforms' Jacobians) as a JAX function of one flat
    float64 vector, compiled with gnomon's JAX backend; its gradient is gnomon's.

    Parameters
    ----------
    model : Model, optional
        Default: the model of the enclosing ``with`` block.
    initvals : dict, optional
        Initial values by variable name (constrained space), for ``.fn.initial_q()``.

    Returns
    -------
    JaxLogp

    Examples
    --------
    >>> import jax, numpy as np, gnomon.ppl as pm
    >>> from gnomon.ppl.jax_samplers import jax_logp
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 1.0, 2.0, shape=2)
    >>> d = jax_logp(m)
    >>> with jax.enable_x64(True):
    ...     lp, g = jax.value_and_grad(d.logp)(np.zeros(2))
    >>> round(float(lp), 4), np.asarray(g).tolist()
    (-3.4742, [0.25, 0.25])
    """
    from gnomon.ppl.model import modelcontext

    jax = _require("jax", "numpyro")
    from gnomon.backends.jax import jax_fn

    m = modelcontext(model)
    fn = m.logp_dlogp_function(initvals=initvals, mode="jax")
    lp_grad = jax_fn(fn.fn)  # q -> [logp, gradient], both graphs in one XLA program

    @jax.custom_vjp
    def logp(q: Any) -> Any:
        return lp_grad(q)[0]

    def fwd(q: Any) -> tuple[Any, Any]:
        lp, g = lp_grad(q)
        return lp, g

    def bwd(g: Any, ct: Any) -> tuple[Any]:
        return (ct * g,)

    logp.defvjp(fwd, bwd)
    return JaxLogp(logp, fn)


def _check_kwargs(sampler: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(kwargs) - set(_KNOWN_KWARGS))
    if unknown:
        raise GnomonTypeError(with_hint(
            f"nuts_sampler_kwargs for nuts_sampler={sampler!r}: unknown key(s) {unknown}",
            f"the keys are {', '.join(_KNOWN_KWARGS)}; arguments of the {sampler} NUTS kernel "
            "go in nuts_sampler_kwargs={'nuts_kwargs': {...}}"))
    out = dict(kwargs)
    cm = out.get("chain_method")
    if cm is not None and cm not in _CHAIN_METHODS:
        raise GnomonValueError(with_hint(
            f"chain_method={cm!r} is not one of {', '.join(_CHAIN_METHODS)}",
            "'parallel' maps chains over JAX devices (falls back to 'sequential' when there "
            "are fewer devices than chains), 'vectorized' runs them in one vmap"))
    backend = out.get("postprocessing_backend")
    if backend not in (None, "cpu"):
        raise GnomonValueError(with_hint(
            f"postprocessing_backend={backend!r}: gnomon post-processes the draws with NumPy "
            "on the CPU", "leave postprocessing_backend unset"))
    nk = out.get("nuts_kwargs")
    if nk is not None and not isinstance(nk, Mapping):
        raise GnomonTypeError(with_hint(
            f"nuts_kwargs must be a dict, got {type(nk).__name__}",
            "pass nuts_sampler_kwargs={'nuts_kwargs': {'dense_mass': True}} for instance"))
    return out


def _chain_method(requested: str | None, chains: int, jax: Any) -> str:
    """The default: ``'parallel'`` (one JAX device per chain, ``jax.pmap``) when there are as
    many devices as chains, else ``'vectorized'`` (``jax.vmap``: the chains advance in
    lockstep in one compiled program). On a CPU there is one device unless
    ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` was set before JAX started. (NumPyro
    and PyMC fall back to ``'sequential'`` there, which in NumPyro compiles the sampler once per
    chain -- seconds each.)"""
    if chains == 1:
        return "sequential"
    if requested is None:
        return "parallel" if jax.local_device_count() >= chains else "vectorized"
    if requested == "parallel" and jax.local_device_count() < chains:
        return "sequential"  # as NumPyro does (it warns)
    return requested


def _key(jax: Any, rng: np.random.Generator) -> Any:
    return jax.random.PRNGKey(int(rng.integers(0, 2**31 - 1)))


def sample_jax_nuts(m: Any, *, nuts_sampler: str, draws: int, tune: int, chains: int,
                    random_seed: Any, target_accept: float, max_treedepth: int, init: str,
                    initvals: Mapping[Any, Any] | None, var_names: Sequence[str] | None,
                    progressbar: bool, discard_tuned_samples: bool,
                    compute_convergence_checks: bool, return_inferencedata: bool,
                    idata_kwargs: Mapping[str, Any] | None,
                    nuts_sampler_kwargs: Mapping[str, Any] | None) -> Any:
    """``pm.sample`` with ``nuts_sampler='numpyro'`` or ``'blackjax'``: the arguments are
    :func:`gnomon.ppl.sampling.sample`'s, already checked there; returns what it returns."""
    from gnomon.ppl import sampling as _s

    if nuts_sampler in ("pymc", "gnomon"):
        raise GnomonTypeError(with_hint(
            "nuts_sampler_kwargs apply to nuts_sampler='numpyro' or 'blackjax' only",
            "gnomon's own NUTS takes target_accept, max_treedepth and init as arguments of "
            "pm.sample"))
    if nuts_sampler not in JAX_SAMPLERS:
        raise GnomonValueError(with_hint(
            f"nuts_sampler={nuts_sampler!r} is not supported",
            "use 'pymc' (gnomon's own compiled NUTS, the default), 'numpyro' or 'blackjax' "
            "(nutpie samples PyMC and Stan models, not gnomon's)"))
    kw = _check_kwargs(nuts_sampler, nuts_sampler_kwargs or {})
    if m.discrete_value_vars:
        names = ", ".join(repr(v.name) for v in m.discrete_value_vars)
        raise GnomonValueError(with_hint(
            f"the model has discrete free variables ({names}); nuts_sampler={nuts_sampler!r} "
            "samples continuous variables only",
            "marginalize them (gnomon.logprob.marginal_logp, pm.Mixture) or make them observed"))
    if init not in _s._INITS:
        raise GnomonValueError(with_hint(
            f"init={init!r} is not supported with nuts_sampler={nuts_sampler!r}; known: "
            f"{', '.join(_s._INITS)}", "use init='jitter+adapt_diag' (the default)"))
    if not 0.0 < target_accept < 1.0:
        raise GnomonValueError(with_hint(
            f"target_accept={target_accept} must lie strictly between 0 and 1",
            "values between 0.8 and 0.99 are usual; raise it when there are divergences"))
    if draws < 0 or tune < 0 or chains < 1:
        raise GnomonValueError(with_hint(
            f"draws={draws}, tune={tune}, chains={chains}: need draws >= 0, tune >= 0, "
            "chains >= 1", "pass non-negative numbers of draws and tuning steps"))
    jax = _require("jax", nuts_sampler)
    _require(nuts_sampler, nuts_sampler)
    from gnomon.backends.jax import NeedsConcreteValue
    dens = jax_logp(m, initvals=initvals)
    fn = dens.fn
    rngs = _s._generators(random_seed, chains)
    jitter = kw.get("jitter", init in ("auto", "jitter+adapt_diag"))
    t0 = time.perf_counter()
    with jax.enable_x64(True):
        value_and_grad = jax.jit(jax.value_and_grad(dens.logp))

        def f(q: np.ndarray) -> tuple[float, np.ndarray]:
            try:
                lp, g = value_and_grad(q)
            except NeedsConcreteValue as e:
                raise GnomonValueError(with_hint(
                    f"nuts_sampler={nuts_sampler!r}: the model's log-density cannot be traced "
                    f"by jax.jit (a shape or mask depends on the values sampled):\n{e}",
                    "use the default sampler (nuts_sampler='pymc')")) from e
            return float(lp), np.asarray(g, dtype=np.float64)

        starts = np.stack(_s._initial_points(fn, f, rngs, bool(jitter), fn.initial_q()))
        keys = [_key(jax, r) for r in rngs]
        cm = _chain_method(kw.get("chain_method"), chains, jax)
        runner = _run_numpyro if nuts_sampler == "numpyro" else _run_blackjax
        out = runner(jax, dens.logp, starts, keys, draws=draws, tune=tune,
                     target_accept=target_accept, max_treedepth=max_treedepth,
                     chain_method=cm, progressbar=progressbar,
                     keep_warmup=not discard_tuned_samples,
                     nuts_kwargs=dict(kw.get("nuts_kwargs") or {}))
    elapsed = time.perf_counter() - t0
    res = _s.NutsResult(draws=out["draws"], stats=out["stats"],
                        warmup_draws=out["warmup_draws"], warmup_stats=out["warmup_stats"],
                        inv_mass=out["inv_mass"], compiled=True, sampling_time=elapsed,
                        tune=tune)
    res.meta["sampler"] = nuts_sampler
    groups = _s._groups(m, fn, res, var_names, discard_tuned_samples)
    if kw.get("keep_untransformed"):
        for k, v in _unconstrained(fn, res.draws).items():
            groups["posterior"].setdefault(k, v)
    if compute_convergence_checks:
        _s._convergence_warnings(groups["posterior"], res, max_treedepth)
    if not return_inferencedata:
        return groups
    try:
        import arviz as az
    except ImportError:
        return groups
    idata = _s._to_inferencedata(az, m, groups, res, idata_kwargs or {})
    from importlib.metadata import version

    for g in ("posterior", "sample_stats"):
        idata[g].attrs["nuts_sampler"] = nuts_sampler
        idata[g].attrs["nuts_sampler_version"] = version(nuts_sampler)
        idata[g].attrs["chain_method"] = cm
    return idata


def _unconstrained(fn: Any, qs: np.ndarray) -> dict[str, np.ndarray]:
    """The draws of each value variable on the unconstrained space (``sigma_log__``), for
    ``keep_untransformed=True``; variables without a transform are left out."""
    c, d, _ = qs.shape
    out = {}
    free = {rv.name for rv in fn.model.free_RVs}
    for name, shape, a, b in zip(fn.value_names, fn.shapes, fn.offsets[:-1], fn.offsets[1:],
                                 strict=True):
        if name not in free:
            out[name] = qs[:, :, int(a):int(b)].reshape((c, d, *shape))
    return out


def _empty_stats(chains: int, n: int) -> dict[str, np.ndarray]:
    return {k: np.zeros((chains, n)) for k in STAT_NAMES}


def _tree_depth(n_steps: np.ndarray) -> np.ndarray:
    """Doublings of a trajectory from its number of leapfrog steps (NumPyro reports only the
    steps): a trajectory of depth d has 2**(d-1) .. 2**d - 1 steps."""
    return np.floor(np.log2(np.maximum(n_steps, 1))).astype(np.int64) + 1


# --- NumPyro ------------------------------------------------------------------------------------

def _run_numpyro(jax: Any, logp: Callable[[Any], Any], starts: np.ndarray, keys: list[Any], *,
                 draws: int, tune: int, target_accept: float, max_treedepth: int,
                 chain_method: str, progressbar: bool, keep_warmup: bool,
                 nuts_kwargs: dict[str, Any]) -> dict[str, Any]:
    from numpyro.infer import MCMC, NUTS

    chains, n = starts.shape

    def potential(q: Any) -> Any:
        return -logp(q)

    kernel_kw = {"target_accept_prob": target_accept, "max_tree_depth": max_treedepth,
                 **nuts_kwargs}
    kernel = NUTS(potential_fn=potential, **kernel_kw)
    extra = ("potential_energy", "energy", "num_steps", "accept_prob",
             "adapt_state.step_size")
    key = jax.numpy.stack(keys) if chains > 1 else keys[0]
    init = jax.numpy.asarray(starts if chains > 1 else starts[0])
    # (MCMC needs at least one draw; draws=0 keeps none of them)
    mcmc = MCMC(kernel, num_warmup=tune, num_samples=max(draws, 1), num_chains=chains,
                chain_method=chain_method, progress_bar=progressbar)
    warm_q = np.zeros((chains, 0, n))
    warm_stats = _empty_stats(chains, 0)
    if keep_warmup and tune > 0:
        mcmc.warmup(key, init_params=init, extra_fields=extra, collect_warmup=True)
        warm_q = _chain_first(np.asarray(mcmc.get_samples(group_by_chain=True)), chains, n)
        warm_stats = _numpyro_stats(mcmc.get_extra_fields(group_by_chain=True), chains)
        mcmc.run(mcmc.post_warmup_state.rng_key, extra_fields=extra)
    else:
        mcmc.run(key, init_params=init, extra_fields=extra)
    qs = _chain_first(np.asarray(mcmc.get_samples(group_by_chain=True)), chains, n)[:, :draws]
    stats = {k: v[:, :draws] for k, v in
             _numpyro_stats(mcmc.get_extra_fields(group_by_chain=True), chains).items()}
    try:
        minv = np.asarray(mcmc.last_state.adapt_state.inverse_mass_matrix, dtype=np.float64)
        minv = minv.reshape(chains, -1) if minv.size == chains * n else np.full((chains, n),
                                                                                math.nan)
    except (AttributeError, TypeError, ValueError):  # a dict of blocks (dense_mass=[...])
        minv = np.full((chains, n), math.nan)
    return {"draws": qs, "stats": stats, "warmup_draws": warm_q, "warmup_stats": warm_stats,
            "inv_mass": minv}


def _chain_first(a: np.ndarray, chains: int, n: int) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).reshape(chains, -1, n)


def _numpyro_stats(extra: Mapping[str, Any], chains: int) -> dict[str, np.ndarray]:
    def get(k: str) -> np.ndarray:
        return np.asarray(extra[k]).reshape(chains, -1)

    n_steps = get("num_steps").astype(np.int64)
    return {"lp": -get("potential_energy").astype(np.float64),
            "energy": get("energy").astype(np.float64),
            "step_size": get("adapt_state.step_size").astype(np.float64),
            "acceptance_rate": get("accept_prob").astype(np.float64),
            "n_steps": n_steps, "tree_depth": _tree_depth(n_steps),
            "diverging": get("diverging").astype(bool)}


# --- BlackJAX -----------------------------------------------------------------------------------

def _run_blackjax(jax: Any, logp: Callable[[Any], Any], starts: np.ndarray, keys: list[Any], *,
                  draws: int, tune: int, target_accept: float, max_treedepth: int,
                  chain_method: str, progressbar: bool, keep_warmup: bool,
                  nuts_kwargs: dict[str, Any]) -> dict[str, Any]:
    import blackjax
    from blackjax.adaptation.base import get_filter_adapt_info_fn

    jnp = jax.numpy
    chains, n = starts.shape
    kernel_kw = {"max_num_doublings": max_treedepth, **nuts_kwargs}
    info_keys = {"energy", "is_divergent", "num_trajectory_expansions",
                 "num_integration_steps", "acceptance_rate"}
    keep_info = get_filter_adapt_info_fn({"position", "logdensity"}, info_keys, {"step_size"})

    def stats_of(state: Any, info: Any, step_size: Any) -> dict[str, Any]:
        return {"lp": state.logdensity, "energy": info.energy,
                "step_size": jnp.broadcast_to(step_size, state.logdensity.shape),
                "acceptance_rate": info.acceptance_rate,
                "n_steps": info.num_integration_steps,
                "tree_depth": info.num_trajectory_expansions,
                "diverging": info.is_divergent}

    def one_chain(key: Any, q0: Any) -> dict[str, Any]:
        k_warm, k_draw = jax.random.split(key)
        if tune > 0:
            warmup = blackjax.window_adaptation(
                blackjax.nuts, logp, target_acceptance_rate=target_accept,
                adaptation_info_fn=keep_info, **kernel_kw)
            (state, params), ainfo = warmup.run(k_warm, q0, num_steps=tune)
            warm = {"draws": ainfo.state.position,
                    **stats_of(ainfo.state, ainfo.info, ainfo.adaptation_state.step_size)}
        else:  # no tuning: NUTS with a unit step size and the identity metric
            state = blackjax.nuts.init(q0, logp)
            params = {"step_size": jnp.asarray(1.0), "inverse_mass_matrix": jnp.ones(n)}
            warm = {}
        # (the adaptation's parameters include the kernel's extra ones)
        step = blackjax.nuts(logp, **{**kernel_kw, **params}).step

        def body(s: Any, k: Any) -> tuple[Any, Any]:
            s, info = step(k, s)
            return s, (s, info)

        _, (states, infos) = jax.lax.scan(body, state, jax.random.split(k_draw, draws))
        return {"draws": states.position, "inv_mass": params["inverse_mass_matrix"],
                **stats_of(states, infos, params["step_size"]),
                **{"warm_" + k: v for k, v in warm.items()}}

    t0 = time.perf_counter()
    if chain_method == "vectorized":
        outs = [jax.jit(jax.vmap(one_chain))(jnp.stack(keys), jnp.asarray(starts))]
    elif chain_method == "parallel":
        outs = [jax.pmap(one_chain)(jnp.stack(keys), jnp.asarray(starts))]
    else:
        run = jax.jit(one_chain)
        outs = []
        for c in range(chains):
            outs.append(jax.tree.map(lambda x: x[None], run(keys[c], jnp.asarray(starts[c]))))
            if progressbar:
                print(f"blackjax: chain {c}: {tune} tune + {draws} draws in "
                      f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    res = {k: np.concatenate([np.asarray(o[k]) for o in outs]) for k in outs[0]}
    if progressbar and chain_method != "sequential":
        print(f"blackjax: {chains} chains ({chain_method}): {tune} tune + {draws} draws in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)

    def stats(prefix: str) -> dict[str, np.ndarray]:
        d = {k: res[prefix + k] for k in STAT_NAMES}
        d["diverging"] = d["diverging"].astype(bool)
        for k in ("n_steps", "tree_depth"):
            d[k] = d[k].astype(np.int64)
        for k in ("lp", "energy", "step_size", "acceptance_rate"):
            d[k] = d[k].astype(np.float64)
        return d

    warm_q, warm_stats = np.zeros((chains, 0, n)), _empty_stats(chains, 0)
    if keep_warmup and tune > 0:
        warm_q, warm_stats = res["warm_draws"].astype(np.float64), stats("warm_")
    return {"draws": res["draws"].astype(np.float64).reshape(chains, draws, n),
            "stats": stats(""), "warmup_draws": warm_q, "warmup_stats": warm_stats,
            "inv_mass": res["inv_mass"].astype(np.float64).reshape(chains, -1)}
