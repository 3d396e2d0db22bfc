"""`fairtrain report`: CSV of predictions in, printed report (and JSON + plots) out."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from fairtrain.cli import main
from fairtrain.metrics import bias_report


@pytest.fixture
def predictions(tmp_path):
    rng = np.random.default_rng(0)
    n = 80
    rows = {
        "age": rng.uniform(10, 70, n).round(1),
        "sex": rng.choice(["f", "m"], n),
        "eth": rng.choice(["Asian", "Afro-American", "Caucasian"], n),
    }
    rows["pred"] = (rows["age"] + rng.normal(0, 5, n)).round(2)
    path = tmp_path / "pred.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(rows))
        writer.writerows(zip(*rows.values()))
    return path, rows


def test_prints_the_same_report_as_the_library(predictions, capsys):
    path, rows = predictions
    code = main(["report", str(path), "--y-true", "age", "--y-pred", "pred",
                 "--group", "sex", "--group", "eth", "--min-count", "10"])
    assert code == 0
    expected = bias_report(rows["age"], rows["pred"], {"sex": rows["sex"], "eth": rows["eth"]},
                           metric="mae", min_count=10)
    assert capsys.readouterr().out.strip() == str(expected)


def test_out_writes_json_and_plots(predictions, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path, rows = predictions
    out = tmp_path / "out"
    code = main(["report", str(path), "--y-true", "age", "--y-pred", "pred", "--group", "eth",
                 "--bootstrap", "10", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["metric"] == "mae" and report["n"] == 80
    assert report["overall_ci"] is not None
    assert (out / "by_group_eth.png").read_bytes()[:4] == b"\x89PNG"
    assert not (out / "confusion.png").exists()  # regression: no confusion matrix
    assert "wrote" in capsys.readouterr().out


def test_classification_with_string_labels_writes_a_confusion_matrix(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "cls.csv"
    path.write_text("y,p,g\nyes,yes,a\nno,yes,a\nyes,no,b\nno,no,b\nyes,yes,b\n")
    out = tmp_path / "o"
    code = main(["report", str(path), "--y-true", "y", "--y-pred", "p", "--group", "g",
                 "--metric", "true_positive_rate", "--pos-label", "yes", "--min-count", "1",
                 "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["attributes"]["g"]["groups"]["a"]["value"] == 1.0
    assert report["attributes"]["g"]["groups"]["b"]["value"] == 0.5
    assert (out / "confusion.png").exists()


@pytest.mark.parametrize(
    ("csv_text", "args", "message"),
    [
        ("y,p,g\n1,1,a\n", ["--y-pred", "q"], "no column(s) ['q']"),
        ("y,p,g\n1,,a\n", [], "line 2: column 'p' is empty"),
        ("y,p,g\n1,1,a\n", ["--metric", "maee"], "Did you mean"),
    ],
    ids=["missing-column", "empty-cell", "unknown-metric"],
)
def test_errors_are_reported_without_a_traceback(tmp_path, capsys, csv_text, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(csv_text)
    base = ["report", str(path), "--y-true", "y", "--y-pred", "p", "--group", "g"]
    if "--y-pred" in args:
        base = ["report", str(path), "--y-true", "y", "--group", "g"]
    assert main(base + args) == 2
    err = capsys.readouterr().err
    assert err.startswith("fairtrain report: error:") and message in err


def test_plugins_subcommand_still_lists_the_metrics(capsys):
    assert main(["plugins", "--kind", "metrics"]) == 0
    assert "fairtrain.metrics.functions:mae" in capsys.readouterr().out


# --- --out follows the OutputDir rules (issue 19 §2): the user's files are never touched


def _report_args(path, out, *extra):
    return ["report", str(path), "--y-true", "age", "--y-pred", "pred", "--group", "eth",
            "--out", out, *extra]


def test_out_never_overwrites_the_users_files(predictions, tmp_path, capsys):
    path, _ = predictions
    out = tmp_path / "d"
    out.mkdir()
    (out / "report.json").write_text("the user's report")
    (out / "by_group_eth.png").write_text("the user's plot")
    for extra in ([], ["--force"]):
        assert main(_report_args(path, str(out), *extra)) == 2
        assert "did not write" in capsys.readouterr().err
    assert (out / "report.json").read_text() == "the user's report"
    assert (out / "by_group_eth.png").read_text() == "the user's plot"


def test_out_never_writes_through_a_link(predictions, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path, _ = predictions
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    out = tmp_path / "d"
    out.mkdir()
    (out / "report.json").symlink_to("../outside.txt")
    assert main(_report_args(path, str(out))) == 2
    assert outside.read_text() == "precious"
    # a folder of an earlier report whose report.json became a link: --force removes the
    # link itself, never the file it points to, and writes a new file in its place
    (out / "report.json").unlink()
    out.rmdir()
    assert main(_report_args(path, str(out))) == 0
    (out / "report.json").unlink()
    (out / "report.json").symlink_to("../outside.txt")
    assert main(_report_args(path, str(out))) == 2
    assert "--force" in capsys.readouterr().err
    assert main(_report_args(path, str(out), "--force")) == 0
    assert outside.read_text() == "precious"
    assert not (out / "report.json").is_symlink()
    assert json.loads((out / "report.json").read_text())["metric"] == "mae"


def test_empty_out_is_refused_and_the_current_folder_is_left_alone(
    predictions, tmp_path, monkeypatch, capsys
):
    path, _ = predictions
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "report.json").write_text("the user's report")
    monkeypatch.chdir(cwd)
    assert main(_report_args(path, "")) == 2
    assert "--out" in capsys.readouterr().err
    assert (cwd / "report.json").read_text() == "the user's report"
    assert sorted(p.name for p in cwd.iterdir()) == ["report.json"]


def test_force_replaces_only_the_files_of_the_earlier_report(predictions, tmp_path):
    pytest.importorskip("matplotlib")
    path, _ = predictions
    out = tmp_path / "d"
    assert main(_report_args(path, str(out))) == 0
    (out / "notes.txt").write_text("user notes")
    assert main(_report_args(path, str(out), "--force")) == 0
    assert (out / "notes.txt").read_text() == "user notes"
    assert json.loads((out / "report.json").read_text())["metric"] == "mae"


# --- silently wrong (issue 19 §3)


def _cls_csv(tmp_path, header="y,p,g"):
    rng = np.random.default_rng(3)
    y = rng.choice([3, 7], 60)
    p = np.where(rng.random(60) < 0.7, y, 10 - y)
    g = rng.choice(["a", "b"], 60)
    path = tmp_path / "cls.csv"
    path.write_text(header + "\n" + "\n".join(f"{a},{b},{c}" for a, b, c in zip(y, p, g)))
    return path, y, p, g


def test_pos_label_gives_the_recall_of_that_class(tmp_path):
    # --pos-label 7 was ignored: the macro recall was printed
    from sklearn.metrics import recall_score

    path, y, p, g = _cls_csv(tmp_path)
    out = tmp_path / "o"
    code = main(["report", str(path), "--y-true", "y", "--y-pred", "p", "--group", "g",
                 "--metric", "recall", "--pos-label", "7", "--min-count", "1",
                 "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["overall"] == pytest.approx(recall_score(y, p, pos_label=7))
    for name in ("a", "b"):
        assert report["attributes"]["g"]["groups"][name]["value"] == pytest.approx(
            recall_score(y[g == name], p[g == name], pos_label=7))


def test_pos_label_with_a_macro_average_is_refused(tmp_path, capsys):
    path, *_ = _cls_csv(tmp_path)
    code = main(["report", str(path), "--y-true", "y", "--y-pred", "p", "--group", "g",
                 "--metric", "recall", "--pos-label", "7", "--average", "macro"])
    assert code == 2
    assert "--pos-label" in capsys.readouterr().err


def test_a_column_named_twice_in_the_header_is_refused(tmp_path, capsys):
    # csv.DictReader kept the last of two same-named columns without a word
    path = tmp_path / "dup.csv"
    path.write_text("y,p,g,p\n1,1,a,9\n2,2,b,9\n")
    code = main(["report", str(path), "--y-true", "y", "--y-pred", "p", "--group", "g",
                 "--min-count", "1"])
    assert code == 2
    assert "'p'" in capsys.readouterr().err


def test_groups_whose_names_map_to_one_file_name_get_one_plot_each(tmp_path):
    # "a b" and "a_b" both became by_group_a_b.png: the second plot replaced the first
    pytest.importorskip("matplotlib")
    path = tmp_path / "two.csv"
    rows = [f"{i % 50},{i % 50 + 1},{'xy'[i % 2]},{'uv'[i % 3 % 2]}" for i in range(40)]
    path.write_text("y,p,a b,a_b\n" + "\n".join(rows))
    out = tmp_path / "o"
    code = main(["report", str(path), "--y-true", "y", "--y-pred", "p", "--group", "a b",
                 "--group", "a_b", "--min-count", "1", "--out", str(out)])
    assert code == 0
    manifest = json.loads((out / ".fairtrain-manifest.json").read_text())
    plots = [f for f in manifest["files"] if f.startswith("by_group_")]
    attributes = json.loads((out / "report.json").read_text())["attributes"]
    assert len(plots) == len(set(plots)) == len(attributes)
    assert all((out / f).read_bytes()[:4] == b"\x89PNG" for f in plots)


def test_a_users_file_beside_an_earlier_runs_files_is_an_error_not_a_traceback(
    predictions, tmp_path, capsys
):
    from fairtrain.experiments import OutputDir

    path, _ = predictions
    out = tmp_path / "d"
    OutputDir(out).write_text("notes.md", "an earlier run's file")
    (out / "report.json").write_text("the user's report")
    assert main(_report_args(path, str(out), "--force")) == 2
    err = capsys.readouterr().err
    assert "report.json" in err and "did not write" in err
    assert (out / "report.json").read_text() == "the user's report"


def test_out_below_a_file_is_an_error_not_a_traceback(predictions, tmp_path, capsys):
    path, _ = predictions
    (tmp_path / "notes.txt").write_text("the user's notes")
    out = tmp_path / "notes.txt" / "run"
    assert main(_report_args(path, str(out))) == 2
    assert str(out) in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "the user's notes"


def test_a_nan_cell_is_named_by_file_column_and_line(tmp_path, capsys):
    # "NaN or infinite values in a prediction or target column" left the user to search
    # every column of every row for it
    path = tmp_path / "scores.csv"
    path.write_text("y,p,g\n1,0.5,a\n0,nan,b\n")
    assert main(["report", str(path), "--y-true", "y", "--y-pred", "p", "--group", "g"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "'p'" in err and "line 3" in err and "nan" in err


def test_pos_label_for_a_metric_without_classes_names_the_option(tmp_path, capsys):
    # the library's message ("remove it from the metric's keyword arguments") named
    # nothing the command line user typed
    path = _cls_csv(tmp_path)[0]
    code = main(["report", str(path), "--y-true", "y", "--y-pred", "p", "--group", "g",
                 "--metric", "accuracy", "--pos-label", "3"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--pos-label" in err and "--metric accuracy" in err


def test_a_row_with_more_cells_than_the_header_is_refused(tmp_path, capsys):
    # an unquoted comma in a group name ("Paris, FR") added a cell that DictReader
    # dropped without a word, and the row was read with its group cut short
    path = tmp_path / "shifted.csv"
    path.write_text("y,p,g\n1,1,Lyon\n0,1,Paris, FR\n")
    assert main(["report", str(path), "--y-true", "y", "--y-pred", "p", "--group", "g",
                 "--min-count", "1"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "line 3" in err and "quote" in err
