"""``python -m benchmarks --suite NAME|all [--quick|--tiny] [--out DIR | --update-results]``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import shlex
import sys
import time
from collections.abc import Callable

from benchmarks import SUITES
from benchmarks._common import machine_line, write_results

#: The committed figures that ``docs/benchmarks.rst`` is rendered from; a run rewrites
#: them only with ``--update-results``.
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
#: The page ``--docs`` renders: the repository's, whatever the current folder.
DOCS_PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "docs", "benchmarks.rst")
#: Each run without ``--out`` writes into a new folder under this one.
DEFAULT_OUT = "benchmark-results"

#: What each suite needs beyond the ``bench`` extra.
NEEDS = {
    "samplers": [("tensorflow", "TensorFlow: pip install 'fairtrain[tensorflow]'")],
    "metrics": [("fairlearn", "fairlearn"), ("pandas", "pandas")],
    "training": [("PIL", "Pillow")],
    "streaming": [("fairlearn", "fairlearn"), ("pandas", "pandas")],
}


def _missing(suite: str) -> str | None:
    for module, what in NEEDS.get(suite, []):
        if importlib.util.find_spec(module) is None:
            return what
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if suite in ("training", "streaming") and backend == "tensorflow" and not (
            importlib.util.find_spec("tensorflow")):
        return "a Keras backend: set KERAS_BACKEND=jax or torch, or install TensorFlow"
    return None


def _new_folder() -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path, n = os.path.join(DEFAULT_OUT, stamp), 1
    while os.path.lexists(path):
        n += 1
        path = os.path.join(DEFAULT_OUT, f"{stamp}-{n}")
    return path


def _destination(args: argparse.Namespace, parser: argparse.ArgumentParser
                 ) -> tuple[str, Callable[[str], str], Callable[[], None]]:
    """The results folder, the path of each file written there, and a "finished" mark."""
    if args.update_results:  # the committed figures: replaced file by file, on request only
        os.makedirs(RESULTS, exist_ok=True)
        return RESULTS, lambda name: os.path.join(RESULTS, name), lambda: None
    from fairtrain.experiments import OutputDir, OutputError

    folder = args.out if args.out is not None else _new_folder()
    try:
        out = OutputDir(folder, force=args.force, tool="python -m benchmarks")
    except OutputError as exc:
        parser.error(exc.for_command_line())

    def claim(name: str) -> str:
        try:
            return str(out.path(name))
        except OutputError as exc:
            parser.error(exc.for_command_line())

    return folder, claim, out.finish


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description="fairtrain's benchmark suites")
    parser.add_argument("--suite", default="all", choices=[*SUITES, "all"])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="minutes: the CPU preset")
    size.add_argument("--tiny", action="store_true", help="seconds: checks the suites run")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", default=None, metavar="DIR",
                       help="folder for <suite>.json and <suite>.md: new, empty, or written "
                       "by an earlier run (with --force) (default: a new folder "
                       f"{DEFAULT_OUT}/<UTC date-time>)")
    where.add_argument("--update-results", action="store_true",
                       help="rewrite the committed figures in benchmarks/results/ (only "
                       "the files of the suites run)")
    parser.add_argument("--force", action="store_true",
                        help="replace the files an earlier run wrote in --out (only those)")
    parser.add_argument("--docs", action="store_true",
                        help="only render docs/benchmarks.rst from the JSON in --out "
                        "(default: the committed benchmarks/results/)")
    args = parser.parse_args(argv)
    if args.docs:
        from benchmarks._docs import write

        source = args.out if args.out is not None else RESULTS
        target = DOCS_PAGE
        write(source, target)
        print(f"wrote {target} from {source}")
        return 0
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)
    env_backend = os.environ.get("KERAS_BACKEND")
    if env_backend:
        command = f"KERAS_BACKEND={env_backend} " + command
    suites = SUITES if args.suite == "all" else (args.suite,)
    missing = {name: _missing(name) for name in suites}
    if args.suite != "all" and missing[args.suite]:
        parser.error(f"suite {args.suite!r} needs {missing[args.suite]}")
    # Every file is claimed before the first suite runs: a refusal costs no benchmark time.
    folder, claim, finish = _destination(args, parser)
    paths = {name: (claim(f"{name}.json"), claim(f"{name}.md"))
             for name in suites if not missing[name]}
    for name in suites:
        if missing[name]:
            print(f"## {name}: skipped, suite {name!r} needs {missing[name]}\n", flush=True)
            continue
        print(f"## {name} ({mode})\n", flush=True)
        start = time.perf_counter()
        module = importlib.import_module(f"benchmarks.{name}")
        tables, extra = module.run(mode)
        elapsed = time.perf_counter() - start
        doc = write_results(paths[name][0], name, mode, command,
                            tables, {**extra, "seconds": elapsed})
        text = "\n\n".join(t.markdown() for t in tables)
        footer = (f"`{command}` — {machine_line(doc['machine'])}; {doc['machine']['date_utc']}"
                  f" UTC, {elapsed:.0f} s.")
        with open(paths[name][1], "w") as f:
            f.write(f"{text}\n\n{footer}\n")
        print(f"\n{text}\n\n{footer}\n", flush=True)
    finish()  # a run that stopped half-way is replaced by the next without --force
    print(f"results in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
