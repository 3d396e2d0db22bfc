"""fairlearn interoperability: MetricFrame export and the standard disparity measures."""

from __future__ import annotations

import numpy as np
import pytest

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
pytest.importorskip("pandas")

from fairtrain import Groups  # noqa: E402
from fairtrain.metrics import bias_report, by_group, max_gap, to_metricframe  # noqa: E402


@pytest.fixture
def binary():
    rng = np.random.default_rng(3)
    n = 600
    sex = rng.choice(["f", "m"], n)
    eth = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    yt = rng.integers(0, 2, n)
    bias = np.where(eth == "c", 0.35, 0.1)
    yp = np.where(rng.random(n) < bias, 1 - yt, yt)
    return yt, yp, sex, eth


def test_demographic_parity_difference_is_the_selection_rate_gap(binary):
    yt, yp, _, eth = binary
    expected = fairlearn_metrics.demographic_parity_difference(yt, yp, sensitive_features=eth)
    ours = max_gap(by_group(yt, yp, eth, metric="selection_rate"))
    assert ours == pytest.approx(expected, abs=1e-12)
    assert ours > 0.01  # a real disparity, so the comparison means something


def test_equalized_odds_difference_is_the_larger_rate_gap(binary):
    yt, yp, _, eth = binary
    expected = fairlearn_metrics.equalized_odds_difference(yt, yp, sensitive_features=eth)
    report_tpr = bias_report(yt, yp, eth, metric="true_positive_rate", min_count=1)
    report_fpr = bias_report(yt, yp, eth, metric="false_positive_rate", min_count=1)
    ours = max(report_tpr["group"].gap, report_fpr["group"].gap)
    assert ours == pytest.approx(expected, abs=1e-12)


def test_to_metricframe_by_group_equals_the_report_intersection(binary):
    yt, yp, sex, eth = binary
    groups = Groups.from_columns({"sex": sex, "ethnicity": eth})
    report = bias_report(yt, yp, groups, metric="accuracy")
    frame = report.to_metricframe()
    assert frame.overall.iloc[0] == pytest.approx(report.overall)
    by = frame.by_group.iloc[:, 0]
    for (s, e), value in by.items():
        assert report["intersection"].value(f"sex={s}|ethnicity={e}") == pytest.approx(value)
    weighted = to_metricframe(yt, yp, groups, metric="accuracy",
                              sample_weight=np.arange(len(yt)) % 3)
    ours = by_group(yt, yp, groups, sample_weight=np.arange(len(yt)) % 3, metric="accuracy")
    for (s, e), value in weighted.by_group.iloc[:, 0].items():
        assert ours[f"sex={s}|ethnicity={e}"] == pytest.approx(value)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from(["merge", "drop", "error"]),
    st.integers(1, 12),
    st.sampled_from(["other", "rest"]),
)
def test_metricframe_by_group_and_overall_equal_the_report_under_every_policy(
    seed, policy, min_count, other
):
    # merged cells ("a=y|b=other") are one group in fairtrain: fairlearn must see the
    # same cells, not the unmerged levels, or its by_group silently differs
    import warnings

    rng = np.random.default_rng(seed)
    n = 120
    a = rng.choice(["x", "y"], n)
    b = rng.choice(["c", "r1", "r2"], n, p=[0.85, 0.1, 0.05])
    yt, yp = rng.integers(0, 2, n), rng.integers(0, 2, n)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = Groups.from_columns({"a": a, "b": b}, min_count=min_count,
                                    policy=policy, other=other)
    except ValueError:
        return  # policy="error" with tiny cells
    report = bias_report(yt, yp, g, metric="accuracy")
    frame = report.to_metricframe()
    assert frame.overall.iloc[0] == pytest.approx(report.overall)
    by = frame.by_group.iloc[:, 0]
    got = {f"a={s}|b={e}": v for (s, e), v in by.items() if not np.isnan(v)}
    assert got == pytest.approx({k: report["intersection"].value(k) for k in g.names})


def test_to_metricframe_takes_fairlearns_sensitive_features(binary):
    yt, yp, sex, _ = binary
    frame = to_metricframe(yt, yp, sensitive_features=sex, metric="accuracy")
    expected = to_metricframe(yt, yp, sex, metric="accuracy")
    assert frame.by_group.equals(expected.by_group)
