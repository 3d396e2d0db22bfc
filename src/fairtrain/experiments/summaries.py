"""Summaries of a run: per-group tables, confusion matrices, Markdown and HTML reports."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = [
    "classification_summary",
    "clustered_wilson_interval",
    "html_report",
    "markdown_table",
    "wilson_interval",
]


def wilson_interval(
    successes: float, n: float, *, confidence: float = 0.95
) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n``.

    Parameters
    ----------
    successes : float
        Number of successes, in ``[0, n]`` (need not be whole when ``n`` is an
        effective sample size).
    n : float
        Number of trials (positive).
    confidence : float, default 0.95
        Confidence level, in (0, 1).

    Returns
    -------
    (low, high) : tuple of float
        Within ``[0, 1]``; never of zero width, also at ``p = 0`` and ``p = 1``.

    Notes
    -----
    With ``p = successes / n`` and ``z`` the ``(1 + confidence) / 2`` normal quantile:
    ``(p + z²/(2n) ± z sqrt(p(1-p)/n + z²/(4n²))) / (1 + z²/n)`` (Wilson, 1927).
    Unlike a percentile bootstrap, it does not collapse to a point when every trial
    succeeds (or fails).

    Examples
    --------
    >>> lo, hi = wilson_interval(48, 48)
    >>> round(lo, 3), hi
    (0.926, 1.0)
    >>> [round(x, 3) for x in wilson_interval(0, 8)]
    [0.0, 0.324]
    """
    if not n > 0 or not 0 <= successes <= n:
        raise ValueError(f"Need 0 <= successes <= n and n > 0; got {successes} of {n}.")
    if not 0 < confidence < 1:
        raise ValueError(f"`confidence` must lie in (0, 1); got {confidence!r}.")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # exactly 0 and 1 at the ends (rounding would leave 1 - 1e-16 above p = 1)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def clustered_wilson_interval(
    correct: Any, clusters: Any = None, *, confidence: float = 0.95
) -> dict[str, float]:
    """Wilson interval of a share of successes whose trials come in clusters (identities).

    Images of one identity are not independent trials: the interval is taken over an
    effective number of trials ``n / deff`` (Kish's design effect ``deff``).

    Parameters
    ----------
    correct : array-like of bool, shape (n,)
        Success of every trial (image classified correctly); True/False or 1/0.
    clusters : array-like, shape (n,), optional
        The cluster (identity) of every trial. None: independent trials (``deff = 1``).
    confidence : float, default 0.95

    Returns
    -------
    dict
        ``correct``, ``n``, ``clusters`` (distinct clusters ``C``), ``design_effect``,
        ``effective_n``, ``low``, ``high``.

    Notes
    -----
    With ``p = k / n``, cluster ``c`` holding ``n_c`` trials of which ``k_c`` succeed and
    ``m = n / C`` trials per cluster on average, ``deff`` is the ratio of the
    cluster-robust variance ``C / (C - 1) · sum_c (k_c - p n_c)² / n²`` to the binomial
    variance ``p (1 - p) / n``, clipped to ``[1, m]`` (``m`` is the value when every
    cluster is all-or-nothing). When ``p`` is 0 or 1, or ``C < 2``, the data cannot show
    how alike a cluster's trials are and ``deff = m`` (each cluster counts once).

    Raises
    ------
    ValueError
        If ``correct`` is empty or holds values other than True/False (1/0), or
        ``clusters`` has not one entry per trial.

    Examples
    --------
    Eight identities of six images, all classified correctly: the interval is that of
    8 successes in 8 trials, not of 48 in 48.

    >>> out = clustered_wilson_interval([True] * 48, [i // 6 for i in range(48)])
    >>> out["effective_n"], round(out["low"], 3), out["high"]
    (8.0, 0.676, 1.0)
    """
    given = np.asarray(correct).reshape(-1)
    if given.dtype != bool and not (
        given.dtype.kind in "iuf" and np.isin(given, [0, 1]).all()
    ):
        # bool() of a class label or a score is True: a perfect classifier, silently
        raise ValueError(
            f"`correct` must hold True/False (or 1/0) per trial; got dtype {given.dtype}, "
            f"e.g. {given[:3].tolist()}. Pass y_true == y_pred, not the labels or scores."
        )
    ok = given.astype(bool)
    n = ok.size
    if n == 0:
        raise ValueError("`correct` is empty: a group without examples has no interval.")
    k = int(ok.sum())
    if clusters is None:
        n_clusters, deff = n, 1.0
    else:
        _, inverse = np.unique(np.asarray(clusters).reshape(-1), return_inverse=True)
        if inverse.size != n:
            raise ValueError(f"`clusters` must have one entry per trial ({n}); got {inverse.size}.")
        n_clusters = int(inverse.max()) + 1
        per_cluster = n / n_clusters
        p = k / n
        if n_clusters < 2 or k in (0, n):
            deff = per_cluster
        else:
            k_c = np.bincount(inverse, weights=ok.astype(float))
            n_c = np.bincount(inverse).astype(float)
            robust = n_clusters / (n_clusters - 1) * float(np.sum((k_c - p * n_c) ** 2)) / n**2
            deff = min(max(robust / (p * (1 - p) / n), 1.0), per_cluster)
    effective = n / deff
    low, high = wilson_interval(k / n * effective, effective, confidence=confidence)
    return {"correct": k, "n": n, "clusters": n_clusters, "design_effect": float(deff),
            "effective_n": float(effective), "low": low, "high": high}


