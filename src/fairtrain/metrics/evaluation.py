"""`evaluate`: a model's per-group metrics over a dataset, streamed batch by batch."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator, Mapping
from numbers import Integral
from typing import Any, Literal

import numpy as np

from fairtrain._validation import Interval, check
from fairtrain.groups import as_groups
from fairtrain.metrics.spec import GroupSpec, as_groups_or_spec
from fairtrain.metrics.streaming import (
    STREAMABLE,
    GroupAccumulator,
    _resolve,
    sum_across_processes,
)

__all__ = ["evaluate"]

Carries = Literal["codes", "index", "order"]
_ELEMENT = {
    "codes": "(x, y, group_codes) or (x, y, group_codes, sample_weight)",
    "index": "(x, y, example_index) or (x, y, example_index, sample_weight)",
    "order": "(x, y) or (x, y, sample_weight)",
}


def batches(dataset: Any, steps: int | None = None, *, who: str = "evaluate") -> Iterator[Any]:
    """The batches of one pass over a dataset, as NumPy where the dataset is tf.data.

    A ``tf.data.Dataset`` (read with ``as_numpy_iterator``, so that every Keras backend
    takes the batches), a Keras ``PyDataset`` or any object with ``__len__`` and
    ``__getitem__`` (``dataset[i]`` for ``i < len``), or any other iterable of
    batches. ``steps`` stops after that many batches. TensorFlow and Keras are never
    imported here: a tf.data dataset is recognised by its module.
    """
    if isinstance(dataset, np.ndarray):
        raise TypeError(
            f"{who} takes a dataset of batches (tf.data.Dataset, PyDataset, or an iterable "
            "of tuples), not an array."
        )
    module = type(dataset).__module__ or ""
    if module.startswith("tensorflow") and hasattr(dataset, "as_numpy_iterator"):
        if steps is None and int(dataset.cardinality()) == -1:  # tf.data.INFINITE_CARDINALITY
            raise ValueError(
                f"The dataset repeats forever; pass steps=<batches in one pass> to {who}, "
                "or drop its .repeat()."
            )
        it: Iterator[Any] = dataset.as_numpy_iterator()
    elif hasattr(dataset, "__getitem__") and (
        hasattr(dataset, "num_batches") or hasattr(dataset, "__len__")
    ):
        n = dataset.num_batches if hasattr(dataset, "num_batches") else len(dataset)
        if n is None and steps is None:
            raise ValueError(
                f"The PyDataset has no length (num_batches is None); pass steps=<batches "
                f"in one pass> to {who}."
            )
        count = steps if n is None else n if steps is None else min(n, steps)
        it = (dataset[i] for i in range(count))
    elif hasattr(dataset, "__iter__"):
        it = iter(dataset)
    else:
        raise TypeError(
            f"{who} takes a tf.data.Dataset, a keras.utils.PyDataset or an iterable of "
            f"batches; got {type(dataset).__name__}."
        )
    return it if steps is None else itertools.islice(it, steps)


def _unpack(element: Any, carries: str, i: int) -> tuple[Any, Any, Any, Any]:
    """``(x, y, groups or None, sample_weight or None)`` of one dataset element."""
    sizes = (3, 4) if carries in ("codes", "index") else (2, 3)
    if not isinstance(element, (tuple, list)) or len(element) not in sizes:
        got = (f"a tuple of {len(element)}" if isinstance(element, (tuple, list))
               else type(element).__name__)
        hint = (" (to match examples to the groups by position, pass carries='order')"
                if carries != "order" else
                " (to read group codes from the batches, pass carries='codes')")
        raise ValueError(
            f"With carries={carries!r}, every batch must be {_ELEMENT[carries]}; batch {i} "
            f"is {got}{hint}."
        )
    if carries == "order":
        return element[0], element[1], None, element[2] if len(element) == 3 else None
    return element[0], element[1], element[2], element[3] if len(element) == 4 else None


def _predict(model: Any, x: Any, transform: Callable[[Any], Any] | None, i: int) -> np.ndarray:
    """The model's predictions of batch ``i``, transformed, as one array."""
    y_pred = model.predict_on_batch(x)
    if transform is not None:
        y_pred = transform(y_pred)
    if isinstance(y_pred, (list, tuple, Mapping)):
        raise ValueError(
            f"The model returned {type(y_pred).__name__} outputs for batch {i}; evaluate "
            "scores one output: pass transform=lambda outputs: outputs[<which>]."
        )
    return np.asarray(y_pred)


