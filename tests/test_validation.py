"""fairtrain._validation: declared constraints, one error shape, and the data checks.

The rule (the module docstring): a value of a type no constraint allows raises
TypeError, a value of an allowed type out of range raises ValueError; the message names
the parameter, the value and what is allowed. The table below holds it for every public
constructor and function that takes an int or a number.
"""

from __future__ import annotations

import math
from fractions import Fraction
from numbers import Integral, Real

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fairtrain as ft
from fairtrain._validation import (
    HasMethods,
    InstanceOf,
    Interval,
    Options,
    as_sample_weight,
    check,
    check_lengths,
    is_missing,
    param_error,
    validate_params,
)
from fairtrain.groups import as_groups


# ---------------------------------------------------------------------- the mechanism
@pytest.mark.parametrize(("constraint", "words"), [
    (Interval(Integral, 1, None), "an int >= 1"),
    (Interval(Integral, 0, 5, closed="left"), "an int in [0, 5)"),
    (Interval(Real, 0, None, closed="neither"), "a finite number > 0"),
    (Interval(Real, 0, 1, closed="right"), "a finite number in (0, 1]"),
    (Interval(Real, None, 2.5), "a finite number <= 2.5"),
    (Options(str, ("partial", "drop")), 'one of "partial", "drop"'),
    (InstanceOf(dict), "a dict"),
    (HasMethods(["update"]), "an object with update()"),
])
def test_constraints_say_what_is_allowed(constraint, words):
    assert str(constraint) == words


def test_the_one_error_shape_names_parameter_value_type_and_hint():
    with pytest.raises(TypeError) as info:
        check("batch_size", 2.0, Interval(Integral, 1, None), hint="Pass an int.")
    assert str(info.value) == (
        "`batch_size` must be an int >= 1; got batch_size=2.0 (float). Pass an int.")
    with pytest.raises(ValueError) as info:
        check("seed", -1, [Interval(Integral, 0, None), None])
    assert str(info.value) == "`seed` must be an int >= 0 or None; got seed=-1 (int)."
    error = param_error("batch_size", 3, "at least 4", hint="Increase it.")
    assert isinstance(error, ValueError)
    assert str(error) == "`batch_size` must be at least 4; got batch_size=3 (int). Increase it."


@pytest.mark.parametrize(("value", "error"), [
    (True, TypeError), (np.True_, TypeError),      # bool is not an int
    (2.0, TypeError), ("3", TypeError), (None, TypeError), (float("nan"), TypeError),
    (-1, ValueError), (np.int8(-3), ValueError),   # an int, out of range
])
def test_type_errors_and_value_errors_are_decided_once(value, error):
    with pytest.raises(error, match="`k` must be an int >= 0; got k="):
        check("k", value, Interval(Integral, 0, None))


@pytest.mark.parametrize("value", [np.int64(3), np.uint8(3), 3])
def test_numpy_integers_are_ints_and_come_back_as_python_ints(value):
    out = check("k", value, Interval(Integral, 0, None))
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value", [np.float32(0.5), np.float64(0.5), 0.5, 1, np.int64(1)])
def test_numbers_come_back_as_python_floats(value):
    out = check("lr", value, Interval(Real, 0, None, closed="neither"))
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize(("value", "error"), [
    (float("nan"), ValueError), (float("inf"), ValueError), (-0.5, ValueError),
    (0, ValueError), (True, TypeError), ("1", TypeError), (1j, TypeError),
])
def test_numbers_must_be_finite_and_in_range(value, error):
    with pytest.raises(error, match="`lr` must be a finite number > 0"):
        check("lr", value, Interval(Real, 0, None, closed="neither"))


@pytest.mark.parametrize("value", [10**400, -(10**400), Fraction(10**400, 3)],
                         ids=["huge", "huge-negative", "huge-fraction"])
