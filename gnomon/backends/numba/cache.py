"""The disk cache of compiled Numba code: generated Python sources plus Numba's own cache files.

Numba can only cache (``njit(cache=True)``) functions defined in real files, so every kernel and
every program the Numba backend generates is written as a module under
``<gnomon.config.cache_dir>/numba/`` and imported from there. Numba then keeps its compiled
machine code next to it, in ``__pycache__``, keyed by the source file and the CPU.

Layout and safety:

* A module's name is a hash of its source and of the versions of gnomon, Numba, NumPy and
  Python, so a changed generator or a library upgrade gives new names (old entries are never
  loaded, and ``clear`` removes them).
* The first line of each file is a header with the SHA-256 of the rest. A file whose header
  does not match (truncated, half-written, edited) is rewritten, never imported.
* Files are written to a temporary name and moved into place with :func:`os.replace`, so
  several processes compiling the same function at once each see either nothing or a whole
  file. Numba writes its own index and data files the same way; an index or data file that does
  is not a whole pickle is deleted before import so that Numba recompiles instead of failing.

Command line::

    python -m gnomon.backends.numba.cache list     # entries, sizes, total
    python -m gnomon.backends.numba.cache clear    # delete them all
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import pickletools
import shutil
import sys
import tempfile
import threading
from types import ModuleType
from typing import Any

#: bump when the generated code changes meaning (invalidates every entry)
GENERATOR_VERSION = "1"

_HEADER = "# gnomon-numba-cache sha256="
_LOCK = threading.Lock()
_MODULES: dict[str, ModuleType] = {}


def versions() -> str:
    """The versions that key the cache: generator, gnomon, Numba, NumPy, Python."""
    import numba
    import numpy

    import gnomon

    py = ".".join(map(str, sys.version_info[:3]))
    return (f"gen={GENERATOR_VERSION} gnomon={gnomon.__version__} numba={numba.__version__} "
            f"numpy={numpy.__version__} python={py}")


def cache_dir() -> str:
    """``<gnomon.config.cache_dir>/numba`` (created on demand)."""
    from gnomon.config import config

    return os.path.join(os.path.expanduser(config.cache_dir), "numba")


def module_name(source: str) -> str:
    """The content-addressed module name of a generated source."""
    h = hashlib.sha256((versions() + "\n" + source).encode()).hexdigest()[:32]
    return f"gnomon_nb_{h}"


def _checksum(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def _valid_file(path: str, body: str) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (FileNotFoundError, UnicodeDecodeError):
        return False
    head, _, rest = text.partition("\n")
    return head == _HEADER + _checksum(body) and rest == body


def _atomic_write(path: str, text: str) -> None:
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress():
            os.unlink(tmp)
        raise


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> bool:
        return exc[0] is not None and issubclass(exc[0], OSError)


def _numba_files(directory: str, name: str) -> list[str]:
    pyc = os.path.join(directory, "__pycache__")
    try:
        entries = os.listdir(pyc)
    except FileNotFoundError:
        return []
    return [os.path.join(pyc, e) for e in entries
            if e.startswith(name + ".") and e.endswith((".nbi", ".nbc"))]


def _complete_pickle(data: bytes) -> bool:
    """Whether ``data`` is one whole pickle (walks the opcodes without building objects, which
    would need the generated module imported)."""
    try:
        ops = list(pickletools.genops(data))
    except Exception:
        return False
    return bool(ops) and ops[-1][0].name == "STOP" and ops[-1][2] == len(data) - 1


def _check_numba_files(directory: str, name: str) -> None:
    """Delete Numba's cache files of module ``name`` if any of them is not a whole pickle."""
    files = _numba_files(directory, name)
    bad = False
    for p in files:
        try:
            with open(p, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        if p.endswith(".nbi"):
            # a pickled version string, then the pickled index
            try:
                with open(p, "rb") as f:
                    pickle.load(f)
                    rest = f.read()
            except Exception:
                bad = True
                break
            data = rest
        if not _complete_pickle(data):
            bad = True
            break
    if bad:
        for p in files:
            with _suppress():
                os.unlink(p)


def load_module(source: str, namespace: dict[str, Any] | None = None) -> ModuleType:
    """Import the generated ``source`` from the disk cache, writing it there first if needed.

    ``namespace`` entries (e.g. other kernels the source calls) are set as module globals
    before the source runs. The same source is imported once per process.
    """
    name = module_name(source)
    with _LOCK:
        mod = _MODULES.get(name)
        if mod is not None:
            return mod
        d = cache_dir()
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name + ".py")
        if not _valid_file(path, source):
            # Missing, truncated or tampered with: (re)write it; Numba sees a new source stamp.
            _atomic_write(path, _HEADER + _checksum(source) + "\n" + source)
        _check_numba_files(d, name)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        if namespace:
            mod.__dict__.update(namespace)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        _MODULES[name] = mod
        return mod


def entries() -> list[tuple[str, int]]:
    """``(module name, bytes on disk incl. Numba's files)`` for each cache entry."""
    d = cache_dir()
    if not os.path.isdir(d):
        return []
    out = []
    for e in sorted(os.listdir(d)):
        if e.startswith("gnomon_nb_") and e.endswith(".py"):
            name = e[:-3]
            size = os.path.getsize(os.path.join(d, e))
            for p in _numba_files(d, name):
                with _suppress():
                    size += os.path.getsize(p)
            out.append((name, size))
    return out


def clear() -> int:
    """Delete every entry of the Numba cache; return how many there were.

    Modules already imported in this process stay usable (their code is in memory).
    """
    d = cache_dir()
    n = len(entries())
    if os.path.isdir(d):
        shutil.rmtree(d, ignore_errors=True)
    with _LOCK:
        _MODULES.clear()
    return n


def main(argv: list[str] | None = None) -> int:
    """``python -m gnomon.backends.numba.cache list|clear``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in ("list", "clear"):
        print("usage: python -m gnomon.backends.numba.cache list|clear", file=sys.stderr)
        return 2
    if args[0] == "list":
        es = entries()
        for name, size in es:
            print(f"{name}  {size / 1024:9.1f} KiB")
        total = sum(s for _, s in es)
        print(f"{len(es)} entries, {total / 2**20:.1f} MiB in {cache_dir()}")
        print(versions())
    else:
        print(f"removed {clear()} entries from {cache_dir()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
