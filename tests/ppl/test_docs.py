"""docs/ppl.md's distribution table lists exactly the distribution classes of gnomon.ppl."""

from __future__ import annotations

from pathlib import Path

import gnomon.ppl as pm
from gnomon.ppl.distributions import Continuous, Discrete, Distribution

DOC = Path(__file__).resolve().parents[2] / "docs" / "ppl.md"


def test_distribution_table_matches_the_classes() -> None:
    table = DOC.read_text().split("<!-- distributions -->")[1].split("<!-- /distributions -->")[0]
    listed = {line.split("|")[1].strip().strip("`") for line in table.splitlines()
              if line.startswith("| `")}
    classes = {n for n in pm.__all__ if isinstance(getattr(pm, n), type)
               and issubclass(getattr(pm, n), Distribution)
               and getattr(pm, n) not in (Distribution, Continuous, Discrete)}
    assert listed == classes
