"""`GroupLossProbe`: per-group losses on a small stratified probe set, fed to adaptive consumers."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral
from typing import Any, Literal

import keras
import numpy as np

from fairtrain._validation import (
    HasMethods,
    InstanceOf,
    Interval,
    Options,
    caller_stacklevel,
    check,
    param_error,
    validate_params,
)
from fairtrain.callbacks._common import key_part, n_rows
from fairtrain.groups import Groups, as_groups
from fairtrain.metrics.streaming import sum_across_processes

__all__ = ["GroupLossProbe", "stratified_indices"]

#: What :meth:`GroupLossProbe.get_config` leaves out: the data and the consumers.
_LIVE = ("x", "y", "groups", "consumers")
_POSITIVE_INT = [Interval(Integral, 1, None)]
_SEED = [Interval(Integral, 0, None)]


@validate_params({"size": _POSITIVE_INT, "seed": _SEED})
def stratified_indices(
    groups: Any = None, size: int = 1024, *, seed: int = 0, sensitive_features: Any = None
) -> np.ndarray:
    """At most ``size`` example indices, as equal a number per group as the groups allow.

    Every group with examples gets ``min(n_g, m)`` of them, ``m`` the largest count
    such that the total stays within ``size`` (smaller groups are taken whole, the
    places they leave go to the larger ones; the places that do not divide evenly go
    to the groups in code order). Examples excluded from the groups (code ``-1``) are
    never taken.

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        The group of every example (anything :func:`fairtrain.groups.as_groups` takes).
    size : int, default 1024
        Maximum number of indices (at least 1).
    seed : int, default 0
        Which members of each group are taken.
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Returns
    -------
    ndarray of int64, sorted
        The chosen indices.

    Examples
    --------
    >>> stratified_indices([0] * 8 + [1] * 2 + [2] * 4, 6, seed=0).size
    6
    >>> import numpy as np
    >>> np.bincount(np.array([0] * 8 + [1] * 2 + [2] * 4)[stratified_indices(
    ...     [0] * 8 + [1] * 2 + [2] * 4, 8)]).tolist()
    [3, 2, 3]
    """
    codes = as_groups(groups, sensitive_features=sensitive_features).codes
    k = int(codes.max(initial=-1)) + 1
    counts = np.bincount(codes[codes >= 0], minlength=k)
    alloc = np.zeros(k, dtype=np.int64)
    left = min(size, int(counts.sum()))
    while left > 0:
        open_ = np.flatnonzero(alloc < counts)
        each = left // open_.size
        if each == 0:
            alloc[open_[:left]] += 1
            break
        add = np.minimum(counts[open_] - alloc[open_], each)
        alloc[open_] += add
        left -= int(add.sum())
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    parts = [
        rng.choice(np.flatnonzero(codes == g), size=int(alloc[g]), replace=False)
        for g in range(k)
        if alloc[g]
    ]
    return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.empty(0, np.int64)


def _take(x: Any, idx: np.ndarray) -> Any:
    if isinstance(x, Mapping):
        return {key: np.asarray(v)[idx] for key, v in x.items()}
    if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
        return type(x)(np.asarray(v)[idx] for v in x)
    return np.asarray(x)[idx]


def _consumer_codes(probe: Groups, consumers: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    """The probe examples' codes in the consumers' groups (matched by name), and names.

    Without a consumer that has groups, the probe's own codes and names.
    """
    known = [c.groups for c in consumers if isinstance(getattr(c, "groups", None), Groups)]
    if not known:
        return probe.codes, list(probe.names)
    names = list(known[0].names)
    for other in known[1:]:
        if list(other.names) != names:
            raise ValueError(
                f"The consumers' groups differ ({names} and {list(other.names)}); build "
                "them from the same Groups."
            )
    unknown = [n for n in probe.names if n not in names]
    if unknown:
        raise param_error(
            "groups",
            list(probe.names),
            f"named as the consumers' groups {names}",
            hint=f"{unknown} are not among them; build the probe's groups with the same "
            "Groups (e.g. train_groups.take(probe_idx)).",
        )
    position = {name: i for i, name in enumerate(names)}
    mapping = np.array([position[n] for n in probe.names], dtype=np.int32)
    codes = np.where(probe.codes >= 0, mapping[np.maximum(probe.codes, 0)], -1)
    return codes.astype(np.int32), names


def _warn_fixed_shares_beside_adaptive(consumers: Sequence[Any]) -> None:
    from fairtrain.sampling.adaptive import Adaptive
    from fairtrain.sampling.fairbatch import FairBatch
    from fairtrain.weighting.dro import GroupDRO

    moving = [c for c in consumers if isinstance(c, (Adaptive, FairBatch))]
    fixed_r = [
        c for c in consumers
        if isinstance(c, GroupDRO)
        and not (isinstance(c.batch_shares, str) and c.batch_shares == "batch")
    ]
    if moving and fixed_r:
        warnings.warn(
            "GroupLossProbe: a GroupDRO weighs examples by fixed batch shares while "
            "an Adaptive sampler moves its shares, so the weighted loss is not the "
            'DRO objective; build the GroupDRO with batch_shares="batch".',
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _local_predict(model: Any, x: Any, batch_size: int) -> np.ndarray:
    """Predict ``x`` with this process's copy of the replicated weights (JAX, no jit).

    Under a multi-process distribution, ``model.predict`` works on global arrays; a
    process reads its own replica of every variable instead and calls the model
    statelessly on its local examples.
    """

    def local(variable: Any) -> Any:
        value = variable.value
        if getattr(value, "is_fully_addressable", True):
            return value
        return np.asarray(value.addressable_data(0))

    trainable = [local(v) for v in model.trainable_variables]
    others = [local(v) for v in model.non_trainable_variables]
    n = n_rows(x, "x")
    out = []
    for start in range(0, n, batch_size):
        batch = _take(x, np.arange(start, min(n, start + batch_size)))
        y, _ = model.stateless_call(trainable, others, batch, training=False)
        out.append(keras.ops.convert_to_numpy(y))
    return np.concatenate(out) if out else np.empty((0,))


def _per_example(loss: Any) -> Callable[[Any, Any], Any]:
    """A function ``(y_true, y_pred) -> per-example losses`` for a Keras loss spec."""
    if isinstance(loss, keras.losses.Loss):
        return loss.call  # unreduced: Loss.__call__ reduces, Loss.call does not
    fn = keras.losses.get(loss)
    if isinstance(fn, keras.losses.Loss):
        return fn.call
    if not callable(fn):
        raise param_error(
            "loss", loss, "a Keras loss, its name or a callable", error=TypeError
        )
    return fn


def _check_loss_name(loss: Any) -> None:
    """Refuse a loss name or config that Keras does not know (the types are declared)."""
    if not isinstance(loss, (str, Mapping)):
        return
    try:
        keras.losses.get(loss)
    except ValueError:
        what = "name" if isinstance(loss, str) else "config"
        raise ValueError(
            f"`loss`={loss!r} is not a Keras loss {what}; use a name such as 'mse' or "
            "'binary_crossentropy' (see keras.losses), a Loss, or a callable "
            "loss(y_true, y_pred) -> per-example losses."
        ) from None


def _check_loss_target(consumer: Any, y: np.ndarray) -> None:
    """Refuse a ``loss_target`` that ``y`` cannot hold, or one-hot ``y`` for it."""
    target = getattr(consumer, "loss_target", None)
    if target is not None and y.ndim > 1 and y.shape[-1] > 1:
        raise ValueError(
            f"{type(consumer).__name__} scores every prediction against the label "
            f"{target!r} (loss_target), but `y` has one column per class (shape "
            f"{y.shape}), where that label is no target. Give the probe and the model "
            "integer labels, shape (n,) (e.g. y.argmax(axis=1), with "
            "sparse_categorical_crossentropy or one sigmoid output)."
        )
    if target is not None:
        try:
            np.full(1, target, dtype=y.dtype)
        except (TypeError, ValueError):
            raise ValueError(
                f"{type(consumer).__name__} scores every prediction against the label "
                f"{target!r} (loss_target, its positive=), which is not a value of `y` "
                f"(dtype {y.dtype}). Build the groups' label attribute from y itself "
                "(Groups.from_columns({'label': y, ...})) and pass positive= as y holds it."
            ) from None


def _check_class_indices(y_true: np.ndarray, pred_shape: tuple[int, ...]) -> None:
    """Refuse integer class labels that the model's outputs have no column for.

    A sparse loss would fail inside the backend with a message that names neither the
    probe nor its targets.
    """
    if y_true.dtype.kind not in "iu" or len(pred_shape) != y_true.ndim + 1 or not y_true.size:
        return
    n_classes = int(pred_shape[-1])
    bad = y_true[(y_true < 0) | (y_true >= n_classes)]
    if bad.size:
        raise ValueError(
            f"GroupLossProbe: `y` holds label {int(bad[0])}, outside the range [0, "
            f"{n_classes}) of the model's {n_classes} output classes ({bad.size} such "
            "label(s)). Give class indices that match the model's last layer (check the "
            "label encoding, or the number of output units)."
        )


class GroupLossProbe(keras.callbacks.Callback):
    """Measure per-group losses on a probe set and feed them to adaptive consumers.

    One measurement, any number of consumers: an :class:`~fairtrain.sampling.Adaptive`
    sampler (its shares), a :class:`~fairtrain.GroupDRO` (its loss weights), or any
    object with ``update(group_losses, *, epoch)``. The probe set is a stratified
    subsample of at most ``size`` examples (:func:`stratified_indices`: small groups
    whole, large groups cut to the same count), predicted with ``model.predict``,
    so it works under every Keras backend. Under a Keras distribution across several
    (JAX) processes, each process measures its share of the probe set and one
    all-reduce gives every process the same losses (see :meth:`on_train_begin`).

    Logs (epoch logs, so ``History``, ``CSVLogger`` and ``EarlyStopping`` see them):
    ``group_loss_<group>`` the measured losses (NaN before the first measurement),
    ``share_<group>`` an adaptive
    sampler's shares for the next epoch, ``dro_weight_<group>`` and ``dro_step_size``
    a GroupDRO's weights and step size (``<group>`` is the group name with characters
    other than letters, digits, ``_ . = -`` replaced by ``_``), and whatever a
    consumer's ``log_values()`` returns: scalars under their own key, per-group
    arrays as ``<key>_<group>`` (a :class:`~fairtrain.sampling.FairBatch`:
    ``fairbatch_alpha``, ``fairbatch_step``, ``fairbatch_loss_<group>``).

    Parameters
    ----------
    x : array-like (n, ...), or list or dict of such arrays
        Probe inputs: training or validation examples (never test examples).
    y : array-like (n, ...)
        Their targets.
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        Their groups (anything :func:`fairtrain.groups.as_groups` takes), matched to
        the consumers' groups by name: ``train_groups.take(idx)``, or columns of the
        same attributes and labels. A name the consumers do not have is an error.
    consumers : sequence
        Objects with ``update(group_losses, *, epoch)``.
    loss : str, keras.losses.Loss, dict or callable, optional
        Per-example loss: a Keras loss name, a ``Loss`` (or its serialised config), or
        a callable ``loss(y_true, y_pred)``; default the model's compiled loss.
    size : int, default 1024
        Most probe examples used.
    every : int, default 1
        Measure and update every that many epochs (at the end of epochs ``0, every,
        2 * every, ...``), or, with ``unit="step"``, every that many training
        batches. ``every`` counts epochs wherever fairtrain takes it
        (:class:`BiasMonitor`, :class:`StepDecayCallback`); only this callback can
        count steps too.
    unit : {"epoch", "step"}, default "epoch"
        What ``every`` counts. Steps are counted from the first batch of epoch 0,
        whatever ``steps_per_execution``, so a run resumed with ``initial_epoch``
        keeps the same cadence when Keras knows the epoch length and it is the same in
        both runs. An adaptive sampler's new shares still take effect from the next
        epoch (its plans are per epoch; use a shorter ``steps_per_epoch`` for finer
        steps), a GroupDRO's from the next batch loaded.
    seed : int, default 0
        Which examples form the probe set.
    batch_size : int, default 256
        Prediction batch size.
    prefix : str, default ""
        Put before every log key.
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Raises
    ------
    TypeError
        If an argument has the wrong type (a consumer without ``update``,
        ``every=2.0``, ``loss=5``).
    ValueError
        If ``loss`` is a name or config Keras does not know, lengths differ, a probe
        group is not among the consumers' groups, the consumers' groups differ, a size
        or period is not positive, or a consumer with a ``loss_target`` gets ``y``
        with one column per class (one-hot) or of a dtype that cannot hold that target.
    FloatingPointError
        During training, if a measured group's loss is NaN or infinite (see Notes).

    Notes
    -----
    ``l_g`` is the mean per-example loss over the probe examples of group ``g`` (NaN
    for a group without probe examples, with a warning at construction: its own step
    is then 0 and its share or weight moves only through the normalisation). A NaN or
    infinite ``l_g`` of a group with probe examples means the model diverged: the
    measurement raises ``FloatingPointError`` and training stops, rather than the
    consumers taking the group for not measured and freezing its share or weight.

    A consumer with a ``loss_target`` attribute other than None (a
    :class:`~fairtrain.sampling.FairBatch` for demographic parity: the positive
    label) is fed ``l_g`` computed against that label for every probe example,
    ``loss(target, y_pred)``, instead of the true labels; the model predicts once for
    all consumers, and ``group_loss_<group>`` logs the true-label losses. FairBatch
    measures the whole training set: pass the training examples and
    ``size=len(x_train)``.

    :meth:`get_config` holds the settings; the data and the consumers are the one
    thing not in it (as Keras keeps datasets out of configs):
    ``GroupLossProbe.from_config({**config, "x": x, "y": y, "groups": g,
    "consumers": [sampler]})``.
    """

    @validate_params(
        {
            "consumers": [InstanceOf((list, tuple), "a list of consumers")],
            "size": _POSITIVE_INT,
            "every": _POSITIVE_INT,
            "unit": [Options(str, ("epoch", "step"))],
            "seed": _SEED,
            "batch_size": _POSITIVE_INT,
            "prefix": [InstanceOf(str, "a str")],
            "loss": [
                InstanceOf(str, "a Keras loss name"),
                InstanceOf(keras.losses.Loss, "a keras.losses.Loss"),
                InstanceOf(Mapping, "a Keras loss config"),
                "callable",
                None,
            ],
        }
    )
    def __init__(
        self,
        x: Any,
        y: Any,
        groups: Any = None,
        *,
        consumers: Sequence[Any],
        loss: Any = None,
        size: int = 1024,
        every: int = 1,
        unit: Literal["epoch", "step"] = "epoch",
        seed: int = 0,
        batch_size: int = 256,
        prefix: str = "",
        sensitive_features: Any = None,
    ) -> None:
        super().__init__()
        n = n_rows(x, "x")
        probe = as_groups(groups, sensitive_features=sensitive_features)
        y_arr = np.asarray(y)
        if len(probe) != n or len(y_arr) != n:
            raise ValueError(
                f"`x`, `y` and `groups` must have the same length; got {n}, {len(y_arr)} "
                f"and {len(probe)}."
            )
        if not consumers:
            raise param_error(
                "consumers", consumers, "a non-empty list",
                hint="Pass an Adaptive sampler or a GroupDRO.",
            )
        _check_loss_name(loss)  # now, not after the first epoch
        for i, c in enumerate(consumers):
            check(f"consumers[{i}]", c, HasMethods(["update"], "an object with "
                                                   "update(group_losses, *, epoch)"))
            _check_loss_target(c, y_arr)
        codes, names = _consumer_codes(probe, consumers)
        self.size = size
        self.every = every
        self.unit = unit
        self.seed = seed
        self.batch_size = batch_size
        self.prefix = prefix
        self.loss = loss
        self.consumers = list(consumers)
        self.names = names
        self.keys = [key_part(name) for name in names]
        if len(set(self.keys)) != len(self.keys):
            raise ValueError(f"Group names {names} give clashing log keys {self.keys}.")
        _warn_fixed_shares_beside_adaptive(self.consumers)
        k = len(names)
        self.indices = stratified_indices(Groups(codes, names), self.size, seed=self.seed)
        trained = np.zeros(k, dtype=bool)
        for c in self.consumers:
            cg = getattr(c, "groups", None)
            if isinstance(cg, Groups):
                trained |= cg.counts > 0
        probed = np.bincount(codes[self.indices], minlength=k) > 0
        unmeasured = [names[g] for g in np.flatnonzero(trained & ~probed)]
        if unmeasured:
            warnings.warn(
                f"GroupLossProbe: the probe set has no example of group(s) {unmeasured}, "
                "which the consumers train on; their losses will be NaN (not measured) and "
                "their shares or weights will move only as the others' do. Use a probe "
                "set stratified by group (e.g. split(..., stratify=...)).",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        self._x = _take(x, self.indices)
        self._y = y_arr[self.indices]
        self._codes = codes[self.indices]
        self._k = k
        self.group_losses: np.ndarray | None = None
        self._processes = (1, 0)  # (count, this process's index), set at train begin
        self._epoch = 0
        self._steps = 0
        self._epoch_start = 0

    def measure(self, target: Any = None) -> np.ndarray:
        """Per-group mean loss of the current model on the probe set, shape (n_groups,).

        Parameters
        ----------
        target : scalar, optional
            Score every prediction against this label instead of the true one (the
            loss of predicting ``target``, e.g. FairBatch's demographic-parity loss).

        Returns
        -------
        ndarray of float, shape (n_groups,)
            NaN for a group without probe examples (not measured).

        Raises
        ------
        FloatingPointError
            If a group with probe examples has a NaN or infinite loss (the model
            diverged); nothing is fed to the consumers.
        ValueError
            If no loss is known, the loss is reduced (not per example), or integer
            targets lie outside the model's output classes.
        """
        return self._group_means(self._predict(), target)

    def _shard(self) -> np.ndarray:
        """The probe examples this process measures: all of them, or every P-th."""
        processes, rank = self._processes
        return np.arange(self._codes.size)[rank::processes]

    def _predict(self) -> Any:
        """Predictions of the probe examples this process measures (its shard)."""
        if self._processes[0] > 1:
            return _local_predict(self.model, _take(self._x, self._shard()), self.batch_size)
        return self.model.predict(self._x, batch_size=self.batch_size, verbose=0)

    def _group_means(self, y_pred: Any, target: Any = None) -> np.ndarray:
        loss = self.loss if self.loss is not None else getattr(self.model, "loss", None)
        if loss is None:
            raise ValueError(
                "GroupLossProbe needs `loss=` when the model is not compiled with a loss."
            )
        fn = _per_example(loss)
        processes = self._processes[0]
        y_true, codes = self._y, self._codes
        if processes > 1:  # this process's shard of the probe set
            part = self._shard()
            y_true, codes = y_true[part], codes[part]
        if target is not None:
            y_true = np.full(y_true.shape, target, y_true.dtype)
        if y_true.ndim == np.ndim(y_pred) - 1 and np.shape(y_pred)[-1] == 1:
            y_true = y_true[..., None]  # (n,) targets of an (n, 1) output, as Keras does
        _check_class_indices(y_true, np.shape(y_pred))
        values = keras.ops.convert_to_numpy(
            fn(keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(y_pred))
        ).astype(float)
        if values.ndim == 0 or values.shape[0] != codes.size:
            raise ValueError(
                f"The loss returned values of shape {values.shape} for {codes.size} "
                "probe examples; pass a per-example loss (no reduction)."
            )
        values = values.reshape(values.shape[0], -1).mean(axis=1)
        sums = np.bincount(codes, weights=values, minlength=self._k)
        counts = np.bincount(codes, minlength=self._k).astype(float)
        if processes > 1:  # one all-reduce: the same sums and counts on every process
            total = sum_across_processes(np.concatenate([sums, counts]))
            sums, counts = total[:self._k], total[self._k:]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        # NaN means "not measured" to the consumers: a measured group's NaN (or inf) must
        # not pass for that, or their shares and weights would freeze without a word.
        diverged = [self.names[g] for g in np.flatnonzero((counts > 0) & ~np.isfinite(out))]
        if diverged:
            raise FloatingPointError(
                f"GroupLossProbe: the loss on the probe set is NaN or infinite for group(s) "
                f"{diverged}: the model diverged (its outputs or loss are not finite). "
                "Lower the learning rate, clip gradients or check the inputs; "
                "keras.callbacks.TerminateOnNaN stops such a run at the first NaN batch."
            )
        return out

    def _measure_and_update(self, epoch: int) -> None:
        y_pred = self._predict()  # one prediction, however many targets are scored
        self.group_losses = self._group_means(y_pred)
        by_target: dict[str, np.ndarray] = {}
        for c in self.consumers:
            target = getattr(c, "loss_target", None)
            if target is None:
                c.update(self.group_losses, epoch=epoch)
                continue
            key = repr(target)
            if key not in by_target:
                by_target[key] = self._group_means(y_pred, target)
            c.update(by_target[key], epoch=epoch)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Find the processes of a Keras distribution: each measures its shard.

        Under the Keras distribution API with several (JAX) processes, process ``r`` of
        ``P`` predicts the probe examples ``r, r + P, ...`` with its local copy of the
        (replicated) weights, and one all-reduce
        (:func:`~fairtrain.metrics.sum_across_processes`) sums the per-group loss sums
        and counts, so every process feeds the same losses to its consumers.
        """
        dist = keras.distribution.distribution()
        processes = int(getattr(dist, "num_processes", 1)) if dist is not None else 1
        if processes > 1:
            import jax

            self._processes = (processes, int(jax.process_index()))
        else:
            self._processes = (1, 0)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Remember the epoch; with ``unit="step"``, count from the global step."""
        self._epoch = int(epoch)
        steps = (self.params or {}).get("steps")
        # The global step at this epoch's start, so a resumed run (initial_epoch > 0)
        # updates at the same steps as an uninterrupted one. Without a known epoch
        # length the count continues from the steps this callback has seen.
        self._epoch_start = self._epoch * int(steps) if steps else self._steps
        self._steps = self._epoch_start

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """With ``unit="step"``, measure and update every ``every`` batches."""
        if self.unit != "step":
            return
        # Keras calls this once per execution, ``batch`` being its last batch (several
        # with ``steps_per_execution > 1``): count batches, not calls.
        before = self._steps
        self._steps = before + 1 if batch is None else self._epoch_start + int(batch) + 1
        if self._steps // self.every > before // self.every:
            self._measure_and_update(self._epoch)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Measure and update (``unit="epoch"``, epochs ``0, every, ...``); write the logs."""
        if self.unit == "epoch" and int(epoch) % self.every == 0:
            self._measure_and_update(int(epoch))
        if logs is None:
            return
        logs.update(self.log_values())

    def log_values(self) -> dict[str, float]:
        """The values :meth:`on_epoch_end` writes into the logs."""
        p = self.prefix
        out: dict[str, float] = {}
        # NaN before the first measurement (a period longer than an epoch): every
        # epoch logs every key, so History's lists stay aligned with the epochs.
        losses = self.group_losses if self.group_losses is not None else [np.nan] * len(self.keys)
        for key, v in zip(self.keys, losses):
            out[f"{p}group_loss_{key}"] = float(v)
        for c in self.consumers:
            shares = getattr(c, "shares", None)
            if shares is not None and not callable(shares):
                for key, v in zip(self.keys, np.asarray(shares, float)):
                    out[f"{p}share_{key}"] = float(v)
            weights = getattr(c, "group_weights", None)
            if weights is not None and not callable(weights):
                for key, v in zip(self.keys, np.asarray(weights, float)):
                    out[f"{p}dro_weight_{key}"] = float(v)
                out[f"{p}dro_step_size"] = float(c.step_size)
            extra = getattr(c, "log_values", None)
            if callable(extra):  # scalars as they are, per-group arrays as <name>_<group>
                for name, v in extra().items():
                    if np.ndim(v) == 0:
                        out[f"{p}{name}"] = float(v)
                    else:
                        for key, x in zip(self.keys, np.asarray(v, float)):
                            out[f"{p}{name}_{key}"] = float(x)
        return out

    def get_config(self) -> dict[str, Any]:
        """The settings: everything but the probe data and the consumers.

        Plain JSON when ``loss`` is a name, None or a Keras ``Loss`` (serialised with
        ``keras.losses.serialize``); a plain callable loss is kept as that callable.
        """
        loss = self.loss
        if isinstance(loss, keras.losses.Loss):
            loss = keras.losses.serialize(loss)
        return {
            "loss": loss,
            "size": self.size,
            "every": self.every,
            "unit": self.unit,
            "seed": self.seed,
            "batch_size": self.batch_size,
            "prefix": self.prefix,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GroupLossProbe:
        """``cls(**config)`` with the data and consumers added back.

        ``GroupLossProbe.from_config({**config, "x": x, "y": y, "groups": g,
        "consumers": [sampler]})``.

        Raises
        ------
        ValueError
            If the config lacks the data or the consumers (no config holds them).
        """
        config = dict(config)
        missing = [k for k in _LIVE if k not in config]
        if missing and not ("sensitive_features" in config and missing == ["groups"]):
            raise ValueError(
                f"GroupLossProbe.from_config needs the probe data and the consumers, which "
                f"no config holds: add {missing} to it, e.g. GroupLossProbe.from_config("
                "{**config, 'x': x, 'y': y, 'groups': groups, 'consumers': [sampler]})."
            )
        if isinstance(config.get("loss"), Mapping):
            config["loss"] = keras.losses.deserialize(config["loss"])
        return cls(**config)
