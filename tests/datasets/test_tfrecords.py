from __future__ import annotations

import json

import numpy as np
import pytest

from fairtrain.datasets import (
    FaceDataset,
    load_images,
    load_utkface,
    read_tfrecords,
    split,
    synthetic,
    write_tfrecords,
)

tf = pytest.importorskip("tensorflow")
pytest.importorskip("PIL")


def test_split_round_trip_keeps_every_attribute_and_image(tmp_path):
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=30, seed=2))
    ds = FaceDataset(ds.paths, {**ds.columns, "score": np.linspace(0, 1, len(ds)),
                                "flag": np.arange(len(ds)) % 2 == 0},
                     ds.rejected, ds.levels, ds.name)
    train, _, test = split(ds, test_size=0.3, val_size=0.0, stratify="race", seed=0)
    path = write_tfrecords(test, tmp_path / "out" / "test.tfrecord")
    records, back = read_tfrecords(path)
    assert back.paths.tolist() == test.paths.tolist()
    assert back.columns.keys() == test.columns.keys()
    for name in ("age", "gender", "race", "flag"):
        assert back.columns[name].tolist() == test.columns[name].tolist(), name
    assert back.columns["age"].dtype == np.int64 and back.columns["flag"].dtype == bool
    np.testing.assert_allclose(back.columns["score"], test.columns["score"], rtol=1e-6)
    assert back.levels == test.levels and back.rejected == test.rejected == ds.rejected
    assert back.name == "utkface" and len(back) == len(test)
    examples = list(records.as_numpy_iterator())
    assert [e["path"].decode() for e in examples] == test.paths.tolist()
    assert [e["race"].decode() for e in examples] == test.columns["race"].tolist()
    assert [bool(e["flag"]) for e in examples] == test.columns["flag"].tolist()
    # the image is the same JPEG: decoded, it is close to PIL's decoding of the file
    # (the two decoders upsample the chroma differently, so not equal to the bit)
    pixels = np.stack([e["image"] for e in examples]).astype(np.float32) / 255
    assert pixels.shape == (len(test), 32, 32, 3)
    assert np.abs(pixels - load_images(test.paths)).mean() < 0.02
    raw, _ = read_tfrecords(path, decode=False)
    first = next(iter(raw.as_numpy_iterator()))
    with open(test.paths[0], "rb") as f:
        assert first["image"] == f.read()


def test_never_replaces_a_foreign_file_and_overwrites_only_on_request(tmp_path):
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=5, malformed=False))
    foreign = tmp_path / "data.tfrecord"
    foreign.write_bytes(b"user")
    for overwrite in (False, True):
        with pytest.raises(FileExistsError, match="not written by fairtrain"):
            write_tfrecords(ds, foreign, overwrite=overwrite)
    assert foreign.read_bytes() == b"user"
    path = write_tfrecords(ds, tmp_path / "mine.tfrecord")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_tfrecords(ds, path)
    write_tfrecords(ds.take([0]), path, overwrite=True)
    assert len(read_tfrecords(path)[1]) == 1


@pytest.mark.parametrize("flag", ["False", 0, None])
def test_flags_that_are_not_bools_are_refused(tmp_path, flag):
    # "False" is truthy: write_tfrecords(overwrite="False") replaced the earlier file
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=5, malformed=False))
    path = write_tfrecords(ds, tmp_path / "mine.tfrecord")
    with pytest.raises(TypeError, match="`overwrite` must be True or False"):
        write_tfrecords(ds.take([0]), path, overwrite=flag)
    with pytest.raises(TypeError, match="`decode` must be True or False"):
        read_tfrecords(path, decode=flag)
    assert len(read_tfrecords(path)[1]) == len(ds)


