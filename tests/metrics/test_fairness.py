"""Fairness measures under fairlearn's names: fairlearn is the oracle, and the measures are
accepted by name wherever a metric is (registry, bias_report, the CLI, BiasMonitor)."""

from __future__ import annotations

import inspect
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fairtrain as ft
from fairtrain import registry
from fairtrain.cli import main
from fairtrain.metrics import bias_report, by_group, to_metricframe

fl = pytest.importorskip("fairlearn.metrics")
pd = pytest.importorskip("pandas")

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[2]
NAMES = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
]
TRUTH = [n for n in NAMES if not n.startswith("demographic")]  # they read y_true too


def ours(name):
    return getattr(ft.metrics, name)


def oracle(name, *args, **kwargs):
    """fairlearn's value, or the ValueError it raises (its 0/0 warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return getattr(fl, name)(*args, **kwargs)
        except ValueError as exc:
            return exc


def assert_same(got, expected):
    if isinstance(expected, ValueError):
        pytest.fail(f"fairlearn raised {expected!r} but fairtrain gave {got!r}")
    if math.isnan(expected):
        assert math.isnan(got), (got, expected)
    else:
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def agreement(name, y_true, y_pred, ours_features, fl_features, **kwargs):
    """fairtrain equals fairlearn, or both raise ValueError."""
    expected = oracle(name, y_true, y_pred, sensitive_features=fl_features, **kwargs)
    if isinstance(expected, ValueError):
        with pytest.raises(ValueError):
            ours(name)(y_true, y_pred, sensitive_features=ours_features, **kwargs)
        return
    assert_same(ours(name)(y_true, y_pred, sensitive_features=ours_features, **kwargs),
                expected)


@st.composite
def cases(draw):
    n = draw(st.integers(1, 30))
    labels = draw(st.sampled_from([(0, 1), (-1, 1)]))
    column = st.lists(st.sampled_from(labels), min_size=n, max_size=n)
    y_true, y_pred = np.array(draw(column)), np.array(draw(column))
    k = draw(st.integers(1, 4))
    a = np.array(draw(st.lists(st.sampled_from("pqrs"[:k]), min_size=n, max_size=n)))
    b = None
    if draw(st.booleans()):
        b = np.array(draw(st.lists(st.sampled_from(["x", "y"]), min_size=n, max_size=n)))
    weight = None
    if draw(st.booleans()):
        values = st.one_of(st.sampled_from([0.0, 1.0, 2.0]), st.floats(0, 5, width=32))
        weight = np.array(draw(st.lists(values, min_size=n, max_size=n)))
    return y_true, y_pred, a, b, weight


# --------------------------------------------------------------------------- fairlearn
@pytest.mark.parametrize("name", NAMES)
@given(case=cases(), method=st.sampled_from(["between_groups", "to_overall"]),
       agg=st.sampled_from(["worst_case", "mean"]), as_groups=st.booleans())
def test_equals_fairlearn(name, case, method, agg, as_groups):
    y_true, y_pred, a, b, weight = case
    kwargs = {"method": method, "sample_weight": weight}
    if "odds" in name:
        kwargs["agg"] = agg
    # fairlearn gets a DataFrame: it squeezes an array of one example to 0-d and fails
    columns = {"a": a} if b is None else {"a": a, "b": b}  # two: intersectional cells
    fl_features = pd.DataFrame(columns)
    mine = ft.Groups.from_columns(columns) if as_groups else (a if b is None else columns)
    agreement(name, y_true, y_pred, mine, fl_features, **kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_signature_is_fairlearns_with_groups_beside_sensitive_features(name):
    # fairlearn's parameters, kinds and defaults, plus `groups` third as in by_group;
    # sensitive_features is optional only because groups may stand in for it
    mine = dict(inspect.signature(ours(name)).parameters)
    theirs = inspect.signature(getattr(fl, name)).parameters
    assert list(mine)[:3] == ["y_true", "y_pred", "groups"]
    groups = mine.pop("groups")
    assert (groups.kind, groups.default) == (inspect.Parameter.POSITIONAL_OR_KEYWORD, None)
    assert list(mine) == list(theirs)
    for p, q in zip(mine.values(), theirs.values()):
        default = None if p.name == "sensitive_features" else q.default
        assert (p.kind, p.default) == (q.kind, default), p.name


@pytest.mark.parametrize("name", NAMES)
def test_fairness_measures_take_groups_as_every_callable_does(name):
    # review 4: docs/guide/index.rst says every callable that takes groups takes them as
    # `groups`, with fairlearn's `sensitive_features=` as the alias; these took only the
    # alias. fairlearn (sensitive_features=) is the oracle for every spelling.
    y_true = np.array([0, 1, 1, 0, 1, 0, 1, 1])
    y_pred = np.array([0, 1, 0, 0, 1, 1, 1, 0])
    groups = np.array(["a"] * 4 + ["b"] * 4)
    expected = oracle(name, y_true, y_pred, sensitive_features=groups)
    for call in ({"groups": groups}, {"sensitive_features": groups},
                 {"groups": {"g": groups}}, {"groups": ft.Groups.from_columns({"g": groups})}):
        assert_same(ours(name)(y_true, y_pred, **call), expected)
    assert_same(ours(name)(y_true, y_pred, groups), expected)
    with pytest.raises(TypeError, match="not both"):
        ours(name)(y_true, y_pred, groups=groups, sensitive_features=groups)
    with pytest.raises(TypeError, match="Pass the groups"):
        ours(name)(y_true, y_pred)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("y_pred", [[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 1, 1]],
                         ids=["mixed", "none-selected", "all-selected"])
def test_single_group(name, y_pred):
    y_true = [1, 0, 1, 0]
    one = ["only"] * 4
    for method in ("between_groups", "to_overall"):
        got = ours(name)(y_true, y_pred, sensitive_features=one, method=method)
        assert_same(got, oracle(name, y_true, y_pred, sensitive_features=one, method=method))
        if name.endswith("difference"):
            assert got == 0.0  # one group cannot differ from itself
        else:
            assert got == 1.0 or math.isnan(got)  # 1, or 0 / 0 when every rate is 0


@pytest.mark.parametrize("name", NAMES)
def test_empty_input_is_refused_as_fairlearn_does(name):
    assert isinstance(oracle(name, [], [], sensitive_features=[]), ValueError)
    with pytest.raises(ValueError, match="no examples: y_true and y_pred are empty"):
        ours(name)([], [], sensitive_features=[])


@pytest.mark.parametrize("name", TRUTH)
def test_a_group_weighing_nothing_is_refused_as_fairlearn_does(name):
    y_true, y_pred, a = [1, 0, 1, 0], [1, 1, 0, 0], ["p", "p", "q", "q"]
    weight = [1.0, 2.0, 0.0, 0.0]
    assert isinstance(oracle(name, y_true, y_pred, sensitive_features=a,
                             sample_weight=weight), ValueError)
    with pytest.raises(ValueError, match=r"group\(s\) \['q'\] has sample_weight 0"):
        ours(name)(y_true, y_pred, sensitive_features=a, sample_weight=weight)


def test_demographic_parity_leaves_a_group_weighing_nothing_out_as_fairlearn_does():
    y_pred, a = [1, 0, 1, 1, 0, 1], ["p", "p", "q", "q", "r", "r"]
    weight = [1.0, 1.0, 1.0, 3.0, 0.0, 0.0]
    got = ft.metrics.demographic_parity_difference(
        y_pred, y_pred, sensitive_features=a, sample_weight=weight)
    assert got == pytest.approx(1.0 - 0.5)  # r (0 / 0) is left out
    agreement("demographic_parity_difference", y_pred, y_pred, a, a, sample_weight=weight)


@pytest.mark.parametrize("name", TRUTH)
def test_labels_other_than_0_1_are_refused_as_fairlearn_does(name):
    y_true, y_pred, a = [0, 2, 2, 0], [0, 2, 0, 0], ["p", "p", "q", "q"]
    assert isinstance(oracle(name, y_true, y_pred, sensitive_features=a), ValueError)
    with pytest.raises(ValueError, match=r"\{0, 1\} or \{-1, 1\}; got labels 0, 2"):
        ours(name)(y_true, y_pred, sensitive_features=a)


def test_demographic_parity_refuses_string_predictions_where_fairlearn_gives_0():
    y = np.array(["yes", "no", "yes", "no"])
    a = ["p", "p", "q", "q"]
    # fairlearn counts y_pred == 1, so string labels silently give a parity of 0
    assert oracle("demographic_parity_difference", y, y, sensitive_features=a) == 0.0
    with pytest.raises(ValueError, match="Encode the positive class as 1"):
        ft.metrics.demographic_parity_difference(y, y, sensitive_features=a)
    # encoded as asked, the predictions give their real parity
    assert ft.metrics.demographic_parity_difference(
        y, y == "yes", sensitive_features=a) == 0.0
    assert ft.metrics.demographic_parity_difference(
        y, [1, 1, 1, 0], sensitive_features=a) == 0.5


def test_demographic_parity_reads_only_the_length_of_y_true():
    y_pred, a = [1, 0, 1, 1], ["p", "p", "q", "q"]
    anything = [3.5, -2.0, 7.25, 0.0]  # regression targets: not labels, and not read
    assert ft.metrics.demographic_parity_difference(
        anything, y_pred, sensitive_features=a) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="one entry per example"):
        ft.metrics.demographic_parity_difference(anything[:3], y_pred, sensitive_features=a)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "pairwise"}, '`method` must be one of "between_groups", "to_overall"; got'),
    ({"agg": "max"}, '`agg` must be one of "worst_case", "mean"; got agg='),
])
def test_unknown_options_are_refused_as_fairlearn_does(kwargs, message):
    args = ([1, 0, 1, 0], [1, 1, 0, 0])
    assert isinstance(
        oracle("equalized_odds_difference", *args, sensitive_features=[0, 0, 1, 1], **kwargs),
        ValueError)
    with pytest.raises(ValueError, match=message):
        ft.metrics.equalized_odds_difference(*args, sensitive_features=[0, 0, 1, 1], **kwargs)


def test_equalized_odds_worst_case_passes_over_an_undefined_fpr_ratio_only():
    # TPR ratio undefined (every TPR is 0) -> nan; FPR ratio undefined -> the TPR ratio
    y_true, a = [1, 0, 1, 0, 0, 1], ["p", "p", "q", "q", "q", "p"]
    no_tp, no_fp = [0, 1, 0, 0, 1, 0], [1, 0, 1, 0, 0, 0]
    for y_pred in (no_tp, no_fp):
        for agg in ("worst_case", "mean"):
            agreement("equalized_odds_ratio", y_true, y_pred, a, a, agg=agg)
    assert math.isnan(ft.metrics.equalized_odds_ratio(y_true, no_tp, sensitive_features=a))
    assert ft.metrics.equalized_odds_ratio(y_true, no_fp, sensitive_features=a) == 0.5


def test_sensitive_features_take_what_groups_take():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 2, 60), rng.integers(0, 2, 60)
    sex, age = rng.choice(["f", "m"], 60), rng.uniform(10, 70, 60)
    binned = ft.bins(age, [0, 30, 50, 100])
    f = ft.metrics.equalized_odds_difference
    one = f(y_true, y_pred, sensitive_features=sex)
    assert one == f(y_true, y_pred, sensitive_features=pd.Series(sex))
    assert one == f(y_true, y_pred, sensitive_features=ft.Groups.from_columns({"sex": sex}))
    both = f(y_true, y_pred, sensitive_features={"sex": sex, "age": binned})
    assert both == f(y_true, y_pred,
                     sensitive_features=pd.DataFrame({"sex": sex, "age": np.asarray(binned)}))
    assert both == f(y_true, y_pred,
                     sensitive_features=ft.Groups.from_columns({"sex": sex, "age": binned}))
    expected = oracle("equalized_odds_difference", y_true, y_pred,
                      sensitive_features=pd.DataFrame({"sex": sex, "age": np.asarray(binned)}))
    assert_same(both, expected)
    with pytest.raises(TypeError, match="Pass the groups"):
        f(y_true, y_pred, sensitive_features=None)


def test_examples_outside_every_group_are_left_out():
    rng = np.random.default_rng(2)
    y_true, y_pred = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
    a = np.array(["p"] * 24 + ["q"] * 24 + ["tiny"] * 2)
    with pytest.warns(ft.GroupPolicyWarning, match="dropped 'tiny'"):
        groups = ft.Groups.from_columns({"a": a}, min_count=3, policy="drop")
    kept = groups.included
    assert kept.sum() == 48
    for name in NAMES:
        for method in ("between_groups", "to_overall"):
            assert_same(
                ours(name)(y_true, y_pred, sensitive_features=groups, method=method),
                oracle(name, y_true[kept], y_pred[kept], sensitive_features=a[kept],
                       method=method))


def test_scores_and_probabilities_are_read_as_labels():
    rng = np.random.default_rng(3)
    y_true, a = rng.integers(0, 2, 40), rng.choice(["p", "q", "r"], 40)
    proba = rng.random(40)
    labels = (proba >= 0.5).astype(int)
    scores = np.column_stack([1 - proba, proba])
    for name in NAMES:
        expected = ours(name)(y_true, labels, sensitive_features=a)
        assert_same(ours(name)(y_true, proba, sensitive_features=a), expected)
        assert_same(ours(name)(y_true, scores, sensitive_features=a), expected)


# --------------------------------------------------------------------------- by name
@pytest.mark.parametrize("name", NAMES)
def test_found_by_name_as_builtins(name):
    assert registry.get("metrics", name) is ours(name)
    assert registry.available("metrics")[name] == "fairtrain"
    assert ours(name).greater_is_better is name.endswith("ratio")


def test_per_group_functions_refuse_a_measure_with_its_rates():
    args = ([1, 0, 1, 0], [1, 1, 0, 0], ["p", "p", "q", "q"])
    with pytest.raises(ValueError, match="true_positive_rate, false_positive_rate"):
        by_group(*args, metric="equalized_odds_difference")
    with pytest.raises(ValueError, match="fairness measure over all the groups"):
        to_metricframe(*args, metric="demographic_parity_ratio")


# --------------------------------------------------------------------------- bias_report
@pytest.fixture
def binary():
    rng = np.random.default_rng(4)
    n = 120
    sex, eth = rng.choice(["f", "m"], n), rng.choice(["A", "B", "C"], n)
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, 1 - y_true)
    return y_true, y_pred, {"sex": sex, "eth": eth}, rng.uniform(0.5, 2, n)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("options", [{}, {"method": "to_overall"},
                                     {"method": "to_overall", "agg": "mean"}],
                         ids=["default", "to_overall", "to_overall-mean"])
def test_bias_report_gives_the_measure_of_every_attribute(name, options, binary):
    y_true, y_pred, columns, weight = binary
    if "agg" in options and "odds" not in name:
        with pytest.raises(TypeError, match="takes the options"):
            bias_report(y_true, y_pred, columns, metric=name, metric_kwargs=options)
        return
    report = bias_report(y_true, y_pred, columns, metric=name, metric_kwargs=options,
                         sample_weight=weight)
    frame = pd.DataFrame(columns)
    for attribute, features in [("sex", columns["sex"]), ("eth", columns["eth"]),
                                ("intersection", frame)]:
        expected = oracle(name, y_true, y_pred, sensitive_features=features,
                          sample_weight=weight, **options)
        assert_same(report[attribute].measure, expected)
    # the rates it shows are fairlearn's rates of every cell
    rates = {"selection_rate": fl.selection_rate, "true_positive_rate":
             fl.true_positive_rate, "false_positive_rate": fl.false_positive_rate}
    shown = report["intersection"].rates
    mf = fl.MetricFrame(metrics={r: rates[r] for r in shown}, y_true=y_true, y_pred=y_pred,
                        sensitive_features=frame,
                        sample_params={r: {"sample_weight": weight} for r in shown})
    for i, cell in enumerate(report["intersection"].groups):
        key = tuple(part.split("=")[1] for part in cell.split("|"))
        for r in shown:
            assert shown[r][i] == pytest.approx(mf.by_group.loc[key, r])
    assert report.overall_rates == pytest.approx(mf.overall.to_dict())
    assert report.greater_is_better is name.endswith("ratio")
    text = str(report)
    assert f"sex: {name} " in text and "overall " + next(iter(shown)) in text
    assert json.loads(report.to_json())["attributes"]["sex"]["measure"] == pytest.approx(
        report["sex"].measure)
    assert list(report.to_frame("bias")[name]) == pytest.approx(
        [report[a].measure for a in report.attributes])


def test_bias_report_of_a_measure_refuses_what_it_cannot_give(binary):
    y_true, y_pred, columns, _ = binary
    with pytest.raises(ValueError, match="n_bootstrap is not available"):
        bias_report(y_true, y_pred, columns, metric="equal_opportunity_ratio", n_bootstrap=5)
    with pytest.raises(TypeError, match="no pos_label"):
        bias_report(y_true, y_pred, columns, metric="equal_opportunity_ratio",
                    metric_kwargs={"pos_label": 1})
    report = bias_report(y_true, y_pred, columns, metric="equal_opportunity_ratio")
    with pytest.raises(ValueError, match="fairness measure over all the groups"):
        report.to_metricframe()


# --------------------------------------------------------------------------- the CLI
@pytest.fixture
def csv_file(tmp_path, binary):
    y_true, y_pred, columns, _ = binary
    path = tmp_path / "pred.csv"
    words = np.array(["no", "yes"])
    pd.DataFrame({"y": y_true, "p": y_pred, "y_word": words[y_true], "p_word": words[y_pred],
                  **columns}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name", ["equalized_odds_difference", "demographic_parity_ratio"])
def test_cli_report_accepts_a_measure(name, csv_file, binary, capsys, tmp_path):
    y_true, y_pred, columns, _ = binary
    out = tmp_path / "out"
    args = ["report", str(csv_file), "--group", "sex", "--group", "eth", "--metric", name,
            "--min-count", "10"]
    assert main([*args, "--y-true", "y", "--y-pred", "p", "--out", str(out)]) in (0, 1)
    printed = capsys.readouterr().out
    expected = bias_report(y_true, y_pred, columns, metric=name, min_count=10)
    assert printed.split("\n\nwrote")[0].strip() == str(expected)
    saved = json.loads((out / "report.json").read_text())
    assert saved["attributes"]["eth"]["measure"] == pytest.approx(expected["eth"].measure)
    # string labels: --pos-label names the label read as 1
    assert main([*args, "--y-true", "y_word", "--y-pred", "p_word", "--pos-label", "yes"]) == 0
    assert capsys.readouterr().out.strip() == str(expected)


def test_cli_pos_label_of_a_measure_reads_a_probability_column_as_without_it(
        tmp_path, capsys):
    # --pos-label 1 on a column of probabilities of class 1: fairlearn on the labels
    # thresholded at 0.5 is the oracle (as the measure reads them without --pos-label)
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 80)
    prob = np.round(rng.uniform(0.01, 0.99, 80), 3)
    sex = rng.choice(["f", "m"], 80)
    path = tmp_path / "prob.csv"
    pd.DataFrame({"y": y, "prob": prob, "sex": sex}).to_csv(path, index=False)
    args = ["report", str(path), "--y-true", "y", "--y-pred", "prob", "--group", "sex",
            "--metric", "demographic_parity_difference", "--min-count", "1",
            "--out", str(tmp_path / "o")]
    assert main([*args, "--pos-label", "1"]) in (0, 1)
    saved = json.loads((tmp_path / "o" / "report.json").read_text())
    expected = fl.demographic_parity_difference(y, (prob > 0.5).astype(int),
                                                sensitive_features=sex)
    assert saved["attributes"]["sex"]["measure"] == pytest.approx(expected)
    # another positive class cannot be read off P(class 1): refused, naming the fix
    capsys.readouterr()
    assert main([*args, "--pos-label", "0"]) == 2
    err = capsys.readouterr().err
    assert "'prob'" in err and "threshold" in err


def test_cli_report_of_a_measure_explains_string_labels(csv_file, capsys):
    code = main(["report", str(csv_file), "--y-true", "y_word", "--y-pred", "p_word",
                 "--group", "sex", "--metric", "equal_opportunity_difference"])
    assert code == 2
    assert "Encode the positive class as 1" in capsys.readouterr().err


# --------------------------------------------------------------------------- BiasMonitor
def test_bias_monitor_logs_a_measure_per_attribute(binary):
    keras = pytest.importorskip("keras")
    from fairtrain.callbacks import BiasMonitor

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(5)
    _, _, columns, _ = binary
    x = rng.normal(size=(120, 2)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    groups = ft.Groups.from_columns(columns)
    monitor = BiasMonitor(x, y, groups, metric="equalized_odds_difference", min_count=1,
                          metric_kwargs={"agg": "mean"})
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
    assert "val_equalized_odds_difference_sex" in monitor.keys
    assert "val_equalized_odds_difference_overall" not in monitor.keys
    assert "val_equalized_odds_difference_eth_false_positive_rate_B" in monitor.keys
    assert set(monitor.keys) <= set(history.history)
    p = model.predict(x, verbose=0)  # probabilities: thresholded at 0.5
    for attribute, features in [("sex", columns["sex"]), ("intersection", groups)]:
        expected = ft.metrics.equalized_odds_difference(
            y, p, sensitive_features=features, agg="mean")
        logged = history.history[f"val_equalized_odds_difference_{attribute}"][-1]
        assert logged == pytest.approx(expected)


def test_bias_monitor_checks_a_measure_options_before_training(binary):
    # a wrong option must fail at construction, not after the first epoch of training
    pytest.importorskip("keras")
    from fairtrain.callbacks import BiasMonitor

    _, _, columns, _ = binary
    n = len(columns["sex"])
    x, y = np.zeros((n, 2), "float32"), np.zeros(n, "float32")
    with pytest.raises(TypeError, match=r"\['method'\]"):
        BiasMonitor(x, y, columns, metric="demographic_parity_difference",
                    metric_kwargs={"agg": "mean"})
    with pytest.raises(ValueError, match="method='overall'"):
        BiasMonitor(x, y, columns, metric="equalized_odds_ratio",
                    metric_kwargs={"method": "overall"})
