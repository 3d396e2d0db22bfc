from __future__ import annotations

import codecs
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairtrain.datasets import TabularDataset, load_adult

# The 15 fields in adult.names order; categories and counts written out from adult.names.
FIELDS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
          "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
          "hours-per-week", "native-country", "income"]
ONE_HOT_SIZES = {"workclass": 8, "marital-status": 7, "occupation": 14, "relationship": 6,
                 "race": 5, "sex": 2, "native-country": 41}
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
BASE = dict(zip(FIELDS, [
    "39", "State-gov", "77516", "Bachelors", "13", "Never-married", "Adm-clerical",
    "Not-in-family", "White", "Male", "2174", "0", "40", "United-States", "<=50K"]))


def _row(sep=", ", **changes):
    values = {**BASE, **{k.replace("_", "-"): v for k, v in changes.items()}}
    return sep.join(values[f] for f in FIELDS)


LATIN1_ROW = _row(native_country="Espa\xf1a")
LATIN1_COLUMN = LATIN1_ROW.index("\xf1") + 1  # ASCII before it: characters are bytes


@pytest.fixture
def root(tmp_path):
    data = [
        _row(),                                                              # 1 kept
        _row(age="52", sex="Female", race="Black", native_country="Holand-Netherlands",
             income=">50K"),                                                 # 2 kept
        _row(workclass="?", occupation="?"),                                 # 3 '?'
        "50, Private, 1234",                                                 # 4 truncated
        _row() + ", extra",                                                  # 5 16 fields
        _row(age="4x"),                                                      # 6 not an int
        _row(race="Martian"),                                                # 7 unknown
        "",                                                                  # 8 blank
        _row(sep=",", age="25", hours_per_week="60"),                        # 9 kept
        _row(income=">50K."),                                                # 10 kept
    ]
    text = "\n".join(data) + "\n\n\n"
    bad = LATIN1_ROW.encode("latin-1")                                       # 13 not UTF-8
    (tmp_path / "adult.data").write_bytes(text.encode() + bad + b"\n")
    test = [
        "|1x3 Cross validator",                                              # 1 skipped
        _row(age="25", sex="Female", income=">50K."),                        # 2 kept
        _row(age="38", income="<=50K."),                                     # 3 kept
        _row(native_country="?", income="<=50K."),                           # 4 '?'
        _row(income="maybe."),                                               # 5 bad label
    ]
    (tmp_path / "adult.test").write_text("\n".join(test) + "\n\n")
    return tmp_path


def _reasons(ds):
    return {re.sub(r"^.*/", "", r.path): r.reason for r in ds.rejected}


def test_rows_labels_and_rejections_exactly(root):
    ds = load_adult(root)
    assert isinstance(ds, TabularDataset)
    assert ds.columns["split"].tolist() == ["train"] * 4 + ["test"] * 2
    assert ds.columns["age"].tolist() == [39, 52, 25, 39, 25, 38]
    assert ds.columns["income"].tolist() == [
        "<=50K", ">50K", "<=50K", ">50K", ">50K", "<=50K"]
    assert ds.label.tolist() == [0, 1, 0, 1, 1, 0]
    assert ds.columns["native-country"][1] == "Holand-Netherlands"
    assert ds.columns["hours-per-week"].tolist() == [40, 40, 60, 40, 40, 40]
    assert _reasons(ds) == {
        "adult.data:3": "missing value '?' in workclass, occupation",
        "adult.data:4": "3 comma-separated fields; an Adult row has 15 (a truncated or "
                        "joined line?)",
        "adult.data:5": "16 comma-separated fields; an Adult row has 15 (a truncated or "
                        "joined line?)",
        "adult.data:6": "age '4x' is not an integer",
        "adult.data:7": "race 'Martian' is not one of its values in adult.names",
        "adult.data:13": f"not UTF-8 text (byte 0xf1 at column {LATIN1_COLUMN}); the "
                         "original file is ASCII",
        "adult.test:4": "missing value '?' in native-country",
        "adult.test:5": "income 'maybe' is not one of its values in adult.names",
    }
    assert all(r.path.startswith(str(root)) for r in ds.rejected)
    assert ds.attributes == ("sex", "race")
    groups = ds.groups("sex")
    assert (groups.names, groups.counts.tolist()) == (("Female", "Male"), [2, 4])


