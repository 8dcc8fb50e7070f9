"""The Numba disk cache is safe to read and keeps working: planted pickles and bytecode never
run, unsafe or unwritable directories fall back to compiling in memory with one warning,
corrupt entries are rebuilt, and the cache stays under its size bound.

Most tests load tiny generated modules straight through :func:`cache.load_module`, each test
in its own cache directory and with its own signing key; "a new process" is simulated by
forgetting a module. The cross-process cases run real subprocesses, all starting from one
warm cache made once per test module.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import marshal
import os
import pickle
import shutil
import stat
import subprocess
import sys
import textwrap
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("numba")

import gnomon
import gnomon.tensor as gt
from gnomon.backends.numba import cache, linker
from gnomon.config import Config, _default_cache_key_file, _from_environment, config

ROOT = Path(__file__).resolve().parents[2]
posix_only = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX owners and modes")


class _Evil:
    """Unpickling this creates the file ``path`` (stands in for running any code)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


def _source(tag: float | None = None) -> str:
    """A generated module like the linker's (unique per call unless ``tag`` is given)."""
    tag = uuid.uuid4().int % 10**9 + 0.5 if tag is None else tag
    return ('import numba\n\n\n@numba.njit(cache=True, error_model="numpy", nogil=True)\n'
            f"def kernel(x):\n    return x * 2.0 + {tag!r}\n")


def _tag(src: str) -> float:
    return float(src.rsplit("+ ", 1)[1])


def _forget(src: str) -> None:
    """Make this process load ``src`` again, as a new process would."""
    name = cache.module_name(src)
    cache._MODULES.pop(name, None)
    sys.modules.pop(name, None)


def _files(root: Path, name: str) -> list[Path]:
    return sorted(p for p in root.rglob(name + "*") if p.is_file())


@pytest.fixture
def iso(tmp_path: Path) -> Iterator[Path]:
    """This test's own cache root (``tmp/cache``) and key (``tmp/config/gnomon/cache.key``)."""
    with config.change(cache_dir=str(tmp_path / "cache"),
                       cache_key_file=str(tmp_path / "config" / "gnomon" / "cache.key")):
        yield tmp_path


def _numba_dir(tmp: Path) -> Path:
    return tmp / "cache" / "numba"


def _cache_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, cache.NumbaCacheWarning)]


# --- in one process -------------------------------------------------------------------------


