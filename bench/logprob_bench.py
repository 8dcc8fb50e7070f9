"""Joint log-density and gradient of two PyMC-style models: gnomon (numba, jax) against PyMC's
``compile_logp`` / ``compile_dlogp`` in the same run; prints figures and ratios, asserts nothing.

Models (both on the unconstrained space, scale parameters log-transformed with their Jacobian):

* **eight schools, non-centered**: ``mu ~ N(0, 5)``, ``tau ~ HalfCauchy(5)``,
  ``theta_tilde ~ N(0, 1)`` (8), ``y ~ N(mu + tau * theta_tilde, sigma)`` observed;
* **radon-like varying intercepts**: 919 observations in 85 groups, ``mu_a ~ N(0, 10)``,
  ``sigma_a ~ HalfNormal(5)``, ``a_offset ~ N(0, 1)`` (85), ``b ~ N(0, 10)``,
  ``sigma_y ~ HalfNormal(5)``, ``y ~ N(mu_a + sigma_a * a_offset[group] + b * x, sigma_y)``.

For each model and system, a fresh subprocess with an empty compilation cache (gnomon's
``XDG_CACHE_HOME``, PyTensor's ``compiledir``) measures the **cold** time from the model
description to the first log-density and gradient (two compiled functions, as PyMC's
``compile_logp`` and ``compile_dlogp``), then a second process with the same cache measures the
**warm** time, then the time per **evaluation** (best of rounds of many calls). The log-density
values are printed too, so the systems can be seen to agree.

Run: ``.venv/bin/python bench/logprob_bench.py [--rounds 5] [--only numba,jax,pymc]``
(PyMC is an optional bench dependency: ``./dev bench`` installs it.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

Y8 = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
S8 = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def radon_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic radon-like data: 919 observations, 85 groups, one covariate."""
    rng = np.random.default_rng(0)
    group = np.concatenate([np.arange(85), rng.integers(0, 85, 919 - 85)])
    x = rng.integers(0, 2, 919).astype(float)
    a = rng.normal(1.5, 0.3, 85)
    y = a[group] - 0.7 * x + rng.normal(0, 0.75, 919)
    return group, x, y


def points(model: str) -> list[np.ndarray]:
    """A point of the unconstrained space (the order the functions take their arguments)."""
    rng = np.random.default_rng(1)
    if model == "eight_schools":
        return [np.array(1.0), np.array(0.5), rng.normal(size=8)]
    return [np.array(1.4), np.array(-1.0), rng.normal(size=85), np.array(-0.5),
            np.array(-0.3)]


# --- gnomon ------------------------------------------------------------------------------------

def gnomon_functions(model: str, mode: str) -> tuple[Any, Any]:
    import gnomon
    import gnomon.random as gr
    import gnomon.tensor as gt
    from gnomon.logprob.transforms import transformed_conditional_logp

    if model == "eight_schools":
        mu = gr.normal(0.0, 5.0)
        tau = gr.halfcauchy(0.0, 5.0)
        theta_t = gr.normal(0.0, 1.0, size=8)
        y = gr.normal(mu + tau * theta_t, S8)
        vals = [gt.dscalar("mu"), gt.dscalar("tau_log__"), gt.dvector("theta_t")]
        rvs = [mu, tau, theta_t]
        obs = Y8
    else:
        group, x, yobs = radon_data()
        mu_a = gr.normal(0.0, 10.0)
        sigma_a = gr.halfnormal(0.0, 5.0)
        a_off = gr.normal(0.0, 1.0, size=85)
        b = gr.normal(0.0, 10.0)
        sigma_y = gr.halfnormal(0.0, 5.0)
        y = gr.normal(mu_a + sigma_a * a_off[group] + b * x, sigma_y)
        vals = [gt.dscalar("mu_a"), gt.dscalar("sigma_a_log__"), gt.dvector("a_offset"),
                gt.dscalar("b"), gt.dscalar("sigma_y_log__")]
        rvs = [mu_a, sigma_a, a_off, b, sigma_y]
        obs = yobs
    terms = transformed_conditional_logp({**dict(zip(rvs, vals, strict=True)), y: obs})
    lp = gt.sum(gt.stack([gt.sum(t) for t in terms.values()]))
    grads = gnomon.grad(lp, vals)
    dlp = gt.concatenate([gt.reshape(g, (-1,)) for g in grads])
    return (gnomon.function(vals, lp, mode=mode), gnomon.function(vals, dlp, mode=mode))


# --- PyMC --------------------------------------------------------------------------------------

