"""NUTS end to end: gnomon's ``pm.sample`` against PyMC's, nutpie and NumPyro on the same
models, in one run; prints figures and ratios, asserts nothing.

Models (the ones of ``bench/logprob_bench.py``, written once as PyMC model code and run with
``import gnomon.ppl as pm`` or ``import pymc as pm``, and once natively for NumPyro with the
same priors):

* **eight schools, non-centered** (10 unconstrained coordinates);
* **radon-like varying intercepts**: 919 observations in 85 groups (89 coordinates).

Systems (a row for each one installed):

* ``gnomon``: ``pm.sample`` (gnomon's compiled NUTS, chains in 2 threads), the log-density
  compiled by its default route (``compile_kwargs={"mode": "auto"}``: the C compiler when the
  machine has one, ``gnomon/ppl/c_logp.py``);
* ``gnomon-numba``: the same with the log-density compiled by Numba
  (``compile_kwargs={"mode": "numba"}``);
* ``gnomon-numpyro`` / ``gnomon-blackjax``: ``pm.sample(nuts_sampler=...)``, the model compiled
  with gnomon's JAX backend, sampled by NumPyro's / BlackJAX's NUTS;
* ``pymc``: PyMC's ``pm.sample`` (its own NUTS, 2 processes);
* ``nutpie``: ``pm.sample(nuts_sampler="nutpie")`` on the PyMC model (nutpie compiles it
  through PyTensor's Numba backend);
* ``numpyro``: the models written in NumPyro, ``MCMC(NUTS(model))``, float64.

The JAX systems run with two XLA host devices (``XLA_FLAGS=--xla_force_host_platform_device
_count=2``, NumPyro's advice for parallel chains on a CPU), so their 2 chains run in parallel
(``pmap``) as the others' do.

For each system a fresh subprocess measures the **wall time from model definition to the
InferenceData** (compile + 2 chains x 1000 tuning + 1000 draws on 2 cores), split into the time
before the first draw (compile) and the sampling (for the JAX systems the sampler's XLA compile
happens inside the sampling call and counts there), and the **minimum bulk ESS** over the free
variables (ArviZ), divided by that wall time. Each system runs ``--runs`` times (default 2)
in fresh processes with the same compilation caches, so the first run of a session shows cold
caches (gnomon's sampler kernel compiles once per machine) and the later ones warm caches.
``--fresh-cache`` gives every gnomon run an empty gnomon cache (``GNOMON_CACHE_DIR``), so each
shows the cold compile of a model never seen before (the NUTS kernel, which does not depend on
the model, stays in Numba's cache).

**Two Python environments.** The gnomon rows run in this interpreter (gnomon's ``.venv``, with
the numba gnomon is installed with); the peers (``pymc``, ``nutpie``, ``numpyro``) run in the
peers' interpreter, ``--peers-python`` or ``$GNOMON_PEERS_PYTHON`` (``./dev bench`` creates
``.venv-peers`` with the bench extra and sets it), else ``.venv-peers/bin/python`` when it
exists, else this interpreter. PyMC pins an older numba, so installing it beside gnomon would
benchmark gnomon on a numba that fresh installs never get. The table names each row's numba.

The summary table gives, per model and route, the best run's wall time and min bulk ESS per
wall-second, its ratios to PyMC and NumPyro, and the goals of issue 12 for the gnomon routes:
>= 2x PyMC and >= NumPyro in ESS per wall-second, compile (time before the first draw, warm
caches) <= 1 s.

Run: ``./dev bench sampling_bench`` or ``.venv/bin/python bench/sampling_bench.py [--runs 2]
[--draws 1000 --tune 1000] [--models eight_schools,radon]
[--only gnomon,gnomon-numba,gnomon-numpyro,gnomon-blackjax,pymc,nutpie,numpyro]
[--peers-python PATH] [--fresh-cache]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from logprob_bench import S8, Y8, radon_data

FREE = {"eight_schools": ["mu", "tau", "theta_t"],
        "radon": ["mu_a", "sigma_a", "a_offset", "b", "sigma_y"]}


def build(pm: Any, model: str) -> Any:
    """The model, as PyMC code (runs unchanged with gnomon.ppl)."""
    if model == "eight_schools":
        with pm.Model(coords={"school": list(range(8))}) as m:
            mu = pm.Normal("mu", 0.0, 5.0)
            tau = pm.HalfCauchy("tau", 5.0)
            theta_t = pm.Normal("theta_t", 0.0, 1.0, dims="school")
            pm.Normal("y", mu + tau * theta_t, S8, observed=Y8, dims="school")
        return m
    group, x, y = radon_data()
    with pm.Model() as m:
        mu_a = pm.Normal("mu_a", 0.0, 10.0)
        sigma_a = pm.HalfNormal("sigma_a", 5.0)
        a_off = pm.Normal("a_offset", 0.0, 1.0, shape=85)
        b = pm.Normal("b", 0.0, 10.0)
        sigma_y = pm.HalfNormal("sigma_y", 5.0)
        pm.Normal("y", mu_a + sigma_a * a_off[group] + b * x, sigma_y, observed=y)
    return m


def numpyro_model(model: str) -> Any:
    """The same models written in NumPyro (same priors, non-centered eight schools)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    if model == "eight_schools":
        s8, y8 = jnp.asarray(S8), jnp.asarray(Y8)

        def eight_schools() -> None:
            mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
            tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
            with numpyro.plate("school", 8):
                theta_t = numpyro.sample("theta_t", dist.Normal(0.0, 1.0))
                numpyro.sample("y", dist.Normal(mu + tau * theta_t, s8), obs=y8)

        return eight_schools
    group, x, y = (jnp.asarray(a) for a in radon_data())

    def radon() -> None:
        mu_a = numpyro.sample("mu_a", dist.Normal(0.0, 10.0))
        sigma_a = numpyro.sample("sigma_a", dist.HalfNormal(5.0))
        with numpyro.plate("group", 85):
            a_off = numpyro.sample("a_offset", dist.Normal(0.0, 1.0))
        b = numpyro.sample("b", dist.Normal(0.0, 10.0))
        sigma_y = numpyro.sample("sigma_y", dist.HalfNormal(5.0))
        with numpyro.plate("obs", y.shape[0]):
            numpyro.sample("y", dist.Normal(mu_a + sigma_a * a_off[group] + b * x, sigma_y),
                           obs=y)

    return radon


