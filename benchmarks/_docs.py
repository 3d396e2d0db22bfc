"""Render ``docs/benchmarks.rst`` from the JSON results (``python -m benchmarks --docs``)."""

from __future__ import annotations

import json
import os
from typing import Any

from benchmarks import SUITES
from benchmarks._common import machine_line

INTRO = """\
Benchmarks
==========

fairtrain promises that fairness costs nothing in speed: a sampled pipeline as fast as an
unsampled one, metrics far faster than fairlearn, and planning that scales far past
millions of images. ``benchmarks/`` measures each promise against a baseline run on the
same machine in the same process, methods interleaved, every figure the median (min–max)
over repetitions. How to read every column: ``benchmarks/README.md``.

.. code-block:: bash

   pip install -e ".[bench,tensorflow]"
   python -m benchmarks --suite all --quick      # the CPU preset
   KERAS_BACKEND=jax python -m benchmarks --suite training   # GPU, no TensorFlow needed

This page is generated from the committed JSON results (``benchmarks/results/``, rewritten
by ``python -m benchmarks --update-results``) by ``python -m benchmarks --docs``. Each
section names its machine; a load average above the number of CPUs means other jobs
shared them, which widens the min–max ranges (the ratios, measured pairwise in the same
round, are the figures to compare).

**Which tf.data mode to pick.** When ``load`` can take a whole batch of indices (a
gather from arrays in memory, a lookup table, ``tf.map_fn`` over a decode), pass
``vectorized=True`` to :func:`fairtrain.data.to_tf_dataset`: tf.data's per-element
``map`` costs tens of microseconds an example, the plan almost nothing, so the
vectorised mode runs at or above the map-free ceiling while the per-example mode is
bound by the with-map one. With an expensive per-example decode (JPEG) both modes are
decode-bound and the per-example mode spreads the decode over parallel calls.
"""

TITLES = {
    "samplers": "Samplers through tf.data",
    "metrics": "Metrics and building the groups",
    "scaling": "Scaling of planning",
    "training": "Training throughput",
    "streaming": "Evaluating a dataset that does not fit in memory",
}


def _rst(text: str) -> str:
    """Escape the characters reStructuredText would read as markup in plain prose."""
    for char in ("\\", "|", "*", "`", "_"):
        text = text.replace(char, "\\" + char)
    return text


def _csv(cell: Any) -> str:
    text = _rst(str(cell)).replace('"', '""')
    return f'"{text}"'


def render(results_dir: str) -> str:
    parts = [INTRO]
    for suite in SUITES:
        path = os.path.join(results_dir, f"{suite}.json")
        title = TITLES[suite]
        parts += [title, "-" * len(title), ""]
        if not os.path.exists(path):
            parts += ["Not run yet on this machine.", ""]
            continue
        with open(path) as f:
            doc = json.load(f)
        info = doc["machine"]
        parts += [f"Command: ``{doc['command']}`` ({doc['mode']} preset, "
                  f"{doc.get('seconds', 0):.0f} s), {info['date_utc']} UTC.", "",
                  f"Machine: {_rst(machine_line(info))}.", ""]
        for table in doc["tables"]:
            parts += [f".. csv-table:: {_rst(table['title'])}",
                      "   :header: " + ", ".join(_csv(c) for c in table["columns"]), ""]
            parts += ["   " + ", ".join(_csv(c) for c in row) for row in table["rows"]]
            parts.append("")
            if table.get("note"):
                parts += [_rst(table["note"]), ""]
    return "\n".join(parts).rstrip() + "\n"


def write(results_dir: str, path: str) -> None:
    with open(path, "w") as f:
        f.write(render(results_dir))
