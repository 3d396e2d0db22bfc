from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairtrain.datasets import FaceDataset, Rejected, load_images, split, tf_image_loader


def _dataset(identities, ethnicity=None):
    columns = {"identity": np.asarray(identities, dtype=str)}
    if ethnicity is not None:
        columns["ethnicity"] = np.asarray(ethnicity, dtype=str)
    return FaceDataset(paths=[f"/img/{i}.jpg" for i in range(len(identities))], columns=columns,
                       rejected=(Rejected("/img/bad.txt", "not an image"),))


def test_face_dataset_checks_lengths_and_levels():
    with pytest.raises(ValueError, match="one value per path"):
        FaceDataset(paths=["/a.jpg"], columns={"g": ["x", "y"]})
    with pytest.raises(ValueError, match="not among its levels"):
        FaceDataset(paths=["/a.jpg"], columns={"g": ["x"]}, levels={"g": ["y"]})
    with pytest.raises(ValueError, match="not a column"):
        FaceDataset(paths=["/a.jpg"], columns={"g": ["x"]}, levels={"h": ["y"]})


def test_take_keeps_rejected_and_groups_use_levels():
    ds = FaceDataset(paths=["/a.jpg", "/b.jpg", "/c.jpg"],
                     columns={"e": ["Asian", "African", "Asian"]},
                     levels={"e": ["Asian", "African"]},
                     rejected=(Rejected("/x", "why"),))
    sub = ds.take(np.array([True, False, True]))
    assert sub.paths.tolist() == ["/a.jpg", "/c.jpg"] and sub.rejected == ds.rejected
    assert ds.take(slice(1, None)).columns["e"].tolist() == ["African", "Asian"]
    groups = ds.groups("e")
    assert groups.counts.tolist() == [2, 1]  # level order, not alphabetical
    with pytest.raises(KeyError, match="No column"):
        ds.groups("nope")
    with pytest.raises(ValueError, match="at least one"):
        ds.groups()


@given(
    identities=st.lists(st.integers(0, 30), min_size=1, max_size=120),
    test_size=st.floats(0, 0.5),
    val_size=st.floats(0, 0.45),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_by_identity_never_shares_an_identity(identities, test_size, val_size, seed):
    ds = _dataset([f"n{i:06d}" for i in identities])
    train, val, test = split(ds, test_size=test_size, val_size=val_size, by="identity", seed=seed)
    sides = [set(part.columns["identity"].tolist()) for part in (train, val, test)]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
    # a partition of the rows: every path exactly once
    all_paths = np.concatenate([p.paths for p in (train, val, test)])
    assert sorted(all_paths.tolist()) == sorted(ds.paths.tolist())
    m = len(set(identities))
    assert len(sides[2]) == int(np.floor(test_size * m + 0.5))
    # deterministic
    again = split(ds, test_size=test_size, val_size=val_size, by="identity", seed=seed)
    assert [p.paths.tolist() for p in again] == [p.paths.tolist() for p in (train, val, test)]


def test_split_stratified_by_unit_keeps_each_stratum_proportional():
    identities = [f"n{i}" for i in range(40) for _ in range(3)]
    ethnicity = ["A" if i < 10 else "B" for i in range(40) for _ in range(3)]
    train, val, test = split(_dataset(identities, ethnicity), test_size=0.2, val_size=0.1,
                             by="identity", stratify="ethnicity", seed=3)
    for part, per_a, per_b in ((test, 2, 6), (val, 1, 3), (train, 7, 21)):
        ids = dict(zip(part.columns["identity"], part.columns["ethnicity"]))
        assert sum(v == "A" for v in ids.values()) == per_a
        assert sum(v == "B" for v in ids.values()) == per_b


def test_split_errors():
    ds = _dataset(["a", "a"], ["x", "y"])
    with pytest.raises(ValueError, match="varies within the unit"):
        split(ds, by="identity", stratify="ethnicity")
    with pytest.raises(ValueError, match="below 1"):
        split(ds, test_size=0.5, val_size=0.5)
    with pytest.raises(ValueError, match=r"`test_size` must be a finite number in \[0, 1\)"):
        split(ds, test_size=-0.1)
    with pytest.raises(ValueError, match="not a column"):
        split(ds, by="nope")


@pytest.mark.parametrize("dataset", [["a"] * 10 + ["b"] * 10, np.arange(20), {"g": [1, 2]}],
                         ids=["list", "array", "mapping"])
def test_split_says_what_a_dataset_is(dataset):
    # review 4: split(list) failed deep inside, after the shuffle, with AttributeError:
    # 'list' object has no attribute 'take'
    with pytest.raises(TypeError, match="`dataset` must be a FaceDataset or TabularDataset"):
        split(dataset, seed=1)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"by": 1}, TypeError, "`by` must be a non-empty str or None; got by=1"),
    ({"stratify": ""}, ValueError, "`stratify` must be a non-empty str or None"),
    ({"seed": 1.5}, TypeError, "`seed` must be an int >= 0; got seed=1.5"),
], ids=["by-int", "stratify-empty", "seed-float"])
def test_split_declares_its_column_names_and_seed(kwargs, error, match):
    with pytest.raises(error, match=match):
        split(_dataset(["a", "b", "c"]), **kwargs)


