"""Leaderboard ranking: the mean, over several scores, of each entry's rank."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fairtrain._validation import Constraint, param_error, validate_params

__all__ = ["leaderboard_rank"]


def _scores(name: str, values: Any) -> np.ndarray:
    """``values`` as float64, or a TypeError naming the first value that is not a number."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        flat = np.asarray(values, dtype=object).reshape(-1).tolist()
        bad = next((v for v in flat if not isinstance(v, (int, float, np.number))), flat[:1])
        raise TypeError(
            f"{name} must hold numbers (scores); got {bad!r}. Pass the numeric scores "
            "of every entry, one column per score."
        ) from None


def _table(table: Any) -> np.ndarray:
    """The scores as a float array (entries x scores), checked: 2-D, non-empty, no NaN."""
    if isinstance(table, Mapping) or hasattr(table, "columns"):
        columns = table if isinstance(table, Mapping) else {c: table[c] for c in table.columns}
        arrays = {str(k): _scores(f"`table`[{k!r}]", v) for k, v in columns.items()}
        lengths = {k: a.shape[0] if a.ndim else 0 for k, a in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                f"Every score column needs one value per entry; got lengths {lengths}. "
                "Give each score for every entry (the same entries in the same order)."
            )
        x = np.column_stack(list(arrays.values())) if arrays else np.empty((0, 0))
    else:
        x = _scores("`table`", table)
    if x.ndim != 2 or x.size == 0:
        raise ValueError(
            f"`table` must be a non-empty 2-D table (entries x scores); got shape {x.shape}."
        )
    if np.isnan(x).any():
        rows, cols = np.nonzero(np.isnan(x))
        raise ValueError(
            f"`table` holds {rows.size} NaN score(s), first at entry {rows[0]}, score "
            f"{cols[0]}; every entry needs every score to be ranked."
        )
    return x


class _Directions(Constraint):
    """One direction per score: a flat sequence (or 1-D array) of True / False."""

    description = "a sequence of bools (one per score)"

    def ok(self, value: Any) -> bool:
        if isinstance(value, np.ndarray):
            return value.ndim == 1 and value.dtype == np.bool_
        return (
            isinstance(value, Sequence)
            and not isinstance(value, (str, bytes))
            and all(isinstance(v, (bool, np.bool_)) for v in value)
        )


def _directions(greater_is_better: bool | Sequence[bool], n_scores: int) -> np.ndarray:
    """``greater_is_better`` (checked: a bool or bools) as one bool per score, (n_scores,)."""
    greater = np.asarray(greater_is_better, dtype=bool)
    if greater.ndim == 0:
        greater = np.full(n_scores, bool(greater))
    if greater.shape != (n_scores,):
        raise param_error(
            "greater_is_better",
            greater_is_better,
            f"one bool or one per score ({n_scores})",
        )
    return greater


@validate_params({"greater_is_better": ["boolean", _Directions()]})
def leaderboard_rank(
    table: Any, *, greater_is_better: bool | Sequence[bool] = False
) -> np.ndarray:
    """Rank the entries on every score (ties share the lower rank) and average the ranks.

    Parameters
    ----------
    table : array-like of float, shape (n_entries, n_scores), mapping or DataFrame
        One row per entry, one column per score. A mapping of score name to column (or
        a pandas DataFrame) is read column by column.
    greater_is_better : bool or sequence of bool, default False
        For every score (or one value for all): False when a lower value ranks first
        (errors and bias scores), True when a higher one does (accuracy); the word every
        fairtrain metric uses for its direction.

    Returns
    -------
    ndarray of float, shape (n_entries,)
        The mean rank of every entry; 1.0 is first on every score.

    Raises
    ------
    ValueError
        If the table is not two-dimensional, is empty, holds NaN, its columns differ in
        length, or ``greater_is_better`` has the wrong length.
    TypeError
        If a score is not a number, or ``greater_is_better`` is neither a bool nor a
        sequence of bools (``"False"``, ``None`` or ``0`` are refused, not read as
        truth values).

    Notes
    -----
    The rank of entry ``e`` on score ``s`` is ``1 + #{e' : x[e', s]`` strictly better
    than ``x[e, s]}`` (``scipy.stats.rankdata(method="min")``); the result is
    ``mean_s rank[e, s]``. This is the apparent-age challenge's rule over its five
    scores (gender, expression, ethnicity and age bias, MAE; lower is better).

    Examples
    --------
    The challenge's worked example: an entry ranked 3, 6, 1, 2, 1 on the five scores.

    >>> import numpy as np
    >>> from fairtrain.metrics import leaderboard_rank
    >>> scores = np.array([[0.3, 0.6, 0.1, 0.2, 0.1],      # the entry
    ...                    [0.1, 0.1, 0.2, 0.1, 0.2],
    ...                    [0.2, 0.2, 0.3, 0.3, 0.3],
    ...                    [0.4, 0.3, 0.4, 0.4, 0.4],
    ...                    [0.5, 0.4, 0.5, 0.5, 0.5],
    ...                    [0.6, 0.5, 0.6, 0.6, 0.6]])
    >>> float(leaderboard_rank(scores)[0])
    2.6
    >>> leaderboard_rank([[1.0], [1.0], [3.0]]).tolist()   # ties share the lower rank
    [1.0, 1.0, 3.0]
    """
    x = _table(table)
    greater = _directions(greater_is_better, x.shape[1])
    oriented = np.where(greater, -x, x)
    ranks = np.empty_like(oriented)
    for j in range(x.shape[1]):
        column = oriented[:, j]
        # rank "min": one plus the number of entries strictly better
        ranks[:, j] = 1 + np.searchsorted(np.sort(column), column, side="left")
    return ranks.mean(axis=1)
