"""Compile generated C into a CPython extension module, with a signed disk cache.

The C compiler is ``$CC``, else the one Python was built with (``sysconfig``), else ``cc`` or
``gcc`` on ``PATH``; without one, ``mode="c"`` raises :class:`BackendUnavailableError` naming
what to install.

Compiled modules are cached in ``<gnomon.config.cache_dir>/c/`` with the safety rules of every
gnomon disk cache (:mod:`gnomon.backends.diskcache`, shared with the Numba cache): the directory
must be the user's and private (0700), each shared library is stored **signed** with the
per-user HMAC key (``gnomon_c_<hash>.so.signed``), and is loaded only after its MAC verifies,
from a private copy written for the load (so a file swapped after the check is never loaded);
a file that fails the check is deleted and compiled again; writes are atomic, so concurrent
compiles of one module are safe. The cache is bounded by ``config.cache_max_bytes`` (shared
with the Numba cache's bound, each applying it to its own directory): after a process writes
new modules (its first, then every 5 % of the bound) the least recently used ones (loading
touches a module's mtime) are deleted until the cache is under 90 % of the bound. A module's
name is a hash of its source, of the compiler (its ``--version`` line), flags and target CPU,
and of the versions of the generator, gnomon, NumPy, Python and the C library.

Command line::

    python -m gnomon.backends.c.cache list     # entries and sizes
    python -m gnomon.backends.c.cache clear    # delete them all
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np

from gnomon.backends import diskcache
from gnomon.backends.cext import load_extension
from gnomon.config import config
from gnomon.errors import BackendUnavailableError, GnomonRuntimeError

#: bump when the generated code changes meaning (invalidates every entry)
GENERATOR_VERSION = "1"
#: placeholder for the module name inside a generated source (the name hashes the source)
MODNAME = "GN_MODNAME"

FLAGS = ("-O3", "-std=c99", "-fPIC", "-shared", "-fwrapv", "-fno-strict-aliasing",
         "-fno-math-errno", "-w")

_LOCK = threading.Lock()
_MODULES: dict[str, Any] = {}
_NAME_LOCKS: dict[str, threading.Lock] = {}
_STORES: dict[tuple[str, str], diskcache.Store | None] = {}


class CCacheWarning(RuntimeWarning):
    """The C disk cache cannot be used (unsafe, read-only or full): modules are compiled in a
    temporary directory, so each new process compiles them again."""


def _warn(message: str) -> None:
    warnings.warn(message, CCacheWarning, stacklevel=4)


@functools.cache
def compiler() -> tuple[str, ...]:
    """The C compiler command (``$CC``, Python's build compiler, ``cc``, ``gcc``)."""
    candidates = []
    if os.environ.get("CC"):
        candidates.append(os.environ["CC"])
    cc = sysconfig.get_config_var("CC")
    if cc:
        candidates.append(cc)
    candidates += ["cc", "gcc", "clang"]
    for c in candidates:
        cmd = tuple(shlex.split(c))
        if cmd and shutil.which(cmd[0]):
            return cmd
    raise BackendUnavailableError(
        "mode='c' (and gnomon.export_c's tests) need a C compiler, and none was found "
        f"(tried $CC, {cc!r}, cc, gcc, clang).\nHint: install one (Debian/Ubuntu: "
        "`apt-get install gcc`; Fedora: `dnf install gcc`; macOS: `xcode-select --install`; "
        "conda: `conda install c-compiler`) or set CC, or use mode='numba'.")


@functools.cache
def native_flags() -> tuple[tuple[str, ...], str]:
    """``(flags, cpu)``: the flags for fast loops on this machine and what they compile for.

    ``-march=native`` (the host's vector registers: AVX2, AVX-512) and ``-fopenmp-simd`` with
    ``-DGNOMON_VECMATH`` (``omp simd`` loops calling glibc's vector math, see the runtime) are
    used when the compiler accepts them. Code built with ``-march=native`` runs only on CPUs
    like this one, so ``cpu`` (the compiler's expansion of ``native``) is part of every cache
    key: a cache shared by machines with other CPUs holds one entry per CPU, never a wrong one.
    ``GNOMON_C_NATIVE=0`` drops ``-march=native``; ``GNOMON_VMATH=0`` drops the vector math.
    """
    off = ("0", "off", "false")
    flags: list[str] = []
    if os.environ.get("GNOMON_C_NATIVE", "1").lower() not in off:
        flags.append("-march=native")
    if os.environ.get("GNOMON_VMATH", "1").lower() not in off:
        flags += ["-fopenmp-simd", "-DGNOMON_VECMATH"]
    if not flags:
        return (), ""
    try:
        proc = subprocess.run([*compiler(), *flags, "-E", "-v", "-x", "c", os.devnull, "-o",
                               os.devnull], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return (), ""
    if proc.returncode != 0:  # an old or unusual compiler: plain -O3 loops
        return (), ""
    cpu = [ln.strip() for ln in proc.stderr.splitlines()
           if "-march=" in ln or "-target-cpu" in ln]
    if "-march=native" in flags and not cpu:
        flags.remove("-march=native")  # cannot tell which CPU it compiles for: do without
    # the cc1 line names temporary paths: keep only its option words
    words = sorted({w for ln in cpu for w in ln.split() if w.startswith(("-m", "-target"))
                    or w.startswith("+") or w.startswith("-")})
    return tuple(flags), " ".join(words)


def all_flags() -> tuple[str, ...]:
    """Every flag of a ``mode="c"`` compile (:data:`FLAGS` plus :func:`native_flags`)."""
    return (*FLAGS, *native_flags()[0])


@functools.cache
def compiler_id() -> str:
    """The first line of ``$CC --version`` (part of every cache key)."""
    try:
        out = subprocess.run([*compiler(), "--version"], capture_output=True, text=True,
                             timeout=60).stdout
    except OSError:
        out = ""
    return (out.splitlines() or ["unknown"])[0]


def include_dirs() -> list[str]:
    return [sysconfig.get_paths()["include"], np.get_include()]


#: the flags of a *portable* module (:func:`load_module`'s ``portable``): no ``-march=native``,
#: so its key needs no probe of the compiler (~50 ms a process)
PORTABLE_FLAGS = ("-O2", "-std=c99", "-fPIC", "-shared", "-fwrapv", "-fno-strict-aliasing", "-w")


def versions(portable: bool = False) -> str:
    import gnomon

    py = ".".join(map(str, sys.version_info[:3]))
    if portable:  # (no compiler probes: the flags are fixed and target no particular CPU)
        return (f"gen={GENERATOR_VERSION} gnomon={gnomon.__version__} numpy={np.__version__} "
                f"python={py} flags={' '.join(PORTABLE_FLAGS)} machine={platform.machine()} "
                f"libc={'-'.join(platform.libc_ver())}")
    return (f"gen={GENERATOR_VERSION} gnomon={gnomon.__version__} numpy={np.__version__} "
            f"python={py} cc={compiler_id()} flags={' '.join(all_flags())} "
            f"cpu={hashlib.sha256(native_flags()[1].encode()).hexdigest()[:16]} "
            f"libc={'-'.join(platform.libc_ver())}")


def module_name(source: str, portable: bool = False) -> str:
    h = hashlib.sha256((versions(portable) + "\n" + source).encode()).hexdigest()[:32]
    return f"gnomon_c_{h}"


def cache_dir() -> str:
    return os.path.join(os.path.expanduser(config.cache_dir), "c")


def _store() -> diskcache.Store | None:
    return diskcache.open_store("c", _STORES, _warn, "C")


#: a line that splits a generated source into translation units compiled in parallel
#: (``export.standalone_source(..., units=k)``)
UNIT_SPLIT = "/* ---- gnomon: next translation unit ---- */"


_HOOK = threading.local()


@contextlib.contextmanager
def when_compiling(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` once, in this thread, as soon as a compile in this thread has
    started the compiler (it is not called when everything comes from the cache).

    ``pm.sample`` starts loading the NUTS kernel there: the compiler processes run without
    the GIL, where a load started earlier competed with the Python code generating the C
    (eight schools: 0.1 s later to the compiler)."""
    with thread_setting(_HOOK, "callback", callback, None):
        yield


@contextlib.contextmanager
def thread_setting(local: threading.local, attr: str, value: Any,
                   default: Any) -> Iterator[None]:
    """Set ``local.attr`` to ``value`` for the ``with`` block (this thread only), then back
    to what it was (``default`` when unset)."""
    state = vars(local)  # (this thread's attributes)
    prev = state.get(attr, default)
    state[attr] = value
    try:
        yield
    finally:
        state[attr] = prev


def _compiler_started() -> None:
    callback = getattr(_HOOK, "callback", None)
    if callback is not None:
        _HOOK.callback = None
        callback()


def compile_shared(source: str, directory: str, name: str, extra: tuple[str, ...] = (),
                   cflags: tuple[str, ...] | None = None) -> str:
    """Compile ``source`` to ``directory/name.so``; GnomonRuntimeError with the compiler's
    output if it fails (a bug in gnomon's C generator).

    A source made of several translation units (separated by :data:`UNIT_SPLIT` lines) is
    compiled one compiler process per unit, all at once, then linked: the compile of a large
    program takes about 1 / units of the time on as many free cores. ``cflags``: instead of
    :func:`all_flags` (one translation unit only)."""
    so_file = os.path.join(directory, name + ".so")
    units = source.split("\n" + UNIT_SPLIT + "\n")
    if len(units) == 1:
        c_file = os.path.join(directory, name + ".c")
        with open(c_file, "w") as f:
            f.write(source)
        _compiler_started()
        _run_compiler([*compiler(), *(all_flags() if cflags is None else cflags), *extra, c_file,
                       "-o", so_file, "-lm"])
        return so_file
    flags = [fl for fl in all_flags() if fl != "-shared"]
    procs = []
    objects = []
    for k, unit in enumerate(units):
        c_file = os.path.join(directory, f"{name}_{k}.c")
        objects.append(os.path.join(directory, f"{name}_{k}.o"))
        with open(c_file, "w") as f:
            f.write(unit)
        cmd = [*compiler(), *flags, *extra, "-c", c_file, "-o", objects[-1]]
        procs.append((cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True)))
    _compiler_started()
    for cmd, proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            _compiler_failed(cmd, err)
    _run_compiler([*compiler(), "-shared", *objects, "-o", so_file, "-lm"])
    return so_file


def _run_compiler(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        _compiler_failed(cmd, proc.stderr)


def _compiler_failed(cmd: list[str], stderr: str) -> None:
    raise GnomonRuntimeError(
        f"the C compiler failed on gnomon's generated code ({' '.join(cmd)}):\n"
        f"{stderr[-4000:]}\nHint: this is a bug in gnomon's C backend; please report "
        "it, and use mode='numba' meanwhile.")


_import = load_extension


def load_module(source: str, portable: bool = False) -> ModuleType:
    """The extension module of generated ``source`` (its name written as ``GN_MODNAME``):
    from this process's memo, the signed disk cache, or compiled now. ``portable``: compiled
    with :data:`PORTABLE_FLAGS` (for any CPU of this architecture), keyed without the
    compiler's identity, so that a process loading it from the cache runs no compiler
    probe (gnomon/backends/native_call.py)."""
    return _cached(source, _import, portable)


def _library_bytes(name: str, path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def load_library(source: str) -> ctypes.CDLL:
    """A plain shared library (C functions called through ``ctypes`` or a function pointer,
    no Python entry point) compiled from generated ``source`` (the machine code from this
    process's memo, the signed disk cache, or compiled now, as :func:`load_module`).

    Every call loads a **new copy** (from a private temporary file, removed once loaded): the
    library's static variables belong to the caller alone (``gnomon/ppl/c_logp.py`` keeps the
    addresses of its data there), where the dynamic loader would hand every caller of one
    path the same copy."""
    image = _cached(source, _library_bytes)
    fd, path = tempfile.mkstemp(prefix="gnomon-lib-", suffix=".so")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(image)
        return ctypes.CDLL(path)
    finally:
        diskcache.discard(path)


def _cached(source: str, loader: Any, portable: bool = False) -> Any:
    name = module_name(source, portable)
    with _LOCK:
        mod = _MODULES.get(name)
        if mod is not None:
            return mod
        lock = _NAME_LOCKS.setdefault(name, threading.Lock())
        store = _store()
    # one compile per module at a time; different modules compile in parallel (threads)
    with lock:
        mod = _MODULES.get(name)
        if mod is None:
            mod = _load(name, source, store, loader, portable)
            with _LOCK:
                _MODULES[name] = mod
        return mod


def _load(name: str, source: str, store: diskcache.Store | None, loader: Any,
          portable: bool = False) -> Any:
    """Load ``name`` from the signed cache, or compile it (and store it signed), with
    ``loader(name, path)``."""
    signed = os.path.join(store.directory, name + ".so.signed") if store else None
    payload = diskcache.read_signed(store, signed) if store and signed else None
    if payload is not None and store is not None:
        # load a private copy of the verified bytes, never the file that was checked
        tmp = os.path.join(store.directory, f".tmp-{uuid.uuid4().hex[:16]}-{name}.so")
        try:
            diskcache.write_atomic(tmp, payload)
            mod = loader(name, tmp)
        finally:
            diskcache.discard(tmp)
        with contextlib.suppress(OSError):  # evicted meanwhile by another process
            os.utime(signed)  # type: ignore[arg-type]
    else:
        tmpdir = tempfile.mkdtemp(prefix="gnomon-c-")
        try:
            so = compile_shared(source.replace(MODNAME, name), tmpdir, name,
                                tuple(f"-I{d}" for d in include_dirs()),
                                PORTABLE_FLAGS if portable else None)
            if store is not None and not store.broken and signed is not None:
                with open(so, "rb") as f:
                    data = f.read()
                try:
                    n = diskcache.write_signed(store, signed, data)
                except OSError as e:
                    diskcache.write_failed(store, e, _warn, "C")
                else:
                    _after_write(store, n, name)
            mod = loader(name, so)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return mod


def _after_write(store: diskcache.Store, nbytes: int, name: str) -> None:
    """Amortised eviction, as in the Numba cache: scan after this process's first write, then
    after every 5 % of ``config.cache_max_bytes`` written (0: unbounded)."""
    limit = config.cache_max_bytes
    if not limit:
        return
    if store.unscanned is not None and store.unscanned + nbytes < max(limit // 20, 1):
        store.unscanned += nbytes
        return
    store.unscanned = 0
    evict(store.directory, limit, keep=(name,))


def evict(directory: str, limit: int, keep: tuple[str, ...] = ()) -> list[str]:
    """Delete the least recently used modules (loading one touches its mtime) until the cache
    holds at most 90 % of ``limit`` bytes, and temporary files left by crashed processes;
    modules loaded by this process (and those named in ``keep``) stay. Returns the evicted
    names. A module evicted while another process wants it is compiled again there."""
    files, stale = diskcache.scan((directory,), "gnomon_c_")
    for path in stale:
        diskcache.discard(path)
    found = [(st.st_mtime, st.st_size, name[: -len(".so.signed")], path)
             for name, path, st in files if name.endswith(".so.signed")]
    total = sum(f[1] for f in found)
    evicted: list[str] = []
    if total <= limit:
        return evicted
    with _LOCK:
        kept = set(_MODULES) | set(keep)
    for _, size, name, path in sorted(found):
        if total <= 0.9 * limit:
            break
        if name in kept:
            continue
        diskcache.discard(path)
        total -= size
        evicted.append(name)
    return evicted


def entries() -> list[tuple[str, int]]:
    """``(module name, bytes)`` of each entry of the C cache."""
    d = cache_dir()
    try:
        names = sorted(n for n in os.listdir(d) if n.endswith(".so.signed"))
    except OSError:
        return []
    return [(n[: -len(".so.signed")], os.path.getsize(os.path.join(d, n))) for n in names]


def clear() -> int:
    """Delete every entry of the C cache (modules loaded in this process stay usable)."""
    n = len(entries())
    shutil.rmtree(cache_dir(), ignore_errors=True)
    with _LOCK:
        _MODULES.clear()
    return n


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["list"]:
        es = entries()
        for name, size in es:
            print(f"{name}  {size / 1024:9.1f} KiB")
        bound = (f"bound {config.cache_max_bytes / 2**20:.1f} MiB" if config.cache_max_bytes
                 else "unbounded")
        print(f"{len(es)} entries, {sum(s for _, s in es) / 2**20:.1f} MiB in {cache_dir()} "
              f"({bound})")
        return 0
    if args == ["clear"]:
        print(f"removed {clear()} entries from {cache_dir()}")
        return 0
    print("usage: python -m gnomon.backends.c.cache list|clear", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
