"""The type of random number generator states, shared generators, and ``NoneConst``.

A graph threads the state of a random number generator explicitly: every random variable takes
an RNG variable and returns the advanced one (see :mod:`gnomon.random.op`). At run time the value
of an RNG variable is a :class:`numpy.random.Generator` (any bit generator; PCG64 by default).

Copy semantics. Graphs are functional: a random variable never changes the generator it is
given, its ``next_rng`` output is a new generator. Copying a generator costs about 4 us
(:func:`copy_generator`), so compiled code avoids it where it can prove the old state is dead:

* a shared generator's storage is never handed to compiled code; each call of a compiled
  function reads a private copy (:class:`RandomGeneratorSharedVariable`), which the program
  then advances in place;
* the ``random_inplace`` rewrite marks a random variable ``inplace`` when nothing else reads its
  RNG input (see :mod:`gnomon.random.op`), so chains of draws never copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from gnomon.compile.shared import SharedVariable
from gnomon.errors import GnomonTypeError, with_hint
from gnomon.graph.basic import Constant, Variable
from gnomon.graph.type import Type

__all__ = [
    "NoneConst", "NoneTypeT", "RandomGeneratorSharedVariable", "RandomGeneratorType",
    "RandomGeneratorVariable", "copy_generator", "random_generator_type", "shared_rng",
]


class _NoSeed(ISeedSequence):
    """A seed sequence that gives zeros at once. A copied bit generator is built from it and
    then given the original's state, which skips hashing a fresh seed (about 20 us)."""

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        return np.zeros(n_words, dtype)


_NO_SEED = _NoSeed()


def copy_generator(rng: np.random.Generator) -> np.random.Generator:
    """A new generator in the same state as ``rng`` (same bit generator type), ~4 us.

    ``copy.deepcopy`` does the same through pickling in ~200 us.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.random.default_rng(0)
    >>> h = copy_generator(g)
    >>> bool(h.normal() == g.normal()), h is g
    (True, False)
    """
    bg = rng.bit_generator
    new = type(bg)(cast(Any, _NO_SEED))
    new.state = bg.state
    return np.random.Generator(new)


@dataclass(frozen=True)
class RandomGeneratorType(Type):
    """The type of random number generator states: values are :class:`numpy.random.Generator`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = random_generator_type("rng")
    >>> rng.type
    RandomGeneratorType()
    >>> random_generator_type.is_valid_value(np.random.default_rng(0))
    True
    """

    variable_class: ClassVar[type]
    constant_class: ClassVar[type] = Constant

    def filter(self, value: Any, *, name: str = "input", allow_downcast: bool = False) -> Any:
        if isinstance(value, np.random.Generator):
            return value
        if isinstance(value, np.random.RandomState):
            hint = ("gnomon uses the new NumPy API: pass np.random.default_rng(seed) instead of "
                    "a RandomState")
        else:
            hint = "pass np.random.default_rng(seed)"
        raise GnomonTypeError(with_hint(
            f"{name} expects a numpy.random.Generator, got a {type(value).__name__}", hint))

    def is_valid_value(self, value: Any) -> bool:
        return isinstance(value, np.random.Generator)

    def convert_variable(self, var: Any) -> Any:
        """``var`` if it can stand where this type is expected, else ``None``."""
        return var if var.type == self else None

    def constant_str(self, data: Any) -> str:
        return "Generator"

    def __str__(self) -> str:
        return "RandomGeneratorType"


class RandomGeneratorVariable(Variable):
    """A variable holding a random number generator state."""

    __slots__ = ()


RandomGeneratorType.variable_class = RandomGeneratorVariable

#: The RNG type (all generator states have one type); call it to make a symbolic RNG input:
#: ``random_generator_type("rng")``, as in PyTensor.
random_generator_type = RandomGeneratorType()


