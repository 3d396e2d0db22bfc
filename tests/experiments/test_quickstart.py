"""docs/quickstart.rst quotes what `fairtrain demo` prints before training: check it."""

import re
from pathlib import Path

import numpy as np
import pytest

import fairtrain as ft
from fairtrain import datasets
from fairtrain.experiments import clustered_wilson_interval
from fairtrain.experiments.demo import DEFAULTS

pytest.importorskip("PIL")

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "quickstart.rst").read_text()


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    """The demo's data, split and samplers with the default options (no training)."""
    tmp = tmp_path_factory.mktemp("quickstart")
    written = datasets.synthetic.write_vggface2(
        tmp, n_identities=DEFAULTS["identities"],
        images_per_identity=DEFAULTS["images_per_identity"], seed=DEFAULTS["seed"])
    data = datasets.load_vggface2(written["root"], written["ethnicity_csv"])
    parts = datasets.split(data, test_size=0.25, val_size=0.15, by="identity",
                           stratify="ethnicity", seed=DEFAULTS["seed"])
    return data, dict(zip(("train", "val", "test"), parts))


def test_the_printed_split_sizes(demo_data):
    _, parts = demo_data
    line = f"train {len(parts['train'])}, val {len(parts['val'])}, test {len(parts['test'])}"
    assert f"Images per split and group: {line}" in PAGE
    assert f"{len(parts['train']):,} images" in PAGE


def test_the_printed_batches(demo_data):
    data, parts = demo_data
    labels = list(data.levels["ethnicity"])
    groups = parts["train"].groups("ethnicity")
    for name, cls in (("proportional", ft.sampling.Proportional),
                      ("homogeneous", ft.sampling.Homogeneous)):
        sampler = cls(groups, batch_size=DEFAULTS["batch_size"], seed=DEFAULTS["seed"])
        first = np.bincount(groups.codes[sampler.plan(0)[0]], minlength=len(labels))
        holds = ", ".join(f"{n} {lab}" for n, lab in zip(first, labels))
        assert (f"== {name} batches: {sampler.steps_per_epoch} batches of "
                f"{DEFAULTS['batch_size']} per epoch; first batch holds {holds}") in PAGE


def test_the_table_counts_and_the_quoted_intervals(demo_data):
    data, parts = demo_data
    test = parts["test"]
    for label in data.levels["ethnicity"]:
        n = int(np.sum(test.columns["ethnicity"] == label))
        assert re.search(rf"^   {re.escape(label)} +{n} ", PAGE, re.M), label
    african = test.columns["ethnicity"] == "African"
    identities = test.columns["identity"][african]
    assert (np.unique(identities).size, african.sum()) == (8, 48)
    as_clusters = clustered_wilson_interval(np.ones(48, bool), identities)
    as_images = clustered_wilson_interval(np.ones(48, bool))
    for interval in (as_clusters, as_images):
        assert f"[{interval['low']:.2f}, {interval['high']:.2f}]" in PAGE
