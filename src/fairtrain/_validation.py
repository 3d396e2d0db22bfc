"""Declared parameter constraints: one table per public callable, one error shape.

Every public callable of fairtrain states what each parameter may be, once, as a table
of constraints (``validate_params``, in the spirit of scikit-learn's), or checks one
value with :func:`check`; relations between parameters that no table can state (a
``batch_size`` below the number of groups) raise :func:`param_error`, so that every
mistake reads the same way::

    `batch_size` must be an int >= 1; got batch_size=2.0 (float). <hint>

**TypeError or ValueError.** A value of a type no constraint allows raises
``TypeError`` (``2.0``, ``"3"`` or ``True`` for an int); a value of an allowed type
outside the allowed range or set raises ``ValueError`` (``-1`` for an int >= 1, ``nan``
for a number, ``"sometimes"`` for ``"partial"`` or ``"drop"``). ``bool`` is not an int
(nor a number); NumPy integers are ints and NumPy floats are numbers, and a checked
number comes back as a plain Python ``int`` or ``float`` (so that configs are JSON).

A leaf: it imports nothing of fairtrain. (The rule on groups arguments,
:func:`fairtrain.groups.as_groups`, lives beside :class:`~fairtrain.Groups`.)
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = [
    "Constraint",
    "HasMethods",
    "InstanceOf",
    "Interval",
    "Options",
    "as_sample_weight",
    "check",
    "check_finite",
    "check_lengths",
    "check_shares",
    "is_missing",
    "make_constraint",
    "param_error",
    "share_spec_config",
    "validate_params",
]


# ---------------------------------------------------------------------- constraints
class Constraint:
    """What a parameter may be: a type test, a value test and the words for both.

    ``type_ok(value)`` says whether the value has an allowed type, ``ok(value)``
    whether it is allowed (type and value); ``convert`` gives the value as stored
    (plain Python numbers).
    """

    description = "a valid value"

    def type_ok(self, value: Any) -> bool:
        """Whether ``value`` has a type this constraint allows."""
        return self.ok(value)

    def ok(self, value: Any) -> bool:
        """Whether ``value`` satisfies the constraint."""
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        """``value`` as the callable receives it (unchanged unless a number)."""
        return value

    def __str__(self) -> str:
        return self.description


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def _as_float(value: Any) -> float:
    """``float(value)``, or an infinity of its sign where no float holds it (10**400)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _bound(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


class Interval(Constraint):
    """An int or a number within bounds (``None``: unbounded on that side).

    Parameters
    ----------
    kind : numbers.Integral or numbers.Real
        ``Integral``: an int (NumPy integers too, bool not). ``Real``: a finite number
        (ints and NumPy numbers too, bool not; NaN and infinities are out of range).
    left, right : number or None
        The bounds.
    closed : {"both", "left", "right", "neither"}, default "both"
        Which bounds belong to the interval.
    """

    def __init__(
        self, kind: type, left: float | None, right: float | None, *, closed: str = "both"
    ) -> None:
        if kind not in (Integral, Real):
            raise TypeError(f"Interval kind must be Integral or Real; got {kind!r}.")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"`closed` must be both, left, right or neither; got {closed!r}.")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed
        self.description = self._describe()

    def _describe(self) -> str:
        noun = "an int" if self.kind is Integral else "a finite number"
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        lo, hi = self.left, self.right
        if lo is None and hi is None:
            return noun
        if hi is None:
            return f"{noun} {'>=' if lo_in else '>'} {_bound(lo)}"
        if lo is None:
            return f"{noun} {'<=' if hi_in else '<'} {_bound(hi)}"
        return f"{noun} in {'[' if lo_in else '('}{_bound(lo)}, {_bound(hi)}{']' if hi_in else ')'}"

    def type_ok(self, value: Any) -> bool:  # noqa: D102
        return _is_int(value) if self.kind is Integral else _is_real(value)

    def ok(self, value: Any) -> bool:  # noqa: D102
        if not self.type_ok(value):
            return False
        if self.kind is Real and not math.isfinite(_as_float(value)):
            return False  # NaN, an infinity, or a number beyond every float (10**400)
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.left is not None and (value < self.left or (value == self.left and not lo_in)):
            return False
        return not (
            self.right is not None and (value > self.right or (value == self.right and not hi_in))
        )

    def convert(self, value: Any) -> Any:  # noqa: D102
        return int(value) if self.kind is Integral else float(value)


