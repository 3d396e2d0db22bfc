"""bias_report / BiasReport: values, flags, bootstrap, conversions, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import fairtrain as ft
from fairtrain.metrics import AttributeBias, BiasReport, bias_report, by_group, pairwise_bias

AGE_MAE = {"0-20": 7.08, "20-40": 5.29, "40-60": 7.39, "60-120": 10.23}


@pytest.fixture
def age_data():
    """Predictions whose per-age-group MAE is the challenge's worked example."""
    rng = np.random.default_rng(0)
    age = np.repeat(list(AGE_MAE), 40)
    sex = np.tile(["f", "m"], 80)
    y_true = rng.uniform(5, 80, age.size)
    sign = np.where(rng.random(age.size) < 0.5, -1.0, 1.0)
    y_pred = y_true + sign * np.array([AGE_MAE[a] for a in age])
    return y_true, y_pred, Groups_from(age, sex)


def Groups_from(age, sex):  # noqa: N802
    return ft.Groups.from_columns({"age": age, "sex": sex}, levels={"age": list(AGE_MAE)})


def test_worked_example_through_the_report(age_data):
    report = bias_report(*age_data, metric="mae")
    age = report["age"]
    assert isinstance(report, BiasReport) and isinstance(age, AttributeBias)
    np.testing.assert_allclose(age.values, list(AGE_MAE.values()))
    assert round(age.pairwise, 2) == 2.52
    assert age.worst == "60-120"
    assert age.gap == pytest.approx(10.23 - 5.29)
    assert age.ratio == pytest.approx(5.29 / 10.23)
    assert report.overall == pytest.approx(np.mean(list(AGE_MAE.values())))
    assert list(report.attributes) == ["age", "sex", "intersection"]
    assert len(report["intersection"].groups) == 8


def test_every_attribute_equals_by_group_on_that_attribute(age_data):
    y_true, y_pred, groups = age_data
    report = bias_report(y_true, y_pred, groups, metric="mse")
    for name in ("age", "sex"):
        expected = by_group(y_true, y_pred, groups.attribute(name), metric="mse")
        np.testing.assert_allclose(report[name].values, list(expected.values()))
        assert report[name].pairwise == pytest.approx(pairwise_bias(expected))
    inter = by_group(y_true, y_pred, groups, metric="mse")
    np.testing.assert_allclose(report["intersection"].values, list(inter.values()))


def test_small_groups_are_flagged_and_undefined_ones_left_out():
    yt = np.array([1, 1, 0, 0, 1, 0, 0])
    yp = np.array([1, 0, 0, 1, 1, 0, 0])
    g = ["a", "a", "a", "a", "b", "c", "c"]  # c has no positive: TPR undefined
    report = bias_report(yt, yp, {"g": g}, metric="true_positive_rate", min_count=3)
    att = report["g"]
    assert att.flagged == ("b", "c")
    assert att.undefined == ("c",)
    assert math.isnan(att.value("c"))
    assert att.pairwise == pytest.approx(0.5)  # over a (0.5) and b (1.0) only
    assert att.worst == "a"  # greater is better for TPR
    text = str(report)
    assert "undefined for ['c']" in text
    assert "fewer than min_count=3" in text
    assert text.count("  *") == 2


def test_printed_table_shows_the_overall_next_to_every_bias(age_data):
    text = str(bias_report(*age_data, metric="mae"))
    bias_lines = [line for line in text.splitlines() if "pairwise bias" in line]
    assert len(bias_lines) == 3
    assert all("overall mae 7.4975" in line for line in bias_lines)
    assert "60-120" in text and "lower is better" in text


def test_bootstrap_is_seeded_and_brackets_the_estimate(age_data):
    a = bias_report(*age_data, metric="mae", n_bootstrap=30, seed=7)
    b = bias_report(*age_data, metric="mae", n_bootstrap=30, seed=7)
    c = bias_report(*age_data, metric="mae", n_bootstrap=30, seed=8)
    assert a.to_json() == b.to_json()
    assert a.overall_ci != c.overall_ci
    lo, hi = a.overall_ci
    assert lo < a.overall < hi
    assert a["sex"].ci.shape == (2, 2)
    assert (a["sex"].ci[:, 0] <= a["sex"].values).all()
    assert (a["sex"].values <= a["sex"].ci[:, 1]).all()
    assert a["age"].pairwise_ci[0] <= a["age"].pairwise_ci[1]
    assert "95% CI" in str(a)


def test_dict_json_and_frame(age_data):
    report = bias_report(*age_data, metric="mae", min_count=50)
    d = report.to_dict()
    assert d["metric"] == "mae" and d["n"] == 160 and d["greater_is_better"] is False
    assert d["attributes"]["age"]["groups"]["60-120"] == {
        "value": pytest.approx(10.23), "count": 40, "flagged": True}
    assert d["attributes"]["age"]["bias"]["worst_group"] == "60-120"
    parsed = json.loads(report.to_json())
    assert parsed["attributes"]["sex"]["bias"]["pairwise"] == pytest.approx(
        report["sex"].pairwise)
    pytest.importorskip("pandas")
    frame = report.to_frame()
    assert frame.loc[("age", "60-120"), "value"] == pytest.approx(10.23)
    assert frame.loc[("sex", "f"), "count"] == 80
    bias = report.to_frame("bias")
    assert bias.loc["age", "worst_group"] == "60-120"
    assert (bias["overall"] == report.overall).all()


