"""Keras distribution API on JAX: two local processes share every global batch's quotas.

Two JAX processes on 127.0.0.1 (``keras.distribution.initialize``, a free port for the
coordinator, CPU collectives through gloo, JAX's default) train a few steps of
``model.fit`` under ``keras.distribution.DataParallel(auto_shard_dataset=False)`` on
``SampledPyDataset(num_shards="auto")``. Each process serves its slice of every global
batch (half of it): Keras' JAX trainer makes the global batch of the two slices with
``jax.make_array_from_process_local_data``. Each process writes the example indices it
served per (epoch, batch), and the test checks that, batch by batch, the two slices
together are exactly the planned global batch: its quotas, no index twice. A second
run gives the processes different seeds: the fingerprint check the guide shows
(``multihost_utils.assert_equal`` on ``plan_fingerprint``) stops both before ``fit``.
Checked with JAX 0.10.2 (CPU) and Keras 3.15.1.
"""

from __future__ import annotations

import json
import os
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("keras")

BATCH, STEPS, EPOCHS, SEED = 16, 5, 2, 1

WORKER = textwrap.dedent(
    f"""
    import json, sys, time
    start = time.monotonic()
    import jax
    import keras
    import numpy as np
    import fairtrain as ft

    process_id, port, out_path, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    keras.distribution.initialize(f"127.0.0.1:{{port}}", num_processes=2,
                                  process_id=process_id)
    distribution = keras.distribution.DataParallel(
        devices=keras.distribution.list_devices(), auto_shard_dataset=False)
    keras.distribution.set_distribution(distribution)

    codes = np.repeat(np.arange(4), [30, 40, 400, 30])
    np.random.default_rng(0).shuffle(codes)
    groups = ft.Groups.from_codes(codes)
    # "mismatch": process 1 gets another seed, which the fingerprint check must catch.
    seed = {SEED} + (process_id if mode == "mismatch" else 0)
    sampler = ft.sampling.Homogeneous(groups, batch_size={BATCH}, seed=seed,
                                      steps_per_epoch={STEPS})
    features = np.random.default_rng(1).normal(size=(codes.size, 3)).astype("float32")
    labels = (codes == 2).astype("float32")[:, None]

    served, order = {{}}, []

    class Logged(ft.data.SampledPyDataset):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            idx = self.indices(index)
            assert np.array_equal(x, features[idx]), "the rows loaded are not the slice"
            served[f"{{self.epoch}}/{{index}}"] = idx.tolist()
            order.append(f"{{self.epoch}}/{{index}}")
            return x, y

    log = ft.CompositionLog(groups)
    ds = Logged(sampler, lambda i: (features[i], labels[i]), num_shards="auto",
                composition_log=log)

    # The check the guide shows: a collective that fails unless every process agrees.
    from jax.experimental import multihost_utils
    try:
        multihost_utils.assert_equal(
            np.frombuffer(bytes.fromhex(ds.plan_fingerprint(0)), np.uint8),
            "the processes plan different batches")
    except AssertionError as exc:
        with open(out_path, "w") as f:
            json.dump({{"caught": str(exc)[:500]}}, f)
        sys.exit(0)
    if mode == "mismatch":
        sys.exit("the different plans went unnoticed")

    trained = []

    class Steps(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            trained.append(f"{{self.epoch}}/{{batch}}")

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    # shuffle=False: the processes must read the same batch at every step (the sampler
    # already shuffles; Keras' batch-order shuffle would need the same seed everywhere).
    history = model.fit(ds, epochs={EPOCHS}, verbose=0, shuffle=False,
                        callbacks=[ft.data.EpochSync(ds), Steps()])
    # One process's batch of B / 2 rows is one global batch of B rows.
    local = features[:{BATCH} // 2]
    layout = distribution.get_data_layout(local.shape).backend_layout
    global_rows = jax.make_array_from_process_local_data(layout, local).shape[0]
    out = {{
        "process": jax.process_index(), "processes": jax.process_count(),
        "devices": len(jax.devices()), "shards": [ds.num_shards, ds.shard_index],
        "fingerprints": [ds.plan_fingerprint(e) for e in range({EPOCHS})],
        "served": served, "order": order, "trained": trained, "counts": log.counts.tolist(),
        "loss": history.history["loss"],
        "weights": [w.tolist() for w in model.get_weights()],
        "global_rows": int(global_rows), "seconds": time.monotonic() - start,
        "versions": {{"jax": jax.__version__, "keras": keras.__version__}},
    }}
    with open(out_path, "w") as f:
        json.dump(out, f)
    """
)


