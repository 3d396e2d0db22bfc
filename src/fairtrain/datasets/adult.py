"""Adult (UCI Census Income) loader: ``adult.data`` and ``adult.test`` as UCI publishes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from fairtrain._validation import Options, validate_params
from fairtrain.datasets._core import Rejected, check_dir
from fairtrain.datasets._tabular import TabularDataset, encode, parse_int, text_lines

__all__ = ["load_adult"]

#: The 15 comma-separated fields of a row, named as in ``adult.names``.
COLUMNS: tuple[str, ...] = (
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
)
#: Every category of each categorical column, in the order ``adult.names`` lists them
#: (the one-hot order). The label's two values come last.
LEVELS: dict[str, list[str]] = {
    "workclass": ["Private", "Self-emp-not-inc", "Self-emp-inc", "Federal-gov", "Local-gov",
                  "State-gov", "Without-pay", "Never-worked"],
    "education": ["Bachelors", "Some-college", "11th", "HS-grad", "Prof-school", "Assoc-acdm",
                  "Assoc-voc", "9th", "7th-8th", "12th", "Masters", "1st-4th", "10th",
                  "Doctorate", "5th-6th", "Preschool"],
    "marital-status": ["Married-civ-spouse", "Divorced", "Never-married", "Separated",
                       "Widowed", "Married-spouse-absent", "Married-AF-spouse"],
    "occupation": ["Tech-support", "Craft-repair", "Other-service", "Sales", "Exec-managerial",
                   "Prof-specialty", "Handlers-cleaners", "Machine-op-inspct", "Adm-clerical",
                   "Farming-fishing", "Transport-moving", "Priv-house-serv", "Protective-serv",
                   "Armed-Forces"],
    "relationship": ["Wife", "Own-child", "Husband", "Not-in-family", "Other-relative",
                     "Unmarried"],
    "race": ["White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black"],
    "sex": ["Female", "Male"],
    "native-country": [
        "United-States", "Cambodia", "England", "Puerto-Rico", "Canada", "Germany",
        "Outlying-US(Guam-USVI-etc)", "India", "Japan", "Greece", "South", "China", "Cuba",
        "Iran", "Honduras", "Philippines", "Italy", "Poland", "Jamaica", "Vietnam", "Mexico",
        "Portugal", "Ireland", "France", "Dominican-Republic", "Laos", "Ecuador", "Taiwan",
        "Haiti", "Columbia", "Hungary", "Guatemala", "Nicaragua", "Scotland", "Thailand",
        "Yugoslavia", "El-Salvador", "Trinadad&Tobago", "Peru", "Hong", "Holand-Netherlands",
    ],
    "income": ["<=50K", ">50K"],
}
#: Numeric features, as read (``fnlwgt``, a census sampling weight, is a column only).
NUMERIC: tuple[str, ...] = (
    "age", "education-num", "capital-gain", "capital-loss", "hours-per-week",
)
#: One-hot features (``education`` is a column only: ``education-num`` codes it).
CATEGORICAL: tuple[str, ...] = (
    "workclass", "marital-status", "occupation", "relationship", "race", "sex",
    "native-country",
)
ATTRIBUTES: tuple[str, ...] = ("sex", "race")
FILES: dict[str, str] = {"train": "adult.data", "test": "adult.test"}
SOURCE = "the UCI Machine Learning Repository, https://archive.ics.uci.edu/dataset/2/adult"


def _parse_row(text: str) -> tuple[tuple | None, str]:
    """The 15 values of one line (ints for the numeric fields), or why it was refused."""
    fields = [f.strip() for f in text.split(",")]
    if len(fields) != len(COLUMNS):
        return None, (
            f"{len(fields)} comma-separated fields; an Adult row has {len(COLUMNS)} "
            "(a truncated or joined line?)"
        )
    missing = [name for name, value in zip(COLUMNS, fields) if value == "?"]
    if missing:
        return None, f"missing value '?' in {', '.join(missing)}"
    fields[-1] = fields[-1].removesuffix(".")  # adult.test writes ">50K."
    values: list[Any] = []
    for name, value in zip(COLUMNS, fields):
        if name in LEVELS:
            if value not in LEVELS[name]:
                return None, f"{name} {value!r} is not one of its values in adult.names"
            values.append(value)
        else:
            number, reason = parse_int(name, value)
            if reason:
                return None, reason
            values.append(number)
    return tuple(values), ""


def _read(path: Path) -> tuple[list[tuple], list[Rejected]]:
    """The parsed rows of one Adult file and its refused lines; ValueError if it has no rows."""
    rows: list[tuple] = []
    rejected: list[Rejected] = []
    seen = 0
    for number, text, reason in text_lines(path, SOURCE):
        if text is not None and (not text.strip() or text.startswith("|")):
            continue  # a blank line, or a comment such as adult.test's "|1x3 Cross validator"
        seen += 1
        row, reason = _parse_row(text) if text is not None else (None, reason)
        if row is None:
            rejected.append(Rejected(f"{path}:{number}", reason))
        else:
            rows.append(row)
    if not seen:
        raise ValueError(
            f"{path} holds no rows (an empty or truncated download?). Fetch it again "
            f"from {SOURCE}."
        )
    return rows, rejected


def _check_files(root: Path, wanted: list[str]) -> None:
    """Raise FileNotFoundError unless every wanted split's file is in ``root``."""
    missing = [FILES[s] for s in wanted if not (root / FILES[s]).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Adult: {' and '.join(missing)} not found in {root}. The folder must hold "
            f"adult.data (train) and adult.test (test) as published by {SOURCE} (the "
            "'adult.zip' download)."
        )


