"""`Groups`: the one definition of demographic groups shared by samplers, weights and metrics."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from numbers import Integral
from typing import Any, Literal

import numpy as np

from fairtrain._validation import (
    Interval,
    Options,
    caller_stacklevel,
    is_missing,
    param_error,
    validate_params,
)

__all__ = [
    "Binned",
    "GroupPolicyWarning",
    "Groups",
    "PolicyAction",
    "as_groups",
    "as_sampler_groups",
    "bins",
    "groups_from_config",
]

Policy = Literal["merge", "drop", "error"]
OTHER = "other"


class GroupPolicyWarning(UserWarning):
    """Issued when a tiny-cell policy merged or dropped examples."""


@dataclass(frozen=True)
class PolicyAction:
    """One thing a tiny-cell policy did.

    Attributes
    ----------
    action : {"merge", "drop", "below_min_count"}
        ``"merge"``: the cell's examples now belong to ``into``; ``"drop"``: they are
        excluded (code ``-1``); ``"below_min_count"``: the cell is still below
        ``min_count`` after every merge and was kept as it is.
    cell : str
        The cell's name before the action.
    count : int
        How many examples the action concerned.
    into : str or None
        The cell merged into (merges only).
    """

    action: str
    cell: str
    count: int
    into: str | None = None

    def __str__(self) -> str:
        if self.action == "merge":
            return f"merged {self.cell!r} ({self.count} examples) into {self.into!r}"
        if self.action == "drop":
            return f"dropped {self.cell!r} ({self.count} examples)"
        return f"kept {self.cell!r} ({self.count} examples), still below min_count"


@dataclass(frozen=True, eq=False)
class Binned:
    """A continuous attribute cut into ordered bins, as returned by :func:`bins`.

    ``np.asarray(binned)`` gives each value's bin label; :meth:`Groups.from_columns`
    keeps the bins in their numeric order rather than sorting the labels.

    Attributes
    ----------
    codes : ndarray of int32, shape (n,)
        Bin index of each value.
    labels : tuple of str
        One label per bin, in order.
    edges : ndarray of float, shape (n_bins + 1,)
        The bin edges.
    """

    codes: np.ndarray
    labels: tuple[str, ...]
    edges: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.asarray(self.labels, dtype=object)[self.codes]
        return out if dtype is None else out.astype(dtype)


def bins(
    values: Any,
    edges: Sequence[float],
    *,
    labels: Sequence[str] | None = None,
) -> Binned:
    """Cut a continuous attribute (such as age) into ordered bins.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        The values to bin. NaN is an error.
    edges : sequence of float, length n_bins + 1
        Strictly increasing edges. Bin ``i`` is ``[edges[i], edges[i+1])``; the last bin
        also holds its right edge, as in :func:`numpy.histogram`.
    labels : sequence of str, optional
        One label per bin. Default: ``"lo-hi"`` from the edges, e.g. ``"0-20"``.

    Returns
    -------
    Binned
        The bin of every value, with labels in bin order.

    Raises
    ------
    ValueError
        If the edges are not strictly increasing, the labels do not match the bins, a
        value is NaN, or a value falls outside ``[edges[0], edges[-1]]``.
    TypeError
        If a value or an edge is not a number.

    Examples
    --------
    >>> import fairtrain as ft
    >>> age = ft.bins([3, 25, 67, 120], [0, 20, 40, 60, 120])
    >>> age.labels
    ('0-20', '20-40', '40-60', '60-120')
    >>> age.codes.tolist()
    [0, 1, 3, 3]
    """
    edges_arr = _numbers("edges", edges)
    if edges_arr.ndim != 1 or edges_arr.size < 2:
        raise ValueError(f"`edges` must hold at least two numbers; got edges={list(edges)!r}.")
    if not np.all(np.isfinite(edges_arr)) or np.any(np.diff(edges_arr) <= 0):
        raise ValueError(
            f"`edges` must be finite and strictly increasing; got edges={edges_arr.tolist()}."
        )
    n_bins = edges_arr.size - 1
    if labels is None:
        labels = tuple(f"{lo:g}-{hi:g}" for lo, hi in zip(edges_arr[:-1], edges_arr[1:]))
    else:
        labels = tuple(str(label) for label in labels)
        if len(labels) != n_bins:
            raise ValueError(
                f"`labels` must have one label per bin ({n_bins}); got {len(labels)}."
            )
        if len(set(labels)) != len(labels):
            raise ValueError(f"`labels` must be distinct; got {list(labels)}.")
    vals = _numbers("values", values)
    if vals.ndim != 1:
        raise ValueError(f"`values` must be one-dimensional; got shape {vals.shape}.")
    if vals.size == 0:
        raise ValueError("`values` is empty: there is nothing to bin.")
    nan = np.isnan(vals)
    if nan.any():
        raise ValueError(
            f"`values` holds {int(nan.sum())} NaN value(s) (first at index "
            f"{int(np.flatnonzero(nan)[0])}); remove or impute them before binning."
        )
    outside = (vals < edges_arr[0]) | (vals > edges_arr[-1])
    if outside.any():
        bad = np.unique(vals[outside])[:5].tolist()
        raise ValueError(
            f"{int(outside.sum())} value(s) fall outside the bins "
            f"[{edges_arr[0]:g}, {edges_arr[-1]:g}], e.g. {bad}; widen `edges`."
        )
    codes = np.searchsorted(edges_arr, vals, side="right") - 1
    codes = np.minimum(codes, n_bins - 1).astype(np.int32)
    return Binned(codes=codes, labels=labels, edges=edges_arr)


def _cell_levels_of_config(cell_levels: Any, n_cells: int, n_attributes: int) -> np.ndarray:
    """A config's ``cell_levels`` as the (n_cells, n_attributes) table.

    Taken as a table, or flat (``n_cells * n_attributes`` values, one row after the
    other); JSON's ``[]`` when the drop policy left no cell.
    """
    table = np.asarray(cell_levels, dtype=np.int32)
    if table.ndim == 1 and table.size == n_cells * n_attributes:
        return table.reshape(n_cells, n_attributes)
    if table.ndim != 2 or table.shape != (n_cells, n_attributes):
        raise ValueError(
            f"`cell_levels` must be {n_cells} rows of {n_attributes} level codes (one row "
            f"per cell, one code per attribute); got shape {table.shape}."
        )
    return table


def _attribute_codes_of(codes: np.ndarray, cell_levels: np.ndarray) -> np.ndarray:
    """Each example's level per attribute read from its cell (``-1`` rows if excluded)."""
    if not cell_levels.size:
        return np.full((codes.size, cell_levels.shape[1]), -1, dtype=np.int32)
    rows = cell_levels[np.maximum(codes, 0)]
    return np.where(codes[:, None] >= 0, rows, -1).astype(np.int32)
