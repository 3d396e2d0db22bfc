"""FairBatch: the paper's two-group step by hand and step for step, exact quotas, resume."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fairtrain import Groups
from fairtrain.sampling import FairBatch
from fairtrain.testing import check_sampler

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

OBJECTIVES = ["equal_opportunity", "equalized_odds", "demographic_parity"]
ROOT = Path(__file__).resolve().parents[2]


def _groups(counts, sensitive=("a", "b")):
    """Groups of (label, sex) cells; counts[y][z] examples of label y and group z."""
    labels, sexes = [], []
    for y, row in enumerate(counts):
        for z, n in enumerate(row):
            labels += [y] * n
            sexes += [sensitive[z]] * n
    return Groups.from_columns({"label": labels, "sex": sexes})


# The hand-written case: label 0 has 30 of group a and 10 of b, label 1 has 20 of a and
# 40 of b (n = 100, P(y=1) = 0.6). Cells in code order: (0,a) (0,b) (1,a) (1,b).
HAND = [[30, 10], [20, 40]]


def _fb(objective, alpha=0.1, counts=HAND, **kw):
    return FairBatch(_groups(counts), batch_size=10, objective=objective, positive=1,
                     alpha=alpha, **kw)


def test_equal_opportunity_two_groups_step_by_step_by_hand():
    fb = _fb("equal_opportunity")
    # lb1 is the paper's lambda: group b's fraction of the positives, 40 / 60 at first.
    np.testing.assert_allclose(fb.lambdas, [[0.75, 0.25], [1 / 3, 2 / 3]], rtol=1e-12)
    up, down = [0.9, 0.1, 0.3, 0.7], [0.1, 0.9, 0.7, 0.3]  # (1,b) above / below (1,a)
    steps = [  # losses, lb1 after the step, the shares after it (written out by hand)
        (up, 0.766666666666667, [0.3, 0.1, 0.14, 0.46]),
        (down, 0.666666666666667, [0.3, 0.1, 0.2, 0.4]),
        (up, 0.766666666666667, [0.3, 0.1, 0.14, 0.46]),
        (up, 0.866666666666667, [0.3, 0.1, 0.08, 0.52]),
        (up, 0.966666666666667, [0.3, 0.1, 0.02, 0.58]),
        (up, 1.0, [0.3, 0.1, 0.0, 0.6]),  # clipped: only 1/30 was left to move
        (up, 1.0, [0.3, 0.1, 0.0, 0.6]),  # at the bound: nothing moves
        (down, 0.9, [0.3, 0.1, 0.06, 0.54]),
    ]
    for losses, lb1, shares in steps:
        np.testing.assert_allclose(fb.update(losses), shares, rtol=0, atol=1e-12)
        np.testing.assert_allclose(fb.lambdas[1], [1 - lb1, lb1], rtol=0, atol=1e-12)
        # the negatives keep their population shares whatever their losses
        np.testing.assert_allclose(fb.lambdas[0], [0.75, 0.25], rtol=0, atol=1e-12)
    assert fb.log_values()["fairbatch_step"] == pytest.approx(0.1)
    # shares (0.3, 0.1, 0, 0.6) of a batch of 10 are exactly (3, 1, 0, 6) per batch
    fb2 = _fb("equal_opportunity")
    for losses, *_ in steps[:6]:
        fb2.update(losses)
    assert fb2.quotas(0).tolist() == [[3, 1, 0, 6]] * fb2.steps_per_epoch


def test_equalized_odds_two_groups_step_by_step_by_hand():
    fb = _fb("equalized_odds")
    # lb1 = group b's fraction of label 1 (2/3), lb2 = its fraction of label 0 (1/4)
    steps = [
        # gaps: label 0 |0.9 - 0.2| = 0.7 > label 1 |0.6 - 0.5|: label 0 moves toward b
        ([0.2, 0.9, 0.5, 0.6], 2 / 3, 0.35, [0.26, 0.14, 0.2, 0.4]),
        # gaps 0.05 < 0.6: label 1 moves toward a, its higher-loss group
        ([0.5, 0.45, 0.9, 0.3], 2 / 3 - 0.1, 0.35, [0.26, 0.14, 0.26, 0.34]),
        # equal gaps (0.25 both, exact in binary): the paper's `else`, label 0 moves
        ([0.25, 0.5, 0.75, 0.5], 2 / 3 - 0.1, 0.45, [0.22, 0.18, 0.26, 0.34]),
    ]
    for losses, lb1, lb2, shares in steps:
        np.testing.assert_allclose(fb.update(losses), shares, rtol=0, atol=1e-12)
        np.testing.assert_allclose(fb.lambdas, [[1 - lb2, lb2], [1 - lb1, lb1]], atol=1e-12)


def test_demographic_parity_two_groups_step_by_step_by_hand():
    fb = _fb("demographic_parity")
    assert fb.loss_target == 1
    # v_yz = l'_yz * n_yz / n_z with n_a = n_b = 50: v = l' * (0.6, 0.2, 0.4, 0.8)
    # 1. l' = (1, 1, .5, .5): v = (.6, .2, .2, .4); label 0's gap .4 > .2, and for the
    #    negative label the group with the LOWER v gains (b): lb2 0.25 -> 0.35.
    np.testing.assert_allclose(fb.update([1.0, 1.0, 0.5, 0.5]), [0.26, 0.14, 0.2, 0.4],
                               atol=1e-12)
    np.testing.assert_allclose(fb.log_values()["fairbatch_loss"], [0.6, 0.2, 0.2, 0.4])
    # 2. l' = (.5, 1, 1, .25): v = (.3, .2, .4, .2); label 1's gap .2 > .1: the higher
    #    v (a) gains, lb1 2/3 -> 2/3 - 0.1.
    np.testing.assert_allclose(fb.update([0.5, 1.0, 1.0, 0.25]), [0.26, 0.14, 0.26, 0.34],
                               atol=1e-12)
    np.testing.assert_allclose(fb.lambdas, [[0.65, 0.35], [1 / 3 + 0.1, 2 / 3 - 0.1]],
                               atol=1e-12)


def _paper_step(objective, lb1, lb2, loss, n, alpha):
    """The paper's two-group outer step, as published (labels 0/1, groups 0/1).

    ``lb1``: group 1's fraction of label 1; ``lb2``: of label 0. ``loss[y][z]``: the
    cell's mean loss (for DP, the loss of predicting 1); ``n[y][z]``: cell sizes.
    """
    if objective == "demographic_parity":
        n_z = [n[0][z] + n[1][z] for z in (0, 1)]
        loss = [[loss[y][z] * n[y][z] / n_z[z] for z in (0, 1)] for y in (0, 1)]
    gap1 = abs(loss[1][1] - loss[1][0])
    gap0 = abs(loss[0][1] - loss[0][0])
    if objective == "equal_opportunity" or gap1 > gap0:
        lb1 += alpha if loss[1][1] > loss[1][0] else -alpha
    elif objective == "equalized_odds":
        lb2 += alpha if loss[0][1] > loss[0][0] else -alpha
    else:
        lb2 += -alpha if loss[0][1] > loss[0][0] else alpha
    return min(max(lb1, 0.0), 1.0), min(max(lb2, 0.0), 1.0)


@settings(max_examples=80, deadline=None)
@given(
    objective=st.sampled_from(OBJECTIVES),
    counts=st.lists(st.integers(1, 30), min_size=4, max_size=4),
    alpha=st.sampled_from([0.005, 0.05, 0.1, 0.3]),
    data=st.data(),
)
def test_two_groups_follow_the_paper_step_for_step(objective, counts, alpha, data):
    n = [counts[:2], counts[2:]]
    fb = _fb(objective, alpha=alpha, counts=n)
    lb1, lb2 = n[1][1] / sum(n[1]), n[0][1] / sum(n[0])
    for _ in range(data.draw(st.integers(1, 25))):
        flat = data.draw(st.lists(st.floats(0.01, 5.0), min_size=4, max_size=4))
        loss = [flat[:2], flat[2:]]
        v = loss
        if objective == "demographic_parity":
            n_z = [n[0][z] + n[1][z] for z in (0, 1)]
            v = [[loss[y][z] * n[y][z] / n_z[z] for z in (0, 1)] for y in (0, 1)]
        # exact ties (measure zero) are where the paper moves and FairBatch does not
        assume(v[0][0] != v[0][1] and v[1][0] != v[1][1])
        assume(abs(v[1][1] - v[1][0]) != abs(v[0][1] - v[0][0]))
        lb1, lb2 = _paper_step(objective, lb1, lb2, loss, n, alpha)
        fb.update(flat)
        np.testing.assert_allclose(fb.lambdas[1, 1], lb1, rtol=0, atol=1e-9)
        np.testing.assert_allclose(fb.lambdas[0, 1], lb2, rtol=0, atol=1e-9)


# ---------------------------------------------------------------- many groups and labels
cells_st = st.integers(2, 4).flatmap(
    lambda n_labels: st.integers(2, 4).flatmap(
        lambda n_groups: st.lists(
            st.lists(st.integers(1, 12), min_size=n_groups, max_size=n_groups),
            min_size=n_labels,
            max_size=n_labels,
        )
    )
)


def _k_groups(counts):
    return _groups(counts, sensitive=tuple("abcd"))


@settings(max_examples=60, deadline=None)
@given(counts=cells_st, objective=st.sampled_from(OBJECTIVES), data=st.data(),
       alpha=st.floats(0.0, 0.5))
def test_each_objective_moves_one_label_toward_its_target(counts, objective, data, alpha):
    if objective == "demographic_parity":
        counts = counts[:2]  # DP: two labels
    n_labels, k = len(counts), len(counts[0])
    positive = data.draw(st.integers(0, n_labels - 1))
    fb = FairBatch(_k_groups(counts), batch_size=8, objective=objective, positive=positive,
                   alpha=alpha)
    label_share = np.array([sum(r) for r in counts]) / sum(map(sum, counts))
    for _ in range(data.draw(st.integers(1, 4))):
        before = fb.lambdas
        flat = data.draw(st.lists(st.floats(0.0, 5.0), min_size=n_labels * k,
                                  max_size=n_labels * k))
        shares = fb.update(flat)
        after = fb.lambdas
        v = fb.log_values()["fairbatch_loss"].reshape(n_labels, k)
        assert np.all(after >= -1e-15) and np.all(after <= 1 + 1e-15)
        np.testing.assert_allclose(after.sum(axis=1), 1.0, atol=1e-12)
        np.testing.assert_allclose(shares.reshape(n_labels, k).sum(axis=1), label_share,
                                   atol=1e-12)
        moved = np.flatnonzero(np.any(after != before, axis=1))
        assert moved.size <= 1
        gaps = v.max(axis=1) - v.min(axis=1)
        if objective == "equal_opportunity":
            assert set(moved) <= {positive}
        elif moved.size:
            assert gaps[moved[0]] == gaps.max()
        for y in moved:
            change = after[y] - before[y]
            gain, loss = int(np.argmax(change)), int(np.argmin(change))
            assert np.count_nonzero(change) <= 2 and change[gain] <= alpha + 1e-12
            toward_higher = objective != "demographic_parity" or y == positive
            if toward_higher:
                assert v[y, gain] == v[y].max() and v[y, loss] < v[y, gain]
            else:
                assert v[y, gain] == v[y].min() and v[y, loss] > v[y, gain]


def test_equal_opportunity_with_three_groups_moves_from_the_best_served_to_the_worst():
    fb = FairBatch(_k_groups([[10, 10, 10], [10, 20, 30]]), batch_size=6,
                   objective="equal_opportunity", positive=1, alpha=0.1)
    fb.update([0.5, 0.5, 0.5, 0.9, 0.1, 0.4])  # positives: a worst, b best
    np.testing.assert_allclose(fb.lambdas[1], [1 / 6 + 0.1, 2 / 6 - 0.1, 3 / 6])
    # a group whose split is 0 cannot give: the next best-served one gives instead
    fb = FairBatch(_k_groups([[10, 10, 10], [10, 20, 30]]), batch_size=6,
                   objective="equal_opportunity", positive=1, alpha=0.5)
    fb.update([0.5, 0.5, 0.5, 0.9, 0.1, 0.4])
    np.testing.assert_allclose(fb.lambdas[1], [1 / 6 + 1 / 3, 0.0, 0.5], atol=1e-12)
    fb.update([0.5, 0.5, 0.5, 0.9, 0.1, 0.4])
    np.testing.assert_allclose(fb.lambdas[1], [1.0, 0.0, 0.0], atol=1e-12)


def test_unmeasured_cells_are_left_out_and_equal_losses_move_nothing():
    fb = _fb("equalized_odds")
    start = fb.shares
    np.testing.assert_array_equal(fb.update([0.4, 0.4, 0.7, 0.7]), start)
    assert fb.log_values()["fairbatch_step"] == 0.0
    # label 0 has one measured cell only: label 1 moves though its gap is smaller
    fb.update({"label=0|sex=a": 9.0, "label=1|sex=a": 0.2, "label=1|sex=b": 0.3})
    np.testing.assert_allclose(fb.lambdas[1, 1], 2 / 3 + 0.1)
    np.testing.assert_allclose(fb.lambdas[0], [0.75, 0.25])


# ---------------------------------------------------------------- quotas, state, config
@settings(max_examples=40, deadline=None)
@given(counts=cells_st, objective=st.sampled_from(OBJECTIVES), data=st.data(),
       batch_size=st.integers(1, 16), steps=st.one_of(st.none(), st.integers(1, 7)))
def test_quotas_are_exact_for_the_current_shares(counts, objective, data, batch_size, steps):
    if objective == "demographic_parity":
        counts = counts[:2]
    n_labels, k = len(counts), len(counts[0])
    groups = _k_groups(counts)
    fb = FairBatch(groups, batch_size=batch_size, objective=objective, positive=1,
                   alpha=0.2, steps_per_epoch=steps, seed=data.draw(st.integers(0, 5)))
    for epoch in range(data.draw(st.integers(1, 4))):
        plan = fb.plan(epoch)
        counted = np.stack([np.bincount(groups.codes[row[row >= 0]], minlength=n_labels * k)
                            for row in plan])
        quotas, targets = fb.quotas(epoch), fb.targets(epoch)
        np.testing.assert_array_equal(counted, quotas)
        assert np.all(quotas.sum(axis=1) == batch_size)
        # the epoch's totals round its exact share of the epoch's examples
        exact = fb.steps_per_epoch * batch_size * fb.shares_for(epoch)
        assert np.all(np.abs(quotas.sum(axis=0) - exact) < 1)
        assert np.abs(np.cumsum(quotas - targets, axis=0)).max() < 1
        fb.update(data.draw(st.lists(st.floats(0, 3), min_size=n_labels * k,
                                     max_size=n_labels * k)), epoch=epoch)


def test_conformance_kit():
    rng = np.random.default_rng(0)
    cases = [_groups([[6, 8], [80, 6]]), _k_groups([[1, 13, 4], [3, 2, 9]])]
    shuffled = rng.permutation(len(cases[0]))
    labels = cases[0].attribute("label").codes[shuffled]
    sexes = np.array(["a", "b"])[cases[0].attribute("sex").codes[shuffled]]
    cases.append(Groups.from_columns({"label": labels, "sex": sexes}))
    for objective in OBJECTIVES:
        check_sampler(FairBatch, groups=cases, batch_sizes=(4, 7, 32),
                      init_kwargs={"objective": objective, "positive": 1})


@settings(max_examples=25, deadline=None)
@given(objective=st.sampled_from(OBJECTIVES), data=st.data())
def test_state_round_trips_through_json_and_resumes_identically(objective, data):
    groups = _groups([[7, 5], [4, 9]])
    a = FairBatch(groups, batch_size=5, objective=objective, positive=1, alpha=0.2, seed=3)
    n_epochs = data.draw(st.integers(1, 5))
    for epoch in range(n_epochs):
        a.plan(epoch)
        a.update(data.draw(st.lists(st.floats(0, 3), min_size=4, max_size=4)), epoch=epoch)
    a.set_state({**a.get_state(), "epoch": n_epochs, "step": 1})
    config = json.loads(json.dumps({k: v for k, v in a.get_config().items() if k != "groups"}))
    b = FairBatch.from_config({**config, "groups": groups})
    b.set_state(json.loads(json.dumps(a.get_state())))
    assert b.get_state() == a.get_state()
    np.testing.assert_array_equal(b.lambdas, a.lambdas)
    for epoch in range(n_epochs + 1):  # past epochs replay from the history
        np.testing.assert_array_equal(b.plan(epoch), a.plan(epoch))
    more = data.draw(st.lists(st.floats(0, 3), min_size=4, max_size=4))
    np.testing.assert_array_equal(b.update(more, epoch=n_epochs), a.update(more, epoch=n_epochs))
    np.testing.assert_array_equal(b.plan(n_epochs + 1), a.plan(n_epochs + 1))
    np.testing.assert_array_equal(b.next_batch(), a.next_batch())


def test_config_is_json_and_round_trips():
    groups = Groups.from_columns({"y": np.array([0, 1, 1, 0, 1, 0]),
                                  "race": ["x", "y", "x", "x", "y", "y"]})
    fb = FairBatch(groups, batch_size=4, objective="demographic_parity", label="y",
                   positive=np.int64(1), alpha=0.01, seed=2, steps_per_epoch=3)
    config = fb.get_config()
    plain = {k: v for k, v in config.items() if k != "groups"}
    assert json.loads(json.dumps(plain)) == plain == {
        "batch_size": 4, "seed": 2, "steps_per_epoch": 3, "objective": "demographic_parity",
        "label": "y", "sensitive": "race", "positive": 1, "alpha": 0.01,
    }
    assert type(plain["positive"]) is int
    twin = FairBatch.from_config({**json.loads(json.dumps(plain)), "groups": groups})
    assert twin.get_config() == config
    np.testing.assert_array_equal(twin.plan(2), fb.plan(2))


def test_an_update_before_epoch_0_is_planned_sets_epoch_0_as_the_paper_does():
    fb = _fb("equal_opportunity")
    start = fb.shares
    first = fb.update([0.5, 0.5, 0.3, 0.7])  # measured on the initial model
    np.testing.assert_array_equal(fb.shares_for(0), first)
    fb.plan(0)
    second = fb.update([0.5, 0.5, 0.3, 0.7], epoch=0)
    np.testing.assert_array_equal(fb.shares_for(0), first)
    np.testing.assert_array_equal(fb.shares_for(1), second)
    assert not np.array_equal(start, first)


def test_a_refused_state_leaves_the_sampler_as_it_was():
    fb = _fb("equalized_odds")
    fb.update([0.2, 0.9, 0.5, 0.6], epoch=0)
    before = fb.get_state()
    with pytest.raises(ValueError, match="label's total"):
        fb.set_state({**before, "history": [[0, [0.25, 0.25, 0.25, 0.25]]]})
    with pytest.raises(ValueError, match="lambdas"):
        fb.set_state({**before, "lambdas": [[0.5, 0.6], [0.5, 0.5]]})
    with pytest.raises(ValueError, match="epoch 0"):
        fb.set_state({**before, "history": [[1, fb.shares.tolist()]]})
    assert fb.get_state() == before
    # a state without lambdas (only shares) recovers them from the last shares
    fresh = _fb("equalized_odds")
    fresh.set_state({k: v for k, v in before.items() if k != "lambdas"})
    np.testing.assert_allclose(fresh.lambdas, fb.lambdas, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"objective": "parity"}, ValueError, "objective"),
        ({"objective": "equal_opportunity", "positive": None}, ValueError, "needs `positive`"),
        ({"objective": "equal_opportunity", "positive": 7}, ValueError, "not a level"),
        ({"objective": "equalized_odds", "alpha": 1.5}, ValueError, "alpha"),
        ({"objective": "equalized_odds", "alpha": "big"}, TypeError, "alpha"),
        ({"objective": "equalized_odds", "label": "y"}, ValueError, "not an attribute"),
        ({"objective": "equalized_odds", "sensitive": "label"}, ValueError, "other than"),
    ],
    ids=["objective", "no-positive", "unknown-positive", "alpha-high", "alpha-str",
         "unknown-label", "sensitive-is-label"],
)
def test_bad_arguments_raise(kwargs, error, match):
    kwargs = {"positive": 1, **kwargs}
    with pytest.raises(error, match=match):
        FairBatch(_groups(HAND), batch_size=4, **kwargs)


def test_groups_that_are_not_label_by_group_cells_raise():
    with pytest.raises(ValueError, match="two columns"):
        FairBatch(Groups.from_columns({"label": [0, 1, 0], "sex": [0, 0, 1], "age": [1, 2, 3]}),
                  batch_size=2, objective="equalized_odds", sensitive="sex")
    with pytest.raises(ValueError, match="not an attribute"):
        FairBatch(Groups.from_codes([0, 1, 2]), batch_size=2, objective="equalized_odds")
    with pytest.raises(ValueError, match="two labels"):
        FairBatch(_groups([[2, 2], [2, 2], [2, 2]]), batch_size=2,
                  objective="demographic_parity", positive=1)
    import warnings

    from fairtrain.groups import GroupPolicyWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroupPolicyWarning)
        merged = Groups.from_columns({"label": [0] * 5 + [1] * 5,
                                      "sex": ["a"] * 4 + ["b"] + ["a"] * 5}, min_count=2)
    with pytest.raises(ValueError, match="merged"):
        FairBatch(merged, batch_size=2, objective="equalized_odds")


def test_positive_matches_the_level_by_value():
    groups = Groups.from_columns({"label": np.array([0.0, 1.0, 1.0, 0.0]), "z": [0, 0, 1, 1]})
    assert FairBatch(groups, batch_size=2, objective="equal_opportunity",
                     positive=1).lambdas.shape == (2, 2)
    groups = Groups.from_columns({"label": np.array([-1, 1, 1, -1]), "z": [0, 0, 1, 1]})
    fb = FairBatch(groups, batch_size=2, objective="equal_opportunity", positive="1")
    fb.update([0.1, 0.1, 0.2, 0.9])  # positives are the last two cells
    assert fb.lambdas[1, 1] > 0.5


def test_registered_as_fairbatch():
    """The built-in name ``fairbatch`` is FairBatch; ``adaptive`` stays Adaptive."""
    from fairtrain import registry
    from fairtrain.sampling import Adaptive

    assert registry.get("samplers", "fairbatch") is FairBatch
    assert registry.get("samplers", "adaptive") is Adaptive


# ---------------------------------------------------------------- the probe
def test_probe_feeds_the_positive_label_loss_for_dp_and_logs_the_step():
    keras = pytest.importorskip("keras")
    from fairtrain.callbacks import GroupLossProbe

    rng = np.random.default_rng(0)
    groups = _groups([[6, 4], [5, 5]])
    y = groups.attribute("label").codes.astype("float32")
    x = rng.normal(size=(len(y), 3)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    dp = FairBatch(groups, batch_size=4, objective="demographic_parity", positive=1)
    eo = FairBatch(groups, batch_size=4, objective="equal_opportunity", positive=1)
    fed = {}

    class Recorder:
        def update(self, group_losses, *, epoch=None):
            fed["true"] = np.asarray(group_losses)

    probe = GroupLossProbe(x, y, groups, consumers=[dp, eo, Recorder()], size=len(y))
    probe.set_model(model)
    logs = {}
    probe.on_epoch_end(0, logs)
    p = model.predict(x, verbose=0)[:, 0].astype(float)
    codes = groups.codes
    # the oracle: binary cross-entropy by hand, against 1 and against the true labels
    against_one = np.array([np.mean(-np.log(p[codes == g])) for g in range(4)])
    true = np.array([np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))[codes == g])
                     for g in range(4)])
    np.testing.assert_allclose(fed["true"], true, rtol=1e-5)
    n = np.array([6, 4, 5, 5], float)
    n_z = np.array([11, 9, 11, 9], float)
    np.testing.assert_allclose(dp.log_values()["fairbatch_loss"], against_one * n / n_z,
                               rtol=1e-5)
    np.testing.assert_allclose(eo.log_values()["fairbatch_loss"][2:], true[2:], rtol=1e-5)
    assert logs["fairbatch_alpha"] == 0.005
    key = "fairbatch_loss_label=1_sex=b"
    assert key in logs and logs["group_loss_label=1_sex=b"] == pytest.approx(true[3], 1e-5)
    assert logs["share_label=1_sex=b"] == pytest.approx(float(eo.shares[3]))


def test_probe_refuses_one_hot_targets_for_the_positive_label_loss():
    # np.full((n, 2), 1) would score every prediction against [1, 1], not the positive
    # class: categorical cross-entropy -log p0 - log p1, silently not FairBatch's DP loss
    pytest.importorskip("keras")
    from fairtrain.callbacks import GroupLossProbe

    groups = _groups([[6, 4], [5, 5]])
    label = groups.attribute("label").codes
    one_hot = np.eye(2, dtype="float32")[label]
    x = np.zeros((len(label), 3), "float32")
    dp = FairBatch(groups, batch_size=4, objective="demographic_parity", positive=1)
    with pytest.raises(ValueError, match="one column per class"):
        GroupLossProbe(x, one_hot, groups, consumers=[dp], size=len(label))
    # the true-label objectives take one-hot targets as they are
    eo = FairBatch(groups, batch_size=4, objective="equal_opportunity", positive=1)
    GroupLossProbe(x, one_hot, groups, consumers=[eo], size=len(label))


def test_probe_refuses_a_loss_target_that_is_not_a_value_of_y():
    # labels "no"/"yes" in the groups but 0/1 in y: the target "yes" is no value of y,
    # which would fail only at the end of the first epoch, inside model.fit
    pytest.importorskip("keras")
    from fairtrain.callbacks import GroupLossProbe

    label = np.array([0] * 10 + [1] * 10)
    groups = Groups.from_columns({"label": np.array(["no", "yes"])[label],
                                  "sex": ["a", "b"] * 10})
    dp = FairBatch(groups, batch_size=4, objective="demographic_parity", positive="yes")
    x = np.zeros((20, 3), "float32")
    with pytest.raises(ValueError, match="'yes'.*positive="):
        GroupLossProbe(x, label.astype("float32"), groups, consumers=[dp], size=20)


def test_a_late_update_made_an_error_by_the_warnings_filter_changes_nothing():
    # epochs 0-2 are planned, so shares measured after epoch 0 would apply from 3 with a
    # RuntimeWarning; where warnings are errors (as here), the update must leave no trace
    fb = _fb("equal_opportunity")
    fb.plan(2)
    before = fb.get_state()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match="apply from epoch 3"):
            fb.update([0.3, 0.5, 0.2, 0.9], epoch=0)
    assert fb.get_state() == before


def test_a_state_whose_lambdas_disagree_with_its_shares_is_refused():
    # lambdas are the shares divided by P(y); a state holding others would sample with
    # one split and step from another (the next update's shares jump)
    fb = _fb("equalized_odds")
    fb.update([0.2, 0.9, 0.5, 0.6], epoch=0)
    state = fb.get_state()
    other = [[0.5, 0.5], [0.5, 0.5]]  # a valid split, not the one the shares hold
    with pytest.raises(ValueError, match="lambdas"):
        fb.set_state({**state, "lambdas": other})
    assert fb.get_state() == state


@pytest.mark.parametrize("epoch", [-1, 1.5, "2"])
def test_an_update_with_a_bad_epoch_raises_and_changes_nothing(epoch):
    fb = _fb("equal_opportunity")
    before = fb.get_state()
    with pytest.raises((ValueError, TypeError), match="epoch"):
        fb.update([0.3, 0.5, 0.2, 0.9], epoch=epoch)
    assert fb.get_state() == before
    # the next good update moves from the original lambdas: one step of alpha, not two
    fb.update([0.3, 0.5, 0.2, 0.9])
    np.testing.assert_allclose(fb.lambdas[1], [20 / 60 - 0.1, 40 / 60 + 0.1])
