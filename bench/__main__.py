"""Run every benchmark in this folder: ``python -m bench [name ...] [-- args]``.

Each script prints its own figures and ratios against the peers it finds installed (NumPy,
JAX, PyTensor); peers that are missing are skipped with a note.
"""

import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")]
    extra = [a for a in argv if a.startswith("-")]
    scripts = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_"))
    if names:
        scripts = [p for p in scripts if p.stem in names]
    status = 0
    for p in scripts:
        print(f"\n=== {p.stem} ===", flush=True)
        status |= subprocess.call([sys.executable, str(p), *extra])
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
