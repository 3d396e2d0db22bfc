"""`check_weight_scheme`: test a weight-scheme plugin the way fairtrain tests its built-ins."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Integral
from typing import Any

import numpy as np

from fairtrain._validation import Interval, check
from fairtrain.groups import Groups
from fairtrain.weighting import sample_weights

__all__ = ["check_weight_scheme"]


def check_weight_scheme(
    scheme: str | Callable[..., Any],
    *,
    params: Mapping[str, Any] | None = None,
    needs_labels: bool = False,
    seed: int = 0,
) -> None:
    """Check that a weight scheme keeps the contract of the ``fairtrain.weights`` kind.

    The contract of an entry point in the ``fairtrain.weights`` group: it names a
    callable ``scheme(counts, **params) -> weights``. ``counts`` is a table of
    non-negative example counts, 1-D ``(n_groups,)``, or 2-D ``(n_groups, n_labels)``
    when labels are given; the result has the same shape and holds a finite weight
    ``>= 0`` for every non-empty cell (empty cells' weights are ignored). fairtrain calls
    it once per :func:`~fairtrain.weighting.group_weights`,
    :func:`~fairtrain.weighting.sample_weights` or :func:`~fairtrain.weighting.class_weight`
    call, and gives example ``i`` the weight of its cell.

    Parameters
    ----------
    scheme : str or callable
        A registered scheme name (checked through the registry, as users will find it)
        or the scheme itself.
    params : mapping, optional
        Options passed to the scheme.
    needs_labels : bool, default False
        The scheme takes only (group x label) tables (as ``reweighing`` does).
    seed : int, default 0
        Seed of the test tables.

    Raises
    ------
    AssertionError
        Naming the first check that failed and what was seen.

    Notes
    -----
    The checks: the weights have the table's shape and are finite and ``>= 0`` on
    non-empty cells; the scheme leaves ``counts`` unchanged and returns the same
    weights on a second call; a cell's weight depends on the counts, not on the cell's
    position (permuting the cells permutes the weights); and
    :func:`~fairtrain.weighting.sample_weights` gives every example its cell's weight.

    Examples
    --------
    >>> import numpy as np
    >>> from fairtrain.testing import check_weight_scheme
    >>> def log_inverse(counts):
    ...     counts = np.asarray(counts, dtype=float)
    ...     out = np.zeros_like(counts)
    ...     out[counts > 0] = 1 + np.log(counts.sum() / counts[counts > 0])
    ...     return out
    >>> check_weight_scheme(log_inverse)
    """
    kwargs = dict(params or {})
    func, name = _resolve(scheme)
    seed = check("seed", seed, Interval(Integral, 0, None))
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    shape = (5, 3) if needs_labels else (6,)
    counts = rng.integers(1, 50, size=shape)
    counts.flat[0] = 0  # an empty cell: its weight may be anything, it is ignored
    weights = _check_table(func, name, kwargs, counts, rng)
    _check_sample_weights(scheme, name, kwargs, counts, weights, needs_labels=needs_labels)


def _fail(name: str, check: str, detail: str) -> None:
    """Raise AssertionError naming the scheme, the failed check and what was seen."""
    raise AssertionError(f"check_weight_scheme({name!r}) failed '{check}': {detail}")


def _resolve(scheme: str | Callable[..., Any]) -> tuple[Callable[..., Any], str]:
    """The scheme function (through the registry for a name) and the name to report."""
    name = scheme if isinstance(scheme, str) else getattr(scheme, "__name__", repr(scheme))
    if isinstance(scheme, str):
        from fairtrain import registry

        func = registry.get("weights", scheme)
    else:
        func = scheme
    if not callable(func):
        _fail(name, "is callable", f"got {type(func).__name__}")
    return func, name


def _check_table(func: Callable[..., Any], name: str, kwargs: dict[str, Any],
                 counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shape, finite non-negative, counts untouched, deterministic, position-free.

    Returns the weights of ``counts``.
    """
    shape = counts.shape
    before = counts.copy()
    weights = np.asarray(func(counts, **kwargs), dtype=np.float64)
    if weights.shape != counts.shape:
        _fail(name, "one weight per cell",
              f"counts shape {counts.shape}, weights {weights.shape}")
    used = counts > 0
    if not (np.isfinite(weights[used]).all() and (weights[used] >= 0).all()):
        _fail(name, "finite, non-negative weights", f"got {weights.tolist()}")
    if not np.array_equal(counts, before):
        _fail(name, "leaves counts unchanged", "counts was modified in place")
    again = np.asarray(func(counts.copy(), **kwargs), dtype=np.float64)
    if not np.allclose(again[used], weights[used], rtol=1e-12, atol=0):
        _fail(name, "deterministic", f"{weights.tolist()} then {again.tolist()}")
    order = rng.permutation(shape[0])
    permuted = np.asarray(func(counts[order], **kwargs), dtype=np.float64)
    if not np.allclose(permuted[used[order]], weights[order][used[order]], rtol=1e-9):
        _fail(name, "depends on the counts, not the cell's position",
              f"cells {order.tolist()}: {permuted.tolist()} vs {weights[order].tolist()}")
    return weights


def _check_sample_weights(scheme: Any, name: str, kwargs: dict[str, Any], counts: np.ndarray,
                          weights: np.ndarray, *, needs_labels: bool) -> None:
    """Through the front end, as users call it: each example gets its cell's weight."""
    shape = counts.shape
    codes = np.repeat(np.arange(shape[0]), counts.sum(axis=1) if needs_labels else counts)
    groups = Groups.from_codes(codes, [f"g{i}" for i in range(shape[0])])
    labels = None
    if needs_labels:
        labels = np.concatenate([np.repeat(np.arange(shape[1]), row) for row in counts])
    per_example = sample_weights(groups, scheme=scheme, labels=labels, **kwargs)
    expected = weights[codes, labels] if needs_labels else weights[codes]
    if not np.allclose(per_example, expected):
        _fail(name, "sample_weights gives every example its cell's weight",
              f"{per_example[:5].tolist()} vs {expected[:5].tolist()}")
