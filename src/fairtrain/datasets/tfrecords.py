"""TFRecord files of a dataset split that keep every example's image bytes and attributes."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from fairtrain._validation import validate_params
from fairtrain.datasets._core import FaceDataset, Rejected

__all__ = ["read_tfrecords", "write_tfrecords"]

# /1 (never released) kept floats as float32 and wrote str(value) for any object.
_FORMAT = "fairtrain.FaceDataset.tfrecord/2"
_PREFIX = "column/"
#: Numeric kinds stored as the int64 of their bits (float64 and uint64 do not fit a
#: float_list or an int64 value; storing every number as bits keeps it exact to the bit).
_BITS = {"float64": "int64", "float32": "int32", "float16": "int16", "uint64": "int64"}
_NUMERIC = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float16", "float32", "float64")


def _tf():
    """TensorFlow, or ImportError saying how to install it."""
    try:
        import tensorflow as tf
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'TFRecord files need TensorFlow: pip install "fairtrain[tensorflow]".'
        ) from exc
    return tf


def _sidecar(path: Path) -> Path:
    """The JSON description's path beside the record file ``path``."""
    return path.with_name(path.name + ".json")


def _sha256(path: Path) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_ours(sidecar: Path) -> bool:
    """Whether ``sidecar`` is a description written by :func:`write_tfrecords`."""
    return _description(sidecar) is not None


def _description(sidecar: Path) -> dict[str, Any] | None:
    """The description in ``sidecar`` if write_tfrecords wrote it, else None."""
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == _FORMAT else None


def _check_target(given: Path, path: Path, sidecar: Path, overwrite: bool) -> None:
    """Refuse to write unless both files are new or both are the ones written before."""
    for link in (given, sidecar):  # a broken link at either would be written through
        if link.is_symlink():
            raise FileExistsError(
                f"{link} is a link; write_tfrecords never writes through one. Remove it "
                "or choose another path."
            )
    if not (path.exists() or sidecar.exists()):
        return
    meta = _description(sidecar) if sidecar.is_file() else None
    if meta is None:
        raise FileExistsError(
            f"{path} or {sidecar.name} beside it exists and was not written by fairtrain; "
            "choose another path."
        )
    # The description alone proves nothing about the file beside it: the records must
    # still be the bytes written with it (a user's file put there is never replaced).
    if path.exists() and (not path.is_file() or meta.get("sha256") != _sha256(path)):
        raise FileExistsError(
            f"{path} is not the file write_tfrecords wrote (its SHA-256 differs from the "
            f"one recorded in {sidecar.name}); fairtrain never replaces other files. Move "
            "it or choose another path."
        )
    if not overwrite:
        raise FileExistsError(
            f"{path} exists; pass overwrite=True to replace a file write_tfrecords wrote "
            "(fairtrain never replaces other files)."
        )


def _kind(name: str, column: np.ndarray) -> str:
    """The stored kind of a column: its NumPy dtype name, "str", or "object" (all str)."""
    if column.dtype.name in _NUMERIC:
        return column.dtype.name
    if column.dtype.kind == "U":
        return "str"
    if column.dtype.kind == "O":
        for i, value in enumerate(column):
            if not isinstance(value, str):
                raise TypeError(
                    f"Column {name!r} holds {value!r} ({type(value).__name__}) at row {i}; an "
                    "object column is stored only when every value is a str (None has no "
                    "exact stored form). Fill the missing values, convert the column to one "
                    "type, or drop it."
                )
        return "object"
    raise TypeError(f"Column {name!r} has dtype {column.dtype}; TFRecords hold bool, int, "
                    "uint, float (16, 32 or 64 bits) or str columns.")


def _stored(kind: str, column: np.ndarray) -> list[Any]:
    """A column as the Python values of its feature: int64 (numbers, bits) or bytes."""
    if kind in ("str", "object"):
        return [str(v).encode() for v in column]
    if kind in _BITS:
        column = column.view(_BITS[kind])
    return column.astype(np.int64).tolist()


def _restored(kind: str, values: list[Any]) -> np.ndarray:
    """The inverse of :func:`_stored`."""
    if kind in ("str", "object"):
        return np.asarray([v.decode() for v in values], dtype=str if kind == "str" else object)
    ints = np.asarray(values, dtype=np.int64)
    if kind in _BITS:
        return ints.astype(_BITS[kind]).view(kind)
    return ints.astype(kind)


def _tensor(kind: str, value: Any, tf: Any) -> Any:
    """A parsed feature as a tensor of the column's dtype (the records' view)."""
    if kind in ("str", "object"):
        return value
    if kind in _BITS:
        return tf.bitcast(tf.cast(value, _BITS[kind]), kind)
    return tf.cast(value, kind)


