"""The disk cache of compiled Numba code: generated Python sources plus Numba's compiled code.

Numba can only cache functions defined in real files, so every kernel and every program the
Numba backend generates is written as a module under ``<gnomon.config.cache_dir>/numba/``, and
Numba's compiled machine code for it is kept next to it. Everything read back from there is
verified first, because the cache is a place where someone else's code could have been left:
a directory that was once writable by others, a cache restored from a CI artifact of an
untrusted branch, files copied from another machine.

Layout (one flat directory, every file private to the user: directories 0700, files 0600)::

    gnomon_nb_<hash>.py                               the generated source
    gnomon_nb_<hash>.<function>-<line>.py311.nbi      Numba's index of compiled signatures
    gnomon_nb_<hash>.<function>-<line>.py311.<n>.nbc  compiled code of one signature
    gnomon_nb_<hash>.<function>-<line>.py311.<h>.lock held while a process compiles a signature

Trust:

* **Sources.** A module's name is a hash of its source and of the versions of the generator,
  gnomon, Numba, NumPy and Python (a library upgrade gives new names). The module is compiled
  from the source text held in memory, never from the file and never from a ``.pyc``; the file
  exists for Numba (which wants a real file) and for tracebacks. It must hold exactly that text
  under a SHA-256 header, or it is rewritten.
* **Compiled code.** Numba's own cache unpickles whatever index and data files it finds, and
  unpickling runs code. So the generated ``@numba.njit(cache=True, ...)`` decorators lose their
  ``cache`` flag and each dispatcher gets :class:`_SignedCache` instead: every file it writes
  starts with an HMAC-SHA256 of its name and contents under a per-user secret key, and a file
  is unpickled only when that MAC verifies. Anything else (planted, truncated, signed by
  another key) is deleted and the function compiled again.
* **The key** lives outside the cache directory (``config.cache_key_file``, by default
  ``$XDG_CONFIG_HOME/gnomon/cache.key`` or ``~/.config/gnomon/cache.key``), so whoever can
  fill the cache does not also hold the key. It is created with mode 0600 in a directory that
  must be the user's and not writable by others; a key file that is not the user's, is
  readable by others or is malformed is replaced by a new one.
* **Directories.** The cache directory (and the configured cache root above it) must belong
  to the user and not be writable by group or others; otherwise the disk cache is not used at
  all: one :class:`NumbaCacheWarning` says why and how to fix it, and code is compiled in
  memory. A cache that cannot be written (read-only, disk full) gets one such warning too and
  no more writes from that process; what is there and verifies still loads.

Writes go to a private temporary file moved into place with :func:`os.replace`, so several
processes compiling the same function at once each see either nothing or a whole file. They
rarely both compile it, though: a process that misses a signature in the cache takes that
signature's lock file (an ``flock``) before compiling, and one that finds it taken waits, then
loads what the first one saved (:func:`gnomon.backends.diskcache.lock_entry`: the lock dies
with its process, and after ``diskcache.LOCK_WAIT_S`` seconds the waiter compiles anyway). The
cache is bounded by ``config.cache_max_bytes``: after a process writes new entries (its first
one, then every 5 % of the bound) it deletes the least recently used entries (a source and its
Numba files; loading an entry touches its source's mtime) until the cache is under 90 % of the
bound. An entry evicted while another process uses it is simply compiled again there.

Command line::

    python -m gnomon.backends.numba.cache list     # entries, sizes, total, bound
    python -m gnomon.backends.numba.cache clear    # delete them all
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import linecache
import os
import pickle
import re
import shutil
import sys
import threading
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, cast

import numba
from numba.core import sigutils
from numba.core.caching import CompileResultCacheImpl, FunctionCache, _CacheLocator
from numba.core.dispatcher import Dispatcher
from numba.core.serialize import dumps

from gnomon.backends import diskcache
from gnomon.config import config

#: bump when the generated code or the layout on disk changes meaning (invalidates every entry)
GENERATOR_VERSION = "2"

_HEADER = "# gnomon-numba-cache sha256="
_MAGIC = diskcache.MAGIC
# ``cache=True`` in a generated ``@numba.njit(...)`` line (see the module docstring).
_CACHE_FLAG = re.compile(r"(?m)^(\s*@numba\.n?jit\(.*?)\bcache\s*=\s*True\s*(?:,\s*)?")

_LOCK = threading.Lock()
_MODULES: dict[str, ModuleType] = {}


class NumbaCacheWarning(RuntimeWarning):
    """The Numba disk cache cannot be used (unsafe, read-only or full): code is compiled in
    memory, so each new process compiles it again."""


_Unsafe = diskcache.Unsafe
_Store = diskcache.Store


_STORES: dict[tuple[str, str], _Store | None] = {}


def versions() -> str:
    """The versions that key the cache: generator, gnomon, Numba, NumPy, Python."""
    import numpy

    import gnomon

    py = ".".join(map(str, sys.version_info[:3]))
    return (f"gen={GENERATOR_VERSION} gnomon={gnomon.__version__} numba={numba.__version__} "
            f"numpy={numpy.__version__} python={py}")


def cache_dir() -> str:
    """``<gnomon.config.cache_dir>/numba`` (created 0700 on first use)."""
    return os.path.join(os.path.expanduser(config.cache_dir), "numba")


def module_name(source: str) -> str:
    """The content-addressed module name of a generated source."""
    h = hashlib.sha256((versions() + "\n" + source).encode()).hexdigest()[:32]
    return f"gnomon_nb_{h}"


def _checksum(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


# --- where the cache is, and whether to trust it ------------------------------------------


_INTERNAL = tuple(os.path.dirname(str(m.__file__)) + os.sep
                  for m in (numba, sys.modules["gnomon"]))


def _warn(message: str) -> None:
    # attributed to the user's line that compiled or called, not to gnomon's or Numba's
    level, f = 2, sys._getframe(1)
    while f.f_back is not None and (f.f_code.co_filename.startswith(_INTERNAL)
                                    or "gnomon_nb_" in f.f_code.co_filename):
        level, f = level + 1, f.f_back
    warnings.warn(message, NumbaCacheWarning, stacklevel=level)


def _private_dir(root: str) -> str:
    """``root/numba``, created 0700 where missing, after checking it and ``root``."""
    return diskcache.private_dir(root, "numba")


def _new_key(key_file: str, replace: bool) -> bytes:
    return diskcache.new_key(key_file, replace)


def _store() -> _Store | None:
    """The cache store of the current configuration; None (after one warning) if unusable."""
    return diskcache.open_store("numba", _STORES, _warn, "Numba")


def _write_failed(store: _Store, e: OSError) -> None:
    diskcache.write_failed(store, e, _warn, "Numba")


# --- files ----------------------------------------------------------------------------------


_write_in_store = diskcache.write_in_store
_discard = diskcache.discard
_write_signed = diskcache.write_signed
_read_signed = diskcache.read_signed


def _after_write(store: _Store, nbytes: int) -> None:
    """Amortised eviction: scan after this process's first write, then every 5 % of the
    bound, so loading never scans and a burst of compiles scans a few times."""
    limit = config.cache_max_bytes
    if not limit:
        return
    if store.unscanned is not None and store.unscanned + nbytes < max(limit // 20, 1):
        store.unscanned += nbytes
        return
    store.unscanned = 0
    _evict(store.directory, limit)


# --- Numba's compiled code, signed --------------------------------------------------------


class _Locator(_CacheLocator):
    """Where the compiled code of one generated function lives (never chosen by Numba's own
    locator search, which :class:`_Impl` skips)."""

    def __init__(self, py_func: Any, path: str, directory: str, stamp: str) -> None:
        self._py_file = path
        self._lineno = py_func.__code__.co_firstlineno
        self._directory = directory
        self._stamp = stamp

    def ensure_cache_path(self) -> None:
        pass  # the store's directory exists and was checked

    def get_cache_path(self) -> str:
        return self._directory

    def get_source_stamp(self) -> str:
        return self._stamp

    def get_disambiguator(self) -> str:
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> None:
        return None


class _Impl(CompileResultCacheImpl):
    """Numba's serialisation of compile results, with a known locator."""

    def __init__(self, py_func: Any, locator: _Locator) -> None:
        # not super().__init__: that searches Numba's locators (NUMBA_CACHE_DIR, __pycache__)
        self._lineno = py_func.__code__.co_firstlineno
        self._locator = locator
        fullname = f"{py_func.__module__}.{py_func.__qualname__}"
        self._filename_base = self.get_filename_base(fullname, getattr(sys, "abiflags", ""))