class Options(Constraint):
    """One of a fixed set of values of one type (usually strings: a ``Literal``)."""

    def __init__(self, kind: type, options: Iterable[Any]) -> None:
        self.kind = kind
        self.options = tuple(options)
        shown = ", ".join(f'"{o}"' if isinstance(o, str) else repr(o) for o in self.options)
        self.description = (
            f"{shown}" if len(self.options) == 1 else f"one of {shown}"
        )

    def type_ok(self, value: Any) -> bool:  # noqa: D102
        if self.kind is int:  # NumPy integers too (np.int64(-1) is AUTOTUNE), never a bool
            return _is_int(value)
        return isinstance(value, self.kind) and not (
            self.kind is not bool and isinstance(value, bool)
        )

    def ok(self, value: Any) -> bool:  # noqa: D102
        return self.type_ok(value) and value in self.options

    def convert(self, value: Any) -> Any:  # noqa: D102
        return int(value) if self.kind is int else value


class InstanceOf(Constraint):
    """An instance of a type (or of one of several types)."""

    def __init__(self, kind: type | tuple[type, ...], description: str | None = None) -> None:
        self.kind = kind
        kinds = kind if isinstance(kind, tuple) else (kind,)
        self.description = description or " or ".join(
            f"a {'' if k.__module__ == 'builtins' else k.__module__ + '.'}{k.__qualname__}"
            for k in kinds
        )

    def ok(self, value: Any) -> bool:  # noqa: D102
        return isinstance(value, self.kind)


class HasMethods(Constraint):
    """Any object with the named methods (duck typing stated as a constraint)."""

    def __init__(self, methods: Sequence[str], description: str | None = None) -> None:
        self.methods = tuple(methods)
        self.description = description or (
            "an object with " + ", ".join(f"{m}()" for m in self.methods)
        )

    def ok(self, value: Any) -> bool:  # noqa: D102
        return all(callable(getattr(value, m, None)) for m in self.methods)


class _NoneConstraint(Constraint):
    description = "None"

    def ok(self, value: Any) -> bool:
        return value is None


