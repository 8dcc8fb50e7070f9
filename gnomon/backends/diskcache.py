"""Safety primitives shared by the backends' disk caches (``numba/cache.py``, ``c/cache.py``).

A disk cache of compiled code is a place where someone else's code could have been left (a
directory once writable by others, a cache restored from a CI artifact, files copied from
another machine), so every backend's cache rests on the same rules, implemented once here:

* a cache lives in ``<config.cache_dir>/<backend>/``; that directory and the root above it must
  belong to the user and not be writable by group or others (created 0700), else it is not used
  (one warning says why and the fix);
* compiled artifacts are signed with HMAC-SHA256 under a per-user secret key kept **outside**
  the cache (``config.cache_key_file``, created 0600), binding each file to its name; a file that
  fails verification is deleted and its code compiled again;
* files are written 0600 to a private temporary name and moved into place with
  :func:`os.replace`, so concurrent compiles of the same entry see a whole file or none;
* a failed write (read-only, disk full) gives one warning and no more writes from the process;
* a process about to compile an entry that another process is compiling waits for it (an
  advisory lock per entry, :func:`lock_entry`) and then loads the result, instead of paying
  the same compile twice; the lock dies with its process, and a wait is bounded.

Each backend keeps its own layout, naming, eviction and loading; what it needs from here is a
:class:`Store` (verified directory plus key) and the signed read/write functions.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import os
import secrets
import stat
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gnomon.config import config

try:
    import fcntl
except ImportError:  # no flock (Windows): entries are compiled without waiting for others
    fcntl = None  # type: ignore[assignment]

MAGIC = b"gnomon-numba-signed-1\n"
MAC_SIZE = hashlib.sha256().digest_size
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)

Warn = Callable[[str], None]


class Unsafe(Exception):
    """A cache or key location that must not be trusted; the message says why and the fix."""


@dataclass(eq=False)
class Store:
    """A verified cache directory and the key that signs its files."""

    root: str
    directory: str
    key: bytes
    #: the backend's subdirectory name under ``root`` (``numba``, ``c``)
    sub: str = "numba"
    #: a write failed (read-only, disk full): nothing more is written by this process
    broken: bool = False
    #: bytes written since the last eviction scan; None until this process writes
    unscanned: int | None = None


def check_private(path: str, fix: str) -> None:
    """Raise Unsafe unless ``path`` is a directory of this user, not writable by others."""
    if not hasattr(os, "geteuid"):  # no POSIX owners and modes (Windows)
        return
    st = os.stat(path)
    uid = os.geteuid()
    if not stat.S_ISDIR(st.st_mode):
        problem = "is not a directory"
    elif st.st_uid != uid:
        problem = f"belongs to uid {st.st_uid}, not to you (uid {uid})"
    elif st.st_mode & 0o022:
        problem = f"is writable by group or others (mode {stat.S_IMODE(st.st_mode):o})"
    else:
        return
    raise Unsafe(f"{path} {problem}; someone else could plant code there.\nFix: {fix}")


def dir_fix(path: str) -> str:
    return (f"`chmod 700 {path}` if it is yours, or set GNOMON_CACHE_DIR (gnomon.config."
            "cache_dir) to a directory only you can write.")


def private_dir(root: str, sub: str) -> str:
    """``root/sub``, created 0700 where missing, after checking it and ``root``."""
    os.makedirs(root, mode=0o700, exist_ok=True)
    check_private(root, dir_fix(root))
    path = os.path.join(root, sub)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    check_private(path, dir_fix(path))
    return path


def inside(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([path, root]) == root


def read_key(key_file: str) -> tuple[bytes | None, str | None]:
    """``(key, None)``, or ``(None, why it cannot be used)``; ``(None, None)`` if missing."""
    try:
        fd = os.open(key_file, os.O_RDONLY | _NONBLOCK | NOFOLLOW)
    except FileNotFoundError:
        return None, None
    except OSError as e:  # a symbolic link (ELOOP), unreadable, ...
        return None, f"it cannot be opened safely ({e.strerror})"
    try:
        st = os.fstat(fd)
        data = os.read(fd, 256) if stat.S_ISREG(st.st_mode) else b""
    finally:
        os.close(fd)
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return None, f"it belongs to uid {st.st_uid}, not to you"
    if hasattr(os, "geteuid") and st.st_mode & 0o077:
        return None, f"others could read it (mode {stat.S_IMODE(st.st_mode):o})"
    try:
        key = bytes.fromhex(data.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != 32:
        return None, "it does not hold a key"
    return key, None


def new_key(key_file: str, replace: bool) -> bytes:
    """Create a fresh key file (mode 0600); if another process just created one, use that."""
    key = secrets.token_bytes(32)
    tmp = f"{key_file}.tmp-{uuid.uuid4().hex[:16]}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key.hex() + "\n")
        if replace:
            os.replace(tmp, key_file)
            return key
        try:
            # link, not replace: two processes creating the key at once must agree on one
            os.link(tmp, key_file)
            return key
        except FileExistsError:
            theirs, _ = read_key(key_file)
            if theirs is not None:
                return theirs
        except OSError:  # a file system without hard links
            pass
        os.replace(tmp, key_file)
        return key
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def load_key(key_file: str, root: str, warn: Warn, what: str = "Numba") -> bytes:
    """The per-user signing key (one key for every backend's cache)."""
    if inside(key_file, root):
        raise Unsafe(
            f"the signing key {key_file} lies inside the cache directory {root}; whoever can "
            "write the cache could then also sign code.\nFix: set GNOMON_CACHE_KEY_FILE "
            "(gnomon.config.cache_key_file) to a path outside the cache directory.")
    kdir = os.path.dirname(key_file)
    os.makedirs(kdir, mode=0o700, exist_ok=True)
    check_private(kdir, f"`chmod 700 {kdir}` if it is yours, or set GNOMON_CACHE_KEY_FILE "
                        "(gnomon.config.cache_key_file) to a path in a private directory.")
    key, problem = read_key(key_file)
    if key is not None:
        return key
    if problem is not None:
        warn(f"gnomon: replaced the {what} cache key {key_file}: {problem}. Cached code "
             "signed with the old key will be compiled again.")
    return new_key(key_file, replace=problem is not None)


def io_problem(e: OSError) -> str:
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "the disk is full"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "it is read-only"
    return e.strerror or str(e)


def io_message(where: str, e: OSError, what: str = "Numba") -> str:
    return (f"gnomon: cannot write the {what} disk cache in {where} ({io_problem(e)}: {e}); "
            "compiled code stays in memory for the rest of this process, and each new process "
            "compiles it again.\nFix: free space or make the directory writable by you, or set "
            "GNOMON_CACHE_DIR (gnomon.config.cache_dir) to a writable private directory.")


def open_store(sub: str, stores: dict[tuple[str, str], Store | None], warn: Warn,
               what: str) -> Store | None:
    """The store ``<config.cache_dir>/<sub>`` of the current configuration, memoised in
    ``stores``; None (after one warning) if it is unusable."""
    root = os.path.abspath(os.path.expanduser(config.cache_dir))
    key_file = os.path.abspath(os.path.expanduser(config.cache_key_file))
    k = (root, key_file)
    if k in stores:
        return stores[k]
    store = None
    try:
        directory = private_dir(root, sub)
        store = Store(root, directory, load_key(key_file, root, warn, what), sub)
    except Unsafe as e:
        warn(f"gnomon: not using the {what} disk cache: {e}\nUntil then compiled code stays "
             "in memory, and each new process compiles it again.")
    except OSError as e:
        warn(io_message(root, e, what))
    stores[k] = store
    return store


def write_failed(store: Store, e: OSError, warn: Warn, what: str = "Numba") -> None:
    if not store.broken:
        store.broken = True
        warn(io_message(store.directory, e, what))


def write_atomic(path: str, data: bytes) -> int:
    """Write ``data`` to ``path`` (mode 0600) through a temporary file and :func:`os.replace`.

    No fsync: a file cut short by a crash fails its check and is rewritten.
    """
    d, base = os.path.split(path)
    tmp = os.path.join(d, f".tmp-{uuid.uuid4().hex[:16]}-{base}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return len(data)


def write_in_store(store: Store, path: str, data: bytes) -> int:
    """:func:`write_atomic`, re-creating the cache directory if it was removed (``clear``,
    here or in another process)."""
    try:
        return write_atomic(path, data)
    except FileNotFoundError:
        try:
            private_dir(store.root, store.sub)
        except Unsafe as e:
            raise PermissionError(errno.EPERM, str(e)) from None
        return write_atomic(path, data)


def discard(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def mac(key: bytes, name: str, payload: bytes) -> bytes:
    # the name binds a file to its entry (module hash), so signed files cannot be swapped
    return hmac.new(key, name.encode() + b"\0" + payload, hashlib.sha256).digest()


def write_signed(store: Store, path: str, payload: bytes) -> int:
    return write_in_store(store, path,
                          MAGIC + mac(store.key, os.path.basename(path), payload) + payload)


def read_signed(store: Store, path: str) -> bytes | None:
    """The payload of ``path`` if this user's key signed it; otherwise None, and a file that
    fails the check is deleted (it could only ever be compiled again)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:  # missing (not compiled yet, evicted) or unreadable
        return None
    n = len(MAGIC)
    payload = data[n + MAC_SIZE:]
    if data[:n] == MAGIC and hmac.compare_digest(
            data[n:n + MAC_SIZE], mac(store.key, os.path.basename(path), payload)):
        return payload
    discard(path)
    return None


# --- one compile per entry across processes ---------------------------------------------------

#: How long a process waits for another one compiling the same entry before compiling it
#: itself (a compile that takes longer is rare; a stuck process must not stall the others).
LOCK_WAIT_S = 300.0

# lock path -> [fd, depth]: a lock this process holds (taking it again only counts)
_HELD: dict[str, list[int]] = {}
_HELD_GUARD = threading.Lock()


def lock_entry(path: str, timeout: float = LOCK_WAIT_S) -> bool:
    """Take the cross-process lock file ``path`` (created 0600), waiting up to ``timeout``
    seconds while another process holds it. True when held (give it back with
    :func:`unlock_entry`); False after the timeout or where no lock can be taken (no
    ``fcntl``, an unwritable directory, a file system without locks), and the caller then
    goes on without it.

    The lock is an ``flock``: the operating system releases it when its holder exits or
    dies, so a crashed compile never blocks anyone. In one process the lock is reentrant (a
    compile may start another compile of the same entry).
    """
    if fcntl is None:
        return False
    with _HELD_GUARD:
        held = _HELD.get(path)
        if held is not None:
            held[1] += 1
            return True
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | NOFOLLOW, 0o600)
    except OSError:
        return False
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:  # held by another process: poll (flock has no timeout)
            if time.monotonic() >= deadline:
                os.close(fd)
                return False
            time.sleep(delay)
            delay = min(2 * delay, 0.05)
        except OSError:  # e.g. ENOLCK on a network file system
            os.close(fd)
            return False
    with _HELD_GUARD:
        _HELD[path] = [fd, 1]
    return True


def unlock_entry(path: str) -> None:
    """Give back one hold of the lock taken by :func:`lock_entry`."""
    with _HELD_GUARD:
        held = _HELD.get(path)
        if held is None:
            return
        held[1] -= 1
        if held[1]:
            return
        del _HELD[path]
    # closing the file releases the flock (the file stays: removing it could let a third
    # process lock a new file while a second still waits on the old one)
    with contextlib.suppress(OSError):
        os.close(held[0])


#: a temporary file (``.tmp-*``) older than this was left by a writer that died
STALE_TMP_S = 3600.0


def scan(directories: Sequence[str], prefix: str) -> tuple[list[tuple[str, str, os.stat_result]],
                                                         list[str]]:
    """The files named ``prefix*`` in ``directories`` as ``(name, path, stat)`` (links are not
    followed; unreadable entries are skipped), and the paths of stale temporary files, which
    eviction deletes. A directory that cannot be listed contributes nothing."""
    found: list[tuple[str, str, os.stat_result]] = []
    stale: list[str] = []
    old = time.time() - STALE_TMP_S
    for d in directories:
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            for e in it:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if e.name.startswith(".tmp-"):
                    if st.st_mtime < old:
                        stale.append(e.path)
                elif e.name.startswith(prefix):
                    found.append((e.name, e.path, st))
    return found, stale

