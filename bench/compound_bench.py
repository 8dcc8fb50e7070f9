"""Compound steps (NUTS + Metropolis) and Metropolis alone: gnomon's ``pm.sample`` against
PyMC's on the same model code, and the cost of one log-density evaluation called from Python
against one called inside compiled code (what the Metropolis blocks of the chain kernel do);
prints figures, asserts nothing.

Run ``.venv/bin/python bench/compound_bench.py``: gnomon runs in this interpreter and PyMC in the
peers' (``$GNOMON_PEERS_PYTHON``, set by ``./dev bench``, else ``.venv-peers/bin/python``), one
fresh process each, so each system's compile is included in its wall time and PyMC's numba pin
never touches gnomon's environment; the ratios are printed at the end.
``... compound_bench.py gnomon`` (or ``pymc``) runs one system in this interpreter.

Models: ``lam ~ Gamma(3, 1)``, ``k ~ Poisson(lam)``, ``y ~ N(k, 1)`` with ``y = 5``
(NUTS on ``lam``, Metropolis on ``k``; 2 chains x (1000 tune + 2000 draws), ``cores=1``), and
``a ~ N(1, 2)`` with ``step=pm.Metropolis()`` (2 chains x (1000 + 10000)).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import numpy as np


def main(which: str) -> None:
    y = np.array([5.0])
    kw = {"random_seed": 1, "progressbar": False, "compute_convergence_checks": False,
          "cores": 1}
    if which == "gnomon":
        import gnomon.ppl as pm
        from gnomon.ppl.compound import make_plan

        kw["return_inferencedata"] = False
    else:
        import pymc as pm  # type: ignore[no-redef]
    t = time.perf_counter()
    with pm.Model() as m:
        lam = pm.Gamma("lam", alpha=3.0, beta=1.0)
        k = pm.Poisson("k", lam)
        pm.Normal("y", mu=k, sigma=1.0, observed=y)
        pm.sample(2000, tune=1000, chains=2, **kw)
    print(f"{which}: NUTS + Metropolis, model to draws: {time.perf_counter() - t:.2f} s")
    with pm.Model():
        pm.Normal("a", 1.0, 2.0)
        t = time.perf_counter()
        pm.sample(10000, tune=1000, chains=2, step=pm.Metropolis(), **kw)
    print(f"{which}: Metropolis alone, 2 x 11000 iterations: {time.perf_counter() - t:.2f} s")
    if which != "gnomon":
        return
    from numba import njit

    plan = make_plan(m, None, None)
    f = plan.fn_lp
    q = f.initial_q()
    n = 20000
    t = time.perf_counter()
    for _ in range(n):
        f.logp_dlogp(q)
    print(f"log-density called from Python: {(time.perf_counter() - t) / n * 1e6:.1f} us")
    fl = f.numba_fn

    @njit
    def loop(fl, q, n):  # type: ignore[no-untyped-def]
        s = 0.0
        for _ in range(n):
            s += fl(q)[0]
        return s

    loop(fl, q, 10)
    n = 200000
    t = time.perf_counter()
    loop(fl, q, n)
    print(f"log-density called in compiled code: {(time.perf_counter() - t) / n * 1e6:.1f} us")


def both() -> None:
    """gnomon (this interpreter) and PyMC (the peers' interpreter), side by side."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from sampling_bench import available, peers_python

    peers = peers_python(None)
    times: dict[str, list[float]] = {}
    for which, python in (("gnomon", sys.executable), ("pymc", peers)):
        if not available(which, python):
            print(f"{which} is not installed in {python}: skipped")
            continue
        p = subprocess.run([python, __file__, which], capture_output=True, text=True)
        print(p.stdout, end="")
        if p.returncode != 0:
            print(f"{which} failed: {(p.stderr.strip().splitlines() or ['?'])[-1]}")
            continue
        times[which] = [float(x) for x in re.findall(r": ([0-9.]+) s$", p.stdout, re.M)]
    if len(times) == 2:
        for label, g, pm_ in zip(("NUTS + Metropolis", "Metropolis alone"), times["gnomon"],
                                 times["pymc"], strict=False):
            print(f"{label}: PyMC / gnomon wall time {pm_ / g:.1f}x")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        both()
