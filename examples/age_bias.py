"""Apparent-age regression with bias scores, loss weights and staged training (experiment 3).

Regress age (scaled to [0, 1], sigmoid output; head: dropout 0.5, dense 128, dense 32)
with MSE and the MAE metric, under the 1-, 2- and 3-stage recipes, each with and
without the per-cell loss weights ``N / (2 n_g)`` over every gender x ethnicity x age
group cell. Early stopping (patience 5 on the validation loss) keeps each run's best
epoch. Every run gets the MAE and the bias scores (mean absolute MAE difference over
all pairs of groups) for age (4 groups), gender and ethnicity; runs are ranked on the
**validation** scores by mean rank (the challenge's leaderboard rule), the best is
chosen there, and the test scores are reported for every run without being used.

Data: UTKFace (``[age]_[gender]_[race]_[datetime].jpg``); it has no face-expression
label, so the challenge's fourth bias score (expression) cannot be computed and is
reported as missing.

    python examples/age_bias.py --smoke --out results/age
    python examples/age_bias.py --data-dir /data/UTKFace --out results/age --backbone ResNet50
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
from fairtrain.metrics import leaderboard_rank

AGE_EDGES = [0, 20, 40, 60, 117]
AGE_SCALE = 116.0
SCORES = ["gender_bias", "ethnicity_bias", "age_bias", "mae"]  # lower is better


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    experiments.add_example_arguments(parser, backbones=["ResNet50", "InceptionResNetV2"],
                                      epochs=50, batch_size=32, image_size=96)
    return experiments.resolve_example_arguments(parser.parse_args(argv))


def recipes(epochs):
    """The three recipes, ``epochs`` in all shared by the stages (at least 1 each)."""
    from fairtrain.schedules import one_stage, three_stage, two_stage  # Keras: after --help

    return {"1-stage": one_stage(epochs), "2-stage": two_stage(max(1, epochs // 2)),
            "3-stage": three_stage(max(1, epochs // 3))}


def attributes(part):
    return {"age": ft.bins(part.columns["age"], AGE_EDGES),
            "gender": part.columns["gender"], "ethnicity": part.columns["race"]}


def scores(report):
    """MAE and the bias of every attribute, from a bias report in years."""
    return {"mae": report.overall, "age_bias": report["age"].pairwise,
            "gender_bias": report["gender"].pairwise,
            "ethnicity_bias": report["ethnicity"].pairwise, "expression_bias": None}


def main(argv=None):
    args = parse(argv)
    try:
        out = OutputDir(args.out, force=args.force, tool="examples/age_bias.py")
    except OutputError as exc:
        sys.exit(f"error: {exc.for_command_line()}")
    if out.replaced_unfinished:
        print(f"Replacing the files of an unfinished earlier run in {out.root}")
    import keras

    size = (args.image_size, args.image_size)
    with tempfile.TemporaryDirectory() as tmp:
        root = datasets.synthetic.write_utkface(tmp, n=240, seed=args.seed) if args.smoke \
            else args.data_dir
        data = datasets.load_utkface(root)
        train, val, test = datasets.split(data, test_size=0.2, val_size=0.2,
                                          stratify="race", seed=args.seed)
        y = {name: part.columns["age"].astype(np.float32) / AGE_SCALE
             for name, part in (("train", train), ("val", val), ("test", test))}
        x_val = datasets.load_images(val.paths, size)
        x_test = datasets.load_images(test.paths, size)
        load = datasets.tf_image_loader(train.paths, size, y=y["train"])
        cells = ft.Groups.from_columns(attributes(train))
        weights = ft.sample_weights(cells, scheme="inverse", c=2)
        n_cells = int(np.count_nonzero(cells.counts))
        print(f"{len(data)} images, {len(data.rejected)} rejected; {n_cells} non-empty "
              f"gender x ethnicity x age cells in train, weights N / (2 n_g) from "
              f"{weights.min():.3g} to {weights.max():.3g}")
        val_groups = attributes(val)
        test_groups = attributes(test)
        runs = []
        for backbone, backbone_weights in zip(args.backbone, args.weights):
            for recipe, stages in recipes(args.epochs).items():
                for weighting in ("none", "cells"):
                    model = build_model(backbone, (*size, 3), 1, activation="sigmoid",
                                        weights=backbone_weights, head_units=(128, 32),
                                        dropout=0.5, seed=args.seed)
                    sampler = ft.sampling.Proportional(cells, batch_size=args.batch_size,
                                                       seed=args.seed)
                    print(f"== {backbone}, {recipe}, weights: {weighting}")
                    history = experiments.fit_staged_sampled(
                        model, stages, sampler, load, loss="mse", metrics=["mae"],
                        sample_weight=weights if weighting == "cells" else None,
                        validation_data=(x_val, y["val"]), verbose=args.verbose,
                        callbacks=[keras.callbacks.EarlyStopping(
                            monitor="val_loss", patience=5, restore_best_weights=True)],
                    )
                    run = {"backbone": backbone, "recipe": recipe, "weights": weighting,
                           "stages": [s.name for s in stages],
                           "history": experiments.history_to_dict(history),
                           "stage_of_epoch": list(history.stage)}
                    for split, x, groups, target in (("val", x_val, val_groups, y["val"]),
                                                     ("test", x_test, test_groups,
                                                      y["test"])):
                        pred, _ = experiments.predict(model, x)
                        report = ft.bias_report(target * AGE_SCALE, pred[:, 0] * AGE_SCALE,
                                                groups, metric="mae", min_count=1)
                        run[split] = {"scores": scores(report), "report": report.to_dict()}
                    runs.append(run)
    write(out, args, runs, n_cells, len(data.rejected))
    out.finish()


def write(out, args, runs, n_cells, n_rejected):
    names = [f"{r['backbone']} {r['recipe']} weights={r['weights']}" for r in runs]
    table = {s: [r["val"]["scores"][s] for r in runs] for s in SCORES}
    ranks = leaderboard_rank(table)
    order = np.argsort(ranks, kind="stable")
    best = int(order[0])
    leaderboard = [{"run": names[i], "mean_rank": float(ranks[i]),
                    **{s: table[s][i] for s in SCORES}} for i in order]
    header = ["run", "mean rank", *SCORES]
    md = [
        "# Apparent age: MAE and bias scores", "",
        f"{n_cells} non-empty gender x ethnicity x age cells; {n_rejected} files rejected.",
        "Expression bias: not available (UTKFace has no expression label).", "",
        "## Leaderboard on the validation split (model selection)", "",
        experiments.markdown_table(header, [[e["run"], e["mean_rank"],
                                             *[e[s] for s in SCORES]] for e in leaderboard]),
        "", f"Chosen on validation: **{names[best]}**.", "",
        "## Test scores (reported, never used for choosing)", "",
        experiments.markdown_table(["run", *SCORES], [[names[i], *[
            runs[i]["test"]["scores"][s] for s in SCORES]] for i in order]),
    ]
    out.write_json("summary.json", {
        "settings": experiments.example_settings(args), "scores": SCORES,
        "validation_table": {"runs": names, **table},
        "leaderboard": leaderboard, "chosen": names[best], "runs": runs})
    out.write_text("summary.md", "\n".join(md) + "\n")
    from fairtrain.metrics import plots

    ax = plots.plot_training_curves(runs[best]["history"], runs[best]["stage_of_epoch"],
                                    keys=["loss", "val_loss"], title=names[best])
    out.save_figure("curves_chosen.png", ax)
    ax = plots.plot_by_group({g: v["value"] for g, v in runs[best]["test"]["report"][
        "attributes"]["age"]["groups"].items()}, metric="test MAE (years)",
        overall=runs[best]["test"]["scores"]["mae"], title=f"{names[best]}: MAE per age group")
    out.save_figure("mae_by_age_chosen.png", ax)
    print("\n".join(md))


if __name__ == "__main__":
    main()
