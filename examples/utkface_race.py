"""UTKFace race classifier: data analysis, TFRecords split, frozen then unfrozen (experiment 2).

Steps: group counts and the rejected (malformed) file names with their reasons; a
stratified train/validation/test split written to TFRecords and read back for
training; for every backbone (ResNet50, Xception, EfficientNetV2L by default) the
backbone frozen, then unfrozen (``fit_staged``), the training history as JSON, the
training curves with the stage boundary, the confusion matrix of the test split and a
t-SNE picture of the test embeddings, plus per-group recall by race and by gender.

    python examples/utkface_race.py --smoke --out results/utkface
    python examples/utkface_race.py --data-dir /data/UTKFace --out results/utkface \\
        --backbone ResNet50 --weights imagenet
"""

from __future__ import annotations

import argparse
import sys
import tempfile

import numpy as np

import fairtrain as ft
from fairtrain import datasets, experiments
from fairtrain.experiments import OutputDir, OutputError
from fairtrain.experiments.models import build_model, embedding_model
from fairtrain.metrics import plots


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    experiments.add_example_arguments(
        parser, backbones=["ResNet50", "Xception", "EfficientNetV2L"], epochs=10,
        batch_size=64, image_size=128, needs=["sklearn"])  # t-SNE
    parser.add_argument("--learning-rates", type=float, nargs=2, default=(1e-3, 1e-4),
                        metavar=("FROZEN", "UNFROZEN"),
                        help="learning rate of each stage (default: 0.001 0.0001)")
    return experiments.resolve_example_arguments(parser.parse_args(argv))


def read_split(path, size):
    """Images (uint8) and the FaceDataset of a TFRecord split."""
    import tensorflow as tf

    records, part = datasets.read_tfrecords(path)
    images = records.map(lambda ex: tf.cast(tf.image.resize(ex["image"], size), tf.uint8))
    x = np.concatenate([b.numpy() for b in images.batch(256)]) if len(part) else None
    return x, part


def main(argv=None):
    args = parse(argv)
    try:
        out = OutputDir(args.out, force=args.force, tool="examples/utkface_race.py")
    except OutputError as exc:
        sys.exit(f"error: {exc.for_command_line()}")
    if out.replaced_unfinished:
        print(f"Replacing the files of an unfinished earlier run in {out.root}")
    with tempfile.TemporaryDirectory() as tmp:
        root = datasets.synthetic.write_utkface(tmp, n=200, seed=args.seed) if args.smoke \
            else args.data_dir
        run(args, out, datasets.load_utkface(root))
    out.finish()


def run(args, out, data):
    """Analyse the data, split it through TFRecords, train every backbone, write the summary."""
    import tensorflow as tf

    size = (args.image_size, args.image_size)
    races = list(data.levels.get("race", datasets.RACES))
    counts, rejected = analyse(out, data, races)
    arrays = write_splits(args, out, data, races, size)
    x_train, y_train, train = arrays["train"]
    x_val, y_val, val = arrays["val"]
    x_test, y_test, test = arrays["test"]
    x_val, x_test = x_val / np.float32(255), x_test / np.float32(255)
    table_x, table_y = tf.constant(x_train), tf.constant(y_train)

    def load(indices):
        return tf.cast(tf.gather(table_x, indices), tf.float32) / 255.0, tf.gather(
            table_y, indices)

    groups = train.groups("race")
    summary_rows, runs = [], []
    for backbone, weights in zip(args.backbone, args.weights):
        result, row = fit_and_test(args, out, backbone, weights, races, groups, load,
                                   (x_val, y_val), (x_test, y_test, test))
        runs.append(result)
        summary_rows.append(row)
    write_summary(args, out, races, counts, rejected, runs, summary_rows)


def analyse(out, data, races):
    """Images per race and gender and the rejected files: printed, data_analysis.json."""
    counts = {race: {g: int(np.sum((data.columns["race"] == race)
                                   & (data.columns["gender"] == g)))
                     for g in ("male", "female")} for race in races}
    rejected = [{"path": r.path, "reason": r.reason} for r in data.rejected]
    print(f"{len(data)} images kept, {len(rejected)} rejected")
    for r in rejected:
        print(f"  rejected {r['path']}: {r['reason']}")
    out.write_json("data_analysis.json", {"counts": counts, "n": len(data),
                                          "rejected": rejected})
    return counts, rejected


