"""``Mode``: which backend compiles a function and which rewrites run first."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace
from typing import Any

from gnomon.errors import GnomonValueError, with_hint

BACKENDS = ("numpy", "numba", "jax", "c")


#: PyTensor's linker names and the backend that stands for each here: its Python linkers run
#: each op's ``perform`` (the reference backend); its C linkers compile (gnomon's C backend).
LINKERS = {"py": "numpy", "vm": "numpy", "vm_nogc": "numpy", "c": "c", "c|py": "c",
           "c|py_nogc": "c", "cvm": "c", "cvm_nogc": "c", "numba": "numba", "jax": "jax"}
#: PyTensor's optimizer names: whether the rewrite pipeline runs. gnomon has one pipeline;
#: ``'merge'`` needs no pass (graphs are hash-consed, so equal expressions are one node).
OPTIMIZERS = {"fast_run": True, "default": True, "o4": True, "fast_compile": False,
              "merge": False, "none": False}


@dataclass(frozen=True, init=False)
class Mode:
    """A backend name plus the rewrite groups or rules to include or exclude.

    Parameters
    ----------
    backend : str
        ``'numpy'`` (the reference, default), ``'numba'``, ``'jax'`` or ``'c'``; PyTensor's linker
        names are accepted too (:data:`LINKERS`: ``'py'`` and ``'vm'`` are ``'numpy'``,
        ``'cvm'`` and ``'c|py'`` are ``'c'``).
    include, exclude : tuple of str
        Rewrite rules or groups to add or leave out (see :meth:`including`).
    optimize : bool
        Run the rewrite pipeline at all.
    tiered : str, optional
        Tiered execution for ``'numba'`` (``'off'``, ``'first'``, ``'async'``).
    linker, optimizer : str, optional
        PyTensor's spelling, ``Mode(linker="cvm", optimizer="fast_run")``: ``linker`` names the
        backend as above; ``optimizer`` is one of :data:`OPTIMIZERS` (or ``None``, no rewrites).
        A PyTensor call ``Mode("py", "fast_compile")`` (positional) works as well.

    Examples
    --------
    >>> m = Mode("numpy").excluding("fusion")
    >>> m.exclude
    ('fusion',)
    >>> Mode(linker="py", optimizer="fast_compile")
    Mode(backend='numpy', include=(), exclude=(), optimize=False, tiered=None)
    """

    backend: str = "numpy"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: run the rewrite pipeline at all (``Mode(..., optimize=False)`` compiles the graph as built)
    optimize: bool = True
    #: tiered execution (``'off'``, ``'first'``, ``'async'``; None: ``config.tiered``), see
    #: :mod:`gnomon.compile.tiered`
    tiered: str | None = None

    def __init__(
        self,
        backend: str | None = None,
        include: tuple[str, ...] | str | None = (),
        exclude: tuple[str, ...] = (),
        optimize: bool = True,
        tiered: str | None = None,
        *,
        linker: str | None = None,
        optimizer: Any = "unset",
    ) -> None:
        if isinstance(include, str) or include is None:
            # PyTensor's Mode(linker, optimizer): the second positional is the optimizer
            optimizer, include = include, ()
        if linker is not None:
            if backend is not None:
                raise GnomonValueError("give Mode either a backend or a linker, not both")
            backend = linker
        backend = "numpy" if backend is None else backend
        if isinstance(backend, str) and backend.lower() in LINKERS:
            backend = LINKERS[backend.lower()]
        if optimizer != "unset":
            key = "none" if optimizer is None else str(optimizer).lower()
            if key not in OPTIMIZERS:
                raise GnomonValueError(with_hint(
                    f"Mode(optimizer={optimizer!r}) is not an optimizer gnomon knows",
                    f"use one of {', '.join(repr(k) for k in OPTIMIZERS)} or None; to leave "
                    "rewrites out, use Mode(...).excluding('name')"))
            optimize = OPTIMIZERS[key]
        object.__setattr__(self, "backend", backend)
        object.__setattr__(self, "include", tuple(include))
        object.__setattr__(self, "exclude", tuple(exclude))
        object.__setattr__(self, "optimize", bool(optimize))
        object.__setattr__(self, "tiered", tiered)
        self.__post_init__()

    @property
    def linker(self) -> str:
        """The backend (PyTensor calls it the linker)."""
        return self.backend

    @property
    def optimizer(self) -> str | None:
        """``'fast_run'`` when the rewrite pipeline runs, ``None`` when it does not."""
        return "fast_run" if self.optimize else None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise GnomonValueError(
                f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}"
            )
        if self.tiered not in (None, "off", "first", "async"):
            raise GnomonValueError(
                f"tiered={self.tiered!r}; choose 'off', 'first', 'async' or None (config.tiered)"
            )

    def including(self, *names: str) -> Mode:
        """This mode with the named rewrite rules or groups added."""
        return replace(self, include=self.include + names,
                       exclude=tuple(n for n in self.exclude if n not in names))

    def excluding(self, *names: str) -> Mode:
        """This mode with the named rewrite rules or groups left out."""
        return replace(self, exclude=self.exclude + names,
                       include=tuple(n for n in self.include if n not in names))


def default_backend() -> str:
    """``numba`` when it is installed, else ``numpy``."""
    return "numba" if importlib.util.find_spec("numba") is not None else "numpy"


#: PyTensor's mode names with no counterpart here, and what to use instead
_NO_SUCH_MODE = {
    "pytorch": "gnomon has no PyTorch backend; use 'numba', 'jax' or 'c'",
    "debugmode": "gnomon has no DebugMode; mode='numpy' runs every op's reference implementation "
                 "and checks output types, and gnomon.testing.compare_backends compares backends",
    "debug_mode": "see 'DebugMode'",
    "nanguardmode": "gnomon has no NanGuardMode; check outputs with np.isfinite",
}


def get_mode(mode: Any) -> Mode:
    """Normalize ``mode=`` (``None``, a backend name, PyTensor's ``'FAST_RUN'``,
    ``'FAST_COMPILE'``, ``'NUMBA'``, ``'JAX'``, or a Mode).

    Strings and ``None`` follow the configuration: ``config.mode`` is the default,
    ``config.linker`` and ``config.optimizer`` choose the backend and rewrites of
    ``'FAST_RUN'``, and ``config.optimizer_including`` / ``optimizer_excluding`` (names
    separated by ``:``, as in PyTensor) add or remove rewrites. A Mode object is used as it is.
    """
    from gnomon.config import config

    if isinstance(mode, Mode):
        return mode
    if mode is None:
        mode = config.mode
    if isinstance(mode, str):
        name = mode.lower()
        m: Mode | None = None
        if name in ("auto", "fast_run", "default"):
            linker = config.linker.lower()
            backend = (_available(default_backend()) if linker == "auto"
                       else LINKERS.get(linker, linker))
            m = Mode(backend, optimizer=config.optimizer)
        elif name == "fast_compile":
            m = Mode("numpy", optimize=False)
        elif name in BACKENDS:
            m = Mode(name)
        if m is not None:
            inc = tuple(n for n in config.optimizer_including.split(":") if n)
            exc = tuple(n for n in config.optimizer_excluding.split(":") if n)
            return m.including(*inc).excluding(*exc) if inc or exc else m
        if name in _NO_SUCH_MODE:
            raise GnomonValueError(with_hint(f"mode={mode!r} is not available in gnomon",
                                             _NO_SUCH_MODE[name]))
    raise GnomonValueError(
        f"mode={mode!r} is not a mode; use one of {', '.join(BACKENDS)}, 'auto', "
        "'FAST_RUN', 'FAST_COMPILE' or a gnomon.Mode(...)"
    )


def _available(backend: str) -> str:
    # A backend becomes the default only once its package declares READY = True (it lowers
    # every op and passes the backend tests); until then 'auto' means the reference backend.
    import importlib

    try:
        pkg = importlib.import_module(f"gnomon.backends.{backend}")
    except ImportError:
        return "numpy"
    return backend if getattr(pkg, "READY", False) else "numpy"
