"""``gnomon.config``: the one configuration object, with a context manager for local changes.

Defaults come from environment variables ``GNOMON_<NAME>`` (e.g. ``GNOMON_FLOATX=float32``) or
``GNOMON_FLAGS="floatX=float32,mode=numpy"``.

Examples
--------
>>> from gnomon.config import config
>>> with config.change(floatX="float32"):
...     config.floatX
'float32'
>>> config.floatX
'float64'
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any


def _default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gnomon")


def _default_cache_key_file() -> str:
    # Outside the cache directory on purpose: whoever can write the cache (or restore it from
    # a CI artifact) must not also hold the key that vouches for its contents.
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "gnomon", "cache.key")


@dataclass
class Config:
    """gnomon's settings. Change them with attribute assignment or :meth:`change`."""

    #: dtype of ``'floatX'`` (the default dtype of constructors such as ``gt.matrix``).
    floatX: str = "float64"
    #: default compilation mode name: ``'numpy'`` (reference), ``'numba'``, ``'jax'``, or ``'auto'``
    #: (numba when installed, otherwise numpy).
    mode: str = "auto"
    #: where compiled code is cached on disk.
    cache_dir: str = field(default_factory=_default_cache_dir)
    #: the per-user secret (created 0600 on first use) that signs compiled code in the cache;
    #: must lie outside ``cache_dir``.
    cache_key_file: str = field(default_factory=_default_cache_key_file)
    #: size bound of the disk cache in bytes; least recently used entries are evicted past it
    #: (0: no bound).
    cache_max_bytes: int = 1 << 30
    #: what ``gnomon.function`` does with an input the outputs do not need.
    on_unused_input: str = "raise"
    #: check each compiled function's inputs (dtype, rank, static shape) on every call.
    check_inputs: bool = True
    #: tiered execution of ``mode='numba'`` functions (``gnomon/compile/tiered.py``,
    #: ``docs/compile-time.md``): ``'first'`` runs the first call on the NumPy reference while
    #: the Numba program compiles in the background, later calls run the Numba program;
    #: ``'async'`` runs every call on the reference until the Numba program is ready;
    #: ``'off'`` always waits for the Numba program.
    tiered: str = "first"

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in {f.name for f in fields(self)}:
            raise AttributeError(f"gnomon.config has no setting {name!r}")
        if name == "floatX" and value not in ("float16", "float32", "float64"):
            raise ValueError(f"config.floatX must be float16, float32 or float64, not {value!r}")
        if name == "tiered" and value not in ("off", "first", "async"):
            raise ValueError(f"config.tiered must be 'off', 'first' or 'async', not {value!r}")
        if name == "cache_max_bytes" and (isinstance(value, bool) or not isinstance(value, int)
                                          or value < 0):
            raise ValueError(f"config.cache_max_bytes must be an int >= 0, not {value!r}")
        object.__setattr__(self, name, value)

    @contextlib.contextmanager
    def change(self, **settings: Any) -> Iterator[Config]:
        """Change settings inside a ``with`` block, restoring them afterwards."""
        old = {k: getattr(self, k) for k in settings}
        try:
            for k, v in settings.items():
                setattr(self, k, v)
            yield self
        finally:
            for k, v in old.items():
                object.__setattr__(self, k, v)


def _from_environment(cfg: Config) -> Config:
    flags = os.environ.get("GNOMON_FLAGS", "")
    pairs = [p.split("=", 1) for p in flags.split(",") if "=" in p]
    for f in fields(cfg):
        env = os.environ.get(f"GNOMON_{f.name.upper()}")
        if env is not None:
            pairs.append([f.name, env])
    for k, v in pairs:
        k = k.strip()
        cur = getattr(cfg, k)
        setattr(cfg, k, v.strip().lower() in ("1", "true", "yes") if isinstance(cur, bool)
                else type(cur)(v.strip()))
    return cfg


config = _from_environment(Config())
