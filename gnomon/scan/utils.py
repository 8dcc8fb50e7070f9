"""PyTensor's ``pytensor.scan.utils`` module path: ``until``.

gnomon's scan has no stopping condition yet: a loop body that returns ``until(cond)`` fails
when it builds it, with an error that says so and how to write the loop without it (see
``docs/compatibility.md``).
"""

from __future__ import annotations

from typing import Any

from gnomon.errors import GnomonValueError, with_hint, with_user_line

__all__ = ["until"]


class until:
    """A scan stopping condition (``return outputs, until(cond)``): not supported by gnomon.

    Raises :class:`~gnomon.errors.GnomonValueError` when built.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> until(gt.dscalar("x") > 1.0)
    Traceback (most recent call last):
    ...
    gnomon.errors.GnomonValueError: scan with a stopping condition (until) is not supported ...
    """

    def __init__(self, condition: Any) -> None:
        raise GnomonValueError(with_user_line(with_hint(
            "scan with a stopping condition (until) is not supported by gnomon yet",
            "run a fixed number of steps (n_steps=the most you need) and carry a 'done' flag "
            "in outputs_info: once it is true, return the previous values unchanged "
            "(gt.where(done, old, new))")))
