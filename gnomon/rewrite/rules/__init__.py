"""The standard rewrite rules, one module per pipeline stage, and helpers for writing rules.

Rules name ops of modules other developers extend over time, so they find them lazily:
:func:`scalar` gives a pattern spec for ``Elemwise(<scalar op class>)`` looked up by class name
in :mod:`gnomon.scalar.math` / :mod:`gnomon.scalar.basic` on first use, and :func:`apply_scalar`
builds that op, preferring the public tensor function. A rule whose op does not exist never
matches (it stays registered and starts working once the op is there).
"""

from __future__ import annotations

import importlib
from typing import Any

from gnomon.rewrite.pattern import LazyOp

_SCALAR_MODULES = ("gnomon.scalar.math", "gnomon.scalar.basic")


def find_scalar_class(name: str) -> Any:
    """The scalar op class ``name`` from the scalar modules, or ``None``."""
    for m in _SCALAR_MODULES:
        try:
            mod = importlib.import_module(m)
        except ImportError:  # pragma: no cover
            continue
        cls = getattr(mod, name, None)
        if isinstance(cls, type):
            return cls
    return None


def scalar(name: str) -> LazyOp:
    """Pattern spec: an Elemwise node whose scalar op is an instance of class ``name``.

    Examples
    --------
    >>> scalar("Sqrt").resolve().__name__
    'Sqrt'
    """
    return LazyOp(lambda: find_scalar_class(name), f"Elemwise({name})", elemwise=True)


def apply_scalar(name: str, *args: Any, function: str | None = None) -> Any:
    """Build ``Elemwise(name())(*args)``, through the tensor function ``function`` if it exists.

    Returns ``None`` when the op does not exist, so a rule can decline.
    """
    from gnomon.tensor.elemwise import Elemwise

    if function is not None:
        fn = getattr(importlib.import_module("gnomon.tensor.math"), function, None)
        if fn is not None:
            return fn(*args)
    cls = find_scalar_class(name)
    if cls is None:
        return None
    return Elemwise(cls())(*args)


def tensor_function(name: str, module: str = "gnomon.tensor") -> Any:
    """The public tensor function ``name`` (``None`` if it does not exist yet)."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