def classification_summary(
    y_true: Any,
    y_pred: Any,
    groups: Any,
    labels: Sequence[Any],
    *,
    n_bootstrap: int = 0,
    seed: int = 0,
    min_count: int = 30,
    clusters: Any = None,
    confidence: float = 0.95,
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
        Bootstrap resamples. Without ``clusters``: of the examples, for the intervals
        of the per-group recall (those of :func:`~fairtrain.metrics.bias_report`).
        With ``clusters``: of the clusters within every group, for the interval of
        the pairwise bias.
    seed : int, default 0
        Bootstrap seed.
    min_count : int, default 30
        Groups with fewer examples are flagged.
    clusters : array-like, shape (n,), optional
        The unit examples come in (the identity of every face image). Given, the
        result gains ``intervals``: a :func:`clustered_wilson_interval` of every
        group's share of correct predictions (its recall when the group is one class,
        as with the ethnicity classifier), and the bootstrap resamples whole clusters.
    confidence : float, default 0.95
        Confidence level of ``intervals``.

    Returns
    -------
    dict
        ``labels``, ``confusion`` (counts, rows real, columns predicted),
        ``confusion_normalized`` (rows sum to one: the diagonal is each class's
        recall), ``recall`` (the :class:`~fairtrain.metrics.BiasReport` as a dict:
        macro recall per group and the bias), ``report`` (the BiasReport itself,
        not JSON-serialisable; drop it before writing) and, with ``clusters``,
        ``intervals``: per attribute, ``method``, ``confidence``, ``resampled``,
        ``n_bootstrap``, ``groups`` (each group's :func:`clustered_wilson_interval`)
        and ``pairwise_bias`` (the percentile interval over the cluster resamples, or
        None).

    Raises
    ------
    TypeError
        If ``n_bootstrap`` is not an integer.
    ValueError
        If ``n_bootstrap`` is negative, or ``clusters`` has not one entry per example.
    """
    from fairtrain.metrics import bias_report, confusion_by_group, normalize_confusion

    n_bootstrap = _check_resampling(n_bootstrap, clusters, y_true)
    confusion = confusion_by_group(y_true, y_pred, groups, labels=list(labels))
    report = bias_report(
        y_true, y_pred, groups, metric="recall", metric_kwargs={"average": "macro"},
        n_bootstrap=0 if clusters is not None else n_bootstrap, seed=seed,
        min_count=min_count,
    )
    out = {
        "labels": list(labels),
        "confusion": confusion.overall,
        "confusion_normalized": normalize_confusion(confusion.overall, normalize="true"),
        "recall": report.to_dict(),
        "report": report,
    }
    if clusters is not None:
        out["intervals"] = _intervals_by_attribute(
            y_true, y_pred, groups, clusters,
            confidence=confidence, n_bootstrap=n_bootstrap, seed=seed)
    return out


def _check_resampling(n_bootstrap: Any, clusters: Any, y_true: Any) -> int:
    """``n_bootstrap`` checked, with ``clusters`` (if given) one entry per example."""
    from numbers import Integral

    from fairtrain._validation import Interval, check

    n_bootstrap = check("n_bootstrap", n_bootstrap, Interval(Integral, 0, None))
    n_clusters, n_examples = np.size(clusters), np.size(y_true)
    if clusters is not None and n_clusters != n_examples:
        raise ValueError(
            f"`clusters` must give the cluster (identity) of every example: got "
            f"{n_clusters} entries for {n_examples} examples."
        )
    return n_bootstrap


def _intervals_by_attribute(y_true: Any, y_pred: Any, groups: Any, clusters: Any, *,
                            confidence: float, n_bootstrap: int,
                            seed: int) -> dict[str, dict[str, Any]]:
    """Every attribute's :func:`_intervals` of the share of correct predictions."""
    from fairtrain.groups import as_groups

    correct = np.asarray(y_true) == np.asarray(y_pred)
    return {
        name: _intervals(correct, view.codes, view.names, np.asarray(clusters),
                         confidence=confidence, n_bootstrap=n_bootstrap, seed=seed)
        for name, view in as_groups(groups).by_attribute().items()
    }


def _intervals(correct: np.ndarray, codes: np.ndarray, names: Sequence[str],
               clusters: np.ndarray, *, confidence: float, n_bootstrap: int,
               seed: int) -> dict[str, Any]:
    """One attribute's Wilson intervals and the cluster bootstrap of its pairwise bias."""
    from fairtrain.metrics import pairwise_bias

    groups = {name: clustered_wilson_interval(correct[codes == g], clusters[codes == g],
                                              confidence=confidence)
              for g, name in enumerate(names) if np.any(codes == g)}
    bias = None
    if n_bootstrap and len(groups) >= 2:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 19]))
        shares = []
        for g in range(len(names)):
            members = codes == g
            if not members.any():
                continue
            _, unit = np.unique(clusters[members], return_inverse=True)
            k_c = np.bincount(unit, weights=correct[members].astype(float))
            n_c = np.bincount(unit).astype(float)
            # resample whole clusters within the group: the group keeps its cluster count
            draw = rng.integers(0, k_c.size, size=(n_bootstrap, k_c.size))
            shares.append(k_c[draw].sum(axis=1) / n_c[draw].sum(axis=1))
        values = np.array([pairwise_bias(row) for row in np.stack(shares, axis=1)])
        tail = (1 - confidence) / 2
        bias = [float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))]
    return {
        "method": "Wilson score, effective sample size from the clusters (identities)",
        "confidence": confidence,
        "resampled": "the identities within every group" if n_bootstrap else None,
        "n_bootstrap": int(n_bootstrap),
        "groups": groups,
        "pairwise_bias": bias,
    }


