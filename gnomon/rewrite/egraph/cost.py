"""The cost model of extraction: what an e-node costs, from its op and the size of its type.

``cost = weight(op) * elements + memory traffic``. The weight is a relative run time per element
(:data:`gnomon.rewrite.egraph.rules.OPS`: add 1, multiply 2, divide 6, sqrt 8, exp/log 16,
softplus 20, pow 24). Memory traffic counts only for tensors too large for the cache
(``elements * itemsize > CACHE_BYTES``): reading each input and writing the output,
``(inputs + 1) * elements * itemsize / 8 * TRAFFIC_WEIGHT``; below that size an elementwise op
is bound by its arithmetic. A dimension of unknown length counts as ``UNKNOWN_LENGTH``.

The figures are orders of magnitude (the ratios that matter are the ones between ops on one
CPU core), not a calibration: fusion later merges chains of elementwise ops into one loop,
which makes the traffic of intermediate results vanish, and that the model does not see.
"""

from __future__ import annotations

#: The length assumed for a dimension of unknown length.
UNKNOWN_LENGTH = 100.0
#: Bytes above which an operand is assumed not to stay in cache.
CACHE_BYTES = 1 << 20
#: Cost per 8 bytes moved to or from memory (an add costs 1 per element).
TRAFFIC_WEIGHT = 1.0


def generic_weight() -> float:
    """The weight of an elementwise op the rules do not name (as a transcendental op)."""
    from gnomon.rewrite.egraph.rules import GENERIC_WEIGHT

    return GENERIC_WEIGHT


def node_cost(weight: float, n_inputs: int, elements: float, itemsize: int) -> float:
    """The cost of one elementwise node.

    Examples
    --------
    >>> node_cost(1.0, 2, 10.0, 8)
    10.0
    >>> node_cost(1.0, 2, 1e6, 8) > 1e6   # 8 MB: memory traffic counts
    True
    """
    c = weight * elements
    if elements * itemsize > CACHE_BYTES:
        c += (n_inputs + 1) * elements * itemsize / 8 * TRAFFIC_WEIGHT
    return c
