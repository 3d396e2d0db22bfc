from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairtrain.datasets import RACES, load_utkface, parse_utkface_name, synthetic

GOOD = {
    "25_1_3_20170119171621021.jpg.chip.jpg": (25, "female", "Indian"),
    "0_0_0_20170110213035633.jpg": (0, "male", "White"),
    "116_1_4_20170120134718183.jpg.chip.jpg": (116, "female", "Others"),
    "1_0_2_20161219140530307.jpg": (1, "male", "Asian"),
    "40_0_1_20170113210319964.jpg.chip.jpg": (40, "male", "Black"),
}
BAD = {
    "39_1_20170116174525125.jpg.chip.jpg":
        "expected 4 fields age_gender_race_datetime, got 3: 39_1_20170116174525125",
    "61_1_3_4_20170109142408075.jpg": (
        "expected 4 fields age_gender_race_datetime, got 5: 61_1_3_4_20170109142408075"),
    "117_0_0_20170117120000000.jpg.chip.jpg": "age 117 is out of range (0 to 116)",
    "25_2_1_20170117120000001.jpg.chip.jpg": "gender 2 is out of range (0 male or 1 female)",
    "30_0_5_20170117120000002.jpg": (
        "race 5 is out of range (0 White, 1 Black, 2 Asian, 3 Indian, 4 Others)"),
    "abc_0_1_20170117120000003.jpg.chip.jpg": "age 'abc' is not a number",
    "30_1__20170117120000004.jpg": "race '' is not a number",
    "-3_1_0_20170117120000005.jpg": "age '-3' is not a number",
    "30_1_0_2017x.jpg": "datetime '2017x' is not a number",
    "30_1_0_20170117120000006.png": "not a UTKFace image name (expected .jpg or .jpg.chip.jpg)",
    "notes.txt": "not a UTKFace image name (expected .jpg or .jpg.chip.jpg)",
}


def test_rows_and_rejections_exactly(tmp_path):
    (tmp_path / "part2").mkdir()
    for i, name in enumerate([*GOOD, *BAD]):
        folder = tmp_path / "part2" if i % 3 == 0 else tmp_path
        (folder / name).write_bytes(b"jpeg")
    ds = load_utkface(tmp_path)
    got = {p.rsplit("/", 1)[1]: (a, g, r) for p, a, g, r in zip(
        ds.paths, ds.columns["age"].tolist(), ds.columns["gender"], ds.columns["race"])}
    assert got == GOOD
    assert {r.path.rsplit("/", 1)[1]: r.reason for r in ds.rejected} == BAD
    assert ds.columns["age"].dtype.kind == "i"
    assert ds.levels == {"gender": ["male", "female"], "race": RACES}
    assert len(ds) + len(ds.rejected) == len(GOOD) + len(BAD)


@given(age=st.integers(0, 300), gender=st.integers(0, 9), race=st.integers(0, 9),
       chip=st.booleans())
def test_parse_accepts_exactly_the_documented_ranges(age, gender, race, chip):
    name = f"{age}_{gender}_{race}_20170117120000000" + (".jpg.chip.jpg" if chip else ".jpg")
    parsed, reason = parse_utkface_name(name)
    valid = age <= 116 and gender <= 1 and race <= 4
    assert (parsed is not None) == valid and (reason == "") == valid
    if valid:
        assert parsed == (age, ["male", "female"][gender], RACES[race])


def test_synthetic_utkface_round_trip(tmp_path):
    pytest.importorskip("PIL")
    root = synthetic.write_utkface(tmp_path / "u", n=40, seed=3)
    ds = load_utkface(root)
    assert len(ds) == 40
    assert sorted(r.path.rsplit("/", 1)[1] for r in ds.rejected) == sorted(
        name for name, _ in synthetic.UTKFACE_MALFORMED)
    # 40 * (.42, .19, .15, .17, .07) = 16.8, 7.6, 6, 6.8, 2.8: largest remainders -> 17, 7, 6, 7, 3
    assert dict(zip(*[ds.groups("race").names, ds.groups("race").counts.tolist()])) == {
        "White": 17, "Black": 7, "Asian": 6, "Indian": 7, "Others": 3}
    assert ds.columns["age"].min() >= 1 and ds.columns["age"].max() <= 116
    clean = load_utkface(synthetic.write_utkface(tmp_path / "v", n=10, malformed=False))
    assert len(clean) == 10 and clean.rejected == ()


