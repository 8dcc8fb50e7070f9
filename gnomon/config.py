"""``gnomon.config``: the one configuration object, with a context manager for local changes.

Defaults come from environment variables ``GNOMON_<NAME>`` (e.g. ``GNOMON_FLOATX=float32``) or
``GNOMON_FLAGS="floatX=float32,mode=numpy"``.

Settings that PyTensor has too carry PyTensor's names (``floatX``, ``mode``, ``linker``,
``optimizer``, ``optimizer_including``, ``optimizer_excluding``, ``on_unused_input``,
``compute_test_value``, ``device``), and ``config.change_flags(...)`` is PyTensor's name for
:meth:`Config.change`. PyTensor flags that mean nothing here (``allow_gc``, ``cxx``,
``compiledir`` ...) are refused with the reason, as is any unknown name.

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
    #: the backend of ``mode='FAST_RUN'`` / ``'auto'``: ``'auto'`` (numba when installed), or a
    #: backend or PyTensor linker name (``'py'``, ``'cvm'``, ``'numba'``, ``'jax'``, ``'c'`` ...).
    linker: str = "auto"
    #: whether ``mode='FAST_RUN'`` / ``'auto'`` rewrites: ``'fast_run'`` or ``'None'`` (also
    #: PyTensor's ``'fast_compile'``, ``'merge'``, which run no rewrites here).
    optimizer: str = "fast_run"
    #: rewrite rules or groups added to modes given by name (``'a:b'``, PyTensor's spelling).
    optimizer_including: str = ""
    #: rewrite rules or groups left out of modes given by name (``'fusion:inplace'``).
    optimizer_excluding: str = ""
    #: PyTensor's test values; gnomon computes none, so only ``'off'`` / ``'ignore'``.
    compute_test_value: str = "off"
    #: where arrays live; the NumPy, Numba and C backends compute on the CPU (JAX places arrays
    #: on its own default device), so only ``'cpu'``.
    device: str = "cpu"
    #: check each compiled function's inputs (dtype, rank, static shape) on every call.
    check_inputs: bool = True
    #: tiered execution of ``mode='numba'`` functions (``gnomon/compile/tiered.py``,
    #: ``docs/compile-time.md``): ``'first'`` runs the first call on the NumPy reference while
    #: the Numba program compiles in the background, later calls run the Numba program;
    #: ``'async'`` runs every call on the reference until the Numba program is ready;
    #: ``'off'`` always waits for the Numba program.
    tiered: str = "first"
    #: run a compiled function's direct call (its entry point behind the argument checks) as a
    #: small C object, compiled once per machine (``gnomon/backends/native_call.py``); off,
    #: or without a C compiler, a generated Python function takes the same decisions.
    native_call: bool = True

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in {f.name for f in fields(self)}:
            raise AttributeError(_unknown(name))
        _check_pytensor_flag(name, value)
        if name == "floatX" and value not in ("float16", "float32", "float64"):
            raise ValueError(f"config.floatX must be float16, float32 or float64, not {value!r}")
        if name == "tiered" and value not in ("off", "first", "async"):
            raise ValueError(f"config.tiered must be 'off', 'first' or 'async', not {value!r}")
        if name == "cache_max_bytes" and (isinstance(value, bool) or not isinstance(value, int)
                                          or value < 0):
            raise ValueError(f"config.cache_max_bytes must be an int >= 0, not {value!r}")
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only called for names that are not settings
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(_unknown(name))

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

    #: PyTensor's name: ``with gnomon.config.change_flags(floatX="float32"): ...``
    change_flags = change


#: PyTensor flags with no meaning in gnomon, and why (refused with this reason).
PYTENSOR_ONLY = {
    "allow_gc": "gnomon's backends manage intermediate arrays themselves",
    "cxx": "the C backend (mode='c') finds its compiler itself",
    "compiledir": "compiled code is cached under config.cache_dir",
    "base_compiledir": "compiled code is cached under config.cache_dir",
    "profile": "gnomon has no profiler mode; time calls with timeit or a profiler",
    "profile_memory": "gnomon has no profiler mode",
    "exception_verbosity": "errors always name the node and the line that built it",
    "traceback__limit": "errors always name the line that built the failing node",
    "optimizer_verbose": "f.rewrite_trace lists the rewrites applied to a function",
    "print_global_stats": "gnomon has no global statistics",
    "deterministic": "gnomon's ops are deterministic",
    "cast_policy": "gnomon follows NumPy's casting rules (NEP 50)",
    "warn_float64": "not implemented; search a graph for float64 with gnomon.graph.toposort",
    "openmp": "gnomon does not use OpenMP",
    "blas__ldflags": "BLAS comes with NumPy/SciPy (and Numba's bindings to them)",
    "gcc__cxxflags": "the C backend chooses its compiler flags",
    "numba__cache": "Numba's compiled code is always cached (config.cache_dir)",
    "scan__allow_gc": "see allow_gc",
    "unpickle_function": "compiled functions are always pickled as their graph and recompiled",
    "reoptimize_unpickled_function": "a loaded function is always compiled again",
}


def _unknown(name: str) -> str:
    if name in PYTENSOR_ONLY:
        return (f"gnomon.config has no setting {name!r}: PyTensor's flag means nothing in gnomon "
                f"({PYTENSOR_ONLY[name]})")
    import difflib

    names = [f.name for f in fields(Config)]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; the settings are {', '.join(names)}"
    return f"gnomon.config has no setting {name!r}{hint}"


_CHOICES = {
    "on_unused_input": ("raise", "warn", "ignore"),
    "compute_test_value": ("off", "ignore"),
    "device": ("cpu",),
}


def _check_pytensor_flag(name: str, value: Any) -> None:
    if name in _CHOICES and value not in _CHOICES[name]:
        why = {"compute_test_value": " (gnomon computes no test values)",
               "device": " (use mode='jax' to compute on an accelerator)"}.get(name, "")
        raise ValueError(f"config.{name} must be one of {', '.join(map(repr, _CHOICES[name]))}"
                         f"{why}, not {value!r}")
    if name == "optimizer" and str(value).lower() not in ("fast_run", "default", "o4",
                                                          "fast_compile", "merge", "none"):
        raise ValueError(f"config.optimizer must be 'fast_run' or 'None' (or 'fast_compile', "
                         f"'merge', which run no rewrites either), not {value!r}")
    if name == "linker" and str(value).lower() not in ("auto", "py", "vm", "vm_nogc", "c",
                                                       "c|py", "c|py_nogc", "cvm", "cvm_nogc",
                                                       "numba", "jax", "numpy"):
        raise ValueError(f"config.linker must be 'auto', a backend ('numpy', 'numba', 'jax', "
                         f"'c') or a PyTensor linker name ('py', 'cvm' ...), not {value!r}")


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
