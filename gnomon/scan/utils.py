"""PyTensor's ``pytensor.scan.utils`` module path: :class:`until`, a scan stopping condition
(defined in :mod:`gnomon.control.scan`).

Examples
--------
>>> import gnomon, gnomon.tensor as gt
>>> from gnomon.scan.utils import until
>>> m = gt.dscalar("m")
>>> values, _ = gnomon.scan(lambda p, m: (p * 2, until(p * 2 > m)),
...                         outputs_info=gt.constant(1.0), non_sequences=m, n_steps=1024)
>>> values.eval({m: 45.0}, mode="numpy").tolist()
[2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
"""

from __future__ import annotations

from gnomon.control.scan import until

__all__ = ["until"]
