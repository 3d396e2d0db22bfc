"""TFRecord files of a dataset split that keep every example's image bytes and attributes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from fairtrain.datasets._core import FaceDataset, Rejected

__all__ = ["read_tfrecords", "write_tfrecords"]

_FORMAT = "fairtrain.FaceDataset.tfrecord/1"
_PREFIX = "column/"


def _tf():
    try:
        import tensorflow as tf
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'TFRecord files need TensorFlow: pip install "fairtrain[tensorflow]".'
        ) from exc
    return tf


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _is_ours(sidecar: Path) -> bool:
    """Whether ``sidecar`` is a description written by :func:`write_tfrecords`."""
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == _FORMAT


def _kind(name: str, column: np.ndarray) -> str:
    if column.dtype.kind == "b":
        return "bool"
    if column.dtype.kind in "iu":
        return "int"
    if column.dtype.kind == "f":
        return "float"
    if column.dtype.kind in "USO":
        return "str"
    raise TypeError(f"Column {name!r} has dtype {column.dtype}; TFRecords hold int, float, "
                    "bool or str columns.")


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
        description beside it) is never replaced.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False or the file is not fairtrain's.
    FileNotFoundError
        If an image file is missing; the partial file (and, when replacing, the earlier
        description) is removed.
    TypeError
        If a column is not int, float, bool or str.
    ValueError
        If a column is named ``"image"`` or ``"path"`` (the names of the record's own
        fields).

    Notes
    -----
    Each example is a ``tf.train.Example`` with ``"image"`` (the file's bytes),
    ``"path"`` and one ``"column/<name>"`` feature per attribute column. The JSON holds
    the column types, :attr:`FaceDataset.levels`, the name, the number of examples and
    the rejected files, so :func:`read_tfrecords` restores the dataset exactly.
    """
    tf = _tf()
    path = Path(path).expanduser().resolve()
    sidecar = _sidecar(path)
    if path.exists() or sidecar.exists():
        ours = sidecar.is_file() and _is_ours(sidecar)
        if not (overwrite and ours):
            raise FileExistsError(
                f"{path} exists; pass overwrite=True to replace a file write_tfrecords "
                "wrote (fairtrain never replaces other files)."
                if ours else f"{path} or {sidecar.name} beside it exists and was not written by "
                "fairtrain; choose another path."
            )
    kinds = {name: _kind(name, column) for name, column in dataset.columns.items()}
    for name in ("image", "path"):
        if name in kinds:
            raise ValueError(
                f"A column {name!r} would replace each example's {name} when read back; "
                "rename the column."
            )
    path.parent.mkdir(parents=True, exist_ok=True)

    def feature(kind: str, value: Any) -> Any:
        if kind in ("int", "bool"):
            return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
        if kind == "float":
            return tf.train.Feature(float_list=tf.train.FloatList(value=[float(value)]))
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(value).encode()]))

    try:
        with tf.io.TFRecordWriter(str(path)) as writer:
            for i, image_path in enumerate(dataset.paths):
                features = {
                    "image": tf.train.Feature(bytes_list=tf.train.BytesList(
                        value=[Path(image_path).read_bytes()])),
                    "path": feature("str", image_path),
                }
                for name, column in dataset.columns.items():
                    features[_PREFIX + name] = feature(kinds[name], column[i])
                example = tf.train.Example(features=tf.train.Features(feature=features))
                writer.write(example.SerializeToString())
    except BaseException:
        # Both files are ours here (new, or replaced with overwrite=True): a partial
        # record file would pass for a foreign one and block every retry, and an
        # earlier description would no longer match the records.
        path.unlink(missing_ok=True)
        sidecar.unlink(missing_ok=True)
        raise
    sidecar.write_text(json.dumps({
        "format": _FORMAT,
        "n": len(dataset),
        "name": dataset.name,
        "columns": kinds,
        "levels": dataset.levels,
        "rejected": [[r.path, r.reason] for r in dataset.rejected],
    }, indent=1))
    return str(path)


_KINDS = ("int", "bool", "float", "str")


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
        attribute column under its own name.
    face_dataset : FaceDataset
        The paths, columns (read from the records; ints as int64, floats as float32), levels,
        name and rejected files of the written dataset.

    Raises
    ------
    FileNotFoundError
        If the file or its description is missing.
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
    dtypes = {"int": tf.int64, "bool": tf.int64, "float": tf.float32, "str": tf.string}
    spec = {"image": tf.io.FixedLenFeature([], tf.string),
            "path": tf.io.FixedLenFeature([], tf.string)}
    for name, kind in meta["columns"].items():
        spec[_PREFIX + name] = tf.io.FixedLenFeature([], dtypes[kind])

    def parse(record: Any) -> dict[str, Any]:
        parsed = tf.io.parse_single_example(record, spec)
        out = {"image": parsed["image"], "path": parsed["path"]}
        if decode:
            out["image"] = tf.io.decode_image(parsed["image"], channels=3,
                                              expand_animations=False)
        for name, kind in meta["columns"].items():
            value = parsed[_PREFIX + name]
            out[name] = tf.cast(value, tf.bool) if kind == "bool" else value
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
    columns = {}
    for name, kind in meta["columns"].items():
        values = [row[_PREFIX + name] for row in rows]
        if kind == "str":
            columns[name] = np.asarray([v.decode() for v in values], dtype=str)
        else:
            dtype = {"int": np.int64, "bool": bool, "float": np.float32}[kind]
            columns[name] = np.asarray(values, dtype=dtype)
    face = FaceDataset(
        paths=np.asarray([row["path"].decode() for row in rows], dtype=str),
        columns=columns,
        rejected=tuple(Rejected(p, r) for p, r in meta["rejected"]),
        levels=meta["levels"],
        name=meta["name"],
    )
    return records.map(parse), face