def test_read_checks_the_description(tmp_path):
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=5, malformed=False))
    path = write_tfrecords(ds, tmp_path / "a.tfrecord")
    meta = json.loads((tmp_path / "a.tfrecord.json").read_text())
    meta["n"] = 6
    (tmp_path / "a.tfrecord.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="holds 5 examples"):
        read_tfrecords(path)
    (tmp_path / "a.tfrecord.json").unlink()
    with pytest.raises(FileNotFoundError):
        read_tfrecords(path)


def test_unsupported_column_type(tmp_path):
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=5, malformed=False))
    bad = FaceDataset(ds.paths, {"x": np.arange(len(ds)) * 1j})
    with pytest.raises(TypeError, match="dtype complex"):
        write_tfrecords(bad, tmp_path / "b.tfrecord")


@pytest.mark.parametrize("name", ["image", "path"])
def test_a_column_named_like_a_record_field_is_refused(tmp_path, name):
    # read_tfrecords yields {"image", "path", <columns>}: such a column would replace the
    # image or the path in every example without a word
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=5, malformed=False))
    bad = FaceDataset(ds.paths, {**ds.columns, name: np.array(["x"] * len(ds))})
    with pytest.raises(ValueError, match=f"column {name!r}"):
        write_tfrecords(bad, tmp_path / "b.tfrecord")
    assert not (tmp_path / "b.tfrecord").exists()


def test_a_failed_write_leaves_no_partial_file(tmp_path):
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=5, malformed=False))
    broken = FaceDataset([*ds.paths, str(tmp_path / "gone.jpg")],
                         {k: np.concatenate([v, v[:1]]) for k, v in ds.columns.items()})
    target = tmp_path / "t.tfrecord"
    with pytest.raises(FileNotFoundError, match="gone.jpg"):
        write_tfrecords(broken, target)
    # a partial file would be taken for a foreign one and block every retry
    assert not target.exists() and not (tmp_path / "t.tfrecord.json").exists()
    write_tfrecords(ds, target)
    # replacing an earlier file fails the same way: neither the truncated records nor
    # the stale description (which counts the old records) stay behind
    with pytest.raises(FileNotFoundError):
        write_tfrecords(broken, target, overwrite=True)
    assert not target.exists() and not (tmp_path / "t.tfrecord.json").exists()


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_a_foreign_file_beside_is_refused_clearly(tmp_path, text):
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=5, malformed=False))
    (tmp_path / "t.tfrecord.json").write_text(text)
    with pytest.raises(FileExistsError, match="not written by fairtrain"):
        write_tfrecords(ds, tmp_path / "t.tfrecord", overwrite=True)
    assert (tmp_path / "t.tfrecord.json").read_text() == text
    assert not (tmp_path / "t.tfrecord").exists()


def test_overwrite_never_replaces_a_user_file_beside_a_fairtrain_description(tmp_path):
    # issue 19 §2: only the description was checked, so a file the user put at `path`
    # (beside an earlier description) was replaced by overwrite=True
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=5, malformed=False))
    path = tmp_path / "t.tfrecord"
    write_tfrecords(ds, path)
    path.write_bytes(b"the user's own file")
    with pytest.raises(FileExistsError, match="not the file write_tfrecords wrote"):
        write_tfrecords(ds, path, overwrite=True)
    assert path.read_bytes() == b"the user's own file"
    # the same through a link at `path` to a file of the user's
    path.unlink()
    mine = tmp_path / "mine.bin"
    mine.write_bytes(b"keep")
    path.symlink_to(mine)
    with pytest.raises(FileExistsError):
        write_tfrecords(ds, path, overwrite=True)
    assert mine.read_bytes() == b"keep"
    # the file it wrote is still replaced on request (the description alone too)
    path.unlink()
    write_tfrecords(ds, path, overwrite=True)
    write_tfrecords(ds.take([0]), path, overwrite=True)
    assert len(read_tfrecords(path)[1]) == 1


def _with_columns(ds, **columns):
    return FaceDataset(ds.paths, {**ds.columns, **columns}, ds.rejected, ds.levels, ds.name)