class _SignedFiles:
    """The index and data files of one function, signed (the interface of Numba's
    ``IndexDataCacheFile``, whose loads unpickle any file they find)."""

    def __init__(self, store: _Store, filename_base: str, stamp: str) -> None:
        self._store = store
        self._base = filename_base
        self._index = os.path.join(store.directory, filename_base + ".nbi")
        self._stamp = stamp

    def _load_index(self) -> dict[Any, str]:
        payload = _read_signed(self._store, self._index)
        if payload is None:
            return {}
        version, stamp, overloads = pickle.loads(payload)  # verified: written by this user
        if version != numba.__version__ or stamp != self._stamp:
            return {}
        return overloads

    def load(self, key: Any) -> Any:
        name = self._load_index().get(key)
        if name is None:
            return None
        payload = _read_signed(self._store, os.path.join(self._store.directory, name))
        if payload is None:
            return None
        saved_key, data = pickle.loads(payload)  # verified: written by this user
        # Two processes saving different signatures at once can pick the same data file;
        # the key stored inside tells whose it is.
        return data if saved_key == key else None

    def save(self, key: Any, data: Any) -> None:
        overloads = self._load_index()
        name = overloads.get(key)
        if name is None:
            used = set(overloads.values())
            name = next(n for i in itertools.count(1)
                        if (n := f"{self._base}.{i}.nbc") not in used)
            overloads[key] = name
        d = self._store.directory
        n = _write_signed(self._store, os.path.join(d, name), dumps((key, data)))  # type: ignore[assignment]
        n += self._save_index(overloads)  # type: ignore[operator]
        _after_write(self._store, n)

    def _save_index(self, overloads: dict[Any, str]) -> int:
        return _write_signed(self._store, self._index,
                             dumps((numba.__version__, self._stamp, overloads)))

    def flush(self) -> None:
        self._save_index({})


