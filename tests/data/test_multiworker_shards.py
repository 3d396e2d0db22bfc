"""Shards of a global batch, in one process: what each process of a multi-process run serves.

``SampledPyDataset(num_shards=S, shard_index=s)`` is what process ``s`` of ``S`` serves
under the Keras distribution API (tests/data/test_jax_multiprocess.py runs two real JAX
processes); here the ``S`` shards are built side by side. Runs under every backend.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fairtrain as ft

keras = pytest.importorskip("keras")
from fairtrain.data import EpochSync, SampledPyDataset  # noqa: E402

pytestmark = pytest.mark.keras_backend

CODES = np.repeat(np.arange(4), [6, 8, 80, 6])
np.random.default_rng(0).shuffle(CODES)
GROUPS = ft.Groups.from_codes(CODES)


def _shards(sampler, n, load=lambda i: i, **kwargs):
    return [SampledPyDataset(sampler, load, num_shards=n, shard_index=s, **kwargs)
            for s in range(n)]


def _check_split(sampler, shards, epoch):
    codes, k = sampler.groups.codes, sampler.groups.n_groups
    n = len(shards)
    for t in range(sampler.steps_per_epoch):
        parts = [ds.indices(t, epoch) for ds in shards]
        union = np.concatenate(parts)
        assert [p.size for p in parts] == [sampler.batch_size // n] * n
        # The same multiset as the planned batch: every slot of the batch goes to exactly
        # one shard, so an index is served twice only if the plan holds it twice (a
        # group smaller than its quota, drawn from its endless stream).
        assert sorted(union.tolist()) == sorted(sampler.plan(epoch)[t].tolist())
        quotas = sampler.quotas(epoch)[t]
        for part in parts:
            got = np.bincount(codes[part], minlength=k)
            assert np.all((got == quotas // n) | (got == -(-quotas // n))), (t, got, quotas)


SAMPLERS = {
    "homogeneous": lambda g, b, s: ft.sampling.Homogeneous(g, batch_size=b, seed=s),
    "proportional": lambda g, b, s: ft.sampling.Proportional(
        g, batch_size=b, seed=s, last_batch="drop"),
    "inverse_frequency": lambda g, b, s: ft.sampling.InverseFrequency(
        g, batch_size=b, seed=s, power=0.5),
    "adaptive": lambda g, b, s: ft.sampling.Adaptive(g, batch_size=b, seed=s),
}


@given(
    sizes=st.lists(st.integers(1, 60), min_size=1, max_size=6),
    name=st.sampled_from(sorted(SAMPLERS)),
    n=st.integers(1, 5),
    per_shard=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    epoch=st.integers(0, 3),
)
def test_shards_partition_every_batch_with_floor_or_ceil_of_every_quota(
    sizes, name, n, per_shard, seed, epoch
):
    batch = n * per_shard
    if batch < len(sizes) or batch > sum(sizes):
        return  # every sampler needs a batch between the groups and the examples
    codes = np.repeat(np.arange(len(sizes)), sizes)
    np.random.default_rng(seed).shuffle(codes)
    sampler = SAMPLERS[name](ft.Groups.from_codes(codes), batch, seed)
    _check_split(sampler, _shards(sampler, n), epoch)


def test_a_shard_serves_its_slice_loaded_and_logs_its_own_counts():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=3)
    logs = [ft.CompositionLog(GROUPS) for _ in range(2)]
    shards = [SampledPyDataset(sampler, lambda i: (i, CODES[i]), num_shards=2,
                               shard_index=s, composition_log=logs[s]) for s in range(2)]
    for t in range(len(shards[0])):
        for ds in shards:
            x, y = ds[t]
            np.testing.assert_array_equal(x, ds.indices(t))
            np.testing.assert_array_equal(y, CODES[x])
    # Each log holds its shard's counts; together they are the planned quotas.
    np.testing.assert_array_equal(logs[0].counts + logs[1].counts, sampler.quotas(0))
    assert np.all(logs[0].counts == 1) and np.all(logs[1].counts == 1)  # 2 of each of 4


def test_shards_follow_the_epoch_sync_sets():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=3)
    shards = _shards(sampler, 2)
    for ds in shards:
        EpochSync(ds).on_epoch_begin(4)
    assert sorted(np.concatenate([ds[1] for ds in shards]).tolist()) == sorted(
        sampler.plan(4)[1].tolist())


def test_the_fingerprint_is_the_same_for_every_shard_and_tells_plans_apart():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=3)
    a, b = _shards(sampler, 2)
    assert a.plan_fingerprint(0) == b.plan_fingerprint(0)
    assert len(a.plan_fingerprint(0)) == 16
    assert a.plan_fingerprint(0) != a.plan_fingerprint(1)
    other = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=4)
    assert SampledPyDataset(other, lambda i: i, num_shards=2, shard_index=0
                            ).plan_fingerprint(0) != a.plan_fingerprint(0)
    # A feed of the whole batch differs from a sharded one (a process that forgot to shard).
    assert SampledPyDataset(sampler, lambda i: i).plan_fingerprint(0) != a.plan_fingerprint(0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_shards": 3, "shard_index": 0}, ValueError,
         r"batch_size \(8\).*multiple of the number of shards \(3\).*batch_size=9"),
        ({"num_shards": 2}, ValueError,
         r"`shard_index` must be an int in \[0, 2\) with num_shards=2.*this process"),
        ({"num_shards": 2, "shard_index": 2}, ValueError,
         r"`shard_index` must be an int in \[0, 2\); got shard_index=2"),
        ({"num_shards": 2, "shard_index": -1}, ValueError, r"`shard_index` must be an int >= 0"),
        ({"num_shards": 2, "shard_index": True}, TypeError, r"`shard_index` must be an int"),
        ({"num_shards": 0}, ValueError, '`num_shards` must be an int >= 1 or "auto"'),
        ({"num_shards": True}, TypeError, '`num_shards` must be an int >= 1 or "auto"'),
        ({"num_shards": "processes"}, ValueError, '`num_shards` must be an int >= 1 or "auto"'),
        ({"num_shards": "auto", "shard_index": 1}, ValueError,
         r"`shard_index` must be None with num_shards='auto'"),
    ],
)
def test_bad_shards_are_refused_before_training(kwargs, error, match):
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    with pytest.raises(error, match=match):
        SampledPyDataset(sampler, lambda i: i, **kwargs)


def test_a_partial_last_batch_is_refused_with_shards():
    sampler = ft.sampling.Proportional(GROUPS, batch_size=8)  # 100 = 12 * 8 + 4
    SampledPyDataset(sampler, lambda i: i)  # one shard: the partial batch is served
    with pytest.raises(ValueError, match="partial last batch.*last_batch='drop'"):
        SampledPyDataset(sampler, lambda i: i, num_shards=2, shard_index=1)
    # Also when steps_per_epoch stops before it: its batches would differ by epoch.
    with pytest.raises(ValueError, match="partial last batch"):
        SampledPyDataset(sampler, lambda i: i, num_shards=2, shard_index=1, steps_per_epoch=3)


def test_one_shard_is_the_whole_batch():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=1)
    ds = SampledPyDataset(sampler, lambda i: i, num_shards=1, shard_index=0)
    assert (ds.num_shards, ds.shard_index) == (1, 0)
    np.testing.assert_array_equal(ds[0], sampler.plan(0)[0])


class _FakeDistribution:
    """The public properties of a keras.distribution.Distribution that 'auto' reads."""

    def __init__(self, num_processes, num_model_replicas, data_shard_id):
        self.num_processes = num_processes
        self.num_model_replicas = num_model_replicas
        self.data_shard_id = data_shard_id


@pytest.mark.parametrize(
    ("dist", "expected"),
    [
        (_FakeDistribution(4, 4, 2), (4, 2)),   # DataParallel: one shard per process
        (_FakeDistribution(2, 8, 1), (2, 1)),   # several replicas per process
        (_FakeDistribution(4, 2, 1), (2, 1)),   # a replica over two processes
        (_FakeDistribution(1, 1, 0), (1, 0)),
    ],
)
def test_auto_reads_the_shards_from_the_keras_distribution(monkeypatch, dist, expected):
    monkeypatch.setattr(keras.distribution, "distribution", lambda: dist)
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    ds = SampledPyDataset(sampler, lambda i: i, num_shards="auto")
    assert (ds.num_shards, ds.shard_index) == expected


def test_keras_distributions_have_the_properties_auto_reads():
    """Fails loudly if Keras renames the public properties 'auto' relies on."""
    if keras.backend.backend() == "torch":
        pytest.skip("Keras' distribution API has no torch implementation")
    dist = keras.distribution.DataParallel(devices=keras.distribution.list_devices()[:1])
    assert (dist.num_processes, dist.num_model_replicas, dist.data_shard_id) == (1, 1, 0)


def test_auto_without_a_distribution_is_this_backend_s_processes():
    assert keras.distribution.distribution() is None
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    ds = SampledPyDataset(sampler, lambda i: i, num_shards="auto")
    assert (ds.num_shards, ds.shard_index) == (1, 0)  # one process here, any backend


def test_auto_without_a_distribution_refuses_several_jax_processes(monkeypatch):
    """Without a Keras distribution, Keras does not assemble global batches across
    processes: each process would train alone on its slice, not on the planned batch."""
    jax = pytest.importorskip("jax")
    assert keras.distribution.distribution() is None
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    monkeypatch.setattr(jax, "process_count", lambda: 2)
    monkeypatch.setattr(jax, "process_index", lambda: 1)
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    with pytest.raises(ValueError, match=r"2 JAX processes.*set_distribution"):
        SampledPyDataset(sampler, lambda i: i, num_shards="auto")
    # Explicit shards stay possible (e.g. a custom loop that assembles the batch itself).
    ds = SampledPyDataset(sampler, lambda i: i, num_shards=2, shard_index=1)
    assert (ds.num_shards, ds.shard_index) == (2, 1)


@pytest.mark.slow  # a fresh interpreter importing Keras: about 35 s here
def test_a_script_that_ends_with_a_live_dataset_exits_without_noise(tmp_path):
    """Multi-process scripts keep their dataset in a module global until exit; the
    dataset's finaliser then runs while the interpreter tears modules down."""
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(
        "import numpy as np\nimport fairtrain as ft\n"
        "groups = ft.Groups.from_codes(np.array([0] * 6 + [1] * 2))\n"
        "sampler = ft.sampling.Homogeneous(groups, batch_size=4, seed=0)\n"
        "train = ft.data.SampledPyDataset(sampler, lambda i: i, num_shards=2, shard_index=0)\n"
        "train[0]\n"
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Exception ignored" not in proc.stderr, proc.stderr[-3000:]
