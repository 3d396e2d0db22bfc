"""GroupLossProbe under the Keras distribution API on JAX: two local processes.

Two JAX processes (the harness of test_jax_multiprocess.py) train
``keras.distribution.DataParallel`` on an :class:`~fairtrain.sampling.Adaptive`
sampler's global batches, with a ``GroupLossProbe`` feeding the sampler and a
``GroupDRO``. Each process measures its half of the probe set with its replica of the
weights; one all-reduce sums the per-group loss sums and counts. After every update,
both processes must hold the same (bit for bit) losses, shares and weights, and they
must equal those of a one-process run on the same data (a third process, no
distribution), to float32 training round-off. The same processes then stream half
of the examples each through ``evaluate(..., reduce="auto")`` (a NumPy model, and the
trained Keras model) and must all get the one-process report.
"""

from __future__ import annotations

import json
import os
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("keras")

EPOCHS = 3

WORKER = textwrap.dedent(
    f"""
    import json, sys
    import jax
    import keras
    import numpy as np
    import fairtrain as ft

    process_id, port, out_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    single = process_id < 0
    if not single:
        keras.distribution.initialize(f"127.0.0.1:{{port}}", num_processes=2,
                                      process_id=process_id)
        keras.distribution.set_distribution(keras.distribution.DataParallel(
            devices=keras.distribution.list_devices(), auto_shard_dataset=False))

    codes = np.repeat(np.arange(3), [60, 30, 20])
    np.random.default_rng(0).shuffle(codes)
    groups = ft.Groups.from_codes(codes)
    rng = np.random.default_rng(1)
    features = rng.normal(size=(codes.size, 3)).astype("float32")
    labels = (features @ np.array([1.0, -1.0, 0.5]) + codes).astype("float32")[:, None]
    sampler = ft.sampling.Adaptive(groups, batch_size=16, seed=1, steps_per_epoch=4)
    dro = ft.GroupDRO(groups, step_size=0.1, batch_shares="batch")
    ds = ft.data.SampledPyDataset(sampler, lambda i: (features[i], labels[i]),
                                  num_shards=1 if single else "auto")
    probe = ft.GroupLossProbe(features, labels[:, 0], groups, consumers=[sampler, dro],
                              loss="mse", size=45, seed=0)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append({{"losses": probe.group_losses.tolist(),
                          "shares": np.asarray(sampler.shares).tolist(),
                          "weights": np.asarray(dro.group_weights).tolist()}})

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    model.fit(ds, epochs={EPOCHS}, verbose=0, shuffle=False,
              callbacks=[ft.data.EpochSync(ds), probe, Record()])

    # evaluate(reduce="auto"): each process streams its half of the examples.
    class Linear:  # a NumPy model: its outputs are this process's
        def predict_on_batch(self, x):
            return x @ np.array([1.0, -1.0, 0.5]) + 0.5

    rank, count = (0, 1) if single else (jax.process_index(), jax.process_count())
    mine = np.arange(codes.size)[rank::count]
    batches = [(features[i], labels[i, 0], codes[i]) for i in np.array_split(mine, 3)]
    acc = ft.metrics.evaluate(Linear(), batches, groups=groups, metrics="mae",
                              reduce="auto")
    report = acc.result(min_count=1)
    # the trained Keras model itself (predict_on_batch on this process's rows)
    on_keras = ft.metrics.evaluate(model, batches, groups=groups, metrics="mae",
                                   reduce="auto").result(min_count=1)
    with open(out_path, "w") as f:
        json.dump({{"processes": jax.process_count(), "probe": list(probe._processes),
                    "seen": seen, "n": acc.n, "values": report["group"].values.tolist(),
                    "keras_values": on_keras["group"].values.tolist()}}, f)
    """
)


@pytest.mark.slow
def test_two_processes_feed_identical_losses_equal_to_one_process(tmp_path, local_processes):
    script = tmp_path / "process.py"
    script.write_text(WORKER)
    (port,) = local_processes.free_ports(1)
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("XLA_FLAGS", None)
    ranks = [0, 1, -1]  # -1: the one-process run
    argvs = [[str(script), str(r), str(port), str(tmp_path / f"p{r}.json")] for r in ranks]
    local_processes.run_all(argvs, [env] * 3, what="a JAX probe process", timeout=240)
    p0, p1, one = (json.loads((tmp_path / f"p{r}.json").read_text()) for r in ranks)
    assert p0["processes"] == p1["processes"] == 2 and one["processes"] == 1
    assert p0["probe"] == [2, 0] and p1["probe"] == [2, 1] and one["probe"] == [1, 0]
    assert len(p0["seen"]) == len(one["seen"]) == EPOCHS
    assert p0["seen"] == p1["seen"]  # identical on both processes, every update
    for two, single in zip(p0["seen"], one["seen"]):
        for key in ("losses", "shares", "weights"):
            np.testing.assert_allclose(two[key], single[key], rtol=1e-4, err_msg=key)
    # evaluate(reduce="auto"): each process streamed half, each got the whole
    assert p0["n"] == p1["n"] == one["n"] == 110
    assert p0["values"] == p1["values"]
    np.testing.assert_allclose(p0["values"], one["values"], rtol=1e-12)
    assert p0["keras_values"] == p1["keras_values"]  # the Keras model under DataParallel
    np.testing.assert_allclose(p0["keras_values"], one["keras_values"], rtol=1e-4)
    # the shares moved: the updates were real
    assert not np.allclose(p0["seen"][-1]["shares"], p0["seen"][0]["shares"])
