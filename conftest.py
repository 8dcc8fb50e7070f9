"""pytest configuration for the test suite and the doctests of ``gnomon/``.

Tiered execution is off: the backend tests must exercise the final compiled programs, not the
NumPy reference that answers a tiered function's first call (``gnomon/compile/tiered.py``).
Tests of tiering itself turn it on explicitly (``tests/compile/test_tiered.py``). The
environment variable carries the setting to the subprocesses that tests start (examples, cache
tests).
"""

import os

from gnomon.config import config

os.environ["GNOMON_TIERED"] = "off"
config.tiered = "off"
