"""`FairBatch`: batch shares of (label, sensitive group) cells moved toward a fairness objective."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any, Literal

import numpy as np

from fairtrain._validation import InstanceOf, Interval, Options, validate_params
from fairtrain.groups import Groups, as_sampler_groups
from fairtrain.sampling._moving import MovingShares
from fairtrain.sampling.adaptive import check_group_losses
from fairtrain.sampling.samplers import SAMPLER_PARAMS

__all__ = ["FairBatch"]

Objective = Literal["equal_opportunity", "equalized_odds", "demographic_parity"]
OBJECTIVES: tuple[str, ...] = ("equal_opportunity", "equalized_odds", "demographic_parity")


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python scalar it holds (for a JSON-able config)."""
    return value.item() if isinstance(value, np.generic) else value


def _level_index(levels: Sequence[str], value: Any, attribute: str) -> int:
    """The position of ``value`` among an attribute's level labels, or a ValueError."""
    text = str(_plain(value))
    if text in levels:
        return list(levels).index(text)
    try:  # 1 for a level "1.0", 1.0 for a level "1", True for "True"
        matches = [i for i, lv in enumerate(levels) if float(lv) == float(value)]
    except (TypeError, ValueError):
        matches = []
    if len(matches) == 1:
        return matches[0]
    raise ValueError(
        f"`positive`={value!r} is not a level of the label attribute {attribute!r}; its "
        f"levels are {list(levels)}. Pass one of them."
    )


def _cell_layout(groups: Groups, label: str, sensitive: str | None) -> tuple[str, np.ndarray]:
    """(the sensitive attribute's name, cell code of every (label, sensitive) pair or -1)."""
    attributes = list(groups.attributes)
    hint = (
        'Build them as Groups.from_columns({"label": y, "sex": sex}) and pass '
        'label="label", sensitive="sex".'
    )
    if label not in attributes:
        raise ValueError(
            f"`label`={label!r} is not an attribute of the groups {attributes}. {hint}"
        )
    if sensitive is None:
        others = [a for a in attributes if a != label]
        if len(others) != 1:
            raise ValueError(
                "`sensitive` must name the sensitive attribute when the groups do not "
                f"have exactly two attributes; got attributes {attributes}. {hint}"
            )
        sensitive = others[0]
    if sensitive == label or sensitive not in attributes:
        raise ValueError(
            f"`sensitive`={sensitive!r} must be an attribute of the groups other than the "
            f"label {label!r}; the attributes are {attributes}. {hint}"
        )
    if len(attributes) != 2:
        raise ValueError(
            f"FairBatch's cells are (label, sensitive group) pairs; the groups have the "
            f"attributes {attributes}. Build them from the two columns only. {hint}"
        )
    jl, js = attributes.index(label), attributes.index(sensitive)
    levels = groups.levels
    cell = np.full((len(levels[label]), len(levels[sensitive])), -1, dtype=np.int64)
    for code, row in enumerate(groups.cell_levels):
        y, z = int(row[jl]), int(row[js])
        if y < 0 or z < 0:
            raise ValueError(
                f"Cell {groups.names[code]!r} was merged into {groups.other!r}; FairBatch "
                "needs every cell to be one label and one sensitive group. Build the "
                "groups with min_count=1 (no merge) or policy='drop'."
            )
        cell[y, z] = code
    return sensitive, cell


