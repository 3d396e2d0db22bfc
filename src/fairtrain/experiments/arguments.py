"""Command-line arguments the example scripts share (`--data-dir`, `--smoke`, `--out`, ...)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["add_example_arguments", "resolve_example_arguments"]

def add_example_arguments(
    parser: argparse.ArgumentParser,
    *,
    backbones: Sequence[str] | None,
    epochs: int,
    batch_size: int,
    image_size: int | None,
) -> argparse.ArgumentParser:
    """The options every script of ``examples/`` shares.

    ``--data-dir`` (the real data) or ``--smoke`` (small synthetic data in the same
    on-disk format, the tiny CNN, one or two epochs), ``--out`` and ``--force`` (see
    :class:`OutputDir`), ``--backbone`` (repeat for several; ``tiny`` or any
    ``keras.applications`` name), ``--weights`` (per backbone: ``imagenet``, which Keras
    downloads and caches, a local no-top file, or ``none``, the default), ``--epochs``,
    ``--batch-size``, ``--image-size``, ``--seed`` and ``--quiet`` (no progress bars).

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
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"epochs (default: {epochs}; with --smoke: 1)")
    parser.add_argument("--batch-size", type=int, default=batch_size,
                        help="examples per batch (default: %(default)s)")
    if image_size is not None:
        parser.add_argument("--image-size", type=int, default=None,
                            help=f"input height and width (default: {image_size}; "
                                 "with --smoke: 32)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(_defaults={
        "backbones": None if backbones is None else list(backbones), "epochs": epochs,
        "image_size": image_size})
    return parser


def resolve_example_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the smoke or real-data defaults and pair every backbone with its weights.

    Without backbones (``backbones=None`` in :func:`add_example_arguments`) only the
    epochs, image size and verbosity are filled.

    Raises
    ------
    ValueError
        If ``--weights`` is given a different number of times than ``--backbone``.
    """
    defaults = args._defaults
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
