"""The benchmark suite runs end to end in its tiny mode, so that it cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    Table,
    fitted_exponent,
    interleaved,
    ratio_summary,
    summary,
)

from benchmarks import SUITES  # noqa: E402


def run_suite(suite, out, env=None):
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--suite", suite, "--tiny", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, json.loads((out / f"{suite}.json").read_text())


def test_summary_is_median_min_max():
    s = summary([3.0, 1.0, 2.0, 10.0])
    assert (s["median"], s["min"], s["max"]) == (2.5, 1.0, 10.0)
    assert ratio_summary([2.0, 6.0], [1.0, 3.0])["values"] == [2.0, 2.0]
    with pytest.raises(ValueError):
        summary([])


def test_interleaved_runs_every_method_each_round_in_rotating_order():
    calls = []
    res = interleaved({m: (lambda m=m: calls.append(m) or len(calls)) for m in "abc"}, 3)
    assert calls == list("abc" "bca" "cab")
    assert {k: len(v) for k, v in res.items()} == {"a": 3, "b": 3, "c": 3}


def test_fitted_exponent_recovers_a_power_law():
    x = np.array([1e5, 1e6, 1e7])
    assert fitted_exponent(x, 3e-8 * x**1.0) == pytest.approx(1.0)
    assert fitted_exponent(x, 5 * x**0.5) == pytest.approx(0.5)
    assert np.isnan(fitted_exponent([1e6], [1.0]))


def test_table_markdown_has_header_alignment_and_rows():
    t = Table("T", ["a", "b"], [["x", "1"]], note="n")
    assert t.markdown().splitlines() == ["**T**", "", "| a | b |", "|---|---:|", "| x | 1 |",
                                         "", "n"]


@pytest.mark.slow  # a subprocess per suite, each importing TensorFlow
@pytest.mark.parametrize("suite", SUITES)
def test_every_suite_runs_in_tiny_mode_and_writes_json_and_markdown(suite, tmp_path):
    stdout, doc = run_suite(suite, tmp_path)
    assert doc["suite"] == suite and doc["mode"] == "tiny"
    assert doc["command"].endswith(f"--suite {suite} --tiny --out {tmp_path}")
    assert doc["machine"]["cpus"] >= 1
    assert doc["tables"] and all(t["rows"] for t in doc["tables"])
    for t in doc["tables"]:
        assert all(len(row) == len(t["columns"]) for row in t["rows"])
    assert "|---" in stdout and (tmp_path / f"{suite}.md").read_text().count("|---") >= 1
    if suite == "samplers":  # fairtrain's batches are exact
        fair = [r for r in doc["results"] if r["method"].startswith("fairtrain")]
        assert len(fair) == 12 and all(r["outside_floor_ceil"] == 0 for r in fair)
    if suite == "metrics":
        assert all(r["max_rel_diff"] <= 1e-9 for r in doc["bias_report"])
        inputs = {r["input"] for r in doc["groups"]}
        assert {"NumPy str arrays", "pandas object columns",
                "pandas category columns"} < inputs and len(inputs) == 4
    if suite == "streaming":  # the three methods agree, and streaming holds one batch
        assert {r["method"] for r in doc["results"]} == {
            "evaluate (streamed)", "predict + bias_report", "predict + MetricFrame"}
        assert all(r["max_abs_diff"] <= 1e-9 for r in doc["results"])
        peak = {(r["rows"], r["method"]): r["peak_traced_bytes"] for r in doc["results"]}
        rows = sorted({n for n, _ in peak})
        assert peak[rows[-1], "evaluate (streamed)"] < peak[rows[-1], "predict + bias_report"]


@pytest.mark.slow
def test_training_suite_runs_on_jax_without_importing_tensorflow(tmp_path):
    pytest.importorskip("jax")
    _, doc = run_suite("training", tmp_path, env={"KERAS_BACKEND": "jax"})
    assert doc["backend"] == "jax"
    assert doc["tensorflow_imported"] is False
    assert {r["adapter"] for r in doc["results"]} == {"PyDataset"}
    assert doc["command"].startswith("KERAS_BACKEND=jax python -m benchmarks")


def test_groups_table_refuses_groups_with_other_cells_than_pandas():
    import benchmarks.metrics as m

    import fairtrain as ft

    a = np.array(["x", "y", "x", "y"])
    b = np.array(["u", "u", "v", "v"])
    m.check_same_cells(ft.Groups.from_columns({"a": a, "b": b}), a, b, "ok")
    with pytest.raises(RuntimeError, match="not the same cells"):
        m.check_same_cells(ft.Groups.from_columns({"a": a}), a, b, "one attribute")


def test_docs_page_renders_every_table_as_escaped_csv(tmp_path):
    from benchmarks._common import write_results
    from benchmarks._docs import render

    table = Table("Sizes | N", ["a", "b"], [["x*", "1"]], note="Σ_g |count_g| / 2")
    write_results(str(tmp_path / "metrics.json"), "metrics", "tiny", "python -m benchmarks",
                  [table], {"seconds": 1.0})
    page = render(str(tmp_path))
    assert ".. csv-table:: Sizes \\| N" in page
    assert '"x\\*", "1"' in page
    assert "Σ\\_g \\|count\\_g\\| / 2" in page
    assert page.count("Not run yet") == len(SUITES) - 1


def test_fairlearn_is_timed_interleaved_with_fairtrain_and_warmed_up(monkeypatch):
    """The baseline runs in the same rounds as fairtrain (not all after it), and its
    first timed call does not pay its imports."""
    import benchmarks.metrics as m

    calls = []

    def fake(name):
        def values(data, groups=None):
            calls.append((name, len(data["y_true"])))
            return {"overall": 1.0}
        return values

    monkeypatch.setattr(m, "fairtrain_values", fake("fairtrain"))
    monkeypatch.setattr(m, "fairlearn_values", fake("fairlearn"))
    monkeypatch.setattr(m, "timed", lambda fn: (1.0, fn()))
    m._report_row(5000, 3)
    warm = [i for i, (name, n) in enumerate(calls) if name == "fairlearn" and n < 5000]
    assert warm and warm[0] < calls.index(("fairlearn", 5000))
    full = [name for name, n in calls if n == 5000]
    first_fl = full.index("fairlearn")
    # fairlearn's timed runs sit between fairtrain's, not all after them.
    last_ft = max(i for i, name in enumerate(full) if name == "fairtrain")
    assert first_fl < last_ft


def _committed_results():
    return {p.name: p.read_bytes() for p in (ROOT / "benchmarks" / "results").iterdir()}


def test_default_out_is_a_new_folder_and_never_the_committed_results(tmp_path, monkeypatch):
    # issue 19 §2: the default --out was benchmarks/results, the committed figures
    from benchmarks.__main__ import main

    before = _committed_results()
    monkeypatch.chdir(tmp_path)
    assert main(["--suite", "scaling", "--tiny"]) == 0
    assert main(["--suite", "scaling", "--tiny"]) == 0     # twice: a second new folder
    assert _committed_results() == before
    runs = sorted((tmp_path / "benchmark-results").iterdir())
    assert len(runs) == 2
    for run in runs:
        assert json.loads((run / "scaling.json").read_text())["suite"] == "scaling"
    assert [p.name for p in tmp_path.iterdir()] == ["benchmark-results"]


def test_out_never_replaces_a_file_the_benchmarks_did_not_write(tmp_path):
    from benchmarks.__main__ import main

    (tmp_path / "scaling.json").write_text("the user's file")
    for force in ([], ["--force"]):
        with pytest.raises(SystemExit):
            main(["--suite", "scaling", "--tiny", "--out", str(tmp_path), *force])
    assert (tmp_path / "scaling.json").read_text() == "the user's file"


def test_committed_results_are_rewritten_only_when_asked(tmp_path, monkeypatch):
    import benchmarks.__main__ as entry

    committed = tmp_path / "committed"
    committed.mkdir()
    (committed / "metrics.json").write_text("{}")          # another suite's figures stay
    monkeypatch.setattr(entry, "RESULTS", str(committed))
    assert entry.main(["--suite", "scaling", "--tiny", "--update-results"]) == 0
    assert json.loads((committed / "scaling.json").read_text())["suite"] == "scaling"
    assert (committed / "metrics.json").read_text() == "{}"
    with pytest.raises(SystemExit):
        entry.main(["--suite", "scaling", "--tiny", "--update-results", "--out", "x"])


def test_docs_renders_the_repository_page_whatever_the_current_folder(tmp_path, monkeypatch):
    # --docs wrote "docs/benchmarks.rst" relative to the current folder: run from a
    # project of the user's, it replaced that project's own docs/benchmarks.rst
    import benchmarks._docs
    from benchmarks.__main__ import main

    mine = tmp_path / "docs" / "benchmarks.rst"
    mine.parent.mkdir()
    mine.write_text("the user's page")
    calls = []
    monkeypatch.setattr(benchmarks._docs, "write", lambda source, target: calls.append(target))
    monkeypatch.chdir(tmp_path)
    assert main(["--docs"]) == 0
    assert calls == [str(ROOT / "docs" / "benchmarks.rst")]
    assert mine.read_text() == "the user's page"


def test_the_streaming_baseline_uses_no_fairtrain_object(monkeypatch):
    """The fairlearn baseline is what a user without fairtrain runs: labels, plain
    attribute codes and MetricFrame; building fairtrain's Groups is fairtrain's cost."""
    pytest.importorskip("fairlearn")
    pytest.importorskip("keras")
    import benchmarks.streaming as s

    from fairtrain.metrics import GroupSpec

    built = []
    real = s.as_groups
    monkeypatch.setattr(s, "as_groups", lambda codes: built.append(1) or real(codes))
    size = {**s.SIZES["tiny"], "fairlearn_max": 600}
    spec = GroupSpec.from_levels({"ethnicity": range(4), "gender": range(2)})
    methods = s._methods(600, size, s.make_model(), spec, None)
    baseline = methods["predict + MetricFrame"]()
    assert built == []
    ours = methods["predict + bias_report"]()
    assert built == [1]
    assert max(abs(baseline[k] - ours[k]) for k in ours) <= 1e-9
