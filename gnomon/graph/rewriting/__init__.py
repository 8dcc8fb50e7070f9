"""PyTensor's ``pytensor.graph.rewriting`` package path (``utils.rewrite_graph``).

gnomon's rewrite engine lives in :mod:`gnomon.rewrite`; this package only gives the module path
PyTensor users import from.
"""

from __future__ import annotations

from gnomon.graph.rewriting import utils
from gnomon.graph.rewriting.utils import rewrite_graph

__all__ = ["rewrite_graph", "utils"]
