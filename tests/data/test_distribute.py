"""tf.distribute: each replica gets an exact per-replica share of every group's quota.

MirroredStrategy needs two logical CPU devices, which must be configured before
TensorFlow initialises its devices; the check therefore runs in a fresh interpreter, so
it is independent of whatever this pytest worker imported before (pytest -n 2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("tensorflow")

SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import fairtrain as ft

    codes = np.repeat(np.arange(4), [60, 80, 800, 60])
    np.random.default_rng(0).shuffle(codes)
    groups = ft.Groups.from_codes(codes)
    codes_t = tf.constant(codes)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    out = {"replicas": strategy.num_replicas_in_sync, "batches": []}
    for name in ("homogeneous", "proportional"):
        kwargs = {"last_batch": "drop"} if name == "proportional" else {}
        sampler = ft.registry.get("samplers", name)(groups, batch_size=64, seed=1, **kwargs)
        dist = strategy.distribute_datasets_from_function(
            lambda ctx: ft.data.to_tf_dataset(
                sampler, lambda i: (i, tf.gather(codes_t, i)), input_context=ctx))
        for step, batch in enumerate(dist):
            x, _ = batch
            parts = [t.numpy().tolist() for t in strategy.experimental_local_results(x)]
            out["batches"].append(
                {"sampler": name, "parts": parts, "plan": sampler.plan(0)[step].tolist()})
    print("RESULT" + json.dumps(out))
    """
)


def test_each_replica_gets_its_exact_share_of_every_quota(tmp_path):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    result = json.loads(line[len("RESULT"):])
    assert result["replicas"] == 2
    import numpy as np

    codes = np.repeat(np.arange(4), [60, 80, 800, 60])
    np.random.default_rng(0).shuffle(codes)
    seen = {"homogeneous": 0, "proportional": 0}
    for batch in result["batches"]:
        seen[batch["sampler"]] += 1
        parts = [np.asarray(p) for p in batch["parts"]]
        assert [len(p) for p in parts] == [32, 32]
        # together the replicas hold exactly the planned global batch
        np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.sort(batch["plan"]))
        quota = np.bincount(codes[batch["plan"]], minlength=4)
        for part in parts:
            counts = np.bincount(codes[part], minlength=4)
            assert np.all((counts == quota // 2) | (counts == -(-quota // 2))), (counts, quota)
    assert seen == {"homogeneous": 16, "proportional": 15}
