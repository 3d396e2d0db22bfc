import json
import re

import numpy as np
import pytest

from fairtrain import cli
from fairtrain.experiments import MANIFEST

pytest.importorskip("tensorflow")
pytest.importorskip("PIL")
pytest.importorskip("matplotlib")

SMALL = ["--identities", "60", "--images-per-identity", "3", "--epochs", "1",
         "--bootstrap", "10", "--quiet"]


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    options = re.findall(r"^  (--[a-z-]+)", text, flags=re.M)
    assert {"--out", "--force", "--seed", "--epochs", "--batch-size", "--learning-rate",
            "--identities", "--images-per-identity", "--bootstrap", "--quiet"} <= set(options)
    for option in options:  # every option has a help text on its line or the next
        line = re.search(rf"^  {option}[^\n]*\n([^\n]*)", text, flags=re.M)
        assert len(line.group(0).split()) > 2, option
    assert "manifest" in text and "--force" in text


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    assert cli.main(["demo", "--out", str(out), "--seed", "3", *SMALL]) == 0
    return out


def test_demo_writes_a_consistent_report(demo_out):
    report = json.loads((demo_out / "report.json").read_text())
    labels = report["labels"]
    assert labels == ["African", "Asian", "Latin/Caucasian", "Indian"]
    assert set(report["runs"]) == {"proportional", "homogeneous"}
    for strategy, run in report["runs"].items():
        cm = np.asarray(run["confusion"])
        norm = np.asarray(run["confusion_normalized"])
        assert cm.shape == (4, 4)
        assert cm.sum() == sum(report["counts"]["test"].values())
        np.testing.assert_allclose(norm.sum(axis=1), 1.0)
        groups = run["recall"]["attributes"]["ethnicity"]["groups"]
        # per-group recall is the diagonal of the row-normalised confusion matrix
        np.testing.assert_allclose([groups[g]["value"] for g in labels], np.diag(norm))
        values = np.array([groups[g]["value"] for g in labels])
        pairs = [abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]]
        bias = run["recall"]["attributes"]["ethnicity"]["bias"]["pairwise"]
        assert bias == pytest.approx(np.mean(pairs))
        assert report["bias"][strategy] == pytest.approx(bias)
        assert report["worst_group_recall"][strategy] == pytest.approx(values.min())
        assert len(run["history"]["loss"]) == 1
        check_intervals(run, labels, report["counts"]["test"])
    first = report["runs"]["homogeneous"]["first_batch_counts"]
    assert list(first.values()) == [16, 16, 16, 16]


def check_intervals(run, labels, test_counts):
    """The per-group intervals: Wilson's, from the counts, never of zero width."""
    stats = pytest.importorskip("scipy.stats")
    intervals = run["intervals"]["ethnicity"]
    cm = np.asarray(run["confusion"])
    assert intervals["resampled"] == "the identities within every group"
    for k, label in enumerate(labels):
        g = intervals["groups"][label]
        assert (g["correct"], g["n"]) == (cm[k, k], test_counts[label])
        assert 1 <= g["clusters"] <= g["n"] and g["low"] < g["high"]  # 0 and 1 included
        assert g["effective_n"] == pytest.approx(g["n"] / g["design_effect"])
        assert 1 <= g["design_effect"] <= g["n"] / g["clusters"] + 1e-12
        if g["correct"] in (0, g["n"]):  # each identity counts once
            successes = g["clusters"] if g["correct"] else 0
            ci = stats.binomtest(successes, g["clusters"]).proportion_ci(0.95, method="wilson")
            assert (g["low"], g["high"]) == pytest.approx((ci.low, ci.high))
    low, high = intervals["pairwise_bias"]
    assert 0 <= low <= high


def test_demo_report_numbers_epochs_and_flags_small_groups(demo_out):
    md = (demo_out / "report.md").read_text()
    assert "trained 1 epoch twice" in md and "1 epochs" not in md
    report = json.loads((demo_out / "report.json").read_text())
    groups = report["runs"]["proportional"]["recall"]["attributes"]["ethnicity"]["groups"]
    flagged = [g for g, v in groups.items() if v["flagged"]]
    assert flagged  # 60 identities: the minorities have fewer than 30 test images
    for name in flagged:
        assert f"| {name} * |" in md
    assert "fewer than 30 test images" in md
    # the intervals are Wilson's: no title calls them bootstrap intervals
    page = (demo_out / "report.html").read_text()
    assert "bootstrap intervals" not in page and "Wilson" in page
    assert "resamples the test identities" in md


def test_demo_html_fits_a_narrow_screen(demo_out):
    page = (demo_out / "report.html").read_text()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert page.count('<div class="table"><table>') == page.count("<table>") >= 1
    assert ".table{overflow-x:auto}" in page


def test_demo_html_is_self_contained_and_manifest_lists_every_file(demo_out):
    page = (demo_out / "report.html").read_text()
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 4 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<link" not in page
    manifest = json.loads((demo_out / MANIFEST).read_text())
    on_disk = sorted(p.name for p in demo_out.iterdir() if p.name != MANIFEST)
    assert sorted(manifest["files"]) == on_disk
    assert {"report.json", "report.md", "report.html", "recall_by_group.png",
            "confusion_proportional.png", "confusion_homogeneous.png"} <= set(on_disk)


