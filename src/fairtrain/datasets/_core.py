"""The dataset record shared by the loaders, splitting, and image loading (PIL or tf.data)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from fairtrain._validation import Constraint, Interval, param_error, validate_params
from fairtrain.groups import Groups

if TYPE_CHECKING:
    from fairtrain.datasets._tabular import TabularDataset

#: Image file suffixes the loaders accept (compared lower-case).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
#: The file :mod:`fairtrain.datasets.synthetic` leaves in the folders it fills; the loaders
#: skip it (it is not a dataset file).
MARKER = ".fairtrain-synthetic.json"


def row_index(index: Any, n: int) -> Any:
    """``index`` checked as a row selection of ``n`` rows (internal helper of ``take``).

    A slice passes as it is; integers (negative ones counted from the end) and a
    boolean mask of ``n`` entries come back as an array. Floats are refused, never
    truncated to a row.
    """
    if isinstance(index, slice):
        return index
    index = np.asarray(index)
    if index.size == 0 and index.dtype != bool:
        return index.astype(np.intp)  # [] is float64 to NumPy: an empty selection
    if index.dtype == bool:
        if index.shape != (n,):
            raise IndexError(
                f"A boolean `index` must have one entry per row ({n}); got shape {index.shape}."
            )
        return index
    if index.dtype.kind not in "iu":
        bad = index.reshape(-1)[:3].tolist()
        raise TypeError(
            f"`index` must hold integers (row numbers) or be a boolean mask; got "
            f"dtype {index.dtype}, e.g. {bad}. Round or cast the indices yourself."
        )
    index = index.astype(np.intp).reshape(-1)
    if index.size and (index.max() >= n or index.min() < -n):
        bad = int(index.max() if index.max() >= n else index.min())
        raise IndexError(
            f"`index` holds {bad}, outside the dataset's {n} rows (valid: {-n} to {n - 1})."
        )
    return index


@dataclass(frozen=True)
class Rejected:
    """One file or table row a loader refused, and why.

    Parameters
    ----------
    path : str
        The file (absolute path), or the line of a metadata or table file
        (``"/abs/path/file:line"``, lines counted from 1).
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
        for key, lev in dict(self.levels).items():
            if isinstance(lev, (str, bytes)):
                raise TypeError(
                    f"The levels of {key!r} must be a list of its values in order; got "
                    f"the string {lev!r}. Give a list, e.g. levels={{{key!r}: [{lev!r}, ...]}}."
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

        Raises
        ------
        TypeError
            If ``index`` holds numbers that are not integers (floats are not truncated).
        IndexError
            If an index is out of range, or a mask has the wrong length.
        """
        index = row_index(index, len(self))
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
        return column_groups(self.columns, self.levels, attributes, kwargs)


def column_groups(
    columns: dict[str, np.ndarray],
    levels: dict[str, list],
    attributes: Sequence[str],
    kwargs: dict[str, Any],
) -> Groups:
    """The groups of named columns, with their levels (the datasets' ``groups`` methods)."""
    if not attributes:
        raise ValueError(f"Name at least one column; the columns are {list(columns)}.")
    missing = [a for a in attributes if a not in columns]
    if missing:
        raise KeyError(f"No column {missing}; the columns are {list(columns)}.")
    chosen = {a: levels[a] for a in attributes if a in levels}
    chosen.update(kwargs.pop("levels", None) or {})
    return Groups.from_columns(
        {a: columns[a] for a in attributes}, levels=chosen or None, **kwargs
    )


_D = TypeVar("_D", "FaceDataset", "TabularDataset")


def _units(dataset: FaceDataset, by: str | None) -> tuple[np.ndarray, int]:
    """The unit of every row (its index, or the code of its ``by`` value), and how many."""
    n = len(dataset)
    if by is None:
        return np.arange(n), n
    _, unit_of_row = np.unique(dataset.columns[by], return_inverse=True)
    unit_of_row = unit_of_row.reshape(-1)
    return unit_of_row, int(unit_of_row.max()) + 1 if n else 0


def _unit_strata(dataset: FaceDataset, stratify: str | None, by: str | None,
                 unit_of_row: np.ndarray, n_units: int) -> np.ndarray:
    """The stratum of every unit (all 0 without ``stratify``).

    Raises
    ------
    ValueError
        If ``stratify`` varies within a unit.
    """
    if stratify is None:
        return np.zeros(n_units, dtype=np.intp)
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
    return stratum_of_unit


def _sides(stratum_of_unit: np.ndarray, test_size: float, val_size: float,
           seed: int) -> np.ndarray:
    """The side of every unit, 0 train, 1 validation, 2 test (see :func:`split`'s Notes)."""
    rng = np.random.default_rng(seed)
    side = np.zeros(stratum_of_unit.size, dtype=np.int8)
    for stratum in np.unique(stratum_of_unit):
        units = rng.permutation(np.flatnonzero(stratum_of_unit == stratum))
        m = units.size
        n_test = int(np.floor(test_size * m + 0.5))
        n_val = min(int(np.floor(val_size * m + 0.5)), m - n_test)
        side[units[:n_test]] = 2
        side[units[n_test : n_test + n_val]] = 1
    return side


class _Dataset(Constraint):
    """What :func:`split` splits: a dataset with columns and ``take``."""

    description = "a FaceDataset or TabularDataset"

    def ok(self, value: Any) -> bool:
        from fairtrain.datasets._tabular import TabularDataset  # it imports this module

        return isinstance(value, (FaceDataset, TabularDataset))


_FRACTION = Interval(Real, 0, 1, closed="left")


@validate_params(
    {
        "dataset": [_Dataset()],
        "test_size": [_FRACTION],
        "val_size": [_FRACTION],
        "by": ["name", None],
        "stratify": ["name", None],
        "seed": [Interval(Integral, 0, None)],
    },
    hints={"dataset": "Load one first (load_vggface2, load_adult, ...) or build a "
                      "FaceDataset(paths=..., columns=...)."},
)
def split(
    dataset: _D,
    *,
    test_size: float = 0.2,
    val_size: float = 0.1,
    by: str | None = None,
    stratify: str | None = None,
    seed: int = 0,
) -> tuple[_D, _D, _D]:
    """Split into train, validation and test, optionally by a unit column and stratified.

    Parameters
    ----------
    dataset : FaceDataset or TabularDataset
        Split by its ``columns``; each side is ``dataset.take(rows)``, of the same type.
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
    train, val, test : FaceDataset or TabularDataset
        Rows in their original order. ``rejected`` is kept on each.

    Raises
    ------
    TypeError
        If ``dataset`` is not a FaceDataset or TabularDataset, or another argument has
        the wrong type.
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
    unit_of_row, n_units = _units(dataset, by)
    stratum_of_unit = _unit_strata(dataset, stratify, by, unit_of_row, n_units)
    side = _sides(stratum_of_unit, test_size, val_size, seed)
    row_side = side[unit_of_row]
    return tuple(dataset.take(np.flatnonzero(row_side == s)) for s in (0, 1, 2))  # type: ignore[return-value]


def _size(size: Sequence[int]) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        raise param_error(
            "size", size, "(height, width)",
            hint=f"Write size=({size}, {size}) for a square image.", error=TypeError,
        )
    given = size
    parts = list(size) if isinstance(size, (tuple, list)) else [size]
    ints = [isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in parts]
    if not all(ints) or len(parts) != 2 or min(parts) < 1:
        raise param_error("size", given, "(height, width) of ints >= 1",
                          error=ValueError if all(ints) else TypeError)
    return (int(parts[0]), int(parts[1]))


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
        If ``size`` is not two positive ints, or a file is empty, not an image,
        truncated or too large to decode safely (the message names the file).
    TypeError
        If ``size`` is a single number.
    FileNotFoundError
        If a file does not exist.
    """
    height, width = _size(size)
    image_module = _pil()
    paths = [str(p) for p in np.asarray(paths, dtype=str).reshape(-1)]
    out = np.empty((len(paths), height, width, 3), dtype=np.float32)
    for i, path in enumerate(paths):
        try:
            with image_module.open(path) as image:
                image = _eight_bit(image, image_module).convert("RGB")
                if image.size != (width, height):
                    image = image.resize((width, height), image_module.Resampling.BILINEAR)
                out[i] = np.asarray(image, dtype=np.float32) / 255.0
        except FileNotFoundError:
            raise
        except IsADirectoryError:
            raise ValueError(
                f"{path} is a folder, not an image file; pass the image files' paths."
            ) from None
        except image_module.DecompressionBombError as exc:
            raise ValueError(
                f"{path} is too large to decode safely ({exc}); resize it, remove it, or "
                "raise PIL.Image.MAX_IMAGE_PIXELS if you trust the file."
            ) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ValueError(f"{path} {_unreadable(path, exc)}") from exc
    return out


def _eight_bit(image: Any, image_module: Any) -> Any:
    """A 16-bit greyscale image as 8-bit greyscale, scaled by its 16-bit range.

    ``convert("RGB")`` clips such values at 255 (a 16-bit PNG would read as all white);
    ``tf.io.decode_image`` keeps the top 8 bits, which this matches.
    """
    if not (image.mode.startswith("I;16") or (image.mode == "I" and image.format == "PNG")):
        return image
    values = np.asarray(image, dtype=np.float64)
    return image_module.fromarray(np.clip(np.round(values / 257), 0, 255).astype(np.uint8))


def _unreadable(path: str, exc: BaseException) -> str:
    """Why Pillow could not read ``path``, and the fix (after the path in a message)."""
    try:
        empty = os.path.getsize(path) == 0
    except OSError:
        empty = False
    if empty:
        what = "is empty (0 bytes)"
    elif "cannot identify image file" in str(exc):
        what = "is not an image Pillow can read"
    else:
        what = f"cannot be decoded (truncated or corrupt: {exc})"
    return f"{what}; remove or replace the file (re-download it)."


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
    tf.errors.InvalidArgumentError
        When ``load`` reads a file that is empty or not a JPEG, PNG, GIF or BMP image;
        the message names the file.
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
        path = tf.gather(path_table, index)
        data = tf.io.read_file(path)
        # decode_image's own error names no file: check the signature here, with the path
        known = tf.reduce_any(tf.stack([
            tf.equal(tf.strings.substr(data, 0, len(magic)), magic) for magic in _MAGIC
        ]))
        check = tf.debugging.Assert(known, [path, "is empty or not a JPEG, PNG, GIF or BMP "
                                            "image; remove or replace the file."])
        with tf.control_dependencies([check]):
            data = tf.identity(data)
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), (height, width), method="bilinear")
        image = tf.ensure_shape(image / 255.0, (height, width, 3))
        if targets is None:
            return image
        return image, tf.gather(targets, index)

    return load


