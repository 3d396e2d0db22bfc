"""`GroupSpec`: the structure of a `Groups` (names, levels, cells) without per-example codes."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fairtrain._validation import param_error
from fairtrain.groups import OTHER, Groups, as_groups

__all__ = ["GroupSpec"]


class GroupSpec:
    """What a streaming accumulator knows of the groups: their structure, not the examples.

    A :class:`~fairtrain.Groups` holds one code per example; a ``GroupSpec`` holds only
    what gives those codes a meaning: the attributes, each attribute's levels, the cells
    (the groups of the intersection) and each cell's level per attribute. Its size does
    not grow with the number of examples, so a
    :class:`~fairtrain.metrics.GroupAccumulator` built on it can take the examples batch
    by batch, each batch carrying its own codes.

    Build it with :meth:`from_groups` (the structure of existing groups: the cells they
    found, with their tiny-cell merges) or :meth:`from_levels` (every combination of the
    levels is a cell).

    Attributes
    ----------
    attributes : tuple of str
        The attribute names, in order.
    levels : dict of str to tuple of str
        Each attribute's levels, in order.
    names : tuple of str
        The cells, in code order (``Groups.names``).
    cell_levels : ndarray of int, shape (n_groups, n_attributes)
        Each cell's level code per attribute; ``-1`` where the cell merged that
        attribute's levels into ``other`` (``Groups.cell_levels``).
    other : str
        The label of merged levels.

    Notes
    -----
    A batch's group codes can be given three ways (see :meth:`codes_to_units`):

    * **cell codes**, shape (b,): ``groups.codes[idx]``, ``-1`` for an excluded example;
    * **attribute codes**, shape (b, n_attributes): ``groups.attribute_codes[idx]``,
      each example's level per attribute, a row of ``-1`` for an excluded example. The
      cell is the one whose levels are the row's, else the row with its last attribute
      merged into ``other``, else its last two, and so on: the order in which
      :meth:`Groups.from_columns`' ``"merge"`` policy merges;
    * a :class:`~fairtrain.Groups` over the batch (``groups.take(idx)``) with this
      structure.

    With several attributes, a report gives every attribute on its own too, and an
    example in a merged cell (say ``gender=f|age=other``) still counts in its own age
    group there. Cell codes do not say which age that is, so a batch with an example of
    a merged cell must carry attribute codes (or a ``Groups``).

    Examples
    --------
    >>> import fairtrain as ft
    >>> from fairtrain.metrics import GroupSpec
    >>> g = ft.Groups.from_columns({"sex": ["f", "m", "f"], "age": ["0-20", "0-20", "20+"]})
    >>> spec = GroupSpec.from_groups(g)
    >>> spec.names
    ('sex=f|age=0-20', 'sex=f|age=20+', 'sex=m|age=0-20')
    >>> spec.views
    {'sex': ('f', 'm'), 'age': ('0-20', '20+'), 'intersection': ('sex=f|age=0-20', \
'sex=f|age=20+', 'sex=m|age=0-20')}
    >>> spec.codes_to_units([[0, 1], [1, 0], [-1, -1]]).tolist()   # attribute codes
    [1, 2, -1]
    """

    def __init__(
        self,
        *,
        attributes: Sequence[str],
        levels: Mapping[str, Sequence[str]],
        names: Sequence[str],
        cell_levels: Any,
        other: str = OTHER,
    ) -> None:
        # Groups validates names, attributes, levels and cell levels the same way
        probe = Groups(
            np.zeros(0, dtype=np.int32), names, attributes=attributes, levels=levels,
            attribute_codes=np.zeros((0, len(attributes)), dtype=np.int32),
            cell_levels=cell_levels, other=other,
        )
        self.attributes = probe.attributes
        self.levels = probe.levels
        self.names = probe.names
        self.cell_levels = probe.cell_levels
        self.other = probe.other
        if not self.names:
            raise ValueError("A GroupSpec needs at least one cell; got names=().")
        self._build_units()

    # ------------------------------------------------------------------ factories
    @classmethod
    def from_groups(cls, groups: Groups) -> GroupSpec:
        """The structure of ``groups`` (no per-example data is kept).

        Raises
        ------
        TypeError
            If ``groups`` is not a :class:`~fairtrain.Groups`.
        """
        if not isinstance(groups, Groups):
            raise TypeError(
                f"GroupSpec.from_groups takes a fairtrain.Groups; got {type(groups).__name__}. "
                "Build one with Groups.from_columns, or use GroupSpec.from_levels."
            )
        return cls(
            attributes=groups.attributes, levels=groups.levels, names=groups.names,
            cell_levels=groups.cell_levels, other=groups.other,
        )

    @classmethod
    def from_levels(cls, levels: Mapping[str, Sequence[Any]]) -> GroupSpec:
        """Every combination of the attributes' levels is a cell, in lexicographic order.

        The cells are named as :meth:`Groups.from_columns` names them (``"F"`` for one
        attribute, ``"sex=F|age=0-20"`` for several), and their codes are the mixed-radix
        numbers of the level codes (the last attribute varies fastest). Combinations that
        no example has are empty groups of the report (count 0, value ``nan``), which
        ``Groups.from_columns`` would not list.

        Parameters
        ----------
        levels : mapping of str to sequence
            Each attribute's levels, in order, e.g. ``{"sex": ["F", "M"]}``.

        Raises
        ------
        ValueError
            If ``levels`` is empty, an attribute has no level, or its levels repeat.

        Examples
        --------
        >>> from fairtrain.metrics import GroupSpec
        >>> GroupSpec.from_levels({"sex": ["F", "M"], "smile": [0, 1]}).names
        ('sex=F|smile=0', 'sex=F|smile=1', 'sex=M|smile=0', 'sex=M|smile=1')
        """
        if not isinstance(levels, Mapping) or not levels:
            raise ValueError(
                "`levels` must map every attribute name to its levels, e.g. "
                f"{{'sex': ['F', 'M']}}; got {levels!r}."
            )
        attributes = tuple(str(a) for a in levels)
        labels = {str(a): tuple(str(v) for v in vs) for a, vs in levels.items()}
        for a, vs in labels.items():
            if not vs or len(set(vs)) != len(vs):
                raise ValueError(
                    f"The levels of attribute {a!r} must be distinct and at least one; got "
                    f"{list(vs)}."
                )
        combos = list(itertools.product(*(range(len(labels[a])) for a in attributes)))
        if len(attributes) == 1:
            names = [labels[attributes[0]][c[0]] for c in combos]
        else:
            names = [
                "|".join(f"{a}={labels[a][d]}" for a, d in zip(attributes, c)) for c in combos
            ]
        return cls(
            attributes=attributes, levels=labels, names=names,
            cell_levels=np.asarray(combos, dtype=np.int32).reshape(len(combos), -1),
        )

    # ------------------------------------------------------------------ structure
    @property
    def n_groups(self) -> int:
        """Number of cells."""
        return len(self.names)

    @property
    def views(self) -> dict[str, tuple[str, ...]]:
        """The groupings a report covers, by name, with their group names.

        One attribute: its cells. Several: every attribute's levels, then
        ``"intersection"`` (the cells), as :func:`~fairtrain.metrics.bias_report`.
        """
        return {name: names for name, (names, _) in self._views.items()}

    @property
    def n_units(self) -> int:
        """Number of *units*: the finest groups the statistics are kept for.

        A unit is a cell and, for a cell that merged an attribute into ``other``, one
        level of every merged attribute; without merges, units are cells.
        """
        return int(self._unit_cell.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GroupSpec):
            return NotImplemented
        return self.difference(other) is None

    def __hash__(self) -> int:
        return hash((self.attributes, self.names))

    def __repr__(self) -> str:
        return (
            f"GroupSpec(attributes={list(self.attributes)}, n_groups={self.n_groups}, "
            f"n_units={self.n_units})"
        )

    def difference(self, other: GroupSpec | Groups) -> str | None:
        """What differs between two structures, in words; None if they are the same.

        ``other`` is another spec or a ``Groups`` (whose structure is compared).
        """
        for what in ("attributes", "levels", "names", "other"):
            mine, theirs = getattr(self, what), getattr(other, what)
            if mine != theirs:
                return f"their {what} differ: {mine!r} and {theirs!r}"
        if not np.array_equal(self.cell_levels, other.cell_levels):
            return "their cells' levels (merges into 'other') differ"
        return None

    def _build_units(self) -> None:
        n_attr, k = len(self.attributes), self.n_groups
        sizes = np.array([len(self.levels[a]) for a in self.attributes], dtype=np.int64)
        # One attribute: the report's only view is the cells, so units are the cells.
        free = (self.cell_levels < 0) if n_attr > 1 else np.zeros((k, 1), dtype=bool)
        stride = np.zeros((k, n_attr), dtype=np.int64)
        count = np.ones(k, dtype=np.int64)
        for c in range(k):
            for j in range(n_attr - 1, -1, -1):
                if free[c, j]:
                    stride[c, j] = count[c]
                    count[c] *= sizes[j]
        if count.sum() > 1 << 24:
            raise ValueError(
                f"The merged cells span {int(count.sum())} level combinations, too many "
                "to keep statistics for; use fewer attributes or levels."
            )
        self._offset = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        self._stride, self._free = stride, free
        self._unit_cell = np.repeat(np.arange(k, dtype=np.int64), count)
        unit_levels = np.repeat(self.cell_levels.astype(np.int64), count, axis=0)
        local = np.arange(self._unit_cell.size) - self._offset[self._unit_cell]
        for j in range(n_attr):
            cols = free[self._unit_cell, j]
            step = stride[self._unit_cell, j]
            unit_levels[cols, j] = (local[cols] // step[cols]) % sizes[j]
        self._unit_levels = unit_levels
        self._merged_cells = np.flatnonzero(free.any(axis=1))
        self._views: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
        if n_attr == 1:
            self._views[self.attributes[0]] = (self.names, self._unit_cell)
        else:
            for j, a in enumerate(self.attributes):
                self._views[a] = (self.levels[a], unit_levels[:, j])
            key = "intersection" if "intersection" not in self._views else "_intersection"
            self._views[key] = (self.names, self._unit_cell)
        self._build_lookup(sizes)

    def _build_lookup(self, sizes: np.ndarray) -> None:
        # cells by their levels in mixed radix, "other" (-1) as the extra digit sizes[j]
        radix = sizes + 1
        if float(np.prod(radix.astype(float))) > 2.0**62:
            raise ValueError("Too many attribute combinations to index; use fewer attributes.")
        self._radix = radix
        self._weights = np.concatenate([np.cumprod(radix[::-1])[::-1][1:], [1]]).astype(np.int64)
        digits = np.where(self.cell_levels < 0, sizes[None, :], self.cell_levels)
        keys = digits.astype(np.int64) @ self._weights
        order = np.argsort(keys, kind="stable")
        self._cell_keys, self._cell_by_key = keys[order], order.astype(np.int64)

    # ------------------------------------------------------------------ lookups
    def codes_to_units(self, group_codes: Any) -> np.ndarray:
        """The unit of every example of a batch (``-1``: excluded), shape (b,).

        Parameters
        ----------
        group_codes : array-like of int, shape (b,) or (b, n_attributes), or Groups
            Cell codes, attribute codes or a ``Groups`` over the batch (see the class
            notes).

        Raises
        ------
        ValueError
            If a code is out of range, a row of attribute codes matches no cell, a cell
            code names a merged cell (whose examples need attribute codes), or a
            ``Groups`` has another structure.
        TypeError
            If the codes are not integers.
        """
        if isinstance(group_codes, Groups):
            return self._units_of_groups(group_codes)
        codes = np.asarray(group_codes)
        if codes.size and codes.dtype.kind not in "iub":
            raise TypeError(
                f"Group codes must be integers (cell codes or attribute codes); got dtype "
                f"{codes.dtype}. Carry groups.codes or groups.attribute_codes, not labels."
            )
        codes = codes.astype(np.int64, copy=False)
        n_attr = len(self.attributes)
        if codes.ndim == 1:
            return self._units_of_cells(codes)
        if codes.ndim == 2 and codes.shape[1] == n_attr:
            return self._units_of_levels(codes)
        raise ValueError(
            f"Group codes must have shape (b,) (cell codes) or (b, {n_attr}) (one level "
            f"code per attribute {list(self.attributes)}); got shape {codes.shape}."
        )

    def _units_of_cells(self, cells: np.ndarray) -> np.ndarray:
        if cells.size and (cells.min() < -1 or cells.max() >= self.n_groups):
            bad = int(cells[(cells < -1) | (cells >= self.n_groups)][0])
            raise ValueError(
                f"Cell codes must lie in [0, {self.n_groups}) or be -1 (excluded); got {bad}."
            )
        if self._merged_cells.size and np.isin(cells, self._merged_cells).any():
            cell = int(cells[np.isin(cells, self._merged_cells)][0])
            merged = [a for a, f in zip(self.attributes, self._free[cell]) if f]
            raise ValueError(
                f"Cell {self.names[cell]!r} merged the levels of {merged} into "
                f"{self.other!r}, so its cell code does not say each example's own level, "
                "which the per-attribute values need. Carry attribute codes instead "
                "(groups.attribute_codes, shape (b, n_attributes)) or a Groups."
            )
        safe = np.maximum(cells, 0)
        return np.where(cells >= 0, self._offset[safe], -1)

    def _units_of_levels(self, levels: np.ndarray) -> np.ndarray:
        sizes = self._radix - 1
        excluded = (levels == -1).all(axis=1)
        bad = ~excluded & ((levels < 0) | (levels >= sizes[None, :])).any(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"Attribute codes must lie in [0, number of levels) per attribute "
                f"({dict(zip(self.attributes, sizes.tolist()))}), or be a row of -1 for an "
                f"excluded example; row {i} is {levels[i].tolist()}."
            )
        rows = np.where(excluded[:, None], 0, levels)
        cells = np.full(len(rows), -1, dtype=np.int64)
        pending = ~excluded
        digits = rows.copy()
        # exact levels first, then the last attribute as "other", then the last two...
        for depth in range(len(self.attributes), -1, -1):
            if depth < len(self.attributes):
                digits[:, depth] = sizes[depth]
            keys = digits @ self._weights
            pos = np.minimum(np.searchsorted(self._cell_keys, keys), len(self._cell_keys) - 1)
            found = pending & (self._cell_keys[pos] == keys)
            cells[found] = self._cell_by_key[pos[found]]
            pending &= ~found
            if not pending.any():
                break
        if pending.any():
            i = int(np.flatnonzero(pending)[0])
            shown = {a: self.levels[a][d] for a, d in zip(self.attributes, rows[i])}
            raise ValueError(
                f"Row {i} of the attribute codes, {rows[i].tolist()} ({shown}), belongs to "
                "no cell of these groups (nor to a merged one). Build the spec from groups "
                "that hold this combination (or with GroupSpec.from_levels)."
            )
        return self._units_of(cells, rows, excluded)

    def _units_of(self, cells: np.ndarray, levels: np.ndarray, excluded: np.ndarray) -> np.ndarray:
        safe = np.maximum(cells, 0)
        local = (self._stride[safe] * np.where(self._free[safe], levels, 0)).sum(axis=1)
        return np.where(excluded, -1, self._offset[safe] + local)

    def _units_of_groups(self, groups: Groups) -> np.ndarray:
        diff = self.difference(groups)
        if diff is not None:
            raise ValueError(f"The batch's Groups has another structure than the spec: {diff}.")
        cells = groups.codes.astype(np.int64)
        if len(self.attributes) == 1:
            return self._units_of_cells(cells)
        levels = groups.attribute_codes.astype(np.int64)
        excluded = cells < 0
        fixed = ~self._free[np.maximum(cells, 0)]
        expected = self.cell_levels[np.maximum(cells, 0)]
        wrong = (~excluded[:, None] & fixed & (levels != expected)).any(axis=1)
        wrong |= excluded & (levels != -1).any(axis=1)
        wrong |= ~excluded & (levels < 0).any(axis=1)
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise ValueError(
                f"Example {i} of the batch's Groups has cell code {int(cells[i])} but "
                f"attribute codes {levels[i].tolist()}, which that cell does not hold; "
                "such groups cannot be accumulated (use bias_report on the arrays)."
            )
        return self._units_of(cells, levels, excluded)


def as_groups_or_spec(
    groups: Any = None, *, sensitive_features: Any = None, carries: str = "codes"
) -> Groups | GroupSpec:
    """The groups of a streamed evaluation: a :class:`GroupSpec` as given, else a Groups.

    :func:`fairtrain.groups.as_groups`' rule (``groups`` or its alias
    ``sensitive_features``, exactly one) with one more thing either name may be: a
    ``GroupSpec``, where the batches carry their group codes (``carries="codes"``).

    Raises
    ------
    TypeError
        If neither or both names are given, or a ``GroupSpec`` comes without
        ``carries="codes"`` (it holds no per-example codes); and every error of
        ``as_groups``.
    """
    if groups is not None and sensitive_features is not None or (
        groups is None and sensitive_features is None
    ):
        return as_groups(groups, sensitive_features=sensitive_features)  # raises
    name = "groups" if groups is not None else "sensitive_features"
    value = groups if groups is not None else sensitive_features
    if not isinstance(value, GroupSpec):
        return as_groups(groups, sensitive_features=sensitive_features)
    if carries != "codes":
        raise param_error(
            name, value, "a Groups or attribute columns unless carries='codes'",
            hint=f"A GroupSpec holds no per-example codes, so with carries={carries!r} "
            "pass the Groups; or have the batches carry their codes (carries='codes').",
            error=TypeError,
        )
    return value
