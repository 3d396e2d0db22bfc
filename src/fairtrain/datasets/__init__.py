"""Dataset loaders (faces: UTKFace, VGGFace2, CelebA; tables: Adult, COMPAS), splits, images.

Each loader reads the dataset's real on-disk format. A face loader returns a
:class:`FaceDataset`: the image paths, the attribute columns ready for
:meth:`fairtrain.Groups.from_columns`, and every file it refused with the reason
(:class:`Rejected`). A table loader returns a :class:`TabularDataset`: a feature matrix,
a 0/1 label, the raw and attribute columns, and every row it refused with its line and
reason. Nothing is guessed or silently dropped. Pillow and TensorFlow are imported only
by the functions that need them.
"""

from __future__ import annotations

from fairtrain.datasets import synthetic
from fairtrain.datasets._core import (
    FaceDataset,
    Rejected,
    load_images,
    split,
    tf_image_loader,
)
from fairtrain.datasets._tabular import TabularDataset
from fairtrain.datasets.adult import load_adult
from fairtrain.datasets.celeba import PARTITIONS, load_celeba
from fairtrain.datasets.compas import load_compas
from fairtrain.datasets.tfrecords import read_tfrecords, write_tfrecords
from fairtrain.datasets.utkface import RACES, load_utkface, parse_utkface_name
from fairtrain.datasets.vggface2 import ETHNICITIES, load_vggface2

__all__ = [
    "ETHNICITIES",
    "FaceDataset",
    "PARTITIONS",
    "RACES",
    "Rejected",
    "TabularDataset",
    "load_adult",
    "load_celeba",
    "load_compas",
    "load_images",
    "load_utkface",
    "load_vggface2",
    "parse_utkface_name",
    "read_tfrecords",
    "split",
    "synthetic",
    "tf_image_loader",
    "write_tfrecords",
]