class RandomGeneratorSharedVariable(SharedVariable):
    """A shared random number generator (made by ``gnomon.shared(np.random.default_rng(seed))``).

    Attributes
    ----------
    default_update : Variable or None
        The new value :func:`gnomon.function` gives this variable after each call when the
        function's ``updates`` do not mention it (PyTensor's ``default_update``). Random
        variables built with :class:`gnomon.random.RandomStream`, or without an ``rng``, set it
        to their ``next_rng`` so each call draws new values.

    Notes
    -----
    Compiled code advances generators in place. So that it can never advance the generator
    stored here (a call that fails half way must leave the state unchanged, and ``updates`` take
    effect only after the outputs are computed), every read of the stored value by a compiled
    function gets a private copy (``_value``); :meth:`get_value` with ``borrow=True`` returns the
    stored generator itself.

    Examples
    --------
    >>> import numpy as np, gnomon
    >>> rng = gnomon.shared(np.random.default_rng(42), name="rng")
    >>> type(rng).__name__, rng.type
    ('RandomGeneratorSharedVariable', RandomGeneratorType())
    >>> rng.get_value().normal() == np.random.default_rng(42).normal()
    True
    """

    __slots__ = ("default_update",)

    def __init__(self, type: Any, value: Any, name: str | None = None) -> None:
        super().__init__(type, value, name)
        self.default_update: Variable | None = None

    # The storage is SharedVariable's slot; this property shadows it so that compiled functions,
    # which read ``shared._value``, get a copy they may advance in place.
    @property
    def _value(self) -> np.random.Generator:
        return copy_generator(_STORAGE.__get__(self))

    @_value.setter
    def _value(self, value: np.random.Generator) -> None:
        _STORAGE.__set__(self, value)

    def get_value(self, borrow: bool = False) -> np.random.Generator:
        """The current generator; a copy unless ``borrow=True`` (then drawing from it changes
        this variable's state)."""
        g = _STORAGE.__get__(self)
        return g if borrow else copy_generator(g)

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the generator (copied unless ``borrow=True``)."""
        g = self.type.filter(value, name=f"shared variable {self.name or '<unnamed>'}")
        g = g if borrow else copy_generator(g)
        lock = getattr(self, "_lock", None)
        if lock is None:
            self._value = g
        else:
            with lock:  # not in the middle of a call that updates this variable
                self._value = g

    @property
    def value(self) -> np.random.Generator:
        return self.get_value()

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        return f"RNG({type(_STORAGE.__get__(self).bit_generator).__name__})"

    def __getstate__(self) -> dict[str, Any]:
        # The generator pickles as itself (not as an array, as tensor values do); a lock, if the
        # base class has one, is per process.
        state = Variable.__getstate__(self)
        state["_value"] = _STORAGE.__get__(self)
        state.pop("_lock", None)
        return state


# the slot descriptor behind the property above
_STORAGE: Any = vars(SharedVariable)["_value"]


def shared_rng(
    value: np.random.Generator, name: str | None = None, *, borrow: bool = False
) -> RandomGeneratorSharedVariable:
    """A shared RNG variable holding ``value`` (copied unless ``borrow=True``).

    ``gnomon.shared(generator)`` calls this.

    Examples
    --------
    >>> import numpy as np
    >>> rng = shared_rng(np.random.default_rng(0), name="rng")
    >>> rng.name, rng.default_update is None
    ('rng', True)
    """
    g = random_generator_type.filter(value, name=f"shared variable {name or '<unnamed>'}")
    return RandomGeneratorSharedVariable(random_generator_type,
                                         g if borrow else copy_generator(g), name)


@dataclass(frozen=True)
class NoneTypeT(Type):
    """The type of the constant ``None`` (``size=None`` of a random variable)."""

    variable_class: ClassVar[type] = Variable
    constant_class: ClassVar[type] = Constant

    def filter(self, value: Any, *, name: str = "input", allow_downcast: bool = False) -> Any:
        if value is None:
            return None
        raise GnomonTypeError(f"{name} expects None, got {type(value).__name__}")

    def is_valid_value(self, value: Any) -> bool:
        return value is None

    def constant_str(self, data: Any) -> str:
        return "None"

    def __str__(self) -> str:
        return "NoneType"


#: The constant ``None`` (interned; held here so it lives as long as the module).
NoneConst: Constant = Constant.make(NoneTypeT(), None, None)
