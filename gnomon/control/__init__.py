"""Inner-graph ops: :class:`OpFromGraph`, :func:`ifelse` and :func:`scan` (with ``map``,
``reduce``, ``foldl``, ``foldr``).

Each op holds a closed inner graph (:class:`~gnomon.control.inner.InnerGraph`) whose structure
is the op's identity; see the module of each op for its gradient, rewrites and lowerings.
"""

from gnomon.control.ifelse import IfElse, ifelse
from gnomon.control.inner import InnerGraph
from gnomon.control.opfromgraph import OpFromGraph
from gnomon.control.scan import Scan, foldl, foldr, map, reduce, scan

__all__ = [
    "IfElse", "InnerGraph", "OpFromGraph", "Scan", "foldl", "foldr", "ifelse", "map", "reduce",
    "scan",
]