def test_json_turns_undefined_values_into_null():
    report = bias_report([0, 1], [0, 1], {"g": ["a", "b"]}, metric="true_positive_rate",
                         min_count=1)
    parsed = json.loads(report.to_json())
    assert parsed["attributes"]["g"]["groups"]["a"]["value"] is None
    assert parsed["attributes"]["g"]["bias"]["pairwise"] is None


def test_custom_metric_needs_a_direction():
    def spread(y_true, y_pred):
        return float(np.std(np.asarray(y_true) - np.asarray(y_pred)))

    args = ([1.0, 2, 3, 4], [1.0, 1, 1, 1], {"g": ["a", "a", "b", "b"]})
    with pytest.raises(ValueError, match="greater_is_better"):
        bias_report(*args, metric=spread)
    report = bias_report(*args, metric=spread, greater_is_better=False, min_count=1)
    assert report.metric == "spread" and report["g"].worst == "a"
    assert "intersection" not in report.attributes


def test_top_level_names():
    assert ft.bias_report is bias_report
    assert ft.BiasReport is BiasReport


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"min_count": 0}, "min_count"), ({"n_bootstrap": -1}, "n_bootstrap"),
     ({"confidence": 1.0}, "confidence"), ({"metric": "recal"}, "Did you mean 'recall'")],
    ids=["min-count", "bootstrap", "confidence", "unknown-metric"],
)
def test_option_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bias_report([0, 1], [0, 1], [0, 1], **kwargs)


# ---------------------------------------------------------------- core hardening (issue 9)
def test_bootstrap_is_stratified_so_group_sizes_never_change():
    # every example of a group has the same error: with group sizes fixed in every
    # resample, the overall MAE is the same in all of them; a plain bootstrap varies it
    g = ft.Groups.from_columns({"g": ["big"] * 90 + ["small"] * 10})
    y_true = np.zeros(100)
    y_pred = np.r_[np.ones(90), np.full(10, 3.0)]
    r = bias_report(y_true, y_pred, g, metric="mae", n_bootstrap=200, min_count=30)
    assert r.overall == pytest.approx(1.2)
    assert r.overall_ci == pytest.approx((1.2, 1.2))
    assert r["g"].flagged == ("small",)
    np.testing.assert_allclose(r["g"].ci, [[1.0, 1.0], [3.0, 3.0]])


def test_stratified_resample_draws_each_cell_from_itself():
    from fairtrain.metrics.report import _stratified_resample

    g = ft.Groups([0, 1, -1, 1, 0, 0, 2], ["a", "b", "c"])
    rng = np.random.default_rng(0)
    for _ in range(20):
        idx = _stratified_resample(g, rng)
        assert np.bincount(g.codes[idx], minlength=3).tolist() == g.counts.tolist()
        assert (g.codes[idx] >= 0).all()


def test_overall_leaves_out_dropped_examples_as_metricframe_does():
    pytest.importorskip("fairlearn")
    rng = np.random.default_rng(1)
    n = 120
    cols = {"a": rng.choice(["x", "y", "z"], n, p=[0.48, 0.48, 0.04]),
            "b": rng.choice(["u", "v"], n)}
    with pytest.warns(ft.GroupPolicyWarning):
        g = ft.Groups.from_columns(cols, min_count=5, policy="drop")
    assert (g.codes < 0).any()
    y_true, y_pred = rng.normal(size=n), rng.normal(size=n)
    r = bias_report(y_true, y_pred, g, metric="mae", min_count=1)
    frame = r.to_metricframe()
    assert r.overall == pytest.approx(float(frame.overall.iloc[0]))
    assert r.n_excluded == int((g.codes < 0).sum())


def test_sensitive_features_is_fairlearns_name_for_groups():
    y_true, y_pred = [1.0, 2.0, 3.0, 4.0], [1.0, 2.5, 3.0, 5.0]
    sf = {"g": ["a", "a", "b", "b"]}
    a = bias_report(y_true, y_pred, sf, metric="mae", min_count=1)
    b = bias_report(y_true, y_pred, sensitive_features=sf, metric="mae", min_count=1)
    assert a.to_dict() == b.to_dict()
    assert by_group(y_true, y_pred, sensitive_features=sf, metric="mae") == by_group(
        y_true, y_pred, sf, metric="mae")
    with pytest.raises(TypeError, match="not both"):
        bias_report(y_true, y_pred, sf, sensitive_features=sf)
    with pytest.raises(TypeError, match="sensitive_features"):
        bias_report(y_true, y_pred)


def test_without_data_keeps_the_summary_only():
    r = bias_report([1.0, 2.0], [1.0, 3.0], ["a", "b"], metric="mae", min_count=1)
    slim = r.without_data()
    assert slim.to_dict() == r.to_dict()
    with pytest.raises(ValueError, match="without its data"):
        slim.to_metricframe()