def test_a_number_beyond_every_float_is_out_of_range(value):
    # review 4: Interval(Real).ok called float(value), an OverflowError outside the rule
    # (an allowed type out of range is a ValueError)
    with pytest.raises(ValueError, match="`lr` must be a finite number; got lr="):
        check("lr", value, Interval(Real, None, None))
    with pytest.raises(ValueError, match="`lr` must be a finite number >= 0; got lr="):
        check("lr", value, Interval(Real, 0, None))
    assert check("k", 10**400, Interval(Integral, 0, None)) == 10**400  # an int is exact


def test_a_huge_int_is_a_value_error_not_an_overflow_error():
    with pytest.raises(ValueError, match="`step_size` must be a finite number >= 0"):
        ft.GroupDRO(ft.Groups.from_columns({"g": list("aabbc")}), step_size=10**400)


def test_options_type_and_value():
    literal = Options(str, ("partial", "drop"))
    assert check("last_batch", "drop", literal) == "drop"
    with pytest.raises(ValueError, match="got last_batch='pad'"):
        check("last_batch", "pad", literal)
    with pytest.raises(TypeError, match="got last_batch=1 "):
        check("last_batch", 1, literal)


def test_validate_params_checks_converts_and_keeps_the_signature():
    import inspect

    @validate_params({"k": [Interval(Integral, 1, None)], "flag": ["boolean"]})
    def f(k, *, flag=False):
        """Doc."""
        return k, flag

    assert f(np.int64(2), flag=np.True_) == (2, True)
    assert type(f(np.int64(2))[0]) is int
    assert list(inspect.signature(f).parameters) == ["k", "flag"] and f.__doc__ == "Doc."
    with pytest.raises(TypeError, match="`flag` must be True or False"):
        f(1, flag="yes")
    with pytest.raises(TypeError, match=r"f\(\): .*unexpected keyword argument 'x'"):
        f(1, x=2)
    with pytest.raises(TypeError, match="has no parameter"):
        validate_params({"nope": [None]})(f.__wrapped__)


def test_array_like_refuses_a_metric_passed_where_the_data_go():
    assert check("y_true", [1, 2], "array-like") == [1, 2]
    for bad in ("mae", len):
        with pytest.raises(TypeError, match="`y_true` must be an array-like"):
            check("y_true", bad, "array-like")


# ---------------------------------------------------------------------- the table
GROUPS = ft.Groups.from_codes(np.repeat([0, 1], [6, 4]))
Y = np.linspace(0.0, 1.0, 10)


def _sampler():
    return ft.sampling.Homogeneous(GROUPS, batch_size=4)


def _keras():
    return pytest.importorskip("keras")


def _probe(**kw):
    _keras()
    from fairtrain.callbacks import GroupLossProbe

    return GroupLossProbe(Y[:, None], Y, GROUPS, consumers=[ft.GroupDRO(GROUPS)], **kw)


def _monitor(**kw):
    _keras()
    from fairtrain.callbacks import BiasMonitor

    return BiasMonitor(Y[:, None], Y, GROUPS, **kw)


def _step_decay(**kw):
    _keras()
    from fairtrain.schedules import StepDecay

    return StepDecay(**{"initial": 0.1, **kw})


def _step_decay_callback(**kw):
    _keras()
    from fairtrain.callbacks import StepDecayCallback

    return StepDecayCallback(**{"initial": 0.1, **kw})


def _stage(**kw):
    _keras()
    from fairtrain.schedules import Stage

    return Stage(**{"name": "s", "epochs": 1, "learning_rate": 1e-3, **kw})


def _pydataset(**kw):
    _keras()
    return ft.data.SampledPyDataset(_sampler(), lambda i: i, **kw)


def _tf_dataset(**kw):
    pytest.importorskip("tensorflow")
    return ft.data.to_tf_dataset(_sampler(), lambda i: i, vectorized=False, **kw)


