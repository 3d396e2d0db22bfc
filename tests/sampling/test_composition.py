"""CompositionLog: per-batch group counts and the composition error."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import fairtrain as ft

GROUPS = ft.Groups(np.array([0, 0, 1, 1, 1, -1]), ["a", "b"])


def test_records_counts_per_batch_and_ignores_padding():
    log = ft.CompositionLog(GROUPS)
    assert log.record([0, 2, 3, -1]).tolist() == [1, 2]
    log.record(np.array([1, 4]))
    assert log.counts.tolist() == [[1, 2], [1, 1]]
    assert log.totals.tolist() == [2, 3]
    assert len(log) == 2
    log.clear()
    assert log.counts.shape == (0, 2)


def test_error_is_zero_for_exact_batches_and_counts_misplaced_examples():
    log = ft.CompositionLog(GROUPS)
    log.record([0, 2])
    assert log.error([1, 1]) == 0.0
    log.record([2, 3])
    assert log.error([1, 1]) == 0.5  # the second batch misplaces one example


def test_a_homogeneous_plan_logs_exactly_its_quotas():
    groups = ft.Groups.from_codes(np.repeat(np.arange(3), [5, 11, 30]))
    sampler = ft.sampling.Homogeneous(groups, batch_size=7, seed=1)
    log = ft.CompositionLog(groups)
    for batch in sampler:
        log.record(batch)
    np.testing.assert_array_equal(log.counts, sampler.quotas(0))
    # 7 / 3 per group: every batch is 3, 2, 2 in some order, 2/3 of an example off
    assert log.error(sampler.targets(0)) == pytest.approx(2 / 3)


def test_excluded_or_out_of_range_indices_are_errors():
    log = ft.CompositionLog(GROUPS)
    with pytest.raises(ValueError, match="excluded"):
        log.record([5])
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        log.record([6])


def test_recording_from_threads_loses_nothing():
    log = ft.CompositionLog(GROUPS)
    threads = [threading.Thread(target=lambda: [log.record([0, 2]) for _ in range(200)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.totals.tolist() == [800, 800]


def test_a_keyed_batch_recorded_again_replaces_its_row():
    groups = ft.Groups.from_codes([0, 0, 1, 1, 1], ["a", "b"])
    log = ft.CompositionLog(groups)
    log.record([0, 2], key=(0, 0))
    log.record([1, 3, 4], key=(0, 1))
    log.record([0, 1], key=(0, 0))  # the same batch again, e.g. after Keras' peek
    log.record([2])  # unkeyed rows always append
    assert log.counts.tolist() == [[2, 0], [1, 2], [0, 1]]
    log.clear()
    log.record([4], key=(0, 0))
    assert log.counts.tolist() == [[0, 1]]


def test_discard_forgets_one_keyed_batch_and_keeps_the_other_keys():
    from fairtrain import CompositionLog, Groups

    log = CompositionLog(Groups.from_codes(np.array([0, 1, 1])))
    log.record([0], key="a")
    log.record([1], key="b")
    log.record([0, 1], key="c")
    assert log.discard("a") is True
    assert log.discard("a") is False
    assert log.counts.tolist() == [[0, 1], [1, 1]]
    log.record([2, 1], key="c")  # still replaces c's own row after the shift
    assert log.counts.tolist() == [[0, 1], [0, 2]]
