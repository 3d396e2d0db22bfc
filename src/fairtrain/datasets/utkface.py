"""UTKFace loader: age, gender and race parsed from ``[age]_[gender]_[race]_[datetime].jpg``."""

from __future__ import annotations

from typing import Any

import numpy as np

from fairtrain.datasets._core import (
    FaceDataset,
    Rejected,
    check_dir,
    files_under,
    nothing_loaded,
)

__all__ = ["GENDERS", "MAX_AGE", "RACES", "load_utkface", "parse_utkface_name"]

#: UTKFace's race codes 0..4, in code order.
RACES: list[str] = ["White", "Black", "Asian", "Indian", "Others"]
#: UTKFace's gender codes 0 and 1, in code order.
GENDERS: list[str] = ["male", "female"]
#: The oldest age UTKFace labels.
MAX_AGE: int = 116
_SUFFIXES = (".jpg.chip.jpg", ".jpg")


def _code(field: str, name: str, n_codes: int, meaning: str) -> tuple[int | None, str]:
    if not (field.isascii() and field.isdigit()):
        return None, f"{name} {field!r} is not a number"
    value = int(field)
    if value >= n_codes:
        return None, f"{name} {value} is out of range ({meaning})"
    return value, ""


def _stem(filename: str) -> str:
    lowered = filename.lower()
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def parse_utkface_name(filename: str) -> tuple[tuple[int, str, str] | None, str]:
    """Parse one UTKFace file name into (age, gender, race), or say why it is malformed.

    Parameters
    ----------
    filename : str
        A base name such as ``"25_1_3_20170119171621021.jpg.chip.jpg"``.

    Returns
    -------
    parsed : (int, str, str) or None
        ``(age, gender, race)`` with gender in :data:`GENDERS`, race in :data:`RACES`;
        None when the name is malformed.
    reason : str
        Empty when parsed; otherwise why the name was refused.

    Examples
    --------
    >>> parse_utkface_name("25_1_3_20170119171621021.jpg.chip.jpg")
    ((25, 'female', 'Indian'), '')
    >>> parse_utkface_name("39_1_20170116174525125.jpg.chip.jpg")
    (None, 'expected 4 fields age_gender_race_datetime, got 3: 39_1_20170116174525125')
    >>> parse_utkface_name("117_0_0_20170117120000000.jpg")[1]
    'age 117 is out of range (0 to 116)'
    """
    if not isinstance(filename, str):
        raise TypeError(
            f"`filename` must be a file's base name (a str); got {filename!r}. Pass "
            "os.path.basename(path) or Path(path).name."
        )
    lowered = filename.lower()
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix):
            stem = filename[: -len(suffix)]
            break
    else:
        return None, "not a UTKFace image name (expected .jpg or .jpg.chip.jpg)"
    fields = stem.split("_")
    if len(fields) != 4:
        return None, f"expected 4 fields age_gender_race_datetime, got {len(fields)}: {stem}"
    age, reason = _code(fields[0], "age", MAX_AGE + 1, f"0 to {MAX_AGE}")
    if reason:
        return None, reason
    gender, reason = _code(fields[1], "gender", 2, "0 male or 1 female")
    if reason:
        return None, reason
    race, reason = _code(
        fields[2], "race", 5, ", ".join(f"{i} {r}" for i, r in enumerate(RACES))
    )
    if reason:
        return None, reason
    if not (fields[3].isascii() and fields[3].isdigit()):
        return None, f"datetime {fields[3]!r} is not a number"
    return (age, GENDERS[gender], RACES[race]), ""  # type: ignore[index]


def load_utkface(root: Any) -> FaceDataset:
    """Load UTKFace: labels parsed from the file names, malformed names rejected.

    Parameters
    ----------
    root : path
        A folder holding UTKFace images (``UTKFace/``, ``crop_part1/`` or the
        in-the-wild folders), searched recursively. Names are
        ``[age]_[gender]_[race]_[datetime].jpg`` or ``....jpg.chip.jpg``.

    Returns
    -------
    FaceDataset
        Columns ``"age"`` (int, 0 to 116), ``"gender"`` (``"male"`` for code 0,
        ``"female"`` for 1) and ``"race"`` (codes 0 to 4: White, Black, Asian, Indian,
        Others); ``levels`` gives those orders. Every other file is in ``rejected``
        with the reason: a missing or extra field, a code out of range, a field that is
        not a number, a name that is not a UTKFace image name, or a second copy of one
        photo (the same ``age_gender_race_datetime``, e.g. its ``.jpg.chip.jpg`` crop
        and its in-the-wild ``.jpg``: the first in sorted path order is kept). Links
        are never followed: one whose target is outside ``root`` is rejected as a
        "symlink outside the data folder" (a linked folder with all its files), one
        inside as a second path to files read under their own path, a broken link as
        broken.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder.
    ValueError
        If no image is kept (an empty folder, or only refused files): the message names
        the folder, the expected names and a refused file.
    """
    root = check_dir(root, "UTKFace root")
    paths, ages, genders, races = [], [], [], []
    first_of_photo: dict[str, str] = {}
    files, rejected = files_under(root)
    for path in files:
        parsed, reason = parse_utkface_name(path.name)
        if parsed is None:
            rejected.append(Rejected(str(path), reason))
            continue
        # The aligned crop and the in-the-wild original of one photo (or one file in two
        # folders) share age_gender_race_datetime: keep the first, so no row split can
        # put one photo on both sides.
        photo = _stem(path.name)
        if photo in first_of_photo:
            rejected.append(Rejected(
                str(path), f"the same photo ({photo}) as {first_of_photo[photo]}"
            ))
            continue
        first_of_photo[photo] = str(path)
        paths.append(str(path))
        ages.append(parsed[0])
        genders.append(parsed[1])
        races.append(parsed[2])
    if not paths:
        raise nothing_loaded(root, "UTKFace image (names [age]_[gender]_[race]_[datetime].jpg "
                             "or .jpg.chip.jpg)", rejected)
    return FaceDataset(
        paths=np.asarray(paths, dtype=str),
        columns={
            "age": np.asarray(ages, dtype=np.int64),
            "gender": np.asarray(genders, dtype=str),
            "race": np.asarray(races, dtype=str),
        },
        rejected=tuple(rejected),
        levels={"gender": list(GENDERS), "race": list(RACES)},
        name="utkface",
    )