class FairBatch(MovingShares):
    """FairBatch: batch shares of (label, sensitive group) cells moved by a fairness step.

    The outer step of Roh, Lee, Whang and Suh (ICLR 2021), registered as
    ``fairbatch``: the share of every cell ``(y, z)`` of label ``y`` and sensitive group
    ``z`` in a batch is ``P(y) * lambda[y, z]``, where ``P(y)`` is the label's share of
    the training set (never changed) and ``lambda[y, :]`` splits it among the
    sensitive groups. After each epoch :meth:`update` takes the per-cell mean losses
    (usually from :class:`fairtrain.GroupLossProbe` on the whole training set, as the
    paper does) and moves ``alpha`` of one label's split from the group the objective
    favours to the group it disfavours. Each batch holds exact quotas of the current
    shares.

    Parameters
    ----------
    groups : Groups or mapping of str to array-like
        The (label, sensitive group) cells: a :class:`~fairtrain.Groups` with exactly
        two attributes, e.g. ``Groups.from_columns({"label": y, "sex": sex})``. Any
        number of sensitive groups; any number of labels (two for
        ``demographic_parity``).
    batch_size : int
        Examples per batch.
    objective : {"equal_opportunity", "equalized_odds", "demographic_parity"}
        What the step equalises (see the Notes).
    label : str, default "label"
        The attribute of ``groups`` that holds the label.
    sensitive : str, optional
        The attribute that holds the sensitive group. Default: the other attribute.
    positive : scalar, optional
        The positive label value (a level of ``label``, e.g. ``1``; ``"1"`` and
        ``1.0`` match the level ``"1"`` too). Required for ``"equal_opportunity"``
        and ``"demographic_parity"``; not used by ``"equalized_odds"``. For
        ``"demographic_parity"`` it is also :attr:`loss_target`, the target the probe
        scores every prediction against, so give it as the model's loss takes it.
    alpha : float, default 0.005
        The step: the amount of a label's split (a fraction in ``[0, 1]``) moved per
        update (the paper's synthetic experiments use 0.005).
    seed : int, default 0
        Non-negative seed.
    steps_per_epoch : int, optional
        Default ``ceil(n / batch_size)``.
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Raises
    ------
    ValueError
        On an unknown objective; a label or sensitive attribute the groups do not have;
        groups with another number of attributes or a merged ("other") cell; a missing
        or unknown ``positive`` where the objective needs it; more than two labels for
        ``"demographic_parity"``; ``alpha`` outside ``[0, 1]``; in addition to the
        base class's errors.

    Notes
    -----
    **State.** ``lambda[y, z] = n_yz / n_y`` at the start (the population shares);
    the share of cell ``(y, z)`` is ``s_yz = P(y) * lambda[y, z]`` with
    ``P(y) = n_y / n``, so ``sum_z s_yz = P(y)`` always. Cells with no example keep
    ``lambda = 0``.

    **Step.** From per-cell losses ``l_yz`` (NaN: not measured, left out), the step
    compares values ``v_yz``: ``v = l`` (``"equal_opportunity"``,
    ``"equalized_odds"``), or ``v_yz = l'_yz * n_yz / n_z`` (``"demographic_parity"``,
    ``l'`` the loss of predicting the positive label for every example,
    ``n_z = sum_y n_yz``: the share of group ``z``'s DP loss that comes from cell
    ``(y, z)``). One label ``y*`` moves:

    * ``"equal_opportunity"``: the positive label;
    * ``"equalized_odds"`` and ``"demographic_parity"``: the label with the largest
      gap ``max_z v_yz - min_z v_yz`` (ties: the first label in level order, which
      for ``levels ("0", "1")`` is the paper's choice of the negative label).

    Within ``y*`` the receiver is the group with the highest ``v`` and the donor the
    group with the lowest ``v`` among those with ``lambda > 0``, except for the
    non-positive label under ``"demographic_parity"``, where both are reversed (fewer
    negatives of a group lowered by the positive-label loss raise that group's
    positive rate). Then ``t = min(alpha, lambda[y*, donor])``,
    ``lambda[y*, receiver] += t``, ``lambda[y*, donor] -= t``. Equal values move
    nothing. With two groups this is the paper's ``lambda += alpha`` if the second
    group's value is higher, else ``-= alpha``, clipped to ``[0, 1]``; with ``k``
    groups it moves ``alpha`` from the best-served to the worst-served group.

    **Epochs and quotas** are those of :class:`~fairtrain.sampling.Adaptive`:
    ``update(losses, epoch=e)`` sets the shares of epochs ``e + 1`` on (an update
    before epoch 0 is planned sets epoch 0's, which is where the paper takes its first
    step); every batch holds within one example of ``batch_size * s_yz`` (largest
    remainder with the remainders carried), where the paper rounds every cell's
    count per batch on its own.

    References
    ----------
    Y. Roh, K. Lee, S. E. Whang and C. Suh, "FairBatch: Batch selection for
    model fairness", ICLR 2021.

    Examples
    --------
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_columns({"label": [0] * 40 + [1] * 60,
    ...                                  "sex": ["f"] * 30 + ["m"] * 30 + ["f"] * 40})
    >>> fb = ft.sampling.FairBatch(groups, batch_size=10, objective="equal_opportunity",
    ...                            positive=1, alpha=0.1)
    >>> fb.lambdas.round(3).tolist()
    [[0.75, 0.25], [0.667, 0.333]]
    >>> losses = {"label=0|sex=f": 0.3, "label=0|sex=m": 0.5,
    ...           "label=1|sex=f": 0.2, "label=1|sex=m": 0.9}
    >>> fb.update(losses).round(3).tolist()
    [0.3, 0.1, 0.34, 0.26]
    >>> fb.lambdas.round(3).tolist()
    [[0.75, 0.25], [0.567, 0.433]]
    """

    @validate_params(
        {
            **SAMPLER_PARAMS,
            "objective": [Options(str, OBJECTIVES)],
            "label": [InstanceOf(str, "an attribute name")],
            "sensitive": [InstanceOf(str, "an attribute name"), None],
            "alpha": [Interval(Real, 0, 1)],
        }
    )
    def __init__(
        self,
        groups: Any = None,
        *,
        batch_size: int,
        objective: Objective,
        label: str = "label",
        sensitive: str | None = None,
        positive: Any = None,
        alpha: float = 0.005,
        seed: int = 0,
        steps_per_epoch: int | None = None,
        sensitive_features: Any = None,
    ) -> None:
        groups = as_sampler_groups(groups, sensitive_features=sensitive_features)
        self.objective = objective
        self.alpha = alpha
        self.label = label
        self.sensitive, self._cell = _cell_layout(groups, self.label, sensitive)
        self.positive = _plain(positive)
        self._pos = self._check_positive(groups)
        counts = groups.counts
        self._k = groups.n_groups
        self._n = np.where(self._cell >= 0, counts[np.maximum(self._cell, 0)], 0).astype(float)
        n_y = self._n.sum(axis=1)
        self._label_share = n_y / n_y.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            self._lambdas = np.where(n_y[:, None] > 0, self._n / n_y[:, None], 0.0)
        self._last_values = np.full(groups.n_groups, np.nan)
        self._last_step = 0.0
        super().__init__(
            groups, batch_size=batch_size, seed=seed, steps_per_epoch=steps_per_epoch,
            initial=self._shares_of(self._lambdas),
        )

    def _check_positive(self, groups: Groups) -> int | None:
        labels = groups.levels[self.label]
        needs = self.objective != "equalized_odds"
        if self.positive is None:
            if needs:
                raise ValueError(
                    f'objective="{self.objective}" needs `positive`, the positive label '
                    f"value; the label levels are {list(labels)}."
                )
            return None
        pos = _level_index(labels, self.positive, self.label)
        if self.objective == "demographic_parity" and len(labels) != 2:
            raise ValueError(
                'objective="demographic_parity" (the loss w.r.t. the positive label) needs '
                f"exactly two labels; {self.label!r} has {len(labels)}: {list(labels)}."
            )
        return pos

    def _shares_of(self, lambdas: np.ndarray) -> np.ndarray:
        shares = np.zeros(self._k)
        present = self._cell >= 0
        shares[self._cell[present]] = (self._label_share[:, None] * lambdas)[present]
        return shares

    # ------------------------------------------------------------------ public state
    @property
    def lambdas(self) -> np.ndarray:
        """Each label's split among the sensitive groups, shape (n_labels, n_sensitive).

        Rows follow ``groups.levels[label]``, columns ``groups.levels[sensitive]``;
        every row of a label with examples sums to 1.
        """
        return self._lambdas.copy()

    @property
    def loss_target(self) -> Any:
        """The label the probe scores predictions against, or None for the true labels.

        ``positive`` for ``"demographic_parity"`` (FairBatch's DP loss is the loss of
        predicting the positive label), None otherwise.
        """
        return self.positive if self.objective == "demographic_parity" else None

    def log_values(self) -> dict[str, Any]:
        """What :class:`fairtrain.GroupLossProbe` logs for this sampler.

        ``fairbatch_alpha`` (the step size), ``fairbatch_step`` (the amount of the
        split the last update moved, at most ``alpha``; 0 when nothing moved) and
        ``fairbatch_loss`` (per group, shape (n_groups,): the values ``v`` the last
        update compared, NaN before the first update or for a cell not compared).
        """
        return {
            "fairbatch_alpha": self.alpha,
            "fairbatch_step": self._last_step,
            "fairbatch_loss": self._last_values.copy(),
        }

    # ------------------------------------------------------------------ the step
    def _compared(self, losses: np.ndarray) -> np.ndarray:
        """The values ``v`` (n_labels, n_sensitive) the step compares; NaN: left out."""
        present = self._cell >= 0
        values = np.full(self._cell.shape, np.nan)
        values[present] = losses[self._cell[present]]
        values[self._n == 0] = np.nan
        if self.objective == "demographic_parity":
            n_z = self._n.sum(axis=0)
            values = values * self._n / np.where(n_z > 0, n_z, 1.0)[None, :]
        return values

    def _moving_label(self, values: np.ndarray) -> int | None:
        if self.objective == "equal_opportunity":
            return self._pos
        gaps = np.array(
            [
                np.nanmax(row) - np.nanmin(row) if np.count_nonzero(~np.isnan(row)) > 1 else -1.0
                for row in values
            ]
        )
        best = int(np.argmax(gaps))  # ties: the first label in level order
        return best if gaps[best] > 0 else None

    def update(
        self,
        group_losses: Sequence[float] | Mapping[str, float] | np.ndarray,
        *,
        epoch: int | None = None,
    ) -> np.ndarray:
        """One FairBatch step from per-cell losses; returns the new shares.

        Parameters
        ----------
        group_losses : sequence of float (n_groups,) or mapping of cell name to float
            Mean loss of every cell: on the true labels, or for
            ``"demographic_parity"`` the loss of predicting the positive label
            (:attr:`loss_target`). NaN, or a name left out of a mapping, marks a cell
            not measured: it is left out of the comparison.
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
            On a wrong number of losses, an unknown name, an infinite loss or a negative
            ``epoch``.
        """
        self._check_epoch(epoch)  # before any state changes: a refused update leaves none
        losses = check_group_losses(self.groups, group_losses)
        values = self._compared(losses)
        lambdas = self._lambdas.copy()
        step = 0.0
        y = self._moving_label(values)
        if y is not None:
            row = values[y]
            # Under DP a non-positive label's groups swap roles: training less on the
            # negatives of a group raises that group's positive rate.
            sign = -1.0 if self.objective == "demographic_parity" and y != self._pos else 1.0
            measured = ~np.isnan(row)
            if np.count_nonzero(measured) > 1:
                key = np.where(measured, sign * row, -np.inf)
                receiver = int(np.argmax(key))
                donors = measured & (lambdas[y] > 0) & (key < key[receiver])
                if donors.any():
                    donor = int(np.argmin(np.where(donors, key, np.inf)))
                    step = min(self.alpha, float(lambdas[y, donor]))
                    lambdas[y, receiver] += step
                    lambdas[y, donor] -= step
        out = np.full(self.groups.n_groups, np.nan)
        present = self._cell >= 0
        out[self._cell[present]] = values[present]
        new = self._shares_of(lambdas)
        self._set_from(new, epoch)  # first: its warning may be an error, leaving no trace
        self._lambdas = lambdas
        self._last_values = out
        self._last_step = step
        return new.copy()

    # ------------------------------------------------------------------ state and config
    def _check_history_shares(self, shares: np.ndarray) -> str | None:
        present = self._cell >= 0
        totals = np.zeros(self._cell.shape)
        totals[present] = shares[self._cell[present]]
        if np.any(np.abs(totals.sum(axis=1) - self._label_share) > 1e-9):
            return f"each label's total share must stay {self._label_share.tolist()}"
        return None

    def _extra_state(self) -> dict[str, Any]:
        return {"lambdas": [[float(x) for x in row] for row in self._lambdas]}

    def _parse_extra_state(self, state: Mapping[str, Any]) -> np.ndarray:
        if "lambdas" not in state:
            last = np.asarray(state["history"][-1][1], dtype=float)
            present = self._cell >= 0
            lambdas = np.zeros(self._cell.shape)
            share = np.broadcast_to(self._label_share[:, None], self._cell.shape)
            lambdas[present] = last[self._cell[present]] / np.where(share > 0, share, 1)[present]
            return lambdas
        lambdas = np.asarray(state["lambdas"], dtype=float)
        has = self._n.sum(axis=1) > 0
        if (
            lambdas.shape != self._cell.shape
            or not np.all(np.isfinite(lambdas))
            or np.any(lambdas < 0)
            or np.any(lambdas[self._n == 0] != 0)
            or np.any(np.abs(lambdas[has].sum(axis=1) - 1.0) > 1e-9)
        ):
            raise ValueError(
                f"The state's lambdas must be {self._cell.shape} non-negative values, 0 on "
                "empty cells, each label's row summing to 1; got "
                f"{np.asarray(state['lambdas']).tolist()}."
            )
        last = np.asarray(state["history"][-1][1], dtype=float)
        if np.any(np.abs(self._shares_of(lambdas) - last) > 1e-9):
            raise ValueError(
                f"The state's lambdas {lambdas.tolist()} do not give its last shares "
                f"{last.tolist()} (share = P(label) * lambda); restore a state saved by "
                "get_state, unedited."
            )
        return lambdas

    def _apply_extra_state(self, parsed: np.ndarray) -> None:
        self._lambdas = parsed

    def get_state(self) -> dict[str, Any]:
        """Position, share history, the current lambdas and the first epoch not planned.

        Plain Python types (JSON-serialisable), so it can be saved next to a
        checkpoint; :meth:`set_state` restores it exactly.
        """
        return super().get_state()

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (the lambdas are state: :meth:`get_state`)."""
        return {
            **super().get_config(),
            "objective": self.objective,
            "label": self.label,
            "sensitive": self.sensitive,
            "positive": self.positive,
            "alpha": self.alpha,
        }
