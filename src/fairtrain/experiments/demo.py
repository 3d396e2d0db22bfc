"""``fairtrain demo``: proportional vs homogeneous batches on synthetic face data.

Writes the synthetic ethnicity dataset (VGGFace2 layout) to a temporary folder, trains
the same tiny CNN twice from the same initial weights (batches keeping the population
shares 6/8/80/6, then batches with 25 % of each group), and compares the per-group
recall and the bias on the test identities.
"""

from __future__ import annotations

import os
import tempfile
import time
from numbers import Integral, Real
from typing import Any

import numpy as np

from fairtrain._validation import Interval, check

__all__ = ["DEFAULTS", "run_demo"]  # DemoOptionError: importable, not yet on the API page

#: The defaults of :func:`run_demo` (and of ``fairtrain demo``'s options).
DEFAULTS: dict[str, Any] = {
    "out": "fairtrain-demo",
    "seed": 0,
    "epochs": 12,
    "batch_size": 64,
    "learning_rate": 0.005,
    "identities": 500,
    "images_per_identity": 6,
    "bootstrap": 200,
}
STRATEGIES = ("proportional", "homogeneous")


class DemoOptionError(ValueError):
    """An option of :func:`run_demo` is out of range (``fairtrain demo`` prints it alone)."""


def _say(quiet: bool, *lines: str) -> None:
    if not quiet:
        print(*lines, sep="\n", flush=True)


def _side_by_side(labels: list[str], reports: dict[str, Any]) -> str:
    prop, homo = (reports[s] for s in STRATEGIES)
    p, h = prop["ethnicity"], homo["ethnicity"]
    lines = [
        f"{'group':<18}{'n':>6}  {'proportional':>13}  {'homogeneous':>12}  {'change':>7}",
    ]
    for i, name in enumerate(labels):
        a, b = float(p.values[i]), float(h.values[i])
        lines.append(f"{name:<18}{int(p.counts[i]):>6}  {a:>13.3f}  {b:>12.3f}  {b - a:>+7.3f}")
    rows = [
        ("recall (macro)", prop.overall, homo.overall),
        ("worst group", float(np.nanmin(p.values)), float(np.nanmin(h.values))),
        ("pairwise bias", p.pairwise, h.pairwise),
        ("max gap", p.gap, h.gap),
    ]
    lines.append("-" * len(lines[0]))
    for name, a, b in rows:
        lines.append(f"{name:<18}{'':>6}  {a:>13.3f}  {b:>12.3f}  {b - a:>+7.3f}")
    lines.append(f"{'worst group name':<18}{'':>6}  {p.worst:>13}  {h.worst:>12}")
    return "\n".join(lines)


