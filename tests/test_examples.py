"""The runnable examples run to completion (they are what the README points newcomers at)."""

import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path):
    res = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                         timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip(), "an example should print what it shows"
    assert "Traceback" not in res.stdout
