"""CelebA loader: ``img_align_celeba/``, the attribute list and the partition list."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from fairtrain._validation import Options, check
from fairtrain.datasets._core import (
    IMAGE_SUFFIXES,
    FaceDataset,
    Rejected,
    check_dir,
    files_under,
    nothing_loaded,
)

__all__ = ["PARTITIONS", "load_celeba"]

#: CelebA's partition codes 0, 1, 2 of ``list_eval_partition.txt``, in code order.
PARTITIONS: list[str] = ["train", "valid", "test"]
_ATTR_FILE = "list_attr_celeba.txt"
_PARTITION_FILE = "list_eval_partition.txt"
_IMAGE_DIR = "img_align_celeba"


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    """The non-blank lines of a CelebA list file as (line number, fields)."""
    if not path.is_file():
        raise FileNotFoundError(f"CelebA file {path} does not exist.")
    try:
        with open(path, encoding="utf-8") as f:
            return [(i, line.split()) for i, line in enumerate(f, start=1) if line.strip()]
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
            f"{exc.start}); it is not CelebA's list as published. Save or convert it as "
            "UTF-8, or download it again."
        ) from None


def _read_attributes(path: Path) -> tuple[list[str], dict[str, Any]]:
    """(attribute names, file name -> array of -1/1 or a reason string)."""
    lines = _lines(path)
    if len(lines) < 2 or len(lines[0][1]) != 1 or not lines[0][1][0].isdigit():
        raise ValueError(
            f"{path} must start with the number of images on line 1 and the attribute "
            "names on line 2."
        )
    declared = int(lines[0][1][0])
    header = lines[1][1]
    repeated = sorted({a for a in header if header.count(a) > 1})
    if repeated:
        raise ValueError(
            f"{path}: the header (line 2) names {repeated[0]!r} twice (repeated: "
            f"{repeated}); each attribute must be named once. Fix the header."
        )
    if "Male" not in header:
        raise ValueError(f"{path}: the header (line 2) has no 'Male' attribute: {header}.")
    rows = lines[2:]
    if len(rows) != declared:
        raise ValueError(
            f"{path} declares {declared} images on line 1 but lists {len(rows)}: the file "
            "is truncated or was edited; fix the count or the rows."
        )
    table: dict[str, Any] = {}
    for line, fields in rows:
        name = fields[0]
        if name in table:
            raise ValueError(f"{path}:{line}: {name} is listed twice.")
        values = fields[1:]
        if len(values) != len(header):
            table[name] = (
                f"its row in {_ATTR_FILE} (line {line}) has {len(values)} values; the header "
                f"names {len(header)} attributes"
            )
        elif any(v not in ("-1", "1") for v in values):
            bad = next(v for v in values if v not in ("-1", "1"))
            table[name] = f"its row in {_ATTR_FILE} (line {line}) holds {bad!r}, not -1 or 1"
        else:
            table[name] = np.asarray(values, dtype=np.int8)
    return header, table


def _read_partitions(path: Path) -> dict[str, Any]:
    """File name -> partition label, or a reason string."""
    table: dict[str, Any] = {}
    for line, fields in _lines(path):
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            table[fields[0]] = (
                f"its row in {_PARTITION_FILE} (line {line}) is not '<file> 0|1|2': "
                f"{' '.join(fields)!r}"
            )
            continue
        if fields[0] in table:
            raise ValueError(f"{path}:{line}: {fields[0]} is listed twice.")
        table[fields[0]] = PARTITIONS[int(fields[1])]
    return table


def _rejection(path: Path, name: str, attributes: dict[str, Any],
               partitions: dict[str, Any]) -> str:
    """Why :func:`load_celeba` rejects the image ``name`` (a malformed row's reason), or ``""``."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return f"not an image file (suffix not in {IMAGE_SUFFIXES})"
    if name not in attributes:
        return f"not listed in {_ATTR_FILE}"
    if isinstance(attributes[name], str):
        return attributes[name]
    if name not in partitions:
        return f"not listed in {_PARTITION_FILE}"
    if partitions[name] not in PARTITIONS:
        return partitions[name]
    return ""


def _columns(header: list[str], rows: list[np.ndarray], parts: list[str]) -> dict[str, np.ndarray]:
    """The kept images' columns: ``"gender"``, ``"partition"`` and every attribute as bool."""
    values = np.asarray(rows, dtype=np.int8).reshape(len(rows), len(header))
    male = values[:, header.index("Male")] == 1
    columns: dict[str, np.ndarray] = {
        "gender": np.where(male, "male", "female").astype(str),
        "partition": np.asarray(parts, dtype=str),
    }
    for j, attribute in enumerate(header):
        columns[attribute] = values[:, j] == 1
    return columns


def load_celeba(
    root: Any, *, partition: Literal["train", "valid", "test"] | None = None
) -> FaceDataset:
    """Load CelebA's aligned images with their 40 attributes and official partition.

    Parameters
    ----------
    root : path
        A folder holding ``img_align_celeba/`` (the images), ``list_attr_celeba.txt``
        (line 1 the number of images, line 2 the 40 attribute names, then one row per
        image ``000001.jpg -1 1 ...``) and ``list_eval_partition.txt``
        (``000001.jpg 0``: 0 train, 1 valid, 2 test).
    partition : {"train", "valid", "test"}, optional
        Keep only that partition. Default: all images.

    Returns
    -------
    FaceDataset
        Columns ``"gender"`` (``"male"`` where ``Male`` is 1, ``"female"`` where it is
        -1), ``"partition"`` and every attribute of the header as a bool column under
        its own name (``"Male"``, ``"Young"``, ...). Rejected: images not listed in either
        file or with a malformed row there, files that are not images, rows whose
        image file is missing, and links (see
        :func:`~fairtrain.datasets.load_utkface`). Images of other partitions are left
        out, not rejected.

    Raises
    ------
    FileNotFoundError
        If ``root``, ``img_align_celeba/`` or a list file is missing.
    ValueError
        If ``partition`` is unknown, a list file is not UTF-8 text, the attribute
        file's first two lines are not the count and the header, the count differs from
        the rows, the header has no ``Male`` or names an attribute twice, or a file is
        listed twice. Also if no image of the folder is listed in both files (an empty
        folder, or only refused files), whatever ``partition``.
    """
    check("partition", partition, [Options(str, PARTITIONS), None])
    root = check_dir(root, "CelebA root")
    image_dir = check_dir(root / _IMAGE_DIR, "CelebA image folder")
    header, attributes = _read_attributes(root / _ATTR_FILE)
    partitions = _read_partitions(root / _PARTITION_FILE)
    paths, rows, parts = [], [], []
    usable = 0  # images listed in both files, whatever their partition
    files, rejected = files_under(image_dir)
    # A refused link is reported once, with its own reason, not also as a missing file.
    seen = {Path(r.path).relative_to(image_dir).as_posix() for r in rejected}
    for path in files:
        name = path.relative_to(image_dir).as_posix()
        seen.add(name)
        reason = _rejection(path, name, attributes, partitions)
        usable += not reason
        if reason:
            rejected.append(Rejected(str(path), reason))
        elif partition is None or partitions[name] == partition:
            paths.append(str(path))
            rows.append(attributes[name])
            parts.append(partitions[name])
    for name in attributes:
        if name not in seen:
            rejected.append(Rejected(
                str(image_dir / name), f"listed in {_ATTR_FILE} but the file is missing"
            ))
    if not usable:
        raise nothing_loaded(image_dir, f"CelebA image listed in {_ATTR_FILE} and "
                             f"{_PARTITION_FILE}", rejected)
    return FaceDataset(
        paths=np.asarray(paths, dtype=str),
        columns=_columns(header, rows, parts),
        rejected=tuple(rejected),
        levels={"gender": ["male", "female"], "partition": list(PARTITIONS)},
        name="celeba" if partition is None else f"celeba-{partition}",
    )