def child_numpyro(model: str, seed: int, draws: int, tune: int) -> tuple[Any, float]:
    """NumPyro natively: (InferenceData, seconds in MCMC.run)."""
    import arviz as az
    import jax
    import numpyro
    from numpyro.infer import MCMC, NUTS

    numpyro.enable_x64()
    mcmc = MCMC(NUTS(numpyro_model(model)), num_warmup=tune, num_samples=draws, num_chains=2,
                chain_method="parallel", progress_bar=False)
    t = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), extra_fields=("num_steps",))
    jax.block_until_ready(mcmc.get_samples())
    sampling = time.perf_counter() - t
    return az.from_numpyro(mcmc, log_likelihood=False), sampling


def child(system: str, model: str, seed: int, draws: int, tune: int) -> dict[str, Any]:
    import warnings

    warnings.simplefilter("ignore")
    import logging

    logging.getLogger("pymc").setLevel(logging.ERROR)
    logging.getLogger("gnomon.ppl").setLevel(logging.ERROR)
    t_import = time.perf_counter()
    if system.startswith("gnomon"):
        import gnomon.ppl as pm
    elif system in ("pymc", "nutpie"):
        import pymc as pm  # type: ignore[no-redef]
    else:
        import jax  # noqa: F401
        import numpyro  # noqa: F401
    import arviz as az

    t0 = time.perf_counter()
    c0 = time.process_time()
    sampling = float("nan")
    if system == "numpyro":
        idata, sampling = child_numpyro(model, seed, draws, tune)
    else:
        m = build(pm, model)
        kw: dict[str, Any] = {}
        if system == "nutpie":
            kw["nuts_sampler"] = "nutpie"
        elif system == "gnomon-numba":
            kw["compile_kwargs"] = {"mode": "numba"}
        elif system.startswith("gnomon-"):
            kw["nuts_sampler"] = system.split("-")[1]
        with m:
            idata = pm.sample(draws, tune=tune, chains=2, cores=2, random_seed=seed,
                              progressbar=False, compute_convergence_checks=False, **kw)
    wall = time.perf_counter() - t0
    # CPU of this process (threads included; PyMC's chain processes are not counted)
    cpu = time.process_time() - c0
    ess = az.ess(idata, method="bulk", var_names=FREE[model])
    min_ess = float(min(float(ess[v].min()) for v in FREE[model]))
    if system != "numpyro":
        sampling = float(idata.posterior.attrs.get("sampling_time", float("nan")))
    st = idata.sample_stats
    numba_version = sys.modules["numba"].__version__ if "numba" in sys.modules else "-"
    return {"wall": wall, "cpu": cpu, "sampling": sampling, "min_ess": min_ess,
            "import": t0 - t_import, "numba": numba_version,
            "divergences": int(st["diverging"].sum()),
            "steps": float(st["n_steps"].mean()) if "n_steps" in st else float("nan"),
            "mu_mean": float(idata.posterior[FREE[model][0]].mean())}