def run_demo(
    out: str | os.PathLike[str] = DEFAULTS["out"],
    *,
    seed: int = DEFAULTS["seed"],
    epochs: int = DEFAULTS["epochs"],
    batch_size: int = DEFAULTS["batch_size"],
    learning_rate: float = DEFAULTS["learning_rate"],
    identities: int = DEFAULTS["identities"],
    images_per_identity: int = DEFAULTS["images_per_identity"],
    bootstrap: int = DEFAULTS["bootstrap"],
    force: bool = False,
    quiet: bool = False,
) -> dict[str, Any]:
    """Run the demonstration and write its report to ``out``.

    Parameters
    ----------
    out : str or os.PathLike, default "fairtrain-demo"
        Results folder: new, empty, or written by an earlier demo (with ``force``).
    seed : int, default 0
        Seed of the synthetic data, the split, the initial weights and the batches.
    epochs : int, default 12
        Epochs of each training run (learning rate halved every 6 epochs).
    batch_size : int, default 64
    learning_rate : float, default 0.005
        Initial learning rate of Adam.
    identities, images_per_identity : int, default 500, 6
        Size of the synthetic dataset (shares 6/8/80/6).
    bootstrap : int, default 200
        Bootstrap resamples of the test set for the recall intervals (0: none).
    force : bool, default False
        Replace the files of an earlier run in ``out``.
    quiet : bool, default False
        No progress bars and no printed tables.

    Returns
    -------
    dict
        The content of ``report.json``.

    Raises
    ------
    fairtrain.experiments.OutputError
        If ``out`` cannot be written (checked before any training).
    TypeError
        If an option has the wrong type (``epochs=2.0``).
    DemoOptionError
        (a ``ValueError``) If an option is out of range, or ``identities`` is too small
        to give every group a train and a test identity.
    """
    options = [(name, value, Interval(Integral, low, None)) for name, value, low in (
        ("epochs", epochs, 1), ("batch_size", batch_size, 4), ("identities", identities, 20),
        ("images_per_identity", images_per_identity, 1), ("bootstrap", bootstrap, 0),
        ("seed", seed, 0))]
    options.append(("learning_rate", learning_rate, Interval(Real, 0, None, closed="neither")))
    for name, value, constraint in options:
        try:
            check(name, value, constraint)
        except ValueError as exc:  # the CLI reports an option out of range as its own
            raise DemoOptionError(str(exc)) from None

    from fairtrain.experiments import OutputDir

    folder = OutputDir(out, force=force, tool="fairtrain demo")
    start = time.perf_counter()

    import keras
    import tensorflow as tf

    import fairtrain as ft
    from fairtrain import datasets
    from fairtrain.datasets import synthetic
    from fairtrain.experiments import classification_summary, fit_sampled, history_to_dict
    from fairtrain.experiments.models import tiny_cnn

    with tempfile.TemporaryDirectory(prefix="fairtrain-demo-") as tmp:
        _say(quiet, f"Writing the synthetic ethnicity dataset ({identities} identities x "
                    f"{images_per_identity} images, shares 6/8/80/6) to {tmp} ...")
        written = synthetic.write_vggface2(
            tmp, n_identities=identities, images_per_identity=images_per_identity, seed=seed
        )
        data = datasets.load_vggface2(written["root"], written["ethnicity_csv"])
        train, val, test = datasets.split(
            data, test_size=0.25, val_size=0.15, by="identity", stratify="ethnicity", seed=seed
        )
        labels = list(data.levels["ethnicity"])
        for name, part in (("train", train), ("test", test)):
            absent = [lab for lab in labels if not np.any(part.columns["ethnicity"] == lab)]
            if absent:
                # a group absent from test has no recall, and the worst group would be
                # taken among the others without a word
                raise DemoOptionError(
                    f"--identities {identities} leaves {', '.join(absent)} with no {name} "
                    "identity, so the report could not compare every group; use more "
                    "--identities (the default is "
                    f"{DEFAULTS['identities']})."
                )
        arrays = {}
        for name, part in (("train", train), ("val", val), ("test", test)):
            x = datasets.load_images(part.paths, size=(32, 32))
            code = {label: k for k, label in enumerate(labels)}
            y = np.array([code[v] for v in part.columns["ethnicity"]], dtype=np.int64)
            arrays[name] = (x, y, part)

    x_train, y_train, _ = arrays["train"]
    x_val, y_val, val_part = arrays["val"]
    x_test, y_test, test_part = arrays["test"]
    groups = train.groups("ethnicity")
    groups_val = val_part.groups("ethnicity")
    counts = {
        split: {lab: int(np.sum(arrays[split][1] == k)) for k, lab in enumerate(labels)}
        for split in arrays
    }
    _say(quiet, "Images per split and group: " + ", ".join(
        f"{s} {sum(c.values())}" for s, c in counts.items()), "")

    # Vectorised gather from memory: the sampler chose the indices, the loader reads them.
    x_table, y_table = tf.constant(x_train), tf.constant(y_train)

    def load(indices: Any) -> Any:
        return tf.gather(x_table, indices), tf.gather(y_table, indices)

    initial = tiny_cnn((32, 32, 3), len(labels), seed=seed).get_weights()
    results: dict[str, Any] = {}
    reports: dict[str, Any] = {}
    histories: dict[str, Any] = {}
    for strategy in STRATEGIES:
        sampler_cls = ft.sampling.Proportional if strategy == "proportional" else (
            ft.sampling.Homogeneous)
        sampler = sampler_cls(groups, batch_size=batch_size, seed=seed)
        keras.utils.set_random_seed(seed)
        model = tiny_cnn((32, 32, 3), len(labels), seed=None)
        model.set_weights(initial)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy", metrics=["accuracy"],
        )
        first = np.bincount(groups.codes[sampler.plan(0)[0]], minlength=len(labels))
        _say(quiet, f"== {strategy} batches: {sampler.steps_per_epoch} batches of "
                    f"{batch_size} per epoch; first batch holds "
                    + ", ".join(f"{n} {lab}" for n, lab in zip(first, labels)))
        monitor = ft.BiasMonitor(x_val, y_val, groups_val, metric="recall",
                                 metric_kwargs={"average": "macro"}, log_groups=False,
                                 min_count=1)
        t0 = time.perf_counter()
        history = fit_sampled(
            model, sampler, load, epochs=epochs, validation_data=(x_val, y_val),
            callbacks=[ft.StepDecayCallback(learning_rate, factor=0.5, every=6), monitor],
            vectorized=True, verbose=0 if quiet else "auto",
        )
        train_s = time.perf_counter() - t0
        probs = np.asarray(model.predict(x_test, batch_size=512, verbose=0))
        y_pred = probs.argmax(axis=1)
        summary = classification_summary(
            np.asarray(labels)[y_test], np.asarray(labels)[y_pred],
            test_part.groups("ethnicity"), labels, n_bootstrap=bootstrap, seed=seed,
        )
        reports[strategy] = summary.pop("report")
        histories[strategy] = history_to_dict(history)
        results[strategy] = {
            **summary,
            "train_seconds": round(train_s, 2),
            "steps_per_epoch": int(sampler.steps_per_epoch),
            "first_batch_counts": dict(zip(labels, first.tolist())),
            "history": histories[strategy],
        }
        _say(quiet, "")

    table = _side_by_side(labels, reports)
    _say(quiet, "Per-group recall on the test identities (row-normalised confusion diagonal):",
         "", table, "")

    report = {
        "fairtrain_demo": 1,
        "version": ft.__version__,
        "settings": {"seed": seed, "epochs": epochs, "batch_size": batch_size,
                     "learning_rate": learning_rate, "lr_schedule": "halved every 6 epochs",
                     "identities": identities, "images_per_identity": images_per_identity,
                     "bootstrap": bootstrap, "image_size": 32},
        "labels": labels,
        "counts": counts,
        "runs": results,
        "worst_group_recall": {
            s: float(np.nanmin(reports[s]["ethnicity"].values)) for s in STRATEGIES
        },
        "bias": {s: float(reports[s]["ethnicity"].pairwise) for s in STRATEGIES},
    }
    _write_outputs(folder, report, reports, table)
    report["seconds"] = round(time.perf_counter() - start, 1)
    folder.write_json("report.json", report)
    _say(quiet, f"Wrote {len(folder.files)} files to {folder.root}/ in {report['seconds']} s: "
                + ", ".join(f for f in folder.files),
         f"Open {folder.root / 'report.html'} in a browser.")
    return report


