"""Op records of the inner-graph ops: OpFromGraph, IfElse, Scan (gnomon/control/)."""

from __future__ import annotations

import numpy as np

import gnomon.tensor as gt
from gnomon.control import IfElse, OpFromGraph, Scan, ifelse, scan
from tests.records import F, OpRecord

_a, _b = gt.dvector("a"), gt.dvector("b")
#: one module-level wrapper, so every row and backend sees the same op
MULADD = OpFromGraph([_a, _b], [_a * _b + gt.exp(_a)], name="muladd")


def _cumprod(x):  # type: ignore[no-untyped-def]
    out, _ = scan(lambda v, acc: v * acc, sequences=[x], outputs_info=[gt.ones_like(x[0])])
    return out


def _power4(a):  # type: ignore[no-untyped-def]
    out, _ = scan(lambda prior, a: prior * a, outputs_info=[gt.ones_like(a)],
                  non_sequences=[a], n_steps=4)
    return out[-1]


def _recurrence2(x0):  # type: ignore[no-untyped-def]
    out, _ = scan(lambda a, b: 0.5 * b + 0.3 * a * b,
                  outputs_info=[{"initial": x0, "taps": [-2, -1]}], n_steps=6)
    return out


def _recurrence2_ref(x0):  # type: ignore[no-untyped-def]
    hist = [x0[0], x0[1]]
    for _ in range(6):
        hist.append(0.5 * hist[-1] + 0.3 * hist[-2] * hist[-1])
    return np.array(hist[2:])


RECORDS = [
    OpRecord("scan_cumprod", _cumprod, lambda x: np.cumprod(x),
             [[F(6, low=0.5, high=1.5)]], grad=2, ops=(Scan,)),
    OpRecord("scan_power_by_repeated_mul", _power4, lambda a: a ** 4,
             [[F(5)]], grad=2, ops=(Scan,)),
    OpRecord("scan_two_taps", _recurrence2, _recurrence2_ref,
             [[F(2, low=0.2, high=1.0)]], grad=2, ops=(Scan,)),
    OpRecord("ifelse_positive", lambda c, x: ifelse(c > 0, gt.exp(x) * c, -x),
             lambda c, x: np.exp(x) * c if c > 0 else -x,
             [[F(low=0.5, high=2.0), F(4)], [F(low=-2.0, high=-0.5), F(4)]],
             grad=2, ops=(IfElse,)),
    OpRecord("opfromgraph_muladd", lambda x, y: MULADD(x, MULADD(y, x)),
             lambda x, y: x * (y * x + np.exp(y)) + np.exp(x),
             [[F(3), F(3)]], grad=2, ops=(OpFromGraph,)),
]
