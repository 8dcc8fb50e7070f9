"""Rows for the ops of :mod:`gnomon.logprob`: the parameter check of log-densities (passing
checks; failing ones are tested in tests/logprob/test_check.py)."""

import gnomon.tensor as gt
from gnomon.logprob.check import CheckParameters
from tests.records import F, OpRecord

RECORDS = [
    OpRecord("check_parameters", lambda x, s: CheckParameters("s > -3")(x * 2.0, gt.gt(s, -3.0)),
             lambda x, s: x * 2.0, [(F(3), F()), (F(2, 2), F(2))], grad=2,
             ops=(CheckParameters,)),
]