S = ft.sampling
#: (label, build(**{name: value}), name, "int" | "real", smallest allowed value)
CASES = [
    ("Homogeneous", lambda **kw: S.Homogeneous(GROUPS, **{"batch_size": 4, **kw}),
     "batch_size", "int"),
    ("Homogeneous", lambda **kw: S.Homogeneous(GROUPS, batch_size=4, **kw), "seed", "int"),
    ("Homogeneous", lambda **kw: S.Homogeneous(GROUPS, batch_size=4, **kw),
     "steps_per_epoch", "int"),
    ("Proportional", lambda **kw: S.Proportional(GROUPS, **{"batch_size": 4, **kw}),
     "batch_size", "int"),
    ("Proportional", lambda **kw: S.Proportional(GROUPS, batch_size=4, **kw), "seed", "int"),
    ("InverseFrequency", lambda **kw: S.InverseFrequency(GROUPS, batch_size=4, **kw),
     "seed", "int"),
    ("InverseFrequency", lambda **kw: S.InverseFrequency(GROUPS, batch_size=4, **kw),
     "steps_per_epoch", "int"),
    ("TargetShares", lambda **kw: S.TargetShares(GROUPS, shares=[0.5, 0.5],
                                                **{"batch_size": 4, **kw}), "batch_size", "int"),
    ("Adaptive", lambda **kw: S.Adaptive(GROUPS, **{"batch_size": 4, **kw}), "batch_size",
     "int"),
    ("Adaptive", lambda **kw: S.Adaptive(GROUPS, batch_size=4, **kw), "seed", "int"),
    ("Adaptive", lambda **kw: S.Adaptive(GROUPS, batch_size=4, **kw), "step_size", "real"),
    ("Adaptive", lambda **kw: S.Adaptive(GROUPS, batch_size=4, **kw), "momentum", "real"),
    ("Adaptive", lambda **kw: S.Adaptive(GROUPS, batch_size=4, **kw), "min_share", "real"),
    ("plan", lambda **kw: _sampler().plan(**kw), "epoch", "int"),
    ("quotas", lambda **kw: _sampler().quotas(**kw), "epoch", "int"),
    ("GroupDRO", lambda **kw: ft.GroupDRO(GROUPS, **kw), "step_size", "real"),
    ("GroupDRO", lambda **kw: ft.GroupDRO(GROUPS, **kw), "adjustment", "real"),
    ("group_weights", lambda **kw: ft.group_weights(GROUPS, **kw), "clip", "real"),
    ("sample_weights", lambda **kw: ft.sample_weights(GROUPS, scheme="inverse", **kw), "c",
     "real"),
    ("class_weight", lambda **kw: ft.class_weight(GROUPS, scheme="effective_number", **kw),
     "beta", "real"),
    ("from_columns", lambda **kw: ft.Groups.from_columns(["a", "b"], **kw), "min_count", "int"),
    ("bias_report", lambda **kw: ft.bias_report(Y, Y, GROUPS, **kw), "min_count", "int"),
    ("bias_report", lambda **kw: ft.bias_report(Y, Y, GROUPS, **kw), "n_bootstrap", "int"),
    ("bias_report", lambda **kw: ft.bias_report(Y, Y, GROUPS, **kw), "seed", "int"),
    ("bias_report", lambda **kw: ft.bias_report(Y, Y, GROUPS, **kw), "confidence", "real"),
    ("SampledPyDataset", _pydataset, "steps_per_epoch", "int"),
    ("SampledPyDataset", _pydataset, "workers", "int"),
    ("SampledPyDataset", _pydataset, "max_queue_size", "int"),
    ("to_tf_dataset", _tf_dataset, "steps_per_epoch", "int"),
    ("StepDecay", _step_decay, "initial", "real"),
    ("StepDecay", _step_decay, "factor", "real"),
    ("StepDecay", _step_decay, "every", "int"),
    ("StepDecay", _step_decay, "steps_per_epoch", "int"),
    ("StepDecayCallback", _step_decay_callback, "every", "int"),
    ("StepDecayCallback", _step_decay_callback, "factor", "real"),
    ("Stage", _stage, "epochs", "int"),
    ("Stage", _stage, "learning_rate", "real"),
    ("BiasMonitor", _monitor, "every", "int"),
    ("BiasMonitor", _monitor, "batch_size", "int"),
    ("GroupLossProbe", _probe, "size", "int"),
    ("GroupLossProbe", _probe, "every", "int"),
    ("GroupLossProbe", _probe, "seed", "int"),
]
#: The same mistake, the same exception, wherever it is made.
BAD = {
    "int": [(2.0, TypeError), ("3", TypeError), (True, TypeError), (math.nan, TypeError),
            (-1, ValueError)],
    "real": [("3", TypeError), (True, TypeError), (math.nan, ValueError), (-1, ValueError)],
}


