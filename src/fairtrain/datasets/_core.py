"""The dataset record shared by the loaders, splitting, and image loading (PIL or tf.data)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from fairtrain._validation import Interval, check, param_error
from fairtrain.groups import Groups

#: Image file suffixes the loaders accept (compared lower-case).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
#: The file :mod:`fairtrain.datasets.synthetic` leaves in the folders it fills; the loaders
#: skip it (it is not a dataset file).
MARKER = ".fairtrain-synthetic.json"


@dataclass(frozen=True)
class Rejected:
    """One file a loader refused, and why.

    Parameters
    ----------
    path : str
        The file (absolute path), or the line of a metadata file (``"file:line"``).
    reason : str
        Why it was refused, in words a user can act on.
    """

    path: str
    reason: str


@dataclass(frozen=True, eq=False)  # arrays have no single truth value: compare by identity
class FaceDataset:
    """Image paths with their attribute columns, and the files a loader refused.

    Parameters
    ----------
    paths : ndarray of str, shape (n,)
        Absolute image paths, one per kept example.
    columns : dict of str to ndarray (n,)
        Attribute columns, ready for :meth:`fairtrain.Groups.from_columns`.
    rejected : tuple of Rejected, default ()
        Every file the loader refused, with the reason.
    levels : dict of str to list, default {}
        The canonical order (and full set) of a categorical column's values, e.g.
        ``{"ethnicity": ["African", "Asian", "Latin/Caucasian", "Indian"]}``.
    name : str, default ""
        A name for reports.

    Raises
    ------
    ValueError
        If a column's length differs from the number of paths, or a column named in
        ``levels`` holds a value not among its levels.

    Examples
    --------
    >>> ds = FaceDataset(paths=["/a.jpg", "/b.jpg", "/c.jpg"],
    ...                  columns={"gender": ["male", "female", "female"]})
    >>> len(ds), ds.take([2, 0]).paths.tolist()
    (3, ['/c.jpg', '/a.jpg'])
    >>> ds.groups("gender").counts.tolist()
    [2, 1]
    """

    paths: np.ndarray
    columns: dict[str, np.ndarray]
    rejected: tuple[Rejected, ...] = ()
    levels: dict[str, list] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        paths = np.asarray(self.paths, dtype=str).reshape(-1)
        columns = {str(k): np.asarray(v) for k, v in dict(self.columns).items()}
        for key, column in columns.items():
            if column.shape != paths.shape:
                raise ValueError(
                    f"Column {key!r} has shape {column.shape}; every column must have one "
                    f"value per path ({paths.size})."
                )
        levels = {str(k): list(v) for k, v in dict(self.levels).items()}
        for key, lev in levels.items():
            if key not in columns:
                raise ValueError(f"`levels` names {key!r}, which is not a column.")
            unknown = sorted(set(columns[key].tolist()) - set(lev))
            if unknown:
                raise ValueError(
                    f"Column {key!r} holds values not among its levels {lev}: {unknown[:5]}."
                )
        object.__setattr__(self, "paths", paths)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "rejected", tuple(self.rejected))
        object.__setattr__(self, "levels", levels)

    def __len__(self) -> int:
        return int(self.paths.size)

    def __repr__(self) -> str:
        return (
            f"FaceDataset(name={self.name!r}, n={len(self)}, columns={list(self.columns)}, "
            f"rejected={len(self.rejected)})"
        )

    def take(self, index: Any) -> FaceDataset:
        """The rows at ``index`` (ints, a boolean mask or a slice); ``rejected`` is kept.

        Parameters
        ----------
        index : array-like of int or bool, or slice
            Rows to keep, in that order.

        Returns
        -------
        FaceDataset
        """
        if not isinstance(index, slice):
            index = np.asarray(index)
            if index.dtype != bool:
                index = index.astype(np.intp).reshape(-1)
        return dataclasses.replace(
            self,
            paths=self.paths[index],
            columns={k: v[index] for k, v in self.columns.items()},
        )

    def groups(self, *attributes: str, **kwargs: Any) -> Groups:
        """:meth:`fairtrain.Groups.from_columns` over the named columns, with :attr:`levels`.

        Parameters
        ----------
        *attributes : str
            Column names; their intersection forms the groups.
        **kwargs
            Passed to :meth:`~fairtrain.Groups.from_columns` (``min_count``, ``policy``,
            ...); a ``levels`` mapping given here overrides :attr:`levels`.

        Returns
        -------
        Groups

        Raises
        ------
        ValueError
            If no attribute is named.
        KeyError
            If an attribute is not a column.
        """
        if not attributes:
            raise ValueError(f"Name at least one column; the columns are {list(self.columns)}.")
        missing = [a for a in attributes if a not in self.columns]
        if missing:
            raise KeyError(f"No column {missing}; the columns are {list(self.columns)}.")
        levels = {a: self.levels[a] for a in attributes if a in self.levels}
        levels.update(kwargs.pop("levels", None) or {})
        return Groups.from_columns(
            {a: self.columns[a] for a in attributes}, levels=levels or None, **kwargs
        )


def split(
    dataset: FaceDataset,
    *,
    test_size: float = 0.2,
    val_size: float = 0.1,
    by: str | None = None,
    stratify: str | None = None,
    seed: int = 0,
) -> tuple[FaceDataset, FaceDataset, FaceDataset]:
    """Split into train, validation and test, optionally by a unit column and stratified.

    Parameters
    ----------
    dataset : FaceDataset
    test_size, val_size : float, default 0.2 and 0.1
        Fractions of the units (rows, or the distinct values of ``by``) that go to test
        and validation; the rest is train.
    by : str, optional
        A column whose values are kept together (``"identity"``): no value is on two
        sides. Default: each row is its own unit.
    stratify : str, optional
        A column; each of its values is split with the same fractions. With ``by``, it
        must be constant within each unit.
    seed : int, default 0
        Seed of the shuffle; the same seed gives the same split.

    Returns
    -------
    train, val, test : FaceDataset
        Rows in their original order. ``rejected`` is kept on each.

    Raises
    ------
    ValueError
        If a fraction is outside [0, 1) or they sum to 1 or more, a column is unknown, or
        ``stratify`` varies within a unit of ``by``.

    Notes
    -----
    Within each stratum of ``m`` units (one stratum when ``stratify`` is None), after a
    seeded shuffle, ``round(test_size * m)`` units go to test, ``round(val_size * m)`` to
    validation (rounding half up) and the rest to train.

    Examples
    --------
    >>> ds = FaceDataset(paths=[f"/{i}.jpg" for i in range(10)],
    ...                  columns={"identity": list("aabbccddee")})
    >>> train, val, test = split(ds, test_size=0.2, val_size=0.2, by="identity")
    >>> sorted(map(len, (train, val, test)))
    [2, 2, 6]
    """
    test_size = check("test_size", test_size, _FRACTION)
    val_size = check("val_size", val_size, _FRACTION)
    if test_size + val_size >= 1:
        raise param_error(
            "val_size", val_size, f"below 1 - test_size = {1 - test_size:g}",
            hint="test_size + val_size must leave examples to train on.",
        )
    for key, value in (("by", by), ("stratify", stratify)):
        if value is not None and value not in dataset.columns:
            raise ValueError(
                f"`{key}`={value!r} is not a column; the columns are {list(dataset.columns)}."
            )
    n = len(dataset)
    if by is None:
        unit_of_row = np.arange(n)
        n_units = n
    else:
        _, unit_of_row = np.unique(dataset.columns[by], return_inverse=True)
        unit_of_row = unit_of_row.reshape(-1)
        n_units = int(unit_of_row.max()) + 1 if n else 0
    if stratify is None:
        stratum_of_unit = np.zeros(n_units, dtype=np.intp)
    else:
        _, stratum_of_row = np.unique(dataset.columns[stratify], return_inverse=True)
        stratum_of_row = stratum_of_row.reshape(-1)
        stratum_of_unit = np.full(n_units, -1, dtype=np.intp)
        stratum_of_unit[unit_of_row] = stratum_of_row
        if np.any(stratum_of_unit[unit_of_row] != stratum_of_row):
            bad = dataset.columns[by][stratum_of_unit[unit_of_row] != stratum_of_row][0]
            raise ValueError(
                f"`stratify`={stratify!r} varies within the unit {by}={bad!r}; a unit "
                "kept together must sit in one stratum."
            )
    rng = np.random.default_rng(seed)
    side = np.zeros(n_units, dtype=np.int8)  # 0 train, 1 val, 2 test
    for stratum in np.unique(stratum_of_unit):
        units = rng.permutation(np.flatnonzero(stratum_of_unit == stratum))
        m = units.size
        n_test = int(np.floor(test_size * m + 0.5))
        n_val = min(int(np.floor(val_size * m + 0.5)), m - n_test)
        side[units[:n_test]] = 2
        side[units[n_test : n_test + n_val]] = 1
    row_side = side[unit_of_row]
    return tuple(dataset.take(np.flatnonzero(row_side == s)) for s in (0, 1, 2))  # type: ignore[return-value]


_FRACTION = Interval(Real, 0, 1, closed="left")


def _size(size: Sequence[int]) -> tuple[int, int]:
    given = size
    size = tuple(check("size", s, Interval(Integral, 1, None), hint="(height, width)")
                 for s in (size if isinstance(size, (tuple, list)) else (size,)))
    if len(size) != 2:
        raise param_error("size", given, "(height, width) of ints >= 1")
    return size  # type: ignore[return-value]


def _pil():
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'Reading and writing images needs Pillow: pip install "fairtrain[datasets]".'
        ) from exc
    return Image


def load_images(paths: Sequence[str] | np.ndarray, size: Sequence[int] = (32, 32)) -> np.ndarray:
    """Read images into one float32 array, RGB, resized, scaled to [0, 1].

    Parameters
    ----------
    paths : sequence of str, length n
        Image files (any format Pillow reads).
    size : (int, int), default (32, 32)
        Output (height, width); images are resized bilinearly.

    Returns
    -------
    ndarray of float32, shape (n, height, width, 3)

    Raises
    ------
    ValueError
        If ``size`` is not two positive ints.
    FileNotFoundError
        If a file does not exist.
    """
    height, width = _size(size)
    image_module = _pil()
    paths = [str(p) for p in np.asarray(paths, dtype=str).reshape(-1)]
    out = np.empty((len(paths), height, width, 3), dtype=np.float32)
    for i, path in enumerate(paths):
        with image_module.open(path) as image:
            image = image.convert("RGB")
            if image.size != (width, height):
                image = image.resize((width, height), image_module.Resampling.BILINEAR)
            out[i] = np.asarray(image, dtype=np.float32) / 255.0
    return out


def tf_image_loader(
    paths: Sequence[str] | np.ndarray,
    size: Sequence[int] = (32, 32),
    *,
    y: Any = None,
) -> Callable[[Any], Any]:
    """A ``load(index)`` for :func:`fairtrain.data.to_tf_dataset` that reads one image.

    Parameters
    ----------
    paths : sequence of str, length n
        Image files (JPEG, PNG, BMP or GIF: what ``tf.io.decode_image`` reads).
    size : (int, int), default (32, 32)
        Output (height, width); images are resized bilinearly by ``tf.image.resize``.
    y : array-like of shape (n, ...), optional
        Targets; when given, ``load`` returns ``(image, y[index])``.

    Returns
    -------
    callable
        ``load(index)`` for a scalar int64 tensor ``index``: the float32 image of shape
        (height, width, 3) in [0, 1], or ``(image, y[index])``.

    Raises
    ------
    ValueError
        If ``size`` is not two positive ints, or ``y`` has not one row per path.
    """
    height, width = _size(size)
    try:
        import tensorflow as tf
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'tf_image_loader needs TensorFlow: pip install "fairtrain[tensorflow]"; '
            "or use load_images with fairtrain.data.SampledPyDataset."
        ) from exc
    path_table = tf.constant(np.asarray(paths, dtype=str).reshape(-1))
    targets = None
    if y is not None:
        y = np.asarray(y)
        if y.shape[:1] != (int(path_table.shape[0]),):
            raise ValueError(
                f"`y` has {y.shape[:1]} rows; it needs one per path ({path_table.shape[0]})."
            )
        targets = tf.constant(y)

    def load(index):
        data = tf.io.read_file(tf.gather(path_table, index))
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), (height, width), method="bilinear")
        image = tf.ensure_shape(image / 255.0, (height, width, 3))
        if targets is None:
            return image
        return image, tf.gather(targets, index)

    return load


def files_under(root: Path) -> list[Path]:
    """Every regular file below ``root``, sorted (internal helper for the loaders)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != MARKER)


def check_dir(root: Any, what: str) -> Path:
    """``root`` as an absolute Path, or a clear error when it is not a directory."""
    path = Path(root).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"{what} {str(root)!r} is not a directory.")
    return path
