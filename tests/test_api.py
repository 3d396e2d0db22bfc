"""One consistent public API: the rules of issue 17 §3, each checked where it once failed.

- every groups argument is ``groups`` (what ``Groups.from_columns`` takes), with
  fairlearn's ``sensitive_features`` as the alias;
- metrics take the data first and the metric as a keyword; ``greater_is_better`` is the
  one polarity word; ``every`` (with ``unit`` where steps make sense) the one cadence;
- one return type per kind;
- every sampler, weighting, schedule and callback round-trips its config through JSON;
- samplers are immutable;
- what an unreleased 0.1 does not need is gone.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

import fairtrain as ft
from fairtrain import registry
from fairtrain.sampling import (
    Adaptive,
    FairBatch,
    GroupBatchSampler,
    Homogeneous,
    InverseFrequency,
    Proportional,
    TargetShares,
)

LABELS = np.array(["a"] * 6 + ["b"] * 3 + ["c"] * 3)
GROUPS = ft.Groups.from_columns({"group": LABELS})
Y_TRUE = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1])
Y_PRED = np.array([0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1])
FAIRNESS_MEASURES = ["demographic_parity_difference", "demographic_parity_ratio",
                     "equal_opportunity_difference", "equal_opportunity_ratio",
                     "equalized_odds_difference", "equalized_odds_ratio"]


def _samplers() -> list[type[GroupBatchSampler]]:
    return sorted({registry.get("samplers", name) for name in registry.BUILTINS["samplers"]},
                  key=lambda c: c.__name__)


def _sampler_kwargs(cls: type) -> dict:
    kwargs = {"batch_size": 6, "seed": 3}
    if cls is TargetShares:
        kwargs["shares"] = {"a": 0.5, "c": 0.5}
    if cls is Adaptive:
        kwargs.update(step_size=0.7, momentum=0.5, initial_shares=[0.2, 0.3, 0.5])
    if cls is InverseFrequency:
        kwargs["power"] = 0.5
    if cls is FairBatch:
        kwargs.update(objective="equal_opportunity", positive=1, alpha=0.1)
    return kwargs


# FairBatch's groups are (label, sensitive group) cells: two attributes
CELL_COLUMNS = {"label": Y_TRUE, "group": LABELS}
CELLS = ft.Groups.from_columns(CELL_COLUMNS)


def _groups_for(cls: type) -> ft.Groups:
    return CELLS if cls is FairBatch else GROUPS


def _same_groups(a: ft.Groups, b: ft.Groups) -> None:
    assert a.names == b.names and a.attributes == b.attributes
    np.testing.assert_array_equal(a.codes, b.codes)


# ---------------------------------------------------------------------- groups
def test_group_dro_takes_a_column_of_labels():
    # GroupDRO(np.array(...)) failed: 'numpy.ndarray' object has no attribute 'counts'
    dro = ft.GroupDRO(LABELS, step_size=1.0)
    _same_groups(dro.groups, GROUPS)
    twin = ft.GroupDRO(GROUPS, step_size=1.0)
    np.testing.assert_array_equal(dro.update([0.1, 0.5, 0.2]), twin.update([0.1, 0.5, 0.2]))


def test_class_weight_takes_a_mapping_of_columns():
    # class_weight refused mappings; a mapping is groups as everywhere
    y = np.array([0, 1, 1, 1, 2, 2])
    expected = ft.class_weight(y)
    assert ft.class_weight({"ethnicity": y}) == expected
    assert ft.class_weight(sensitive_features=y) == expected


def test_group_loss_probe_takes_a_mapping_matched_to_the_consumers_groups():
    pytest.importorskip("keras")
    from fairtrain.callbacks import GroupLossProbe

    x = np.zeros((12, 2), dtype="float32")
    dro = ft.GroupDRO(GROUPS)
    probe = GroupLossProbe(x, Y_TRUE, {"group": LABELS}, consumers=[dro], size=12)
    np.testing.assert_array_equal(probe._codes, GROUPS.codes[probe.indices])
    # a probe whose labels come in another order still lands on the consumers' codes
    part = np.arange(6, 12)
    with pytest.warns(UserWarning, match=r"no example of group\(s\) \['a'\]"):
        probe = GroupLossProbe(x[part], Y_TRUE[part], LABELS[part], consumers=[dro], size=12)
    assert probe.names == list(GROUPS.names)
    np.testing.assert_array_equal(probe._codes, GROUPS.codes[part][probe.indices])


def _groups_callables():
    """(label, call(groups=..., sensitive_features=...) -> comparable result)."""
    pd_free = [
        *[(cls.__name__, lambda cls=cls, **g: cls(**g, **_sampler_kwargs(cls)).plan(1))
          for cls in _samplers() if cls is not FairBatch],
        ("GroupDRO", lambda **g: ft.GroupDRO(**g).example_weights()),
        ("group_weights", lambda **g: ft.group_weights(**g)),
        ("sample_weights", lambda **g: ft.sample_weights(**g)),
        ("CompositionLog", lambda **g: ft.CompositionLog(**g).record([0, 7, 11])),
        ("by_group", lambda **g: ft.metrics.by_group(Y_TRUE, Y_PRED, **g, metric="accuracy")),
        ("bias_report", lambda **g: ft.bias_report(Y_TRUE, Y_PRED, **g, metric="accuracy",
                                                   min_count=1).to_dict()),
        ("confusion_by_group", lambda **g: ft.metrics.confusion_by_group(
            Y_TRUE, Y_PRED, **g).matrices),
        *[(name, lambda name=name, **g: getattr(ft.metrics, name)(Y_TRUE, Y_PRED, **g))
          for name in FAIRNESS_MEASURES],
    ]
    return pd_free


@pytest.mark.parametrize(("label", "call"), _groups_callables(), ids=lambda v: v
                         if isinstance(v, str) else "")
def test_every_groups_argument_takes_groups_columns_and_sensitive_features(label, call):
    expected = call(groups=GROUPS)
    for kwargs in ({"groups": LABELS}, {"groups": {"group": LABELS}},
                   {"sensitive_features": LABELS}, {"sensitive_features": GROUPS}):
        got = call(**kwargs)
        if isinstance(expected, np.ndarray):
            np.testing.assert_array_equal(got, expected)
        else:
            assert got == expected, kwargs
    with pytest.raises(TypeError, match="not both"):
        call(groups=GROUPS, sensitive_features=LABELS)


def test_fairbatch_takes_groups_columns_and_sensitive_features():
    def plan(**g):
        return FairBatch(**g, **_sampler_kwargs(FairBatch)).plan(1)

    expected = plan(groups=CELLS)
    for kwargs in ({"groups": CELL_COLUMNS}, {"sensitive_features": CELL_COLUMNS},
                   {"sensitive_features": CELLS}):
        np.testing.assert_array_equal(plan(**kwargs), expected)
    with pytest.raises(TypeError, match="not both"):
        plan(groups=CELLS, sensitive_features=CELL_COLUMNS)


def _public_callables():
    """Every public function, class and method of fairtrain, by qualified name."""
    import dataclasses
    import importlib

    found = {}
    for package in ("sampling", "weighting", "metrics", "data", "callbacks", "schedules",
                    "datasets"):
        module = importlib.import_module(f"fairtrain.{package}")
        for name in module.__all__:
            obj = getattr(module, name)
            if dataclasses.is_dataclass(obj):  # a result's fields, not arguments
                continue
            if inspect.isclass(obj):
                found[f"{package}.{name}"] = obj.__init__
                for attr, member in vars(obj).items():
                    if callable(member) and not attr.startswith("_"):
                        found[f"{package}.{name}.{attr}"] = member
            elif callable(obj):
                found[f"{package}.{name}"] = obj
    return found


def test_no_public_signature_uses_the_old_names():
    pytest.importorskip("tensorflow")
    old = {"groups_val", "x_val", "y_val", "lower_is_better", "every_n_steps", "codes"}
    for name, fn in _public_callables().items():
        try:
            params = set(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            continue
        assert not params & old, (name, params & old)
        if "groups" in params and not name.startswith("datasets."):
            assert "sensitive_features" in params, name


# ---------------------------------------------------------------------- metrics
@pytest.mark.parametrize("fn", [ft.metrics.by_group, ft.metrics.to_metricframe,
                                ft.bias_report, ft.metrics.confusion_by_group,
                                *[getattr(ft.metrics, name) for name in FAIRNESS_MEASURES]],
                         ids=lambda fn: fn.__name__)
def test_metric_entry_points_take_the_data_first_and_the_metric_as_a_keyword(fn):
    params = list(inspect.signature(fn).parameters.values())
    assert [p.name for p in params[:3]] == ["y_true", "y_pred", "groups"]
    for p in params[3:]:
        assert p.kind is inspect.Parameter.KEYWORD_ONLY, p.name


def test_leaderboard_rank_says_greater_is_better_as_the_metrics_do():
    accuracy = [[0.9], [0.7], [0.8]]
    assert ft.metrics.leaderboard_rank(accuracy, greater_is_better=True).tolist() == [
        1.0, 3.0, 2.0]
    assert ft.metrics.leaderboard_rank(accuracy).tolist() == [3.0, 1.0, 2.0]  # errors


def test_one_cadence_word():
    keras = pytest.importorskip("keras")  # noqa: F841
    from fairtrain.callbacks import BiasMonitor, GroupLossProbe, StepDecayCallback

    for cls in (BiasMonitor, GroupLossProbe, StepDecayCallback, ft.schedules.StepDecay):
        assert "every" in inspect.signature(cls.__init__).parameters, cls
    assert inspect.signature(GroupLossProbe.__init__).parameters["unit"].default == "epoch"


# ---------------------------------------------------------------------- return types
def test_group_weights_are_keyed_by_str_with_or_without_labels():
    for labels in (None, Y_TRUE):
        weights = ft.group_weights(GROUPS, labels=labels)
        assert all(type(k) is str and type(v) is float for k, v in weights.items())
    # every cell, an empty one with 0.0, as class_weight gives every class
    assert list(ft.group_weights(GROUPS, labels=Y_TRUE)) == [
        f"group={g}|label={y}" for g in "abc" for y in (0, 1)]


def test_class_weight_is_keras_format_and_the_same_weights_as_group_weights():
    y = np.array([0, 1, 1, 3])
    by_class = ft.class_weight(y)
    assert all(type(k) is int and type(v) is float for k, v in by_class.items())
    by_name = ft.group_weights(ft.Groups.from_codes(y))
    assert list(by_class.values()) == list(by_name.values())


def test_a_metric_returns_one_float():
    for average in ("macro", "micro", "weighted", "binary"):
        assert type(ft.metrics.recall(Y_TRUE, Y_PRED, average=average)) is float
    with pytest.raises(TypeError, match="`average`"):
        ft.metrics.recall(Y_TRUE, Y_PRED, average=None)


def test_learned_state_histories_have_one_shape():
    sampler = Adaptive(GROUPS, batch_size=6)
    dro = ft.GroupDRO(GROUPS)
    for consumer in (sampler, dro):
        consumer.update([0.2, 0.5, 0.1], epoch=0)
        history = consumer.history
        assert all(isinstance(e, (int, type(None))) and isinstance(v, np.ndarray)
                   for e, v in history)
        state = json.loads(json.dumps(consumer.get_state()))
        assert [len(item) for item in state["history"]] == [2] * len(history)


# ---------------------------------------------------------------------- configs
def _json(config: dict) -> dict:
    return json.loads(json.dumps(config))


@pytest.mark.parametrize("cls", _samplers(), ids=lambda c: c.__name__)
def test_every_sampler_config_round_trips_through_json(cls):
    sampler = cls(_groups_for(cls), **_sampler_kwargs(cls))
    config = _json(sampler.get_config())
    again = cls.from_config(config)
    assert again.get_config() == sampler.get_config()
    for epoch in (0, 3):
        np.testing.assert_array_equal(again.plan(epoch), sampler.plan(epoch))


def test_groups_config_round_trips_through_json_with_merges_and_drops():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ft.GroupPolicyWarning)
        for policy in ("merge", "drop"):
            g = ft.Groups.from_columns({"a": list("xxyyyzzzzw"), "b": list("0101010101")},
                                       min_count=2, policy=policy)
            again = ft.Groups.from_config(_json(g.get_config()))
            _same_groups(again, g)
            np.testing.assert_array_equal(again.attribute_codes, g.attribute_codes)
            np.testing.assert_array_equal(again.cell_levels, g.cell_levels)
            assert again.report == g.report and again.levels == g.levels


def test_group_dro_config_round_trips_through_json():
    dro = ft.GroupDRO(GROUPS, step_size=0.3, batch_shares={"a": 0.5, "b": 0.25, "c": 0.25},
                      adjustment=1.0)
    again = ft.GroupDRO.from_config(_json(dro.get_config()))
    assert again.get_config() == dro.get_config()
    np.testing.assert_array_equal(again.update([1.0, 2.0, 3.0]), dro.update([1.0, 2.0, 3.0]))


def test_schedule_configs_round_trip_through_json():
    keras = pytest.importorskip("keras")
    from fairtrain.schedules import Stage, StagedTraining, StepDecay, two_stage

    decay = StepDecay(0.01, factor=0.5, every=3, steps_per_epoch=np.int64(10))
    assert StepDecay.from_config(_json(decay.get_config())).get_config() == decay.get_config()
    stage = Stage("head", trainable=["head"], frozen=("backbone",), epochs=2,
                  learning_rate=decay, optimizer=keras.optimizers.SGD(0.1))
    again = Stage.from_config(_json(stage.get_config()))
    assert again.get_config() == stage.get_config()
    assert float(again.learning_rate(30)) == pytest.approx(float(decay(30)))
    run = StagedTraining(two_stage((1, 1)), optimizer="sgd", loss=keras.losses.Huber(),
                         metrics=["mae"], backup_dir=None)
    again = StagedTraining.from_config(_json(run.get_config()))
    assert again.get_config() == run.get_config()


def test_callback_configs_round_trip_through_json_with_the_data_added_back():
    pytest.importorskip("keras")
    from fairtrain.callbacks import BiasMonitor, EpochSync, GroupLossProbe, StepDecayCallback

    cb = StepDecayCallback(0.01, factor=0.5, every=2)
    assert StepDecayCallback.from_config(_json(cb.get_config())).get_config() == cb.get_config()
    x = np.zeros((12, 1))
    monitor = BiasMonitor(x, Y_TRUE, GROUPS, metric="accuracy", every=2, min_count=1)
    data = {"x": x, "y": Y_TRUE, "groups": GROUPS}
    again = BiasMonitor.from_config({**_json(monitor.get_config()), **data})
    assert again.get_config() == monitor.get_config()
    dro = ft.GroupDRO(GROUPS)
    probe = GroupLossProbe(x, Y_TRUE, GROUPS, consumers=[dro], loss="mse", every=3,
                           unit="step", size=9)
    config = _json(probe.get_config())
    with pytest.raises(ValueError, match=r"\['x', 'y', 'groups', 'consumers'\]"):
        GroupLossProbe.from_config(config)  # GroupLossProbe had no from_config
    again = GroupLossProbe.from_config({**config, **data, "consumers": [dro]})
    assert again.get_config() == probe.get_config()
    np.testing.assert_array_equal(again.indices, probe.indices)
    feed = ft.data.SampledPyDataset(Homogeneous(GROUPS, batch_size=6), lambda i: i)
    sync = EpochSync(feed, validation=True)
    again = EpochSync.from_config({**_json(sync.get_config()), "feeds": [feed]})
    assert again.get_config() == sync.get_config() and again.covers(feed)


# ---------------------------------------------------------------------- immutability
@pytest.mark.parametrize("cls", _samplers(), ids=lambda c: c.__name__)
def test_samplers_are_immutable_after_construction(cls):
    sampler = cls(_groups_for(cls), **_sampler_kwargs(cls))
    plan = sampler.plan(0).copy()
    # `s.seed = 1` after plan(0) kept the cached plan; `s.batch_size = 8` gave
    # plan(0).shape == (4, 4) with steps_per_epoch == 2
    for name, value in [("seed", 1), ("batch_size", 8), ("groups", _groups_for(cls)),
                        *[(k, v) for k, v in _sampler_kwargs(cls).items()], ("anything", 1)]:
        with pytest.raises(AttributeError, match=f"{cls.__name__}.{name} cannot be changed.*"
                                                 "Build a new sampler"):
            setattr(sampler, name, value)
    with pytest.raises(AttributeError, match="cannot be deleted"):
        del sampler.seed
    np.testing.assert_array_equal(sampler.plan(0), plan)
    # the way to another seed: a new sampler from the config
    other = cls.from_config({**sampler.get_config(), "seed": 4})
    assert other.seed == 4 and sampler.seed == 3


def test_the_state_still_moves():
    sampler = Homogeneous(GROUPS, batch_size=6)
    sampler.set_state({"epoch": 2, "step": 1})
    sampler.next_batch()
    assert sampler.get_state() == {"epoch": 3, "step": 0}


# ---------------------------------------------------------------------- removals
def test_adapters_have_no_removed_argument_shims():
    pytest.importorskip("tensorflow")
    for fn in (ft.data.to_tf_dataset, ft.data.from_group_datasets,
               ft.data.SampledPyDataset.__init__):
        kinds = {p.kind for p in inspect.signature(fn).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, fn
    params = list(inspect.signature(ft.data.from_group_datasets).parameters)
    assert params[:2] == ["sampler", "datasets_by_group"]  # the adapters' one order


def test_adaptive_has_no_dead_schedule_arrays():
    assert "_schedule_arrays" not in vars(Adaptive)
    assert Proportional.__init__.__fairtrain_params__  # declared, not hand-checked
