"""Command-line arguments the example scripts share (`--data-dir`, `--smoke`, `--out`, ...)."""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Sequence
from typing import Any

__all__ = [
    "add_example_arguments",
    "check_installed",
    "example_settings",
    "positive_int",
    "resolve_example_arguments",
]

#: What every example imports, by module, with the distribution that provides it.
EXAMPLE_MODULES = {"tensorflow": "tensorflow", "PIL": "pillow", "matplotlib": "matplotlib"}
#: The optional modules an example may need, with their distributions.
OPTIONAL_MODULES = {"sklearn": "scikit-learn", "tensorflow_datasets": "tensorflow-datasets",
                    "fairlearn": "fairlearn"}


def positive_int(text: str) -> int:
    """An ``argparse`` type: a whole number of at least 1 (epochs, batch size, ...).

    Parameters
    ----------
    text : str
        The option's value as typed.

    Returns
    -------
    int

    Raises
    ------
    argparse.ArgumentTypeError
        If ``text`` is not a whole number or is below 1; ``argparse`` prints it beside
        the option's name and exits with status 2, before anything is trained.

    Examples
    --------
    >>> positive_int("3")
    3
    >>> positive_int("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a positive integer; got 0
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {value}")
    return value

def add_example_arguments(
    parser: argparse.ArgumentParser,
    *,
    backbones: Sequence[str] | None,
    epochs: int,
    batch_size: int,
    image_size: int | None,
    needs: Sequence[str] = (),
) -> argparse.ArgumentParser:
    """The options every script of ``examples/`` shares.

    ``--data-dir`` (the real data) or ``--smoke`` (small synthetic data in the same
    on-disk format, the tiny CNN, one or two epochs), ``--out`` and ``--force`` (see
    :class:`OutputDir`), ``--backbone`` (repeat for several; ``tiny`` or any
    ``keras.applications`` name), ``--weights`` (per backbone: ``imagenet``, which Keras
    downloads and caches, a local no-top file, or ``none``, the default), ``--epochs``,
    ``--batch-size``, ``--image-size`` (each a :func:`positive_int`: 0 is refused while
    parsing, before anything is trained), ``--seed`` and ``--quiet`` (no progress bars).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    backbones : sequence of str or None
        Default backbones with ``--data-dir``; None for a script without backbones
        (a tabular model): no ``--backbone`` and ``--weights`` then.
    epochs, batch_size : int
        Defaults with ``--data-dir``.
    image_size : int or None
        Default with ``--data-dir``; None for a script without images: no
        ``--image-size`` then.
    needs : sequence of str, default ()
        Modules the script imports beyond TensorFlow, Pillow and matplotlib (e.g.
        ``"sklearn"``); :func:`resolve_example_arguments` checks them all before any
        work.

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
    if backbones is not None:
        parser.add_argument("--backbone", action="append", metavar="NAME",
                            help="'tiny' or a keras.applications name; repeat for several "
                            f"(default: {' '.join(backbones)}; with --smoke: tiny)")
        parser.add_argument("--weights", action="append", metavar="imagenet|FILE|none",
                            help="weights of each --backbone: imagenet (Keras downloads "
                                 "and caches them), a local no-top weights file, or none "
                                 "(default: none, random initialisation)")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help=f"epochs (default: {epochs}; with --smoke: 1)")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                        help="examples per batch (default: %(default)s)")
    if image_size is not None:
        parser.add_argument("--image-size", type=positive_int, default=None,
                            help=f"input height and width (default: {image_size}; "
                                 "with --smoke: 32)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(_defaults={
        "backbones": None if backbones is None else list(backbones), "epochs": epochs,
        "image_size": image_size, "needs": list(needs)})
    return parser


def resolve_example_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the smoke or real-data defaults and pair every backbone with its weights.

    Without backbones (``backbones=None`` in :func:`add_example_arguments`) only the
    epochs, image size and verbosity are filled.

    Raises
    ------
    ValueError
        If ``--weights`` is given a different number of times than ``--backbone``.
    SystemExit
        If a module the script needs is not installed (checked before any data is
        written or any model trained); the message names the extra to install.
    """
    defaults = args._defaults
    check_installed([*EXAMPLE_MODULES, *defaults.get("needs", ())])
    if args.epochs is None:
        args.epochs = 1 if args.smoke else defaults["epochs"]
    if defaults["image_size"] is not None and args.image_size is None:
        args.image_size = 32 if args.smoke else defaults["image_size"]
    args.verbose = 0 if args.quiet else "auto"
    if defaults["backbones"] is None:
        return args
    if args.backbone is None:
        args.backbone = ["tiny"] if args.smoke else list(defaults["backbones"])
    weights = args.weights or ["none"] * len(args.backbone)
    if len(weights) != len(args.backbone):
        raise ValueError(
            f"Give --weights once per --backbone ({len(args.backbone)}), or not at all; "
            f"got {len(weights)}."
        )
    args.weights = [None if w.lower() == "none" else w for w in weights]
    return args


def check_installed(modules: Sequence[str]) -> None:
    """Exit with one message naming every missing module and the extra that brings it.

    Nothing is imported (``importlib.util.find_spec``), so the check costs milliseconds
    where the imports would cost seconds: a script calls it before any work, not after
    training.

    Parameters
    ----------
    modules : sequence of str
        Top-level module names, e.g. ``["tensorflow", "sklearn"]``.

    Raises
    ------
    SystemExit
        If one is not installed; the message names it, its distribution and
        ``pip install "fairtrain[examples]"``.
    """
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        names = {**EXAMPLE_MODULES, **OPTIONAL_MODULES}
        shown = ", ".join(f"{names.get(m, m)} (module {m})" for m in missing)
        raise SystemExit(
            f"error: this example needs {shown}, which is not installed. Install the "
            "examples' dependencies: pip install -e \".[examples]\" in a clone of the "
            "repository, or pip install \"fairtrain[examples]\"."
        )


def example_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The options of a run, for its summary: the parsed arguments without internals.

    Leaves out the parser's own bookkeeping (names starting with ``_``) and ``verbose``
    (derived from ``--quiet``, which is kept).

    Examples
    --------
    >>> import argparse
    >>> example_settings(argparse.Namespace(epochs=1, _defaults={}, verbose=0, quiet=True))
    {'epochs': 1, 'quiet': True}
    """
    return {k: v for k, v in vars(args).items() if not k.startswith("_") and k != "verbose"}