@posix_only
def test_entries_are_private_signed_and_loaded_warm(iso: Path) -> None:
    old_umask = os.umask(0)  # modes must not depend on the umask being strict
    try:
        src = _source()
        mod = cache.load_module(src)
        assert mod.kernel(1.0) == 2.0 + _tag(src)
        assert mod.kernel.stats.cache_misses and not mod.kernel.stats.cache_hits
    finally:
        os.umask(old_umask)
    d = _numba_dir(iso)
    name = cache.module_name(src)
    files = _files(iso, name)
    # the lock file that was held during the compile (never read: empty, nothing to sign)
    assert {p.suffix for p in files} == {".py", ".nbi", ".nbc", ".lock"}
    for p in files:
        assert p.parent == d
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        if p.suffix == ".lock":
            assert p.stat().st_size == 0
        elif p.suffix != ".py":
            assert p.read_bytes().startswith(cache._MAGIC)
    for p in (d, d.parent, iso / "config" / "gnomon"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700, p
    key = iso / "config" / "gnomon" / "cache.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not (d / "__pycache__").exists()

    _forget(src)
    mod = cache.load_module(src)
    assert mod.kernel(1.0) == 2.0 + _tag(src)
    assert mod.kernel.stats.cache_hits and not mod.kernel.stats.cache_misses


def test_planted_bytecode_is_never_executed(iso: Path) -> None:
    src = _source()
    cache.load_module(src)
    name = cache.module_name(src)
    path = _numba_dir(iso) / (name + ".py")
    marker = iso / "bytecode-ran"
    # an "unchecked hash" .pyc: CPython's source loader uses it without looking at the source
    evil = compile(f"open({str(marker)!r}, 'w')\ndef kernel(x):\n    return -1.0\n",
                   str(path), "exec")
    pyc = Path(importlib.util.cache_from_source(str(path)))
    pyc.parent.mkdir(exist_ok=True)
    pyc.write_bytes(importlib.util.MAGIC_NUMBER + (0b01).to_bytes(4, "little")
                    + importlib.util.source_hash(path.read_bytes()) + marshal.dumps(evil))
    _forget(src)
    mod = cache.load_module(src)
    assert not marker.exists()
    assert mod.kernel(1.0) == 2.0 + _tag(src)


def test_a_file_signed_with_another_key_or_not_at_all_is_deleted_unread(iso: Path) -> None:
    src = _source()
    cache.load_module(src).kernel(1.0)
    name = cache.module_name(src)
    marker = iso / "pickle-ran"
    for p in _files(iso, name):
        if p.suffix == ".nbi":
            p.write_bytes(pickle.dumps(_Evil(marker)))
        elif p.suffix == ".nbc":  # looks signed, wrong MAC
            p.write_bytes(cache._MAGIC + bytes(32) + pickle.dumps(_Evil(marker)))
    _forget(src)
    mod = cache.load_module(src)
    assert mod.kernel(1.0) == 2.0 + _tag(src)
    assert not marker.exists()
    assert mod.kernel.stats.cache_misses  # recompiled, and signed again:
    for p in _files(iso, name):
        if p.suffix not in (".py", ".lock"):
            assert p.read_bytes().startswith(cache._MAGIC)
            assert b"pickle-ran" not in p.read_bytes()


@posix_only
def test_an_exposed_key_is_replaced_and_its_signatures_distrusted(iso: Path) -> None:
    src = _source()
    cache.load_module(src).kernel(1.0)
    key = iso / "config" / "gnomon" / "cache.key"
    old = key.read_bytes()
    key.chmod(0o644)
    cache._STORES.clear()  # a new process
    _forget(src)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        mod = cache.load_module(src)
        assert mod.kernel(1.0) == 2.0 + _tag(src)
    msgs = _cache_warnings(record)
    assert len(msgs) == 1 and "replaced" in msgs[0] and str(key) in msgs[0]
    assert key.read_bytes() != old and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert mod.kernel.stats.cache_misses, "code signed with the exposed key must not load"


@posix_only
def test_two_processes_creating_the_key_at_once_agree_on_one(tmp_path: Path) -> None:
    key_file = tmp_path / "cache.key"
    theirs = bytes(range(32))
    key_file.write_text(theirs.hex() + "\n")  # written by the other process just before
    key_file.chmod(0o600)
    assert cache._new_key(str(key_file), replace=False) == theirs
    assert key_file.read_text() == theirs.hex() + "\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cache.key"]


