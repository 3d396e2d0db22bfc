"""The input checks every public function shares: groups, integers, positive numbers, weights.

One definition each, so that the same mistake gets the same message everywhere. A leaf:
it imports nothing of fairtrain. (The rule on groups arguments,
:func:`fairtrain.groups.as_groups`, lives beside :class:`~fairtrain.Groups`.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "as_sample_weight",
    "check_finite",
    "check_int",
    "check_lengths",
    "check_positive",
    "check_shares",
    "check_step_decay",
    "is_missing",
]


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


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """``value`` as an int, or a TypeError or ValueError saying what is wrong.

    A TypeError unless it is an integer (bool is not); a ValueError if it is below
    ``minimum``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be an integer; got {name}={value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be at least {minimum}; got {name}={value!r}.")
    return int(value)


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """``value`` as a Python float, or a TypeError or ValueError saying what is wrong.

    A TypeError unless it is a real number (NumPy scalars and ints included, bool
    not); a ValueError unless it is finite and positive (or zero with ``allow_zero``).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        bound = "non-negative" if allow_zero else "positive"
        raise TypeError(f"`{name}` must be a {bound} number; got {name}={value!r}.")
    out = float(value)
    if not math.isfinite(out) or out < 0 or (out == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"`{name}` must be a {bound} finite number; got {name}={value!r}.")
    return out


def check_real(name: str, value: Any, low: float, high: float | None = None) -> float:
    """``value`` as a Python float in ``[low, high]`` (or ``>= low``), finite.

    A TypeError unless it is a real number (bool is not); a ValueError outside the
    bounds.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    value = float(value)
    if not math.isfinite(value) or value < low or (high is not None and value > high):
        bound = f"in [{low:g}, {high:g}]" if high is not None else f"at least {low:g}"
        raise ValueError(f"`{name}` must be finite and {bound}; got {name}={value}.")
    return value


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
        return dict(spec)
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


def check_step_decay(initial: Any, factor: Any, every: Any) -> None:
    """Refuse a step decay whose rate, factor or period is out of range."""
    if isinstance(initial, bool) or not isinstance(initial, (int, float, np.number)):
        raise TypeError(f"`initial` must be a positive number; got initial={initial!r}.")
    if not math.isfinite(initial) or initial <= 0:
        raise ValueError(
            f"`initial` must be a positive finite learning rate; got initial={initial!r}."
        )
    if isinstance(factor, bool) or not isinstance(factor, (int, float, np.number)):
        raise TypeError(f"`factor` must be a number in (0, 1]; got factor={factor!r}.")
    if not 0 < factor <= 1:
        raise ValueError(
            f"`factor` must lie in (0, 1]; got factor={factor!r}. Use 0.5 to halve the "
            "learning rate at every step."
        )
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"`every` must be a positive integer (epochs); got every={every!r}.")
