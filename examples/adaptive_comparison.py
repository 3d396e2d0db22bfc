"""Proportional, homogeneous, adaptive and group DRO training on synthetic VGGFace2 ethnicity.

Writes the synthetic VGGFace2-ethnicity data (real JPEG files, 6/8/80/6 % shares) to a
temporary folder, splits it by identity, trains the same tiny CNN four ways for a few
epochs and reports every seed's test recall per ethnicity, the worst-group recall and
the recall gap (best minus worst group)::

    python examples/adaptive_comparison.py --smoke --out results/adaptive
    python examples/adaptive_comparison.py --seeds 0 1 2 --out results/adaptive

It runs on synthetic data only (``--smoke``: a few identities, one epoch, one seed, for
CI). ``--out`` is a results folder, as for the other examples: ``summary.json`` (every
run, with the logged shares and weights), ``summary.md`` and ``worst_group_recall.png``.
Adaptive shares and group DRO weights are updated from per-group losses on the
validation split (``GroupLossProbe``), never from the test split.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np

import fairtrain as ft
from fairtrain import experiments
from fairtrain.datasets import load_images, load_vggface2, split, synthetic
from fairtrain.experiments import OutputDir, OutputError, positive_int

STRATEGIES = ("proportional", "homogeneous", "adaptive", "group_dro")


def build_model(keras, n_classes: int, size: int):
    """A tiny CNN: two small convolutions, global pooling, softmax."""
    return keras.Sequential(
        [
            keras.Input((size, size, 3)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )


def run(strategy: str, seed: int, data: dict, args) -> dict:
    """Train one strategy with one seed; return the test recall per group."""
    import keras

    x_tr, y_tr, g_tr = data["train"]
    x_va, y_va, g_va = data["val"]
    x_te, y_te, _ = data["test"]
    keras.utils.set_random_seed(seed)
    b = args.batch_size
    callbacks = []
    load = lambda i: (x_tr[i], y_tr[i])  # noqa: E731
    if strategy == "proportional":
        sampler = ft.sampling.Proportional(g_tr, batch_size=b, seed=seed, last_batch="drop")
    elif strategy == "homogeneous":
        sampler = ft.sampling.Homogeneous(g_tr, batch_size=b, seed=seed)
    elif strategy == "adaptive":
        sampler = ft.sampling.Adaptive(
            g_tr, batch_size=b, seed=seed, step_size=args.step_size, momentum=args.momentum
        )
        callbacks.append(ft.GroupLossProbe(x_va, y_va, g_va, consumers=[sampler], size=400))
    else:
        sampler = ft.sampling.Proportional(g_tr, batch_size=b, seed=seed, last_batch="drop")
        dro = ft.GroupDRO(g_tr, step_size=args.dro_step_size, batch_shares="proportional")
        load = dro.weighted(load)
        callbacks.append(ft.GroupLossProbe(x_va, y_va, g_va, consumers=[dro], size=400))
    train = ft.data.SampledPyDataset(sampler, load)
    model = build_model(keras, 4, args.size)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(train, epochs=args.epochs, verbose=0,
                        callbacks=[ft.data.EpochSync(train), *callbacks])
    pred = model.predict(x_te, batch_size=256, verbose=0).argmax(axis=1)
    recall = [float(np.mean(pred[y_te == g] == g)) for g in range(4)]
    val_pred = model.predict(x_va, batch_size=256, verbose=0).argmax(axis=1)
    val_recall = [float(np.mean(val_pred[y_va == g] == g)) for g in range(4)]
    extra = {k: [float(v) for v in vals] for k, vals in history.history.items()
             if k.startswith(("share_", "dro_weight_", "group_loss_"))}
    return {"recall": recall, "val_recall": val_recall, "worst": min(recall),
            "gap": max(recall) - min(recall), "logs": extra}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="results folder: new, empty, or written by an earlier run")
    parser.add_argument("--force", action="store_true",
                        help="replace the files an earlier run wrote in --out (only those)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few synthetic identities, one epoch, the first seed (seconds)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary table")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    parser.add_argument("--identities", type=positive_int, default=200)
    parser.add_argument("--images-per-identity", type=positive_int, default=10)
    parser.add_argument("--size", type=positive_int, default=32)
    parser.add_argument("--epochs", type=positive_int, default=8)
    parser.add_argument("--batch-size", type=positive_int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--step-size", type=float, default=0.5)
    parser.add_argument("--momentum", type=float, default=0.5)
    parser.add_argument("--dro-step-size", type=float, default=0.5)
    parser.add_argument("--data-seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.smoke:
        args.identities, args.images_per_identity = 100, 2
        args.epochs, args.seeds = 1, args.seeds[:1]
    experiments.check_installed(["tensorflow", "PIL", "matplotlib"])
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    try:  # checked before training: fairtrain never replaces a file it did not write
        out = OutputDir(args.out, force=args.force, tool="examples/adaptive_comparison.py")
    except OutputError as exc:
        sys.exit(f"error: {exc.for_command_line()}")
    if out.replaced_unfinished:
        print(f"Replacing the files of an unfinished earlier run in {out.root}")
    with tempfile.TemporaryDirectory() as tmp:
        files = synthetic.write_vggface2(
            tmp, n_identities=args.identities, images_per_identity=args.images_per_identity,
            size=args.size, seed=args.data_seed,
        )
        ds = load_vggface2(files["root"], files["ethnicity_csv"])
        # Stratified by ethnicity: an unstratified identity split of 36 African
        # identities can leave none in the validation split, and the probe then
        # never measures that group.
        train, val, test = split(ds, test_size=0.2, val_size=0.1, by="identity",
                                 stratify="ethnicity", seed=args.data_seed)
        levels = list(ds.levels["ethnicity"])  # the class order, on every split
        data = {}
        for name, part in (("train", train), ("val", val), ("test", test)):
            codes = np.array([levels.index(v) for v in part.columns["ethnicity"]])
            groups = ft.Groups.from_codes(codes, levels)
            x = load_images(part.paths, size=(args.size, args.size))
            data[name] = (x, codes.astype("int64"), groups)
    names = list(data["train"][2].names)
    results: dict = {"groups": names, "runs": {}}
    for strategy in args.strategies:
        for seed in args.seeds:
            start = time.perf_counter()
            result = run(strategy, seed, data, args)
            result["seconds"] = round(time.perf_counter() - start, 1)
            results["runs"].setdefault(strategy, {})[str(seed)] = result
            if not args.quiet:
                print(f"{strategy:>12} seed {seed}: recall "
                      + " ".join(f"{n}={r:.3f}" for n, r in zip(names, result["recall"]))
                      + f"  worst={result['worst']:.3f} gap={result['gap']:.3f} "
                      f"({result['seconds']} s)", flush=True)
    write(out, args, results)
    out.finish()
    return results


def write(out, args, results) -> None:
    """summary.json, summary.md (mean ± sd over the seeds) and the worst-group plot."""
    rows = []
    for strategy, runs in results["runs"].items():
        worst = np.array([r["worst"] for r in runs.values()])
        gap = np.array([r["gap"] for r in runs.values()])
        rows.append([strategy, len(runs), f"{worst.mean():.3f} ± {worst.std():.3f}",
                     f"{gap.mean():.3f} ± {gap.std():.3f}"])
    table = experiments.markdown_table(
        ["strategy", "seeds", "worst-group recall (mean ± sd)", "recall gap (mean ± sd)"],
        rows)
    print("\n" + table)
    out.write_json("summary.json", {"settings": vars(args), **results})
    out.write_text("summary.md", "# Proportional, homogeneous, adaptive and group DRO "
                   "batches: test recall\n\n" + table + "\n")
    from fairtrain.metrics import plots

    means = {s: float(np.mean([r["worst"] for r in runs.values()]))
             for s, runs in results["runs"].items()}
    ax = plots.plot_by_group(means, metric="worst-group recall (mean over seeds)",
                             title="Worst-group test recall per strategy")
    out.save_figure("worst_group_recall.png", ax)


if __name__ == "__main__":
    main()
