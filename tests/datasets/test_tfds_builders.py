"""The tfds builders, tested with tfds' own DatasetBuilderTestCase on files written here."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")
pytest.importorskip("PIL")
pytest.importorskip("dill")  # tfds.testing needs it

from fairtrain.datasets import load_utkface, synthetic  # noqa: E402
from fairtrain.datasets.tfds_builders import (  # noqa: E402
    CELEBA_FILES,
    UTKFace,
    VGGFace2Ethnicity,
    celeba_download_config,
)


def _no_download(*args, **kwargs):
    raise AssertionError("a test tried to download")


def test_the_download_guard_patches_a_real_method():
    # The guard below patches tfds' private downloader; fail loudly if tfds renames it.
    from tensorflow_datasets.core.download import downloader

    assert callable(downloader._Downloader.download)


class _Offline:
    """Write the manual_dir before tfds' test case reads EXAMPLE_DIR; forbid downloads."""

    @classmethod
    def write(cls, folder: Path) -> None:
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.mkdtemp()
        cls.EXAMPLE_DIR = str(Path(cls._tmp) / "manual")
        cls.write(Path(cls.EXAMPLE_DIR))
        cls._guard = mock.patch(
            "tensorflow_datasets.core.download.downloader._Downloader.download", _no_download)
        cls._guard.start()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls._guard.stop()
        shutil.rmtree(cls._tmp, ignore_errors=True)


class UTKFaceBuilderTest(_Offline, tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = UTKFace
    SPLITS = {"train": 12}

    @classmethod
    def write(cls, folder):
        synthetic.write_utkface(folder, n=12, seed=4)  # + 6 malformed names


class VGGFace2EthnicityBuilderTest(_Offline, tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = VGGFace2Ethnicity
    SPLITS = {"train": 8, "test": 4}

    @classmethod
    def write(cls, folder):
        out = synthetic.write_vggface2(folder, n_identities=6, images_per_identity=2, seed=4)
        (folder / "test").mkdir()
        for identity in ("n000005", "n000006"):
            shutil.move(str(Path(out["root"]) / identity), str(folder / "test" / identity))


def test_utkface_examples_equal_the_loader_and_rejections_are_kept(tmp_path):
    manual = Path(synthetic.write_utkface(tmp_path / "manual", n=10, seed=5))
    builder = UTKFace(data_dir=str(tmp_path / "data"))
    with mock.patch("tensorflow_datasets.core.download.downloader._Downloader.download",
                    _no_download):
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    loaded = load_utkface(manual)
    by_key = {Path(p).name: i for i, p in enumerate(loaded.paths)}
    examples = list(tfds.as_numpy(builder.as_dataset(split="train")))
    assert len(examples) == len(loaded) == 10
    seen = set()
    for ex in examples:
        # tfds does not keep the key; find the row by the attributes and image
        matches = [
            name for name, i in by_key.items()
            if loaded.columns["age"][i] == ex["age"]
            and ["male", "female"].index(loaded.columns["gender"][i]) == ex["gender"]
            and builder.info.features["race"].int2str(ex["race"]) == loaded.columns["race"][i]
        ]
        assert matches, ex["age"]
        seen.update(matches)
        assert ex["image"].shape == (32, 32, 3) and ex["image"].dtype == np.uint8
    assert seen == set(by_key)
    rejected = builder.info.metadata["rejected"]["train"]
    assert sorted(Path(p).name for p, _ in rejected) == sorted(
        name for name, _ in synthetic.UTKFACE_MALFORMED)
    reloaded = tfds.builder("utkface", data_dir=str(tmp_path / "data"))
    assert reloaded.info.metadata["rejected"]["train"] == rejected


def test_celeb_a_reads_manual_dir_files_instead_of_downloading(tmp_path):
    """tfds' own celeb_a takes the files from manual_dir (and checks their checksums).

    The real files cannot be shipped, so the placed files are tiny stand-ins: tfds must
    pick them up from manual_dir (not download) and refuse them on their checksum.
    """
    from tensorflow_datasets.core.download.download_manager import NonMatchingChecksumError

    registered = {info.filename for info in tfds.builder_cls("celeb_a").url_infos.values()}
    assert registered == set(CELEBA_FILES)
    manual = tmp_path / "manual"
    manual.mkdir()
    with pytest.raises(FileNotFoundError, match="lacks"):
        celeba_download_config(manual)
    for name in CELEBA_FILES:
        (manual / name).write_bytes(b"stand-in")
    config = celeba_download_config(manual)
    builder = tfds.builder("celeb_a", data_dir=str(tmp_path / "data"))
    with mock.patch("tensorflow_datasets.core.download.downloader._Downloader.download",
                    _no_download), pytest.raises(NonMatchingChecksumError, match="manual"):
        builder.download_and_prepare(download_config=config)


def test_a_corrupt_image_is_rejected_by_name_and_every_example_reads(tmp_path):
    # issue 19 §3: a corrupt JPEG was stored as is, and every later read failed without
    # naming the file
    manual = Path(synthetic.write_utkface(tmp_path / "manual", n=6, seed=5, malformed=False))
    corrupt = manual / "30_0_1_20170119171621099.jpg.chip.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg after all")
    builder = UTKFace(data_dir=str(tmp_path / "data"))
    with mock.patch("tensorflow_datasets.core.download.downloader._Downloader.download",
                    _no_download):
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    reasons = dict(builder.info.metadata["rejected"]["train"])
    assert list(reasons) == [str(corrupt)]
    assert reasons[str(corrupt)].startswith("not a readable image")
    examples = list(tfds.as_numpy(builder.as_dataset(split="train")))
    assert len(examples) == 6
