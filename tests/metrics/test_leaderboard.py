"""leaderboard_rank: the challenge's rule, checked against scipy's rankdata."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.stats import rankdata

from fairtrain.metrics import leaderboard_rank

tables = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 12), st.integers(1, 6)),
    # few distinct values, so ties are common
    elements=st.sampled_from([0.0, 0.5, 1.0, 2.5, 3.0, 7.25]),
)


def test_worked_example_mean_rank():
    # REFERENCE.md: ranks 3, 6, 1, 2, 1 over the five scores give 2.6
    entry = [0.3, 0.6, 0.1, 0.2, 0.1]
    others = [[0.1, 0.1, 0.2, 0.1, 0.2], [0.2, 0.2, 0.3, 0.3, 0.3], [0.4, 0.3, 0.4, 0.4, 0.4],
              [0.5, 0.4, 0.5, 0.5, 0.5], [0.6, 0.5, 0.6, 0.6, 0.6]]
    table = np.array([entry, *others])
    ranks = np.column_stack([rankdata(table[:, j], method="min") for j in range(5)])
    assert ranks[0].tolist() == [3, 6, 1, 2, 1]
    assert leaderboard_rank(table)[0] == pytest.approx(2.6)


@given(tables)
def test_equals_the_mean_of_scipy_min_ranks(table):
    expected = np.mean(
        [rankdata(table[:, j], method="min") for j in range(table.shape[1])], axis=0
    )
    np.testing.assert_allclose(leaderboard_rank(table), expected)


@given(tables, st.data())
def test_higher_is_better_columns_rank_the_negated_column(table, data):
    flags = data.draw(st.lists(st.booleans(), min_size=table.shape[1], max_size=table.shape[1]))
    oriented = np.where(flags, -table, table)
    expected = np.mean(
        [rankdata(oriented[:, j], method="min") for j in range(table.shape[1])], axis=0
    )
    np.testing.assert_allclose(leaderboard_rank(table, greater_is_better=flags), expected)


def test_mapping_and_dataframe_give_the_same_ranks():
    pd = pytest.importorskip("pandas")
    cols = {"mae": [9.0, 8.0, 9.0], "accuracy": [0.7, 0.9, 0.8]}
    expected = leaderboard_rank(np.column_stack(list(cols.values())),
                                greater_is_better=[False, True])
    assert expected.tolist() == [2.5, 1.0, 2.0]
    np.testing.assert_array_equal(leaderboard_rank(cols, greater_is_better=[False, True]), expected)
    np.testing.assert_array_equal(
        leaderboard_rank(pd.DataFrame(cols), greater_is_better=[False, True]), expected
    )


@pytest.mark.parametrize(
    ("table", "kwargs", "match"),
    [([1.0, 2.0], {}, "2-D"), ([[1.0, np.nan]], {}, "NaN"),
     ([[1.0, 2.0]], {"greater_is_better": [False]},
      r"`greater_is_better` must be one bool or one per score \(2\)")],
    ids=["1d", "nan", "flags-length"],
)
def test_rejects_bad_tables(table, kwargs, match):
    with pytest.raises(ValueError, match=match):
        leaderboard_rank(table, **kwargs)


def _errors():
    return [[0.1], [0.3], [0.2]]  # lower is better: by hand, ranks 1, 3, 2


@pytest.mark.parametrize("direction", ["False", "false", "no", "0"])
def test_refuses_a_direction_that_is_not_a_bool(direction):
    # review 4: np.asarray("False", dtype=bool) is True, so the string reversed the ranks
    assert leaderboard_rank(_errors(), greater_is_better=False).tolist() == [1.0, 3.0, 2.0]
    with pytest.raises(TypeError, match="`greater_is_better` must be True or False"):
        leaderboard_rank(_errors(), greater_is_better=direction)


@pytest.mark.parametrize(
    "direction", [[0.5, 2], None, 1, 0, np.array([1, 0]), ["False", True], [[True, False]]],
    ids=["floats", "none", "one", "zero", "int-array", "string-in-list", "nested"],
)
def test_refuses_numbers_and_none_as_directions(direction):
    # review 4: these were read through bool(); one bool per score is the documented list
    with pytest.raises(TypeError, match="`greater_is_better` must be"):
        leaderboard_rank([[0.1, 0.1], [0.3, 0.3]], greater_is_better=direction)


def test_one_numpy_bool_per_score_is_a_list_of_directions():
    table = [[0.1, 0.9], [0.3, 0.2]]
    expected = leaderboard_rank(table, greater_is_better=[False, True])
    assert expected.tolist() == [1.0, 2.0]  # by hand: entry 0 first on both
    for flags in (np.array([False, True]), (np.False_, np.True_)):
        assert leaderboard_rank(table, greater_is_better=flags).tolist() == expected.tolist()
    assert leaderboard_rank(table, greater_is_better=np.True_).tolist() == [1.5, 1.5]


def test_example_has_no_stray_import():
    # review 4: `from fairtrain._validation import param_error` sat in the Examples
    assert "_validation" not in inspect.getdoc(leaderboard_rank)
