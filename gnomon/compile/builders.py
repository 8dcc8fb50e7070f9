"""``OpFromGraph`` at PyTensor's module path (``pytensor.compile.builders``).

The op itself lives in :mod:`gnomon.control.opfromgraph` (it needs the control-flow layer's
inner graphs); this module gives it the import path PyTensor code uses::

    from gnomon.compile.builders import OpFromGraph

Examples
--------
>>> import gnomon.tensor as gt
>>> from gnomon.compile.builders import OpFromGraph
>>> x, y = gt.dscalar("x"), gt.dscalar("y")
>>> op = OpFromGraph([x, y], [x * y], lop_overrides=lambda ins, outs, gs: [gs[0] * ins[1],
...                                                                          gs[0] * ins[0]])
>>> a = gt.dscalar("a")
>>> float(op(a, a).eval({a: 3.0}, mode="numpy"))
9.0
"""

from __future__ import annotations

from gnomon.control.opfromgraph import OpFromGraph

__all__ = ["OpFromGraph"]
