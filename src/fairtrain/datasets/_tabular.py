"""The tabular record (features, label, raw columns, refused rows) and text-table reading."""

from __future__ import annotations

import codecs
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairtrain.datasets._core import Rejected, column_groups, row_index
from fairtrain.groups import Groups


@dataclass(frozen=True, eq=False)  # arrays have no single truth value: compare by identity
class TabularDataset:
    """A table ready for a model: a feature matrix, a 0/1 label, the raw columns, refused rows.

    Parameters
    ----------
    features : array-like of float, shape (n, d)
        The model's input, stored as float32: numeric columns as read and categorical
        columns one-hot encoded (one 0/1 column per level, every level present even when
        no row holds it, so that the splits of one dataset share their columns).
    feature_names : sequence of str, length d
        One name per feature column: the source column for a numeric one,
        ``"column=level"`` for a one-hot one.
    label : array-like of int, shape (n,)
        The target, 0 or 1, stored as int64.
    columns : dict of str to array-like (n,)
        The raw columns, typed (ints as int64, categories as str), ready for
        :meth:`fairtrain.Groups.from_columns` and :func:`fairtrain.datasets.split`.
    numeric : array-like of bool, shape (d,), optional
        Which feature columns are numeric (the ones :meth:`standardize` scales).
        Default: none.
    attributes : sequence of str, default ()
        The protected attributes (``"sex"``, ``"race"``, ...): names of ``columns``.
    rejected : tuple of Rejected, default ()
        Every row the loader refused, as ``"/abs/path/file:line"`` with the reason.
    levels : dict of str to list, default {}
        The canonical order (and full set) of a categorical column's values; one-hot
        columns follow it.
    name : str, default ""
        A name for reports.

    Raises
    ------
    ValueError
        If ``features`` is not 2-D, a length disagrees with the number of rows or
        features, a feature name repeats, ``label`` holds a value other than 0 and 1,
        an attribute or a key of ``levels`` is not a column, or a column holds a value
        not among its levels.

    Examples
    --------
    >>> ds = TabularDataset(
    ...     features=[[30.0, 1.0, 0.0], [50.0, 0.0, 1.0], [40.0, 0.0, 1.0]],
    ...     feature_names=["age", "sex=Female", "sex=Male"],
    ...     label=[0, 1, 1],
    ...     columns={"sex": ["Female", "Male", "Male"]},
    ...     numeric=[True, False, False], attributes=["sex"],
    ...     levels={"sex": ["Female", "Male"]})
    >>> len(ds), ds.take([2, 0]).label.tolist()
    (3, [1, 0])
    >>> ds.groups("sex").counts.tolist()
    [1, 2]
    >>> ds.standardize().features[:, 0].astype(float).round(4).tolist()
    [-1.2247, 1.2247, 0.0]
    """

    features: np.ndarray
    feature_names: tuple[str, ...]
    label: np.ndarray
    columns: dict[str, np.ndarray]
    numeric: np.ndarray | None = None
    attributes: tuple[str, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    levels: dict[str, list] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        features = np.asarray(self.features, dtype=np.float32)
        if features.ndim != 2:
            raise ValueError(f"`features` must be 2-D (rows, features); got {features.shape}.")
        n, d = features.shape
        names = tuple(str(s) for s in self.feature_names)
        if len(names) != d or len(set(names)) != d:
            raise ValueError(
                f"`feature_names` must name each of the {d} feature columns once; got "
                f"{len(names)} names, {len(set(names))} distinct."
            )
        label = np.asarray(self.label).reshape(-1)
        if label.shape != (n,) or not np.isin(label, (0, 1)).all():
            raise ValueError(f"`label` must hold n={n} values, each 0 or 1; got {label[:5]}.")
        numeric = np.zeros(d, bool) if self.numeric is None else np.asarray(self.numeric)
        if numeric.shape != (d,) or numeric.dtype != bool:
            raise ValueError(f"`numeric` must be {d} bools; got {numeric.dtype} {numeric.shape}.")
        columns = {str(k): np.asarray(v) for k, v in dict(self.columns).items()}
        for key, column in columns.items():
            if column.shape != (n,):
                raise ValueError(f"Column {key!r} has shape {column.shape}; it needs ({n},).")
        attributes = tuple(str(a) for a in self.attributes)
        levels = {str(k): list(v) for k, v in dict(self.levels).items()}
        for key in (*attributes, *levels):
            if key not in columns:
                raise ValueError(f"{key!r} is not a column; the columns are {list(columns)}.")
        for key, lev in levels.items():
            unknown = sorted(set(columns[key].tolist()) - set(lev))
            if unknown:
                raise ValueError(
                    f"Column {key!r} holds values not among its levels {lev}: {unknown[:5]}."
                )
        for key, value in (("features", features), ("feature_names", names),
                           ("label", label.astype(np.int64)), ("numeric", numeric),
                           ("columns", columns), ("attributes", attributes),
                           ("rejected", tuple(self.rejected)), ("levels", levels)):
            object.__setattr__(self, key, value)

    def __len__(self) -> int:
        return int(self.label.size)

    def __repr__(self) -> str:
        return (
            f"TabularDataset(name={self.name!r}, n={len(self)}, "
            f"features={len(self.feature_names)}, attributes={list(self.attributes)}, "
            f"rejected={len(self.rejected)})"
        )

    def take(self, index: Any) -> TabularDataset:
        """The rows at ``index`` (ints, a boolean mask or a slice); ``rejected`` is kept.

        Parameters
        ----------
        index : array-like of int or bool, or slice
            Rows to keep, in that order.

        Returns
        -------
        TabularDataset

        Raises
        ------
        TypeError
            If ``index`` holds numbers that are not integers (floats are not truncated).
        IndexError
            If an index is out of range, or a mask has the wrong length.
        """
        index = row_index(index, len(self))
        return dataclasses.replace(
            self,
            features=self.features[index],
            label=self.label[index],
            columns={k: v[index] for k, v in self.columns.items()},
        )

    def groups(self, *attributes: str, **kwargs: Any) -> Groups:
        """:meth:`fairtrain.Groups.from_columns` over the named columns, with :attr:`levels`.

        Parameters
        ----------
        *attributes : str
            Column names (usually among :attr:`attributes`); their intersection forms
            the groups.
        **kwargs
            Passed to :meth:`~fairtrain.Groups.from_columns` (``min_count``, ``policy``,
            ...); a ``levels`` mapping given here overrides :attr:`levels`.

        Returns
        -------
        Groups

        Raises
        ------
        ValueError
            If no attribute is named.
        KeyError
            If an attribute is not a column.
        """
        return column_groups(self.columns, self.levels, attributes, kwargs)

    def standardize(self, reference: TabularDataset | None = None) -> TabularDataset:
        """The numeric features centred and scaled by ``reference``'s mean and deviation.

        Parameters
        ----------
        reference : TabularDataset, optional
            Whose statistics to use, typically the training split (so that test rows
            are scaled as the model saw the training rows). Default: this dataset.

        Returns
        -------
        TabularDataset
            The same rows; one-hot features unchanged.

        Raises
        ------
        ValueError
            If ``reference`` has other feature names or no rows.

        Notes
        -----
        For each numeric column ``j``, ``x'[:, j] = (x[:, j] - mean_j) / std_j`` with
        ``mean_j`` and the population deviation ``std_j`` (``ddof=0``) of
        ``reference.features[:, j]`` computed in float64, and ``std_j`` replaced by 1
        where it is 0 (as scikit-learn's ``StandardScaler`` does).
        """
        reference = self if reference is None else reference
        if reference.feature_names != self.feature_names:
            raise ValueError(
                "`reference` has other feature columns; standardize by a split of the "
                "same dataset (same loader and options)."
            )
        if len(reference) == 0:
            raise ValueError("`reference` has no rows to take a mean and deviation from.")
        x = reference.features[:, self.numeric].astype(np.float64)
        mean, std = x.mean(axis=0), x.std(axis=0)
        std[std == 0] = 1.0
        features = self.features.copy()
        features[:, self.numeric] = (features[:, self.numeric] - mean) / std
        return dataclasses.replace(self, features=features)


def encode(
    columns: dict[str, np.ndarray],
    label: np.ndarray,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    **fields: Any,
) -> TabularDataset:
    """A TabularDataset whose features are ``numeric`` as read, then ``categorical`` one-hot.

    One-hot columns follow ``fields["levels"][name]``; ``fields`` are TabularDataset's
    other arguments (internal helper for the loaders).
    """
    n = label.size
    blocks = [np.asarray(columns[c], dtype=np.float32).reshape(n, 1) for c in numeric]
    names = list(numeric)
    for column in categorical:
        levels = np.asarray(fields["levels"][column], dtype=str)
        blocks.append((columns[column].reshape(n, 1) == levels.reshape(1, -1)).astype(np.float32))
        names += [f"{column}={level}" for level in levels.tolist()]
    features = np.concatenate(blocks, axis=1) if blocks else np.zeros((n, 0), np.float32)
    is_numeric = np.arange(len(names)) < len(numeric)
    return TabularDataset(features=features, feature_names=tuple(names), label=label,
                          columns=columns, numeric=is_numeric, **fields)


def text_lines(path: Path, source: str) -> list[tuple[int, str | None, str]]:
    """``(line number from 1, text or None, why it is not text)`` for each line of a file.

    A UTF-8 byte-order mark is dropped; a line that is not UTF-8 comes back as None with
    the reason (a row to refuse); UTF-16/32 text or a binary file is refused whole, with
    ``source`` (where to get the original) in the message (internal helper).
    """
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValueError(
            f"{path} is UTF-16 or UTF-32 text (it starts with that byte-order mark); the "
            f"loader reads UTF-8 or ASCII, as the original is. Convert it (iconv -f UTF-16 "
            f"-t UTF-8) or fetch the original again: {source}"
        )
    if b"\x00" in data:
        raise ValueError(
            f"{path} holds NUL bytes: it is not a text table (a compressed file or a "
            f"broken download?). Fetch the original again: {source}"
        )
    lines: list[tuple[int, str | None, str]] = []
    for number, raw in enumerate(data.removeprefix(codecs.BOM_UTF8).splitlines(), start=1):
        try:
            lines.append((number, raw.decode("utf-8"), ""))
        except UnicodeDecodeError as exc:
            lines.append((number, None, (
                f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                "the original file is ASCII"
            )))
    return lines


def parse_int(column: str, value: str) -> tuple[int | None, str]:
    """``(int(value), "")`` for an optionally signed decimal integer, else a reason."""
    digits = value[1:] if value[:1] in "+-" else value
    if not (digits.isascii() and digits.isdigit()):
        return None, f"{column} {value!r} is not an integer"
    return int(value), ""
