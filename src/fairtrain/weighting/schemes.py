"""Loss weights over groups: `group_weights`, `sample_weights`, `class_weight` and the schemes."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from numbers import Real
from typing import Any

import numpy as np

from fairtrain import registry
from fairtrain._validation import InstanceOf, Interval, param_error, validate_params
from fairtrain.groups import Groups, as_groups

__all__ = [
    "balanced",
    "class_weight",
    "effective_number",
    "group_weights",
    "inverse",
    "reweighing",
    "sample_weights",
    "sqrt_inverse",
]

Scheme = Callable[..., np.ndarray]


# ---------------------------------------------------------------------- schemes
# A scheme maps a table of cell counts to a table of cell weights of the same shape.
# The table is 1-D (one entry per group) or 2-D (groups x labels) when labels are given;
# empty cells (count 0) get weight 0. A third-party scheme has the same signature and
# is registered under the entry-point group ``fairtrain.weights``.


def _check_counts(counts: Any) -> np.ndarray:
    table = np.asarray(counts)
    if table.ndim not in (1, 2) or table.size == 0:
        raise ValueError(
            f"`counts` must be a non-empty 1-D or 2-D table of cell counts; got shape "
            f"{table.shape}."
        )
    if table.dtype.kind not in "iuf" or np.any(~np.isfinite(table)) or np.any(table < 0):
        raise ValueError(
            f"`counts` must hold finite non-negative numbers; got {table.tolist()!r}."
        )
    if table.sum() <= 0:
        raise ValueError("`counts` must hold at least one example; all cells are empty.")
    return table.astype(np.float64)


_POSITIVE = [Interval(Real, 0, None, closed="neither")]
#: The options every front end (group_weights, sample_weights, class_weight) shares.
WEIGHT_PARAMS: dict[str, Any] = {
    "scheme": [InstanceOf(str, "a registered scheme name"), "callable"],
    "normalize": ["boolean"],
    "clip": [*_POSITIVE, None],
}


def balanced(counts: Any) -> np.ndarray:
    """Balanced weights: every non-empty cell gets the same total weight.

    Parameters
    ----------
    counts : array-like of int, shape (k_all,) or (n_groups, n_labels)
        Examples per cell.

    Returns
    -------
    ndarray of float64, same shape as ``counts``
        ``N / (k · n_g)`` for every non-empty cell, 0 for empty cells.

    Notes
    -----
    ``w_g = N / (k · n_g)`` with ``N = Σ_g n_g`` and ``k`` the number of non-empty
    cells: the same rule as scikit-learn's
    ``compute_class_weight("balanced")``, ``n_samples / (n_classes * np.bincount(y))``.
    Every cell's total weight ``n_g · w_g`` is ``N / k`` and the mean weight over
    examples is 1.

    Examples
    --------
    >>> from fairtrain.weighting import balanced
    >>> balanced([6, 2, 0]).tolist()
    [0.6666666666666666, 2.0, 0.0]
    """
    table = _check_counts(counts)
    nonempty = table > 0
    k = int(nonempty.sum())
    out = np.zeros_like(table)
    out[nonempty] = table.sum() / (k * table[nonempty])
    return out


@validate_params({"c": _POSITIVE})
def inverse(counts: Any, *, c: float = 1.0) -> np.ndarray:
    """Inverse-frequency weights ``N / (c · n_g)``.

    Parameters
    ----------
    counts : array-like of int, shape (k_all,) or (n_groups, n_labels)
        Examples per cell.
    c : float, default 1.0
        A positive constant. ``c=2`` gives the ``N / (2 · n_g)`` of the apparent-age
        experiment; ``c=k`` (the number of non-empty cells) gives :func:`balanced`.

    Returns
    -------
    ndarray of float64, same shape as ``counts``
        ``N / (c · n_g)`` for every non-empty cell, 0 for empty cells.

    Raises
    ------
    ValueError
        If ``c`` is not a positive finite number.

    Notes
    -----
    ``w_g = N / (c · n_g)`` with ``N = Σ_g n_g``. The mean weight over examples is
    ``k / c``.

    Examples
    --------
    >>> from fairtrain.weighting import inverse
    >>> inverse([6, 2], c=2).tolist()
    [0.6666666666666666, 2.0]
    """
    table = _check_counts(counts)
    out = np.zeros_like(table)
    nonempty = table > 0
    out[nonempty] = table.sum() / (c * table[nonempty])
    return out


def sqrt_inverse(counts: Any, *, c: float = 1.0) -> np.ndarray:
    """Square-root inverse-frequency weights ``sqrt(N / (c · n_g))``.

    A milder correction than :func:`inverse`: a cell 100 times rarer gets 10 times the
    weight, not 100 times.

    Parameters
    ----------
    counts : array-like of int, shape (k_all,) or (n_groups, n_labels)
        Examples per cell.
    c : float, default 1.0
        A positive constant under the square root.

    Returns
    -------
    ndarray of float64, same shape as ``counts``
        ``sqrt(N / (c · n_g))`` for every non-empty cell, 0 for empty cells.

    Raises
    ------
    ValueError
        If ``c`` is not a positive finite number.

    Notes
    -----
    ``w_g = sqrt(N / (c · n_g))`` with ``N = Σ_g n_g``.

    Examples
    --------
    >>> from fairtrain.weighting import sqrt_inverse
    >>> sqrt_inverse([75, 25]).tolist()
    [1.1547005383792515, 2.0]
    """
    return np.sqrt(inverse(counts, c=c))


@validate_params(
    {"beta": [Interval(Real, 0, 1, closed="left")]},
    hints={"beta": "Cui et al. use 0.9 to 0.9999."},
)
def effective_number(counts: Any, *, beta: float = 0.999) -> np.ndarray:
    """Class-balanced weights from the effective number of samples (Cui et al., 2019).

    Parameters
    ----------
    counts : array-like of int, shape (k_all,) or (n_groups, n_labels)
        Examples per cell.
    beta : float, default 0.999
        In ``[0, 1)``. ``beta=0`` gives weight 1 everywhere; ``beta → 1`` approaches
        weights proportional to ``1 / n_g``.

    Returns
    -------
    ndarray of float64, same shape as ``counts``
        The normalised weights below for every non-empty cell, 0 for empty cells.

    Raises
    ------
    ValueError
        If ``beta`` is not in ``[0, 1)``.

    Notes
    -----
    The effective number of a cell is ``E_g = (1 - beta**n_g) / (1 - beta)``; the raw
    weight is its inverse ``(1 - beta) / (1 - beta**n_g)``, and, as in the paper, the
    weights are scaled so that they sum to ``k``, the number of non-empty cells:
    ``w_g = k · r_g / Σ_h r_h`` with ``r_g = (1 - beta) / (1 - beta**n_g)``.

    References
    ----------
    Y. Cui, M. Jia, T.-Y. Lin, Y. Song, S. Belongie, "Class-Balanced Loss Based on
    Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> from fairtrain.weighting import effective_number
    >>> effective_number([1, 3], beta=0.5).tolist()
    [1.2727272727272727, 0.7272727272727272]
    >>> effective_number([1, 3], beta=0.0).tolist()
    [1.0, 1.0]
    """
    table = _check_counts(counts)
    nonempty = table > 0
    raw = (1.0 - beta) / -np.expm1(table[nonempty] * np.log(beta)) if beta > 0 else 1.0
    out = np.zeros_like(table)
    out[nonempty] = raw
    out[nonempty] *= nonempty.sum() / out[nonempty].sum()
    return out


def reweighing(counts: Any) -> np.ndarray:
    """Reweighing (Kamiran and Calders, 2012): make groups and labels independent.

    Parameters
    ----------
    counts : array-like of int, shape (n_groups, n_labels)
        Examples per (group, label) cell. Needs labels: pass ``labels=`` to
        :func:`group_weights` or :func:`sample_weights`.

    Returns
    -------
    ndarray of float64, shape (n_groups, n_labels)
        ``P(g) · P(y) / P(g, y)`` for every non-empty cell, 0 for empty cells.

    Raises
    ------
    ValueError
        If ``counts`` is not a 2-D (group x label) table.

    Notes
    -----
    ``w_{g,y} = P(g) · P(y) / P(g, y) = n_g · n_y / (N · n_{g,y})``. In the weighted
    data every non-empty cell's weight total is ``n_g · n_y / N``; when every
    (group, label) cell has examples, the weighted joint distribution is therefore
    the product of the marginals, ``P_w(g, y) = P(g) · P(y)``. An empty cell's share
    ``P(g) · P(y)`` cannot be given to any example: check the cells first when
    independence must be exact.

    References
    ----------
    F. Kamiran, T. Calders, "Data preprocessing techniques for classification without
    discrimination", Knowledge and Information Systems 33, 2012.

    Examples
    --------
    >>> from fairtrain.weighting import reweighing
    >>> reweighing([[3, 1], [1, 3]]).tolist()
    [[0.6666666666666666, 2.0], [2.0, 0.6666666666666666]]
    """
    table = np.asarray(counts)
    if table.ndim != 2:
        raise ValueError(
            f"`reweighing` needs a (group x label) count table; got shape {table.shape}. "
            "Pass `labels=` to group_weights / sample_weights."
        )
    table = _check_counts(table)
    n = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    out = np.zeros_like(table)
    nonempty = table > 0
    out[nonempty] = expected[nonempty] / table[nonempty]
    return out


# ---------------------------------------------------------------------- front end
def _resolve(scheme: str | Scheme) -> tuple[str, Scheme]:
    if isinstance(scheme, str):
        return scheme, registry.get("weights", scheme)
    return getattr(scheme, "__name__", repr(scheme)), scheme  # a callable: checked


def _encode_labels(labels: Any, n: int) -> tuple[np.ndarray, list[Any]]:
    """Return (label code per example, label values) for discrete labels."""
    values = np.asarray(labels)
    if values.ndim != 1:
        raise ValueError(
            f"`labels` must be one label per example, shape ({n},); got shape "
            f"{values.shape}. For one-hot labels pass labels.argmax(axis=1)."
        )
    if values.shape[0] != n:
        raise ValueError(
            f"`labels` must have one entry per example ({n}); got {values.shape[0]}. "
            "Pass the labels of the same examples as `groups`."
        )
    if values.dtype.kind == "f":
        if np.any(np.isnan(values)):
            raise ValueError(
                f"`labels` holds {int(np.isnan(values).sum())} NaN value(s); remove or "
                "impute them first."
            )
        if np.any(values != np.round(values)):
            raise ValueError(
                "`labels` must be discrete (class labels); got non-integer floats. "
                "Bin continuous targets first, e.g. with fairtrain.bins."
            )
    uniques, codes = np.unique(values, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), [u.item() for u in uniques]


def _weights_table(
    groups: Groups,
    scheme: str | Scheme,
    labels: Any,
    normalize: bool,
    clip: float | None,
    params: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Any] | None]:
    """Return (weights, counts, per-example cell index, label values); options checked."""
    name, fn = _resolve(scheme)
    codes = groups.codes
    included = codes >= 0
    if not included.any():
        raise ValueError("`groups` has no included example (every code is -1).")
    if labels is None:
        counts = groups.counts
        cell = codes.astype(np.int64)
        label_values = None
    else:
        label_codes, label_values = _encode_labels(labels, len(groups))
        n_labels = len(label_values)
        counts = np.zeros((groups.n_groups, n_labels), dtype=np.int64)
        np.add.at(counts, (codes[included], label_codes[included]), 1)
        cell = np.where(included, codes.astype(np.int64) * n_labels + label_codes, -1)
    try:
        inspect.signature(fn).bind(counts, **params)
    except TypeError as exc:
        raise TypeError(
            f"The weight scheme {name!r} does not accept the options {sorted(params)}: "
            f"{exc}. See its docstring for its parameters."
        ) from exc
    except ValueError:  # no signature to inspect (a builtin): let the call decide
        pass
    table = np.asarray(fn(counts, **params), dtype=np.float64)
    if table.shape != counts.shape:
        raise ValueError(
            f"The weight scheme {name!r} must return one weight per cell, shape "
            f"{counts.shape}; got shape {table.shape}."
        )
    used = counts > 0
    bad = used & ~(np.isfinite(table) & (table >= 0))
    if bad.any():
        raise ValueError(
            f"The weight scheme {name!r} returned negative, NaN or infinite weights for "
            f"{int(bad.sum())} non-empty cell(s), e.g. {table[bad][:3].tolist()}. A "
            "weight must be a finite number >= 0; fix the scheme."
        )
    table = np.where(used, table, 0.0)
    if normalize:
        total = float((table * counts).sum())
        if total <= 0:
            raise ValueError(
                f"Cannot normalize: the weight scheme {name!r} gave every example weight 0."
            )
        table = table * (counts.sum() / total)
    if clip is not None:
        table = np.minimum(table, clip)
    return table, counts, cell, label_values


def _cell_names(groups: Groups, label_values: list[Any] | None) -> list[str]:
    """The name of every cell, in table order: the group's, or its (group, label) pair's.

    A (group, label) cell is named as :meth:`Groups.from_columns` names the cell of the
    attributes plus a ``label`` column: ``"gender=f|label=1"``.
    """
    if label_values is None:
        return list(groups.names)
    stems = (
        [f"{groups.attributes[0]}={name}" for name in groups.names]
        if len(groups.attributes) == 1
        else list(groups.names)
    )
    return [f"{stem}|label={label}" for stem in stems for label in label_values]


@validate_params(WEIGHT_PARAMS)
def group_weights(
    groups: Any = None,
    *,
    scheme: str | Scheme = "balanced",
    labels: Any = None,
    normalize: bool = False,
    clip: float | None = None,
    sensitive_features: Any = None,
    **params: Any,
) -> dict[str, float]:
    """The weight of every cell, by name.

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        The groups (anything :func:`fairtrain.groups.as_groups` takes). Examples with
        code ``-1`` are excluded (weight 0).
    scheme : str or callable, default "balanced"
        A scheme registered under ``fairtrain.weights`` (built in: ``"balanced"``,
        ``"inverse"``, ``"sqrt_inverse"``, ``"effective_number"``, ``"reweighing"``),
        resolved with :func:`fairtrain.registry.get`, or a callable with the same
        signature: ``scheme(counts, **params) -> weights`` of the shape of ``counts``.
    labels : array-like, shape (n,), optional
        Discrete labels. When given, the cells are the (group, label) pairs. Required
        by ``"reweighing"``.
    normalize : bool, default False
        Scale the weights so that their mean over the included examples is 1.
    clip : float, optional
        Positive upper bound applied after ``normalize``; the mean can then fall below 1.
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.
    **params
        Options of the scheme, e.g. ``c=2`` for ``"inverse"``, ``beta=0.99`` for
        ``"effective_number"``.

    Returns
    -------
    dict of str to float
        ``{cell name: weight}`` for every cell in code order, an empty cell with 0.0
        (as :func:`class_weight` gives an empty class). Without ``labels`` the cells are
        the groups (``groups.names``); with ``labels`` they are the (group, label)
        pairs, named as :meth:`fairtrain.Groups.from_columns` names the cells of the
        attributes plus a ``label`` column (``"gender=f|label=1"``), group-major.

    Raises
    ------
    TypeError
        If an option has the wrong type, or the scheme rejects ``params``.
    ValueError
        If the scheme name is unknown, ``labels`` does not have one discrete entry per
        example, ``clip`` is not positive, or the scheme returns a negative, NaN or
        infinite weight for a non-empty cell.

    Notes
    -----
    With ``normalize=True`` the table ``w`` becomes ``w · N / Σ_c n_c w_c`` (``N`` the
    number of included examples), then ``min(w, clip)``.

    Examples
    --------
    >>> import fairtrain as ft
    >>> g = ft.Groups.from_columns({"gender": ["f", "m", "m", "m"]})
    >>> ft.group_weights(g)
    {'f': 2.0, 'm': 0.6666666666666666}
    >>> ft.group_weights(g, scheme="inverse", c=2)
    {'f': 2.0, 'm': 0.6666666666666666}
    >>> ft.group_weights(g, scheme="reweighing", labels=[1, 0, 1, 1])
    {'gender=f|label=0': 0.0, 'gender=f|label=1': 0.75, 'gender=m|label=0': 0.75, \
'gender=m|label=1': 1.125}
    """
    groups = as_groups(groups, sensitive_features=sensitive_features)
    table, _, _, label_values = _weights_table(groups, scheme, labels, normalize, clip, params)
    return dict(zip(_cell_names(groups, label_values), map(float, table.reshape(-1))))


@validate_params(WEIGHT_PARAMS)
def sample_weights(
    groups: Any = None,
    *,
    scheme: str | Scheme = "balanced",
    labels: Any = None,
    normalize: bool = False,
    clip: float | None = None,
    sensitive_features: Any = None,
    **params: Any,
) -> np.ndarray:
    """The weight of every example, for ``model.fit(..., sample_weight=...)``.

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        The groups. Examples with code ``-1`` get weight 0.
    scheme, labels, normalize, clip, sensitive_features, **params
        As in :func:`group_weights`.

    Returns
    -------
    ndarray of float64, shape (n,)
        Each example's cell weight.

    Raises
    ------
    TypeError, ValueError
        As in :func:`group_weights`.

    Notes
    -----
    ``w_i = W[cell(i)]`` with ``W`` the table of :func:`group_weights`. For a
    multi-output model, give each output its own array:
    ``sample_weight={"age": w, "gender": w}``; Keras' ``class_weight`` cannot do that.

    Examples
    --------
    >>> import fairtrain as ft
    >>> g = ft.Groups.from_columns({"gender": ["f", "m", "m", "m"]})
    >>> ft.sample_weights(g).tolist()
    [2.0, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666]
    >>> ft.sample_weights(g, scheme="inverse", normalize=True, clip=1.5).tolist()
    [1.5, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666]
    """
    groups = as_groups(groups, sensitive_features=sensitive_features)
    table, _, cell, _ = _weights_table(groups, scheme, labels, normalize, clip, params)
    flat = table.reshape(-1)
    return np.where(cell >= 0, flat[np.maximum(cell, 0)], 0.0)


def _class_groups(groups: Any, sensitive_features: Any) -> Groups:
    """The classes as groups: integer class labels as codes, or groups named 0..k-1."""
    value = groups if groups is not None else sensitive_features
    if not isinstance(value, Groups) and not (
        isinstance(value, Mapping) or hasattr(value, "columns")
    ):
        arr = np.asarray(value) if value is not None else None
        if arr is not None and arr.ndim == 1 and arr.dtype.kind in "biuf":
            if arr.dtype.kind not in "iu" or arr.size == 0 or arr.min() < 0:
                raise param_error(
                    "groups", value, "non-negative integer class labels, at least one",
                    hint="For one-hot labels pass y.argmax(axis=1).",
                )
            as_groups(groups, sensitive_features=sensitive_features)  # one of the two
            return Groups.from_codes(arr)
    groups = as_groups(groups, sensitive_features=sensitive_features)
    labels = [_as_number(n) for n in groups.names]
    # groups named by numeric labels ("2", or "2.0" from a float column) are the
    # labels' classes only if the labels are the codes 0, 1, ...: from_columns numbers
    # the classes present, so a missing class would shift the weights onto other keys
    if labels and None not in labels and labels != list(range(len(labels))):
        raise ValueError(
            f"The groups are named by numeric labels {list(groups.names)[:10]} but their "
            "codes are not those class indices (from_columns numbers the classes present "
            "0, 1, ...), so Keras would give a class another class's weight. Pass the "
            "integer class labels themselves: class_weight(y.astype(int))."
        )
    return groups


def _as_number(name: str) -> float | None:
    """The number a group name spells ("2", "2.0", "0.5"), or None if it is a word."""
    try:
        return float(name)
    except ValueError:
        return None


@validate_params(WEIGHT_PARAMS)
def class_weight(
    groups: Any = None,
    *,
    scheme: str | Scheme = "balanced",
    normalize: bool = False,
    clip: float | None = None,
    sensitive_features: Any = None,
    **params: Any,
) -> dict[int, float]:
    """The ``class_weight`` dict Keras ``fit`` takes, when the groups are the classes.

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of int, shape (n,)
        The groups, whose codes must be the class indices of ``y`` (e.g. the ethnicity
        classifier, where the label is the group), or the integer class labels
        themselves (then class ``c`` is code ``c``, and a class with no example in
        between gets 0.0). A mapping or DataFrame of columns is made into groups as
        everywhere (:func:`fairtrain.groups.as_groups`).
    scheme, normalize, clip, sensitive_features, **params
        As in :func:`group_weights` (without labels: the cells are the classes).

    Returns
    -------
    dict of int to float
        ``{class index: weight}`` for every class ``0 .. n_groups - 1``; a class with no
        example gets 0.0. Keras' format: :func:`group_weights` gives the same weights
        keyed by group name.

    Raises
    ------
    TypeError, ValueError
        As in :func:`group_weights`, or if integer class labels are not a non-empty
        1-D array of non-negative integers, or if groups named by numeric labels
        (``"2"``, or ``"2.0"`` from a float column) are not named by their codes
        ``0 .. n_groups - 1`` (a class missing in between, or labels that are not
        class indices).

    Notes
    -----
    Keras applies ``class_weight`` to single-output models only; for (group, label)
    cells or multi-output models use :func:`sample_weights`.

    Examples
    --------
    >>> import fairtrain as ft
    >>> ft.class_weight([0, 1, 1, 1])
    {0: 2.0, 1: 0.6666666666666666}
    >>> ft.class_weight({"ethnicity": [0, 1, 1, 1]})
    {0: 2.0, 1: 0.6666666666666666}
    """
    groups = _class_groups(groups, sensitive_features)
    table, _, _, _ = _weights_table(groups, scheme, None, normalize, clip, params)
    return {i: float(w) for i, w in enumerate(table)}
