"""PyTensor's ``pytensor.scan.basic`` module path: :func:`scan` (see :mod:`gnomon.control.scan`)."""

from __future__ import annotations

from gnomon.control.scan import Scan, scan

__all__ = ["Scan", "scan"]
