"""pytest configuration for the test suite and the doctests of ``gnomon/``.

Tiered execution is off: the backend tests must exercise the final compiled programs, not the
NumPy reference that answers a tiered function's first call (``gnomon/compile/tiered.py``).
Tests of tiering itself turn it on explicitly (``tests/compile/test_tiered.py``). The
environment variable carries the setting to the subprocesses that tests start (examples, cache
tests).

BLAS runs on one thread: the suite runs one pytest worker per core, and OpenBLAS's helper
threads busy-wait after each call on the tests' tiny matrices, taking CPU from the other
worker (measured: the linear-algebra gradient checks used 3x the CPU with two threads).
"""

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # read when NumPy loads BLAS, here and in subprocesses
if "numpy" in sys.modules:  # loaded before this file (a plugin): limit the running pool
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
    except ImportError:
        pass

# XLA compiles without LLVM's optimization passes (--xla_backend_optimization_level=0): the
# tests run each JAX program a few times on small arrays, so compiling is their cost (jax.random
# samplers: 5-11 s each). Measured on the JAX tests of tests/random, tests/logprob and
# tests/ppl, cold: 178.8 -> 119.5 s of CPU. The programs XLA is given are the same (gnomon's
# lowering is what the tests check: the HLO passes run at every level, only LLVM optimizes
# less; XLA keeps fast-math off either way).
# Set before JAX creates its CPU client (at the first computation), here and in subprocesses;
# an XLA_FLAGS of the user's own is left as it is.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

from gnomon.config import config  # noqa: E402

os.environ["GNOMON_TIERED"] = "off"
config.tiered = "off"