@pytest.mark.parametrize(
    ("build", "name", "value", "error"),
    [pytest.param(build, name, value, error, id=f"{label}-{name}-{value!r}")
     for label, build, name, kind in CASES for value, error in BAD[kind]],
)
def test_the_same_bad_value_raises_the_same_error_everywhere(build, name, value, error):
    with pytest.raises(error) as info:
        build(**{name: value})
    message = str(info.value)
    assert message.startswith(f"`{name}` must be "), message
    assert f"; got {name}={value!r} ({type(value).__name__})" in message, message


# Cheap NumPy-only callables for the property below (no Keras, no TensorFlow).
NUMPY_CASES = [c for c in CASES if c[0] in {
    "Homogeneous", "Proportional", "Adaptive", "GroupDRO", "from_columns", "bias_report",
    "plan"}]


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from(NUMPY_CASES), data=st.data())
def test_any_wrong_type_is_a_type_error_and_any_out_of_range_number_a_value_error(case, data):
    label, build, name, kind = case
    wrong_type = st.one_of(st.text(max_size=3), st.booleans(), st.lists(st.integers(), max_size=2))
    if kind == "int":
        wrong_type = wrong_type | st.floats()  # a float is never an int, even 2.0
        out_of_range = st.integers(max_value=-1)
    else:
        out_of_range = st.floats(max_value=-1e-9) | st.just(math.nan) | st.just(math.inf)
    value = data.draw(wrong_type)
    with pytest.raises(TypeError, match=f"`{name}` must be"):
        build(**{name: value})
    value = data.draw(out_of_range)
    with pytest.raises(ValueError, match=f"`{name}` must be"):
        build(**{name: value})


def test_every_case_is_declared_in_its_callables_table():
    # the constraint lives in one table per callable, not in hand-written checks
    tables = {
        "Homogeneous": S.Homogeneous.__init__, "Proportional": S.Proportional.__init__,
        "InverseFrequency": S.InverseFrequency.__init__, "TargetShares": S.TargetShares.__init__,
        "Adaptive": S.Adaptive.__init__, "plan": S.Homogeneous.plan, "quotas": S.Homogeneous.quotas,
        "GroupDRO": ft.GroupDRO.__init__, "group_weights": ft.group_weights,
        "bias_report": ft.bias_report,
    }
    for label, _, name, _ in CASES:
        if label in tables:
            assert name in tables[label].__fairtrain_params__, (label, name)


