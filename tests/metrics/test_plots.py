"""Plots draw what they say (Agg backend, no display) and name the extra when missing."""

from __future__ import annotations

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from fairtrain.metrics import bias_report, confusion_by_group, plots  # noqa: E402

CLASSES = ["African", "Asian", "Latin/Caucasian", "Indian"]


def test_confusion_heat_map_has_labels_and_values(tmp_path):
    yt = np.array(CLASSES)[[0, 0, 1, 2, 2, 3]]
    yp = np.array(CLASSES)[[0, 1, 1, 2, 2, 2]]
    cm = confusion_by_group(yt, yp, {"e": yt}, labels=CLASSES)
    ax = plots.plot_confusion(cm, normalize="true")
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASSES
    assert [t.get_text() for t in ax.get_yticklabels()] == CLASSES
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "real"
    texts = [t.get_text() for t in ax.texts]
    assert texts[:4] == ["0.50", "0.50", "0.00", "0.00"]
    raw = plots.plot_confusion(cm, group="Indian")
    assert [t.get_text() for t in raw.texts][-4:] == ["0", "0", "1", "0"]
    fig = plots.plot_confusion_pair(cm, title="ethnicity")
    path = tmp_path / "cm.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 4  # two matrices, two colour bars


def test_bar_chart_draws_one_bar_per_group_and_the_overall_line():
    report = bias_report([1.0, 2, 3, 4, 5, 6], [1.0, 1, 1, 1, 1, 1],
                         {"g": ["a", "a", "b", "b", "c", "c"]}, min_count=1, n_bootstrap=5)
    ax = plots.plot_by_group(report, "g")
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, report["g"].values)
    lines = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(lines) == 1 and lines[0].get_ydata()[0] == pytest.approx(report.overall)
    assert "pairwise bias" in ax.get_title()
    ax2 = plots.plot_by_group({"x": 1.0, "y": 2.0}, overall=1.5, metric="mae")
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["x", "y"]


def test_training_curves_mark_stage_boundaries():
    history = {"loss": [1.0, 0.8, 0.6, 0.5, 0.45], "val_loss": [1.1, 0.9, 0.8, 0.7, 0.72]}
    ax = plots.plot_training_curves(history, ["head", "head", "backbone", "all", "all"])
    dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert [line.get_xdata()[0] for line in dotted] == [2.5, 3.5]
    assert [t.get_text() for t in ax.texts] == ["head", "backbone", "all"]
    with pytest.raises(ValueError, match="one stage per epoch"):
        plots.plot_training_curves(history, ["head"])
    with pytest.raises(ValueError, match="Unknown history keys"):
        plots.plot_training_curves(history, keys=["acc"])


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"fairtrain\[plot\]"):
        plots.plot_by_group({"a": 1.0, "b": 2.0})