SYSTEMS = "gnomon,gnomon-numba,gnomon-numpyro,gnomon-blackjax,pymc,nutpie,numpyro"
NEEDS = {"gnomon": ["gnomon"], "gnomon-numba": ["gnomon"],
         "gnomon-numpyro": ["gnomon", "jax", "numpyro"],
         "gnomon-blackjax": ["gnomon", "jax", "blackjax"], "pymc": ["pymc"],
         "nutpie": ["pymc", "nutpie"], "numpyro": ["jax", "numpyro"]}


def peers_python(arg: str | None) -> str:
    """The interpreter of the peers: ``--peers-python``, ``$GNOMON_PEERS_PYTHON``,
    ``.venv-peers/bin/python`` beside this repository, or this interpreter."""
    if arg:
        return arg
    env = os.environ.get("GNOMON_PEERS_PYTHON")
    if env:
        return env
    local = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         ".venv-peers", "bin", "python")
    return local if os.path.exists(local) else sys.executable


def interpreter(system: str, peers: str) -> str:
    return sys.executable if system.startswith("gnomon") else peers


def available(system: str, python: str) -> bool:
    """Whether ``python`` can import what ``system`` needs."""
    code = ("import importlib.util, sys; sys.exit(0 if all(importlib.util.find_spec(m) is not "
            f"None for m in {NEEDS[system]!r}) else 1)")
    return subprocess.run([python, "-c", code], capture_output=True).returncode == 0


def measure(system: str, model: str, a: argparse.Namespace, python: str) -> list[dict[str, Any]]:
    out = []
    for r in range(a.runs):
        # two XLA host devices: the JAX systems' 2 chains run in parallel (pmap)
        env = {**os.environ, "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") +
                                           " --xla_force_host_platform_device_count=2").strip()}
        if a.fresh_cache and system.startswith("gnomon"):
            env["GNOMON_CACHE_DIR"] = tempfile.mkdtemp(prefix="gnomon-bench-cache-")
        p = subprocess.run([python, __file__, "--child", system, model, "--seed", str(r + 1),
                            "--draws", str(a.draws), "--tune", str(a.tune)],
                           capture_output=True, text=True, env=env)
        if p.returncode != 0:
            out.append({"error": (p.stderr.strip().splitlines() or ["?"])[-1]})
            continue
        out.append(json.loads(p.stdout.strip().splitlines()[-1]))
    return out


#: goals of issue 12 for the gnomon routes
GOAL_X_PYMC = 2.0
GOAL_COMPILE_S = 1.0


