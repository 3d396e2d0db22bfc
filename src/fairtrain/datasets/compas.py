"""COMPAS loader: ProPublica's ``compas-scores-two-years.csv`` with ProPublica's row filters."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from fairtrain._validation import validate_params
from fairtrain.datasets._core import Rejected, check_dir
from fairtrain.datasets._tabular import TabularDataset, encode, parse_int, text_lines

__all__ = ["load_compas"]

FILE = "compas-scores-two-years.csv"
SOURCE = (
    "ProPublica's COMPAS analysis, https://github.com/propublica/compas-analysis "
    f"(the file {FILE})"
)
#: The categorical columns kept, with their values (the one-hot order).
LEVELS: dict[str, list[str]] = {
    "sex": ["Female", "Male"],
    "race": ["African-American", "Asian", "Caucasian", "Hispanic", "Native American", "Other"],
    "age_cat": ["Less than 25", "25 - 45", "Greater than 45"],
    "c_charge_degree": ["F", "M"],
    "score_text": ["Low", "Medium", "High"],
}
#: The integer columns kept.
INTEGERS: tuple[str, ...] = (
    "id", "age", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count",
    "days_b_screening_arrest", "is_recid", "decile_score", "two_year_recid",
)
NUMERIC: tuple[str, ...] = (
    "age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count",
)
CATEGORICAL: tuple[str, ...] = ("c_charge_degree", "sex", "race")
ATTRIBUTES: tuple[str, ...] = ("sex", "race", "age_cat")
#: How far (days) the arrest may be from the COMPAS screening, either way.
MAX_DAYS = 30


def _filters(get: Any) -> list[str]:
    """ProPublica's filters that the row fails, in words (empty when it passes them all).

    A value that is not an integer fails no filter here: :func:`_parse_row` reports it.
    """
    failed = []
    days = get("days_b_screening_arrest")
    if days == "":
        failed.append("days_b_screening_arrest is empty (the filter keeps -30 to 30)")
    else:
        value, reason = parse_int("days_b_screening_arrest", days)
        if not reason and abs(value) > MAX_DAYS:  # type: ignore[arg-type]
            failed.append(f"days_b_screening_arrest {value} is outside -30 to 30")
    if get("is_recid") == "-1":
        failed.append("is_recid is -1 (no COMPAS case was found)")
    if get("c_charge_degree") == "O":
        failed.append("c_charge_degree is 'O' (an ordinary traffic offence, no jail time)")
    if get("score_text") in ("", "N/A"):
        failed.append(f"score_text is missing ({get('score_text')!r})")
    return failed


def _parse_row(get: Any) -> tuple[dict[str, Any] | None, str]:
    """The kept columns of a row that passed the filters, or why a value is malformed."""
    row: dict[str, Any] = {}
    for column in INTEGERS:
        row[column], reason = parse_int(column, get(column))
        if reason:
            return None, reason
    if row["two_year_recid"] not in (0, 1):
        return None, f"two_year_recid {row['two_year_recid']} is not 0 or 1"
    for column, levels in LEVELS.items():
        row[column] = get(column)
        if row[column] not in levels:
            return None, f"{column} {row[column]!r} is not one of {levels}"
    return row, ""


def _header(path: Path, lines: list) -> tuple[dict[str, int], int]:
    """(column name -> index of its first occurrence, number of fields).

    The first occurrence: ProPublica's file repeats two columns (with equal values).
    """
    if not lines or lines[0][1] is None:
        raise ValueError(f"{path}: the first line must be the CSV header; fetch {SOURCE}.")
    names = next(csv.reader([lines[0][1]]))
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name.strip(), i)
    missing = [c for c in (*INTEGERS, *LEVELS) if c not in index]
    if missing:
        raise ValueError(
            f"{path}: the header (line 1) lacks the columns {missing}; is this {FILE} "
            f"from {SOURCE}?"
        )
    return index, len(names)


def _read(path: Path) -> tuple[list[dict[str, Any]], list[Rejected]]:
    lines = text_lines(path, SOURCE)
    index, n_fields = _header(path, lines)
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    for number, text, reason in lines[1:]:
        if text is not None and not text.strip():
            continue  # a blank line holds no row
        row = None
        if text is not None:
            fields = next(csv.reader([text]))
            if len(fields) != n_fields:
                reason = f"{len(fields)} fields; the header has {n_fields} (a truncated line?)"
            else:
                def get(column: str, fields: list[str] = fields) -> str:
                    return fields[index[column]].strip()

                failed = _filters(get)
                if failed:
                    reason = "ProPublica's filters: " + "; ".join(failed)
                else:
                    row, reason = _parse_row(get)
        if row is None:
            rejected.append(Rejected(f"{path}:{number}", reason))
        else:
            rows.append(row)
    return rows, rejected


@validate_params({"attributes_as_features": ["boolean"]})
def load_compas(root: Any, *, attributes_as_features: bool = True) -> TabularDataset:
    """Load ProPublica's COMPAS two-year recidivism table, filtered as ProPublica did.

    Parameters
    ----------
    root : path
        A folder holding ``compas-scores-two-years.csv`` (7,214 rows) from ProPublica's
        ``compas-analysis`` repository: a comma-separated header and one line per
        person, quoted as CSV.
    attributes_as_features : bool, default True
        Whether ``sex`` and ``race`` are one-hot features too; False leaves them out of
        ``features`` (they stay columns and attributes).

    Returns
    -------
    TabularDataset
        One row per person passing ProPublica's filters (6,172 of the 7,214):
        ``days_b_screening_arrest`` between -30 and 30 (an empty one fails), ``is_recid``
        not -1, ``c_charge_degree`` not ``"O"`` and ``score_text`` not ``"N/A"`` or
        empty. ``label`` is ``two_year_recid`` (1: charged again within two years).
        ``features`` (float32, 15 columns, or 7 without the attributes): the numeric
        ``age``, ``priors_count``, ``juv_fel_count``, ``juv_misd_count`` and
        ``juv_other_count`` as read (see
        :meth:`~fairtrain.datasets.TabularDataset.standardize`), then one-hot
        ``c_charge_degree`` (F, M), ``sex`` (Female, Male) and ``race``
        (African-American, Asian, Caucasian, Hispanic, Native American, Other), named
        ``"column=value"``. COMPAS's own ``decile_score`` and ``score_text`` are columns
        only, to compare with. ``columns``: ``id``, the feature columns, ``age_cat``,
        ``days_b_screening_arrest``, ``is_recid``, ``decile_score``, ``score_text`` and
        ``two_year_recid`` (ints as int64, categories as str). ``attributes``:
        ``("sex", "race", "age_cat")``, with their orders in ``levels``. ``rejected``:
        each dropped line, ``"/abs/path/compas-scores-two-years.csv:LINE"``, with every
        filter it failed, or why it is malformed (a field count other than the
        header's, a value that is not an integer or not a known category, bytes that
        are not UTF-8). Blank lines are skipped.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder or the file is not in it.
    ValueError
        If the header lacks a needed column, or the file is UTF-16 or binary.
    TypeError
        If ``root`` is not a path or ``attributes_as_features`` is not True or False.

    Notes
    -----
    The table is one split; :func:`fairtrain.datasets.split` splits it, e.g.
    ``split(ds, test_size=0.3, val_size=0.0, stratify="two_year_recid", seed=0)``.
    Where the file repeats a column name (``decile_score``, ``priors_count``), the
    first is read. Each line is one row: fields holding line breaks are not supported
    (ProPublica's file has none), and such a line is rejected for its field count.
    """
    root = check_dir(root, "COMPAS root")
    path = root / FILE
    if not path.is_file():
        raise FileNotFoundError(f"COMPAS: {FILE} not found in {root}. Get it from {SOURCE}.")
    rows, rejected = _read(path)
    columns: dict[str, np.ndarray] = {
        c: np.asarray([row[c] for row in rows], dtype=np.int64) for c in INTEGERS
    }
    for column in LEVELS:
        columns[column] = np.asarray([row[column] for row in rows], dtype=str)
    categorical = [c for c in CATEGORICAL if attributes_as_features or c not in ATTRIBUTES]
    return encode(
        columns,
        columns["two_year_recid"].copy(),
        numeric=NUMERIC,
        categorical=categorical,
        attributes=ATTRIBUTES,
        rejected=tuple(rejected),
        levels={k: list(v) for k, v in LEVELS.items()},
        name="compas",
    )
