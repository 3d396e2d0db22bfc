"""Summaries of a run: per-group tables, confusion matrices, Markdown and HTML reports."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["classification_summary", "html_report", "markdown_table"]

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
        "confusion_normalized": normalize_confusion(confusion.overall, normalize="true"),
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
