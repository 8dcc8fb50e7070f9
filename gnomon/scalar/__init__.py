"""Scalar ops mapped elementwise by :class:`gnomon.tensor.elemwise.Elemwise`."""

from gnomon.scalar.basic import *  # noqa: F403
from gnomon.scalar.basic import ScalarOp

__all__ = ["ScalarOp"]
