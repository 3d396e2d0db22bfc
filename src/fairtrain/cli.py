"""The ``fairtrain`` command line: ``fairtrain plugins`` and the other subcommands."""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def _plugins(args: argparse.Namespace) -> int:
    from fairtrain import registry

    kinds = [args.kind] if args.kind else list(registry.KINDS)
    rows = [("kind", "name", "distribution", "target")]
    for kind in kinds:
        names = registry.available(kind)
        for p in registry.plugins(kind):
            dist = names[p.name] if names[p.name].startswith("conflict") else p.distribution
            rows.append((kind, p.name, dist, p.target))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    return 0


def _read_columns(path: str, names: Sequence[str]) -> dict[str, list[str]]:
    if not os.path.isfile(path):
        what = "is a folder" if os.path.isdir(path) else "does not exist"
        raise ValueError(f"{path} {what}; give the CSV file of predictions.")
    try:
        # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") is not part of the first name
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return _parse_columns(path, fh, names)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
            f"{exc.start}); save or convert it as UTF-8 (e.g. iconv -f latin1 -t utf-8)."
        ) from None


def _parse_columns(path: str, fh: Any, names: Sequence[str]) -> dict[str, list[str]]:
    """The named columns of an open CSV file (a header row, then one row per example)."""
    reader = csv.DictReader(fh)
    header = reader.fieldnames or []
    twice = sorted({h for h in names if header.count(h) > 1})
    if twice:
        # DictReader keeps the last of two equal names: the other would vanish
        raise ValueError(
            f"{path} names column(s) {twice} twice in its header; rename one of them "
            "so that every column has its own name."
        )
    missing = [n for n in names if n not in header]
    if missing:
        raise ValueError(f"{path} has no column(s) {missing}; its columns are {header}.")
    columns: dict[str, list[str]] = {n: [] for n in names}
    for line, row in enumerate(reader, start=2):
        if None in row:  # DictReader's key for the cells beyond the header
            raise ValueError(
                f"{path}, line {reader.line_num}: {len(header) + len(row[None])} cells for the "
                f"{len(header)} columns of the header; quote a value that holds a comma "
                '(e.g. "Paris, FR").'
            )
        for n in names:
            value = (row.get(n) or "").strip()
            if value == "":
                raise ValueError(
                    f"{path}, line {line}: column {n!r} is empty; fill or drop that row."
                )
            columns[n].append(value)
    if not columns or not next(iter(columns.values())):
        raise ValueError(f"{path} holds no rows.")
    return columns


def _typed(values: list[str], where: str = "") -> Any:
    """Numbers when every value parses as one (integers if all whole), else strings.

    ``where`` (``"<file>, column 'p'"``) names the column in the error for a NaN.
    """
    import numpy as np

    try:
        arr = np.array([float(v) for v in values])
    except ValueError:
        return np.array(values)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        # rows start on line 2, below the header
        raise ValueError(
            f"{where or 'a column'}, line {bad[0] + 2}: {values[bad[0]]!r} is not a finite "
            "number (NaN or infinite); fill or drop that row."
        )
    return arr.astype(np.int64) if np.all(arr == np.round(arr)) else arr


def _int_at_least(low: int) -> Any:
    """An argparse ``type``: an integer >= ``low`` (argparse names the option)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}; got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}; got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def _positive_float(text: str) -> float:
    """An argparse ``type``: a positive finite number."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text!r}")
    return value


def _check_average(metric: str, average: str | None) -> None:
    """Refuse ``--average`` for a metric that does not average over classes."""
    if average is None:
        return
    import inspect

    from fairtrain import registry

    try:
        takes = "average" in inspect.signature(registry.get("metrics", metric)).parameters
    except (TypeError, ValueError):  # an unknown metric: the report says so
        return
    if not takes:
        raise ValueError(
            f"--average applies to metrics that average over classes (recall, precision); "
            f"--metric {metric} has no average. Drop --average, or choose --metric recall "
            "or precision."
        )


def _filename(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.=-]+", "_", text).strip("_") or "_"


