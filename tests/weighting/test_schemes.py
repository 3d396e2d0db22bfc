"""Tests for fairtrain.weights: schemes, front ends, agreement with scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.utils.class_weight import compute_class_weight

import fairtrain as ft
from fairtrain import registry
from fairtrain import weighting as weights
from fairtrain.testing import groups as groups_strategy

SCHEMES = ["balanced", "inverse", "sqrt_inverse", "effective_number", "reweighing"]


@st.composite
def codes_and_labels(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 120))
    n_groups = draw(st.integers(1, 6))
    n_labels = draw(st.integers(1, 4))
    codes = draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n))
    labels = draw(st.lists(st.integers(0, n_labels - 1), min_size=n, max_size=n))
    return np.array(codes), np.array(labels)


# ---------------------------------------------------------------------- registry
@pytest.mark.parametrize("name", SCHEMES)
def test_builtin_schemes_resolve_through_the_registry(name: str) -> None:
    assert registry.get("weights", name) is getattr(weights, name)


def test_top_level_names_are_the_weights_functions() -> None:
    assert ft.group_weights is weights.group_weights
    assert ft.sample_weights is weights.sample_weights
    assert ft.class_weight is weights.class_weight


def test_a_registered_third_party_scheme_is_used_by_name() -> None:
    @registry.register("weights", "test_constant_three")
    def constant(counts: np.ndarray, *, value: float = 3.0) -> np.ndarray:
        return np.full(np.shape(counts), value)

    try:
        g = ft.Groups.from_codes([0, 1, 1])
        assert ft.group_weights(g, scheme="test_constant_three") == {"0": 3.0, "1": 3.0}
        assert ft.sample_weights(g, scheme="test_constant_three", value=0.5).tolist() == [
            0.5, 0.5, 0.5
        ]
    finally:
        registry.unregister("weights", "test_constant_three")


# ---------------------------------------------------------------------- balanced
@given(codes=st.lists(st.integers(0, 7), min_size=1, max_size=200))
def test_balanced_equals_scikit_learn(codes: list[int]) -> None:
    y = np.array(codes)
    classes = np.unique(y)
    expected = compute_class_weight("balanced", classes=classes, y=y)
    g = ft.Groups.from_codes(y)  # names "0".."max": unused codes are empty cells
    got = ft.group_weights(g)
    # every cell, an empty one with 0.0: the same cells and rule as class_weight
    by_class = {int(c): float(w) for c, w in zip(classes, expected)}
    full = {c: by_class.get(c, 0.0) for c in range(int(y.max()) + 1)}
    assert list(got) == [str(c) for c in full]
    np.testing.assert_allclose(list(got.values()), list(full.values()), rtol=1e-12)
    assert ft.class_weight(y) == pytest.approx(full)


@given(g=groups_strategy(max_groups=8, max_count=60))
def test_balanced_gives_every_group_the_same_total_weight(g: ft.Groups) -> None:
    w = ft.sample_weights(g)
    totals = np.bincount(g.codes, weights=w)
    np.testing.assert_allclose(totals, len(g) / g.n_groups, rtol=1e-12)
    assert w.mean() == pytest.approx(1.0)


def test_balanced_and_inverse_reproduce_the_reference_rule() -> None:
    """The apparent-age team: N / (2 n_g) over the intersectional cells."""
    rng = np.random.default_rng(0)
    cols = {
        "gender": rng.choice(["f", "m"], 300),
        "ethnicity": rng.choice(["asian", "afro", "caucasian"], 300, p=[0.2, 0.1, 0.7]),
        "age": ft.bins(rng.uniform(0, 90, 300), [0, 20, 40, 60, 90]),
    }
    g = ft.Groups.from_columns(cols)
    w = ft.sample_weights(g, scheme="inverse", c=2)
    n_g = g.counts[g.codes]
    np.testing.assert_allclose(w, 300 / (2 * n_g), rtol=1e-12)
    # with c = k (non-empty cells) inverse is balanced
    k = int(np.count_nonzero(g.counts))
    np.testing.assert_allclose(ft.sample_weights(g, scheme="inverse", c=k),
                               ft.sample_weights(g), rtol=1e-12)


# ---------------------------------------------------------------------- other schemes
@given(g=groups_strategy(max_groups=6, max_count=80), c=st.floats(0.1, 10))
def test_sqrt_inverse_is_the_square_root_of_inverse(g: ft.Groups, c: float) -> None:
    np.testing.assert_allclose(
        ft.sample_weights(g, scheme="sqrt_inverse", c=c) ** 2,
        ft.sample_weights(g, scheme="inverse", c=c),
        rtol=1e-12,
    )


@given(
    counts=st.lists(st.integers(1, 500), min_size=1, max_size=8),
    beta=st.floats(0.0, 0.9999),
)
def test_effective_number_matches_cui_et_al(counts: list[int], beta: float) -> None:
    n = np.array(counts, dtype=float)
    raw = (1 - beta) / (1 - beta**n) if beta > 0 else np.ones_like(n)
    expected = raw * len(n) / raw.sum()
    got = weights.effective_number(counts, beta=beta)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert got.sum() == pytest.approx(len(counts))
    # rarer cells never weigh less
    order = np.argsort(n, kind="stable")
    assert np.all(np.diff(got[order]) <= 1e-12 * got.max())


def test_effective_number_limits() -> None:
    assert weights.effective_number([5, 50, 500], beta=0.0).tolist() == [1.0, 1.0, 1.0]
    near_one = weights.effective_number([5, 50, 500], beta=1 - 1e-9)
    inv = 1 / np.array([5, 50, 500])
    np.testing.assert_allclose(near_one, inv * 3 / inv.sum(), rtol=1e-5)


@given(data=codes_and_labels())
def test_reweighing_makes_groups_and_labels_independent(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    codes, labels = data
    # every (group, label) cell occupied: then independence is exact
    n_groups, n_labels = codes.max() + 1, labels.max() + 1
    gg, yy = np.meshgrid(np.arange(n_groups), np.arange(n_labels), indexing="ij")
    codes = np.concatenate([codes, gg.ravel()])
    labels = np.concatenate([labels, yy.ravel()])
    g = ft.Groups.from_codes(codes)
    w = ft.sample_weights(g, scheme="reweighing", labels=labels)
    joint = np.zeros((n_groups, n_labels))
    np.add.at(joint, (codes, labels), w)
    p_joint = joint / w.sum()
    p_g = np.bincount(codes) / len(codes)
    p_y = np.bincount(labels) / len(labels)
    np.testing.assert_allclose(p_joint, np.outer(p_g, p_y), atol=1e-12)
    assert w.sum() == pytest.approx(len(codes))


@given(data=codes_and_labels())
def test_reweighing_gives_each_nonempty_cell_its_independent_mass(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    codes, labels = data
    w = ft.sample_weights(ft.Groups.from_codes(codes), scheme="reweighing", labels=labels)
    n = len(codes)
    joint = np.zeros((codes.max() + 1, labels.max() + 1))
    np.add.at(joint, (codes, labels), w)
    counts = np.zeros_like(joint)
    np.add.at(counts, (codes, labels), 1)
    expected = np.outer(np.bincount(codes), np.bincount(labels)) / n
    np.testing.assert_allclose(joint[counts > 0], expected[counts > 0], rtol=1e-12)
    assert np.all(joint[counts == 0] == 0)


def test_reweighing_cells_are_keyed_by_group_and_label() -> None:
    g = ft.Groups.from_columns({"gender": ["f", "f", "m", "m", "m", "m"]})
    got = ft.group_weights(g, scheme="reweighing", labels=["a", "b", "a", "a", "a", "b"])
    # P(f)=1/3, P(a)=2/3, P(f,a)=1/6 -> 4/3
    assert got == pytest.approx({"gender=f|label=a": 4 / 3, "gender=f|label=b": 2 / 3,
                                 "gender=m|label=a": 8 / 9, "gender=m|label=b": 4 / 3})


@given(g=groups_strategy(max_groups=4, max_count=20), data=st.data())
def test_group_label_cells_are_named_as_groups_names_the_cells_with_a_label_column(g, data):
    # one key type (str) whatever the cells: a (group, label) cell is the cell
    # Groups.from_columns makes of the attributes plus a "label" column
    labels = np.array(data.draw(st.lists(st.sampled_from("xyz"), min_size=len(g),
                                         max_size=len(g))))
    got = ft.group_weights(g, scheme="balanced", labels=labels)
    assert all(isinstance(k, str) for k in got)
    columns = {a: np.asarray(g.levels[a])[g.attribute_codes[:, j]]
               for j, a in enumerate(g.attributes)}
    oracle = ft.Groups.from_columns({**columns, "label": labels})
    nonempty = {k for k, w in got.items() if w > 0}
    assert nonempty == set(oracle.names)


def test_labels_make_other_schemes_work_on_group_label_cells() -> None:
    g = ft.Groups.from_codes([0, 0, 0, 1])
    w = ft.sample_weights(g, labels=[0, 0, 1, 1])
    # cells (0,0):2, (0,1):1, (1,1):1 -> N/(k n) = 4/(3 n)
    np.testing.assert_allclose(w, [2 / 3, 2 / 3, 4 / 3, 4 / 3])


# ---------------------------------------------------------------------- options
@given(
    g=groups_strategy(max_groups=6, max_count=60),
    scheme=st.sampled_from(["balanced", "inverse", "sqrt_inverse", "effective_number"]),
)
def test_normalize_gives_mean_one(g: ft.Groups, scheme: str) -> None:
    w = ft.sample_weights(g, scheme=scheme, normalize=True)
    assert w.mean() == pytest.approx(1.0, rel=1e-12)


@given(g=groups_strategy(min_groups=2, max_groups=6, max_count=60), clip=st.floats(0.2, 3))
def test_clip_caps_after_normalizing(g: ft.Groups, clip: float) -> None:
    raw = ft.sample_weights(g, scheme="inverse", normalize=True)
    w = ft.sample_weights(g, scheme="inverse", normalize=True, clip=clip)
    np.testing.assert_allclose(w, np.minimum(raw, clip))
    assert w.max() <= clip


def test_excluded_examples_get_weight_zero_and_are_not_counted() -> None:
    g = ft.Groups(np.array([0, -1, 1, 1, -1]), ["a", "b"])
    w = ft.sample_weights(g, normalize=True)
    assert w[[1, 4]].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(w[[0, 2, 3]], [1.5, 0.75, 0.75])
    assert ft.group_weights(g) == {"a": 1.5, "b": 0.75}


def test_class_weight_feeds_keras_fit_class_weight_shape() -> None:
    g = ft.Groups.from_codes(np.array([0, 2, 2, 2]), ["a", "b", "c"])
    cw = ft.class_weight(g)
    assert cw == {0: 2.0, 1: 0.0, 2: pytest.approx(2 / 3)}
    assert all(isinstance(k, int) for k in cw)


# ---------------------------------------------------------------------- bad input
def _g() -> ft.Groups:
    return ft.Groups.from_codes([0, 1, 1, 1])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"scheme": "balancd"}, ValueError, "Did you mean 'balanced'"),
        ({"scheme": 3}, TypeError, "`scheme` must be"),
        ({"scheme": "inverse", "d": 2}, TypeError, r"does not accept the options \['d'\]"),
        ({"scheme": "inverse", "c": 0}, ValueError, r"`c` must be a finite number > 0; got c=0"),
        ({"scheme": "inverse", "c": "2"}, TypeError, r"`c` must be a finite number > 0; got c='2'"),
        ({"scheme": "effective_number", "beta": 1.0}, ValueError,
         r"`beta` must be a finite number in \[0, 1\); got beta=1.0 \(float\). Cui et al."),
        ({"scheme": "reweighing"}, ValueError, "needs a .group x label. count table"),
        ({"labels": [0, 1, 0]}, ValueError, r"one entry per example \(4\); got 3"),
        ({"labels": [0.0, 1.0, np.nan, 0.0]}, ValueError, "NaN"),
        ({"labels": [0.5, 1.0, 0.0, 0.0]}, ValueError, "must be discrete"),
        ({"labels": np.eye(4)}, ValueError, "argmax"),
        ({"clip": -1.0}, ValueError, "`clip` must be a finite number > 0 or None"),
        ({"normalize": "yes"}, TypeError, "`normalize` must be True or False"),
    ],
    ids=lambda v: str(v) if not isinstance(v, dict) else ",".join(v),
)
def test_bad_input_is_rejected(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        ft.sample_weights(_g(), **kwargs)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (lambda counts: -np.ones(np.shape(counts)), "negative, NaN or infinite"),
        (lambda counts: np.full(np.shape(counts), np.nan), "negative, NaN or infinite"),
        (lambda counts: np.ones(3), r"one weight per cell, shape \(2,\)"),
    ],
    ids=["negative", "nan", "shape"],
)
def test_a_bad_scheme_output_is_an_error(bad, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ft.group_weights(_g(), scheme=bad)


def test_raw_columns_are_made_into_groups_as_everywhere() -> None:
    # the one rule: a Groups, or what Groups.from_columns takes
    np.testing.assert_array_equal(
        ft.sample_weights(["a", "b", "b"]),
        ft.sample_weights(ft.Groups.from_columns(["a", "b", "b"])),
    )
    assert ft.group_weights({"g": ["a", "b", "b"]}) == {"a": 1.5, "b": 0.75}
    with pytest.raises(ValueError, match="one column of group labels"):
        ft.sample_weights(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="non-negative integer class labels"):
        ft.class_weight([0.5, 1.0])


def test_all_excluded_is_an_error() -> None:
    with pytest.raises(ValueError, match="no included example"):
        ft.sample_weights(ft.Groups(np.array([-1, -1]), ["a"]))


def test_schemes_reject_bad_count_tables() -> None:
    with pytest.raises(ValueError, match="finite non-negative"):
        weights.balanced([1, -2])
    with pytest.raises(ValueError, match="all cells are empty"):
        weights.inverse([0, 0])
    assert math.isclose(weights.balanced([[1, 3], [0, 0]])[0, 0], 2.0)


# ---------------------------------------------------------------------- multi-output
def _two_output_setup() -> tuple[ft.Groups, np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(3)
    groups = ft.Groups.from_codes(np.repeat([0, 1, 2], [30, 12, 6]))
    x = rng.normal(size=(48, 3)).astype("float32")
    y = {"age": rng.normal(size=(48, 1)).astype("float32"),
         "gender": rng.normal(size=(48, 1)).astype("float32")}
    return groups, x, y


def _two_output_model():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    trunk = keras.layers.Dense(4, name="trunk")(inputs)
    model = keras.Model(inputs, {"age": keras.layers.Dense(1, name="age")(trunk),
                                 "gender": keras.layers.Dense(1, name="gender")(trunk)})
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss={"age": "mse", "gender": "mse"})
    return model


def _heads(model) -> dict[str, np.ndarray]:
    return {name: model.get_layer(name).get_weights()[0].copy() for name in ("age", "gender")}


def _check_routing(fit_with) -> None:
    """Per-output weights reach their own output: a zero-weighted output does not learn."""
    groups, x, y = _two_output_setup()
    balanced_w = ft.sample_weights(groups)
    for trained, silent in (("age", "gender"), ("gender", "age")):
        model = _two_output_model()
        before = _heads(model)
        fit_with(model, groups, x, y, {trained: balanced_w, silent: np.zeros(48)})
        after = _heads(model)
        assert not np.array_equal(before[trained], after[trained])
        np.testing.assert_array_equal(before[silent], after[silent])


@pytest.mark.keras_backend
def test_per_output_weights_reach_a_two_output_model_through_the_pydataset_adapter() -> None:
    from fairtrain.data import SampledPyDataset

    def fit_with(model, groups, x, y, w):
        sampler = ft.sampling.Homogeneous(groups, batch_size=12, seed=0)
        ds = SampledPyDataset(sampler, lambda i: (x[i], {k: v[i] for k, v in y.items()}),
                              sample_weight=w)
        first = ds[0]
        assert set(first[2]) == {"age", "gender"}
        np.testing.assert_allclose(first[2]["age"], w["age"][ds.indices(0)], rtol=1e-6)
        model.fit(ds, epochs=2, verbose=0, callbacks=[ft.data.EpochSync(ds)])

    _check_routing(fit_with)


def test_per_output_weights_reach_a_two_output_model_through_the_tf_data_adapter() -> None:
    tf = pytest.importorskip("tensorflow")
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.data with model.fit is exercised under the TensorFlow backend")
    from fairtrain.data import to_tf_dataset

    def fit_with(model, groups, x, y, w):
        sampler = ft.sampling.Homogeneous(groups, batch_size=12, seed=0)
        tx = tf.constant(x)
        ty = {k: tf.constant(v) for k, v in y.items()}

        def load(i):
            return tf.gather(tx, i), {k: tf.gather(v, i) for k, v in ty.items()}

        ds = to_tf_dataset(sampler, load, sample_weight=w)
        model.fit(ds, epochs=2, shuffle=False, verbose=0, callbacks=[ft.data.EpochSync(ds)])

    _check_routing(fit_with)


def test_sample_weights_match_keras_weighted_loss_for_each_output() -> None:
    """Direct ``fit``/``evaluate`` with a per-output dict: the loss is Σ w·l / n."""
    import keras

    groups, x, y = _two_output_setup()
    w = {"age": ft.sample_weights(groups),
         "gender": ft.sample_weights(groups, scheme="inverse", c=2, normalize=True)}
    model = _two_output_model()
    model.fit(x, y, sample_weight=w, batch_size=48, epochs=1, verbose=0)
    pred = model.predict(x, verbose=0)
    got = model.evaluate(x, y, sample_weight=w, batch_size=48, verbose=0, return_dict=True)
    for name in ("age", "gender"):
        sq = (keras.ops.convert_to_numpy(pred[name]) - y[name])[:, 0] ** 2
        assert got[f"{name}_loss"] == pytest.approx(np.mean(w[name] * sq), rel=1e-5)


def test_class_weight_refuses_groups_whose_integer_names_are_not_their_codes() -> None:
    # Groups.from_columns({"y": [0, 2, 2, 2]}) has codes 0, 1 for classes 0, 2: the
    # weight of class 2 went to Keras' class 1 without a word
    g = ft.Groups.from_columns({"y": [0, 2, 2, 2]})
    with pytest.raises(ValueError, match="class indices"):
        ft.class_weight(g)
    # names that are the codes, or that are not integers (the label is the group), pass
    assert ft.class_weight(ft.Groups.from_columns({"y": [0, 1, 1, 1]})) == ft.class_weight(
        [0, 1, 1, 1]
    )
    assert set(ft.class_weight(ft.Groups.from_columns({"y": ["a", "b", "b"]}))) == {0, 1}


@pytest.mark.parametrize(
    "y", [[0.0, 2.0, 2.0, 2.0], [1.0, 2.0, 2.0, 2.0], [0.5, 1.5, 1.5]], ids=["0,2", "1,2", "0.5"]
)
def test_class_weight_of_a_float_label_column_keys_the_true_class_indices(y: list) -> None:
    # review 4: {"y": [0., 2., 2., 2.]} was named "0.0", "2.0" (not decimal integers),
    # so the guard above let it through and class 2's weight went to Keras' class 1
    y = np.asarray(y)
    classes = np.unique(y)
    try:
        got = ft.class_weight({"y": y})
    except (TypeError, ValueError):
        return  # refusing the column, as the 1-D float array is refused, is also right
    assert np.array_equal(classes, classes.astype(int)), got  # 0.5 is no class index
    oracle = dict(zip(classes.astype(int).tolist(),
                      compute_class_weight("balanced", classes=classes, y=y)))
    for label, weight in oracle.items():
        assert got.get(label) == pytest.approx(weight), (got, oracle)
    assert all(got.get(k, 0.0) == 0.0 for k in range(int(classes.max())) if k not in oracle)


def test_class_weight_of_float_labels_that_are_the_class_indices_agrees_with_sklearn() -> None:
    y = np.array([0.0, 1.0, 1.0, 1.0, 2.0])
    oracle = compute_class_weight("balanced", classes=np.unique(y), y=y)
    assert ft.class_weight({"y": y}) == pytest.approx(dict(enumerate(oracle)))
