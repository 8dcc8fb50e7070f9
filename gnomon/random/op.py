"""``RandomVariable``: the abstract op behind every distribution.

A random variable node has inputs ``(rng, size, *params)`` and outputs ``(next_rng, draw)``:

* ``rng`` is a :class:`~gnomon.random.type.RandomGeneratorType` variable; ``next_rng`` is the
  generator after the draw, so RNG state is threaded through the graph explicitly and a graph
  stays a pure function of its inputs;
* ``size`` is ``NoneConst`` or an int64 vector of known length;
* ``params`` are tensors. Parameter ``i`` has ``ndims_params[i]`` *core* dimensions (its last
  ones: the vector ``p`` of a categorical, the matrix ``cov`` of a multivariate normal); the
  dimensions before them are *batch* dimensions.

Shapes follow NumPy's ``Generator`` exactly: with ``size=None`` the batch shape is the broadcast
of the parameters' batch shapes; otherwise it is ``size`` (and every parameter's batch shape must
broadcast to it). The draw has shape ``batch + support``, where the support shape (``ndim_supp``
dimensions) comes from the parameters' core dimensions (``k`` for a Dirichlet on ``k`` categories).

A distribution is one short subclass: its class attributes (``name``, ``ndim_supp``,
``ndims_params``, ``param_names``, ``default_dtype``, ``checks``) and ``rng_fn``, the NumPy draw.
Backends lower the draw per class (:mod:`gnomon.backends.numba.random`,
:mod:`gnomon.backends.jax.random`).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, ShapeError, with_hint, with_user_line
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.random.type import (
    NoneConst,
    RandomGeneratorType,
    copy_generator,
    random_generator_type,
)
from gnomon.tensor.basic import as_tensor, cast, constant
from gnomon.tensor.type import TensorType, normalize_dtype

__all__ = ["Check", "RandomVariable", "as_size"]


def _is_psd(cov: np.ndarray) -> np.ndarray:
    """Whether each matrix of a stack is symmetric positive semi-definite (NumPy's test in
    ``multivariate_normal``: the SVD reconstructs it, with a relative tolerance)."""
    cov = np.asarray(cov, dtype="float64")
    if cov.shape[-1] != cov.shape[-2]:
        return np.zeros(cov.shape[:-2], bool)
    sym = np.all(np.abs(cov - np.swapaxes(cov, -1, -2)) <= 1e-8 * (1 + np.abs(cov)), (-2, -1))
    with np.errstate(all="ignore"):
        w = np.linalg.eigvalsh(cov) if np.all(np.isfinite(cov)) else np.full(cov.shape[:-1],
                                                                             np.nan)
    scale = np.maximum(np.max(np.abs(w), axis=-1, initial=0.0), 1e-300)
    return sym & np.all(w >= -1e-8 * scale[..., None], axis=-1)


_CHECK_GLOBALS = {"np": np, "is_psd": _is_psd}


@dataclass(frozen=True)
class Check:
    """A condition every parameter value must meet, e.g. ``Check("scale >= 0", "...")``.

    ``expr`` is a NumPy expression over parameter names that is true where the values are valid;
    it is checked at graph construction when the parameters it names are constants, and at run
    time otherwise (the reference and Numba backends; JAX gives ``nan`` like ``jax.random``).
    ``numba`` overrides the expression in Numba kernels where NumPy's form does not compile.
    """

    expr: str
    message: str
    numba: str = ""

    def names(self, params: Sequence[str]) -> list[str]:
        return [n for n in params if re.search(rf"\b{n}\b", self.expr)]

    def holds(self, values: dict[str, np.ndarray]) -> bool:
        with np.errstate(all="ignore"):
            return bool(np.all(eval(self.expr, _CHECK_GLOBALS, values)))


@dataclass(frozen=True)
class RandomVariable(Op):
    """Abstract base of random variable ops; see the module docstring.

    Parameters
    ----------
    dtype : str
        Output dtype; ``""`` takes the class's ``default_dtype`` (``'floatX'`` resolves to
        ``gnomon.config.floatX`` when the op is built).
    inplace : bool
        The node may advance its input generator instead of a copy. Set by the
        ``random_inplace`` rewrite when nothing else reads that generator; never set it by hand.
    """

    #: distribution name, as in NumPy (``'normal'``); used in messages and printing
    name: ClassVar[str]
    #: number of support (core output) dimensions
    ndim_supp: ClassVar[int] = 0
    #: number of core dimensions of each parameter
    ndims_params: ClassVar[tuple[int, ...]] = ()
    #: parameter names, in input order
    param_names: ClassVar[tuple[str, ...]] = ()
    #: output dtype of the class (``'floatX'`` or a dtype name)
    default_dtype: ClassVar[str] = "floatX"
    #: validity conditions on parameter values
    checks: ClassVar[tuple[Check, ...]] = ()
    #: draws are a differentiable function of the parameters (location-scale families)
    reparameterized: ClassVar[bool] = False

    dtype: str = ""
    inplace: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The two hooks a distribution may need are checked when its class is defined, so a
        # missing one fails at import instead of when a user first draws or differentiates.
        super().__init_subclass__(**kwargs)
        if cls.ndim_supp > 0 and cls.support_shape is RandomVariable.support_shape:
            raise TypeError(f"{cls.__name__} has ndim_supp={cls.ndim_supp} and must define "
                            "support_shape (the support's shape from the parameters' shapes)")
        if (cls.reparameterized and cls.param_names
                and cls.reparam_pullback is RandomVariable.reparam_pullback):
            raise TypeError(f"{cls.__name__} sets reparameterized=True and must define "
                            "reparam_pullback (the draw's gradients in its parameters)")

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", normalize_dtype(self.dtype or self.default_dtype))

    # --- the draw ---------------------------------------------------------------------------

    @abc.abstractmethod
    def rng_fn(self, rng: np.random.Generator, *params: np.ndarray,
               size: tuple[int, ...] | None) -> Any:
        """Draw with NumPy: ``params`` are arrays, ``size`` is NumPy's ``size`` argument."""

    def support_shape(self, param_shapes: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
        """The support shape from the parameters' shapes (ints, ``None`` or int64 scalars)."""
        # scalar support; classes with support dimensions override this (checked when the
        # class is defined, in __init_subclass__)
        return ()

    # --- building nodes -----------------------------------------------------------------------

    def make_node(self, rng: Any, size: Any, *params: Any) -> Apply:
        rng = _as_rng(rng, self)
        size = as_size(size, self.name)
        if len(params) != len(self.ndims_params):
            raise GnomonTypeError(
                f"{self.name} takes {len(self.ndims_params)} parameter(s) "
                f"({', '.join(self.param_names)}), got {len(params)}"
            )
        ps = [self._as_param(p, i) for i, p in enumerate(params)]
        batch = self._static_batch_shape(size, ps)
        supp = tuple(self.static_support_shape(ps))
        self._check_constants(ps)
        out = TensorType(self.dtype, batch + supp)
        return Apply.make(self, [rng, size, *ps], [random_generator_type, out])

    def _as_param(self, p: Any, i: int) -> Variable:
        name = self.param_names[i]
        try:
            v = as_tensor(p)
        except Exception as e:
            raise GnomonTypeError(_at(with_hint(
                f"{self.name}: parameter {name!r} must be a number or an array, got {p!r} ({e})",
                f"pass {name} as a number, a NumPy array or a tensor variable",
            ))) from None
        if v.dtype[0] == "c" or v.dtype == "bool":
            raise GnomonTypeError(_at(with_hint(
                f"{self.name}: parameter {name!r} has dtype {v.dtype}, which is not a real number",
                f"cast it: {name}.astype('float64')",
            )))
        nd = self.ndims_params[i]
        if v.ndim < nd:
            raise ShapeError(_at(with_hint(
                f"{self.name}: parameter {name!r} needs at least {nd} dimension(s) (its last {nd} "
                f"are the core of one draw), but it has {v.ndim} (type {v.type})",
                f"pass {name} with shape (..., " + ", ".join("k" * nd) + ")",
            )))
        return v

    def static_support_shape(self, params: Sequence[Variable]) -> tuple[int | None, ...]:
        """The support shape known at graph time (``None`` where unknown)."""
        shapes = [p.type.shape for p in params]  # type: ignore[attr-defined]
        return tuple(s if isinstance(s, int) else None for s in self.support_shape(shapes))

    def batch_ndims(self, params: Sequence[Variable]) -> list[int]:
        return [p.ndim - nd for p, nd in zip(params, self.ndims_params, strict=True)]

    def _static_batch_shape(self, size: Variable, params: Sequence[Variable]
                            ) -> tuple[int | None, ...]:
        batch = [p.type.shape[: p.ndim - nd]  # type: ignore[attr-defined]
                 for p, nd in zip(params, self.ndims_params, strict=True)]
        if size is NoneConst:
            n = max((len(b) for b in batch), default=0)
            padded = [(1,) * (n - len(b)) + tuple(b) for b in batch]
            out = []
            for d in range(n):
                dims = [b[d] for b in padded]
                known = {x for x in dims if x is not None and x != 1}
                if len(known) > 1:
                    raise ShapeError(_at(with_hint(
                        f"{self.name}: the parameters' batch shapes "
                        f"{self._describe(params, batch)} cannot be broadcast together",
                        "give the parameters broadcastable shapes, or pass size=",
                    )))
                out.append(known.pop() if known else
                           (1 if all(x == 1 for x in dims) else None))
            return tuple(out)
        sz = static_size(size)
        for b, name in zip(batch, self.param_names, strict=True):
            bad = len(b) > len(sz) or any(
                x is not None and x != 1 and s is not None and x != s
                for x, s in zip(b[::-1], sz[::-1], strict=False)
            )
            if bad:
                raise ShapeError(_at(with_hint(
                    f"{self.name}: parameter {name!r} with batch shape {_fmt(b)} does not "
                    f"broadcast to size={_fmt(sz)}",
                    f"size is the whole batch shape (as in NumPy): use a size that ends with "
                    f"{name}'s batch shape {_fmt(b)}, or size=None",
                )))
        return sz

    def _describe(self, params: Sequence[Variable], batch: Sequence[tuple[Any, ...]]) -> str:
        return ", ".join(f"{n}: {_fmt(b)}" for n, b in zip(self.param_names, batch, strict=True))

    def _check_constants(self, params: Sequence[Variable]) -> None:
        """Checks whose parameters are all constants run now (a clear error at the user's line
        beats one at call time)."""
        consts = {n: p.data for n, p in zip(self.param_names, params, strict=True)
                  if isinstance(p, Constant)}
        for c in self.checks:
            names = c.names(self.param_names)
            if names and all(n in consts for n in names) and not c.holds(
                    {n: consts[n] for n in names}):
                raise GnomonValueError(_at(self._check_message(c, {n: consts[n] for n in names})))

    def _check_message(self, c: Check, values: dict[str, np.ndarray], at_run_time: bool = False
                       ) -> str:
        shown = ", ".join(f"{n}={_short(v)}" for n, v in values.items())
        return with_hint(
            f"{self.name}: {c.message}, got {shown}",
            "these values were computed from the function's inputs; check the arguments (or "
            "clip the parameters in the graph)" if at_run_time else
            "fix the parameter value; symbolic parameters are checked the same way when the "
            "function is called",
        )

    # --- running ------------------------------------------------------------------------------

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        rng, size, *params = inputs
        # Numba's error replay hands over np.asarray(...) of every input: unwrap the 0-d object
        # arrays holding the generator or None
        if isinstance(rng, np.ndarray):
            rng = rng.item()
        if isinstance(size, np.ndarray) and size.dtype == object:
            size = size.item()
        if not self.inplace:
            rng = copy_generator(rng)
        size = None if size is None else tuple(int(s) for s in np.asarray(size))
        params = [np.asarray(p) for p in params]
        self.validate(params, size)
        draw = self.rng_fn(rng, *params, size=size)
        return rng, np.asarray(draw, dtype=self.dtype)

    def validate(self, params: Sequence[np.ndarray], size: tuple[int, ...] | None) -> None:
        """Run-time checks of parameter values and shapes (what ``make_node`` could not see)."""
        values = dict(zip(self.param_names, params, strict=True))
        for c in self.checks:
            names = c.names(self.param_names)
            sub = {n: values[n] for n in names}
            if not c.holds(sub):
                raise GnomonValueError(self._check_message(c, sub, at_run_time=True))
        batch = [p.shape[: p.ndim - nd] for p, nd in zip(params, self.ndims_params, strict=True)]
        if size is not None:
            if any(s < 0 for s in size):
                raise ShapeError(with_hint(f"{self.name}: size={size} has a negative entry",
                                           "sizes are lengths, >= 0"))
            for b, name in zip(batch, self.param_names, strict=True):
                try:
                    ok = np.broadcast_shapes(b, size) == size
                except ValueError:
                    ok = False
                if not ok:
                    raise ShapeError(with_hint(
                        f"{self.name}: parameter {name!r} with batch shape {b} does not "
                        f"broadcast to size={size}",
                        "size is the whole batch shape (as in NumPy); use a size that ends with "
                        "the parameters' batch shape, or size=None",
                    ))
        else:
            try:
                np.broadcast_shapes(*batch)
            except ValueError:
                shown = ", ".join(f"{n}: {b}" for n, b in zip(self.param_names, batch,
                                                              strict=True))
                raise ShapeError(with_hint(
                    f"{self.name}: the parameters' batch shapes {shown} cannot be broadcast "
                    "together",
                    "give the parameters broadcastable shapes, or pass size=",
                )) from None

    def batch_shape(self, params: Sequence[np.ndarray], size: tuple[int, ...] | None
                    ) -> tuple[int, ...]:
        """The run-time batch shape (after :meth:`validate`)."""
        if size is not None:
            return size
        return np.broadcast_shapes(*[p.shape[: p.ndim - nd]
                                     for p, nd in zip(params, self.ndims_params, strict=True)])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Variable, ...]]
                    ) -> list[tuple[Variable, ...]]:
        from gnomon.tensor.elemwise import _broadcast_dim
        from gnomon.tensor.shapes import shape_scalars_of_vector

        size = node.inputs[1]
        pshapes = [tuple(s) for s in input_shapes[2:]]
        if size is NoneConst:
            bshapes = [s[: len(s) - nd] for s, nd in zip(pshapes, self.ndims_params,
                                                         strict=True)]
            n = max((len(b) for b in bshapes), default=0)
            batch: list[Any] = []
            for d in range(n):
                cands = [b[d - n + len(b)] for b in bshapes if d - n + len(b) >= 0]
                batch.append(_broadcast_dim([c for c in cands
                                             if not (isinstance(c, Constant) and c.data == 1)]
                                            or cands[:1]))
        else:
            batch = list(shape_scalars_of_vector(size))
        supp = [constant(s, "int64") if isinstance(s, int) else s
                for s in self.support_shape(pshapes)]
        out = node.outputs[1].type.shape  # type: ignore[attr-defined]
        dims = [constant(o, "int64") if o is not None else d
                for o, d in zip(out, [*batch, *supp], strict=True)]
        return [(), tuple(dims)]

    # --- gradients ----------------------------------------------------------------------------

    def pullback(self, node: Apply, output_grads: Sequence[Variable | None]
                 ) -> Sequence[Any]:
        from gnomon.gradient import grad_undefined

        g = output_grads[1]
        _, _, *params = node.inputs
        if g is None or not params:
            return [None] * len(node.inputs)
        if not self.reparameterized:
            why = (f"draws of {self.name} have no reparameterized gradient (only location-scale "
                   "families do: normal, uniform, exponential, ...)")
            return [None, None, *[grad_undefined(self, 2 + i, p, why)
                                  if p.dtype[0] == "f" else None
                                  for i, p in enumerate(params)]]
        from gnomon.gradient import NullGrad
        from gnomon.tensor.elemwise import sum_to

        grads = self.reparam_pullback(node, g)
        return [None, None, *[gp if gp is None or isinstance(gp, NullGrad) else
                              None if p.dtype[0] != "f" else sum_to(gp, p)
                              for p, gp in zip(params, grads, strict=True)]]

    def reparam_pullback(self, node: Apply, g: Variable) -> list[Variable | None]:
        """Gradients of the draw with respect to each parameter, broadcast to the draw's shape
        (reduced to each parameter's shape by the caller). Location-scale classes define it;
        it is only called when ``reparameterized`` is set (checked in ``__init_subclass__``),
        so the base has no gradient to give."""
        return [None] * (len(node.inputs) - 2)

    # --- printing -------------------------------------------------------------------------------

    def input_labels(self, node: Apply) -> list[str]:
        """Names of the inputs, for ``debugprint``."""
        return ["rng", "size", *self.param_names]

    def pprint_node(self, node: Apply, args: Sequence[str]) -> list[str]:
        """``pprint`` texts of ``(next_rng, draw)``: ``normal(0.0, 1.0, size=(3,), rng=r)``."""
        rng, size, *params = args
        size_v = node.inputs[1]
        if size_v is NoneConst:
            sz = ""
        elif isinstance(size_v, Constant):
            sz = f", size={tuple(int(x) for x in size_v.data)}"
        else:
            sz = f", size={size}"
        draw = f"{self.name}({', '.join(params)}{sz}, rng={rng})"
        return [f"next_rng({draw})", draw]

    def __str__(self) -> str:
        flags = [f for f, on in ((self.dtype, self.dtype != normalize_dtype(self.default_dtype)),
                                 ("inplace", self.inplace)) if on]
        return f"{self.name}_rv" + (f"{{{', '.join(flags)}}}" if flags else "")


