"""``Sort`` and ``Argsort`` along one axis: the axis is moved last and each row is sorted
(``np.sort``, and the stable ``np.argsort(kind='mergesort')`` as the reference's
``kind='stable'``); NaN sorts last, as in NumPy."""

from __future__ import annotations

from gnomon.backends.numba.dispatch import numba_funcify
from gnomon.backends.numba.reduce import rows_map_source


def _register() -> None:
    import importlib

    tsort = importlib.import_module("gnomon.tensor.sort")

    if hasattr(tsort, "Sort"):
        @numba_funcify.register(tsort.Sort)
        def _(op, node):  # type: ignore[no-untyped-def]
            x = node.inputs[0]
            if x.dtype[0] == "c" or x.ndim == 0:
                raise NotImplementedError("sorting complex numbers")
            return rows_map_source(x.ndim, (op.axis,), node.outputs[0].dtype,
                                   ["o[r, :] = np.sort(y[r])"])

    if hasattr(tsort, "Argsort"):
        @numba_funcify.register(tsort.Argsort)
        def _(op, node):  # type: ignore[no-untyped-def]
            x = node.inputs[0]
            if x.dtype[0] == "c" or x.ndim == 0:
                raise NotImplementedError("argsort of complex numbers")
            src = rows_map_source(x.ndim, (op.axis,), "int64",
                                  ["o[r, :] = np.argsort(y[r], kind='mergesort')"])
            # the rows form casts x to the output dtype; argsort must see the original values
            return src.replace("x.astype(np.int64)", "x")


_register()