def _column_kinds(dataset: FaceDataset) -> dict[str, str]:
    """Each column's stored kind; ValueError for a column named like a record field."""
    kinds = {name: _kind(name, column) for name, column in dataset.columns.items()}
    for name in ("image", "path"):
        if name in kinds:
            raise ValueError(
                f"A column {name!r} would replace each example's {name} when read back; "
                "rename the column."
            )
    return kinds


def _write_records(tf: Any, path: Path, dataset: FaceDataset,
                   stored: dict[str, Any]) -> None:
    """Write one ``tf.train.Example`` per image: its bytes, its path and every column."""

    def feature(value: Any) -> Any:
        if isinstance(value, bytes):
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

    with tf.io.TFRecordWriter(str(path)) as writer:
        for i, image_path in enumerate(dataset.paths):
            features = {
                "image": tf.train.Feature(bytes_list=tf.train.BytesList(
                    value=[Path(image_path).read_bytes()])),
                "path": feature(str(image_path).encode()),
            }
            for name, values in stored.items():
                features[_PREFIX + name] = feature(values[i])
            example = tf.train.Example(features=tf.train.Features(feature=features))
            writer.write(example.SerializeToString())


def _write_description(sidecar: Path, path: Path, dataset: FaceDataset,
                       kinds: dict[str, str]) -> None:
    """Write the JSON description that lets :func:`read_tfrecords` restore ``dataset``."""
    sidecar.write_text(json.dumps({
        "format": _FORMAT,
        "sha256": _sha256(path),
        "n": len(dataset),
        "name": dataset.name,
        "columns": kinds,
        "levels": dataset.levels,
        "rejected": [[r.path, r.reason] for r in dataset.rejected],
    }, indent=1))


