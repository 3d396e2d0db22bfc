"""`Adaptive`: group shares that move toward the higher-loss groups (equal loss across cells)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np

from fairtrain._validation import (
    InstanceOf,
    Interval,
    Options,
    check_shares,
    param_error,
    share_spec_config,
    validate_params,
)
from fairtrain.groups import Groups, as_sampler_groups
from fairtrain.sampling._moving import MovingShares
from fairtrain.sampling.samplers import SAMPLER_PARAMS, read_only_shares

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


class Adaptive(MovingShares):
    """Batches whose group shares move toward the groups with the higher loss.

    Registered as ``adaptive``, for any number of groups (intersectional cells) and any
    loss. Each batch holds exact quotas of the *current* shares; :meth:`update` takes
    one step of the rule from per-group losses, usually measured by
    :class:`fairtrain.GroupLossProbe` at the end of each epoch.

    **What it optimises.** Equal loss across the cells: every cell whose loss is above
    the mean gains share, multiplicatively, until the losses are level (or the others
    sit on the floor). This is close in spirit to group DRO (Sagawa et al., ICLR 2020)
    acting on the batch composition instead of the loss weights. It is **not**
    FairBatch: it knows nothing of labels, so it cannot target equal opportunity,
    equalized odds or demographic parity (a cell of positives and a cell of negatives
    are just two cells). For those, use :class:`~fairtrain.sampling.FairBatch`
    (registered as ``fairbatch``), which moves the shares of the sensitive groups
    within a label by the paper's fixed step.

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
    ``e + 1`` on. An epoch once planned (:meth:`plan`), or whose quotas were read
    (:meth:`quotas`), is frozen with every epoch before it: an update that would change
    it applies from the first epoch not planned yet instead, with a
    ``RuntimeWarning``, so a plan or its quotas never change after a pipeline read them.
    Updates only move forward: one for an epoch before that of an earlier update
    applies from the earlier one's first epoch, with the same warning. Data
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
    S. Sagawa, P. W. Koh, T. B. Hashimoto and P. Liang, "Distributionally robust
    neural networks for group shifts", ICLR 2020 (the objective, on loss weights).
    Y. Roh, K. Lee, S. E. Whang and C. Suh, "FairBatch: Batch selection for
    model fairness", ICLR 2021 (batch shares moved by measured losses).

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
        self._initial_spec = share_spec_config(initial_shares)  # what get_config gives
        self._present = present
        start = _floor_projection(self._initial(groups, initial_shares), present, self._floor)
        self._velocity = np.zeros(groups.n_groups)
        super().__init__(
            groups, batch_size=batch_size, seed=seed, steps_per_epoch=steps_per_epoch,
            initial=start,
        )

    @property
    def initial_shares(self) -> str | tuple[float, ...] | Mapping[str, float]:
        """``initial_shares`` as given, read-only: a name, a tuple or a mapping.

        Fixed once the sampler is built; the shares it started from are
        ``history[0][1]``.
        """
        return read_only_shares(self._initial_spec)

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
        self._check_epoch(epoch)  # before any state changes: a refused update leaves none
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
        velocity = self.momentum * self._velocity + d
        current = self._segments[-1][1]
        with np.errstate(divide="ignore"):  # min_share=0: a share of 0 stays 0
            logw = np.log(np.where(self._present, current, 1.0))
        logw = logw + self.step_size * velocity
        logw = np.where(self._present, logw - logw[self._present].max(), -np.inf)
        new = _floor_projection(np.exp(logw), self._present, self._floor)
        self._set_from(new, epoch)  # first: its warning may be an error, leaving no trace
        self._velocity = velocity
        return new.copy()

    # ------------------------------------------------------------------ state and config
    def _check_history_shares(self, shares: np.ndarray) -> str | None:
        if (
            abs(shares.sum() - 1.0) > 1e-9
            or np.any(shares[self._present] < self._floor - 1e-12)
            or np.any(shares[~self._present] != 0)
        ):
            return f"not a distribution above the floor {self._floor:.6g} on the non-empty groups"
        return None

    def _extra_state(self) -> dict[str, Any]:
        return {"velocity": [float(x) for x in self._velocity]}

    def _parse_extra_state(self, state: Mapping[str, Any]) -> np.ndarray:
        k = self.groups.n_groups
        velocity = np.asarray(state.get("velocity", np.zeros(k)), dtype=float)
        if velocity.shape != (k,) or not np.all(np.isfinite(velocity)):
            raise ValueError(f"The state's velocity must be ({k},) finite values.")
        return velocity

    def _apply_extra_state(self, parsed: np.ndarray) -> None:
        self._velocity = parsed

    def get_state(self) -> dict[str, Any]:
        """Position, share history, momentum and the first epoch not planned yet.

        Plain Python types (JSON-serialisable), so it can be saved next to a
        checkpoint; :meth:`set_state` restores it exactly.
        """
        return super().get_state()

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (the learned shares are state: :meth:`get_state`)."""
        return {
            **super().get_config(),
            "step_size": self.step_size,
            "momentum": self.momentum,
            "min_share": self.min_share,
            "initial_shares": share_spec_config(self._initial_spec),
            "relative": self.relative,
        }