def files_under(root: Path) -> tuple[list[Path], list[Rejected]]:
    """Every regular file below ``root`` (sorted), and every entry refused, with the reason.

    Internal helper for the loaders; ``root`` is resolved (:func:`check_dir`). Links are
    never followed, and never skipped without a word: a link out of ``root`` is refused
    as a "symlink outside the data folder" (its bytes would otherwise be loaded and
    copied by :func:`~fairtrain.datasets.write_tfrecords`; a linked folder's files are
    not even listed), and a link inside ``root`` points at files the walk reads under
    their own paths, so following it would only load them twice. Broken links,
    entries that are neither files nor folders, and folders that cannot be listed (no
    permission) are refused too.
    """
    files: list[Path] = []
    rejected: list[Rejected] = []

    def unreadable(exc: OSError) -> None:  # os.walk skips such a folder without a word
        rejected.append(Rejected(
            str(exc.filename), f"a folder that cannot be read ({exc.strerror or exc}); its "
            "files are not read"))

    # followlinks=False: links come as names
    for folder, dirs, names in os.walk(root, onerror=unreadable):
        base = Path(folder)
        for name in sorted(dirs + names):
            path = base / name
            if path.is_symlink():
                rejected.append(Rejected(str(path), _link_reason(path, root)))
            elif name in names and name != MARKER:
                if path.is_file():
                    files.append(path)
                else:
                    rejected.append(Rejected(str(path), "not a regular file"))
    return sorted(files), rejected


def nothing_loaded(root: Path, what: str, rejected: Sequence[Rejected]) -> ValueError:
    """The error of a loader that found no image to keep in ``root`` (internal helper)."""
    found = (
        f"{len(rejected)} file(s) were refused, e.g. {rejected[0].path}: {rejected[0].reason}"
        if rejected else "the folder holds no file"
    )
    return ValueError(f"{root} holds no {what}; {found}. Check the path.")


def _link_reason(link: Path, root: Path) -> str:
    target = link.resolve()
    if not target.exists():
        return f"a broken link (to {target})"
    if not target.is_relative_to(root):
        return f"symlink outside the data folder (to {target})" + (
            "; its files are not read" if target.is_dir() else ""
        )
    return f"a link to {target}, inside the data folder: its files are read there, once"


#: The first bytes of the formats tf.io.decode_image reads (JPEG, PNG, GIF, BMP).
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM")


def check_dir(root: Any, what: str) -> Path:
    """``root`` as an absolute Path, or a clear error when it is not a directory."""
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"{what} must be a path (str or os.PathLike); got {root!r}.")
    path = Path(root).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"{what} {str(root)!r} is not a directory.")
    return path