# --- helpers --------------------------------------------------------------------------------


def _as_rng(rng: Any, op: RandomVariable) -> Variable:
    if isinstance(rng, Variable) and isinstance(rng.type, RandomGeneratorType):
        return rng
    if isinstance(rng, np.random.Generator):
        hint = "wrap it once: rng = gnomon.shared(np.random.default_rng(seed)), and pass rng"
    else:
        hint = "pass rng=gnomon.shared(np.random.default_rng(seed)), or leave rng=None"
    raise GnomonTypeError(_at(with_hint(
        f"{op.name}: rng must be a random generator variable, got {rng!r}", hint)))


def as_size(size: Any, what: str = "size") -> Variable:
    """``size`` as ``NoneConst`` or an int64 vector of known length (NumPy's forms: ``None``,
    an int, a tuple of ints or scalar variables, or an int vector variable)."""
    from gnomon.tensor.shapes import make_vector

    if size is None or size is NoneConst:
        return NoneConst
    if isinstance(size, Variable):
        if not isinstance(size.type, TensorType) or size.dtype[0] not in "iu" or size.ndim > 1:
            raise GnomonTypeError(_at(with_hint(
                f"{what}: size must be None, an int or a vector of ints, got {size.type}",
                "pass size=(n,) or size=(n, m)",
            )))
        if size.ndim == 0:
            size = make_vector(size)
        if size.type.shape[0] is None:
            raise ShapeError(_at(with_hint(
                f"{what}: size {size} has a length unknown at graph time, so the number of "
                "dimensions of the draw would be unknown",
                "pass size as a tuple of scalars, e.g. size=(n, 3)",
            )))
        return cast(size, "int64") if size.dtype != "int64" else size
    entries = [size] if isinstance(size, int | np.integer) else list(size)
    for e in entries:
        if isinstance(e, bool | float | np.floating) or (
                not isinstance(e, Variable | int | np.integer)):
            raise GnomonTypeError(_at(with_hint(
                f"{what}: size entries must be ints, got {e!r} in size={size!r}",
                "pass size=(n,) or size=(n, m) with integers",
            )))
        if isinstance(e, int | np.integer) and e < 0:
            raise ShapeError(_at(with_hint(f"{what}: size={size!r} has a negative entry",
                                           "sizes are lengths, >= 0")))
    if any(isinstance(e, Variable) for e in entries):
        return make_vector(*entries)
    return constant(np.array([int(e) for e in entries], dtype="int64"))


def static_size(size: Variable) -> tuple[int | None, ...]:
    """The entries of a size vector known at graph time."""
    from gnomon.tensor.shapes import MakeVector

    if isinstance(size, Constant):
        return tuple(int(s) for s in size.data)
    n = size.type.shape[0]  # type: ignore[attr-defined]
    if size.owner is not None and isinstance(size.owner.op, MakeVector):
        return tuple(int(e.data) if isinstance(e, Constant) else None for e in size.owner.inputs)
    return (None,) * n


def _fmt(shape: Sequence[Any]) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + (
        ",)" if len(shape) == 1 else ")")


def _short(v: Any) -> str:
    a = np.asarray(v)
    return repr(a.item()) if a.size == 1 else np.array2string(a, threshold=8, separator=", ")


def _at(message: str) -> str:
    """``message`` with the user's line inserted before its hint."""
    return with_user_line(message)