def _plot_names(attributes: Sequence[str]) -> list[str]:
    """One distinct ``by_group_<attribute>.png`` per attribute ("a b" and "a_b" differ)."""
    names: list[str] = []
    for attribute in attributes:
        stem, n = f"by_group_{_filename(attribute)}", 1
        name = f"{stem}.png"
        while name in names:
            n += 1
            name = f"{stem}-{n}.png"
        names.append(name)
    return names


def _metric_kwargs(args: argparse.Namespace, metric: Any) -> dict[str, Any]:
    """``pos_label`` and ``average`` for the metric; --pos-label means the binary score."""
    import inspect

    kwargs: dict[str, Any] = {}
    if args.pos_label is not None:
        pos = _typed([args.pos_label])[0]
        kwargs["pos_label"] = pos.item() if hasattr(pos, "item") else pos
        try:
            parameters = inspect.signature(metric).parameters
        except (TypeError, ValueError):  # no signature to read: pass what was asked
            parameters = {"pos_label": None}  # type: ignore[assignment]
        takes = "pos_label" in parameters or any(
            getattr(p, "kind", None) is inspect.Parameter.VAR_KEYWORD
            for p in parameters.values())
        if not takes:
            raise ValueError(
                f"--pos-label names the positive class of a metric over classes (recall, "
                f"precision) or a fairness measure; --metric {args.metric} has none. Drop "
                "--pos-label, or choose such a metric."
            )
        takes_average = "average" in parameters
        # recall and precision average over the classes by default, where pos_label is
        # ignored: asking for a positive class asks for that class's score
        if args.average is None and takes_average:
            kwargs["average"] = "binary"
        elif args.average not in (None, "binary"):
            raise ValueError(
                f"--pos-label {args.pos_label} gives the score of one class, which "
                f"--average {args.average} ignores; drop one of them."
            )
    if args.average is not None:
        kwargs["average"] = args.average
    return kwargs


def _binarized(args: argparse.Namespace, y_true: Any, y_pred: Any,
               column: str) -> tuple[Any, Any]:
    """Labels as fairlearn's measures take them: ``--pos-label`` is 1, every other 0.

    A column of scores is read as the measures read it without ``--pos-label``
    (probabilities of class 1, thresholded at 0.5), so it takes only ``--pos-label 1``.
    """
    if y_pred.ndim != 1:
        raise ValueError(
            f"--pos-label with the fairness measure {args.metric!r} needs one --y-pred "
            "column of predicted labels, not class scores."
        )
    pos = _typed([args.pos_label])[0]
    pos = pos.item() if hasattr(pos, "item") else pos
    if y_pred.dtype.kind == "f":
        if pos != 1:
            raise ValueError(
                f"--pos-label {args.pos_label} with the fairness measure {args.metric!r}: "
                f"column {column!r} holds scores (e.g. {float(y_pred[0])}), read as "
                "probabilities of class 1. Write the predicted labels (threshold the "
                "scores first), or pass --pos-label 1."
            )
        return (y_true == pos).astype(int), y_pred
    return (y_true == pos).astype(int), (y_pred == pos).astype(int)