def test_one_photo_in_two_folders_is_kept_once(tmp_path):
    # the aligned crop (UTKFace/) and the in-the-wild original (part1/) of one photo share
    # age_gender_race_datetime; kept twice, a row split could put one photo on both sides
    for folder, name in (("UTKFace", "25_1_3_20170119171621021.jpg.chip.jpg"),
                         ("crop_part1", "25_1_3_20170119171621021.jpg.chip.jpg"),
                         ("part1", "25_1_3_20170119171621021.jpg"),
                         ("part1", "26_1_3_20170119171621022.jpg")):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_bytes(b"jpeg")
    ds = load_utkface(tmp_path)
    kept = str(tmp_path / "UTKFace" / "25_1_3_20170119171621021.jpg.chip.jpg")
    assert sorted(ds.paths.tolist()) == sorted(
        [kept, str(tmp_path / "part1" / "26_1_3_20170119171621022.jpg")])
    assert {r.path: r.reason for r in ds.rejected} == {
        str(tmp_path / "crop_part1" / "25_1_3_20170119171621021.jpg.chip.jpg"):
            f"the same photo (25_1_3_20170119171621021) as {kept}",
        str(tmp_path / "part1" / "25_1_3_20170119171621021.jpg"):
            f"the same photo (25_1_3_20170119171621021) as {kept}",
    }


# --- links and empty folders (issue 19 §3): nothing kept from outside, nothing skipped


def _utk(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"jpeg " + name.encode())


def test_a_linked_image_outside_the_data_folder_is_rejected(tmp_path):
    root, elsewhere = tmp_path / "utk", tmp_path / "private"
    _utk(root, "25_1_3_20170119171621021.jpg")
    _utk(elsewhere, "secret.jpg")
    link = root / "30_0_1_20170119171621022.jpg"
    link.symlink_to(elsewhere / "secret.jpg")
    ds = load_utkface(root)
    assert [p.rsplit("/", 1)[1] for p in ds.paths] == ["25_1_3_20170119171621021.jpg"]
    assert [(r.path, r.reason) for r in ds.rejected] == [
        (str(link), f"symlink outside the data folder (to {elsewhere / 'secret.jpg'})")]


def test_a_linked_folder_is_never_skipped_without_a_reason(tmp_path):
    root, elsewhere = tmp_path / "utk", tmp_path / "more"
    _utk(root / "part1", "25_1_3_20170119171621021.jpg")
    _utk(elsewhere, "30_0_1_20170119171621022.jpg")
    (root / "outside").symlink_to(elsewhere, target_is_directory=True)
    (root / "again").symlink_to(root / "part1", target_is_directory=True)
    (root / "again.jpg").symlink_to(root / "part1" / "25_1_3_20170119171621021.jpg")
    ds = load_utkface(root)
    assert ds.paths.tolist() == [str(root / "part1" / "25_1_3_20170119171621021.jpg")]
    reasons = {r.path: r.reason for r in ds.rejected}
    assert reasons == {
        str(root / "outside"):
            f"symlink outside the data folder (to {elsewhere}); its files are not read",
        str(root / "again"):
            f"a link to {root / 'part1'}, inside the data folder: its files are read "
            "there, once",
        str(root / "again.jpg"):
            f"a link to {root / 'part1' / '25_1_3_20170119171621021.jpg'}, inside the data "
            "folder: its files are read there, once",
    }


@pytest.mark.parametrize("content", [[], ["notes.txt"]], ids=["empty", "no-image"])
def test_a_folder_without_a_utkface_image_is_an_error(tmp_path, content):
    _utk(tmp_path / "utk", *content)
    with pytest.raises(ValueError, match=r"utk.*no UTKFace image.*\[age\]_\[gender\]"):
        load_utkface(tmp_path / "utk")


def test_an_unreadable_folder_is_rejected_not_skipped(tmp_path, monkeypatch):
    # os.walk drops a folder it cannot list (no permission, I/O error) without a word:
    # all its images went missing from the dataset. The failure is simulated (root
    # reads any folder whatever its mode).
    import errno
    import os

    root = tmp_path / "utk"
    _utk(root / "part1", "25_1_3_20170119171621021.jpg")
    _utk(root / "locked", "30_0_1_20170119171621022.jpg")
    scandir = os.scandir

    def refusing(path="."):
        if os.fspath(path) == str(root / "locked"):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    ds = load_utkface(root)
    assert ds.paths.tolist() == [str(root / "part1" / "25_1_3_20170119171621021.jpg")]
    assert [(r.path, r.reason) for r in ds.rejected] == [
        (str(root / "locked"),
         "a folder that cannot be read (Permission denied); its files are not read")]
