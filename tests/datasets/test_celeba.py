from __future__ import annotations

from pathlib import Path

import pytest

from fairtrain.datasets import load_celeba, synthetic

HEADER = " ".join(synthetic.CELEBA_ATTRIBUTES)
MALE = synthetic.CELEBA_ATTRIBUTES.index("Male")
YOUNG = synthetic.CELEBA_ATTRIBUTES.index("Young")


def _row(name, male, young=1, fill="-1"):
    values = [fill] * 40
    values[MALE], values[YOUNG] = str(male), str(young)
    return name + " " + "  ".join(values)


@pytest.fixture
def root(tmp_path):
    images = tmp_path / "img_align_celeba"
    images.mkdir()
    for name in ("000001.jpg", "000002.jpg", "000003.jpg", "000004.jpg", "000005.jpg",
                 "000007.jpg", "readme.txt"):
        (images / name).write_bytes(b"jpeg")
    rows = [
        _row("000001.jpg", -1), _row("000002.jpg", 1, -1), _row("000003.jpg", 1),
        _row("000004.jpg", 1, fill="0"),  # a value that is not -1/1
        _row("000005.jpg", -1),           # no partition row
        _row("000006.jpg", 1),            # listed, file missing
    ]
    (tmp_path / "list_attr_celeba.txt").write_text(f"{len(rows)}\n{HEADER} \n" + "\n".join(rows))
    (tmp_path / "list_eval_partition.txt").write_text(
        "000001.jpg 0\n000002.jpg 1\n000003.jpg 2\n000004.jpg 0\n000006.jpg 0\n")
    return tmp_path


def test_rows_columns_and_rejections_exactly(root):
    ds = load_celeba(root)
    assert [Path(p).name for p in ds.paths] == ["000001.jpg", "000002.jpg", "000003.jpg"]
    assert ds.columns["gender"].tolist() == ["female", "male", "male"]
    assert ds.columns["partition"].tolist() == ["train", "valid", "test"]
    assert ds.columns["Male"].tolist() == [False, True, True]
    assert ds.columns["Young"].tolist() == [True, False, True]
    assert ds.columns["Bald"].tolist() == [False] * 3
    assert len(ds.columns) == 42
    reasons = {Path(r.path).name: r.reason for r in ds.rejected}
    assert reasons == {
        "000004.jpg": "its row in list_attr_celeba.txt (line 6) holds '0', not -1 or 1",
        "000005.jpg": "not listed in list_eval_partition.txt",
        "000006.jpg": "listed in list_attr_celeba.txt but the file is missing",
        "000007.jpg": "not listed in list_attr_celeba.txt",
        "readme.txt": "not an image file (suffix not in ('.jpg', '.jpeg', '.png'))",
    }
    groups = ds.groups("gender")
    assert (groups.names, groups.counts.tolist()) == (("male", "female"), [2, 1])


def test_partition_filter(root):
    test = load_celeba(root, partition="test")
    assert [Path(p).name for p in test.paths] == ["000003.jpg"]
    assert test.columns["partition"].tolist() == ["test"]
    with pytest.raises(ValueError, match="partition"):
        load_celeba(root, partition="validation")


@pytest.mark.parametrize(("text", "match"), [
    ("5\n" + HEADER + "\n" + _row("000001.jpg", 1), "declares 5 images"),
    (HEADER + "\n" + _row("000001.jpg", 1), "number of images on line 1"),
    ("1\nSmiling Young\n000001.jpg 1 1", "no 'Male'"),
    ("2\n" + HEADER + "\n" + _row("000001.jpg", 1) + "\n" + _row("000001.jpg", 1), "twice"),
    # issue 19 §3: a repeated attribute gave two disagreeing columns ("Male" read the
    # first, the "Male" column the last)
    ("1\n" + HEADER.replace("Bald", "Male") + "\n" + _row("000001.jpg", 1),
     "names 'Male' twice"),
], ids=["count", "no-count", "no-male", "row-twice", "attribute-twice"])
def test_bad_attribute_file_is_an_error(root, text, match):
    (root / "list_attr_celeba.txt").write_text(text)
    with pytest.raises(ValueError, match=match):
        load_celeba(root)


def test_missing_parts_are_errors(root, tmp_path_factory):
    (root / "list_eval_partition.txt").unlink()
    with pytest.raises(FileNotFoundError, match="list_eval_partition"):
        load_celeba(root)
    with pytest.raises(FileNotFoundError, match="img_align_celeba"):
        load_celeba(tmp_path_factory.mktemp("empty"))


def test_synthetic_celeba_round_trip(tmp_path):
    pytest.importorskip("PIL")
    root = synthetic.write_celeba(tmp_path / "c", n=30, seed=1)
    ds = load_celeba(root)
    assert len(ds) == 30 and ds.rejected == ()
    assert ds.columns["partition"].tolist() == ["train"] * 24 + ["valid"] * 3 + ["test"] * 3
    assert (ds.columns["gender"] == "male").tolist() == ds.columns["Male"].tolist()
    assert set(ds.columns["gender"]) == {"male", "female"}


def test_a_linked_image_outside_is_rejected_once(root, tmp_path_factory):
    # issue 19 §3: an image linked to a file outside the data folder was kept
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "private.jpg"
    elsewhere.write_bytes(b"private")
    (root / "img_align_celeba" / "000006.jpg").symlink_to(elsewhere)
    ds = load_celeba(root)
    assert "000006.jpg" not in {Path(p).name for p in ds.paths}
    assert [r.reason for r in ds.rejected if Path(r.path).name == "000006.jpg"] == [
        f"symlink outside the data folder (to {elsewhere})"]


def test_an_image_folder_without_a_listed_image_is_an_error(root):
    # like load_utkface/load_vggface2 (issue 19 §3): an empty img_align_celeba (the zip
    # not extracted there) loaded as 0 images, every listed image only a rejection
    images = root / "img_align_celeba"
    for path in images.iterdir():
        path.unlink()
    with pytest.raises(ValueError, match="img_align_celeba holds no CelebA image"):
        load_celeba(root)
