"""CelebA gender classifier with frozen backbones, plus the per-group metrics (experiment 4).

A 5,000-image subset (20 % validation, 20 % test, seed 1024), batch 64, ImageNet-style
backbones frozen (only the head trains), Adam, binary cross-entropy. Reports the test
accuracy and the inference time of every model, and what the original write-up lacked:
accuracy, true positive rate and selection rate per gender and per age (``Young``),
with the bias next to the overall value.

    python examples/celeba_gender.py --smoke --out results/celeba
    python examples/celeba_gender.py --data-dir /data/celeba --out results/celeba \\
        --backbone VGG16 --weights imagenet
"""

from __future__ import annotations

import argparse
import sys
import tempfile

import numpy as np

import fairtrain as ft
from fairtrain import datasets, experiments
from fairtrain.experiments import OutputDir, OutputError
from fairtrain.experiments.models import build_model
from fairtrain.metrics import plots


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    experiments.add_example_arguments(
        parser, backbones=["VGG16", "InceptionV3", "InceptionResNetV2"], epochs=20,
        batch_size=64, image_size=128)
    parser.add_argument("--subset", type=int, default=5000,
                        help="images drawn from CelebA (default: 5000; 0: all)")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="Adam learning rate of the head (default: 0.001)")
    parser.set_defaults(seed=1024)  # the write-up's seed
    return experiments.resolve_example_arguments(parser.parse_args(argv))


def load_data(args, tmp):
    """CelebA (a synthetic one with --smoke), cut to --subset images drawn with the seed."""
    root = datasets.synthetic.write_celeba(tmp, n=200, seed=args.seed) if args.smoke \
        else args.data_dir
    data = datasets.load_celeba(root)
    if args.subset and len(data) > args.subset:
        rng = np.random.default_rng(args.seed)
        data = data.take(np.sort(rng.choice(len(data), args.subset, replace=False)))
    return data


def fit_head(args, backbone, weights, size, train, load, validation, val_groups):
    """Train the head of a frozen backbone on gender-proportional batches; (model, history)."""
    x_val, y_val = validation
    model = build_model(backbone, (*size, 3), 1, activation="sigmoid",
                        weights=weights, seed=args.seed)
    sampler = ft.sampling.Proportional(train.groups("gender"),
                                       batch_size=args.batch_size, seed=args.seed)
    print(f"== {backbone} (frozen), head trained")
    history = experiments.fit_staged_sampled(
        model,
        [ft.Stage("head", trainable=["head"], epochs=args.epochs,
                  learning_rate=args.learning_rate)],
        sampler, load, loss="binary_crossentropy", metrics=["accuracy"],
        validation_data=(x_val, y_val), verbose=args.verbose,
        callbacks=[ft.BiasMonitor(x_val, y_val, val_groups,
                                  metric="accuracy", min_count=1,
                                  transform=lambda p: (p[:, 0] > 0.5).astype(int))],
    )
    return model, history


def evaluate(model, x_test, y_test, test_groups):
    """Test accuracy, inference time and per-group reports; (run fields, accuracy report)."""
    probs, seconds = experiments.predict(model, x_test)
    y_pred = (probs[:, 0] > 0.5).astype(int)
    y_true = y_test.astype(int)
    metrics = {}
    for metric, kwargs in (("accuracy", None), ("true_positive_rate", {"pos_label": 1}),
                           ("selection_rate", {"pos_label": 1})):
        report = ft.bias_report(y_true, y_pred, test_groups, metric=metric,
                                metric_kwargs=kwargs, min_count=1)
        metrics[metric] = report.to_dict()
        if metric == "accuracy":
            accuracy_report = report
    return {
        "test_accuracy": float(np.mean(y_pred == y_true)),
        "inference_seconds": seconds,
        "inference_ms_per_image": 1000 * seconds / len(y_true),
        "metrics": metrics,
    }, accuracy_report


def main(argv=None):
    args = parse(argv)
    try:
        out = OutputDir(args.out, force=args.force, tool="examples/celeba_gender.py")
    except OutputError as exc:
        sys.exit(f"error: {exc.for_command_line()}")
    if out.replaced_unfinished:
        print(f"Replacing the files of an unfinished earlier run in {out.root}")
    size = (args.image_size, args.image_size)
    with tempfile.TemporaryDirectory() as tmp:
        data = load_data(args, tmp)
        train, val, test = datasets.split(data, test_size=0.2, val_size=0.2,
                                          stratify="gender", seed=args.seed)
        y = {name: (part.columns["gender"] == "male").astype(np.float32)
             for name, part in (("train", train), ("val", val), ("test", test))}
        x_val = datasets.load_images(val.paths, size)
        x_test = datasets.load_images(test.paths, size)
        load = datasets.tf_image_loader(train.paths, size, y=y["train"])
        age = {p: np.where(part.columns["Young"], "young", "not young")
               for p, part in (("val", val), ("test", test))}
        test_groups = {"gender": test.columns["gender"], "age": age["test"]}
        print(f"{len(data)} images ({len(data.rejected)} rejected): train {len(train)}, "
              f"val {len(val)}, test {len(test)}")
        runs = []
        for backbone, weights in zip(args.backbone, args.weights):
            model, history = fit_head(args, backbone, weights, size, train, load,
                                      (x_val, y["val"]),
                                      {"gender": val.columns["gender"], "age": age["val"]})
            run, accuracy_report = evaluate(model, x_test, y["test"], test_groups)
            runs.append({"backbone": backbone, "frozen": True, **run,
                         "history": experiments.history_to_dict(history)})
            out.save_figure(f"accuracy_by_gender_{backbone}.png",
                            plots.plot_by_group(accuracy_report, "gender"))
    write(out, args, runs)


def write(out, args, runs):
    """summary.json, summary.md and the printed table: accuracy and bias per backbone."""
    header = ["backbone", "test accuracy", "ms / image", "accuracy female", "accuracy male",
              "gender bias", "age bias"]
    rows = []
    for run in runs:
        acc = run["metrics"]["accuracy"]["attributes"]
        rows.append([run["backbone"], run["test_accuracy"], run["inference_ms_per_image"],
                     acc["gender"]["groups"]["female"]["value"],
                     acc["gender"]["groups"]["male"]["value"],
                     acc["gender"]["bias"]["pairwise"], acc["age"]["bias"]["pairwise"]])
    out.write_json("summary.json", {"settings": experiments.example_settings(args),
                                    "runs": runs})
    out.write_text("summary.md", "# CelebA gender: frozen backbones\n\n"
                   + experiments.markdown_table(header, rows) + "\n")
    out.finish()
    print(experiments.markdown_table(header, rows))


if __name__ == "__main__":
    main()