def test_default_key_file_honours_xdg_config_home(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert _default_cache_key_file() == str(tmp_path / "gnomon" / "cache.key")
    monkeypatch.setenv("GNOMON_CACHE_MAX_BYTES", "12345")
    monkeypatch.setenv("GNOMON_CACHE_KEY_FILE", str(tmp_path / "k"))
    cfg = _from_environment(Config())
    assert cfg.cache_max_bytes == 12345 and cfg.cache_key_file == str(tmp_path / "k")
    with pytest.raises(ValueError, match="cache_max_bytes"):
        config.cache_max_bytes = -1


def _make_unsafe(how: str, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the cache (or the key) unsafe in the way ``how``; return the culprit path."""
    root = tmp / "cache"
    (root / "numba").mkdir(parents=True, mode=0o700)
    root.chmod(0o700)
    if how == "group-writable root":
        root.chmod(0o770)
        return root
    if how == "world-writable numba dir":
        (root / "numba").chmod(0o777)
        return root / "numba"
    if how == "someone else's root":
        real = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: real + 1)
        return root
    if how == "world-writable key dir":
        kdir = tmp / "config" / "gnomon"
        kdir.mkdir(parents=True)
        kdir.chmod(0o777)
        return kdir
    assert how == "key inside the cache"
    key = root / "cache.key"
    config.cache_key_file = str(key)
    return key


@posix_only
@pytest.mark.parametrize("how", ["group-writable root", "world-writable numba dir",
                                 "someone else's root", "world-writable key dir",
                                 "key inside the cache"])
def test_an_unsafe_cache_is_refused_with_one_warning(
        how: str, iso: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    culprit = _make_unsafe(how, iso, monkeypatch)
    srcs = [_source(), _source()]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for src in srcs:
            mod = cache.load_module(src)
            assert mod.kernel(3.0) == 6.0 + _tag(src)
            assert not mod.kernel.stats.cache_hits
    msgs = _cache_warnings(record)
    assert len(msgs) == 1, msgs
    assert str(culprit) in msgs[0] and "Fix:" in msgs[0]
    assert ("chmod 700" in msgs[0]) or ("GNOMON_CACHE_KEY_FILE" in msgs[0])
    assert not list(iso.rglob("gnomon_nb_*")), "nothing may be written to an unsafe cache"


def _failing(err: OSError, suffixes: tuple[str, ...]) -> Any:
    real = os.replace

    def replace(src: Any, dst: Any, *a: Any, **k: Any) -> None:
        if str(dst).endswith(suffixes):
            raise err
        real(src, dst, *a, **k)

    return replace


@pytest.mark.parametrize("err", [OSError(errno.ENOSPC, "No space left on device"),
                                 PermissionError(errno.EACCES, "Permission denied")],
                         ids=["disk-full", "read-only"])
@pytest.mark.parametrize("stage", ["source", "numba"])
def test_an_unwritable_cache_degrades_to_memory_with_one_warning(
        err: OSError, stage: str, iso: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suffixes = (".py",) if stage == "source" else (".nbi", ".nbc")
    monkeypatch.setattr(os, "replace", _failing(err, suffixes))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for src in (_source(), _source()):
            assert cache.load_module(src).kernel(1.0) == 2.0 + _tag(src)
    msgs = _cache_warnings(record)
    assert len(msgs) == 1, msgs
    assert ("disk is full" if err.errno == errno.ENOSPC else "read-only") in msgs[0]
    assert "bug" not in msgs[0]
    assert not list(iso.rglob(".tmp-*")), "temporary files are cleaned up"


def _permissions_enforced(tmp: Path) -> bool:
    """False for root (or CAP_DAC_OVERRIDE), which writes into a chmod 500 directory."""
    d = tmp / "probe"
    d.mkdir(mode=0o500)
    try:
        (d / "f").touch()
    except PermissionError:
        return True
    finally:
        d.chmod(0o700)
    return False


@posix_only
def test_a_read_only_cache_dir_degrades_to_memory(iso: Path) -> None:
    if not _permissions_enforced(iso):
        pytest.skip("permissions are not enforced here (root); the monkeypatched variants "
                    "of the next test cover this")
    warm = _source()
    cache.load_module(warm).kernel(1.0)
    _numba_dir(iso).chmod(0o500)
    try:
        cache._STORES.clear()  # a new process
        _forget(warm)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            mod = cache.load_module(warm)  # what is there still loads
            assert mod.kernel(1.0) == 2.0 + _tag(warm)
            assert mod.kernel.stats.cache_hits
            for src in (_source(), _source()):  # new entries cannot be written
                assert cache.load_module(src).kernel(1.0) == 2.0 + _tag(src)
        assert len(_cache_warnings(record)) == 1
    finally:
        _numba_dir(iso).chmod(0o700)


def test_a_full_disk_during_a_call_is_not_reported_as_a_gnomon_bug(
        iso: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # through gnomon.function: Numba saves compiled code while the user's call runs
    saved = dict(cache._MODULES), dict(linker._KERNELS)
    cache._MODULES.clear()
    linker._KERNELS.clear()
    try:
        monkeypatch.setattr(os, "replace", _failing(OSError(errno.ENOSPC, "No space left"),
                                                    (".nbi", ".nbc")))
        x = gt.dvector("x")
        f = gnomon.function([x], gt.exp(x) * 2 + 1, mode="numba")
        v = np.linspace(-1, 1, 4)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            np.testing.assert_allclose(f(v), np.exp(v) * 2 + 1)
            np.testing.assert_allclose(f(v), np.exp(v) * 2 + 1)
        msgs = [str(w.message) for w in record]
        assert len(_cache_warnings(record)) == 1, msgs
        assert not any("bug" in m or "reference backend" in m for m in msgs), msgs
    finally:
        cache._MODULES.clear()
        cache._MODULES.update(saved[0])
        linker._KERNELS.clear()
        linker._KERNELS.update(saved[1])


def _age(root: Path, src: str, t: float) -> None:
    for p in _files(root, cache.module_name(src)):
        os.utime(p, (t, t))


def test_least_recently_used_entries_are_evicted_past_the_bound(iso: Path) -> None:
    srcs = [_source() for _ in range(4)]
    for s in srcs[:3]:
        cache.load_module(s).kernel(1.0)
    d = _numba_dir(iso)
    sizes = dict(cache.entries())
    names = [cache.module_name(s) for s in srcs]
    t0 = os.stat(d).st_mtime - 1000
    for i, s in enumerate(srcs[:3]):
        _age(iso, s, t0 + 10 * i)
        _forget(s)  # as if loaded by processes that have ended
    with config.change(cache_max_bytes=1):
        cache._STORES.clear()  # a new process
        cache.load_module(srcs[0])  # used again, now the most recent; loading never evicts
        _forget(srcs[0])
    assert set(dict(cache.entries())) == set(names[:3])

    # a bound of ~3.5 entries: a fourth entry evicts the least recently used one, srcs[1]
    limit = int(3.5 * sum(sizes[n] for n in names[:3]) / 3)
    with config.change(cache_max_bytes=limit):
        cache._STORES.clear()  # a new process: its first write scans
        assert cache.load_module(srcs[3]).kernel(1.0) == 2.0 + _tag(srcs[3])
    left = dict(cache.entries())
    assert names[1] not in left and {names[0], names[2], names[3]} <= set(left)
    assert sum(left.values()) <= limit
    assert not _files(iso, names[1])


def test_an_entry_evicted_while_in_use_is_recompiled(iso: Path) -> None:
    src = _source()
    mod = cache.load_module(src)  # loaded, not called yet
    _forget(src)  # so the eviction does not know it is in use
    assert cache._evict(str(_numba_dir(iso)), 1) == [cache.module_name(src)]
    assert mod.kernel(1.0) == 2.0 + _tag(src)  # compiles, and saves into the emptied cache
    assert cache.entries()


def test_the_cache_keeps_working_after_clear(iso: Path) -> None:
    src = _source()
    mod = cache.load_module(src)
    assert mod.kernel(1.0) == 2.0 + _tag(src)
    assert cache.main(["clear"]) == 0 and not _numba_dir(iso).exists()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert mod.kernel(np.int64(1)) == 2.0 + _tag(src)  # a new signature is saved
    assert not _cache_warnings(record)
    assert [n for n, _ in cache.entries()] == [cache.module_name(src)]
    assert stat.S_IMODE(_numba_dir(iso).stat().st_mode) == 0o700


def test_cli_list_shows_the_bound_and_the_key(iso: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    cache.load_module(_source())
    assert cache.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "1 entries" in out and "bound 1024.0 MiB" in out and "cache.key" in out


# --- across processes ---------------------------------------------------------------------


_SCRIPT = textwrap.dedent("""
    import warnings
    warnings.simplefilter("always")
    import numpy as np, gnomon, gnomon.tensor as gt
    x = gt.dvector("x")
    y = gt.dmatrix("y")
    with warnings.catch_warnings(record=True) as record:
        f = gnomon.function([x], gt.exp(x) * 2 + 1, mode="numba")
        g = gnomon.function([x, y], gt.tanh(y).sum(axis=0) - x, mode="numba")
        v = np.linspace(-1, 1, 3)
        w = np.arange(6.0).reshape(2, 3) / 6
        assert np.allclose(f(v), np.exp(v) * 2 + 1)
        assert np.allclose(g(v, w), np.tanh(w).sum(axis=0) - v)
    for r in record:
        print("WARNING", r.category.__name__, r.message)
    print("OK")
""")


def _run(tmp: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNOMON_")}
    # untiered: the script's calls must run (and cache) the Numba program, not the first tier
    env.update(GNOMON_CACHE_DIR=str(tmp / "cache"), XDG_CONFIG_HOME=str(tmp / "config"),
               PYTHONPATH=str(ROOT), GNOMON_TIERED="off")
    p = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, cwd=str(ROOT),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.rstrip().endswith("OK"), p.stdout
    return p.stdout


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warm cache (and its key) made by one process; tests copy it."""
    tmp = tmp_path_factory.mktemp("warm")
    out = _run(tmp)
    assert "WARNING" not in out, out
    return tmp


def _copy(warm: Path, tmp: Path) -> Path:
    shutil.copytree(warm / "cache", tmp / "cache", symlinks=True)
    if (warm / "config").exists():
        shutil.copytree(warm / "config", tmp / "config", symlinks=True)
    return tmp / "cache" / "numba"


def test_planted_pickles_never_run_in_a_new_process(warm: Path, tmp_path: Path) -> None:
    d = _copy(warm, tmp_path)
    marker = tmp_path / "pickle-ran"
    evil = pickle.dumps(_Evil(marker))
    planted = [p for p in d.rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert planted
    for p in planted:
        p.write_bytes(evil)
    out = _run(tmp_path)
    assert not marker.exists(), "a planted pickle was unpickled"
    assert "WARNING" not in out, out
    for p in planted:  # deleted, then written again by the recompile, signed
        assert not p.exists() or p.read_bytes() != evil


def test_corrupt_entries_are_rebuilt_in_a_new_process(warm: Path, tmp_path: Path) -> None:
    d = _copy(warm, tmp_path)
    marker = tmp_path / "module-ran"
    sources = sorted(d.glob("gnomon_nb_*.py"))
    nbi = sorted(d.rglob("*.nbi"))
    nbc = sorted(d.rglob("*.nbc"))
    assert len(sources) >= 4 and len(nbi) >= 4 and len(nbc) >= 4
    # sources: truncated; a bad header; a consistent header over other code
    sources[0].write_bytes(sources[0].read_bytes()[:40])
    sources[1].write_text("# gnomon-numba-cache sha256=0\n" + sources[1].read_text())
    body = f"open({str(marker)!r}, 'w')\nraise ImportError('corrupt')\n"
    sources[2].write_text(cache._HEADER + cache._checksum(body) + "\n" + body)
    # Numba's files: truncated; one byte flipped; empty; another entry's (whole, signed)
    shutil.copyfile(nbi[0], nbi[1])
    nbi[0].write_bytes(nbi[0].read_bytes()[:10])
    raw = bytearray(nbc[0].read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    nbc[0].write_bytes(bytes(raw))
    nbc[1].write_bytes(b"")
    shutil.copyfile(nbc[3], nbc[2])
    out = _run(tmp_path)
    assert "WARNING" not in out, out
    assert not marker.exists()
    for p in sources[:3]:
        head, _, body = p.read_text().partition("\n")
        assert head == cache._HEADER + cache._checksum(body), p
    _run(tmp_path)  # and the rebuilt entries load again


# --- one compile per entry across processes -------------------------------------------------


def _child_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNOMON_")}
    env.update(GNOMON_CACHE_DIR=str(tmp / "cache"), GNOMON_CACHE_KEY_FILE=str(
        tmp / "config" / "gnomon" / "cache.key"), PYTHONPATH=str(ROOT))
    return env


# loads the module, says so, then calls the kernel and prints (value, disk hits, compiles)
_WAITER = textwrap.dedent("""
    import json, sys
    from gnomon.backends.numba import cache
    mod = cache.load_module(open(sys.argv[1]).read())
    print("ready", flush=True)
    y = mod.kernel(1.0)
    s = mod.kernel.stats
    print(json.dumps([y, sum(s.cache_hits.values()), sum(s.cache_misses.values())]))
""")

# takes a lock file and holds it until killed
_HOLDER = textwrap.dedent("""
    import sys
    from gnomon.backends import diskcache
    assert diskcache.lock_entry(sys.argv[1], timeout=0)
    print("locked", flush=True)
    sys.stdin.read()
""")


def _lock_of(mod: Any) -> str:
    import numba

    return str(mod.kernel._cache._lock_path((numba.float64,)))


@posix_only
def test_a_process_waits_for_another_compiling_the_same_entry_then_loads_it(
        iso: Path) -> None:
    from gnomon.backends import diskcache

    src = _source()
    (iso / "src.py").write_text(src)
    mod = cache.load_module(src)
    lock = _lock_of(mod)
    # this process plays the first compiler: it holds the entry's lock from before the other
    # process looks at the cache until after it has saved the compiled code
    assert diskcache.lock_entry(lock)
    try:
        p = subprocess.Popen([sys.executable, "-c", _WAITER, str(iso / "src.py")],
                             env=_child_env(iso), cwd=str(ROOT), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready"
        assert mod.kernel(1.0) == 2.0 + _tag(src)
        assert sum(mod.kernel.stats.cache_misses.values()) == 1
    finally:
        diskcache.unlock_entry(lock)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    y, hits, compiles = json.loads(out.strip().splitlines()[-1])
    # without the lock it would have missed the cache and compiled the kernel too
    assert (y, hits, compiles) == (2.0 + _tag(src), 1, 0)
    assert not diskcache._HELD
    assert stat.S_IMODE(os.stat(lock).st_mode) == 0o600


@posix_only
def test_a_lock_held_too_long_or_by_a_dead_process_does_not_block(
        iso: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gnomon.backends import diskcache

    src = _source()
    mod = cache.load_module(src)
    lock = _lock_of(mod)
    p = subprocess.Popen([sys.executable, "-c", _HOLDER, lock], env=_child_env(iso),
                         cwd=str(ROOT), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    try:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "locked"
        assert not diskcache.lock_entry(lock, timeout=0.01)
        # past the wait bound this process compiles itself (and saves: nothing is lost)
        monkeypatch.setattr(diskcache, "LOCK_WAIT_S", 0.01)
        assert mod.kernel(1.0) == 2.0 + _tag(src)
        assert sum(mod.kernel.stats.cache_misses.values()) == 1
        assert not diskcache._HELD and not mod.kernel._cache._held
    finally:
        p.kill()  # dies holding the lock
        p.communicate(timeout=60)
    # the operating system released it with the process
    assert diskcache.lock_entry(lock, timeout=0)
    diskcache.unlock_entry(lock)
    assert not diskcache._HELD


def test_a_failed_compile_gives_its_lock_back(iso: Path) -> None:
    from numba.core.errors import TypingError

    from gnomon.backends import diskcache

    src = _source()
    mod = cache.load_module(src)
    with pytest.raises(TypingError):
        mod.kernel("not a number")
    assert not mod.kernel._cache._held and not diskcache._HELD
    assert mod.kernel(1.0) == 2.0 + _tag(src)
    assert not diskcache._HELD
