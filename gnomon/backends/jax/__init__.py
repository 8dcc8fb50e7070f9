"""The JAX backend (``mode="jax"``): a whole gnomon graph becomes one ``jax.jit`` function.

* :mod:`~gnomon.backends.jax.linker` -- :func:`compile_program`, the entry point, and the JAX
  callable for users (:func:`to_jax`, :func:`jax_fn`), :func:`numpy_outputs`;
* :mod:`~gnomon.backends.jax.dispatch` -- the registries :func:`jax_funcify` (per op class) and
  :func:`jax_scalar_funcify` (per scalar op class);
* one module per op family registering its lowerings: ``scalar``, ``elemwise``, ``basic``,
  ``shape``, ``reduce``, ``creation``, ``indexing``, ``sort``, ``blas``, ``linalg``, ``control``.

JAX is an optional dependency: ``pip install 'gnomon[jax]'``. See ``docs/backends.md`` ("JAX")
for float64, static shapes, and the ops that have no lowering.

Examples
--------
>>> import numpy as np, gnomon, gnomon.tensor as gt
>>> x = gt.dmatrix("x")
>>> f = gnomon.function([x], gt.sum(x ** 2, axis=1), mode="jax")
>>> np.asarray(f(np.ones((2, 3)))).tolist()
[3.0, 3.0]
"""

from __future__ import annotations

# The modules that register lowerings, one per op family: imported for their registrations
# (a missing module is an error, never skipped).
from gnomon.backends.jax import (  # noqa: F401
    basic,
    blas,
    callback,
    compat,
    composite,
    control,
    creation,
    elemwise,
    indexing,
    linalg,
    logprob,
    random,
    reduce,
    scalar,
    shape,
    sort,
    special,
)
from gnomon.backends.jax.dispatch import (
    NeedsConcreteValue,
    jax_funcify,
    jax_scalar_funcify,
)
from gnomon.backends.jax.linker import (
    JaxFallbackWarning,
    JaxThunk,
    compile_program,
    jax_fn,
    numpy_outputs,
    to_jax,
)

#: The op classes (and scalar op classes) with no JAX lowering, with the reason; a function using
#: one fails to compile with mode='jax'. ``docs/backends.md`` shows this table, and
#: ``tests/backends/test_unlowered.py`` checks that it is exactly the set of op classes without a
#: lowering. Currently every op is lowered.
UNLOWERED: dict[type, str] = {}

__all__ = [
    "UNLOWERED", "JaxFallbackWarning", "JaxThunk", "NeedsConcreteValue", "compile_program",
    "jax_fn",
    "jax_funcify", "jax_scalar_funcify", "numpy_outputs", "to_jax",
]

# lowerings handed over by the layers above (gnomon.ppl's private ops): registered now
from gnomon.backends import backend_loaded as _backend_loaded  # noqa: E402

_backend_loaded("jax")
