"""PyTensor's ``pytensor.ifelse`` module path: ``from gnomon.ifelse import ifelse, IfElse``.

The lazy branch itself lives in :mod:`gnomon.control.ifelse`. ``gnomon.ifelse`` is this module
and also stays callable as the function (``gnomon.ifelse(cond, a, b)``, gnomon's own spelling):
the module's class is a ``ModuleType`` subclass whose ``__call__`` is :func:`ifelse`.

Examples
--------
>>> import gnomon, gnomon.tensor as gt
>>> from gnomon.ifelse import ifelse
>>> a, b = gt.dscalars("a", "b")
>>> f = gnomon.function([a, b], ifelse(gt.lt(a, b), a, b), mode="numpy")
>>> float(f(1.0, 2.0)), float(f(3.0, 2.0))
(1.0, 2.0)
"""

from __future__ import annotations

import sys
import types
from typing import Any

from gnomon.control.ifelse import IfElse, ifelse

__all__ = ["IfElse", "ifelse"]


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`ifelse` (``gnomon.ifelse(cond, a, b)``)."""

    def __call__(self, cond: Any, then_branch: Any, else_branch: Any,
                 name: str | None = None) -> Any:
        return ifelse(cond, then_branch, else_branch, name)


sys.modules[__name__].__class__ = _CallableModule
