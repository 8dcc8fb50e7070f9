"""``gnomon.tensor`` (imported as ``gt``): tensor types, constructors and NumPy-like functions.

The public names of the family modules (each module's ``__all__``) are re-exported here, so
``gt.exp``, ``gt.sum``, ``gt.dmatrix`` work like their NumPy / PyTensor namesakes:

========================  ===============================================================
module                    holds
========================  ===============================================================
:mod:`.basic`             constants, ``as_tensor``, the type constructors, ``cast``, ``alloc``
:mod:`.shapes`            ``shape``, ``DimShuffle``, ``reshape``, ``concatenate``, ``repeat``, ...
:mod:`.elemwise`          ``Elemwise`` and ``sum_to``
:mod:`.math`              elementwise arithmetic, comparisons and special functions
:mod:`.reduce`            ``sum``, ``max``, ``argmax``, ``softmax``, ``cumsum``, ...
:mod:`.creation`          ``arange``, ``eye``, ``linspace``
:mod:`.indexing`          ``x[...]``, ``set_subtensor``, ``take``, ``nonzero``
:mod:`.blas`              ``dot``, ``matmul``, ``einsum``, ...
:mod:`.linalg`            ``solve``, ``cholesky``, ``svd``, ...
:mod:`.sorting`           ``sort``, ``argsort``, ``searchsorted``
:mod:`.special`           ``ndtr``, ``log_ndtr``, ``xlogy``, ``gammainc``, ``betainc``, ...
:mod:`.arrays`            PyTensor's other names: ``roll``, ``tril``, ``diag``, ``sqr``,
                          ``dmatrices``, ``row``, ``specify_shape``, ``batched_dot``, ...
========================  ===============================================================

PyTensor's module paths are modules here too: :mod:`.extra_ops` (whose names are re-exported
here, as in PyTensor), :mod:`.nlinalg`,
:mod:`.slinalg` (and :mod:`.special`). ``gt.grad``, ``gt.jacobian`` and ``gt.hessian`` are
:mod:`gnomon.gradient`'s functions, set here by ``gnomon/__init__.py`` (the gradient layer sits
above this package, as in PyTensor's own ``pytensor.tensor.grad``).

The module names differ from every function name, so ``import gnomon.tensor.shapes`` gives the
module while ``gt.shape`` is the function.
"""

from __future__ import annotations

from gnomon.tensor import (
    arrays,
    basic,
    blas,
    creation,
    elemwise,
    extra_ops,
    indexing,
    linalg,
    math,
    nlinalg,
    reduce,
    shapes,
    slinalg,
    sorting,
    special,
    user_op,  # noqa: F401  (installs the adapter for user ops written with PyTensor's protocol)
)
from gnomon.tensor.arrays import *  # noqa: F403
from gnomon.tensor.basic import *  # noqa: F403
from gnomon.tensor.blas import *  # noqa: F403
from gnomon.tensor.creation import *  # noqa: F403
from gnomon.tensor.elemwise import *  # noqa: F403
from gnomon.tensor.extra_ops import *  # noqa: F403
from gnomon.tensor.indexing import *  # noqa: F403
from gnomon.tensor.linalg import *  # noqa: F403
from gnomon.tensor.math import *  # noqa: F403
from gnomon.tensor.reduce import *  # noqa: F403
from gnomon.tensor.shapes import *  # noqa: F403
from gnomon.tensor.sorting import *  # noqa: F403
from gnomon.tensor.special import *  # noqa: F403
from gnomon.tensor.type import DTYPE_PREFIX, INT_DTYPES, TensorType
from gnomon.tensor.variable import TensorConstant, TensorVariable

__all__ = [
    "DTYPE_PREFIX", "INT_DTYPES", "TensorConstant", "TensorType", "TensorVariable",
    *basic.__all__, *shapes.__all__, *elemwise.__all__, *math.__all__, *reduce.__all__,
    *creation.__all__, *indexing.__all__, *blas.__all__, *linalg.__all__, *sorting.__all__,
    *special.__all__, *arrays.__all__,
    # extra_ops re-exports cumsum, repeat ... from the families: only its own names here
    *[n for n in extra_ops.__all__ if getattr(extra_ops, n).__module__ == extra_ops.__name__],
    "extra_ops", "nlinalg", "slinalg",  # PyTensor's module paths
]