def pymc_functions(model: str) -> tuple[Any, Any]:
    import pymc as pm

    with pm.Model() as m:
        if model == "eight_schools":
            mu = pm.Normal("mu", 0.0, 5.0)
            tau = pm.HalfCauchy("tau", 5.0)
            theta_t = pm.Normal("theta_t", 0.0, 1.0, shape=8)
            pm.Normal("y", mu + tau * theta_t, S8, observed=Y8)
            names = ["mu", "tau_log__", "theta_t"]
        else:
            group, x, yobs = radon_data()
            mu_a = pm.Normal("mu_a", 0.0, 10.0)
            sigma_a = pm.HalfNormal("sigma_a", 5.0)
            a_off = pm.Normal("a_offset", 0.0, 1.0, shape=85)
            b = pm.Normal("b", 0.0, 10.0)
            sigma_y = pm.HalfNormal("sigma_y", 5.0)
            pm.Normal("y", mu_a + sigma_a * a_off[group] + b * x, sigma_y, observed=yobs)
            names = ["mu_a", "sigma_a_log__", "a_offset", "b", "sigma_y_log__"]
    flp = m.compile_logp()
    fdlp = m.compile_dlogp()

    def wrap(pf: Any) -> Any:
        return lambda *args: pf(dict(zip(names, args, strict=True)))

    return wrap(flp), wrap(fdlp)


# --- one measurement (child process) -----------------------------------------------------------

def child(system: str, model: str, rounds: int) -> dict[str, Any]:
    import warnings

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    if system == "pymc":
        f, df = pymc_functions(model)
    else:
        f, df = gnomon_functions(model, system)
    pt = points(model)
    lp = float(f(*pt))
    g = np.asarray(df(*pt))
    first = time.perf_counter() - t0
    f(*pt)  # with tiered execution (gnomon's default) the second call runs the final program
    df(*pt)
    ready = time.perf_counter() - t0
    n = 200
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(n):
            f(*pt)
            df(*pt)
        best = min(best, (time.perf_counter() - t) / n)
    return {"first": first, "ready": ready, "eval": best, "logp": lp,
            "grad_norm": float(np.linalg.norm(g))}


def measure(system: str, model: str, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, XDG_CACHE_HOME=cache,
                   PYTENSOR_FLAGS=f"compiledir={cache}/pytensor")
        out: dict[str, Any] = {}
        for phase in ("cold", "warm"):
            r = subprocess.run([sys.executable, __file__, "--child", system, model,
                                "--rounds", str(rounds)], env=env, capture_output=True,
                               text=True)
            if r.returncode != 0:
                return {"error": (r.stderr.strip().splitlines() or ["?"])[-1]}
            res = json.loads(r.stdout.strip().splitlines()[-1])
            out[phase] = res["first"]
            out[phase + "_ready"] = res["ready"]
            out.update({k: v for k, v in res.items() if k not in ("first", "ready")})
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="numba,jax,pymc")
    ap.add_argument("--child", nargs=2, metavar=("SYSTEM", "MODEL"))
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child[0], a.child[1], a.rounds)))
        return
    systems = a.only.split(",")
    try:
        import pymc  # noqa: F401
    except ImportError:
        if "pymc" in systems:
            print("PyMC is not installed: its column is skipped (./dev bench installs it)")
            systems.remove("pymc")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    for model in ("eight_schools", "radon"):
        res = {s: measure(s, model, a.rounds) for s in systems}
        print(f"\n{model}: seconds to the first logp + dlogp, and until a call runs the final "
              "compiled program ('ready'; gnomon's first call runs on the NumPy tier while "
              "Numba compiles), cold and warm cache; µs per logp + dlogp evaluation")
        print(f"{'system':8} {'cold':>7} {'ready':>7} {'warm':>7} {'ready':>7} {'eval µs':>9} "
              f"{'logp':>12}  ratios vs PyMC (cold ready, warm ready, eval)")
        ref = res.get("pymc")
        for s, r in res.items():
            if "error" in r:
                print(f"{s:8} failed: {r['error']}")
                continue
            ratio = ""
            if ref and "error" not in ref and s != "pymc":
                ratio = (f"{r['cold_ready'] / ref['cold_ready']:.2f}x  "
                         f"{r['warm_ready'] / ref['warm_ready']:.2f}x  "
                         f"{r['eval'] / ref['eval']:.2f}x")
            print(f"{s:8} {r['cold']:7.2f} {r['cold_ready']:7.2f} {r['warm']:7.2f} "
                  f"{r['warm_ready']:7.2f} {r['eval'] * 1e6:9.1f} {r['logp']:12.4f}  {ratio}")


if __name__ == "__main__":
    main()
