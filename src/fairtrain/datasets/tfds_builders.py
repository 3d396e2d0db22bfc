"""TensorFlow Datasets builders for UTKFace and VGGFace2-ethnicity, read from a ``manual_dir``.

Importing this module registers the builders ``utkface`` and ``vggface2_ethnicity`` with
``tfds``; nothing is ever downloaded. CelebA needs no builder here: tfds' own
``celeb_a`` reads the original files from a ``manual_dir`` (see :data:`CELEBA_FILES`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fairtrain.datasets._core import FaceDataset, Rejected
from fairtrain.datasets.utkface import GENDERS, RACES, load_utkface
from fairtrain.datasets.vggface2 import ETHNICITIES, load_vggface2

try:
    import tensorflow_datasets as tfds
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'The tfds builders need TensorFlow Datasets: pip install "fairtrain[datasets]".'
    ) from exc

__all__ = ["CELEBA_FILES", "UTKFace", "VGGFace2Ethnicity", "celeba_download_config"]

#: The files tfds' ``celeb_a`` builder takes from ``manual_dir`` instead of downloading
#: them (its registered file names; their checksums must match the originals).
CELEBA_FILES: tuple[str, ...] = (
    "img_align_celeba.zip",
    "list_attr_celeba.txt",
    "list_eval_partition.txt",
    "list_landmarks_align_celeba.txt",
    "identity_CelebA.txt",
)


def celeba_download_config(manual_dir: Any) -> Any:
    """``tfds.download.DownloadConfig`` that makes tfds' ``celeb_a`` read ``manual_dir``.

    Parameters
    ----------
    manual_dir : path
        A folder holding the original :data:`CELEBA_FILES`, as published.

    Returns
    -------
    tfds.download.DownloadConfig
        Pass it as ``tfds.load("celeb_a", download_and_prepare_kwargs={"download_config":
        config})`` or to ``builder.download_and_prepare(download_config=config)``. tfds
        checks each file's SHA-256 against its registry; a file that differs is refused
        (``NonMatchingChecksumError``), never replaced by a download.

    Raises
    ------
    FileNotFoundError
        If a file of :data:`CELEBA_FILES` is missing (tfds would otherwise download it).
    """
    from pathlib import Path

    folder = Path(manual_dir).expanduser().resolve()
    missing = [name for name in CELEBA_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} lacks {missing}; tfds' celeb_a would try to download them. Place the "
            "original files there."
        )
    return tfds.download.DownloadConfig(manual_dir=str(folder))


def _readable(dataset: FaceDataset) -> FaceDataset:
    """``dataset`` without the images TensorFlow cannot decode, which join ``rejected``.

    tfds stores a ``.jpg`` file's bytes as they are: a corrupt one would be accepted
    here and make every later read of the split fail without naming the file.
    """
    import tensorflow as tf

    keep, refused = [], []
    for i, path in enumerate(dataset.paths):
        try:
            tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        except tf.errors.OpError as exc:  # InvalidArgumentError: not an image
            message = (exc.message or type(exc).__name__).strip().splitlines()[0]
            refused.append(Rejected(str(path), f"not a readable image ({message})"))
        else:
            keep.append(i)
    if not refused:
        return dataset
    out = dataset.take(np.asarray(keep, dtype=np.int64))
    return FaceDataset(out.paths, out.columns, (*dataset.rejected, *refused), out.levels,
                       out.name)


def _log_rejected(builder: Any, dataset: FaceDataset, split: str) -> None:
    """Keep the loader's rejections in the dataset's metadata (saved with it) and log them."""
    builder.info.metadata.setdefault("rejected", {})[split] = [
        [r.path, r.reason] for r in dataset.rejected
    ]
    if dataset.rejected:
        from absl import logging

        logging.warning(
            "%s/%s: %d file(s) rejected, e.g. %s: %s (all are in info.metadata['rejected'])",
            builder.name, split, len(dataset.rejected), dataset.rejected[0].path,
            dataset.rejected[0].reason,
        )


def _relative_key(path: str, root: Any) -> str:
    from pathlib import Path

    return Path(path).relative_to(Path(root).expanduser().resolve()).as_posix()


class UTKFace(tfds.core.GeneratorBasedBuilder):
    """UTKFace (age, gender, race from the file names) from a ``manual_dir``.

    One ``train`` split of every well-named image under ``manual_dir`` (slice it with
    ``split="train[:80%]"``); malformed names are listed in
    ``info.metadata["rejected"]["train"]``, as :func:`fairtrain.datasets.load_utkface`
    rejects them, and so are images TensorFlow cannot decode ("not a readable image").
    """

    name = "utkface"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release, read from manual_dir."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Place the UTKFace images (UTKFace/ or crop_part1/: "
        "[age]_[gender]_[race]_[datetime].jpg.chip.jpg) in manual_dir."
    )

    def _info(self) -> Any:
        return self.dataset_info_from_configs(
            description="UTKFace faces labelled with age, gender and race.",
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 3), encoding_format="jpeg"),
                "age": tfds.features.Scalar(dtype=np.int32),
                "gender": tfds.features.ClassLabel(names=GENDERS),
                "race": tfds.features.ClassLabel(names=RACES),
            }),
            supervised_keys=("image", "race"),
            homepage="https://susanqq.github.io/UTKFace/",
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager: Any) -> dict[str, Any]:
        dataset = _readable(load_utkface(dl_manager.manual_dir))
        _log_rejected(self, dataset, "train")
        return {"train": self._generate_examples(dataset, str(dl_manager.manual_dir))}

    def _generate_examples(self, dataset: FaceDataset, root: str) -> Any:
        for i, path in enumerate(dataset.paths):
            yield _relative_key(path, root), {
                "image": path,
                "age": int(dataset.columns["age"][i]),
                "gender": str(dataset.columns["gender"][i]),
                "race": str(dataset.columns["race"][i]),
            }


class VGGFace2Ethnicity(tfds.core.GeneratorBasedBuilder):
    """VGGFace2 with a user-supplied ethnicity per identity, from a ``manual_dir``.

    ``manual_dir`` holds VGGFace2's ``train/`` (and optionally ``test/``) identity
    folders, ``meta/identity_meta.csv`` and ``ethnicity.csv`` (``Class_ID,ethnicity``,
    labels among ``African, Asian, Latin/Caucasian, Indian``). One split per folder
    present; VGGFace2's train and test identities are disjoint. Rejected files (and
    images TensorFlow cannot decode) are in ``info.metadata["rejected"]``.
    """

    name = "vggface2_ethnicity"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release, read from manual_dir."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Place VGGFace2's train/ (and test/) identity folders and meta/identity_meta.csv, "
        "and your ethnicity.csv (Class_ID,ethnicity) in manual_dir."
    )

    def _info(self) -> Any:
        return self.dataset_info_from_configs(
            description="VGGFace2 faces with an identity, a gender and an ethnicity label.",
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 3), encoding_format="jpeg"),
                "identity": tfds.features.Text(),
                "gender": tfds.features.ClassLabel(names=["male", "female"]),
                "ethnicity": tfds.features.ClassLabel(names=ETHNICITIES),
            }),
            supervised_keys=("image", "ethnicity"),
            homepage="https://www.robots.ox.ac.uk/~vgg/data/vgg_face2/",
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager: Any) -> dict[str, Any]:
        root = dl_manager.manual_dir
        splits = {}
        for split in ("train", "test"):
            if not (root / split).exists():
                continue
            dataset = _readable(load_vggface2(
                root / split, root / "ethnicity.csv",
                identity_meta=root / "meta" / "identity_meta.csv",
            ))
            _log_rejected(self, dataset, split)
            splits[split] = self._generate_examples(dataset, str(root))
        if not splits:
            raise FileNotFoundError(f"{root} has neither train/ nor test/.")
        return splits

    def _generate_examples(self, dataset: FaceDataset, root: str) -> Any:
        for i, path in enumerate(dataset.paths):
            yield _relative_key(path, root), {
                "image": path,
                "identity": str(dataset.columns["identity"][i]),
                "gender": str(dataset.columns["gender"][i]),
                "ethnicity": str(dataset.columns["ethnicity"][i]),
            }