def _write_png(path, array):
    from PIL import Image

    Image.fromarray(array).save(path)


def test_load_images_reads_resizes_and_scales(tmp_path):
    pytest.importorskip("PIL")
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    _write_png(tmp_path / "red.png", red)
    gray = np.full((4, 6), 51, np.uint8)  # greyscale becomes RGB
    _write_png(tmp_path / "gray.png", gray)
    x = load_images([tmp_path / "red.png", tmp_path / "gray.png"], size=(4, 4))
    assert x.shape == (2, 4, 4, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, ..., 0], 1.0)
    np.testing.assert_allclose(x[0, ..., 1:], 0.0)
    np.testing.assert_allclose(x[1], 0.2, atol=1e-6)
    with pytest.raises(ValueError, match="size"):
        load_images([tmp_path / "red.png"], size=(0, 4))


def test_load_images_scales_a_16_bit_greyscale_png_by_its_own_range(tmp_path):
    # convert("RGB") clips 16-bit values at 255: every such image came back all white
    pytest.importorskip("PIL")
    levels = np.array([[0, 1000, 30000, 65535]], np.uint16)
    _write_png(tmp_path / "deep.png", levels)
    x = load_images([tmp_path / "deep.png"], size=(1, 4))
    expected = levels[0] / 65535  # independent of the loader: the PNG's 16-bit range
    for channel in range(3):
        np.testing.assert_allclose(x[0, 0, :, channel], expected, atol=1 / 255)


def test_tf_image_loader_matches_load_images_on_unresized_images(tmp_path):
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (6, 6, 3), dtype=np.uint8) for _ in range(3)]
    paths = []
    for i, a in enumerate(arrays):
        _write_png(tmp_path / f"{i}.png", a)
        paths.append(str(tmp_path / f"{i}.png"))
    load = tf_image_loader(paths, size=(6, 6), y=np.array([10, 11, 12]))
    image, label = load(tf.constant(2, tf.int64))
    np.testing.assert_allclose(image.numpy(), arrays[2] / 255.0, atol=1e-6)
    assert int(label) == 12
    dataset = tf.data.Dataset.range(3).map(tf_image_loader(paths, size=(3, 3)))
    assert [tuple(x.shape) for x in dataset] == [(3, 3, 3)] * 3
    with pytest.raises(ValueError, match="one per path"):
        tf_image_loader(paths, y=[1, 2])


@pytest.mark.parametrize("index", [[0.7, 9.9], np.array([1.0, 2.0]), ["0"]],
                         ids=["fractions", "whole-floats", "strings"])
def test_take_refuses_indices_that_are_not_integers(index):
    # issue 19 §3: take([0.7, 9.9]) truncated to rows 0 and 9 without a word
    ds = FaceDataset(paths=[f"/{i}.jpg" for i in range(10)], columns={"a": np.arange(10)})
    with pytest.raises(TypeError, match="integers"):
        ds.take(index)
    assert len(ds.take([])) == 0 and ds.take(np.array([9, 0])).columns["a"].tolist() == [9, 0]
