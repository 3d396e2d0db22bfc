"""Wilson intervals of a share of correct predictions, with identities as the unit."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairtrain.experiments import clustered_wilson_interval, wilson_interval

stats = pytest.importorskip("scipy.stats")


@given(n=st.integers(1, 400), data=st.data(),
       confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_equals_scipy(n, data, confidence):
    k = data.draw(st.integers(0, n))
    ci = stats.binomtest(k, n).proportion_ci(confidence, method="wilson")
    assert wilson_interval(k, n, confidence=confidence) == pytest.approx((ci.low, ci.high))


@pytest.mark.parametrize("k", [0, 48])
def test_wilson_is_never_of_zero_width(k):
    # a percentile bootstrap of 48 images all right (or all wrong) is a single point
    low, high = wilson_interval(k, 48)
    assert high - low > 0.05 and 0 <= low <= k / 48 <= high <= 1


def test_singleton_clusters_are_independent_trials():
    correct = np.arange(30) % 3 == 0
    out = clustered_wilson_interval(correct, np.arange(30))
    assert out["design_effect"] == 1.0
    assert (out["low"], out["high"]) == pytest.approx(wilson_interval(10, 30))


def test_all_or_nothing_identities_count_once():
    # 10 identities of 5 images; 3 identities entirely wrong: 10 trials, not 50
    identity = np.repeat(np.arange(10), 5)
    correct = identity >= 3
    out = clustered_wilson_interval(correct, identity)
    assert out["design_effect"] == pytest.approx(5.0)
    assert (out["low"], out["high"]) == pytest.approx(wilson_interval(7, 10))


@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=12), data=st.data())
def test_design_effect_lies_between_images_and_identities(sizes, data):
    identity = np.repeat(np.arange(len(sizes)), sizes)
    correct = np.array(data.draw(st.lists(st.booleans(), min_size=identity.size,
                                          max_size=identity.size)))
    out = clustered_wilson_interval(correct, identity)
    n, c = identity.size, len(sizes)
    assert 1.0 <= out["design_effect"] <= n / c + 1e-12
    # never narrower than independent images, never wider than one trial per identity
    plain = wilson_interval(int(correct.sum()), n)
    assert out["low"] <= plain[0] + 1e-12 and out["high"] >= plain[1] - 1e-12
    assert out["low"] < out["high"]


def test_identity_bootstrap_keeps_each_group_and_is_seeded():
    from fairtrain.experiments import classification_summary

    identity = np.repeat(np.arange(16), 3)
    y_true = np.where(identity < 8, "A", "B")
    y_pred = np.where(np.isin(identity, [1, 9, 10]), np.where(y_true == "A", "B", "A"),
                      y_true)
    one = classification_summary(y_true, y_pred, {"g": y_true}, ["A", "B"], clusters=identity,
                                 n_bootstrap=300, seed=5, min_count=1)
    two = classification_summary(y_true, y_pred, {"g": y_true}, ["A", "B"], clusters=identity,
                                 n_bootstrap=300, seed=5, min_count=1)
    assert one["intervals"] == two["intervals"]
    low, high = one["intervals"]["g"]["pairwise_bias"]
    assert low <= abs(7 / 8 - 6 / 8) <= high
    assert one["recall"]["attributes"]["g"]["groups"]["A"].get("ci") is None  # not images
    none = classification_summary(y_true, y_pred, {"g": y_true}, ["A", "B"], clusters=identity,
                                  min_count=1)
    assert none["intervals"]["g"]["pairwise_bias"] is None
    assert none["intervals"]["g"]["resampled"] is None


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"clusters": np.arange(9)}, ValueError, r"`clusters`.*9.*10"),
        ({"clusters": np.arange(10), "n_bootstrap": -3}, ValueError, r"`n_bootstrap`.*-3"),
        ({"clusters": np.arange(10), "n_bootstrap": 2.5}, TypeError, r"`n_bootstrap`.*2\.5"),
    ],
    ids=["clusters-too-short", "negative-bootstrap", "fractional-bootstrap"],
)
def test_summary_names_a_bad_clusters_or_bootstrap_argument(kwargs, error, message):
    # with clusters, bias_report got n_bootstrap=0 and checked nothing: NumPy said
    # "boolean index did not match" or "negative dimensions are not allowed"
    from fairtrain.experiments import classification_summary

    y = np.array(["A", "B"] * 5)
    with pytest.raises(error, match=message):
        classification_summary(y, y, {"g": y}, ["A", "B"], min_count=1, **kwargs)


@pytest.mark.parametrize("correct", [[3, 7, 7], [0.2, 0.9, 1.0], ["yes", "no", "yes"]],
                         ids=["labels", "scores", "strings"])
def test_correct_that_is_not_true_false_is_refused(correct):
    # bool() of a label or a score is True: the interval was that of a perfect classifier
    with pytest.raises(ValueError, match=r"`correct`.*True.*False"):
        clustered_wilson_interval(correct, [0, 1, 2])


def test_correct_may_be_zeros_and_ones():
    out = clustered_wilson_interval([1, 0, 1], [0, 1, 2])
    assert out["correct"] == 2 and out["n"] == 3
