"""Scalar ops of elementwise math functions (exp, log, trigonometric, special functions ...)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnomon.scalar.basic import UnaryScalarOp


@dataclass(frozen=True)
class Exp(UnaryScalarOp):
    name = "exp"
    impl = staticmethod(np.exp)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        return [grads[0] * outputs[0]]


@dataclass(frozen=True)
class Log(UnaryScalarOp):
    name = "log"
    impl = staticmethod(np.log)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        return [grads[0] / inputs[0]]
