"""The ``fairtrain`` command line: ``fairtrain plugins`` and the other subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fairtrain`` command line."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