def _infer_classes(y_pred: np.ndarray) -> int:
    """Classes from the predictions' shape: columns of scores, else 2 (one probability)."""
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        return int(y_pred.shape[1])
    return 2


def evaluate(
    model: Any, dataset: Any, *, groups: Any = None, metrics: Any = "mae",
    carries: Carries = "codes", n_classes: int | None = None,
    metric_kwargs: Mapping[str, Mapping[str, Any]] | None = None, steps: int | None = None,
    transform: Callable[[Any], Any] | None = None,
    reduce: bool | str | Callable[[np.ndarray], Any] = False, sensitive_features: Any = None,
) -> GroupAccumulator:
    """Per-group metrics of a model over a dataset, one batch in memory at a time.

    Every batch is predicted, added to a :class:`GroupAccumulator` and dropped; ``.result()``
    is the :class:`BiasReport` that ``model.predict`` + :func:`bias_report` give on the whole set.

    Parameters
    ----------
    model : keras.Model
        Anything with ``predict_on_batch(x)`` returning one array.
    dataset : tf.data.Dataset, keras.utils.PyDataset, or iterable of tuples
        A finite, batched dataset (``steps`` bounds an endless one), batches as ``carries`` says.
    groups : GroupSpec, Groups, or what bias_report takes as groups
        ``carries="codes"``: the groups' structure (a ``GroupSpec``, or a ``Groups`` whose
        structure is used). ``"index"`` and ``"order"``: the groups of every example of the
        dataset (a ``Groups`` or attribute columns).
    metrics : str, metric function, or sequence of them, default "mae"
        Streamable metrics (see :class:`GroupAccumulator`).
    carries : {"codes", "index", "order"}, default "codes"
        What ties a batch's examples to their groups: ``(x, y, group_codes)``, cell codes (b,)
        or attribute codes (b, n_attributes), any order; ``(x, y, index)``, the examples'
        positions in ``groups``; or ``(x, y)``, the examples of ``groups`` in order, exactly
        ``len(groups)`` of them. Each may end with ``sample_weight``, shape (b,) or (b, 1).
    n_classes : int, optional
        For classification; default: the output's columns, 2 for one (P(class 1)).
    metric_kwargs : mapping of str to mapping, optional
        Options of each metric, e.g. ``{"recall": {"average": "binary"}}``.
    steps : int, optional
        Stop after this many batches; required for an endless dataset.
    transform : callable, optional
        Applied to every batch's predictions before scoring (pick one output, rescale).
    reduce : bool, "auto" or callable, default False
        Sum the accumulators of every process (each evaluates its own shard and, to classify,
        passes ``n_classes``): ``True`` over JAX processes (:func:`sum_across_processes`),
        ``"auto"`` the same when ``jax.process_count() > 1``, a callable ``sum(vector) -> vector``.
    sensitive_features : optional
        fairlearn's name for ``groups`` (the same, a ``GroupSpec`` too); exactly one of two.

    Returns
    -------
    GroupAccumulator
        Call ``.result()`` (one metric) or ``.results()``; ``merge`` it with other shards'.

    Raises
    ------
    ValueError
        If a batch has not the shape ``carries`` says, the dataset yields no batch or is
        endless without ``steps``, an index is out of range, or (``"order"``) the dataset
        and ``groups`` differ in length; and :meth:`GroupAccumulator.update`'s errors.
    TypeError
        If ``model`` has no ``predict_on_batch``, ``dataset`` is not a dataset, not exactly
        one of ``groups`` and ``sensitive_features`` is given, or a ``GroupSpec`` comes
        without ``carries="codes"``.

    Examples
    --------
    >>> import keras, numpy as np
    >>> import fairtrain as ft
    >>> from fairtrain.metrics import bias_report, evaluate
    >>> x = np.linspace(-1, 1, 40).reshape(-1, 1).astype("float32")
    >>> y = (x[:, 0] > 0).astype(int)
    >>> groups = ft.Groups.from_columns({"sex": np.tile(["f", "m"], 20)})
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, "sigmoid")])
    >>> batches = [(x[i:i + 16], y[i:i + 16], groups.codes[i:i + 16]) for i in range(0, 40, 16)]
    >>> acc = evaluate(model, batches, groups=groups, metrics="accuracy")
    >>> streamed = acc.result(min_count=1)
    >>> in_memory = bias_report(y, model.predict(x, verbose=0), groups,
    ...                         metric="accuracy", min_count=1)
    >>> np.allclose(streamed["sex"].values, in_memory["sex"].values)
    True
    """
    groups, steps = _check_arguments(model, groups, carries, steps, reduce, sensitive_features)
    stream = _Stream(model, groups, metrics, carries, n_classes, metric_kwargs, transform)
    return _reduce(stream.run(batches(dataset, steps), empty_ok=reduce is not False), reduce)


