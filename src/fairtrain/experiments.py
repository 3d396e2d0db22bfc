"""Shared pieces of ``fairtrain demo`` and the example scripts: output folders, training, summaries.

Everything here is built on the public API (samplers, adapters, callbacks, metrics,
plots). Heavy dependencies (Keras, TensorFlow, matplotlib) are imported inside the
functions that need them.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MANIFEST",
    "add_example_arguments",
    "resolve_example_arguments",
    "OutputDir",
    "OutputError",
    "classification_summary",
    "fit_sampled",
    "fit_staged_sampled",
    "history_to_dict",
    "html_report",
    "lowest_val_loss_epoch",
    "markdown_table",
    "predict",
    "to_jsonable",
]

#: Name of the file, inside an output folder, that lists what fairtrain wrote there.
MANIFEST = ".fairtrain-manifest.json"


class OutputError(ValueError):
    """An output folder fairtrain must not write into (or not without ``force``)."""


class OutputDir:
    """A results folder that fairtrain writes into and keeps a manifest of.

    Every file written through it is listed in ``.fairtrain-manifest.json`` in the
    folder, as soon as it is written. A folder is accepted if it does not exist, is
    empty, or holds a manifest; with a manifest, ``force=True`` is required and the
    files it lists are removed first (files the manifest does not list are kept, and
    a new file never replaces one of them).

    Parameters
    ----------
    path : str or os.PathLike
        The folder (created with its parents if missing).
    force : bool, default False
        Replace the files of an earlier fairtrain run in ``path``.
    tool : str, default "fairtrain"
        Recorded in the manifest.

    Raises
    ------
    OutputError
        If ``path`` is a file, is a non-empty folder fairtrain did not write (no
        manifest), or holds an earlier run and ``force`` is False.

    Examples
    --------
    >>> import tempfile, os
    >>> from fairtrain.experiments import OutputDir
    >>> root = tempfile.mkdtemp()
    >>> out = OutputDir(os.path.join(root, "run"))
    >>> _ = out.write_text("notes.md", "hello")
    >>> out.files
    ['notes.md']
    >>> OutputDir(os.path.join(root, "run"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    fairtrain.experiments.OutputError: ...
    """

    def __init__(
        self, path: str | os.PathLike[str], *, force: bool = False, tool: str = "fairtrain"
    ) -> None:
        self.root = Path(path)
        self.tool = tool
        self.files: list[str] = []
        self._dirs: list[str] = []
        if self.root.exists() and not self.root.is_dir():
            raise OutputError(f"--out {str(self.root)!r} is a file, not a folder; choose one.")
        manifest = self.root / MANIFEST
        if self.root.is_dir() and any(self.root.iterdir()):
            if not manifest.is_file():
                raise OutputError(
                    f"--out {str(self.root)!r} is a non-empty folder that fairtrain did not "
                    "write (it has no " + MANIFEST + "); fairtrain never overwrites files "
                    "it did not write. Choose a new or empty folder."
                )
            if not force:
                raise OutputError(
                    f"--out {str(self.root)!r} holds the results of an earlier fairtrain "
                    "run. Pass --force to replace them (only the files that run wrote), or "
                    "choose another folder."
                )
            self._remove_previous(manifest)
        self.root.mkdir(parents=True, exist_ok=True)
        self._save_manifest()

    def _remove_previous(self, manifest: Path) -> None:
        try:
            previous = json.loads(manifest.read_text(encoding="utf-8"))
            files, dirs = list(previous["files"]), list(previous.get("dirs", []))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutputError(
                f"{manifest} is unreadable ({exc}); fairtrain cannot tell which files are "
                "its own. Remove the folder yourself or choose another one."
            ) from exc
        for name in files:
            target = self._resolve(name)
            if target.is_file() or target.is_symlink():
                target.unlink()
        # Deepest first; only folders fairtrain created and that are now empty.
        for name in sorted(dirs, key=lambda d: d.count("/"), reverse=True):
            target = self._resolve(name)
            if target.is_dir() and not any(target.iterdir()):
                target.rmdir()

    def _resolve(self, name: str) -> Path:
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise OutputError(
                f"Output names must be relative paths inside the folder; got {name!r}."
            )
        target = self.root / rel
        # A sub-folder replaced by a link must not lead a write or a --force removal
        # to files outside the folder (the target itself, if a link, is only unlinked).
        if not target.parent.resolve().is_relative_to(self.root.resolve()):
            raise OutputError(
                f"{target} lies outside {self.root} (a folder on its way is a link "
                "elsewhere); fairtrain only writes and removes files inside --out. Remove "
                "the link or choose another folder."
            )
        return target

    def _save_manifest(self) -> None:
        data = {"tool": self.tool, "files": self.files, "dirs": self._dirs}
        tmp = self.root / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(self.root / MANIFEST)

    def path(self, name: str) -> Path:
        """Claim ``name`` (a relative path) for a new file and return its full path.

        Raises
        ------
        OutputError
            If a file of that name exists and was not written by this run.
        """
        target = self._resolve(name)
        key = target.relative_to(self.root).as_posix()
        if key not in self.files:
            if target.exists() or target.is_symlink():
                raise OutputError(
                    f"{target} exists and fairtrain did not write it; it is left alone. "
                    "Move it, or choose another --out folder."
                )
            parent = target.parent
            missing = []
            while parent != self.root and not parent.exists():
                missing.append(parent.relative_to(self.root).as_posix())
                parent = parent.parent
            target.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.extend(reversed(missing))
            self.files.append(key)
            self._save_manifest()
        return target

    def write_text(self, name: str, text: str) -> Path:
        """Write a text file (UTF-8)."""
        target = self.path(name)
        target.write_text(text, encoding="utf-8")
        return target

    def write_json(self, name: str, data: Any) -> Path:
        """Write ``data`` as JSON (NumPy values converted, NaN written as null)."""
        return self.write_text(
            name, json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n"
        )

    def save_figure(self, name: str, figure: Any, *, dpi: int = 110) -> Path:
        """Save a matplotlib figure (or the figure of an Axes) as PNG."""
        figure = getattr(figure, "figure", figure)
        target = self.path(name)
        figure.savefig(target, dpi=dpi)
        return target


def to_jsonable(obj: Any) -> Any:
    """``obj`` with NumPy scalars and arrays as Python values and NaN or inf as None."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


# --------------------------------------------------------------------------- training
def fit_sampled(
    model: Any,
    sampler: Any,
    load: Callable[[Any], Any],
    *,
    epochs: int,
    validation_data: Any = None,
    callbacks: Sequence[Any] = (),
    sample_weight: Any = None,
    vectorized: bool = False,
    verbose: Any = "auto",
) -> Any:
    """Train ``model`` on the batches ``sampler`` plans, loading only what it planned.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    sampler : fairtrain.sampling.GroupBatchSampler
        Plans every epoch's batches.
    load : callable
        ``load(index) -> (x, y)`` (or ``load(indices)`` with ``vectorized=True``), as
        for :func:`fairtrain.data.to_tf_dataset`.
    epochs : int
        Number of epochs.
    validation_data, callbacks, verbose
        Passed to ``model.fit``.
    sample_weight : ndarray of shape (n,), optional
        Per-example loss weights, gathered at the planned indices.
    vectorized : bool, default False
        Whether ``load`` takes a batch of indices.

    Returns
    -------
    keras.callbacks.History
    """
    from fairtrain.data import EpochSync, to_tf_dataset

    dataset = to_tf_dataset(sampler, load, sample_weight=sample_weight, vectorized=vectorized)
    return model.fit(
        dataset,
        epochs=epochs,
        validation_data=validation_data,
        # EpochSync hands Keras' epoch number to the dataset: epoch e serves plan(e)
        callbacks=[EpochSync(dataset), *callbacks],
        verbose=verbose,
        shuffle=False,  # the sampler's plan is the order
    )


def fit_staged_sampled(
    model: Any,
    stages: Sequence[Any],
    sampler: Any,
    load: Callable[[Any], Any],
    *,
    loss: Any,
    metrics: Any = None,
    optimizer: Any = "adam",
    validation_data: Any = None,
    callbacks: Sequence[Any] = (),
    sample_weight: Any = None,
    vectorized: bool = False,
    verbose: Any = "auto",
) -> Any:
    """:func:`fairtrain.fit_staged` on the batches ``sampler`` plans.

    One ``tf.data`` pipeline serves every stage; :func:`fairtrain.fit_staged` keeps it on
    the global epoch, so each global epoch gets its own plan across stages. Arguments as
    for :func:`fit_sampled` and :func:`fairtrain.fit_staged`.

    Returns
    -------
    fairtrain.schedules.StagedHistory
    """
    from fairtrain.data import to_tf_dataset
    from fairtrain.schedules import fit_staged

    # fit_staged adds EpochSync for the dataset: every global epoch gets its own plan
    dataset = to_tf_dataset(sampler, load, sample_weight=sample_weight, vectorized=vectorized)
    return fit_staged(
        model, stages, dataset, validation_data=validation_data, optimizer=optimizer,
        loss=loss, metrics=metrics, callbacks=list(callbacks), verbose=verbose,
    )


def predict(model: Any, x: Any, *, batch_size: int = 256) -> tuple[np.ndarray, float]:
    """``model.predict(x)`` and its wall time in seconds (no progress bar)."""
    start = time.perf_counter()
    y = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    return y, time.perf_counter() - start


def history_to_dict(history: Any) -> dict[str, list[float]]:
    """The per-epoch values of a Keras History (or a mapping) as plain floats."""
    data = getattr(history, "history", history)
    return {k: [float(v) for v in values] for k, values in data.items()}


def lowest_val_loss_epoch(history: Any) -> int:
    """Index (0-based) of the epoch with the lowest ``val_loss``.

    Raises
    ------
    ValueError
        If the history has no ``val_loss``.
    """
    data = getattr(history, "history", history)
    if "val_loss" not in data or not len(data["val_loss"]):
        raise ValueError("The history has no val_loss: train with validation_data.")
    return int(np.nanargmin(np.asarray(data["val_loss"], dtype=float)))


def classification_summary(
    y_true: Any,
    y_pred: Any,
    groups: Any,
    labels: Sequence[Any],
    *,
    n_bootstrap: int = 0,
    seed: int = 0,
    min_count: int = 30,
) -> dict[str, Any]:
    """Confusion matrices, per-group recall and bias of a classifier on one split.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,)
        Real and predicted classes (values of ``labels``).
    groups : Groups or mapping of str to array-like
        The groups for the recall and the bias.
    labels : sequence
        The classes in order (rows and columns of the matrices).
    n_bootstrap : int, default 0
        Bootstrap resamples for the intervals of the per-group recall.
    seed : int, default 0
        Bootstrap seed.
    min_count : int, default 30
        Groups with fewer examples are flagged.

    Returns
    -------
    dict
        ``labels``, ``confusion`` (counts, rows real, columns predicted),
        ``confusion_normalized`` (rows sum to one: the diagonal is each class's
        recall), ``recall`` (the :class:`~fairtrain.metrics.BiasReport` as a dict:
        macro recall per group and the bias) and ``report`` (the BiasReport itself,
        not JSON-serialisable; drop it before writing).
    """
    from fairtrain.metrics import bias_report, confusion_by_group, normalize_confusion

    confusion = confusion_by_group(y_true, y_pred, groups, labels=list(labels))
    report = bias_report(
        y_true, y_pred, groups, metric="recall", metric_kwargs={"average": "macro"},
        n_bootstrap=n_bootstrap, seed=seed, min_count=min_count,
    )
    return {
        "labels": list(labels),
        "confusion": confusion.overall,
        "confusion_normalized": normalize_confusion(confusion.overall, normalize="rows"),
        "recall": report.to_dict(),
        "report": report,
    }


# --------------------------------------------------------------------------- summaries
def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "nan" if not math.isfinite(value) else f"{value:.4f}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; floats with 4 decimals.

    Examples
    --------
    >>> print(markdown_table(["group", "recall"], [["Asian", 0.5]]))
    | group | recall |
    |---|---|
    | Asian | 0.5000 |
    """
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _inline_image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def html_report(title: str, blocks: Sequence[tuple[str, Any]]) -> str:
    """A self-contained HTML page: headings, preformatted text, tables and inlined PNGs.

    Parameters
    ----------
    title : str
        Page title.
    blocks : sequence of (kind, content)
        ``("h2", text)``, ``("p", text)``, ``("pre", text)``, ``("table", (header,
        rows))`` or ``("img", path to a PNG)``; images are embedded as base64, so the
        page needs no other file.

    Returns
    -------
    str
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;"
        "padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:.3em .7em;text-align:right}"
        "th:first-child,td:first-child{text-align:left}img{max-width:100%;margin:.5em 0}"
        "pre{background:#f6f6f6;padding:1em;overflow-x:auto}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for kind, content in blocks:
        if kind in ("h2", "h3", "p"):
            parts.append(f"<{kind}>{html.escape(str(content))}</{kind}>")
        elif kind == "pre":
            parts.append(f"<pre>{html.escape(str(content))}</pre>")
        elif kind == "table":
            header, rows = content
            parts.append("<table><tr>" + "".join(
                f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
            for row in rows:
                parts.append("<tr>" + "".join(
                    f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>")
            parts.append("</table>")
        elif kind == "img":
            parts.append(_inline_image(Path(content)))
        else:
            raise ValueError(f"Unknown block kind {kind!r}; use h2, h3, p, pre, table or img.")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- example scripts
def add_example_arguments(
    parser: argparse.ArgumentParser,
    *,
    backbones: Sequence[str],
    epochs: int,
    batch_size: int,
    image_size: int,
) -> argparse.ArgumentParser:
    """The options every script of ``examples/`` shares.

    ``--data-dir`` (the real data) or ``--smoke`` (small synthetic data in the same
    on-disk format, the tiny CNN, one or two epochs), ``--out`` and ``--force`` (see
    :class:`OutputDir`), ``--backbone`` (repeat for several; ``tiny`` or any
    ``keras.applications`` name), ``--weights`` (a local file per backbone, or none:
    nothing is downloaded), ``--epochs``, ``--batch-size``, ``--image-size``, ``--seed``
    and ``--quiet`` (no progress bars).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    backbones : sequence of str
        Default backbones with ``--data-dir``.
    epochs, batch_size, image_size : int
        Defaults with ``--data-dir``.

    Returns
    -------
    argparse.ArgumentParser
        ``parser``.
    """
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data-dir", metavar="DIR", help="folder of the real dataset")
    source.add_argument("--smoke", action="store_true",
                        help="run on small synthetic data in the same format (seconds; for CI)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="results folder: new, empty, or written by an earlier run")
    parser.add_argument("--force", action="store_true",
                        help="replace the files an earlier run wrote in --out (only those)")
    parser.add_argument("--backbone", action="append", metavar="NAME",
                        help="'tiny' or a keras.applications name; repeat for several "
                        f"(default: {' '.join(backbones)}; with --smoke: tiny)")
    parser.add_argument("--weights", action="append", metavar="FILE|none",
                        help="local weights file of each --backbone (no top), or none "
                        "(default: none, random initialisation; never downloaded)")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"epochs (default: {epochs}; with --smoke: 1)")
    parser.add_argument("--batch-size", type=int, default=batch_size,
                        help="examples per batch (default: %(default)s)")
    parser.add_argument("--image-size", type=int, default=None,
                        help=f"input height and width (default: {image_size}; with --smoke: 32)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(_defaults={"backbones": list(backbones), "epochs": epochs,
                                   "image_size": image_size})
    return parser


def resolve_example_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the smoke or real-data defaults and pair every backbone with its weights.

    Raises
    ------
    ValueError
        If ``--weights`` is given a different number of times than ``--backbone``.
    """
    defaults = args._defaults
    if args.backbone is None:
        args.backbone = ["tiny"] if args.smoke else list(defaults["backbones"])
    if args.epochs is None:
        args.epochs = 1 if args.smoke else defaults["epochs"]
    if args.image_size is None:
        args.image_size = 32 if args.smoke else defaults["image_size"]
    weights = args.weights or ["none"] * len(args.backbone)
    if len(weights) != len(args.backbone):
        raise ValueError(
            f"Give --weights once per --backbone ({len(args.backbone)}), or not at all; "
            f"got {len(weights)}."
        )
    args.weights = [None if w.lower() == "none" else w for w in weights]
    args.verbose = 0 if args.quiet else "auto"
    return args