def test_every_column_round_trips_exactly_with_its_dtype(tmp_path):
    # issue 19 §3: float64 went through float32 (33.1 came back as 33.099998, 1e40 as inf)
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=6, malformed=False))
    columns = {
        "f64": np.array([33.1, 1e40, -0.0, np.nan, 5e-324, -1.7976931348623157e308]),
        "f32": np.array([33.1, 1e30, -0.0, np.nan, 1e-45, 3.4e38], dtype=np.float32),
        "f16": np.array([0.1, 2.0, -0.0, np.nan, 6e-8, 65504], dtype=np.float16),
        "i8": np.array([-128, 127, 0, 1, -1, 5], dtype=np.int8),
        "i32": np.array([2**31 - 1, -(2**31), 0, 1, -1, 7], dtype=np.int32),
        "i64": np.array([2**63 - 1, -(2**63), 0, 1, -1, 7], dtype=np.int64),
        "u64": np.array([2**64 - 1, 2**63, 0, 1, 2, 3], dtype=np.uint64),
        "u8": np.array([255, 0, 1, 2, 3, 4], dtype=np.uint8),
        "flag": np.array([True, False, True, True, False, False]),
        "text": np.array(["é", "", "a b", "None", "x" * 40, "ß"]),
        "objects": np.array(["a", "b", "", "c", "d", "e"], dtype=object),
    }
    ds = _with_columns(ds, **columns)
    path = write_tfrecords(ds, tmp_path / "all.tfrecord")
    records, back = read_tfrecords(path)
    examples = list(records.as_numpy_iterator())
    for name, column in columns.items():
        got = back.columns[name]
        assert got.dtype == column.dtype, name
        if column.dtype.kind in "fiub":
            assert got.tobytes() == column.tobytes(), (name, got, column)   # bit for bit
            from_records = np.array([e[name] for e in examples])
            assert from_records.dtype == column.dtype, name
            assert from_records.tobytes() == column.tobytes(), name
        else:
            assert got.tolist() == column.tolist(), name


@pytest.mark.parametrize(
    ("values", "match"),
    [([None, "a", "b", "c", "d", "e"], r"'maybe'.*None.*row 0"),
     (["a", 1, "b", "c", "d", "e"], r"'maybe'.*1.*row 1")],
    ids=["none", "mixed"],
)
def test_values_that_cannot_be_stored_are_refused(tmp_path, values, match):
    # None came back as the string 'None' (str(None)); an int in a str column as '1'
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=6, malformed=False))
    bad = _with_columns(ds, maybe=np.array(values, dtype=object))
    with pytest.raises(TypeError, match=match):
        write_tfrecords(bad, tmp_path / "b.tfrecord")
    assert not (tmp_path / "b.tfrecord").exists()


def test_the_description_is_never_written_through_a_link(tmp_path):
    # a link at <path>.json (broken, or to a file of the user's) was followed: the
    # description was written at the link's target, outside the chosen path
    ds = load_utkface(synthetic.write_utkface(tmp_path / "u", n=5, malformed=False))
    path = tmp_path / "t.tfrecord"
    target = tmp_path / "elsewhere" / "notes.json"
    target.parent.mkdir()
    (tmp_path / "t.tfrecord.json").symlink_to(target)
    with pytest.raises(FileExistsError, match="link"):
        write_tfrecords(ds, path)
    assert not target.exists()
    assert not path.exists()


def test_a_column_that_cannot_be_stored_leaves_the_earlier_split_as_it_was(tmp_path):
    # a str no UTF-8 holds, as os.fsdecode gives for a non-UTF-8 folder name
    paths = []
    for i in range(3):
        image = tmp_path / f"{i}.jpg"
        image.write_bytes(b"image bytes " + bytes([i]))
        paths.append(str(image))
    out = tmp_path / "split.tfrecord"
    write_tfrecords(FaceDataset(paths=paths, columns={"identity": np.array(["a", "b", "c"])}),
                    out)
    before = (out.read_bytes(), (tmp_path / "split.tfrecord.json").read_text())
    bad = FaceDataset(paths=paths, columns={"identity": np.array(["a", "b\udcff", "c"])})
    with pytest.raises(UnicodeError):
        write_tfrecords(bad, out, overwrite=True)
    assert (out.read_bytes(), (tmp_path / "split.tfrecord.json").read_text()) == before
    _, restored = read_tfrecords(out, decode=False)
    assert list(restored.columns["identity"]) == ["a", "b", "c"]
