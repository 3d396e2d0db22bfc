"""`GroupDRO`: per-group loss weights that up-weight the worst groups (exponentiated gradient)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from fairtrain._validation import (
    InstanceOf,
    Interval,
    Options,
    check,
    check_shares,
    param_error,
    share_spec_config,
    validate_params,
)
from fairtrain.groups import as_sampler_groups, groups_from_config
from fairtrain.sampling.adaptive import check_group_losses
from fairtrain.sampling.samplers import read_only_shares

_NON_NEGATIVE = [Interval(Real, 0, None)]
_EPOCH = [Interval(Integral, 0, None), None]

__all__ = ["GroupDRO"]


class GroupDRO:
    """Group DRO loss weights for Keras, served as per-example ``sample_weight``.

    Keeps a distribution ``q`` over the groups and moves it toward the groups with the
    highest loss (one exponentiated-gradient step per :meth:`update`); training then
    minimises ``sum_g q_g L_g``, the ``q``-weighted mix of the group mean losses, by
    weighting every example of group ``g`` with ``q_g / r_g`` (``r_g`` the group's share
    of the training batches). The weights reach Keras as ordinary per-example sample
    weights, which every Keras backend, loss and ``fit`` support: return
    ``(x, y, dro.sample_weight(indices))`` from a loader, or wrap one with
    :meth:`weighted`.

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        The training examples' groups (the same object the sampler takes; columns are
        made into groups by :func:`fairtrain.groups.as_groups`).
    step_size : float, default 0.01
        ``eta`` in the update (non-negative), as in Sagawa et al.'s
        ``robust_step_size``; it appears in the logs as ``dro_step_size``.
    batch_shares : sequence of float, mapping, "proportional" or "batch", default "proportional"
        ``r_g``, each group's share of the training batches: the population shares
        (a proportional sampler or ``shuffle``), the sampler's
        ``target_shares()`` (e.g. 1/k under :class:`~fairtrain.sampling.Homogeneous`),
        or ``"batch"``: each batch's own composition, read from the indices given to
        :meth:`sample_weight` (needed beside an :class:`~fairtrain.sampling.Adaptive`
        sampler, whose shares move; exact for any sampler).
    adjustment : float, default 0.0
        Sagawa et al.'s generalisation adjustment ``C``: ``C / sqrt(n_g)`` is added to
        every measured group loss (small groups look worse than they are on the
        training set).
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        On a negative step size or adjustment, or batch shares that are not a
        distribution with a positive share for every non-empty group.

    Notes
    -----
    With ``l_g`` the measured loss of group ``g`` (NaN: not measured, no change)::

        q_g <- q_g * exp(eta * (l_g + C / sqrt(n_g))),   then q <- q / sum(q)

    starting from equal ``q_g = 1 / k`` on the ``k`` non-empty groups, so that after
    any updates ``q = softmax(eta * sum over updates of (l_g + C / sqrt(n_g)))``. The
    weights are kept as ``log q``: a weight too small for a float (e.g. after a step
    of ``eta * l = 1e4``) reads as 0 but grows back when its group's loss does. Equal losses
    (and ``C = 0``) leave ``q`` unchanged. The weight of an example of group ``g`` is
    ``w = q_g / r_g``, so that the mean weighted loss of a batch whose composition is
    ``r`` is ``sum_g q_g L_g`` in expectation (and exactly, with fairtrain's exact
    quotas, when ``r`` is the sampler's shares and ``B r_g`` is an integer). With
    ``batch_shares="batch"``, ``r_g`` is the share of group ``g`` in the batch itself,
    so every batch's mean weighted loss is exactly ``sum_g q_g L_g`` over its groups.
    The weights used by a batch are those current when the batch is loaded: with
    :class:`~fairtrain.data.SampledPyDataset` (one worker, the default) every batch of
    epoch ``e + 1`` sees the update made at the end of epoch ``e``.

    References
    ----------
    S. Sagawa, P. W. Koh, T. B. Hashimoto and P. Liang, "Distributionally
    robust neural networks for group shifts", ICLR 2020.

    Examples
    --------
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_codes([0, 0, 0, 1])
    >>> dro = ft.GroupDRO(groups, step_size=1.0)
    >>> dro.group_weights.tolist()
    [0.5, 0.5]
    >>> dro.update([0.0, 1.0]).round(3).tolist()
    [0.269, 0.731]
    >>> dro.sample_weight([0, 3]).round(3).tolist()  # q_g / r_g with r = (3/4, 1/4)
    [0.359, 2.924]
    """

    @validate_params(
        {
            "step_size": _NON_NEGATIVE,
            "batch_shares": [
                Options(str, ("proportional", "batch")),
                InstanceOf((list, tuple, np.ndarray), "a sequence of shares"),
                InstanceOf(Mapping, "a mapping {name: share}"),
            ],
            "adjustment": _NON_NEGATIVE,
        }
    )
    def __init__(
        self,
        groups: Any = None,
        *,
        step_size: float = 0.01,
        batch_shares: Sequence[float] | Mapping[str, float] | str = "proportional",
        adjustment: float = 0.0,
        sensitive_features: Any = None,
    ) -> None:
        groups = as_sampler_groups(groups, sensitive_features=sensitive_features)
        self.groups = groups
        self.step_size = step_size
        self.adjustment = adjustment
        self._batch_shares = share_spec_config(batch_shares)  # what get_config gives
        self._per_batch = isinstance(batch_shares, str) and batch_shares == "batch"
        present = groups.counts > 0
        self._present = present
        if isinstance(batch_shares, str):
            # "batch": r is read from each batch; the population shares stand in here.
            r = np.asarray(groups.shares, dtype=float)
        else:
            r = check_shares(batch_shares, groups.names)
        missing = present & (r <= 0)
        if missing.any():
            names = [groups.names[g] for g in np.flatnonzero(missing)]
            raise param_error(
                "batch_shares",
                batch_shares,
                "a positive share for every non-empty group",
                hint=f"Group(s) {names} get 0: their examples would never be trained on, "
                "so no weight can be set for them.",
            )
        self._r = r
        self._q = present / present.sum()
        # The state is log q (max 0 over the non-empty groups): q itself underflows to
        # exactly 0 after a large step (an MSE in years²) and could never come back.
        self._logq = np.where(present, 0.0, -np.inf)
        self._history: list[tuple[int | None, list[float]]] = [(0, self._q.tolist())]

    @property
    def batch_shares(self) -> str | tuple[float, ...] | Mapping[str, float]:
        """``batch_shares`` as given, read-only: a name, a tuple or a mapping.

        Fixed once built (the weights are computed from it): build another with
        ``GroupDRO.from_config({**dro.get_config(), "batch_shares": ...})``.
        """
        return read_only_shares(self._batch_shares)

    @property
    def group_weights(self) -> np.ndarray:
        """The current ``q``, one weight per group summing to 1, shape (n_groups,)."""
        return self._q.copy()

    @property
    def history(self) -> list[tuple[int | None, np.ndarray]]:
        """``(first epoch, q)``: the initial weights, then those after every update.

        One shape and one meaning with :attr:`Adaptive.history
        <fairtrain.sampling.Adaptive.history>`: ``first epoch`` is the first epoch
        the weights are used for. The initial equal weights come first, at epoch 0;
        ``update(losses, epoch=e)`` (losses measured in epoch ``e``) is recorded at
        ``e + 1``, the epoch whose batches load them (within epoch ``e`` itself, an
        update made mid-epoch, as ``GroupLossProbe(unit="step")`` makes, already
        weighs its later batches); None when :meth:`update` got no ``epoch``.
        """
        return [(e, np.asarray(q)) for e, q in self._history]

    def update(
        self,
        group_losses: Sequence[float] | Mapping[str, float] | np.ndarray,
        *,
        epoch: int | None = None,
    ) -> np.ndarray:
        """One exponentiated-gradient step from per-group losses; returns the new ``q``.

        Parameters
        ----------
        group_losses : sequence of float (n_groups,) or mapping of group name to float
            Mean loss of every group; NaN (or a name left out) marks a group not
            measured.
        epoch : int, optional
            The epoch the losses were measured in; the new weights apply from the next
            batch loaded, and :attr:`history` records them at ``epoch + 1`` (as
            :meth:`Adaptive.update <fairtrain.sampling.Adaptive.update>` does).

        Raises
        ------
        ValueError
            On a wrong number of losses, an unknown name or an infinite loss.
        """
        epoch = check("epoch", epoch, _EPOCH)
        losses = check_group_losses(self.groups, group_losses)
        measured = self._present & ~np.isnan(losses)
        step = np.zeros_like(losses)
        counts = np.maximum(self.groups.counts, 1)
        step[measured] = self.step_size * (
            losses[measured] + self.adjustment / np.sqrt(counts[measured])
        )
        self._set_log_weights(self._logq + step)
        self._history.append((None if epoch is None else epoch + 1, self._q.tolist()))
        return self._q.copy()

    def _set_log_weights(self, logq: np.ndarray) -> None:
        logq = np.where(self._present, logq - logq[self._present].max(), -np.inf)
        q = np.exp(logq)
        self._logq, self._q = logq, q / q.sum()

    def example_weights(self) -> np.ndarray:
        """The weight of every group's examples, ``q_g / r_g``, shape (n_groups,).

        Raises
        ------
        ValueError
            With ``batch_shares="batch"``, where the weights depend on the batch.
        """
        if self._per_batch:
            raise ValueError(
                'With batch_shares="batch" the weights depend on each batch\'s '
                "composition: use sample_weight(batch_indices)."
            )
        out = np.zeros(self.groups.n_groups)
        out[self._present] = self._q[self._present] / self._r[self._present]
        return out

    def sample_weight(self, indices: Any) -> np.ndarray:
        """Per-example loss weights for the training examples ``indices``, float32.

        With ``batch_shares="batch"``, ``indices`` must be one whole batch: its
        composition gives ``r``.

        Raises
        ------
        TypeError
            If ``indices`` are not integers (floats are not truncated).
        ValueError
            If an index is out of range or names an excluded example (code ``-1``).
        """
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.int64)  # [] is float64 to NumPy
        elif idx.dtype.kind not in "iu":  # a cast would truncate 0.7 to example 0
            raise TypeError(
                f"`indices` must be integers; got dtype {idx.dtype} "
                f"({idx.reshape(-1)[:3].tolist()}...)."
            )
        idx = idx.astype(np.int64)
        n = len(self.groups)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"`indices` must be in [0, {n}); got values outside it.")
        codes = self.groups.codes[idx]
        if np.any(codes < 0):
            raise ValueError("`indices` names excluded examples (group code -1).")
        if self._per_batch:
            if not codes.size:
                return np.empty(0, np.float32)
            counts = np.bincount(codes, minlength=self.groups.n_groups)
            per_group = np.zeros(self.groups.n_groups)
            seen = counts > 0
            per_group[seen] = self._q[seen] * codes.size / counts[seen]
            return per_group[codes].astype(np.float32)
        return self.example_weights()[codes].astype(np.float32)

    def weighted(self, load_batch: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], Any]:
        """Wrap ``load_batch(indices) -> (x, y)`` into one returning ``(x, y, weights)``.

        For :class:`~fairtrain.data.SampledPyDataset`; the weights are read when each
        batch is loaded, so they follow every :meth:`update`.
        """
        check("load_batch", load_batch, "callable")
        return _Weighted(self, load_batch)

    def get_state(self) -> dict[str, Any]:
        """The weights and their history, as plain Python lists (JSON-serialisable).

        ``"history"`` is :attr:`history` as ``[[first epoch, q], ...]``, as
        :meth:`Adaptive.get_state <fairtrain.sampling.Adaptive.get_state>` writes its
        own. ``"log_weights"`` is ``log q`` up to a constant (None for an empty group):
        it keeps a weight that rounds to 0 in ``"group_weights"`` able to grow again.
        """
        return {
            "group_weights": self._q.tolist(),
            "log_weights": [float(v) if p else None for v, p in zip(self._logq, self._present)],
            "history": [[e, list(q)] for e, q in self._history],
            "step_size": self.step_size,
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`get_state`'s output.

        Raises
        ------
        ValueError
            If ``group_weights`` is missing or not a distribution over the non-empty
            groups, the log weights (optional; from earlier versions, ``log q`` is
            taken) do not give them, the step size is negative, or the history is not a
            list of ``n_groups`` finite weights per entry starting at epoch 0. Nothing is
            changed then.
        """
        if "group_weights" not in state:
            raise ValueError(
                "The GroupDRO state lacks 'group_weights'; pass what get_state() returned "
                f"(keys group_weights, history, step_size); got keys {sorted(state)}."
            )
        step_size = check("step_size", state.get("step_size", self.step_size), _NON_NEGATIVE)
        q = np.asarray(state["group_weights"], dtype=float)
        k = self.groups.n_groups
        if (
            q.shape != (k,)
            or not np.all(np.isfinite(q))
            or np.any(q < 0)
            or abs(q.sum() - 1.0) > 1e-9
            or np.any(q[~self._present] != 0)
        ):
            raise ValueError(
                f"The state's group_weights must be {k} non-negative weights summing to 1, "
                f"zero on empty groups; got {q.tolist()}."
            )
        if state.get("log_weights") is None:  # a state without them: q as the log
            with np.errstate(divide="ignore"):
                logq = np.log(np.maximum(q, np.finfo(float).smallest_subnormal))
        else:
            logq = self._checked_log_weights(state["log_weights"], q)
        # checked before anything changes: a bad history must not leave new weights
        history = _checked_history(state.get("history", [[None, q.tolist()]]), k)
        self._set_log_weights(logq)
        self._history = history
        self.step_size = step_size

    def _checked_log_weights(self, values: Any, q: np.ndarray) -> np.ndarray:
        values = list(values)
        ok = len(values) == q.size and all(
            (v is None) if not p else isinstance(v, (int, float)) and np.isfinite(v)
            for v, p in zip(values, self._present)
        )
        if ok:
            logq = np.array([-np.inf if v is None else float(v) for v in values])
            logq = np.where(self._present, logq - logq[self._present].max(), -np.inf)
            expected = np.exp(logq) / np.exp(logq).sum()
            ok = bool(np.allclose(expected, q, rtol=1e-9, atol=1e-12))
        if not ok:
            raise ValueError(
                f"The state's log_weights must be {q.size} values, finite on the non-empty "
                "groups and None on the empty ones, whose softmax is its group_weights; got "
                f"{values}."
            )
        return logq

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as plain JSON values (groups by their config).

        ``GroupDRO.from_config(json.loads(json.dumps(get_config())))`` is equal; the
        learned weights are state (:meth:`get_state`).
        """
        return {
            "groups": self.groups.get_config(),
            "step_size": self.step_size,
            "batch_shares": share_spec_config(self._batch_shares),
            "adjustment": self.adjustment,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GroupDRO:
        """``cls(**config)``, the groups rebuilt from their config."""
        return cls(**groups_from_config(config))

    def __repr__(self) -> str:
        return (
            f"GroupDRO(<{self.groups.n_groups} groups>, step_size={self.step_size!r}, "
            f"adjustment={self.adjustment!r})"
        )


def _checked_history(history: Any, k: int) -> list[tuple[int | None, list[float]]]:
    """A state's ``history``: ``[[epoch, q], ...]``, each ``q`` of ``k`` finite floats."""
    out: list[tuple[int | None, list[float]]] | None = []
    try:
        for e, h in history if isinstance(history, list) else None:  # type: ignore[union-attr]
            q = [float(v) for v in h]
            if len(q) != k or not np.all(np.isfinite(q)):
                out = None
                break
            out.append((None if e is None else check("epoch", e, _EPOCH), q))  # type: ignore[union-attr]
    except (TypeError, ValueError):
        out = None
    if out is None:
        raise ValueError(
            f"The state's history must be a list of [epoch, weights] pairs, the weights "
            f"{k} finite numbers each (get_state's output); got {str(history)[:200]}."
        )
    if not out or out[0][0] != 0:
        raise ValueError(
            "The state's history must start with the initial weights at epoch 0 (every "
            "epoch is the first the weights are used for); got first entry "
            f"{str(history[:1])[:200]}. A state saved before that numbering (initial "
            "entry None, updates at the epoch measured) cannot be read as it is."
        )
    return out


class _Weighted:
    """A picklable loader wrapper adding the current GroupDRO weights (see `weighted`)."""

    def __init__(self, dro: GroupDRO, load_batch: Callable[[np.ndarray], Any]) -> None:
        self.dro = dro
        self.load_batch = load_batch
        self._pid = os.getpid()

    def __call__(self, indices: np.ndarray) -> Any:
        if os.getpid() != self._pid:
            raise RuntimeError(
                "GroupDRO.weighted(load_batch) ran in another process (e.g. "
                "SampledPyDataset(use_multiprocessing=True)): its copy of the weights would "
                "miss every later update. Build batches in threads "
                "(use_multiprocessing=False) or in the training process."
            )
        out = self.load_batch(indices)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ValueError(
                "GroupDRO.weighted needs `load_batch` to return (x, y); it returned "
                f"{type(out).__name__}"
                + (f" of length {len(out)}" if isinstance(out, tuple) else "")
                + "."
            )
        return out[0], out[1], self.dro.sample_weight(indices)
