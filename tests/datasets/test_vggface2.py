from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fairtrain.datasets import ETHNICITIES, load_vggface2, split

pytest.importorskip("PIL")

META = (
    'Class_ID, Name, Sample_Num, Flag, Gender\n'
    'n000001, "14th_Dalai_Lama", 424, 0, m\n'
    'n000002, "Fine, A (a comma in a quoted name)", 315, 1, f\n'
    'n000003, "A._A._Gill", 205, 1, m\n'
    'n000004, "A._J._Buckley", 2, 1, x\n'
)


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8not-read")
    return path


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "train"
    for ident, n in (("n000002", 2), ("n000003", 3), ("n000004", 1), ("n000005", 1)):
        for j in range(n):
            _touch(root / ident / f"{j + 1:04d}_01.jpg")
    _touch(root / "n000002" / "notes.txt")
    _touch(root / "stray.jpg")
    (tmp_path / "eth.csv").write_text(
        "Class_ID, ethnicity\nn000001, Indian\nn000002, African\nn000003,Latin/Caucasian\n"
        "n000004, Asian\n"
    )
    (tmp_path / "identity_meta.csv").write_text(META)
    return tmp_path


def test_rows_columns_and_rejections_exactly(tree):
    root = tree / "train"
    ds = load_vggface2(root, tree / "eth.csv", identity_meta=tree / "identity_meta.csv")
    assert [Path(p).relative_to(root.resolve()).as_posix() for p in ds.paths] == [
        "n000002/0001_01.jpg", "n000002/0002_01.jpg",
        "n000003/0001_01.jpg", "n000003/0002_01.jpg", "n000003/0003_01.jpg",
    ]
    assert ds.columns["identity"].tolist() == ["n000002"] * 2 + ["n000003"] * 3
    assert ds.columns["ethnicity"].tolist() == ["African"] * 2 + ["Latin/Caucasian"] * 3
    assert ds.columns["gender"].tolist() == ["female"] * 2 + ["male"] * 3
    assert ds.levels == {"ethnicity": ETHNICITIES}
    reasons = {Path(r.path).relative_to(root.resolve()).as_posix(): r.reason for r in ds.rejected}
    assert set(reasons) == {"n000002/notes.txt", "stray.jpg", "n000004/0001_01.jpg",
                            "n000005/0001_01.jpg"}
    assert "not an image" in reasons["n000002/notes.txt"]
    assert "identity folder" in reasons["stray.jpg"]
    assert "gender 'x'" in reasons["n000004/0001_01.jpg"]
    assert "'n000005' has no row" in reasons["n000005/0001_01.jpg"]
    groups = ds.groups("ethnicity")
    assert (groups.names, groups.counts.tolist()) == (("African", "Latin/Caucasian"), [2, 3])


def test_without_meta_no_gender_and_no_meta_rejections(tree):
    ds = load_vggface2(tree / "train", tree / "eth.csv")
    assert "gender" not in ds.columns
    assert ds.columns["identity"].tolist() == ["n000002"] * 2 + ["n000003"] * 3 + ["n000004"]
    assert len(ds.rejected) == 3


@pytest.mark.parametrize(("text", "match"), [
    ("Class_ID,ethnicity\nn000002,Martian\n", "not one of"),
    ("Class_ID,ethnicity\nn000002,Asian\nn000002,Indian\n", "both"),
    ("name,ethnicity\nn000002,Asian\n", "no column 'class_id' or 'identity'"),
    ("Class_ID,ethnicity\nn000002\n", "has 1 fields"),
])
def test_bad_ethnicity_csv_is_an_error(tree, text, match):
    (tree / "bad.csv").write_text(text)
    with pytest.raises(ValueError, match=match):
        load_vggface2(tree / "train", tree / "bad.csv")


def test_missing_root_is_an_error(tree):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_vggface2(tree / "nope", tree / "eth.csv")


def test_identity_split_of_a_loaded_tree(tree):
    ds = load_vggface2(tree / "train", tree / "eth.csv")
    train, val, test = split(ds, test_size=0.34, val_size=0.0, by="identity", seed=1)
    assert len(val) == 0
    assert set(train.columns["identity"]).isdisjoint(test.columns["identity"])
    assert np.sort(np.concatenate([train.paths, test.paths])).tolist() == sorted(ds.paths)


def test_an_identity_with_two_genders_in_the_meta_file_is_an_error(tree):
    # the later row used to win without a word, relabelling every image of n000002
    (tree / "identity_meta.csv").write_text(META + 'n000002, "Someone_Else", 3, 1, m\n')
    with pytest.raises(ValueError, match="n000002.*both"):
        load_vggface2(tree / "train", tree / "eth.csv",
                      identity_meta=tree / "identity_meta.csv")


def test_a_linked_identity_folder_outside_is_rejected_not_skipped(tree, tmp_path_factory):
    # issue 19 §3: a linked folder was neither loaded nor rejected; a linked image
    # outside the data folder was kept (and write_tfrecords copied its bytes)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    _touch(elsewhere / "n000001" / "0001_01.jpg")
    _touch(elsewhere / "private.jpg")
    root = tree / "train"
    (root / "n000001").symlink_to(elsewhere / "n000001", target_is_directory=True)
    (root / "n000003" / "0009_01.jpg").symlink_to(elsewhere / "private.jpg")
    ds = load_vggface2(root, tree / "eth.csv")
    assert not any("n000001" in p or "0009_01" in p for p in ds.paths)
    reasons = {r.path: r.reason for r in ds.rejected}
    assert reasons[str(root / "n000001")] == (
        f"symlink outside the data folder (to {elsewhere / 'n000001'}); its files are not read")
    assert reasons[str(root / "n000003" / "0009_01.jpg")] == (
        f"symlink outside the data folder (to {elsewhere / 'private.jpg'})")


def test_a_folder_without_a_loadable_image_is_an_error(tree):
    (tree / "empty").mkdir()
    with pytest.raises(ValueError, match="no VGGFace2 image"):
        load_vggface2(tree / "empty", tree / "eth.csv")