def _check_encoding(ds):
    """Each feature equals its column (numeric) or the indicator of its category."""
    names = list(ds.feature_names)
    assert names[:5] == NUMERIC and not ds.numeric[5:].any() and ds.numeric[:5].all()
    for j, name in enumerate(names):
        column, _, category = name.partition("=")
        expected = ds.columns[column] if not category else ds.columns[column] == category
        np.testing.assert_array_equal(ds.features[:, j], np.asarray(expected, np.float32))
    assert ds.features.dtype == np.float32


def test_features_are_numerics_then_one_hot_over_every_category(root):
    ds = load_adult(root)
    sizes = {c: sum(n.startswith(c + "=") for n in ds.feature_names) for c in ONE_HOT_SIZES}
    assert sizes == ONE_HOT_SIZES
    assert ds.features.shape == (6, 5 + sum(ONE_HOT_SIZES.values()))
    _check_encoding(ds)
    # each row has exactly one category set per categorical column
    assert (ds.features[:, 5:].sum(axis=1) == len(ONE_HOT_SIZES)).all()


def test_train_and_test_share_their_columns_when_loaded_alone(root):
    train, test = load_adult(root, split="train"), load_adult(root, split="test")
    assert (len(train), len(test), train.name, test.name) == (4, 2, "adult-train", "adult-test")
    assert train.feature_names == test.feature_names
    holand = train.feature_names.index("native-country=Holand-Netherlands")
    assert train.features[:, holand].tolist() == [0, 1, 0, 0]
    assert test.features[:, holand].tolist() == [0, 0]  # absent in test, column still there
    assert all("adult.test" in r.path for r in test.rejected)
    _check_encoding(test)


def test_attributes_can_be_left_out_of_the_features(root):
    ds = load_adult(root, attributes_as_features=False)
    assert ds.features.shape == (6, 88 - 7)
    assert not any(n.startswith(("sex=", "race=")) for n in ds.feature_names)
    assert ds.columns["sex"].tolist()[:2] == ["Male", "Female"]


@pytest.mark.parametrize("flag", ["False", 0, None])
def test_refuses_a_flag_that_is_not_a_bool(root, flag):
    # review 4: "False" is truthy, so the protected attributes stayed among the features
    with pytest.raises(TypeError, match="`attributes_as_features` must be True or False"):
        load_adult(root, attributes_as_features=flag)


@pytest.mark.parametrize(("value", "error"), [("valid", ValueError), (1, TypeError)])
def test_refuses_an_unknown_split_in_the_one_error_shape(root, value, error):
    with pytest.raises(error, match=r'`split` must be one of "train", "test" or None; got split='):
        load_adult(root, split=value)


def test_a_utf8_byte_order_mark_is_dropped(root):
    before = load_adult(root)
    for name in ("adult.data", "adult.test"):  # before a row, and before the "|" line
        path = root / name
        path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    after = load_adult(root)
    np.testing.assert_array_equal(after.features, before.features)
    assert after.rejected == before.rejected


@pytest.mark.parametrize(("content", "error", "match"), [
    ("", ValueError, "holds no rows"),
    ("|1x3 Cross validator\n\n", ValueError, "holds no rows"),
    (_row().encode("utf-16"), ValueError, "UTF-16 or UTF-32.*iconv"),
    (b"\x1f\x8b\x08\x00\x00\x00", ValueError, "NUL bytes.*archive.ics.uci.edu"),
])
def test_unreadable_files_are_errors(root, content, error, match):
    path = root / "adult.test"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(error, match=match):
        load_adult(root)
    assert len(load_adult(root, split="train")) == 4  # the other file alone still loads