def _report(args: argparse.Namespace) -> int:
    import numpy as np

    from fairtrain import registry
    from fairtrain.metrics import bias_report, confusion_by_group
    from fairtrain.metrics.fairness import measure_of

    y_pred_cols = [c.strip() for c in args.y_pred.split(",") if c.strip()]
    names = [args.y_true, *y_pred_cols, *args.group]
    try:
        if not y_pred_cols:
            raise ValueError(
                f"--y-pred {args.y_pred!r} names no column; give the predictions' column "
                "(several, comma-separated, for class scores)."
            )
        _check_average(args.metric, args.average)
        columns = _read_columns(args.csv, list(dict.fromkeys(names)))
        y_true = _typed(columns[args.y_true], f"{args.csv}, column {args.y_true!r}")
        preds = [_typed(columns[c], f"{args.csv}, column {c!r}") for c in y_pred_cols]
        y_pred = preds[0] if len(preds) == 1 else np.column_stack(preds)
        metric = registry.get("metrics", args.metric)
        if args.pos_label is not None and measure_of(metric) is not None:
            y_true, y_pred = _binarized(args, y_true, y_pred, y_pred_cols[0])
            metric_kwargs: dict[str, Any] = {}
        else:
            metric_kwargs = _metric_kwargs(args, metric)
        report = bias_report(
            y_true, y_pred, {g: np.array(columns[g]) for g in args.group},
            metric=args.metric, metric_kwargs=metric_kwargs or None,
            min_count=args.min_count, n_bootstrap=args.bootstrap, seed=args.seed,
        )
    except (OSError, ValueError, TypeError) as exc:
        print(f"fairtrain report: error: {exc}", file=sys.stderr)
        return 2
    if args.out is None:
        print(report)
        return 0
    from fairtrain.experiments import OutputDir, OutputError

    try:  # before printing, so a refused folder is the last thing said
        out = OutputDir(args.out, force=args.force, tool="fairtrain report")
        out.path("report.json")  # a user's report.json there: refused here, not a traceback
    except OutputError as exc:
        print(f"fairtrain report: error: {exc.for_command_line()}", file=sys.stderr)
        return 2
    print(report)
    written = [out.write_text("report.json", report.to_json() + "\n")]
    try:
        from fairtrain.metrics import plots

        for attribute, name in zip(report.attributes, _plot_names(report.attributes)):
            ax = plots.plot_by_group(report, attribute)
            written.append(out.save_figure(name, ax))
        if getattr(registry.get("metrics", args.metric), "kind", None) == "classification":
            cm = confusion_by_group(y_true, y_pred, {g: np.array(columns[g]) for g in args.group})
            figure = plots.plot_confusion_pair(cm, title="all examples")
            written.append(out.save_figure("confusion.png", figure))
    except ImportError as exc:
        print(f"fairtrain report: wrote {written[0]} but no plots: {exc}", file=sys.stderr)
        return 1
    except OutputError as exc:
        print(f"fairtrain report: error: {exc.for_command_line()}", file=sys.stderr)
        return 2
    out.finish()
    print("\nwrote " + ", ".join(str(p) for p in written))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from fairtrain.experiments import OutputError
    from fairtrain.experiments.demo import DemoOptionError, run_demo  # light: numpy only

    try:
        run_demo(
            args.out, seed=args.seed, epochs=args.epochs, batch_size=args.batch_size,
            learning_rate=args.learning_rate, identities=args.identities,
            images_per_identity=args.images_per_identity, bootstrap=args.bootstrap,
            force=args.force, quiet=args.quiet,
        )
    except (OutputError, DemoOptionError) as exc:  # a failure inside keeps its traceback
        print(f"fairtrain demo: error: {exc.for_command_line()}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"fairtrain demo: error: {exc}. Install the demo's dependencies: "
              'pip install "fairtrain[demo]"', file=sys.stderr)
        return 2
    return 0


