"""A differential fuzzer: random small graphs, every backend against the NumPy reference.

Graphs are chains of one to four ops taken from the op-records table (``tests/records``), fed
with edge-case values (integer extremes, ``-1``, ``±0.0``, NaN, ``±inf``, subnormals, huge and
tiny floats, empty and length-1 dimensions) in every dtype. Each backend must give the reference
backend's dtype, shape and values (NaN-aware, exact for integers and booleans), or raise the
same error class when the reference raises.

Modules, in the order one case flows through them:

* :mod:`tests.fuzz.catalog` — the ops a graph is built from (the op-records rows, as code).
* :mod:`tests.fuzz.spec` — a case as plain data: inputs, steps, value sets; building the graph
  and printing a reproducer.
* :mod:`tests.fuzz.generate` — hypothesis strategies that draw cases, and targeted cases.
* :mod:`tests.fuzz.worker` — a subprocess that evaluates cases and compares the backends.
* :mod:`tests.fuzz.runner` — runs workers, catches crashes (a worker killed by a signal),
  reproduces and minimizes each discrepancy, and prints reproducers.
* :mod:`tests.fuzz.known` — ``KNOWN`` (known bugs not fixed yet) and ``ACCEPTED`` (differences
  by design): discrepancies they explain are reported but never fail.

``./dev fuzz`` runs the long fuzzer (``python -m tests.fuzz --help``); ``tests/test_fuzz.py``
runs a small fixed-seed version in the test suite.
"""
