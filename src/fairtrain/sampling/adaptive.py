"""`Adaptive`: group shares that move toward the higher-loss groups (FairBatch, many groups)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from fractions import Fraction
from numbers import Integral, Real
from typing import Any, Literal

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
from fairtrain.groups import Groups, as_sampler_groups
from fairtrain.sampling.quotas import largest_remainder, quota_table
from fairtrain.sampling.samplers import SAMPLER_PARAMS, GroupBatchSampler

_EPOCH = [Interval(Integral, 0, None)]

__all__ = ["Adaptive"]


def check_group_losses(groups: Groups, group_losses: Any) -> np.ndarray:
    """Per-group losses as a float array (n_groups,); NaN marks a group not measured.

    Accepts a sequence with one loss per group or a mapping ``{group name: loss}`` (the
    groups left out are not measured). Raises ``ValueError`` on a wrong length, an
    unknown name or an infinite loss.
    """
    k = groups.n_groups
    if isinstance(group_losses, Mapping):
        unknown = [name for name in group_losses if name not in groups.names]
        if unknown:
            raise ValueError(
                f"`group_losses` names unknown group(s) {unknown}; the groups are "
                f"{list(groups.names)}."
            )
        out = np.array([float(group_losses.get(n, np.nan)) for n in groups.names])
    else:
        out = np.asarray(group_losses, dtype=float)
        if out.shape != (k,):
            raise ValueError(
                f"`group_losses` must hold one loss per group ({k}); got shape {out.shape}. "
                "Use NaN (or a mapping that leaves it out) for a group not measured."
            )
        out = out.copy()
    if np.any(np.isinf(out)):
        raise ValueError(
            f"`group_losses` holds an infinite loss: {out.tolist()}. Lower the learning "
            "rate or clip the loss; use NaN for a group that was not measured."
        )
    return out


def _floor_projection(w: np.ndarray, present: np.ndarray, floor: float) -> np.ndarray:
    """The shares ``max(floor, c * w_g)`` on present groups (0 elsewhere) summing to 1.

    This is the KL projection of ``w`` onto ``{s : s_g >= floor, sum s = 1}``; it leaves
    shares already above the floor unchanged, so a step that does not move does not
    move the projection either.
    """
    out = np.zeros_like(w)
    idx = np.flatnonzero(present)
    wp = w[idx]
    fixed = np.zeros(idx.size, dtype=bool)
    for _ in range(idx.size + 1):
        free = ~fixed
        if not free.any():  # floor = 1 / k (to rounding): every share is the floor
            out[idx] = 1.0 / idx.size
            return out
        c = (1.0 - floor * fixed.sum()) / wp[free].sum()
        newly = free & (c * wp < floor)
        if not newly.any():
            break
        fixed |= newly
    out[idx] = np.where(fixed, floor, c * wp)
    return out


class Adaptive(GroupBatchSampler):
    """Batches whose group shares move toward the groups with the higher loss.

    A FairBatch-style sampler (registered as ``adaptive`` and ``fairbatch``) for any
    number of groups (intersectional cells) and any loss. Each batch holds exact
    quotas of the *current* shares; :meth:`update` takes one step of the rule from
    per-group losses, usually measured by :class:`fairtrain.GroupLossProbe` at the end
    of each epoch.

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        Group of every example; empty groups get share 0.
    batch_size : int
        Examples per batch.
    seed : int, default 0
        Non-negative seed.
    step_size : float, default 0.5
        ``eta`` in the rule below (non-negative; 0 never moves).
    momentum : float, default 0.0
        ``beta`` in ``[0, 1)``: the step follows a running sum of past directions.
    min_share : float, optional
        Floor share of every non-empty group, in ``[0, 1 / k]`` with ``k`` non-empty
        groups. Default ``0.1 / k``.
    initial_shares : {"proportional", "homogeneous"}, sequence or mapping, default "proportional"
        Shares of epoch 0 (then lifted to the floor): the population shares, equal
        shares, or given shares (one per group, or ``{name: share}``), summing to 1.
    relative : bool, default True
        Divide the losses by their mean before the step, so that ``step_size`` does not
        depend on the scale of the loss (MSE in years² or cross-entropy in nats).
    steps_per_epoch : int, optional
        Default ``ceil(n / batch_size)``.
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Raises
    ------
    ValueError
        On a step size, momentum, floor or initial shares out of range, in addition to
        the base class's errors.

    Notes
    -----
    **Rule.** With ``l_g`` the measured loss of group ``g`` and ``m`` the mean of the
    measured ``l_g`` over the non-empty groups, the direction is ``d_g = l_g / m - 1``
    (``relative=True``) or ``d_g = l_g - m``; a group not measured (NaN) gets
    ``d_g = 0``. Then::

        v <- beta * v + d
        s_g <- max(f, c * s_g * exp(eta * v_g))

    with ``f = min_share`` and ``c`` the constant that makes the shares sum to one (the
    KL projection onto the shares above the floor; see ``_floor_projection``). Equal
    losses give ``d = 0``: with ``v = 0`` (no momentum or a fresh sampler) the shares
    do not move. A group whose loss is above the mean gains share unless the others
    sit on the floor. ``step_size=0`` keeps the initial shares forever.

    **Epochs.** The shares used for epoch ``e`` are those after the updates coming
    from epochs ``< e``: ``update(losses, epoch=e)`` sets the shares of epochs
    ``e + 1`` on. An epoch once planned (:meth:`plan`) is frozen: an update that would
    change it applies from the first epoch not planned yet instead, with a
    ``RuntimeWarning``, so a plan never changes after a pipeline read it. Data
    adapters must therefore plan epoch ``e`` after the updates of epoch ``e - 1``
    (``SampledPyDataset`` does; a ``tf.data`` pipeline that prefetches across epochs
    may plan ahead and shift the updates by one or more epochs, which the warning
    reports; ``to_tf_dataset(repeat=True)`` shifts them by two).
    :meth:`plan` of any epoch is deterministic given the state (:meth:`get_state`),
    which holds the position, the share history and the momentum.

    **Quotas.** Epoch ``e`` with shares ``s`` holds ``T_g`` examples of group ``g``,
    the largest-remainder rounding of ``steps_per_epoch * batch_size * s_g``; its
    batches hold ``floor`` or ``ceil`` of ``T_g / steps_per_epoch`` with the remainders
    carried (:func:`fairtrain.sampling.quota_table`), so every batch is within one
    example of ``batch_size * s_g`` up to ``1 / steps_per_epoch``, and the cumulative
    counts within one example of the epoch's targets. The group streams continue
    across epochs as in :class:`GroupBatchSampler`.

    References
    ----------
    Y. Roh, K. Lee, S. E. Whang and C. Suh, "FairBatch: Batch selection for
    model fairness", ICLR 2021.

    Examples
    --------
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_codes([0] * 30 + [1] * 10)
    >>> sampler = ft.sampling.Adaptive(groups, batch_size=8, step_size=0.5)
    >>> sampler.shares.tolist()
    [0.75, 0.25]
    >>> sampler.update([0.2, 0.6], epoch=0).round(3).tolist()
    [0.645, 0.355]
    >>> sampler.shares_for(0).tolist(), sampler.quotas(1).sum(axis=0).tolist()
    ([0.75, 0.25], [26, 14])
    """

    _every_batch_needs_each_group = False

    @validate_params(
        {
            **SAMPLER_PARAMS,
            "step_size": [Interval(Real, 0, None)],
            "momentum": [Interval(Real, 0, 1, closed="left")],
            "min_share": [Interval(Real, 0, 1), None],
            "initial_shares": [
                Options(str, ("proportional", "homogeneous")),
                InstanceOf((list, tuple, np.ndarray), "a sequence of shares"),
                InstanceOf(Mapping, "a mapping {name: share}"),
            ],
            "relative": ["boolean"],
        }
    )
    def __init__(
        self,
        groups: Any = None,
        *,
        batch_size: int,
        seed: int = 0,
        step_size: float = 0.5,
        momentum: float = 0.0,
        min_share: float | None = None,
        initial_shares: Literal["proportional", "homogeneous"]
        | Sequence[float]
        | Mapping[str, float] = "proportional",
        relative: bool = True,
        steps_per_epoch: int | None = None,
        sensitive_features: Any = None,
    ) -> None:
        groups = as_sampler_groups(groups, sensitive_features=sensitive_features)
        self.step_size = step_size
        self.momentum = momentum
        present = groups.counts > 0
        k = int(present.sum())
        if min_share is None:
            self.min_share = None
            self._floor = 0.1 / k
        else:
            if min_share * k > 1.0 + 1e-12:
                raise param_error(
                    "min_share",
                    min_share,
                    f"at most 1 / k = {1 / k:.6g} with k = {k} non-empty groups",
                )
            self.min_share = min_share
            self._floor = min(self.min_share, 1.0 / k)
        self.relative = relative
        self.initial_shares = share_spec_config(initial_shares)
        self._present = present
        start = _floor_projection(self._initial(groups, initial_shares), present, self._floor)
        # (first epoch, shares) segments; segment i covers epochs [start_i, start_{i+1}).
        self._segments: list[tuple[int, np.ndarray]] = [(0, start)]
        self._velocity = np.zeros(groups.n_groups)
        self._planned = 0  # epochs [0, _planned) may have been served: frozen
        self._tables: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # Epoch totals of every shares vector tabled, never evicted (k ints each): the
        # stream positions of a late epoch sum them over all earlier segments.
        self._totals: dict[bytes, np.ndarray] = {}
        super().__init__(groups, batch_size=batch_size, seed=seed, steps_per_epoch=steps_per_epoch)

    @staticmethod
    def _initial(groups: Groups, initial: Any) -> np.ndarray:
        present = groups.counts > 0
        if isinstance(initial, str):
            if initial == "proportional":
                return np.asarray(groups.shares, dtype=float)
            return present / present.sum()  # "homogeneous" (validate_params checked)
        shares = check_shares(initial, groups.names)
        if np.any((shares > 0) & ~present):
            names = [groups.names[g] for g in np.flatnonzero((shares > 0) & ~present)]
            raise ValueError(
                f"`initial_shares` gives a positive share to group(s) with no examples: {names}."
            )
        return shares

    # ------------------------------------------------------------------ shares
    @property
    def shares(self) -> np.ndarray:
        """The current shares (after every update so far), shape (n_groups,)."""
        return self._segments[-1][1].copy()

    @validate_params({"epoch": _EPOCH})
    def shares_for(self, epoch: int) -> np.ndarray:
        """The shares epoch ``epoch`` is (or will be, barring updates) planned with."""
        return self._segment_shares(epoch).copy()

    @property
    def history(self) -> list[tuple[int, np.ndarray]]:
        """``(first epoch, shares)`` of every change of shares, oldest first."""
        return [(e, s.copy()) for e, s in self._segments]

    def _segment_shares(self, epoch: int) -> np.ndarray:
        shares = self._segments[0][1]
        for first, s in self._segments:
            if first > epoch:
                break
            shares = s
        return shares

    def target_shares(self) -> np.ndarray:
        """The current shares (see :attr:`shares`), shape (n_groups,)."""
        return self.shares

    def update(
        self,
        group_losses: Sequence[float] | Mapping[str, float] | np.ndarray,
        *,
        epoch: int | None = None,
    ) -> np.ndarray:
        """One step of the rule from per-group losses; returns the new shares.

        Parameters
        ----------
        group_losses : sequence of float (n_groups,) or mapping of group name to float
            Mean loss of every group (on a probe set). NaN, or a name left out of a
            mapping, marks a group not measured: its own step is 0, so its share
            moves only through the normalisation.
        epoch : int, optional
            The epoch the losses were measured after: the new shares apply from epoch
            ``epoch + 1``. Default: from the first epoch not planned yet.

        Returns
        -------
        ndarray of float, shape (n_groups,)
            The new shares.

        Raises
        ------
        ValueError
            On a wrong number of losses, an unknown name, an infinite loss, or (with
            ``relative=True``) a negative measured loss.
        """
        losses = check_group_losses(self.groups, group_losses)
        measured = self._present & ~np.isnan(losses)
        d = np.zeros_like(losses)
        if measured.any():
            mean = float(losses[measured].mean())
            if self.relative:
                if np.any(losses[measured] < 0):
                    raise ValueError(
                        "relative=True needs non-negative losses (l / mean - 1 means "
                        f"nothing with mixed signs); got {losses[measured].tolist()}. "
                        "Use Adaptive(..., relative=False) for losses that can be negative."
                    )
                if mean > 0:
                    d[measured] = losses[measured] / mean - 1.0
            else:
                d[measured] = losses[measured] - mean
        self._velocity = self.momentum * self._velocity + d
        current = self._segments[-1][1]
        with np.errstate(divide="ignore"):  # min_share=0: a share of 0 stays 0
            logw = np.log(np.where(self._present, current, 1.0))
        logw = logw + self.step_size * self._velocity
        logw = np.where(self._present, logw - logw[self._present].max(), -np.inf)
        new = _floor_projection(np.exp(logw), self._present, self._floor)
        self._set_from(new, epoch)
        return new.copy()

    def _set_from(self, shares: np.ndarray, epoch: int | None) -> None:
        last_first = self._segments[-1][0]
        wanted = self._planned if epoch is None else check("epoch", epoch, _EPOCH) + 1
        first = max(wanted, self._planned, last_first)
        if epoch is not None and first > wanted:
            warnings.warn(
                f"Adaptive: the shares measured after epoch {epoch} apply from epoch "
                f"{first}, not {wanted}: epochs up to {first - 1} were planned already "
                "(the data pipeline planned ahead).",
                RuntimeWarning,
                stacklevel=3,
            )
        if first == last_first:
            self._segments[-1] = (first, shares)
        else:
            self._segments.append((first, shares))

    # ------------------------------------------------------------------ schedule
    def _table(self, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(quotas (steps, k), targets (steps, k), epoch totals (k,)) for ``shares``."""
        key = shares.tobytes()
        cached = self._tables.get(key)
        if cached is not None:
            return cached
        steps, b = self.steps_per_epoch, self.batch_size
        fractions = [Fraction(float(s)) for s in shares]
        total = sum(fractions)
        fractions = [f / total for f in fractions]
        den = 1
        for f in fractions:
            den = math.lcm(den, f.denominator)
        numerators = [int(f * den) * b * steps for f in fractions]
        totals = largest_remainder(numerators, den, b * steps)
        table = quota_table(totals.tolist(), steps, steps)
        targets = np.broadcast_to(totals / steps, table.shape).copy()
        if len(self._tables) > 64:
            self._tables.clear()
        self._tables[key] = (table, targets, totals)
        self._totals[key] = totals
        return self._tables[key]

    def _epoch_totals(self, shares: np.ndarray) -> np.ndarray:
        totals = self._totals.get(shares.tobytes())
        return totals if totals is not None else self._table(shares)[2]

    def _rows(self, epoch: int) -> np.ndarray:
        return self._table(self._segment_shares(epoch))[0]

    @validate_params({"epoch": _EPOCH})
    def targets(self, epoch: int) -> np.ndarray:
        """Exact real-valued counts the quotas of ``epoch`` round (see the Notes)."""
        return self._table(self._segment_shares(epoch))[1].copy()

    def _drawn_before(self, step: int) -> np.ndarray:
        steps = self.steps_per_epoch
        epoch, within = divmod(step, steps)
        out = np.zeros(self.groups.n_groups, dtype=np.int64)
        bounds = [first for first, _ in self._segments[1:]] + [None]
        for (first, shares), end in zip(self._segments, bounds):
            stop = epoch if end is None else min(end, epoch)
            if stop > first:
                out += (stop - first) * self._epoch_totals(shares)
        if within:
            out += self._rows(epoch)[:within].sum(axis=0)
        return out

    @validate_params({"epoch": _EPOCH})
    def plan(self, epoch: int) -> np.ndarray:  # noqa: D102 - documented in the base class
        out = super().plan(epoch)
        self._planned = max(self._planned, epoch + 1)
        return out

    plan.__doc__ = GroupBatchSampler.plan.__doc__

    # ------------------------------------------------------------------ state and config
    def get_state(self) -> dict[str, Any]:
        """Position, share history, momentum and the first epoch not planned yet.

        Plain Python types (JSON-serialisable), so it can be saved next to a
        checkpoint; :meth:`set_state` restores it exactly.
        """
        return {
            **super().get_state(),
            "history": [[int(e), [float(x) for x in s]] for e, s in self._segments],
            "velocity": [float(x) for x in self._velocity],
            "planned": int(self._planned),
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`get_state` (a bare position keeps the shares).

        Raises
        ------
        ValueError
            On a position out of range, or a history that is not a list of
            ``[first epoch, shares]`` with increasing epochs starting at 0 and shares
            that are a distribution above the floor.
        """
        if "history" not in state:
            super().set_state(state)
            return
        k = self.groups.n_groups
        segments: list[tuple[int, np.ndarray]] = []
        for item in state["history"]:
            first, shares = int(item[0]), np.asarray(item[1], dtype=float)
            if shares.shape != (k,) or not np.all(np.isfinite(shares)):
                raise ValueError(
                    f"The state's history holds shares of shape {shares.shape}; "
                    f"expected ({k},) finite values."
                )
            if (
                abs(shares.sum() - 1.0) > 1e-9
                or np.any(shares[self._present] < self._floor - 1e-12)
                or np.any(shares[~self._present] != 0)
            ):
                raise ValueError(
                    "The state's history holds shares that are not a distribution above "
                    f"the floor {self._floor:.6g} on the non-empty groups: {shares.tolist()}."
                )
            if segments and first <= segments[-1][0] or not segments and first != 0:
                raise ValueError(
                    "The state's history must start at epoch 0 with increasing epochs; got "
                    f"{[int(i[0]) for i in state['history']]}."
                )
            segments.append((first, shares))
        if not segments:
            raise ValueError("The state's history is empty.")
        velocity = np.asarray(state.get("velocity", np.zeros(k)), dtype=float)
        if velocity.shape != (k,) or not np.all(np.isfinite(velocity)):
            raise ValueError(f"The state's velocity must be ({k},) finite values.")
        planned = check("planned", state.get("planned", 0), _EPOCH)
        # Everything checked before anything changes: a refused state leaves no trace.
        super().set_state(state)
        self._segments = segments
        self._velocity = velocity
        self._planned = planned
        self._plan_cache = None

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (the learned shares are state: :meth:`get_state`)."""
        return {
            **super().get_config(),
            "step_size": self.step_size,
            "momentum": self.momentum,
            "min_share": self.min_share,
            "initial_shares": share_spec_config(self.initial_shares),
            "relative": self.relative,
        }
