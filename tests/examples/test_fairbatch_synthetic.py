"""examples/fairbatch_synthetic.py: its data, metrics and losses against independent oracles."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "fairbatch_synthetic.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("example_fairbatch_synthetic", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_follow_the_stated_generator(script):
    data = script.make_data(3)
    x = np.vstack([data["x_train"], data["x_test"]])
    y = np.concatenate([data["y_train"], data["y_test"]])
    z = np.concatenate([data["z_train"], data["z_test"]])
    assert data["x_train"].shape == (2000, 3) and data["x_test"].shape == (1000, 3)
    assert np.bincount(y).tolist() == [1500, 1500]
    np.testing.assert_array_equal(x[:, 2], z)
    # class-conditional moments (standard errors about 0.06 for the means)
    np.testing.assert_allclose(x[y == 1, :2].mean(axis=0), [2, 2], atol=0.25)
    np.testing.assert_allclose(x[y == 0, :2].mean(axis=0), [-2, -2], atol=0.25)
    np.testing.assert_allclose(np.cov(x[y == 0, :2].T), [[10, 1], [1, 3]], atol=1.2)
    # z is drawn from the label densities at the rotated point: correlated with y
    assert z[y == 1].mean() > z[y == 0].mean() + 0.2
    assert np.array_equal(script.make_data(3)["x_train"], data["x_train"])


def test_disparities_match_fairlearn(script):
    fairlearn = pytest.importorskip("fairlearn.metrics")
    rng = np.random.default_rng(0)
    y, z = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    pred = (rng.random(300) < 0.3 + 0.4 * y * (1 - 0.5 * z)).astype(int)
    got = script.disparities(pred, y, z)

    def deviation(metric, mask=None):
        m = np.ones(y.size, bool) if mask is None else mask
        frame = fairlearn.MetricFrame(metrics=metric, y_true=y[m], y_pred=pred[m],
                                      sensitive_features=z[m])
        return float(np.max(np.abs(frame.by_group.to_numpy() - frame.overall)))

    tpr, fpr = fairlearn.true_positive_rate, fairlearn.false_positive_rate
    assert got["accuracy"] == pytest.approx(np.mean(pred == y))
    assert got["eo"] == pytest.approx(deviation(tpr))
    assert got["eodds"] == pytest.approx(max(deviation(tpr), deviation(fpr)))
    assert got["dp"] == pytest.approx(deviation(fairlearn.selection_rate))


def test_cell_losses_match_scikit_learn(script):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    xb = np.column_stack([rng.normal(size=(60, 3)), np.ones(60)])
    theta = rng.normal(size=4) * 0.3
    y = rng.integers(0, 2, 60).astype(float)
    codes = rng.integers(0, 4, 60)
    p = 1 / (1 + np.exp(-2 * xb @ theta))
    for target in (y, np.ones(60)):
        got = script._cell_losses(theta, xb, target, codes, 4)
        want = [metrics.log_loss(target[codes == g], p[codes == g], labels=[0, 1])
                for g in range(4)]
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_smoke_run_reports_every_objective(script):
    results = script.main(["--smoke", "--quiet"])
    assert set(results["table"]) == set(script.PUBLISHED)
    assert all(r["runs"] == 2 for r in results["table"].values())
    for run in results["runs"]:
        if run["objective"] == "equal_opportunity":  # only the positives' split moves
            lambdas = np.asarray(run["lambdas"])
            np.testing.assert_allclose(lambdas.sum(axis=1), 1.0)


def _write_paper_files(folder, data, *, labels=(-1.0, 1.0)):
    """The six files in the published layout: float arrays, labels -1/1, z a column of xz."""
    for part in ("train", "test"):
        y = np.where(data[f"y_{part}"] == 1, labels[1], labels[0]).astype(np.float32)
        np.save(folder / f"xz_{part}.npy", data[f"x_{part}"].astype(np.float32))
        np.save(folder / f"y_{part}.npy", y)
        np.save(folder / f"z_{part}.npy", data[f"z_{part}"].astype(np.float32))


@pytest.mark.parametrize("labels", [(-1.0, 1.0), (0.0, 1.0)])
def test_the_papers_files_load_in_the_generators_layout(script, tmp_path, labels):
    data = script.make_data(5)
    _write_paper_files(tmp_path, data, labels=labels)
    got = script.load_files(tmp_path)
    assert set(got) == set(data)
    for key, want in data.items():
        np.testing.assert_allclose(got[key], want.astype(np.float32), err_msg=key)
        assert got[key].dtype.kind == ("f" if key.startswith("x") else "i")


def test_a_run_on_the_papers_files_trains_on_them(script, tmp_path):
    data = script.make_data(6)
    _write_paper_files(tmp_path, data)
    results = script.main(["--data", str(tmp_path), "--smoke", "--quiet",
                           "--objectives", "equal_opportunity", "none"])
    assert {r["data_seed"] for r in results["runs"]} == {"files"}
    # the same data drawn in memory give the same runs: the files were the data trained on
    assert results["runs"][0]["accuracy"] == script.train_numpy(
        script.load_files(tmp_path), "equal_opportunity", 0, 5,
        alpha=0.005, batch_size=100, learning_rate=5e-4)["accuracy"]
    assert all(r["runs"] == 2 for r in results["table"].values())


def test_missing_or_malformed_files_are_refused_before_any_output(script, tmp_path):
    data = script.make_data(7)
    _write_paper_files(tmp_path, data)
    (tmp_path / "z_test.npy").unlink()
    out = tmp_path / "out"
    with pytest.raises(SystemExit, match="z_test.npy"):
        script.main(["--data", str(tmp_path), "--smoke", "--quiet", "--out", str(out)])
    assert not out.exists()
    np.save(tmp_path / "z_test.npy", np.full(1000, 2.0))
    with pytest.raises(SystemExit, match=r"z_test.npy 0/1; got .* and groups \[2.0\]"):
        script.main(["--data", str(tmp_path), "--smoke", "--quiet"])
    np.save(tmp_path / "z_test.npy", np.zeros(999))
    with pytest.raises(SystemExit, match="one row per label and z"):
        script.main(["--data", str(tmp_path), "--smoke", "--quiet"])


@pytest.mark.parametrize("spoil, file", [
    ("nan", "xz_train"), ("inf", "xz_test"), ("width", "xz_test"), ("empty", "z_test"),
    ("text", "y_train"),
])
def test_files_that_would_train_on_nonsense_are_refused_naming_the_file(
        script, tmp_path, spoil, file):
    data = script.make_data(8)
    if spoil == "nan":
        data["x_train"][5, 0] = np.nan
    elif spoil == "inf":
        data["x_test"][3, 1] = np.inf
    elif spoil == "width":
        data["x_test"] = np.column_stack([data["x_test"], np.ones(len(data["x_test"]))])
    _write_paper_files(tmp_path, data)
    if spoil == "empty":
        (tmp_path / "z_test.npy").write_bytes(b"")
    elif spoil == "text":
        (tmp_path / "y_train.npy").write_text("not an array")
    out = tmp_path / "out"
    with pytest.raises(SystemExit, match=file):
        script.main(["--data", str(tmp_path), "--smoke", "--quiet", "--out", str(out)])
    assert not out.exists()
