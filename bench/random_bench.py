"""Draws per second of gnomon's random variables against NumPy's ``Generator`` and
``jax.random`` in the same run; prints figures and ratios, asserts nothing.

Each case draws ``--n`` values (10M by default) from one distribution: through a compiled
gnomon function whose generator advances by its default update (``RandomStream``), in every
available mode, and directly with NumPy (``Generator`` method) and JAX (``jax.jit`` of the
``jax.random`` sampler, float64). Candidates are timed round-robin, best round kept, so load
from other processes affects them alike. The first call (compilation) is not timed.

Run: ``.venv/bin/python bench/random_bench.py [--n 10000000] [--rounds 3] [--quick]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import gnomon
import gnomon.random as gr
from gnomon.testing import available_modes

K = 5  # categories of the multivariate cases


def cases(n: int) -> dict[str, tuple[Callable[[gr.RandomStream], Any],
                                      Callable[[np.random.Generator], Any],
                                      Callable[[Any, Any], Any] | None]]:
    """name -> (gnomon draw from a stream, NumPy draw, jax.random draw or None)."""
    alpha = np.arange(1.0, K + 1.0)
    cov = np.eye(K) + 0.5
    m = n // K
    try:
        import jax
        import jax.numpy as jnp
        jr = jax.random
    except ImportError:  # pragma: no cover - JAX is a bench dependency
        jr = None
    return {
        "normal": (lambda s: s.normal(1.0, 2.0, size=n),
                   lambda g: g.normal(1.0, 2.0, size=n),
                   (lambda k, _: 1.0 + 2.0 * jr.normal(k, (n,), dtype=jnp.float64))
                   if jr else None),
        "gamma": (lambda s: s.gamma(2.5, 1.5, size=n),
                  lambda g: g.gamma(2.5, 1.5, size=n),
                  (lambda k, _: 1.5 * jr.gamma(k, 2.5, (n,), dtype=jnp.float64))
                  if jr else None),
        "poisson": (lambda s: s.poisson(4.0, size=n),
                    lambda g: g.poisson(4.0, size=n),
                    (lambda k, _: jr.poisson(k, 4.0, (n,))) if jr else None),
        "dirichlet": (lambda s: s.dirichlet(alpha, size=m),
                      lambda g: g.dirichlet(alpha, size=m),
                      (lambda k, _: jr.dirichlet(k, jnp.asarray(alpha), (m,),
                                                 dtype=jnp.float64)) if jr else None),
        "multivariate_normal": (lambda s: s.multivariate_normal(np.zeros(K), cov, size=m),
                                lambda g: g.multivariate_normal(np.zeros(K), cov, size=m),
                                (lambda k, _: jr.multivariate_normal(
                                    k, jnp.zeros(K), jnp.asarray(cov), (m,),
                                    dtype=jnp.float64)) if jr else None),
    }


def best_times(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    for fn in fns.values():
        fn()  # compile / warm up
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1M draws, 2 rounds")
    args = ap.parse_args()
    n, rounds = (1_000_000, 2) if args.quick else (args.n, args.rounds)
    modes = [m for m in available_modes() if m in ("numpy", "numba", "jax")]
    print(f"{n:,} draws per call; best of {rounds} rounds; seconds per call "
          "(ratio to NumPy's Generator, < 1 is faster)")
    for name, (build, ref, jax_draw) in cases(n).items():
        fns: dict[str, Callable[[], Any]] = {}
        for mode in modes:
            stream = gr.RandomStream(1)
            f = gnomon.function([], build(stream), mode=mode)
            fns[f"gnomon {mode}"] = f
        g = np.random.default_rng(1)
        fns["numpy Generator"] = lambda g=g, ref=ref: ref(g)
        if jax_draw is not None:
            import jax

            jax.config.update("jax_enable_x64", True)
            jitted = jax.jit(jax_draw)
            key = [jax.random.key(1)]

            def run_jax(jitted: Any = jitted, key: list[Any] = key) -> Any:
                key[0], sub = jax.random.split(key[0])
                return jitted(sub, None).block_until_ready()

            fns["jax.random"] = run_jax
        t = best_times(fns, rounds)
        base = t["numpy Generator"]
        row = "  ".join(f"{k} {v:.3f}s ({v / base:.2f})" for k, v in t.items())
        print(f"{name:>20}: {row}", flush=True)


if __name__ == "__main__":
    main()
