"""``python -m benchmarks --suite NAME|all [--quick|--tiny] [--out DIR]``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import shlex
import sys
import time

from benchmarks import SUITES
from benchmarks._common import machine_line, write_results

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description="fairtrain's benchmark suites")
    parser.add_argument("--suite", default="all", choices=[*SUITES, "all"])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="minutes: the CPU preset")
    size.add_argument("--tiny", action="store_true", help="seconds: checks the suites run")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"),
                        help="folder for <suite>.json and <suite>.md (default: %(default)s)")
    parser.add_argument("--docs", action="store_true",
                        help="only render docs/benchmarks.rst from the JSON in --out")
    args = parser.parse_args(argv)
    if args.docs:
        from benchmarks._docs import write

        target = os.path.join("docs", "benchmarks.rst")
        write(args.out, target)
        print(f"wrote {target} from {args.out}")
        return 0
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)
    env_backend = os.environ.get("KERAS_BACKEND")
    if env_backend:
        command = f"KERAS_BACKEND={env_backend} " + command
    suites = SUITES if args.suite == "all" else (args.suite,)
    for name in suites:
        missing = _missing(name)
        if missing:
            msg = f"suite {name!r} needs {missing}"
            if args.suite != "all":
                parser.error(msg)
            print(f"## {name}: skipped, {msg}\n", flush=True)
            continue
        print(f"## {name} ({mode})\n", flush=True)
        start = time.perf_counter()
        module = importlib.import_module(f"benchmarks.{name}")
        tables, extra = module.run(mode)
        elapsed = time.perf_counter() - start
        doc = write_results(os.path.join(args.out, f"{name}.json"), name, mode, command,
                            tables, {**extra, "seconds": elapsed})
        text = "\n\n".join(t.markdown() for t in tables)
        footer = (f"`{command}` — {machine_line(doc['machine'])}; {doc['machine']['date_utc']}"
                  f" UTC, {elapsed:.0f} s.")
        with open(os.path.join(args.out, f"{name}.md"), "w") as f:
            f.write(f"{text}\n\n{footer}\n")
        print(f"\n{text}\n\n{footer}\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
