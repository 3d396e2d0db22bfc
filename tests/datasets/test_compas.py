from __future__ import annotations

import codecs
import csv
import io
import re

import numpy as np
import pytest

from fairtrain.datasets import load_compas, split

FILE = "compas-scores-two-years.csv"
# ProPublica's header, with its two repeated names (decile_score, priors_count).
HEADER_LINE = (
    "id,name,first,last,compas_screening_date,sex,dob,age,age_cat,race,juv_fel_count,"
    "decile_score,juv_misd_count,juv_other_count,priors_count,days_b_screening_arrest,"
    "c_jail_in,c_jail_out,c_case_number,c_offense_date,c_arrest_date,c_days_from_compas,"
    "c_charge_degree,c_charge_desc,is_recid,r_case_number,r_charge_degree,"
    "r_days_from_arrest,r_offense_date,r_charge_desc,r_jail_in,r_jail_out,violent_recid,"
    "is_violent_recid,vr_case_number,vr_charge_degree,vr_offense_date,vr_charge_desc,"
    "type_of_assessment,decile_score,score_text,screening_date,v_type_of_assessment,"
    "v_decile_score,v_score_text,v_screening_date,in_custody,out_custody,priors_count,"
    "start,end,event,two_year_recid"
)
HEADER = HEADER_LINE.split(",")
BASE = {name: "" for name in HEADER} | {
    "name": "a b", "sex": "Male", "age": "34", "age_cat": "25 - 45", "race": "Caucasian",
    "juv_fel_count": "0", "decile_score": "3", "juv_misd_count": "0", "juv_other_count": "0",
    "priors_count": "2", "days_b_screening_arrest": "-1", "c_charge_degree": "F",
    "c_charge_desc": "Battery", "is_recid": "0", "score_text": "Low",
    "two_year_recid": "0",
}
NUMERIC = ["age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"]


def _line(id_, **changes):
    values = BASE | {"id": str(id_)} | changes
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(
        [values[name] for name in HEADER])  # the repeated columns get the same value
    return out.getvalue()


ROWS = [  # (line text, kept?)  line numbers are index + 2
    (_line(1), True),
    (_line(2, days_b_screening_arrest=""), False),
    (_line(3, days_b_screening_arrest="31"), False),
    (_line(4, days_b_screening_arrest="-31"), False),
    (_line(5, days_b_screening_arrest="30", race="African-American", sex="Female",
           two_year_recid="1", age="22", age_cat="Less than 25", priors_count="7"), True),
    (_line(6, days_b_screening_arrest="-30", c_charge_degree="M"), True),
    (_line(7, is_recid="-1"), False),
    (_line(8, c_charge_degree="O"), False),
    (_line(9, score_text="N/A"), False),
    (_line(10, c_charge_degree="O", days_b_screening_arrest="45"), False),
    (_line(11)[:40], False),                                       # truncated
    (_line(12, race="Martian"), False),
    (_line(13, age="x"), False),
    (_line(14, two_year_recid="2"), False),
    (_line(15, c_charge_desc="Battery, Domestic \"A\"", two_year_recid="1"), True),  # quoted
    ("", False),                                                   # blank line: no row
    (_line(17, score_text=""), False),
]
REASONS = {
    3: "ProPublica's filters: days_b_screening_arrest is empty (the filter keeps -30 to 30)",
    4: "ProPublica's filters: days_b_screening_arrest 31 is outside -30 to 30",
    5: "ProPublica's filters: days_b_screening_arrest -31 is outside -30 to 30",
    8: "ProPublica's filters: is_recid is -1 (no COMPAS case was found)",
    9: "ProPublica's filters: c_charge_degree is 'O' (an ordinary traffic offence, no jail "
       "time)",
    10: "ProPublica's filters: score_text is missing ('N/A')",
    11: "ProPublica's filters: days_b_screening_arrest 45 is outside -30 to 30; "
        "c_charge_degree is 'O' (an ordinary traffic offence, no jail time)",
    12: f"{_line(11)[:40].count(',') + 1} fields; the header has 53 (a truncated line?)",
    13: "race 'Martian' is not one of ['African-American', 'Asian', 'Caucasian', 'Hispanic', "
        "'Native American', 'Other']",
    14: "age 'x' is not an integer",
    15: "two_year_recid 2 is not 0 or 1",
    18: "ProPublica's filters: score_text is missing ('')",
}


@pytest.fixture
def root(tmp_path):
    text = "\n".join([",".join(HEADER)] + [line for line, _ in ROWS]) + "\n\n"
    (tmp_path / FILE).write_text(text)
    return tmp_path


def _reasons(ds):
    return {int(re.sub(r"^.*:", "", r.path)): r.reason for r in ds.rejected}