def _write_outputs(folder: Any, report: dict[str, Any], reports: dict[str, Any],
                   table: str) -> None:
    from fairtrain.experiments import html_report, markdown_table
    from fairtrain.metrics import plots

    labels = report["labels"]
    images = []
    for strategy in STRATEGIES:
        cm = np.asarray(report["runs"][strategy]["confusion"])
        fig = plots.plot_confusion_pair(cm, labels, title=f"{strategy} batches: test confusion")
        images.append(folder.save_figure(f"confusion_{strategy}.png", fig))

    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, strategy in zip(axes, STRATEGIES):
        plots.plot_by_group(reports[strategy], "ethnicity", ax=ax,
                            title=f"{strategy}: bias {reports[strategy]['ethnicity'].pairwise:.3f}")
        ax.set_ylim(0, 1.05)
    fig.suptitle("Recall per group on the test identities (95 % bootstrap intervals)")
    bars = folder.save_figure("recall_by_group.png", fig)

    fig = Figure(figsize=(11, 4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, strategy in zip(axes, STRATEGIES):
        hist = report["runs"][strategy]["history"]
        keys = [k for k in ("accuracy", "val_accuracy", "val_recall_overall",
                            "val_recall_ethnicity_worst") if k in hist]
        plots.plot_training_curves(hist, keys=keys, ax=ax, title=f"{strategy} batches")
    curves = folder.save_figure("training_curves.png", fig)

    header = ["group", "n (test)", "proportional", "homogeneous"]
    p, h = (reports[s]["ethnicity"] for s in STRATEGIES)
    rows = [[lab, int(p.counts[i]), float(p.values[i]), float(h.values[i])]
            for i, lab in enumerate(labels)]
    rows += [["recall (macro)", "", reports["proportional"].overall,
              reports["homogeneous"].overall],
             ["worst-group recall", "", report["worst_group_recall"]["proportional"],
              report["worst_group_recall"]["homogeneous"]],
             ["pairwise bias", "", p.pairwise, h.pairwise]]
    settings = report["settings"]
    intro = (
        f"The same tiny CNN, from the same initial weights, trained {settings['epochs']} "
        f"epochs twice on synthetic faces whose groups make up 6/8/80/6 % of the data: "
        "once with batches that keep those shares (proportional), once with batches "
        "holding 25 % of each group (homogeneous). Recall of a group is the share of its "
        "test images classified as that group (the diagonal of the row-normalised "
        "confusion matrix); the pairwise bias is the mean absolute difference between "
        "the groups' recalls, over all pairs (0 is perfectly even). Read it next to the "
        "overall recall: a low bias can hide a model that is equally bad for everyone."
    )
    md = "\n\n".join([
        "# fairtrain demo: proportional vs homogeneous batches", intro,
        markdown_table(header, rows),
        "Files: " + ", ".join(f"`{p.name}`" for p in [*images, bars, curves]),
    ]) + "\n"
    folder.write_text("report.md", md)
    page = html_report("fairtrain demo: proportional vs homogeneous batches", [
        ("p", intro),
        ("table", (header, rows)),
        ("h2", "Per-group recall with bootstrap intervals"),
        ("img", bars),
        ("h2", "Confusion matrices on the test identities (rows real, columns predicted)"),
        *[("img", path) for path in images],
        ("h2", "Training curves"),
        ("img", curves),
        ("h2", "Console summary"),
        ("pre", table),
    ])
    folder.write_text("report.html", page)