def _check_arguments(
    model: Any, groups: Any, carries: str, steps: Any, reduce: Any, sensitive_features: Any
) -> tuple[Any, int | None]:
    """``(groups, steps)`` once every argument of :func:`evaluate` is checked."""
    if carries not in _ELEMENT:
        raise ValueError(f"`carries` must be 'codes', 'index' or 'order'; got {carries!r}.")
    if not hasattr(model, "predict_on_batch"):
        raise TypeError(
            f"`model` must have predict_on_batch (a keras.Model); got {type(model).__name__}."
        )
    # the one rule on groups (either name, not both), a GroupSpec where batches carry codes
    groups = as_groups_or_spec(groups, sensitive_features=sensitive_features, carries=carries)
    if steps is not None:
        steps = check("steps", steps, Interval(Integral, 1, None))
    if not (reduce is True or reduce is False or reduce == "auto" or callable(reduce)):
        raise ValueError(
            f"`reduce` must be True, False, 'auto' or a callable sum(vector) -> vector; "
            f"got {reduce!r}."
        )
    return groups, steps


def _spec_and_units(groups: Any, carries: str) -> tuple[GroupSpec, np.ndarray | None]:
    """The groups' structure, and every example's unit where batches do not carry codes."""
    if carries == "codes":
        spec = groups if isinstance(groups, GroupSpec) else GroupSpec.from_groups(
            as_groups(groups))
        return spec, None
    full = as_groups(groups)
    spec = GroupSpec.from_groups(full)
    # one unit per example: int32 halves the memory of the only O(n) array held
    return spec, spec.codes_to_units(full).astype(np.int32)


def _check_weights(w: Any, weighted: bool | None, i: int) -> tuple[Any, bool]:
    """``(w, weighted)``: batch ``i``'s weights as (b,), and whether every batch has them."""
    if w is not None and np.ndim(w) == 2 and np.shape(w)[1] == 1:
        w = np.asarray(w)[:, 0]  # (b, 1), as Keras and the in-memory path take them
    if weighted is None:
        return w, w is not None
    if weighted != (w is not None):
        raise ValueError(
            f"In the dataset, some batches carry sample weights and others do not "
            f"(batch {i} {'does not' if weighted else 'does'}); yield weights from every "
            "batch or from none."
        )
    return w, weighted


