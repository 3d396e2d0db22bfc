"""VGGFace2 loader: identity folders, the identity metadata CSV and a user's ethnicity CSV."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairtrain.datasets._core import (
    IMAGE_SUFFIXES,
    FaceDataset,
    Rejected,
    check_dir,
    files_under,
    nothing_loaded,
)

__all__ = ["ETHNICITIES", "load_vggface2"]

#: The four ethnicity classes of the VGGFace2 ethnicity task, in canonical order.
ETHNICITIES: list[str] = ["African", "Asian", "Latin/Caucasian", "Indian"]
_GENDERS = {"m": "male", "f": "female"}
_IDENTITY_HEADERS = ("class_id", "identity")


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line number, fields)]) of a comma-separated file; spaces after commas ignored."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [
                (reader_line, [field.strip() for field in row])
                for reader_line, row in enumerate(csv.reader(f, skipinitialspace=True), start=1)
                if row and any(field.strip() for field in row)
            ]
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
            f"{exc.start}); save or convert it as UTF-8 (e.g. iconv -f latin1 -t utf-8)."
        ) from None
    if not rows:
        raise ValueError(f"{path} is empty; it needs a header row.")
    return rows[0][1], rows[1:]


def _column(header: list[str], names: Sequence[str], path: Path) -> int:
    """The index of the first of ``names`` in ``header`` (any case); ValueError if none or twice."""
    lowered = [h.lower() for h in header]
    for name in names:
        if lowered.count(name.lower()) > 1:
            raise ValueError(
                f"{path} names the column {name!r} twice in its header {header}; rename or "
                "remove one, so that it is clear which one holds the values."
            )
        if name.lower() in lowered:
            return lowered.index(name.lower())
    wanted = " or ".join(map(repr, names))
    raise ValueError(f"{path} has no column {wanted}; its header is {header}.")


def _read_ethnicity(path: Path, levels: Sequence[str]) -> dict[str, str]:
    """Identity -> ethnicity label of the user's ethnicity CSV."""
    header, rows = _read_csv(path)
    id_col = _column(header, _IDENTITY_HEADERS, path)
    eth_col = _column(header, ("ethnicity",), path)
    table: dict[str, str] = {}
    for line, row in rows:
        if len(row) != len(header):
            raise ValueError(f"{path}:{line} has {len(row)} fields; the header has {len(header)}.")
        identity, label = row[id_col], row[eth_col]
        if label not in levels:
            raise ValueError(
                f"{path}:{line}: ethnicity {label!r} of {identity!r} is not one of {list(levels)}."
            )
        if table.get(identity, label) != label:
            raise ValueError(
                f"{path}:{line}: identity {identity!r} is listed as both {table[identity]!r} "
                f"and {label!r}."
            )
        table[identity] = label
    return table


def _read_identity_meta(path: Path) -> dict[str, str]:
    """Class_ID -> raw Gender field of VGGFace2's ``identity_meta.csv``."""
    header, rows = _read_csv(path)
    id_col = _column(header, ("Class_ID",), path)
    gender_col = _column(header, ("Gender",), path)
    table = {}
    for line, row in rows:
        if len(row) != len(header):
            raise ValueError(f"{path}:{line} has {len(row)} fields; the header has {len(header)}.")
        identity, gender = row[id_col], row[gender_col]
        if table.get(identity, gender) != gender:
            raise ValueError(
                f"{path}:{line}: identity {identity!r} is listed as both {table[identity]!r} "
                f"and {gender!r}."
            )
        table[identity] = gender
    return table


def _rejection(rel: Path, path: Path, ethnicity: dict[str, str], ethnicity_csv: Path,
               meta: dict[str, str] | None, identity_meta: Any) -> str | None:
    """Why :func:`load_vggface2` rejects the file ``path`` (``rel`` under the root), or None."""
    if len(rel.parts) != 2:
        return "not directly inside an identity folder (expected root/<identity>/<image>.jpg)"
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return f"not an image file (suffix not in {IMAGE_SUFFIXES})"
    identity = rel.parts[0]
    if identity not in ethnicity:
        return f"identity {identity!r} has no row in {ethnicity_csv}"
    if meta is None:
        return None
    if identity not in meta:
        return f"identity {identity!r} has no row in {identity_meta}"
    if meta[identity].lower() not in _GENDERS:
        return (f"identity {identity!r} has gender {meta[identity]!r} in {identity_meta} "
                "(expected m or f)")
    return None