def write_splits(args, out, data, races, size):
    """The stratified split written to TFRecords and read back; name -> (x, y, dataset)."""
    parts = dict(zip(("train", "val", "test"), datasets.split(
        data, test_size=0.2, val_size=0.1, stratify="race", seed=args.seed)))
    arrays = {}
    for name, part in parts.items():
        path = out.path(f"split/{name}.tfrecord")
        out.path(f"split/{name}.tfrecord.json")
        datasets.write_tfrecords(part, path)
        x, restored = read_split(path, size)
        assert list(restored.paths) == list(part.paths)  # the round trip keeps every row
        y = np.array([races.index(r) for r in restored.columns["race"]], dtype=np.int64)
        arrays[name] = (x, y, restored)
    return arrays


def fit_and_test(args, out, backbone, weights, races, groups, load, validation, testing):
    """Train one backbone frozen then unfrozen, save its pictures; (run, summary row)."""
    x_test, y_test, test = testing
    size = (args.image_size, args.image_size)
    model = build_model(backbone, (*size, 3), len(races), weights=weights, seed=args.seed)
    sampler = ft.sampling.Proportional(groups, batch_size=args.batch_size, seed=args.seed)
    stages = ft.schedules.two_stage(max(1, args.epochs // 2),
                                    learning_rates=args.learning_rates)
    print(f"== {backbone}: frozen, then unfrozen")
    history = experiments.fit_staged_sampled(
        model, stages, sampler, load, loss="sparse_categorical_crossentropy",
        metrics=["accuracy"], validation_data=validation, vectorized=True,
        verbose=args.verbose)
    hist = experiments.history_to_dict(history)
    out.write_json(f"histories/{backbone}.json",
                   {"history": hist, "stage": list(history.stage),
                    # numbered from 1, as in the Markdown and the plots
                    "epoch": [e + 1 for e in history.epoch]})
    ax = plots.plot_training_curves(hist, list(history.stage),
                                    keys=["accuracy", "val_accuracy"], title=backbone)
    out.save_figure(f"curves_{backbone}.png", ax)
    probs, _ = experiments.predict(model, x_test)
    y_pred = np.asarray(races)[probs.argmax(1)]
    summary = experiments.classification_summary(
        np.asarray(races)[y_test], y_pred, test.groups("race", "gender"), races,
        min_count=1)
    summary.pop("report")
    out.save_figure(f"confusion_{backbone}.png", plots.plot_confusion_pair(
        np.asarray(summary["confusion"]), races, title=f"{backbone}: test split"))
    features, _ = experiments.predict(embedding_model(model), x_test)
    out.save_figure(f"tsne_{backbone}.png", tsne_figure(features, y_test, races, backbone,
                                                        args.seed))
    accuracy = float(np.mean(probs.argmax(1) == y_test))
    race_bias = summary["recall"]["attributes"]["race"]
    row = [backbone, hist["val_accuracy"][-1], accuracy,
           *[race_bias["groups"][r]["value"] for r in races], race_bias["bias"]["pairwise"]]
    return {"backbone": backbone, "test_accuracy": accuracy,
            "val_accuracy_last": hist["val_accuracy"][-1], **summary}, row


def write_summary(args, out, races, counts, rejected, runs, summary_rows):
    """summary.md (counts, rejected files, recall per race) and summary.json; printed."""
    header = ["backbone", "val accuracy", "test accuracy", *races, "race bias"]
    count_rows = [[race, c["male"], c["female"], c["male"] + c["female"]]
                  for race, c in counts.items()]
    md = "\n".join([
        "# UTKFace race classifier", "", "## Images per race and gender", "",
        experiments.markdown_table(["race", "male", "female", "all"], count_rows), "",
        f"{len(rejected)} files rejected (see data_analysis.json):", "",
        *[f"- `{r['path'].rsplit('/', 1)[-1]}`: {r['reason']}" for r in rejected], "",
        "## Frozen, then unfrozen: test recall per race", "",
        experiments.markdown_table(header, summary_rows), ""])
    out.write_text("summary.md", md)
    out.write_json("summary.json", {"settings": experiments.example_settings(args),
                                    "labels": races, "runs": runs})
    print(md)


def tsne_figure(features, y, labels, title, seed):
    from matplotlib.figure import Figure
    from sklearn.manifold import TSNE

    n = len(features)
    points = TSNE(n_components=2, perplexity=min(30.0, max(2.0, (n - 1) / 3)),
                  init="pca", random_state=seed).fit_transform(features)
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.subplots()
    for k, label in enumerate(labels):
        mask = y == k
        ax.scatter(points[mask, 0], points[mask, 1], s=10, label=f"{label} ({mask.sum()})")
    ax.legend(fontsize=8)
    ax.set_title(f"t-SNE of the test embeddings: {title}")
    return fig


if __name__ == "__main__":
    main()