# ---------------------------------------------------------------------- data checks
@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=20))
def test_as_sample_weight_keeps_valid_weights(w):
    out = as_sample_weight(w, len(w))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.asarray(w, dtype=np.float64))
    assert as_sample_weight(w, len(w), dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(("w", "error", "match"), [
    ([1.0, -1.0], ValueError, "1 negative weight"),
    ([1.0, np.nan], ValueError, "NaN or infinite"),
    ([1.0], ValueError, r"shape \(2,\)"),
    ([[1.0, 1.0]], ValueError, r"shape \(2,\)"),
    (["a", "b"], TypeError, "numeric"),
])
def test_as_sample_weight_refuses(w, error, match):
    with pytest.raises(error, match=match):
        as_sample_weight(w, 2)
    assert as_sample_weight(None, 2) is None


def test_check_lengths():
    assert check_lengths(a=[1, 2], b=[3, 4], c=None) == 2
    with pytest.raises(ValueError, match="a=2, b=1"):
        check_lengths(a=[1, 2], b=[3])
    with pytest.raises(ValueError, match="empty"):
        check_lengths(a=[])


def test_is_missing():
    assert is_missing(np.array([1.0, np.nan])).tolist() == [False, True]
    assert is_missing(np.array(["a", None, float("nan")], dtype=object)).tolist() == [
        False, True, True]
    assert not is_missing(np.array([1, 2])).any()


def test_as_groups_one_rule():
    g = ft.Groups.from_columns({"g": ["a", "b"]})
    assert as_groups(g) is g
    assert as_groups(["a", "b"]).names == ("a", "b")
    assert as_groups({"x": [1, 2]}).attributes == ("x",)
    assert as_groups(ft.bins([15, 1], [0, 10, 20])).names == ("0-10", "10-20")
    assert as_groups(sensitive_features=["a", "b"]).names == ("a", "b")
    with pytest.raises(TypeError, match="not both"):
        as_groups(["a"], sensitive_features=["a"])
    with pytest.raises(TypeError, match="Pass the groups"):
        as_groups()
    with pytest.raises(ValueError, match="shape"):
        as_groups(np.zeros((2, 2)))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(), st.just(float("nan")), st.floats(allow_nan=False), st.text(max_size=3),
            st.integers(), st.just(np.float64("nan")), st.booleans(),
        ),
        max_size=30,
    )
)
def test_is_missing_on_objects_equals_the_per_value_rule(values):
    column = np.empty(len(values), dtype=object)
    column[:] = values
    expected = [v is None or (isinstance(v, float) and v != v) for v in values]
    np.testing.assert_array_equal(is_missing(column), np.asarray(expected, dtype=bool))


def test_is_missing_on_objects_whose_comparison_is_odd():
    class Odd:
        def __eq__(self, other):
            raise TypeError("no comparison")

        __hash__ = object.__hash__

    column = np.empty(3, dtype=object)
    column[:] = [Odd(), None, "a"]
    np.testing.assert_array_equal(is_missing(column), [False, True, False])


def _missing_kinds():
    pd = pytest.importorskip("pandas")
    return [
        pd.NA, pd.NaT, np.datetime64("NaT"), np.timedelta64("NaT"), np.float32("nan"),
        np.float16("nan"), float("nan"), None,
    ]


def test_every_kind_of_missing_value_is_missing():
    # np.float32 NaN, pandas NA / NaT and NumPy NaT were read as ordinary values:
    # pandas' NA raised "boolean value of NA is ambiguous", the others became a group
    values = _missing_kinds()
    column = np.empty(len(values) + 2, dtype=object)
    column[:] = [*values, "a", 1.5]
    assert is_missing(column).tolist() == [True] * len(values) + [False, False]
    dates = np.array(["2020-01-01", "NaT"], dtype="M8[D]")
    assert is_missing(dates).tolist() == [False, True]
    assert is_missing(dates - dates[0]).tolist() == [False, True]


@pytest.mark.parametrize("kind", range(8))
def test_groups_refuse_every_kind_of_missing_value_by_name(kind):
    import fairtrain as ft

    column = np.empty(3, dtype=object)
    column[:] = ["a", _missing_kinds()[kind], "b"]
    with pytest.raises(ValueError, match="missing value"):
        ft.Groups.from_columns({"g": column})


def test_groups_refuse_missing_values_of_pandas_and_numpy_dtypes():
    pd = pytest.importorskip("pandas")
    import fairtrain as ft

    for col in (
        pd.Series(["a", None, "b"], dtype="string"),
        pd.Series(pd.to_datetime(["2020-01-01", None])),
        np.array(["2020-01-01", "NaT"], dtype="M8[D]"),
    ):
        with pytest.raises(ValueError, match="missing value"):
            ft.Groups.from_columns({"g": col})


def test_an_int_option_takes_numpy_integers_as_the_python_int_but_never_a_bool():
    autotune = Options(int, (-1,))
    assert autotune.ok(np.int64(-1)) and autotune.ok(-1)
    assert type(autotune.convert(np.int64(-1))) is int
    assert not autotune.type_ok(True) and not autotune.type_ok(np.bool_(True))
    assert not autotune.ok(np.int64(-2))