def run_processes(tmp_path, procs, mode: str = "train", timeout: float = 480.0) -> list[dict]:
    """Start two JAX processes, wait at most ``timeout`` seconds, end both; their results."""
    script = tmp_path / "process.py"
    script.write_text(WORKER)
    (port,) = procs.free_ports(1)
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    argvs = [[str(script), str(i), str(port), str(tmp_path / f"process{i}.json"), mode]
             for i in range(2)]
    procs.run_all(argvs, [env, env], what=f"a JAX process (mode {mode!r})", timeout=timeout)
    return [json.loads((tmp_path / f"process{i}.json").read_text()) for i in range(2)]


def _sampler():
    import fairtrain as ft

    codes = np.repeat(np.arange(4), [30, 40, 400, 30])
    np.random.default_rng(0).shuffle(codes)
    groups = ft.Groups.from_codes(codes)
    return ft.sampling.Homogeneous(groups, batch_size=BATCH, seed=SEED, steps_per_epoch=STEPS)


@pytest.mark.slow
def test_two_jax_processes_share_every_global_batch_exactly(tmp_path, local_processes):
    results = run_processes(tmp_path, local_processes)
    assert [r["process"] for r in results] == [0, 1]
    assert all(r["processes"] == 2 and r["devices"] == 2 for r in results)
    assert [r["shards"] for r in results] == [[2, 0], [2, 1]]  # from the distribution
    assert all(r["global_rows"] == BATCH for r in results)
    # Both processes planned the same global batches.
    assert results[0]["fingerprints"] == results[1]["fingerprints"]
    sampler = _sampler()
    codes, k = sampler.groups.codes, sampler.groups.n_groups
    keys = [f"{e}/{t}" for e in range(EPOCHS) for t in range(STEPS)]
    for r in results:
        # Before training, Keras peeks at one batch to learn the input (the clock is not
        # set yet: plan(0)); the same slice as that batch of epoch 0.
        peeks = [key for key in r["served"] if key.startswith("None/")]
        assert len(peeks) <= 1
        for peek in peeks:
            assert r["served"][peek] == r["served"]["0/" + peek.split("/")[1]]
        # Then the batches in order, each trained on once.
        assert [key for key in r["order"] if key not in peeks] == keys
        assert r["trained"] == keys
    for key in keys:
        epoch, step = map(int, key.split("/"))
        parts = [np.asarray(r["served"][key], np.int64) for r in results]
        union = np.concatenate(parts)
        assert union.size == BATCH
        assert np.unique(union).size == BATCH, f"batch {key}: an index appears twice"
        assert sorted(union.tolist()) == sorted(sampler.plan(epoch)[step].tolist())
        quotas = sampler.quotas(epoch)[step]
        assert np.bincount(codes[union], minlength=k).tolist() == quotas.tolist()
        for part in parts:  # each process: floor or ceil of half of every quota
            got = np.bincount(codes[part], minlength=k)
            assert np.all((got == quotas // 2) | (got == -(-quotas // 2))), (key, got, quotas)
    # Each process's composition log holds its own slices; together, the quotas.
    planned = np.concatenate([sampler.quotas(e) for e in range(EPOCHS)])
    np.testing.assert_array_equal(
        np.asarray(results[0]["counts"]) + np.asarray(results[1]["counts"]), planned)
    # One model, trained on the global batches: the same losses and weights everywhere.
    np.testing.assert_allclose(results[0]["loss"], results[1]["loss"], rtol=1e-6)
    for a, b in zip(results[0]["weights"], results[1]["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.slow
def test_processes_that_plan_different_batches_are_stopped_before_training(
    tmp_path, local_processes
):
    results = run_processes(tmp_path, local_processes, "mismatch")
    for r in results:  # every process raised at the check, before fit
        assert "the processes plan different batches" in r["caught"]
