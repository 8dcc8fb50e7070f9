"""The standard rewrite rules, one module per pipeline stage.

* :mod:`~gnomon.rewrite.rules.canonicalize` — algebra, casts, dimshuffles, shapes, constant
  folding;
* :mod:`~gnomon.rewrite.rules.stabilize` — numerically stable forms;
* :mod:`~gnomon.rewrite.rules.saturate` — equality saturation (opt-in; the engine is
  :mod:`gnomon.rewrite.egraph`);
* :mod:`~gnomon.rewrite.rules.specialize` — faster forms and BLAS calls;
* :mod:`~gnomon.rewrite.rules.fusion` — elementwise fusion.

Each module imports the op classes it matches and the tensor functions it builds with, and
registers its rules at module level, so a renamed op fails when the module is imported.
:mod:`gnomon.rewrite.pipeline` imports the modules.
"""
