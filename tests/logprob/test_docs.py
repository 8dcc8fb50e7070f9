"""docs/logprob.md's support table says what the dispatch tables hold."""

from __future__ import annotations

import inspect
from pathlib import Path

import gnomon.logprob  # noqa: F401  (registrations)
import gnomon.random.distributions as rd
from gnomon.logprob.abstract import has_icdf, has_logcdf, has_logprob
from gnomon.logprob.transforms import _default_transform
from gnomon.random.op import RandomVariable

DOC = Path(__file__).resolve().parents[2] / "docs" / "logprob.md"


def test_support_table_matches_the_registrations() -> None:
    rows = {}
    text = DOC.read_text()
    table = text.split("## Supported distributions")[1].split("\n## ")[0]
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1:]
    classes = [c for _, c in inspect.getmembers(rd, inspect.isclass)
               if issubclass(c, RandomVariable) and c is not RandomVariable
               and not c.__name__.startswith("_")]
    assert sorted(rows) == sorted(c.name for c in classes)
    for c in classes:
        lp, lc, iq, tr = rows[c.name]
        assert lp.startswith("yes") == has_logprob(c), c.name
        assert (lc == "yes") == has_logcdf(c), c.name
        assert (iq == "yes") == has_icdf(c), c.name
        has_tr = _default_transform.dispatch(c) is not _default_transform.dispatch(object)
        assert bool(tr) == has_tr, c.name
