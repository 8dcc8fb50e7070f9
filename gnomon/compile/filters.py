"""The fast input check of compiled backends (``CompiledProgram.input_filter``).

``input_filter(type)`` returns a check with the signature of ``Type.filter`` that accepts the
common cases (an ndarray of the right dtype and rank, a Python float for a float scalar) with a
few identity tests and hands everything else to ``type.filter``, with its full conversion rules
and error messages. It imports only NumPy, so a tiered function (``gnomon/compile/tiered.py``)
checks its inputs exactly as the Numba program will without importing Numba first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def input_filter(t: Any) -> Callable[..., Any]:
    """A fast input check for type ``t``: the common cases (an ndarray of the right dtype and
    rank, a Python float for a float scalar) are accepted with a few identity tests, anything
    else goes to ``t.filter`` with its full conversion rules and error messages. (A dtype
    equal to the input's but another object, such as the unpickled copy of float64's that
    arrays made by compiled code loaded from a cache carry, is accepted too, as ``t.filter``
    would: ``==`` runs only when the identity test fails.)"""
    slow = t.filter
    if not hasattr(t, "dtype"):  # not an array type (a random generator)
        return slow  # type: ignore[no-any-return]
    dt = np.dtype(t.dtype)
    nd = t.ndim
    static = tuple((i, s) for i, s in enumerate(t.shape) if s is not None)
    ndarray = np.ndarray
    py_float = nd == 0 and dt.kind == "f" and dt.itemsize >= 4

    if static:
        def f(a: Any, name: str = "input", allow_downcast: bool = False) -> Any:
            tp = type(a)
            if tp is ndarray:
                if ((a.dtype is dt or a.dtype == dt) and a.ndim == nd
                        and all(a.shape[i] == s for i, s in static)):
                    return a
            elif tp is float and py_float:
                return np.array(a, dtype=dt)
            return slow(a, name=name, allow_downcast=allow_downcast)
    else:
        # no static lengths to check: two identity tests on the common path
        def f(a: Any, name: str = "input", allow_downcast: bool = False) -> Any:
            tp = type(a)
            if tp is ndarray:
                if (a.dtype is dt or a.dtype == dt) and a.ndim == nd:
                    return a
            elif tp is float and py_float:
                return np.array(a, dtype=dt)
            return slow(a, name=name, allow_downcast=allow_downcast)

    return f
