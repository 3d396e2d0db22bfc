"""VGGFace2 ethnicity classifier: proportional vs homogeneous batches (REFERENCE experiment 1).

Four classes (African, Asian, Latin/Caucasian, Indian), labels per identity, split by
identity. Every backbone is trained twice from the same initial weights: batches that
keep the population shares, then batches with 25 % of each group. Learning rate 0.005,
halved every 6 epochs. On the test identities: the raw and the row-normalised 4x4
confusion matrices, the recall of every group (their diagonal) and the bias, for the
last epoch and for the epoch with the lowest validation loss.

    python examples/vggface2_ethnicity.py --smoke --out results/vggface2
    python examples/vggface2_ethnicity.py --data-dir /data/vggface2/train \\
        --ethnicity-csv ethnicity.csv --out results/vggface2 --backbone ResNet50

The public VGGFace2 release has no ethnicity labels: --ethnicity-csv maps every identity
(``n000002``) to one of the four classes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

import fairtrain as ft
from fairtrain import datasets, experiments
from fairtrain.experiments import OutputDir, OutputError
from fairtrain.experiments.models import build_model
from fairtrain.metrics import plots

STRATEGIES = {"proportional": ft.sampling.Proportional, "homogeneous": ft.sampling.Homogeneous}


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    experiments.add_example_arguments(
        parser, backbones=["MobileNet", "VGG16", "ResNet50", "NASNetMobile"], epochs=12,
        batch_size=64, image_size=96)
    parser.add_argument("--ethnicity-csv", help="CSV identity,ethnicity (with --data-dir)")
    parser.add_argument("--identity-meta", help="VGGFace2 identity_meta.csv (optional)")
    parser.add_argument("--learning-rate", type=float, default=0.005,
                        help="initial learning rate, halved every 6 epochs (default: 0.005)")
    args = experiments.resolve_example_arguments(parser.parse_args(argv))
    if args.data_dir and not args.ethnicity_csv:
        parser.error("--data-dir needs --ethnicity-csv")
    return args


def load_data(args, tmp):
    if args.smoke:
        written = datasets.synthetic.write_vggface2(
            tmp, n_identities=60, images_per_identity=3, seed=args.seed)
        return datasets.load_vggface2(written["root"], written["ethnicity_csv"],
                                      identity_meta=written["identity_meta"])
    return datasets.load_vggface2(args.data_dir, args.ethnicity_csv,
                                  identity_meta=args.identity_meta)


def encode(part, labels):
    code = {name: k for k, name in enumerate(labels)}
    return np.array([code[v] for v in part.columns["ethnicity"]], dtype=np.int64)


def main(argv=None):
    args = parse(argv)
    try:
        out = OutputDir(args.out, force=args.force, tool="examples/vggface2_ethnicity.py")
    except OutputError as exc:
        sys.exit(f"error: {exc.for_command_line()}")
    if out.replaced_unfinished:
        print(f"Replacing the files of an unfinished earlier run in {out.root}")
    import keras

    size = (args.image_size, args.image_size)
    with tempfile.TemporaryDirectory() as tmp:
        data = load_data(args, tmp)
        labels = list(data.levels["ethnicity"])
        train, val, test = datasets.split(data, test_size=0.2, val_size=0.1, by="identity",
                                          stratify="ethnicity", seed=args.seed)
        y_train, y_val, y_test = (encode(p, labels) for p in (train, val, test))
        x_val = datasets.load_images(val.paths, size)
        x_test = datasets.load_images(test.paths, size)
        load = datasets.tf_image_loader(train.paths, size, y=y_train)
        groups = train.groups("ethnicity")
        groups_val = val.groups("ethnicity")
        print(f"{len(data)} images, {len(data.rejected)} rejected; train {len(train)}, "
              f"val {len(val)}, test {len(test)} (split by identity)")

        runs = []
        for backbone, weights in zip(args.backbone, args.weights):
            initial = build_model(backbone, (*size, 3), len(labels), weights=weights,
                                  seed=args.seed).get_weights()
            for strategy, sampler_cls in STRATEGIES.items():
                sampler = sampler_cls(groups, batch_size=args.batch_size, seed=args.seed)
                model = build_model(backbone, (*size, 3), len(labels), weights=weights,
                                    seed=None)
                model.set_weights(initial)
                model.compile(optimizer=keras.optimizers.Adam(args.learning_rate),
                              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
                best_path = Path(tmp) / f"{backbone}_{strategy}.weights.h5"
                print(f"== {backbone}, {strategy} batches")
                history = experiments.fit_sampled(
                    model, sampler, load, epochs=args.epochs,
                    validation_data=(x_val, y_val),
                    callbacks=[
                        ft.StepDecayCallback(args.learning_rate, factor=0.5, every=6),
                        ft.BiasMonitor(x_val, y_val, groups_val, metric="recall",
                                       metric_kwargs={"average": "macro"}, min_count=1),
                        keras.callbacks.ModelCheckpoint(best_path, monitor="val_loss",
                                                        save_best_only=True,
                                                        save_weights_only=True),
                    ],
                    verbose=args.verbose,
                )
                evaluated = {"last": len(history.history["loss"]) - 1}
                evaluated["lowest_val_loss"] = experiments.lowest_val_loss_epoch(history)
                for which, epoch in evaluated.items():
                    if which == "lowest_val_loss":
                        model.load_weights(best_path)
                    probs, _ = experiments.predict(model, x_test)
                    summary = experiments.classification_summary(
                        np.asarray(labels)[y_test], np.asarray(labels)[probs.argmax(1)],
                        test.groups("ethnicity"), labels, min_count=1)
                    summary.pop("report")
                    # epochs numbered from 1, as in the Markdown table
                    runs.append({"backbone": backbone, "batches": strategy,
                                 "evaluated": which, "epoch": epoch + 1, **summary,
                                 "history": experiments.history_to_dict(history)})
    write(out, args, labels, runs, {"train": len(train), "val": len(val), "test": len(test),
                                    "rejected": [r.__dict__ for r in data.rejected]})


def write(out, args, labels, runs, counts):
    rows = []
    for run in runs:
        name = f"{run['backbone']}_{run['batches']}_{run['evaluated']}"
        fig = plots.plot_confusion_pair(np.asarray(run["confusion"]), labels,
                                        title=name.replace("_", " "))
        out.save_figure(f"confusion_{name}.png", fig)
        groups = run["recall"]["attributes"]["ethnicity"]
        rows.append([run["backbone"], run["batches"], run["evaluated"], run["epoch"],
                     *[groups["groups"][g]["value"] for g in labels],
                     groups["bias"]["pairwise"]])
    last = [run for run in runs if run["evaluated"] == "last"]
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5 * len(last), 4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(last), sharey=True))
    for ax, run in zip(axes, last):
        groups = run["recall"]["attributes"]["ethnicity"]
        plots.plot_by_group({g: groups["groups"][g]["value"] for g in labels}, ax=ax,
                            overall=run["recall"]["overall"], metric="recall",
                            title=f"{run['backbone']} {run['batches']}: bias "
                                  f"{groups['bias']['pairwise']:.3f}")
    out.save_figure("recall_by_group.png", fig)
    header = ["backbone", "batches", "evaluated", "epoch", *labels, "bias"]
    out.write_json("summary.json", {"settings": experiments.example_settings(args),
                                    "labels": labels, "counts": counts, "runs": runs})
    out.write_text("summary.md", "# VGGFace2 ethnicity: per-group recall on the test "
                   "identities\n\n" + experiments.markdown_table(header, rows) + "\n")
    out.finish()
    print(experiments.markdown_table(header, rows))


if __name__ == "__main__":
    main()