class _SignedCache(FunctionCache):
    """A dispatcher's disk cache that only loads files signed with the user's key, and that
    turns a failed write into one warning and no more writes."""

    def __init__(self, py_func: Any, store: _Store, path: str, stamp: str) -> None:
        # not super().__init__: that searches Numba's locators; these files' place is known
        self._name = repr(py_func)
        self._py_func = py_func
        self._impl = _Impl(py_func, _Locator(py_func, path, store.directory, stamp))
        self._cache_path = store.directory
        self._store = store
        self._cache_file = _SignedFiles(store, self._impl.filename_base, stamp)
        #: entry locks this process holds while it compiles them (see load_overload)
        self._held: list[str] = []
        self.enable()

    # load_overload and save_overload replace Numba's whole versions, so that only the
    # serialisation (_impl) and the index key of Numba's cache are reused.

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        if not self._enabled:
            return None
        target_context.refresh()
        cres = self._load(sig, target_context)
        if cres is not None or self._store.broken:
            return cres
        # A miss: another process may be compiling this very signature (pytest workers,
        # parallel chains, a user's parallel jobs on a cold cache). Wait for it and load its
        # result rather than compile the same code twice. Numba calls this under its global
        # compiler lock, so the threads of one process never wait on each other here.
        lock = self._lock_path(sig)
        if lock in self._held or not diskcache.lock_entry(lock, diskcache.LOCK_WAIT_S):
            return None  # this process compiles it already; or no lock: compile
        self._held.append(lock)  # given back in save_overload, or by _compile on failure
        cres = self._load(sig, target_context)
        if cres is not None:
            self._release(lock)
        return cres

    def _load(self, sig: Any, target_context: Any) -> Any:
        try:
            data = self._cache_file.load(self._index_key(sig, target_context.codegen()))
            return None if data is None else self._impl.rebuild(target_context, data)
        except Exception:
            # Signed, so written by this user, yet it does not rebuild (Numba internals
            # changed under one version string?): compile again, which overwrites it.
            return None

    def save_overload(self, sig: Any, data: Any) -> None:
        try:
            if not self._enabled or self._store.broken or not self._impl.check_cachable(data):
                return
            try:
                self._cache_file.save(self._index_key(sig, data.codegen),
                                      self._impl.reduce(data))
            except OSError as e:
                _write_failed(self._store, e)
        finally:
            lock = self._lock_path(sig)
            if lock in self._held:
                self._release(lock)

    def _lock_path(self, sig: Any) -> str:
        # per signature: other signatures of the function compile meanwhile. The lock file
        # shares the entry's name prefix, so eviction removes it with the entry.
        args, ret = sigutils.normalize_signature(sig)
        h = hashlib.sha256(f"{tuple(args)}->{ret}".encode()).hexdigest()[:16]
        return os.path.join(self._store.directory, f"{self._impl.filename_base}.{h}.lock")

    def _release(self, lock: str) -> None:
        self._held.remove(lock)
        diskcache.unlock_entry(lock)

    def wrap_compile(self, compile_: Any) -> Any:
        """``Dispatcher.compile`` that gives back the locks its failed compile still holds
        (a failure skips save_overload, which gives back the others)."""

        def compile(sig: Any) -> Any:
            n = len(self._held)
            try:
                return compile_(sig)
            finally:
                while len(self._held) > n:
                    self._release(self._held[-1])

        return compile


# --- modules --------------------------------------------------------------------------------


