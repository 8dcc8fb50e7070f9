"""``Mode``: which backend compiles a function and which rewrites run first."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace
from typing import Any

from gnomon.errors import GnomonValueError

BACKENDS = ("numpy", "numba", "jax", "c")


@dataclass(frozen=True)
class Mode:
    """A backend name plus the rewrite groups or rules to include or exclude.

    Examples
    --------
    >>> m = Mode("numpy").excluding("fusion")
    >>> m.exclude
    ('fusion',)
    """

    backend: str = "numpy"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: run the rewrite pipeline at all (``Mode(..., optimize=False)`` compiles the graph as built)
    optimize: bool = True
    #: tiered execution (``'off'``, ``'first'``, ``'async'``; None: ``config.tiered``), see
    #: :mod:`gnomon.compile.tiered`
    tiered: str | None = None

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


def get_mode(mode: Any) -> Mode:
    """Normalize ``mode=`` (``None``, a backend name, ``'FAST_COMPILE'``, or a Mode)."""
    from gnomon.config import config

    if isinstance(mode, Mode):
        return mode
    if mode is None:
        mode = config.mode
    if isinstance(mode, str):
        name = mode.lower()
        if name in ("auto", "fast_run", "default"):
            return Mode(_available(default_backend()))
        if name == "fast_compile":
            return Mode("numpy", optimize=False)
        if name in BACKENDS:
            return Mode(name)
    raise GnomonValueError(
        f"mode={mode!r} is not a mode; use one of {', '.join(BACKENDS)}, 'auto', "
        "'FAST_COMPILE' or a gnomon.Mode(...)"
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
