"""The runnable examples run to completion (they are what the README points newcomers at).

They run as a user runs them: with the default tiered execution (``config.tiered='first'``),
not with the test suite's ``GNOMON_TIERED=off`` (``conftest.py``). A function an example calls
once then answers on the NumPy reference and its Numba compile, started in the background, is
dropped when the example exits; functions called again (training loops, samplers) still run
their Numba or C programs. The backends themselves are tested elsewhere; this saves 2-7 s of
CPU per example (logistic regression 18.5 -> 11.8 s, cold caches).
"""

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path):
    env = {k: v for k, v in os.environ.items() if k != "GNOMON_TIERED"}
    res = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                         timeout=600, check=False, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip(), "an example should print what it shows"
    assert "Traceback" not in res.stdout