def _source_file(store: _Store, name: str, text: str) -> str | None:
    """The path of a file holding exactly ``text`` (written if needed), or None if the store
    cannot be written."""
    path = os.path.join(store.directory, name + ".py")
    want = (_HEADER + _checksum(text) + "\n" + text).encode()
    try:
        with open(path, "rb") as f:
            ok = f.read(len(want) + 1) == want
    except OSError:
        ok = False
    if ok:
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used (eviction is least recently used first)
        return path
    if store.broken:
        return None
    try:
        n = _write_in_store(store, path, want)
    except OSError as e:
        _write_failed(store, e)
        return None
    _after_write(store, n)
    return path


def load_module(source: str, namespace: dict[str, Any] | None = None) -> ModuleType:
    """The module of the generated ``source``, its compiled code cached on disk.

    ``namespace`` entries (e.g. other kernels the source calls) are set as module globals
    before the source runs. The same source is loaded once per process. When the disk cache
    is unusable (see the module docstring) the module is compiled in memory.
    """
    name = module_name(source)
    with _LOCK:
        mod = _MODULES.get(name)
        if mod is not None:
            return mod
        # caching is this module's business (signed files), not Numba's
        text = _CACHE_FLAG.sub(r"\1", source) if "cache" in source else source
        store = _store()
        path = _source_file(store, name, text) if store is not None else None
        filename = path if path is not None else f"<gnomon-numba {name}>"
        # dont_inherit: this file's ``from __future__`` imports are not the generated code's
        code = compile(text, filename, "exec", dont_inherit=True)
        # tracebacks and Numba's messages show the text that was compiled, whatever the file
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        mod = ModuleType(name)
        if path is not None:
            mod.__file__ = path
        if namespace:
            mod.__dict__.update(namespace)
        sys.modules[name] = mod  # Numba rebuilds cached code's environment by module name
        try:
            exec(code, mod.__dict__)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        if path is not None:
            assert store is not None
            stamp = _checksum(text)
            for obj in list(vars(mod).values()):
                if isinstance(obj, Dispatcher) and obj.py_func.__module__ == name:
                    # Numba's private cache slot (typed in newer Numba releases, not in older)
                    signed = _SignedCache(obj.py_func, store, path, stamp)
                    cast(Any, obj)._cache = signed
                    cast(Any, obj).compile = signed.wrap_compile(obj.compile)
        _MODULES[name] = mod
        return mod


# --- listing, eviction ------------------------------------------------------------------------


@dataclass
class _Entry:
    size: int = 0
    used: float = 0.0
    files: list[str] = field(default_factory=list)


def _scan(directory: str) -> tuple[dict[str, _Entry], list[str]]:
    """Entries by module name, and stale temporary files. ``__pycache__`` holds the Numba
    files of generator version 1; they are listed (and evicted first) like the others."""
    out: dict[str, _Entry] = {}
    files, stale = diskcache.scan((directory, os.path.join(directory, "__pycache__")),
                                  "gnomon_nb_")
    for name, path, st in files:
        ent = out.setdefault(name.split(".", 1)[0], _Entry())
        ent.size += st.st_size
        ent.used = max(ent.used, st.st_mtime)
        ent.files.append(path)
    return out, stale


def _evict(directory: str, limit: int) -> list[str]:
    """Delete least recently used entries until the cache holds at most 90 % of ``limit``
    bytes; entries loaded by this process stay. Returns the evicted names."""
    found, stale = _scan(directory)
    for p in stale:
        _discard(p)
    total = sum(e.size for e in found.values())
    if total <= limit:
        return []
    keep = set(_MODULES.copy())
    evicted = []
    for name, ent in sorted(found.items(), key=lambda kv: kv[1].used):
        if total <= 0.9 * limit:
            break
        if name in keep:
            continue
        # the source last: another process that finds it loads or recompiles the rest
        for p in sorted(ent.files, key=lambda p: p.endswith(".py")):
            _discard(p)
        total -= ent.size
        evicted.append(name)
    return evicted


def entries() -> list[tuple[str, int]]:
    """``(module name, bytes on disk incl. Numba's files)`` for each cache entry."""
    found, _ = _scan(cache_dir())
    return [(name, found[name].size) for name in sorted(found)]


def clear() -> int:
    """Delete every entry of the Numba cache; return how many there were.

    Modules already imported in this process stay usable (their code is in memory). The
    signing key is kept.
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
        bound = (f"bound {config.cache_max_bytes / 2**20:.1f} MiB" if config.cache_max_bytes
                 else "no bound")
        print(f"{len(es)} entries, {total / 2**20:.1f} MiB ({bound}, "
              f"GNOMON_CACHE_MAX_BYTES) in {cache_dir()}")
        print(f"signing key: {os.path.expanduser(config.cache_key_file)}")
        print(versions())
    else:
        print(f"removed {clear()} entries from {cache_dir()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