def _check_levels(levels: Any) -> None:
    """Raise TypeError if ``levels`` is one string rather than a list of labels."""
    if isinstance(levels, (str, bytes)):
        raise TypeError(
            f"`levels` must be a list of the ethnicity labels in order; got the string "
            f"{levels!r}. Give a list, e.g. levels=[{levels!r}, ...]."
        )


def _columns(identities: list[str], ethnicity: dict[str, str],
             meta: dict[str, str] | None) -> dict[str, np.ndarray]:
    """The kept images' ``"identity"``, ``"ethnicity"`` and (with ``meta``) ``"gender"``."""
    columns = {
        "identity": np.asarray(identities, dtype=str),
        "ethnicity": np.asarray([ethnicity[i] for i in identities], dtype=str),
    }
    if meta is not None:
        columns["gender"] = np.asarray([_GENDERS[meta[i].lower()] for i in identities], dtype=str)
    return columns


def load_vggface2(
    root: Any,
    ethnicity_csv: Any,
    *,
    identity_meta: Any = None,
    levels: Sequence[str] = tuple(ETHNICITIES),
) -> FaceDataset:
    """Load VGGFace2 images with a user-supplied ethnicity per identity.

    Parameters
    ----------
    root : path
        The folder of identity folders, e.g. VGGFace2's ``train/``:
        ``root/n000002/0001_01.jpg``. Searched recursively.
    ethnicity_csv : path
        A CSV with a header row holding an identity column (``Class_ID`` or
        ``identity``) and an ``ethnicity`` column, one row per identity. VGGFace2 has no
        ethnicity labels; they come from the user.
    identity_meta : path, optional
        VGGFace2's ``meta/identity_meta.csv`` (``Class_ID, Name, Sample_Num, Flag,
        Gender``, spaces after the commas, gender ``m``/``f``); adds a ``"gender"``
        column.
    levels : sequence of str, default ETHNICITIES
        The ethnicity labels the CSV may use, in canonical order.

    Returns
    -------
    FaceDataset
        Columns ``"identity"`` (the folder name), ``"ethnicity"`` and, with
        ``identity_meta``, ``"gender"`` (``"male"``/``"female"``);
        ``levels={"ethnicity": list(levels)}``. Rejected: files not directly inside an
        identity folder, files that are not images (by suffix), identities missing from
        a CSV, identities whose gender is not ``m`` or ``f``, and links (a linked file
        or identity folder; see :func:`~fairtrain.datasets.load_utkface`). Identities listed in a
        CSV without a folder under ``root`` (e.g. the test identities while loading
        ``train/``) are not an error.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder or a CSV does not exist.
    ValueError
        If a CSV is not UTF-8, lacks a needed column or names it twice, has a row of the
        wrong length, uses an ethnicity not in ``levels``, or gives one identity two
        ethnicities (or two genders). Also if no image is kept (an empty folder, or
        only refused files).
    TypeError
        If ``levels`` is a string.
    """
    _check_levels(levels)
    root = check_dir(root, "VGGFace2 root")
    levels = [str(level) for level in levels]
    ethnicity_csv = Path(ethnicity_csv)
    ethnicity = _read_ethnicity(ethnicity_csv, levels)
    meta = None if identity_meta is None else _read_identity_meta(Path(identity_meta))
    paths, identities = [], []
    files, rejected = files_under(root)
    for path in files:
        rel = path.relative_to(root)
        reason = _rejection(rel, path, ethnicity, ethnicity_csv, meta, identity_meta)
        if reason is not None:
            rejected.append(Rejected(str(path), reason))
            continue
        paths.append(str(path))
        identities.append(rel.parts[0])
    if not paths:
        raise nothing_loaded(root, "VGGFace2 image (root/<identity>/<image>.jpg, the "
                             f"identity listed in {ethnicity_csv})", rejected)
    return FaceDataset(
        paths=np.asarray(paths, dtype=str),
        columns=_columns(identities, ethnicity, meta),
        rejected=tuple(rejected),
        levels={"ethnicity": levels},
        name="vggface2",
    )