def summary(rows: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """The one table: per model and route, the best run (highest ESS per wall-second), its
    ratios to PyMC and NumPyro, and the goals for the gnomon routes."""
    lines = [f"{'model':13} {'route':15} {'wall s':>7} {'compile s':>9} {'ESS/s':>7} "
             f"{'x PyMC':>6} {'x NumPyro':>9}  goals (>= {GOAL_X_PYMC:g}x PyMC, >= NumPyro, "
             f"compile <= {GOAL_COMPILE_S:g} s)"]
    for (model, route), r in rows.items():
        rate = r["min_ess"] / r["wall"]
        ratios = []
        for peer in ("pymc", "numpyro"):
            p = rows.get((model, peer))
            ratios.append(rate / (p["min_ess"] / p["wall"]) if p else float("nan"))
        goals = ""
        if route.startswith("gnomon"):
            compile_s = r["wall"] - r["sampling"]
            marks = []
            for name, ok in ((f"{GOAL_X_PYMC:g}x PyMC", ratios[0] >= GOAL_X_PYMC),
                             (">= NumPyro", ratios[1] >= 1.0),
                             (f"compile <= {GOAL_COMPILE_S:g} s", compile_s <= GOAL_COMPILE_S)):
                if name != f"compile <= {GOAL_COMPILE_S:g} s" and math.isnan(
                        ratios[0 if "PyMC" in name else 1]):
                    marks.append(f"{name}: no peer row")
                else:
                    marks.append(f"{name}: {'met' if ok else 'NOT met'}")
            goals = "; ".join(marks)
        lines.append(f"{model:13} {route:15} {r['wall']:7.2f} {r['wall'] - r['sampling']:9.2f} "
                     f"{rate:7.1f} {ratios[0]:6.2f} {ratios[1]:9.2f}  {goals}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--only", default=SYSTEMS)
    ap.add_argument("--models", default="eight_schools,radon")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--peers-python", default=None,
                    help="interpreter with PyMC, nutpie and NumPyro (default: "
                         "$GNOMON_PEERS_PYTHON or .venv-peers/bin/python)")
    ap.add_argument("--fresh-cache", action="store_true",
                    help="an empty gnomon cache for every gnomon run (cold compiles)")
    ap.add_argument("--child", nargs=2, metavar=("SYSTEM", "MODEL"))
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child[0], a.child[1], a.seed, a.draws, a.tune)))
        return
    peers = peers_python(a.peers_python)
    print(f"gnomon routes: {sys.executable}\npeers:         {peers}"
          + ("  (the same interpreter: install the peers in .venv-peers, see ./dev bench)"
             if os.path.abspath(peers) == os.path.abspath(sys.executable) else ""))
    systems = []
    for s in a.only.split(","):
        if available(s, interpreter(s, peers)):
            systems.append(s)
        else:
            print(f"{s} is not installed in {interpreter(s, peers)}: its rows are skipped")
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cpus)")
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for model in a.models.split(","):
        print(f"\n{model}: 2 chains x ({a.tune} tune + {a.draws} draws), cores=2; wall = model "
              "definition to InferenceData; min bulk ESS over the free variables")
        first = f"E[{FREE[model][0]}]"
        print(f"{'system':15} {'run':>3} {'numba':>7} {'wall s':>7} {'cpu s':>6} "
              f"{'compile s':>9} {'sample s':>8} {'min ESS':>8} {'ESS/s':>7} {'div':>4} "
              f"{'steps':>6} {first:>8}")
        for s in systems:
            for i, r in enumerate(measure(s, model, a, interpreter(s, peers))):
                if "error" in r:
                    print(f"{s:15} {i:>3} failed: {r['error']}")
                    continue
                rate = r["min_ess"] / r["wall"]
                b = best.get((model, s))
                if b is None or rate > b["min_ess"] / b["wall"]:
                    best[(model, s)] = r
                print(f"{s:15} {i:>3} {r['numba']:>7} {r['wall']:7.2f} {r['cpu']:6.2f} "
                      f"{r['wall'] - r['sampling']:9.2f} {r['sampling']:8.2f} "
                      f"{r['min_ess']:8.0f} {rate:7.1f} {r['divergences']:4d} "
                      f"{r['steps']:6.1f} {r['mu_mean']:8.3f}")
    print("\nsummary: the best run of each route (cpu s counts this process only: PyMC's "
          "chains run in worker processes)")
    for line in summary(best):
        print(line)
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    _ = np  # numpy is imported for the shared model data


if __name__ == "__main__":
    main()
