"""``fairtrain demo``: proportional vs homogeneous batches on synthetic face data.

Writes the synthetic ethnicity dataset (VGGFace2 layout) to a temporary folder, trains
the same tiny CNN twice from the same initial weights (batches keeping the population
shares 6/8/80/6, then batches with 25 % of each group), and compares the per-group
recall and the bias on the test identities.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np

from fairtrain._validation import Interval, check
from fairtrain.experiments.output import TermsError

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


class DemoOptionError(TermsError):
    """An option of :func:`run_demo` is out of range (``fairtrain demo`` prints it alone)."""

    LIBRARY = {"identities": "identities="}
    COMMAND_LINE = {"identities": "--identities "}


@contextlib.contextmanager
def _quiet_imports(quiet: bool) -> Iterator[None]:
    """With ``quiet``, keep TensorFlow's C++ start-up lines off the console.

    They are written to file descriptor 2 while TensorFlow loads (oneDNN, absl), before
    any Python setting applies, so that descriptor points at ``os.devnull`` during the
    imports; ``TF_CPP_MIN_LOG_LEVEL`` (unless the user set it) silences the later
    ones. Only the first import in a process prints them.
    """
    if not quiet:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _worst(values: Any, names: Any) -> str:
    """Every group tied for the lowest value (a tie is not one worst group)."""
    values = np.asarray(values, dtype=float)
    low = np.nanmin(values)
    # equal up to rounding only: np.isclose's rtol 1e-5 tied recalls one image apart
    return ", ".join(n for n, v in zip(names, values) if abs(v - low) <= 1e-12)


def _say(quiet: bool, *lines: str) -> None:
    if not quiet:
        print(*lines, sep="\n", flush=True)


def _side_by_side(labels: list[str], reports: dict[str, Any], min_count: int = 30) -> str:
    prop, homo = (reports[s] for s in STRATEGIES)
    p, h = prop["ethnicity"], homo["ethnicity"]
    lines = [
        f"{'group':<18}{'n':>6}  {'proportional':>13}  {'homogeneous':>12}  {'change':>7}",
    ]
    for i, name in enumerate(labels):
        a, b = float(p.values[i]), float(h.values[i])
        mark = "*" if name in p.flagged else ""
        lines.append(f"{name + mark:<18}{int(p.counts[i]):>6}  {a:>13.3f}  {b:>12.3f}  "
                     f"{b - a:>+7.3f}")
    rows = [
        ("recall (macro)", prop.overall, homo.overall),
        ("worst group", float(np.nanmin(p.values)), float(np.nanmin(h.values))),
        ("pairwise bias", p.pairwise, h.pairwise),
        ("max gap", p.gap, h.gap),
    ]
    lines.append("-" * len(lines[0]))
    for name, a, b in rows:
        lines.append(f"{name:<18}{'':>6}  {a:>13.3f}  {b:>12.3f}  {b - a:>+7.3f}")
    worst = [_worst(r.values, r.groups) for r in (p, h)]
    if max(map(len, worst)) <= 13:
        lines.append(f"{'worst group name':<18}{'':>6}  {worst[0]:>13}  {worst[1]:>12}")
    else:  # ties: the names do not fit the columns
        lines += [f"worst group, proportional: {worst[0]}",
                  f"worst group, homogeneous:  {worst[1]}"]
    if p.flagged:
        lines.append(f"* fewer than {min_count} test images: a rough estimate")
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
        Resamples of the test identities (within every group) for the interval of the
        pairwise bias (0: none). The per-group recall intervals are Wilson score
        intervals with the identities as the unit, whatever ``bootstrap``.
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
    _check_options(epochs=epochs, batch_size=batch_size, identities=identities,
                   images_per_identity=images_per_identity, bootstrap=bootstrap, seed=seed,
                   learning_rate=learning_rate)
    from fairtrain.experiments import OutputDir

    folder = OutputDir(out, force=force, tool="fairtrain demo")
    start = time.perf_counter()
    _import_tensorflow(quiet)
    settings = _settings(seed, epochs, batch_size, learning_rate, identities,
                         images_per_identity, bootstrap)
    labels, arrays = _synthetic_splits(settings, quiet)
    groups = {split: arrays[split][2].groups("ethnicity") for split in ("train", "val")}
    counts = _image_counts(labels, arrays)
    _say(quiet, "Images per split and group: " + ", ".join(
        f"{s} {sum(c.values())}" for s, c in counts.items()), "")
    results, reports = _train_both(settings, labels, arrays, groups, quiet)
    table = _side_by_side(labels, reports, reports["proportional"].min_count)
    _say(quiet, "Per-group recall on the test identities (row-normalised confusion diagonal):",
         "", table, "")
    report = _report(settings, labels, counts, results, reports)
    _write_outputs(folder, report, reports, table)
    report["seconds"] = round(time.perf_counter() - start, 1)
    folder.write_json("report.json", report)
    folder.finish()
    _say(quiet, f"Wrote {len(folder.files)} files to {folder.root}/ in {report['seconds']} s: "
                + ", ".join(f for f in folder.files),
         f"Open {folder.root / 'report.html'} in a browser.")
    return report


def _check_options(**options: Any) -> None:
    """Refuse an option of the wrong type or out of range (a :class:`DemoOptionError`)."""
    lowest = {"epochs": 1, "batch_size": 4, "identities": 20, "images_per_identity": 1,
              "bootstrap": 0, "seed": 0}
    constraints = {name: Interval(Integral, low, None) for name, low in lowest.items()}
    constraints["learning_rate"] = Interval(Real, 0, None, closed="neither")
    for name, constraint in constraints.items():
        try:
            check(name, options[name], constraint)
        except ValueError as exc:  # the CLI reports an option out of range as its own
            raise DemoOptionError(str(exc)) from None


def _import_tensorflow(quiet: bool) -> None:
    """Import Keras and TensorFlow, with ``quiet`` off the console (their start-up lines)."""
    with _quiet_imports(quiet):
        import keras  # noqa: F401
        import tensorflow  # noqa: F401


def _settings(seed: int, epochs: int, batch_size: int, learning_rate: float, identities: int,
              images_per_identity: int, bootstrap: int) -> dict[str, Any]:
    """The settings of a run, as ``report.json`` records them."""
    return {"seed": seed, "epochs": epochs, "batch_size": batch_size,
            "learning_rate": learning_rate, "lr_schedule": "halved every 6 epochs",
            "identities": identities, "images_per_identity": images_per_identity,
            "bootstrap": bootstrap, "image_size": 32,
            "intervals": INTERVALS + (
                "; the pairwise bias interval resamples the test identities within "
                "every group" if bootstrap else "")}


def _synthetic_splits(settings: dict[str, Any],
                      quiet: bool) -> tuple[list[str], dict[str, tuple[Any, Any, Any]]]:
    """The group labels, and (images, label codes, part) of every split of synthetic faces."""
    from fairtrain import datasets
    from fairtrain.datasets import synthetic

    identities, per_identity = settings["identities"], settings["images_per_identity"]
    with tempfile.TemporaryDirectory(prefix="fairtrain-demo-") as tmp:
        _say(quiet, f"Writing the synthetic ethnicity dataset ({identities} identities x "
                    f"{per_identity} images, shares 6/8/80/6) to {tmp} ...")
        written = synthetic.write_vggface2(
            tmp, n_identities=identities, images_per_identity=per_identity,
            seed=settings["seed"],
        )
        data = datasets.load_vggface2(written["root"], written["ethnicity_csv"])
        train, val, test = datasets.split(data, test_size=0.25, val_size=0.15, by="identity",
                                          stratify="ethnicity", seed=settings["seed"])
        labels = list(data.levels["ethnicity"])
        _check_every_group(labels, {"train": train, "test": test}, identities)
        code = {label: k for k, label in enumerate(labels)}
        arrays = {}
        for name, part in (("train", train), ("val", val), ("test", test)):
            x = datasets.load_images(part.paths, size=(32, 32))
            y = np.array([code[v] for v in part.columns["ethnicity"]], dtype=np.int64)
            arrays[name] = (x, y, part)
    return labels, arrays


def _check_every_group(labels: list[str], parts: dict[str, Any], identities: int) -> None:
    """Refuse a split that leaves a group with no identity in one of ``parts``."""
    for name, part in parts.items():
        absent = [lab for lab in labels if not np.any(part.columns["ethnicity"] == lab)]
        if absent:
            # a group absent from test has no recall, and the worst group would be
            # taken among the others without a word
            raise DemoOptionError(
                f"{{identities}}{identities} leaves {', '.join(absent)} with no {name} "
                "identity, so the report could not compare every group; use more "
                f"identities (the default is {{identities}}{DEFAULTS['identities']})."
            )


def _image_counts(labels: list[str], arrays: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The number of images of every group in every split."""
    return {
        split: {lab: int(np.sum(arrays[split][1] == k)) for k, lab in enumerate(labels)}
        for split in arrays
    }