def test_missing_files_and_bad_arguments_are_errors(root, tmp_path_factory):
    (root / "adult.test").unlink()
    with pytest.raises(FileNotFoundError, match=r"adult\.test not found.*archive\.ics"):
        load_adult(root)
    assert len(load_adult(root, split="train")) == 4
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(FileNotFoundError, match="adult.data and adult.test not found"):
        load_adult(empty)
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_adult(empty / "nope")
    with pytest.raises(ValueError, match="`split`"):
        load_adult(root, split="valid")


_CATEGORIES = {"workclass": ["Private", "Federal-gov"], "sex": ["Female", "Male"],
               "race": ["White", "Black", "Other"], "native-country": ["Peru", "Hong"]}


@st.composite
def _rows(draw):
    values = dict(BASE)
    values["age"] = str(draw(st.integers(17, 90)))
    for column, options in _CATEGORIES.items():
        values[column] = draw(st.sampled_from(options))
    values["income"] = draw(st.sampled_from(["<=50K", ">50K"]))
    missing = draw(st.sets(st.sampled_from(["workclass", "occupation", "native-country"]),
                           max_size=2))
    for column in missing:
        values[column] = "?"
    spaces = draw(st.lists(st.sampled_from(["", " ", "  "]), min_size=15, max_size=15))
    text = ",".join(s + values[f] for s, f in zip(spaces, FIELDS))
    return values, sorted(missing, key=FIELDS.index), text


@given(rows=st.lists(_rows(), min_size=1, max_size=8))
def test_written_rows_read_back_and_rows_with_a_question_mark_are_rejected(tmp_path_factory,
                                                                            rows):
    root = tmp_path_factory.mktemp("adult")
    (root / "adult.data").write_text("\n".join(text for _, _, text in rows) + "\n")
    ds = load_adult(root, split="train")
    kept = [values for values, missing, _ in rows if not missing]
    assert ds.columns["age"].tolist() == [int(v["age"]) for v in kept]
    for column in _CATEGORIES:
        assert ds.columns[column].tolist() == [v[column] for v in kept]
    assert ds.label.tolist() == [int(v["income"] == ">50K") for v in kept]
    expected = [(i, m) for i, (_, m, _) in enumerate(rows, start=1) if m]
    assert [(r.path, r.reason) for r in ds.rejected] == [
        (f"{root / 'adult.data'}:{i}", "missing value '?' in " + ", ".join(m))
        for i, m in expected]


def _names_categories(path):
    """Each categorical column's categories, parsed from adult.names ('col: a, b, c.')."""
    out = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"([\w-]+): (.*)\.", line)
        if match and match[2] != "continuous":
            out[match[1]] = [v.strip() for v in match[2].split(",")]
    return out


@pytest.mark.realdata
def test_uci_files_give_the_published_complete_row_counts(original_tables):
    pd = pytest.importorskip("pandas")
    ds = load_adult(original_tables)
    split = ds.columns["split"]
    assert ((split == "train").sum(), (split == "test").sum()) == (30162, 15060)
    assert len(ds.rejected) == (32561 - 30162) + (16281 - 15060)
    assert {r.reason.split(" in ")[0] for r in ds.rejected} == {"missing value '?'"}
    # pandas as the oracle: the same rows, values, labels
    frames = [pd.read_csv(original_tables / name, header=None, names=FIELDS,
                          skipinitialspace=True, na_values="?", skiprows=skip).dropna()
              for name, skip in (("adult.data", 0), ("adult.test", 1))]
    frame = pd.concat(frames, ignore_index=True)
    for column in FIELDS[:-1]:
        assert ds.columns[column].tolist() == frame[column].tolist(), column
    assert ds.label.tolist() == frame["income"].str.startswith(">50K").astype(int).tolist()
    categories = _names_categories(original_tables / "adult.names")
    assert set(categories) == set(ONE_HOT_SIZES) | {"education"}
    for column in categories:
        assert ds.levels[column] == categories[column], column
    assert {c: len(categories[c]) for c in ONE_HOT_SIZES} == ONE_HOT_SIZES
    _check_encoding(ds)