# --------------------------------------------------------------------------- summaries
def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "nan" if not math.isfinite(value) else f"{value:.4f}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; floats with 4 decimals.

    A ``|`` in a cell is escaped with a backslash and a line break becomes a space, so every
    row keeps its columns.

    Examples
    --------
    >>> print(markdown_table(["group", "recall"], [["Asian", 0.5]]))
    | group | recall |
    |---|---|
    | Asian | 0.5000 |
    """
    def text(cell: str) -> str:  # a "|" or line break would end the cell or the row
        return cell.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(text(str(h)) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(text(_cell(v)) for v in row) + " |" for row in rows]
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
        # without it a phone lays the page out 980 px wide and cuts the table
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;"
        "padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:.3em .7em;text-align:right}"
        "th:first-child,td:first-child{text-align:left}img{max-width:100%;margin:.5em 0}"
        "pre{background:#f6f6f6;padding:1em;overflow-x:auto}.table{overflow-x:auto}"
        "</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for kind, content in blocks:
        if kind in ("h2", "h3", "p"):
            parts.append(f"<{kind}>{html.escape(str(content))}</{kind}>")
        elif kind == "pre":
            parts.append(f"<pre>{html.escape(str(content))}</pre>")
        elif kind == "table":
            header, rows = content
            # a wide table scrolls inside its box instead of running off a narrow screen
            parts.append('<div class="table"><table><tr>' + "".join(
                f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
            for row in rows:
                parts.append("<tr>" + "".join(
                    f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>")
            parts.append("</table></div>")
        elif kind == "img":
            parts.append(_inline_image(Path(content)))
        else:
            raise ValueError(f"Unknown block kind {kind!r}; use h2, h3, p, pre, table or img.")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- example scripts