def test_demo_refuses_to_overwrite_before_training(demo_out, tmp_path, capsys):
    # an earlier demo: refused without --force (and quickly: no training happens)
    assert cli.main(["demo", "--out", str(demo_out), *SMALL]) == 2
    assert "--force" in capsys.readouterr().err
    # a folder with a user's file: refused even with --force, file untouched
    (tmp_path / "thesis.tex").write_text("precious")
    assert cli.main(["demo", "--out", str(tmp_path), "--force", *SMALL]) == 2
    assert "did not write" in capsys.readouterr().err
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_demo_force_replaces_only_its_files(demo_out):
    (demo_out / "my_notes.txt").write_text("mine")
    before = json.loads((demo_out / "report.json").read_text())
    assert cli.main(["demo", "--out", str(demo_out), "--seed", "3", "--force", *SMALL]) == 0
    assert (demo_out / "my_notes.txt").read_text() == "mine"
    after = json.loads((demo_out / "report.json").read_text())
    # same seed, same data, same initial weights and batches: same confusion matrices
    for strategy in before["runs"]:
        assert after["runs"][strategy]["confusion"] == before["runs"][strategy]["confusion"]


def test_demo_rejects_bad_options(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:  # argparse: the option by its own name
        cli.main(["demo", "--out", str(tmp_path / "x"), "--epochs", "0"])
    assert exc.value.code == 2
    assert "--epochs: must be an integer >= 1" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_demo_refuses_a_dataset_too_small_to_test_every_group(tmp_path, capsys):
    # 20 identities give African a single identity, which the split puts in train:
    # the report would have had no recall for it and a "worst group" among the others
    assert cli.main(["demo", "--out", str(tmp_path / "x"), "--identities", "20",
                     "--images-per-identity", "1", "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "African" in err and "no test identity" in err and "--identities" in err
    assert not (tmp_path / "x" / "report.json").exists()


def test_demo_does_not_hide_an_internal_error(tmp_path, monkeypatch):
    # only bad options are one-line errors; a failure inside training keeps its traceback
    import fairtrain.experiments

    def broken(*args, **kwargs):
        raise ValueError("boom inside training")

    monkeypatch.setattr(fairtrain.experiments, "fit_sampled", broken)
    with pytest.raises(ValueError, match="boom inside training"):
        cli.main(["demo", "--out", str(tmp_path / "x"), *SMALL])


def test_intro_says_what_the_homogeneous_batches_held():
    from fairtrain.experiments.demo import _intro

    even = _intro({"epochs": 12, "batch_size": 64}, dict(zip("ABCD", [16] * 4)))
    assert "25 % of each group, 16 of 64" in even and "12 epochs" in even
    uneven = _intro({"epochs": 1, "batch_size": 30}, dict(zip("ABCD", [8, 8, 7, 7])))
    assert "25 %" not in uneven and "7 or 8 of 30" in uneven and "1 epoch twice" in uneven


def test_tied_worst_groups_are_all_named():
    from fairtrain.experiments.demo import _side_by_side
    from fairtrain.metrics import bias_report

    labels = ["African", "Asian", "Latin/Caucasian", "Indian"]
    y_true = np.repeat(labels, 40)
    wrong = np.isin(y_true, ["African", "Indian"])  # two groups tied at recall 0
    y_pred = np.where(wrong, "Asian", y_true)
    report = bias_report(y_true, y_pred, {"ethnicity": y_true}, metric="recall",
                         metric_kwargs={"average": "macro"}, min_count=30)
    table = _side_by_side(labels, {"proportional": report, "homogeneous": report})
    assert "African, Indian" in table


def test_close_but_different_recalls_are_not_a_tie():
    # np.isclose's default rtol (1e-5) called 333/1000 and 334/1003 a tie for the worst
    # group: two recalls that differ by one image in a thousand are different recalls
    from fairtrain.experiments.demo import _worst

    assert 333 / 1000 < 334 / 1003
    assert _worst([334 / 1003, 333 / 1000, 0.9], ["a", "b", "c"]) == "b"
    assert _worst([1 / 3, 2 / 6, 0.9], ["a", "b", "c"]) == "a, b"  # equal fractions


@pytest.mark.slow
def test_quiet_prints_nothing(tmp_path):
    # TensorFlow's C++ start-up lines (oneDNN, absl) came through --quiet
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from fairtrain.cli import main; "
         "sys.exit(main(sys.argv[1:]))", "demo", "--out", str(tmp_path / "q"), *SMALL],
        capture_output=True, text=True, env={**env, "PYTHONPATH": str(src)}, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


def test_without_bootstrap_nothing_is_called_a_bootstrap():
    # with --bootstrap 0 the titles still said "bootstrap intervals"
    from fairtrain.experiments.demo import INTERVALS, _notes

    assert "bootstrap" not in INTERVALS and "Wilson" in INTERVALS
    notes = _notes({"bootstrap": 0}, (), 30)
    assert "resampl" not in notes and "--bootstrap 0" in notes
    assert "resamples the test identities" in _notes({"bootstrap": 50}, (), 30)