@validate_params({"overwrite": ["boolean"]})
def write_tfrecords(dataset: FaceDataset, path: Any, *, overwrite: bool = False) -> str:
    """Write a dataset (a split) to one TFRecord file, plus a JSON description beside it.

    Parameters
    ----------
    dataset : FaceDataset
        Its images are read as stored (the encoded file bytes, not decoded).
    path : path
        The TFRecord file; the description goes to ``<path>.json``.
    overwrite : bool, default False
        Replace a file this function wrote before. A file it did not write (no
        description beside it, or bytes other than the SHA-256 its description records)
        is never replaced, and nothing is written through a link.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    FileExistsError
        If ``path`` or its description ``<path>.json`` is a link, or ``path`` exists
        and ``overwrite`` is False or the file is not
        the one fairtrain wrote.
    FileNotFoundError
        If an image file is missing; the partial file (and, when replacing, the earlier
        description) is removed.
    TypeError
        If a column is not bool, int, uint, float (16, 32 or 64 bits) or str, or an
        object column holds a value that is not a str (None included: it has no exact
        stored form), named with its row; or if ``overwrite`` is not True or False.
    ValueError
        If a column is named ``"image"`` or ``"path"`` (the names of the record's own
        fields).

    Notes
    -----
    Each example is a ``tf.train.Example`` with ``"image"`` (the file's bytes),
    ``"path"`` and one ``"column/<name>"`` feature per attribute column: str columns as
    UTF-8 bytes, numbers in an ``int64_list``, bool and integers by value and float16,
    float32, float64 and uint64 as the bits of their value (``view``), so every value
    (NaN, -0.0, 1e40, 33.1, subnormals) comes back bit for bit. The JSON holds each
    column's dtype, :attr:`FaceDataset.levels`, the name, the number of examples, the
    SHA-256 of the record file and the rejected files, so :func:`read_tfrecords`
    restores the dataset exactly.
    """
    tf = _tf()
    given = Path(path).expanduser()
    path = given.resolve()
    sidecar = _sidecar(path)
    _check_target(given, path, sidecar, overwrite)
    kinds = _column_kinds(dataset)
    # Converted before the file is opened: a value that cannot be stored (a str no
    # UTF-8 holds) leaves an earlier split as it was.
    stored = {name: _stored(kinds[name], column) for name, column in dataset.columns.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_records(tf, path, dataset, stored)
    except BaseException:
        # Both files are ours here (new, or replaced with overwrite=True): a partial
        # record file would pass for a foreign one and block every retry, and an
        # earlier description would no longer match the records.
        path.unlink(missing_ok=True)
        sidecar.unlink(missing_ok=True)
        raise
    _write_description(sidecar, path, dataset, kinds)
    return str(path)


#: The stored kinds of a column: a NumPy dtype name, "str", or "object" (all str).
_KINDS = (*_NUMERIC, "str", "object")


def _tf_reason(exc: Any) -> str:
    """A TensorFlow error's message without the op and function names around it."""
    return re.sub(r"\{\{.*?\}\}\s*|\s*\[Op:.*$", "", str(exc.message), flags=re.S).strip()


def _read_description(sidecar: Path) -> dict[str, Any]:
    """The JSON description beside a record file, checked enough to read the records."""
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(
            f"{sidecar} is not valid JSON ({exc}); it is not a description written by "
            "write_tfrecords. Write the split again with write_tfrecords."
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ValueError(f"{sidecar} is not a description written by write_tfrecords.")
    columns = meta.get("columns")
    missing = [k for k in ("n", "name", "columns", "levels", "rejected") if k not in meta]
    if missing or not isinstance(columns, dict) or not isinstance(meta["n"], int):
        raise ValueError(
            f"{sidecar} lacks or garbles {missing or ['columns', 'n']}; it was edited. Write "
            "the split again with write_tfrecords."
        )
    for name, kind in columns.items():
        if kind not in _KINDS:
            raise ValueError(
                f"{sidecar} gives column {name!r} the unknown kind {kind!r} (the kinds are "
                f"{list(_KINDS)}); it was edited. Write the split again with write_tfrecords."
            )
    return meta


@validate_params({"decode": ["boolean"]})
def read_tfrecords(path: Any, *, decode: bool = True) -> tuple[Any, FaceDataset]:
    """Read a file written by :func:`write_tfrecords`.

    Parameters
    ----------
    path : path
        The TFRecord file (its ``<path>.json`` must be beside it).
    decode : bool, default True
        Decode the images (``tf.io.decode_image``, 3 channels, uint8); False keeps
        the encoded bytes.

    Returns
    -------
    dataset : tf.data.Dataset
        One dict per example, in file order: ``"image"``, ``"path"`` and every
        attribute column under its own name, with its written dtype.
    face_dataset : FaceDataset
        The paths, columns (read from the records, each value and dtype as written;
        an object column of str comes back as an object column), levels, name and
        rejected files of the written dataset.

    Raises
    ------
    FileNotFoundError
        If the file or its description is missing.
    TypeError
        If ``decode`` is not True or False.
    ValueError
        If the description is not fairtrain's (not JSON, another format, an unknown
        column kind), the record file is truncated or corrupt, or the record count
        differs from the description.
    """
    tf = _tf()
    path = Path(path).expanduser().resolve()
    sidecar = _sidecar(path)
    if not path.is_file() or not sidecar.is_file():
        raise FileNotFoundError(f"{path} and its description {sidecar.name} must both exist.")
    meta = _read_description(sidecar)
    spec = {"image": tf.io.FixedLenFeature([], tf.string),
            "path": tf.io.FixedLenFeature([], tf.string)}
    for name, kind in meta["columns"].items():
        spec[_PREFIX + name] = tf.io.FixedLenFeature(
            [], tf.string if kind in ("str", "object") else tf.int64)

    def parse(record: Any) -> dict[str, Any]:
        parsed = tf.io.parse_single_example(record, spec)
        out = {"image": parsed["image"], "path": parsed["path"]}
        if decode:
            out["image"] = tf.io.decode_image(parsed["image"], channels=3,
                                              expand_animations=False)
        for name, kind in meta["columns"].items():
            out[name] = _tensor(kind, parsed[_PREFIX + name], tf)
        return out

    records = tf.data.TFRecordDataset(str(path))
    columns_only = records.map(lambda r: {
        k: v for k, v in tf.io.parse_single_example(r, spec).items() if k != "image"
    })
    try:
        rows = list(columns_only.as_numpy_iterator())
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as exc:
        raise ValueError(f"{path} is truncated or corrupt, or does not match {sidecar.name} "
                         f"({_tf_reason(exc)}); write it again with write_tfrecords.") from None
    if len(rows) != meta["n"]:
        raise ValueError(f"{path} holds {len(rows)} examples; its description says {meta['n']}.")
    columns = {
        name: _restored(kind, [row[_PREFIX + name] for row in rows])
        for name, kind in meta["columns"].items()
    }
    face = FaceDataset(
        paths=np.asarray([row["path"].decode() for row in rows], dtype=str),
        columns=columns,
        rejected=tuple(Rejected(p, r) for p, r in meta["rejected"]),
        levels=meta["levels"],
        name=meta["name"],
    )
    return records.map(parse), face