def _add_demo(sub: Any) -> None:
    from fairtrain.experiments.demo import DEFAULTS

    d = sub.add_parser(
        "demo",
        help="the main job: proportional vs homogeneous batches on synthetic faces",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write a synthetic face dataset (VGGFace2 layout, ethnicity shares "
        "6/8/80/6 %) to a temporary folder, train the same small CNN twice from the same "
        "initial weights - batches keeping the population shares (proportional), then "
        "batches with equal shares of the groups (homogeneous) - and compare the recall of every "
        "group and the bias on the test identities. Prints both tables side by side and "
        "writes report.json, report.md, report.html (self-contained) and PNG plots to "
        "--out. About a minute on a 2-core CPU.",
        epilog="The --out folder must be new, empty, or written by an earlier demo; "
        "fairtrain lists the files it writes in .fairtrain-manifest.json and, with "
        "--force, replaces exactly those. It never touches other files.",
    )
    d.add_argument("--out", default=DEFAULTS["out"], metavar="DIR",
                   help="results folder (default: ./%(default)s)")
    d.add_argument("--force", action="store_true",
                   help="replace the files an earlier demo wrote in --out")
    d.add_argument("--seed", type=_int_at_least(0), default=DEFAULTS["seed"],
                   help="seed of the data, the split, the initial weights and the batches "
                   "(default: %(default)s)")
    d.add_argument("--epochs", type=_int_at_least(1), default=DEFAULTS["epochs"],
                   help="epochs per training run (default: %(default)s)")
    d.add_argument("--batch-size", type=_int_at_least(4), default=DEFAULTS["batch_size"],
                   help="examples per batch (default: %(default)s)")
    d.add_argument("--learning-rate", type=_positive_float, default=DEFAULTS["learning_rate"],
                   help="initial Adam learning rate, halved every 6 epochs "
                   "(default: %(default)s)")
    d.add_argument("--identities", type=_int_at_least(20), default=DEFAULTS["identities"],
                   help="synthetic identities (default: %(default)s)")
    d.add_argument("--images-per-identity", type=_int_at_least(1),
                   default=DEFAULTS["images_per_identity"],
                   help="synthetic images per identity (default: %(default)s)")
    d.add_argument("--bootstrap", type=_int_at_least(0), default=DEFAULTS["bootstrap"],
                   metavar="N",
                   help="resamples of the test identities for the interval of the "
                   "pairwise bias, 0 for none (the per-group intervals are Wilson "
                   "intervals; default: %(default)s)")
    d.add_argument("--quiet", action="store_true",
                   help="no progress bars and no tables; only errors")
    d.set_defaults(func=_demo)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fairtrain`` command."""
    from fairtrain import __version__, registry

    parser = argparse.ArgumentParser(
        prog="fairtrain", description="Fairness-aware training for Keras."
    )
    parser.add_argument("--version", action="version", version=f"fairtrain {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plugins", help="list the registered samplers, weights, schedules, metrics")
    p.add_argument("--kind", choices=registry.KINDS, help="only this kind")
    p.set_defaults(func=_plugins)

    r = sub.add_parser(
        "report",
        help="bias report of a CSV of predictions (validation predictions to choose models)",
        description="Print the overall value, the per-group values and the bias of a metric "
        "for every group column of a CSV of predictions; with --out, also write "
        "report.json and PNG plots.",
    )
    r.add_argument("csv", help="CSV file with a header row")
    r.add_argument("--y-true", required=True, metavar="COL", help="column of the targets")
    r.add_argument(
        "--y-pred", required=True, metavar="COL[,COL...]",
        help="column of the predictions (several comma-separated columns: class scores)",
    )
    r.add_argument(
        "--group", required=True, action="append", metavar="COL",
        help="a group attribute column (repeat for several; their intersection is added)",
    )
    r.add_argument("--metric", default="mae",
                   help="a registered metric name (default: mae; see 'fairtrain plugins'), "
                   "or a fairness measure such as equalized_odds_difference")
    r.add_argument("--pos-label", default=None,
                   help="positive class of the rate metrics; recall and precision then "
                   "score that class (--average binary); with a fairness measure, the "
                   "label read as 1, every other label as 0")
    r.add_argument("--average", choices=["macro", "binary"], default=None,
                   help="averaging of recall and precision (default: binary with "
                   "--pos-label, else macro)")
    r.add_argument("--min-count", type=_int_at_least(1), default=30,
                   help="flag groups with fewer examples (default: 30)")
    r.add_argument("--bootstrap", type=_int_at_least(0), default=0, metavar="N",
                   help="bootstrap resamples for confidence intervals (default: 0)")
    r.add_argument("--seed", type=_int_at_least(0), default=0,
                   help="bootstrap seed (default: 0)")
    r.add_argument("--out", default=None, metavar="DIR",
                   help="write report.json and the plots (PNG) into DIR: a new or empty "
                   "folder, or one an earlier report wrote (with --force)")
    r.add_argument("--force", action="store_true",
                   help="replace the files an earlier report wrote in --out (only those)")
    r.set_defaults(func=_report)
    _add_demo(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fairtrain`` command line."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