def _train_both(settings: dict[str, Any], labels: list[str], arrays: dict[str, Any],
                groups: dict[str, Any], quiet: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train once per strategy from the same initial weights: the results and BiasReports."""
    import tensorflow as tf

    from fairtrain.experiments.models import tiny_cnn

    x_train, y_train, _ = arrays["train"]
    # Vectorised gather from memory: the sampler chose the indices, the loader reads them.
    x_table, y_table = tf.constant(x_train), tf.constant(y_train)

    def load(indices: Any) -> Any:
        """The images and label codes at ``indices``."""
        return tf.gather(x_table, indices), tf.gather(y_table, indices)

    initial = tiny_cnn((32, 32, 3), len(labels), seed=settings["seed"]).get_weights()
    results: dict[str, Any] = {}
    reports: dict[str, Any] = {}
    for strategy in STRATEGIES:
        results[strategy], reports[strategy] = _train_one(
            strategy, settings, labels, arrays, groups, load, initial, quiet)
        _say(quiet, "")
    return results, reports


def _train_one(strategy: str, settings: dict[str, Any], labels: list[str],
               arrays: dict[str, Any], groups: dict[str, Any], load: Any, initial: list[Any],
               quiet: bool) -> tuple[dict[str, Any], Any]:
    """Train the CNN from ``initial`` on ``strategy``'s batches: its results and BiasReport."""
    import keras

    import fairtrain as ft
    from fairtrain.experiments import fit_sampled, history_to_dict
    from fairtrain.experiments.models import tiny_cnn

    seed, batch_size, rate = settings["seed"], settings["batch_size"], settings["learning_rate"]
    x_val, y_val, _ = arrays["val"]
    sampler_cls = ft.sampling.Proportional if strategy == "proportional" else (
        ft.sampling.Homogeneous)
    sampler = sampler_cls(groups["train"], batch_size=batch_size, seed=seed)
    keras.utils.set_random_seed(seed)
    model = tiny_cnn((32, 32, 3), len(labels), seed=None)
    model.set_weights(initial)
    model.compile(
        optimizer=keras.optimizers.Adam(rate),
        loss="sparse_categorical_crossentropy", metrics=["accuracy"],
    )
    first = np.bincount(groups["train"].codes[sampler.plan(0)[0]], minlength=len(labels))
    _say(quiet, f"== {strategy} batches: {sampler.steps_per_epoch} batches of "
                f"{batch_size} per epoch; first batch holds "
                + ", ".join(f"{n} {lab}" for n, lab in zip(first, labels)))
    monitor = ft.BiasMonitor(x_val, y_val, groups["val"], metric="recall",
                             metric_kwargs={"average": "macro"}, log_groups=False,
                             min_count=1)
    t0 = time.perf_counter()
    history = fit_sampled(
        model, sampler, load, epochs=settings["epochs"], validation_data=(x_val, y_val),
        callbacks=[ft.StepDecayCallback(rate, factor=0.5, every=6), monitor],
        vectorized=True, verbose=0 if quiet else "auto",
    )
    train_s = time.perf_counter() - t0
    summary = _test_summary(model, labels, arrays["test"], settings)
    report = summary.pop("report")
    return {
        **summary,
        "train_seconds": round(train_s, 2),
        "steps_per_epoch": int(sampler.steps_per_epoch),
        "first_batch_counts": dict(zip(labels, first.tolist())),
        "history": history_to_dict(history),
    }, report


def _test_summary(model: Any, labels: list[str], test: tuple[Any, Any, Any],
                  settings: dict[str, Any]) -> dict[str, Any]:
    """:func:`classification_summary` of ``model`` on the test identities."""
    from fairtrain.experiments import classification_summary

    x_test, y_test, test_part = test
    probs = np.asarray(model.predict(x_test, batch_size=512, verbose=0))
    y_pred = probs.argmax(axis=1)
    # the test images come in identities: they, not the images, are the units
    return classification_summary(
        np.asarray(labels)[y_test], np.asarray(labels)[y_pred],
        test_part.groups("ethnicity"), labels, n_bootstrap=settings["bootstrap"],
        seed=settings["seed"], clusters=test_part.columns["identity"],
    )


def _report(settings: dict[str, Any], labels: list[str], counts: dict[str, Any],
            results: dict[str, Any], reports: dict[str, Any]) -> dict[str, Any]:
    """The content of ``report.json``, but for ``seconds``."""
    import fairtrain as ft

    return {
        "fairtrain_demo": 1,
        "version": ft.__version__,
        "settings": settings,
        "labels": labels,
        "counts": counts,
        "runs": results,
        "worst_group_recall": {
            s: float(np.nanmin(reports[s]["ethnicity"].values)) for s in STRATEGIES
        },
        "worst_groups": {
            s: _worst(reports[s]["ethnicity"].values, labels).split(", ") for s in STRATEGIES
        },
        "bias": {s: float(reports[s]["ethnicity"].pairwise) for s in STRATEGIES},
    }


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

    intervals = {s: report["runs"][s]["intervals"]["ethnicity"] for s in STRATEGIES}
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, strategy in zip(axes, STRATEGIES):
        plots.plot_by_group(_with_wilson(reports[strategy], intervals[strategy], labels),
                            "ethnicity", ax=ax,
                            title=f"{strategy}: bias {reports[strategy]['ethnicity'].pairwise:.3f}")
        ax.set_ylim(0, 1.05)
    fig.suptitle(f"Recall per group on the test identities ({INTERVALS})")
    bars = folder.save_figure("recall_by_group.png", fig)

    fig = Figure(figsize=(11, 4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, strategy in zip(axes, STRATEGIES):
        hist = report["runs"][strategy]["history"]
        keys = [k for k in ("accuracy", "val_accuracy", "val_recall_overall",
                            "val_recall_ethnicity_worst") if k in hist]
        plots.plot_training_curves(hist, keys=keys, ax=ax, title=f"{strategy} batches")
    curves = folder.save_figure("training_curves.png", fig)

    header = ["group", "n (test)", "identities", "proportional", "homogeneous"]
    p, h = (reports[s]["ethnicity"] for s in STRATEGIES)
    rows = [[lab + (" *" if lab in p.flagged else ""), int(p.counts[i]),
             intervals["proportional"]["groups"][lab]["clusters"],
             *[_with_interval(float(r.values[i]), intervals[s]["groups"][lab])
               for s, r in zip(STRATEGIES, (p, h))]]
            for i, lab in enumerate(labels)]
    rows += [["recall (macro)", "", "", reports["proportional"].overall,
              reports["homogeneous"].overall],
             ["worst-group recall", "", "", report["worst_group_recall"]["proportional"],
              report["worst_group_recall"]["homogeneous"]],
             ["worst group(s)", "", "", *[", ".join(report["worst_groups"][s])
                                          for s in STRATEGIES]],
             ["pairwise bias", "", "", *[_with_interval(r.pairwise, intervals[s])
                                          for s, r in zip(STRATEGIES, (p, h))]]]
    intro = _intro(report["settings"], report["runs"]["homogeneous"]["first_batch_counts"])
    notes = _notes(report["settings"], p.flagged, reports["proportional"].min_count)
    md = "\n\n".join([
        "# fairtrain demo: proportional vs homogeneous batches", intro,
        markdown_table(header, rows), notes,
        "Files: " + ", ".join(f"`{p.name}`" for p in [*images, bars, curves]),
    ]) + "\n"
    folder.write_text("report.md", md)
    page = html_report("fairtrain demo: proportional vs homogeneous batches", [
        ("p", intro),
        ("table", (header, rows)),
        ("p", notes),
        ("h2", f"Per-group recall ({INTERVALS})"),
        ("img", bars),
        ("h2", "Confusion matrices on the test identities (rows real, columns predicted)"),
        *[("img", path) for path in images],
        ("h2", "Training curves"),
        ("img", curves),
        ("h2", "Console summary"),
        ("pre", table),
    ])
    folder.write_text("report.html", page)


#: How the per-group intervals are made (the titles say it).
INTERVALS = "95 % Wilson intervals, identities as the unit"


def _with_wilson(report: Any, intervals: dict[str, Any], labels: list[str]) -> Any:
    """A copy of ``report`` whose ethnicity intervals are the Wilson ones (for the plot)."""
    import dataclasses

    bias = report["ethnicity"]
    ci = np.array([[intervals["groups"][g]["low"], intervals["groups"][g]["high"]]
                   for g in bias.groups])
    copy = report.without_data()
    copy.attributes = {**report.attributes, "ethnicity": dataclasses.replace(bias, ci=ci)}
    return copy


def _with_interval(value: float, interval: dict[str, Any]) -> str:
    """``0.750 [0.52, 0.89]``; the value alone where there is no interval."""
    if "low" in interval:
        low, high = interval["low"], interval["high"]
    elif interval.get("pairwise_bias"):
        low, high = interval["pairwise_bias"]
        if high - low < 1e-12:  # a zero-width interval would claim a certainty it lacks
            return f"{value:.3f} (no spread: see the note)"
    else:
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.2f}, {high:.2f}]"


def _intro(settings: dict[str, Any], homogeneous_first: dict[str, int]) -> str:
    """What was trained, in words that match the settings (epochs, batch composition)."""
    counts = sorted(set(homogeneous_first.values()))
    batch = settings["batch_size"]
    if len(counts) == 1:
        equal = f"{100 / len(homogeneous_first):g} % of each group, {counts[0]} of {batch}"
    else:
        equal = (f"equal shares of the groups, {counts[0]} or {counts[-1]} of {batch} as "
                 f"{batch} does not divide by {len(homogeneous_first)}")
    return (
        f"The same tiny CNN, from the same initial weights, trained "
        f"{_plural(settings['epochs'], 'epoch')} twice on synthetic faces whose groups make "
        "up 6/8/80/6 % of the data: once with batches that keep those shares "
        f"(proportional), once with batches holding {equal} (homogeneous). Recall of a "
        "group is the share of its test images classified as that group (the diagonal of "
        "the row-normalised confusion matrix); the pairwise bias is the mean absolute "
        "difference between the groups' recalls, over all pairs (0 is perfectly even). "
        "Read it next to the overall recall: a low bias can hide a model that is equally "
        "bad for everyone."
    )


def _notes(settings: dict[str, Any], flagged: tuple[str, ...], min_count: int) -> str:
    """How to read the intervals (what is resampled) and the flagged groups."""
    text = (
        "Intervals: 95 % Wilson score intervals of each group's recall, with the test "
        "identities as the unit (the images of one identity are not independent, so the "
        "effective sample size lies between the number of identities and of images; "
        "with a recall of exactly 0 or 1 it is the number of identities). "
    )
    if settings["bootstrap"]:
        text += (
            f"The pairwise bias interval resamples the test identities within every group "
            f"({settings['bootstrap']} resamples; percentile interval). Resampling cannot "
            "vary a group whose identities were all classified right or all wrong; when "
            "that holds for every group, the bias has no spread to show and no interval "
            "is given."
        )
    else:
        text += "No interval for the pairwise bias (--bootstrap 0)."
    if flagged:
        text += (f" * {', '.join(flagged)}: fewer than {min_count} test images, a rough "
                 "estimate.")
    return text