class _Stream:
    """One pass of a model over a dataset's batches into a :class:`GroupAccumulator`."""

    def __init__(
        self, model: Any, groups: Any, metrics: Any, carries: str, n_classes: int | None,
        metric_kwargs: Mapping[str, Mapping[str, Any]] | None,
        transform: Callable[[Any], Any] | None,
    ) -> None:
        self.model, self.carries, self.transform = model, carries, transform
        self.names = [metrics] if isinstance(metrics, str) or callable(metrics) else list(metrics)
        self.classify = any(STREAMABLE[_resolve(m)] == "classification" for m in self.names)
        self.n_classes, self.metric_kwargs = n_classes, metric_kwargs
        self.spec, self.units = _spec_and_units(groups, carries)

    def accumulator(self, n_classes: int | None) -> GroupAccumulator:
        """An empty accumulator of the metrics over the groups."""
        return GroupAccumulator(self.spec, metrics=self.names, metric_kwargs=self.metric_kwargs,
                                n_classes=n_classes)

    def run(self, batches: Iterator[Any], *, empty_ok: bool) -> GroupAccumulator:
        """The accumulator of every batch; ``empty_ok``: none at all gives an empty one."""
        acc: GroupAccumulator | None = None
        offset = 0
        weighted: bool | None = None
        for i, element in enumerate(batches):
            x, y, codes, w = _unpack(element, self.carries, i)
            w, weighted = _check_weights(w, weighted, i)
            y_pred = _predict(self.model, x, self.transform, i)
            if acc is None:
                acc = self.accumulator(
                    (self.n_classes or _infer_classes(y_pred)) if self.classify else None)
            offset = self.add(acc, i, (y, y_pred, codes, w), offset)
        if acc is None and empty_ok and (self.n_classes or not self.classify):
            # an empty shard still takes part in the sum (the other processes wait for it)
            acc = self.accumulator(self.n_classes if self.classify else None)
        if acc is None:
            raise ValueError("The dataset yielded no batch: there is nothing to evaluate.")
        if self.units is not None and self.carries == "order" and offset != len(self.units):
            raise ValueError(_order_message(str(offset), len(self.units)))
        return acc

    def add(self, acc: GroupAccumulator, i: int, batch: tuple[Any, ...], offset: int) -> int:
        """Add batch ``i`` to ``acc``; the examples matched by position so far."""
        y, y_pred, codes, w = batch
        units = self.units
        if units is None:
            acc.update(y, y_pred, codes, w)
        elif self.carries == "index":
            index = _check_index(codes, len(units), i)
            acc._add_units(y, y_pred, units[index], w)
        else:
            b = len(y)
            if offset + b > len(units):
                raise ValueError(_order_message(f"at least {offset + b}", len(units)))
            acc._add_units(y, y_pred, units[offset:offset + b], w)
            offset += b
        return offset


def _reduce(acc: GroupAccumulator, reduce: Any) -> GroupAccumulator:
    """``acc`` summed across processes as ``reduce`` says (False: as it is)."""
    if reduce is False:
        return acc
    if callable(reduce):
        return acc.allreduce(reduce)
    if reduce is True:
        return acc.allreduce(sum_across_processes)
    jax = sys.modules.get("jax")  # reduce == "auto", checked by evaluate
    return acc if jax is None or jax.process_count() == 1 else acc.allreduce()


def _check_index(index: Any, n: int, i: int) -> np.ndarray:
    """Batch ``i``'s example positions as a 1-D integer array within ``[0, n)``."""
    idx = np.asarray(index)
    if idx.ndim == 2 and idx.shape[1] == 1:
        idx = idx[:, 0]
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise ValueError(
            f"With carries='index', the third part of every batch holds the examples' "
            f"integer positions in `groups`, shape (b,); batch {i} has dtype {idx.dtype} "
            f"and shape {idx.shape}."
        )
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(
            f"Batch {i} holds the example index {int(idx[(idx < 0) | (idx >= n)][0])}, "
            f"outside the {n} examples of `groups`."
        )
    return idx


def _order_message(yielded: str, n: int) -> str:
    """The error for a dataset whose count of examples differs from the groups' (``"order"``)."""
    return (
        f"The dataset yielded {yielded} examples but `groups` has {n}; with carries='order' "
        "they are matched by position, so the dataset must be finite, unshuffled and hold "
        "exactly the grouped examples."
    )
