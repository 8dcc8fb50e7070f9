"""``gnomon.tensor`` (imported as ``gt``): tensor types, constructors and NumPy-like functions.

Every public function of the family modules (``basic``, ``shape``, ``math``, ``reduce``,
``indexing``, ``linalg``, ...) is re-exported here, so ``gt.exp``, ``gt.sum``, ``gt.dmatrix``
work like their NumPy / PyTensor namesakes.
"""

from __future__ import annotations

import importlib
import types as _types

from gnomon.tensor.type import TensorType
from gnomon.tensor.variable import TensorConstant, TensorVariable

# Family modules, in import order; later modules may use earlier ones.
_FAMILIES = (
    "basic", "shape", "elemwise", "math", "reduce", "extra", "creation", "indexing", "blas",
    "linalg", "sort",
)


def _export(module_name: str) -> list[str]:
    try:
        mod = importlib.import_module(f"gnomon.tensor.{module_name}")
    except ModuleNotFoundError as e:
        if e.name == f"gnomon.tensor.{module_name}":
            return []
        raise
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [
            n for n, v in vars(mod).items()
            if not n.startswith("_")
            and not isinstance(v, _types.ModuleType)
            and getattr(v, "__module__", mod.__name__) == mod.__name__
        ]
    g = globals()
    for n in names:
        g[n] = getattr(mod, n)
    return list(names)


__all__ = ["TensorConstant", "TensorType", "TensorVariable"]
for _m in _FAMILIES:
    __all__ += _export(_m)
del _m