def _numbers(name: str, values: Any) -> np.ndarray:
    """``values`` as a float array, or a TypeError naming the first value that is not a number."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"`{name}` must be a sequence of numbers; got the string {values!r}.")
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        flat = np.asarray(values, dtype=object).reshape(-1)
        bad = next((v for v in flat.tolist() if not _is_number(v)), flat[:1].tolist())
        raise TypeError(
            f"`{name}` must hold numbers; got {bad!r}. Bin a numeric column (convert "
            "numeric strings with float()); use the labels themselves as a column of "
            "Groups.from_columns for a categorical attribute."
        ) from None


def _is_number(value: Any) -> bool:
    """Whether ``float(value)`` works on something other than a string."""
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, str)


def _readonly(array: np.ndarray) -> np.ndarray:
    """``array`` itself, made read-only."""
    array.setflags(write=False)
    return array


#: Up to this many cells, members() scans the codes once per cell instead of sorting.
_MEMBERS_BY_SCAN = 8

#: Integer columns spanning fewer values than this are factorised by counting.
_DENSE_RANGE = 1 << 20
#: Up to this many distinct values (seen in the sample) are located by one vectorised
#: equality pass each, instead of a binary search with generic comparisons.
_FEW_LEVELS = 16


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``, fast for few distinct values.

    Attribute columns hold few distinct values (4 ethnicities, 2 genders). Integers
    within a range of ``_DENSE_RANGE`` are counted (``bincount``, two passes, no
    sort). Otherwise the levels are taken from a sample of about 4,096 rows and every
    row is matched against them: one ``values == level`` pass per level when there are
    at most ``_FEW_LEVELS`` (a fixed-width string compare runs at memory speed), else
    binary search (log2(k) comparisons a row instead of a sort's log2(n)); values the
    sample missed are added and located again. The result always equals
    ``np.unique``'s.
    """
    if values.dtype.kind in "iu" and values.size:
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < _DENSE_RANGE:
            if hi > np.iinfo(np.intp).max:
                # unsigned beyond intp: subtract in the column's own dtype (no wrap,
                # since every value is >= lo) before narrowing
                shifted = (values - values.dtype.type(lo)).astype(np.intp)
            else:
                shifted = values.astype(np.intp, copy=False)
                if lo:
                    shifted = shifted - lo
            present = np.bincount(shifted, minlength=hi - lo + 1) > 0
            lookup = np.cumsum(present, dtype=np.intp) - 1
            uniques = np.flatnonzero(present).astype(values.dtype) + values.dtype.type(lo)
            return uniques, lookup[shifted]
    candidates = np.unique(values[:: max(1, values.size // 4096)])
    if candidates.size <= _FEW_LEVELS and values.dtype.kind in "USfiu":
        # equality is transitive for these dtypes, so the level masks are disjoint and
        # each row's code is a sum of one byte per level (a masked copy costs ~15x)
        small = np.zeros(values.size, dtype=np.int8)
        found = np.zeros(values.size, dtype=bool)
        for i, level in enumerate(candidates):
            hit = values == level
            found |= hit
            if i:
                small += hit.view(np.int8) * np.int8(i)
        codes = small.astype(np.int32)
    elif candidates.size <= _FEW_LEVELS and values.dtype.kind == "O":
        codes = np.full(values.size, -1, dtype=np.intp)
        for i, level in enumerate(candidates):
            np.copyto(codes, i, where=values == level)
        found = codes >= 0
    else:
        codes = np.minimum(np.searchsorted(candidates, values), candidates.size - 1)
        found = candidates[codes] == values
    if found.all():
        return candidates, codes
    uniques = np.unique(np.concatenate([candidates, values[~found]]))
    return uniques, np.searchsorted(uniques, values)


def _cell_keys(
    digits: np.ndarray, weights: np.ndarray, included: np.ndarray | None
) -> np.ndarray:
    """``digits[included] @ weights`` (mixed-radix cell keys), column by column.

    ``included=None``: every row.

    NumPy's integer matmul has no BLAS kernel and the boolean mask copies every row;
    this is the same integer sum, several times faster on millions of rows.
    """
    rows = digits if included is None or included.all() else digits[included]
    keys = np.multiply(rows[:, 0], weights[0], dtype=weights.dtype)
    for j in range(1, rows.shape[1]):
        if weights[j] == 1:  # the last digit: no product to form
            keys += rows[:, j]
        else:
            keys += rows[:, j] * weights[j]
    return keys


def _pandas_module(column: Any) -> Any:
    """pandas, if ``column`` is one of its objects (pandas is then already imported)."""
    if type(column).__module__.partition(".")[0] != "pandas":
        return None
    return sys.modules.get("pandas")


def _is_str_array(values: np.ndarray) -> bool:
    """Whether every element of the (small) object array is a plain string."""
    return all(type(v) is str or type(v) is np.str_ for v in values.tolist())


def _pandas_category_codes(column: Any) -> np.ndarray | None:
    """The category codes of a pandas categorical column without missing values.

    They equal what the general path gives a categorical (its values looked up among
    the categories) when the categories are strings, numbers or booleans; for other
    categories (dates, intervals, ...) and for missing values (code ``-1``) the
    general path decides, so that nothing changes there. ``None`` when not applicable.
    """
    pd = _pandas_module(column)
    dtype = getattr(column, "dtype", None)
    if pd is None or not isinstance(dtype, pd.CategoricalDtype):
        return None
    categories = np.asarray(dtype.categories)
    if not (
        categories.dtype.kind in "biuf"
        or (categories.dtype.kind == "O" and _is_str_array(categories))
    ):
        return None
    codes = getattr(getattr(column, "cat", column), "codes", None)
    codes = np.asarray(codes)
    if codes.ndim != 1 or codes.size == 0 or codes.dtype.kind not in "iu" or codes.min() < 0:
        return None
    return codes


#: Rows sampled to guess an arrow string column's levels before matching every row.
_ARROW_SAMPLE = 4096


def _arrow_factorize(column: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``_factorize`` of a pyarrow-backed pandas string column, in arrow's kernels.

    The levels are guessed from about ``_ARROW_SAMPLE`` evenly spaced rows, sorted as
    Python sorts them, and every row is located among them by one hash lookup into
    that small set (``pyarrow.compute.index_in``: half the work of hashing every row
    into a growing table). Values the sample missed are added and located again.
    ``None`` (the general path decides) if a value is missing.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(column)  # the column's own buffers, no copy
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.null_count:
        return None
    n = len(array)
    sample = array.take(pa.array(np.arange(0, n, max(1, n // _ARROW_SAMPLE))))
    levels = sorted(set(sample.to_pylist()))
    while True:
        found = pc.index_in(array, value_set=pa.array(levels, type=array.type))
        if not found.null_count:
            break
        # at most once: after this every value is among the levels
        missed = pc.filter(array, pc.is_null(found)).unique().to_pylist()
        levels = sorted(set(levels).union(missed))
    codes = found.to_numpy(zero_copy_only=False)
    return np.array(levels + [None], dtype=object)[:-1], codes


def _pandas_factorize(column: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``_factorize(np.asarray(column))`` of a pandas string column, by pandas' hashing.

    For a pandas Series, Index or array of dtype object or string (``str``,
    ``"string"``, pyarrow- or Python-backed) whose values are all plain ``str``:
    :func:`pandas.factorize` (arrow's dictionary encoding for pyarrow strings) finds
    the distinct values in first-seen order without turning every row into a Python
    object; they are then sorted as :func:`numpy.unique` sorts them. Missing values
    (code ``-1``), non-string values, empty or non-pandas columns give ``None``: the
    general path, with its checks and errors, decides those.
    """
    pd = _pandas_module(column)
    dtype = getattr(column, "dtype", None)
    if pd is None or getattr(column, "ndim", None) != 1 or len(column) == 0:
        return None
    # a NumPy object dtype, also under a bare pandas array (NumpyExtensionArray)
    numpy_dtype = getattr(dtype, "numpy_dtype", dtype)
    is_object = isinstance(numpy_dtype, np.dtype) and numpy_dtype.kind == "O"
    if not (is_object or isinstance(dtype, pd.StringDtype)):
        return None
    # "pyarrow_numpy": pandas 2.1-2.x's name for pandas 3's pyarrow-backed "str"
    if getattr(dtype, "storage", None) in ("pyarrow", "pyarrow_numpy") and (
        "pyarrow" in sys.modules
    ):
        try:
            return _arrow_factorize(column)
        except Exception:  # an arrow layout or version this does not know: pandas'
            pass
    # (use_na_sentinel=False, which would spare the pass over the codes, costs ~2x)
    try:
        codes, uniques = pd.factorize(column, sort=False, use_na_sentinel=True)
    except Exception:  # e.g. unhashable objects (lists), which np.unique can sort
        return None
    codes = np.asarray(codes)
    if codes.min() < 0:  # a missing value: the general path raises its error
        return None
    uniques = np.asarray(uniques, dtype=object)
    if not _is_str_array(uniques):
        return None
    order = np.argsort(uniques, kind="stable")
    if np.all(order == np.arange(order.size)):
        return uniques, np.asarray(codes).astype(np.int32)
    rank = np.empty(order.size, dtype=np.int32)
    rank[order] = np.arange(order.size, dtype=np.int32)
    return uniques[order], rank[codes]


def _encode(
    name: str, column: Any, levels: Sequence[Any] | None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Return (int32 level codes, level labels) for one attribute column."""
    if isinstance(column, Binned):
        if levels is not None:
            raise ValueError(f"Attribute {name!r} is binned; its levels are the bin labels.")
        return column.codes, column.labels
    # a pandas categorical Series (.cat), Categorical or CategoricalIndex keeps its order
    categories = getattr(getattr(column, "cat", column), "categories", None)
    if categories is not None and levels is None:
        levels = list(categories)
        codes = _pandas_category_codes(column)
        if codes is not None:
            labels = tuple(str(v) for v in levels)
            if len(set(labels)) != len(labels):
                raise ValueError(f"The levels of {name!r} must be distinct; got {list(labels)}.")
            return codes.astype(np.int32), labels
    fast = _pandas_factorize(column)
    if fast is not None:
        uniques, inverse = fast
    else:
        values = np.asarray(column)
        if values.ndim != 1:
            raise ValueError(
                f"Column {name!r} must be one-dimensional; got shape {values.shape}."
            )
        if values.size == 0:
            raise ValueError(f"Column {name!r} is empty.")
        missing = is_missing(values)
        if missing.any():
            raise ValueError(
                f"Column {name!r} holds {int(missing.sum())} missing value(s) (NaN or None; "
                f"first at index {int(np.flatnonzero(missing)[0])}). Fill them with an "
                "explicit label (e.g. 'unknown') or drop those rows first."
            )
        uniques, inverse = _factorize(values)
    if levels is None:
        return inverse.astype(np.int32, copy=False), tuple(str(u) for u in uniques)
    if isinstance(levels, (str, bytes)) or not hasattr(levels, "__iter__"):
        raise TypeError(
            f"The levels of {name!r} must be a list of its values in order; got "
            f"{levels!r}. Give a list, e.g. levels={{{name!r}: [{levels!r}, ...]}}."
        )
    labels = tuple(str(v) for v in levels)
    if len(set(labels)) != len(labels):
        raise ValueError(f"The levels of {name!r} must be distinct; got {list(labels)}.")
    lookup = {v: i for i, v in enumerate(levels)}
    unique_codes = np.array(
        [lookup.get(getattr(u, "item", lambda u=u: u)(), -1) for u in uniques], dtype=np.int32
    )
    if np.any(unique_codes < 0):
        bad = uniques[unique_codes < 0][:5].tolist()
        raise ValueError(
            f"Column {name!r} holds values not among its levels {list(labels)}: {bad}. "
            "Add them to `levels` or fix the data."
        )
    return unique_codes[inverse], labels


def _check_levels(levels: Any, columns: Mapping[str, Any]) -> dict[str, Any]:
    """``levels`` as a dict naming only attributes of ``columns``, or an error saying why."""
    if levels is not None and not isinstance(levels, Mapping):
        raise TypeError(
            "`levels` must be a mapping {attribute: [values in order]}, e.g. "
            f"levels={{{next(iter(columns))!r}: [...]}}; got {levels!r}."
        )
    levels = dict(levels or {})
    unknown = set(levels) - set(columns)
    if unknown:
        raise ValueError(
            f"`levels` names unknown attributes {sorted(unknown)}; the columns are "
            f"{[str(c) for c in columns]}."
        )
    return levels


def _check_codes(codes: Any, names: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(codes, names)`` as an integer array in ``[-1, len(names))`` and distinct strings."""
    codes = np.asarray(codes)
    if codes.ndim != 1:
        raise ValueError(f"`codes` must be one-dimensional; got shape {codes.shape}.")
    if codes.size and codes.dtype.kind not in "iu":
        raise TypeError(f"`codes` must be integers; got dtype {codes.dtype}.")
    names = tuple(str(n) for n in names)
    if len(set(names)) != len(names):
        raise ValueError(f"Group names must be distinct; got {list(names)}.")
    if codes.size and (codes.min() < -1 or codes.max() >= len(names)):
        raise ValueError(
            f"`codes` must lie in [0, {len(names)}) (or be -1 for excluded examples); "
            f"got values from {int(codes.min())} to {int(codes.max())}."
        )
    return codes, names


def _check_attributes(attributes: Sequence[str]) -> tuple[str, ...]:
    """The attribute names as distinct strings, at least one."""
    names = tuple(str(a) for a in attributes)
    if len(names) == 0 or len(set(names)) != len(names):
        raise ValueError(
            f"`attributes` must be distinct names, at least one; got {list(attributes)}."
        )
    return names


def _levels_of(
    attributes: tuple[str, ...],
    levels: Mapping[str, Sequence[str]] | None,
    names: tuple[str, ...],
) -> dict[str, tuple[str, ...]]:
    """Every attribute's level labels (one attribute's default: the cell names)."""
    if levels is None and len(attributes) == 1:
        levels = {attributes[0]: names}
    missing = [a for a in attributes if levels is None or a not in levels]
    if missing:
        raise ValueError(
            f"`levels` must give the levels of every attribute; missing {missing} "
            f"(attributes={list(attributes)}). Pass levels={{attribute: [...]}} "
            "or build the groups with Groups.from_columns, which finds them."
        )
    assert levels is not None
    return {a: tuple(str(v) for v in levels[a]) for a in attributes}


def _level_tables(
    codes: np.ndarray,
    names: tuple[str, ...],
    levels: dict[str, tuple[str, ...]],
    attribute_codes: Any,
    cell_levels: Any,
    *,
    copy: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``(attribute_codes, cell_levels)`` as int32 tables checked against the levels.

    One attribute may leave both out: each example's level is then its cell. Given
    tables are copied unless ``copy=False`` (arrays fairtrain built for these groups).
    """
    n_attr = len(levels)
    if (attribute_codes is None) != (cell_levels is None) or (
        attribute_codes is None and n_attr > 1
    ):
        raise ValueError(
            "With several attributes, give both `attribute_codes` and `cell_levels` "
            "(or build the groups with Groups.from_columns)."
        )
    if attribute_codes is None:
        attribute_codes = codes[:, None]  # the groups' own codes: shared, not copied
        cell_levels = np.arange(len(names), dtype=np.int32)[:, None]
    else:
        # the caller's arrays: copied, so that a later write to them (or the read-only
        # flag these get) does not reach across
        attribute_codes = np.array(attribute_codes, dtype=np.int32, copy=copy or None)
        cell_levels = np.array(cell_levels, dtype=np.int32, copy=copy or None)
    if attribute_codes.shape != (codes.size, n_attr):
        raise ValueError(
            f"`attribute_codes` must have shape ({codes.size}, {n_attr}); got "
            f"{attribute_codes.shape}."
        )
    if cell_levels.shape != (len(names), n_attr):
        raise ValueError(
            f"`cell_levels` must have shape ({len(names)}, {n_attr}); got "
            f"{cell_levels.shape}."
        )
    _check_level_codes("attribute_codes", attribute_codes, levels)
    _check_level_codes("cell_levels", cell_levels, levels)
    return attribute_codes, cell_levels


def _check_level_codes(what: str, table: np.ndarray, levels: dict[str, tuple[str, ...]]) -> None:
    """Refuse level codes outside ``[-1, len(levels))``; column ``j`` is attribute ``j``."""
    if not table.size:
        return
    for j, (a, labels) in enumerate(levels.items()):
        # one column at a time: min(axis=0) over (n, 2) rows is ~100x slower
        column = table[:, j]
        lo, hi = int(column.min()), int(column.max())
        k = len(labels)
        if lo < -1 or hi >= k:
            raise ValueError(
                f"`{what}` of attribute {a!r} must lie in [0, {k}) (its {k} "
                f"level(s)) or be -1; got values from {lo} to {hi}."
            )


def _place_values(radix: np.ndarray) -> np.ndarray:
    """The place value of every digit of a mixed-radix number, int64 (last digit: 1)."""
    return np.concatenate([np.cumprod(radix[::-1])[::-1][1:], [1]]).astype(np.int64)


def _cell_namer(
    attributes: tuple[str, ...], attr_levels: dict[str, tuple[str, ...]], other: str
) -> Callable[[np.ndarray], str]:
    """A function from a cell's digits (``len(levels)``: "other") to the cell's name.

    One attribute: the level label; several: ``"a=x|b=y"``.
    """

    def cell_name(digits: np.ndarray) -> str:
        labels = [
            other if d == len(attr_levels[a]) else attr_levels[a][d]
            for a, d in zip(attributes, digits)
        ]
        if len(attributes) == 1:
            return labels[0]
        return "|".join(f"{a}={v}" for a, v in zip(attributes, labels))

    return cell_name


def _apply_cell_policy(
    attribute_codes: np.ndarray,
    radix: np.ndarray,
    min_count: int,
    policy: str,
    cell_name: Callable[[np.ndarray], str],
) -> tuple[np.ndarray, np.ndarray | None, list[PolicyAction], bool]:
    """``(digits, included, report, merged)`` after the tiny-cell policy of from_columns.

    The digits are a copy where a merge may rewrite them (digit ``radix - 1``: "other");
    ``included`` is None when no policy can exclude an example (no 10^7-row mask to
    allocate); ``merged`` says whether a level became "other". Raises the
    ``policy="error"`` ValueError naming the tiny cells.
    """
    report: list[PolicyAction] = []
    if min_count <= 1:
        return attribute_codes, None, report, False
    weights = _place_values(radix)
    row_digits = attribute_codes.copy()  # only the merge policy rewrites digits
    included = np.ones(len(row_digits), dtype=bool)
    merged = False
    for depth in range(row_digits.shape[1] - 1, -1, -1):
        keys = row_digits[included] @ weights
        uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        tiny = counts < min_count
        if not tiny.any():
            return row_digits, included, report, merged
        if policy == "error":
            names = [
                f"{cell_name(row_digits[included][inverse == i][0])} ({counts[i]})"
                for i in np.flatnonzero(tiny)
            ]
            raise ValueError(
                f"{len(names)} cell(s) have fewer than min_count={min_count} "
                f"examples: {names}. Lower min_count, use policy='merge' or "
                "'drop', or use fewer attributes."
            )
        rows = np.flatnonzero(included)
        first = rows[np.unique(inverse, return_index=True)[1]]
        tiny_rows = np.isin(inverse, np.flatnonzero(tiny))
        if policy == "drop":
            for i in np.flatnonzero(tiny):
                report.append(PolicyAction("drop", cell_name(row_digits[first[i]]), int(counts[i])))
            included[rows[tiny_rows]] = False
            return row_digits, included, report, merged
        # merge: the tiny cells' value of attribute `depth` becomes "other"
        before = {int(i): cell_name(row_digits[first[i]]) for i in np.flatnonzero(tiny)}
        row_digits[rows[tiny_rows], depth] = radix[depth] - 1
        merged = True
        for i, name in before.items():
            into = cell_name(row_digits[first[i]])
            if into != name:
                report.append(PolicyAction("merge", name, int(counts[i]), into))
    # every attribute merged and some cells still tiny: kept as they are, and reported
    uniq, counts = np.unique(row_digits[included] @ weights, return_counts=True)
    for key, count in zip(uniq, counts):
        if count < min_count:
            digits = (key // weights) % radix
            report.append(PolicyAction("below_min_count", cell_name(digits), int(count)))
    return row_digits, included, report, merged


def _cell_codes(
    row_digits: np.ndarray,
    weights: np.ndarray,
    radix: np.ndarray,
    included: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(codes, keys, counts)``: every example's cell (``-1`` if not ``included``).

    ``keys`` are the cells' int64 keys in code order; ``counts`` the cells' counts when
    they came for free (a dense range of keys counted), else None. ``included=None``:
    every example.
    """
    n_keys = int(np.prod(radix))
    # intp keys: what bincount counts without a converted copy
    keys = _cell_keys(row_digits, weights.astype(np.intp), included)
    counts = None
    if n_keys <= _DENSE_RANGE:  # count the keys: no sort, no min/max pass
        counts = np.bincount(keys, minlength=n_keys)
        present = counts > 0
        if present.all():
            uniq, inverse = np.arange(n_keys, dtype=np.int64), keys
        else:
            counts = counts[present]
            uniq = np.flatnonzero(present).astype(np.int64)
            inverse = (np.cumsum(present, dtype=np.int32) - 1)[keys]
        counts = counts.astype(np.int64)
    else:
        uniq, inverse = _factorize(keys)
        uniq = uniq.astype(np.int64)
    if included is None:
        return inverse, uniq, counts  # Groups() makes its own int32 copy: no conversion
    codes = np.full(len(row_digits), -1, dtype=np.int32)
    codes[included] = inverse.reshape(-1)
    return codes, uniq, counts


def _warn_policy(report: list[PolicyAction], min_count: int, policy: str) -> None:
    """Issue what the tiny-cell policy did as a GroupPolicyWarning at from_columns' caller."""
    warnings.warn(
        f"Groups.from_columns(min_count={min_count}, policy={policy!r}) changed "
        f"{len(report)} cell(s): " + "; ".join(map(str, report[:10]))
        + (" ..." if len(report) > 10 else "")
        + ". See Groups.report for the full list.",
        GroupPolicyWarning,
        stacklevel=caller_stacklevel(),
    )


class Groups:
    """Per-example group membership: codes, names, counts and shares.

    One ``Groups`` object is what samplers, weights, metrics and reports all take, so
    "the groups" mean the same thing end to end. Build it with :meth:`from_columns` (one
    or more attribute columns, intersected) or :meth:`from_codes` (integer codes).

    Parameters
    ----------
    codes : ndarray of int, shape (n,)
        Cell code of every example, in ``[0, n_groups)``; ``-1`` marks an example
        excluded by the ``drop`` policy.
    names : sequence of str, length n_groups
        Readable name of every cell.
    attributes : sequence of str
        The attribute names, in order.
    levels : mapping of str to sequence of str
        Each attribute's own groups (levels), in order.
    attribute_codes : ndarray of int, shape (n, n_attributes)
        Each example's level code per attribute (``-1`` for excluded examples).
    cell_levels : ndarray of int, shape (n_groups, n_attributes)
        Each cell's level code per attribute; ``-1`` where the cell was merged into
        ``"other"`` for that attribute.
    report : sequence of PolicyAction, optional
        What the tiny-cell policy did.
    other : str, default "other"
        The label of a level merged into ``"other"`` (``from_columns``' ``other``).

    Notes
    -----
    The groups keep read-only copies of ``codes``, ``attribute_codes`` and
    ``cell_levels``: the caller's arrays are neither shared nor made read-only.

    Cell names: with one attribute, the level label itself (``"Asian"``); with several,
    ``"ethnicity=Asian|gender=female"``. Cells are the observed combinations only, in
    lexicographic order of the attributes' level codes, so the same data always gives
    the same codes.

    Examples
    --------
    >>> import fairtrain as ft
    >>> g = ft.Groups.from_columns({"gender": ["f", "m", "f", "m", "f"],
    ...                             "smile": [1, 1, 0, 1, 1]})
    >>> g.names
    ('gender=f|smile=0', 'gender=f|smile=1', 'gender=m|smile=1')
    >>> g.codes.tolist()
    [1, 2, 0, 2, 1]
    >>> g.counts.tolist()
    [1, 2, 2]
    >>> g.attribute("gender").names
    ('f', 'm')
    """

    def __init__(
        self,
        codes: Any,
        names: Sequence[str],
        *,
        attributes: Sequence[str] = ("group",),
        levels: Mapping[str, Sequence[str]] | None = None,
        attribute_codes: Any = None,
        cell_levels: Any = None,
        report: Sequence[PolicyAction] = (),
        other: str = OTHER,
    ) -> None:
        self._setup(codes, names, attributes, levels, attribute_codes, cell_levels, report,
                    other, copy=True)

    def _setup(
        self, codes: Any, names: Sequence[str], attributes: Sequence[str],
        levels: Mapping[str, Sequence[str]] | None, attribute_codes: Any, cell_levels: Any,
        report: Sequence[PolicyAction], other: str, *, copy: bool,
    ) -> None:
        """``__init__``; ``copy=False`` keeps arrays fairtrain built for these groups."""
        codes, names = _check_codes(codes, names)
        self._codes = _readonly(codes.astype(np.int32, copy=copy))
        self._names = names
        self._attributes = _check_attributes(attributes)
        self._levels = _levels_of(self._attributes, levels, names)
        attribute_codes, cell_levels = _level_tables(
            self._codes, names, self._levels, attribute_codes, cell_levels, copy=copy
        )
        self._attribute_codes = _readonly(attribute_codes)
        self._cell_levels = _readonly(cell_levels)
        self._report = tuple(report)
        self._other = str(other)
        self._counts: np.ndarray | None = None
        self._members: tuple[np.ndarray, ...] | None = None
        self._views: dict[str, Groups] = {}

    @classmethod
    def _view(cls, codes: np.ndarray, names: tuple[str, ...], attribute: str) -> Groups:
        """One attribute's groups over trusted codes: no validation, copy or count."""
        view = object.__new__(cls)
        view._codes = codes
        view._names = names
        view._attributes = (attribute,)
        view._levels = {attribute: names}
        view._attribute_codes = codes[:, None]
        view._cell_levels = _readonly(np.arange(len(names), dtype=np.int32)[:, None])
        view._report = ()
        view._other = OTHER
        view._counts = None
        view._members = None
        view._views = {}
        return view

    # ------------------------------------------------------------------ factories
    @classmethod
    def from_codes(cls, codes: Any, names: Sequence[str] | None = None) -> Groups:
        """Groups from integer codes in ``[0, k)``.

        Parameters
        ----------
        codes : array-like of int, shape (n,)
            Group code of every example.
        names : sequence of str, optional
            One name per code. Default: ``"0"``, ``"1"``, ... up to the largest code.
            Names beyond the largest code give empty groups (count 0).

        Examples
        --------
        >>> import fairtrain as ft
        >>> ft.Groups.from_codes([0, 2, 2], ["a", "b", "c"]).counts.tolist()
        [1, 0, 2]
        """
        arr = np.asarray(codes)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"`codes` must be a non-empty 1-D array; got shape {arr.shape}.")
        if arr.dtype.kind not in "iu":
            raise TypeError(f"`codes` must be integers; got dtype {arr.dtype}.")
        if arr.min() < 0:
            raise ValueError(f"`codes` must be non-negative; got {int(arr.min())}.")
        if names is None:
            names = [str(i) for i in range(int(arr.max()) + 1)]
        elif isinstance(names, str) or len(names) <= int(arr.max()):
            count = "a string" if isinstance(names, str) else f"{len(names)} name(s)"
            raise ValueError(
                f"`names` holds {count}, but the codes go up to code {int(arr.max())}: "
                f"give one name per code, {int(arr.max()) + 1} or more."
            )
        return cls(arr, names, attributes=("group",), levels={"group": tuple(map(str, names))})

    @classmethod
    @validate_params(
        {
            "min_count": [Interval(Integral, 1, None)],
            "policy": [Options(str, ("merge", "drop", "error"))],
            "other": ["name"],
        }
    )
    def from_columns(
        cls,
        columns: Any,
        *,
        levels: Mapping[str, Sequence[Any]] | None = None,
        min_count: int = 1,
        policy: Policy = "merge",
        other: str = OTHER,
    ) -> Groups:
        """Groups as the intersection of one or more attribute columns.

        Parameters
        ----------
        columns : mapping of str to array-like, pandas DataFrame, or array-like
            The attribute columns, all of length n. A single array is one attribute
            named ``"group"``. Use :func:`bins` for continuous attributes.
        levels : mapping of str to sequence, optional
            The order (and the full set) of an attribute's values, e.g. the class order
            ``["African", "Asian", "Latin/Caucasian", "Indian"]``. A value not listed is
            an error. Default: sorted unique values (a pandas Categorical keeps its
            categories; :func:`bins` keeps bin order).
        min_count : int, default 1
            Cells with fewer examples are handled by ``policy``.
        policy : {"merge", "drop", "error"}, default "merge"
            ``"merge"``: a tiny cell's value of the last attribute becomes ``other``;
            if the merged cell is still tiny, the attribute before it becomes ``other``
            too, and so on. ``"drop"``: its examples get code ``-1`` and are excluded
            from sampling, weights and per-group metrics. ``"error"``: raise.
            What a policy did is in :attr:`report` and issued as a
            :class:`GroupPolicyWarning`.
        other : str, default "other"
            The label of merged values.

        Returns
        -------
        Groups

        Raises
        ------
        ValueError
            If the columns are empty or of different lengths, a value is missing (NaN or
            None) or not among its ``levels``, or ``policy="error"`` finds tiny cells.
        TypeError
            If ``levels`` is not a mapping, or an attribute's levels are a string
            rather than a list of values.

        Notes
        -----
        pandas columns of strings (``str``, ``"string"`` or ``object`` dtype) are
        factorised by pandas (by arrow when pyarrow-backed) and categorical columns
        by their codes, without turning every row into a Python object; the result is
        the same as for the equivalent NumPy array.
        """
        if hasattr(columns, "columns") and hasattr(columns, "__getitem__"):  # DataFrame
            columns = {str(c): columns[c] for c in columns.columns}
        elif not isinstance(columns, Mapping):
            columns = {"group": columns}
        if not columns:
            raise ValueError("`columns` is empty: give at least one attribute column.")
        levels = _check_levels(levels, columns)
        attributes = tuple(str(a) for a in columns)
        encoded = [_encode(a, columns[a], levels.get(a)) for a in attributes]
        lengths = {a: len(c) for a, (c, _) in zip(attributes, encoded)}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"All columns must have the same length; got {lengths}.")
        attr_levels = {a: labels for a, (_, labels) in zip(attributes, encoded)}
        # (n_attributes, n) stacked, seen as (n, n_attributes): each attribute's codes
        # stay contiguous (column-major), so per-attribute passes run at memory speed
        attribute_codes = np.stack([c for c, _ in encoded]).astype(np.int32, copy=False).T
        return cls._from_attribute_codes(
            attribute_codes, attributes, attr_levels, min_count, policy, other
        )

    @classmethod
    def _from_attribute_codes(
        cls,
        attribute_codes: np.ndarray,
        attributes: tuple[str, ...],
        attr_levels: dict[str, tuple[str, ...]],
        min_count: int,
        policy: str,
        other: str,
    ) -> Groups:
        """Groups from checked per-attribute level codes: :meth:`from_columns`' core.

        Parameters
        ----------
        attribute_codes : ndarray of int32, shape (n, n_attributes)
            Each example's level code per attribute, in ``[0, len(levels))``.
        attributes : tuple of str
            The attribute names, in order.
        attr_levels : dict of str to tuple of str
            Each attribute's level labels, in code order.
        min_count : int
            Cells with fewer examples are handled by ``policy``.
        policy : {"merge", "drop", "error"}
            As in :meth:`from_columns`.
        other : str
            The label of merged levels.

        Returns
        -------
        Groups
            Its cells are the observed combinations in lexicographic order of the level
            codes ("other", a merged level, after every real level); its ``report`` says
            what the policy did, also issued as a :class:`GroupPolicyWarning`.

        Raises
        ------
        ValueError
            If the combinations are too many to index or ``policy="error"`` finds tiny cells.

        Notes
        -----
        A cell's key is its level codes read as one number in mixed radix, one digit per
        attribute with ``len(levels) + 1`` values (the last one "other"), so that sorting
        the keys sorts the cells lexicographically.
        """
        radix = np.array([len(attr_levels[a]) + 1 for a in attributes], dtype=np.int64)
        if np.prod(radix.astype(float)) > 2**62:
            raise ValueError("Too many attribute combinations to index; use fewer attributes.")
        cell_name = _cell_namer(attributes, attr_levels, other)
        row_digits, included, report, merged = _apply_cell_policy(
            attribute_codes, radix, min_count, policy, cell_name
        )
        # Final keys: without a merge no digit is "other", so the radix can be the
        # levels alone; the keys' order (lexicographic in the digits) is the same.
        # When every combination occurs the keys are then the codes themselves.
        if not merged:
            radix = radix - 1
        weights = _place_values(radix)
        if included is not None and included.all():
            included = None  # every example kept: no mask to apply
        codes, uniq, counts = _cell_codes(row_digits, weights, radix, included)
        cell_digits = (uniq[:, None] // weights[None, :]) % radix[None, :]
        other_digit = np.array([len(attr_levels[a]) for a in attributes])[None, :]
        if included is not None:
            attribute_codes = np.where(included[:, None], attribute_codes, -1)
        if report:
            _warn_policy(report, min_count, policy)
        tables = {"attributes": attributes, "levels": attr_levels,
                  "attribute_codes": attribute_codes,
                  "cell_levels": np.where(cell_digits == other_digit, -1, cell_digits),
                  "report": report, "other": other}
        names = [cell_name(d) for d in cell_digits]
        if cls.__init__ is Groups.__init__:  # every array was built here: none copied
            groups = cls.__new__(cls)
            groups._setup(codes, names, **tables, copy=False)
        else:  # a subclass's own __init__ runs, as from_codes and from_config do
            groups = cls(codes, names, **tables)
        if counts is not None:  # already counted: what `counts` would compute
            groups._counts = _readonly(counts)
        return groups

    # ------------------------------------------------------------------ properties
    @property
    def codes(self) -> np.ndarray:
        """Cell code of every example, shape (n,), int32; ``-1`` for excluded ones."""
        return self._codes

    @property
    def names(self) -> tuple[str, ...]:
        """Readable name of every cell, length ``n_groups``."""
        return self._names

    @property
    def n_groups(self) -> int:
        """Number of cells."""
        return len(self._names)

    @property
    def counts(self) -> np.ndarray:
        """Examples per cell, shape (n_groups,), int64 (excluded examples not counted).

        Counted on first use and cached.
        """
        if self._counts is None:
            codes = self._codes
            kept = codes[codes >= 0] if codes.size and codes.min() < 0 else codes
            self._counts = _readonly(
                np.bincount(kept, minlength=len(self._names)).astype(np.int64)
            )
        return self._counts

    @property
    def shares(self) -> np.ndarray:
        """Share of every cell among the included examples, shape (n_groups,)."""
        counts = self.counts
        total = counts.sum()
        return counts / total if total else counts.astype(float)

    @property
    def attributes(self) -> tuple[str, ...]:
        """The attribute names, in order."""
        return self._attributes

    @property
    def levels(self) -> dict[str, tuple[str, ...]]:
        """Each attribute's own groups (level labels), in order."""
        return dict(self._levels)

    @property
    def attribute_codes(self) -> np.ndarray:
        """Level code of every example per attribute, shape (n, n_attributes)."""
        return self._attribute_codes

    @property
    def cell_levels(self) -> np.ndarray:
        """Level code of every cell per attribute, shape (n_groups, n_attributes).

        ``-1`` where the cell was merged into ``"other"`` for that attribute.
        """
        return self._cell_levels

    @property
    def other(self) -> str:
        """The label of a level merged into "other" (see :attr:`cell_levels`)."""
        return self._other

    @property
    def included(self) -> np.ndarray:
        """Boolean mask of the examples that belong to a cell, shape (n,)."""
        return self._codes >= 0

    @property
    def report(self) -> tuple[PolicyAction, ...]:
        """What the tiny-cell policy merged, dropped or kept."""
        return self._report

    def __len__(self) -> int:
        return self._codes.size

    # ------------------------------------------------------------------ views
    def attribute(self, name: str) -> Groups:
        """The groups of one attribute alone, over the same examples.

        Examples merged into ``"other"`` in the intersection keep their own level here.
        Cheap: a read-only view of this object's codes, made once and cached; its
        counts are computed only when asked for.
        """
        if name not in self._attributes:
            raise ValueError(
                f"Unknown attribute {name!r}; the attributes are {list(self._attributes)}."
            )
        view = self._views.get(name)
        if view is None:
            j = self._attributes.index(name)
            view = Groups._view(self._attribute_codes[:, j], self._levels[name], name)
            self._views[name] = view
        return view

    def by_attribute(self) -> dict[str, Groups]:
        """``{attribute: self.attribute(attribute)}`` for every attribute."""
        return {a: self.attribute(a) for a in self._attributes}

    def members(self) -> tuple[np.ndarray, ...]:
        """Indices of the examples in each cell, ascending, as int64 arrays.

        Computed once and cached: one ``flatnonzero`` pass per cell for a few cells,
        else one stable argsort of the codes in the narrowest integer type (a radix
        sort for 8- and 16-bit keys).
        """
        if self._members is None:
            codes, k = self._codes, self.n_groups
            if k <= _MEMBERS_BY_SCAN:
                members = tuple(
                    _readonly(np.flatnonzero(codes == i).astype(np.int64, copy=False))
                    for i in range(k)
                )
            else:
                # Excluded examples (code -1) sort first, as code 0 after the shift.
                key = codes
                for narrow in (np.uint8, np.uint16):
                    if k < np.iinfo(narrow).max:
                        key = (codes + 1).astype(narrow)
                        break
                order = np.argsort(key, kind="stable")
                n_excluded = int(np.count_nonzero(codes < 0))
                bounds = (np.concatenate([[0], np.cumsum(self.counts)]) + n_excluded).tolist()
                members = tuple(
                    _readonly(order[bounds[i] : bounds[i + 1]].astype(np.int64, copy=False))
                    for i in range(k)
                )
            self._members = members
        return self._members

    def take(self, indices: Any) -> Groups:
        """The same groups restricted to ``indices`` (e.g. a train/validation split).

        Names, attributes and levels are kept, so codes mean the same in both parts.
        """
        idx = np.asarray(indices)
        if idx.size == 0 and idx.dtype != bool:
            idx = idx.astype(np.intp)  # [] is float64 to NumPy: an empty selection
        if idx.dtype == bool:
            if idx.shape != self._codes.shape:
                raise ValueError(
                    f"A boolean mask must have shape {self._codes.shape}; got {idx.shape}."
                )
        elif idx.dtype.kind not in "iu":
            raise TypeError(f"`indices` must be integers or a boolean mask; got {idx.dtype}.")
        elif idx.size and (idx.max() >= len(self) or idx.min() < -len(self)):
            bad = int(idx.max() if idx.max() >= len(self) else idx.min())
            raise IndexError(
                f"`indices` holds {bad}, outside the {len(self)} examples (valid: "
                f"{-len(self)} to {len(self) - 1}); take indices of these groups' examples."
            )
        return Groups(
            self._codes[idx],
            self._names,
            attributes=self._attributes,
            levels=self._levels,
            attribute_codes=self._attribute_codes[idx],
            cell_levels=self._cell_levels,
            report=self._report,
            other=self._other,
        )

    def get_config(self) -> dict[str, Any]:
        """The groups as plain JSON values; :meth:`from_config` rebuilds equal groups.

        Holds the per-example codes as a list (``n`` ints), the names, attributes and
        levels, the tiny-cell report, and, with several attributes, each cell's levels
        (``cell_levels``) and each example's (``attribute_codes``, only where they
        differ from its cell's, i.e. for examples the ``drop`` policy excluded).

        Examples
        --------
        >>> import json
        >>> import fairtrain as ft
        >>> g = ft.Groups.from_columns({"sex": ["f", "m", "m"]})
        >>> g.get_config()
        {'codes': [0, 1, 1], 'names': ['f', 'm'], 'attributes': ['sex'], \
'levels': {'sex': ['f', 'm']}, 'other': 'other', 'report': []}
        >>> ft.Groups.from_config(json.loads(json.dumps(g.get_config()))).names
        ('f', 'm')
        """
        config: dict[str, Any] = {
            "codes": self._codes.tolist(),
            "names": list(self._names),
            "attributes": list(self._attributes),
            "levels": {a: list(v) for a, v in self._levels.items()},
            "other": self._other,
            "report": [asdict(action) for action in self._report],
        }
        plain = np.arange(len(self._names), dtype=np.int32)[:, None]
        if len(self._attributes) > 1 or not np.array_equal(self._cell_levels, plain):
            config["cell_levels"] = self._cell_levels.tolist()
        if not np.array_equal(_attribute_codes_of(self._codes, self._cell_levels),
                              self._attribute_codes):
            config["attribute_codes"] = self._attribute_codes.tolist()
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Groups:
        """Groups from :meth:`get_config`'s output (after a JSON round trip too).

        Raises
        ------
        TypeError, ValueError
            If ``config`` is not such a mapping, or its parts disagree.
        """
        if not isinstance(config, Mapping) or "codes" not in config or "names" not in config:
            raise param_error(
                "config", config, "a mapping from Groups.get_config()", error=TypeError
            )
        codes = np.asarray(config["codes"], dtype=np.int32)
        cell_levels = config.get("cell_levels")
        attribute_codes = config.get("attribute_codes")
        if cell_levels is None and attribute_codes is not None:
            cell_levels = np.arange(len(config["names"]), dtype=np.int32)[:, None]
        if cell_levels is not None:
            cell_levels = _cell_levels_of_config(
                cell_levels, len(config["names"]), len(config.get("attributes", ("group",)))
            )
            if attribute_codes is None:
                attribute_codes = _attribute_codes_of(codes, cell_levels)
        return cls(
            codes,
            config["names"],
            attributes=config.get("attributes", ("group",)),
            levels=config.get("levels"),
            attribute_codes=attribute_codes,
            cell_levels=cell_levels,
            report=[PolicyAction(**a) for a in config.get("report", ())],
            other=config.get("other", OTHER),
        )

    def __repr__(self) -> str:
        width = max((len(n) for n in self._names), default=5)
        lines = [
            f"Groups(n={len(self)}, n_groups={self.n_groups}, "
            f"attributes={list(self._attributes)})"
        ]
        for name, count, share in zip(self._names, self.counts, self.shares):
            lines.append(f"  {name:<{width}}  {count:>9d}  {share:7.2%}")
        excluded = int(np.count_nonzero(self._codes < 0))
        if excluded:
            lines.append(f"  ({excluded} examples excluded by the drop policy)")
        return "\n".join(lines)


# ------------------------------------------------------------------ groups arguments
# The rule: wherever fairtrain takes ``groups``, it takes a :class:`Groups` or anything
# :meth:`Groups.from_columns` takes (a mapping of attribute columns, a pandas DataFrame,
# one column, a :func:`bins` result), and turns the latter into a ``Groups`` here.


def as_groups(groups: Any = None, *, sensitive_features: Any = None) -> Groups:
    """A :class:`~fairtrain.Groups` from a Groups or raw attribute columns.

    The one rule on groups arguments: every public callable that takes ``groups``
    takes what this takes (a ``Groups``, a mapping of attribute columns, a pandas
    DataFrame, one column, a :func:`bins` result), and fairlearn's
    ``sensitive_features`` as the alias; exactly one of the two must be given.

    Raises
    ------
    TypeError
        If neither or both are given, or the value is a scalar.
    ValueError
        If an array is not one column (e.g. 2-D), or the columns are invalid (see
        :meth:`Groups.from_columns`).
    """
    if groups is None and sensitive_features is None:
        raise TypeError("Pass the groups (`groups=` or fairlearn's `sensitive_features=`).")
    if groups is not None and sensitive_features is not None:
        raise TypeError(
            "Pass either `groups` or `sensitive_features` (fairlearn's name for it), "
            "not both."
        )
    name = "groups" if groups is not None else "sensitive_features"
    value = groups if groups is not None else sensitive_features
    if isinstance(value, Groups):
        return value
    if isinstance(value, Binned):
        return Groups.from_columns({"group": value})
    if isinstance(value, Mapping) or hasattr(value, "columns"):
        return Groups.from_columns(value)
    arr = np.asarray(value) if not isinstance(value, (str, bytes)) else np.asarray(0)
    if arr.ndim != 1:
        raise param_error(
            name,
            value,
            "a fairtrain.Groups, a mapping of attribute columns, a DataFrame or one "
            "column of group labels",
            hint=f"Got {'a scalar' if arr.ndim == 0 else f'shape {arr.shape}'}.",
            error=TypeError if arr.ndim == 0 else ValueError,
        )
    # a pandas categorical (Series, Categorical, CategoricalIndex) keeps its order
    ordered = hasattr(value, "cat") or hasattr(value, "categories")
    return Groups.from_columns({"group": value if ordered else arr})


def as_sampler_groups(groups: Any = None, *, sensitive_features: Any = None) -> Groups:
    """:func:`as_groups`, refusing groups with no included example (nothing to sample)."""
    # the one rule: a Groups, or columns made into one
    groups = as_groups(groups, sensitive_features=sensitive_features)
    if int(groups.counts.sum()) == 0:
        raise ValueError("`groups` has no included example; there is nothing to sample.")
    return groups


def groups_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A ``get_config()`` output with its ``groups`` entry made a :class:`Groups` again.

    For ``from_config`` of the classes whose config holds :meth:`Groups.get_config`;
    any other ``groups`` value (a Groups, columns) is left as it is.
    """
    config = dict(config)
    spec = config.get("groups")
    if isinstance(spec, Mapping) and "codes" in spec and "names" in spec:
        config["groups"] = Groups.from_config(spec)
    return config