def _read_columns(root: Path, wanted: list[str]) -> tuple[dict[str, np.ndarray], list[Rejected]]:
    """The kept rows of the wanted splits as columns (plus ``"split"``), and the refused lines."""
    rows: list[tuple] = []
    splits: list[str] = []
    rejected: list[Rejected] = []
    for name in wanted:
        kept, refused = _read(root / FILES[name])
        rows += kept
        splits += [name] * len(kept)
        rejected += refused
    columns: dict[str, np.ndarray] = {}
    for j, column in enumerate(COLUMNS):
        dtype = str if column in LEVELS else np.int64
        columns[column] = np.asarray([row[j] for row in rows], dtype=dtype)
    columns["split"] = np.asarray(splits, dtype=str)
    return columns, rejected


def _encode(
    columns: dict[str, np.ndarray],
    rejected: list[Rejected],
    *,
    split: str | None,
    attributes_as_features: bool,
) -> TabularDataset:
    """The read columns as a TabularDataset: the income label, numeric and one-hot features."""
    categorical = [c for c in CATEGORICAL if attributes_as_features or c not in ATTRIBUTES]
    return encode(
        columns,
        (columns["income"] == ">50K").astype(np.int64),
        numeric=NUMERIC,
        categorical=categorical,
        attributes=ATTRIBUTES,
        rejected=tuple(rejected),
        levels={**{k: list(v) for k, v in LEVELS.items()}, "split": list(FILES)},
        name="adult" if split is None else f"adult-{split}",
    )


@validate_params(
    {"split": [Options(str, FILES), None], "attributes_as_features": ["boolean"]}
)
def load_adult(
    root: Any,
    *,
    split: Literal["train", "test"] | None = None,
    attributes_as_features: bool = True,
) -> TabularDataset:
    r"""Load UCI Adult: income above 50K from census answers; incomplete rows rejected.

    Parameters
    ----------
    root : path
        A folder holding ``adult.data`` (the train split, 32,561 rows) and
        ``adult.test`` (the test split, 16,281 rows), as published by UCI: comma and
        space separated, ``?`` for a missing value; ``adult.test`` starts with the line
        ``|1x3 Cross validator`` and ends its labels with a ``.``.
    split : {"train", "test"}, optional
        Read only that file. Default: both, in that order (``columns["split"]`` says
        which). Either way the feature columns are the same.
    attributes_as_features : bool, default True
        Whether ``sex`` and ``race`` are one-hot features too; False leaves them out of
        ``features`` (they stay columns and attributes).

    Returns
    -------
    TabularDataset
        One row per complete line (30,162 train and 15,060 test rows in UCI's files).
        ``label`` is 1 where the income is ``>50K``. ``features`` (float32, 88 columns,
        or 81 without the attributes): the numeric ``age``, ``education-num``,
        ``capital-gain``, ``capital-loss`` and ``hours-per-week`` as read (see
        :meth:`~fairtrain.datasets.TabularDataset.standardize`), then one-hot
        ``workclass`` (8), ``marital-status`` (7), ``occupation`` (14), ``relationship``
        (6), ``race`` (5), ``sex`` (2) and ``native-country`` (41), each over every
        category listed in ``adult.names``, in its order, named ``"column=category"``.
        ``columns``: the 14 fields under their ``adult.names`` names (ints as int64,
        categories as str),
        ``"income"`` (``"<=50K"`` or ``">50K"``, the test file's ``.`` dropped) and
        ``"split"``. ``attributes``: ``("sex", "race")``; ``levels`` holds every
        categorical column's categories. ``rejected``: each refused line,
        ``"/abs/path/adult.data:LINE"``, with the reason: a ``?`` (naming the fields),
        a field count other than 15, a number that is not an integer, a category or
        label not in ``adult.names``, or bytes that are not UTF-8. Blank lines and
        lines starting with ``|`` are skipped, not rows.

    Raises
    ------
    ValueError
        If ``split`` is unknown, or a file holds no rows, is UTF-16 or is binary.
    FileNotFoundError
        If ``root`` is not a folder or a needed file is not in it.
    TypeError
        If ``root`` is not a path, ``split`` not a str or None, or
        ``attributes_as_features`` not True or False.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> row = ("39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, "
    ...        "Not-in-family, White, Male, 2174, 0, 40, United-States, ")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     data = row + "<=50K\n" + row.replace("State-gov", "?") + ">50K\n"
    ...     _ = (pathlib.Path(tmp) / "adult.data").write_text(data)
    ...     test = "|1x3 Cross validator\n" + row + ">50K.\n"
    ...     _ = (pathlib.Path(tmp) / "adult.test").write_text(test)
    ...     ds = load_adult(tmp)
    >>> ds.columns["split"].tolist(), ds.label.tolist(), ds.features.shape
    (['train', 'test'], [0, 1], (2, 88))
    >>> ds.rejected[0].path.endswith("adult.data:2"), ds.rejected[0].reason
    (True, "missing value '?' in workclass")
    """
    root = check_dir(root, "Adult root")
    wanted = list(FILES) if split is None else [split]
    _check_files(root, wanted)
    columns, rejected = _read_columns(root, wanted)
    return _encode(columns, rejected, split=split, attributes_as_features=attributes_as_features)