class _Boolean(Constraint):
    description = "True or False"

    def ok(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def convert(self, value: Any) -> Any:
        return bool(value)


class _Callable(Constraint):
    description = "a callable"

    def ok(self, value: Any) -> bool:
        return callable(value)


class _ArrayLike(Constraint):
    description = "an array-like"

    def ok(self, value: Any) -> bool:
        # a string or a callable is never data (it is a metric passed where data goes)
        if isinstance(value, (str, bytes)) or callable(value) and not hasattr(value, "__len__"):
            return False
        return hasattr(value, "__len__") or hasattr(value, "__array__") or hasattr(
            value, "shape"
        )


class _NonEmptyString(Constraint):
    description = "a non-empty str"

    def type_ok(self, value: Any) -> bool:
        return isinstance(value, str)

    def ok(self, value: Any) -> bool:
        return isinstance(value, str) and bool(value)


_NAMED: dict[str, Constraint] = {
    "boolean": _Boolean(),
    "callable": _Callable(),
    "array-like": _ArrayLike(),
    "name": _NonEmptyString(),
}


def make_constraint(spec: Any) -> Constraint:
    """A :class:`Constraint` from its short form.

    ``None`` (the value None), ``"boolean"``, ``"callable"``, ``"array-like"``,
    ``"name"`` (a non-empty str), a type (an instance of it), or a constraint.
    """
    if isinstance(spec, Constraint):
        return spec
    if spec is None:
        return _NoneConstraint()
    if isinstance(spec, str):
        try:
            return _NAMED[spec]
        except KeyError:
            raise ValueError(f"Unknown constraint {spec!r}; known: {sorted(_NAMED)}.") from None
    if isinstance(spec, type):
        return InstanceOf(spec)
    raise TypeError(f"Not a constraint: {spec!r}.")


# ---------------------------------------------------------------------- errors
_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 6


def _shown(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    return _REPR.repr(value)


def _allowed(constraints: Sequence[Constraint]) -> str:
    words = [str(c) for c in constraints]
    if len(words) <= 2:
        return " or ".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def param_error(
    name: str,
    value: Any,
    allowed: str,
    *,
    hint: str | None = None,
    error: type[Exception] = ValueError,
) -> Exception:
    """The exception for a parameter that is not what is allowed, in the one shape.

    "`name` must be <allowed>; got name=<value> (<type>). <hint>" -- for checks no
    constraint table states (relations between parameters); raise what it returns.
    """
    message = f"`{name}` must be {allowed}; got {name}={_shown(value)} ({type(value).__name__})."
    if hint:
        message += f" {hint}"
    return error(message)


def check(name: str, value: Any, constraints: Any, *, hint: str | None = None) -> Any:
    """``value`` if it satisfies one of ``constraints``, converted; else raise.

    Parameters
    ----------
    name : str
        The parameter's name, as the message shows it.
    value : object
        Its value.
    constraints : constraint or list of constraints
        In the short forms of :func:`make_constraint`; any one may be satisfied.
    hint : str, optional
        How to fix it, appended to the message.

    Returns
    -------
    object
        ``value``, as a plain ``int``, ``float`` or ``bool`` where the satisfied
        constraint is a number or a boolean.

    Raises
    ------
    TypeError
        If no constraint allows the value's type.
    ValueError
        If one allows its type but none its value.
    """
    if not isinstance(constraints, list):
        constraints = [constraints]
    made = [make_constraint(c) for c in constraints]
    for c in made:
        if c.ok(value):
            return c.convert(value)
    error = ValueError if any(c.type_ok(value) for c in made) else TypeError
    raise param_error(name, value, _allowed(made), hint=hint, error=error)


def validate_params(
    constraints: Mapping[str, Any], *, hints: Mapping[str, str] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a function (or ``__init__``) with its table of parameter constraints.

    Every argument named in ``constraints`` is checked with :func:`check` before the
    body runs and passed on converted (plain Python numbers); defaults are trusted.
    The table is kept on the function as ``__fairtrain_params__`` (tests read it).

    Examples
    --------
    >>> from numbers import Integral
    >>> @validate_params({"k": [Interval(Integral, 1, None)]}, hints={"k": "Use 1 or more."})
    ... def f(k):
    ...     return k
    >>> f(2)
    2
    >>> f(0)
    Traceback (most recent call last):
    ...
    ValueError: `k` must be an int >= 1; got k=0 (int). Use 1 or more.
    """
    hints = dict(hints or {})
    table = {
        k: [make_constraint(c) for c in (v if isinstance(v, list) else [v])]
        for k, v in constraints.items()
    }

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func)
        unknown = set(table) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{func.__qualname__} has no parameter(s) {sorted(unknown)}.")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:  # name the callable, as Python's own message does
                raise TypeError(f"{func.__qualname__}(): {exc}") from None
            arguments = bound.arguments
            for name, made in table.items():
                if name in arguments:
                    arguments[name] = check(name, arguments[name], made, hint=hints.get(name))
            return func(*bound.args, **bound.kwargs)

        wrapper.__fairtrain_params__ = table  # type: ignore[attr-defined]
        return wrapper

    return decorate


# ---------------------------------------------------------------------- data checks
def is_missing(column: np.ndarray) -> np.ndarray:
    """Boolean mask of the missing entries.

    Missing: NaN (of any float type), NaT, and in an object array also None and
    pandas' ``NA`` / ``NaT``.
    """
    kind = column.dtype.kind
    if kind in "fc":
        return np.isnan(column)
    if kind in "mM":
        return np.isnat(column)
    if kind == "O":
        return _missing_objects(column)
    return np.zeros(column.shape, dtype=bool)


#: pandas' missing-value scalars, named so that pandas need not be imported
_PANDAS_MISSING = frozenset({"NAType", "NaTType"})


def _is_missing_object(v: Any) -> bool:
    if v is None or type(v).__name__ in _PANDAS_MISSING:
        return True
    if isinstance(v, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(v))
    if isinstance(v, (float, complex, np.inexact)):
        return bool(v != v)  # NaN of any float type (np.float32 too, not a float)
    return False


def _missing_objects(column: np.ndarray) -> np.ndarray:
    """``is_missing`` of an object array: vectorised candidates, each confirmed exactly.

    ``== None`` and ``!= itself`` run in C over the whole column; only the (few)
    candidates they flag are checked in Python, so the result equals the per-value
    rule while costing a small fraction of a Python loop over every value.
    """
    flat = column.reshape(-1)
    try:
        with np.errstate(all="ignore"):
            candidates = np.asarray(flat == None) | np.asarray(flat != flat)  # noqa: E711
    except Exception:  # an element's comparison raised: the per-value rule decides
        candidates = None
    if candidates is None or candidates.dtype != bool or candidates.shape != flat.shape:
        mask = np.fromiter(map(_is_missing_object, flat), dtype=bool, count=flat.size)
        return mask.reshape(column.shape)
    mask = np.zeros(flat.shape, dtype=bool)
    where = np.flatnonzero(candidates)
    mask[where] = [_is_missing_object(flat[i]) for i in where]
    return mask.reshape(column.shape)


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ValueError if a float array holds NaN or infinity."""
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            first = int(np.flatnonzero(bad.reshape(-1))[0])
            raise ValueError(
                f"`{name}` holds {int(bad.sum())} NaN or infinite value(s), first at flat "
                f"index {first}; remove or impute them first."
            )


def as_sample_weight(
    sample_weight: Any, n: int, *, name: str = "sample_weight", dtype: Any = np.float64
) -> np.ndarray | None:
    """Validated per-example weights: shape ``(n,)``, numeric, finite, non-negative.

    ``None`` stays ``None``. The result has ``dtype`` (a copy only where needed).
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be numeric; got dtype {w.dtype}.")
    if w.shape != (n,):
        raise ValueError(
            f"`{name}` must have one weight per example, shape ({n},); got shape "
            f"{w.shape}."
        )
    w = w.astype(dtype, copy=False)
    check_finite(w, name)
    negative = w < 0
    if negative.any():
        raise ValueError(
            f"`{name}` holds {int(np.count_nonzero(negative))} negative weight(s) (the "
            f"smallest is {float(w.min()):g}); weights must be non-negative."
        )
    return w


def check_lengths(**arrays: Any) -> int:
    """The common length of the named arrays (None ones skipped).

    A ValueError names every length when they differ; empty inputs are an error too.
    """
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise ValueError(f"The inputs must have one entry per example; got lengths {shown}.")
    n = next(iter(lengths.values()))
    if n == 0:
        raise ValueError("The inputs are empty: there are no examples.")
    return n


def share_spec_config(spec: Any) -> Any:
    """A share specification as plain JSON values, for ``get_config``.

    A mapping becomes a ``dict``, a name stays a ``str``, anything else (a sequence
    or an array of shares) a ``list`` of ``float``.
    """
    if isinstance(spec, Mapping):
        return {str(k): float(v) for k, v in spec.items()}
    if isinstance(spec, str):
        return spec
    return [float(x) for x in spec]


#: how far from 1 given shares may sum (they are normalised afterwards)
SHARE_TOLERANCE = 1e-6


def check_shares(shares: Any, names: Sequence[str]) -> np.ndarray:
    """Target shares of the groups ``names`` as a normalised array, shape (len(names),).

    ``shares`` is a mapping ``{name: share}`` (absent groups get 0) or one share per
    group in the order of ``names``; the shares must be finite, non-negative and sum to
    1 within :data:`SHARE_TOLERANCE`.
    """
    if isinstance(shares, Mapping):
        unknown = [name for name in shares if name not in names]
        if unknown:
            raise ValueError(
                f"`shares` names unknown group(s) {unknown}; the groups are {list(names)}."
            )
        values = np.array([float(shares.get(name, 0.0)) for name in names])
    else:
        if isinstance(shares, (str, bytes)):
            raise TypeError(
                f"`shares` must be a mapping {{name: share}} or one share per group; got "
                f"the string {shares!r}. Use Homogeneous for equal shares, Proportional "
                "for the population's."
            )
        values = np.asarray(shares, dtype=float)
        if values.ndim != 1 or values.size != len(names):
            raise ValueError(
                f"`shares` must hold one share per group ({len(names)}); got "
                f"shape {values.shape}. Pass a mapping {{name: share}} to leave "
                "groups out."
            )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"`shares` must be finite; got {values.tolist()}.")
    if np.any(values < 0):
        raise ValueError(f"`shares` must be non-negative; got {values.tolist()}.")
    total = values.sum()
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(
            f"`shares` must sum to 1 (within {SHARE_TOLERANCE:g}); they sum to "
            f"{total:.9g}. Divide them by their sum if they are relative weights."
        )
    return values / total


def caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside fairtrain.

    However deep inside fairtrain the warning is raised (Python 3.12's
    ``skip_file_prefixes`` does this; 3.10 and 3.11 do not have it). Counted from the
    function that calls ``warnings.warn`` (stacklevel 1).
    """
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame = inspect.currentframe()
    frame = frame.f_back if frame is not None else None  # the warning's own function
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back
        level += 1
    return level