def test_kept_rows_and_every_rejection_with_its_filter(root):
    ds = load_compas(root)
    assert ds.columns["id"].tolist() == [1, 5, 6, 15]
    assert ds.label.tolist() == [0, 1, 0, 1]
    assert ds.columns["two_year_recid"].tolist() == [0, 1, 0, 1]
    assert ds.columns["days_b_screening_arrest"].tolist() == [-1, 30, -30, -1]
    assert ds.columns["race"].tolist() == ["Caucasian", "African-American", "Caucasian",
                                           "Caucasian"]
    assert ds.columns["c_charge_degree"].tolist() == ["F", "F", "M", "F"]
    assert ds.columns["decile_score"].tolist() == [3] * 4
    assert _reasons(ds) == REASONS
    assert all(r.path.startswith(f"{root / FILE}:") for r in ds.rejected)
    assert ds.attributes == ("sex", "race", "age_cat")
    groups = ds.groups("age_cat")
    assert (groups.names, groups.counts.tolist()) == (
        ("Less than 25", "25 - 45"), [1, 3])  # level order; Groups drops empty levels


def test_features_are_numerics_then_one_hot_over_every_value(root):
    ds = load_compas(root)
    assert ds.feature_names == (
        *NUMERIC, "c_charge_degree=F", "c_charge_degree=M", "sex=Female", "sex=Male",
        "race=African-American", "race=Asian", "race=Caucasian", "race=Hispanic",
        "race=Native American", "race=Other")
    assert ds.numeric.tolist() == [True] * 5 + [False] * 10
    for j, name in enumerate(ds.feature_names):
        column, _, value = name.partition("=")
        expected = ds.columns[column] if not value else ds.columns[column] == value
        np.testing.assert_array_equal(ds.features[:, j], np.asarray(expected, np.float32))
    assert ds.features[1, :5].tolist() == [22, 7, 0, 0, 0]
    without = load_compas(root, attributes_as_features=False)
    assert without.feature_names == ds.feature_names[:7]


@pytest.mark.parametrize("flag", ["False", 0, None])
def test_refuses_a_flag_that_is_not_a_bool(root, flag):
    # review 4: "False" is truthy, so the protected attributes stayed among the features
    with pytest.raises(TypeError, match="`attributes_as_features` must be True or False"):
        load_compas(root, attributes_as_features=flag)


def test_split_divides_the_one_table(root):
    ds = load_compas(root)
    train, val, test = split(ds, test_size=0.5, val_size=0.0, seed=0)
    assert (len(train), len(val), len(test)) == (2, 0, 2)
    assert sorted(train.columns["id"].tolist() + test.columns["id"].tolist()) == [1, 5, 6, 15]
    for part in (train, test):
        ids = part.columns["id"].tolist()
        expected = [ds.features[ds.columns["id"].tolist().index(i)] for i in ids]
        np.testing.assert_array_equal(part.features, np.asarray(expected).reshape(-1, 15))
        assert part.rejected == ds.rejected


def test_bom_crlf_and_non_utf8_lines(root):
    path = root / FILE
    text = path.read_bytes().replace(b"\n", b"\r\n")
    path.write_bytes(codecs.BOM_UTF8 + text + _line(99, name="jos\xe9").encode("latin-1"))
    ds = load_compas(root)
    assert ds.columns["id"].tolist() == [1, 5, 6, 15]
    last = ds.rejected[-1]
    assert last.path.endswith(f":{len(ROWS) + 3}")  # after the header, rows, one blank line
    assert last.reason == ("not UTF-8 text (byte 0xe9 at column "
                           f"{_line(99, name='jos').index('jos') + 4}); the original file "
                           "is ASCII")


def test_missing_or_wrong_files_are_clear_errors(root, tmp_path_factory):
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(FileNotFoundError, match=f"{FILE} not found.*propublica/compas-analysis"):
        load_compas(empty)
    path = root / FILE
    path.write_text(",".join(h for h in HEADER if h != "race") + "\n" + _line(1) + "\n")
    with pytest.raises(ValueError, match=r"lacks the columns \['race'\]"):
        load_compas(root)
    path.write_bytes((",".join(HEADER) + "\n").encode("utf-16"))
    with pytest.raises(ValueError, match="UTF-16"):
        load_compas(root)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="first line must be the CSV header"):
        load_compas(root)


@pytest.mark.realdata
def test_propublica_file_gives_6172_rows_after_the_filters(original_tables):
    pd = pytest.importorskip("pandas")
    ds = load_compas(original_tables)
    assert len(ds) == 6172
    assert len(ds) + len(ds.rejected) == 7214
    frame = pd.read_csv(original_tables / FILE)
    kept = frame[frame.days_b_screening_arrest.between(-30, 30) & (frame.is_recid != -1)
                 & (frame.c_charge_degree != "O") & (frame.score_text != "N/A")]
    assert ds.columns["id"].tolist() == kept["id"].tolist()
    for column in ("age", "priors_count", "decile_score", "two_year_recid", "race", "sex",
                   "age_cat", "c_charge_degree", "score_text", "days_b_screening_arrest"):
        assert ds.columns[column].tolist() == kept[column].tolist(), column
    assert ds.label.tolist() == kept["two_year_recid"].tolist()
    lines = [int(r.path.rsplit(":", 1)[1]) for r in ds.rejected]
    assert lines == [i + 2 for i in frame.index if i not in kept.index]  # line 1: header
    assert all("days_b_screening_arrest" in r.reason for r in ds.rejected)
