"""The epoch contract: global epoch ``e`` of any way of running serves exactly ``plan(e)``.

For every adapter and every way of running ``fit`` (plain, ``initial_epoch``, short
epochs, ``fit_staged`` with 1-3 stages, ``BackupAndRestore`` and ``backup_dir`` resumes
after an interruption), the examples the model is trained on in global epoch ``e`` are
exactly the first ``steps`` rows of ``sampler.plan(e)``. The model itself reports what
it was fed: the target of example ``i`` is ``i``, and a metric sums powers of the
targets over the epoch, which identifies the epoch's multiset of indices.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

import fairtrain as ft

keras = pytest.importorskip("keras")
from fairtrain.data import EpochSync, SampledPyDataset  # noqa: E402

pytestmark = pytest.mark.keras_backend

N = 40
CODES = np.repeat(np.arange(2), [30, 10])
np.random.default_rng(0).shuffle(CODES)
GROUPS = ft.Groups.from_codes(CODES)
X = np.random.default_rng(1).normal(size=(N, 4)).astype("float32")
MEMBERS = [np.flatnonzero(g == CODES) for g in range(2)]
POWERS = (0, 1, 2, 3)
# A few steps per run: tracing the train step would cost more than running it eagerly.
EAGER = True


class PowerSum(keras.metrics.Metric):
    """Sum over the epoch of (target + 1) ** p: with p = 0..3 a fingerprint of the set."""

    def __init__(self, p: int, **kwargs: Any) -> None:
        super().__init__(name=f"s{p}", **kwargs)
        self.p = p
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        v = keras.ops.cast(y_true, "float32") + 1.0
        self.total.assign_add(keras.ops.sum(v ** self.p))

    def result(self):
        return keras.ops.convert_to_tensor(self.total)


def fingerprint(indices: np.ndarray) -> tuple[float, ...]:
    v = np.asarray(indices, np.float64) + 1.0
    return tuple(float(np.sum(v ** p)) for p in POWERS)


class Served(keras.callbacks.Callback):
    """Global epoch -> fingerprint of what it trained on (last run of that epoch wins)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_epoch: dict[int, tuple[float, ...]] = {}

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.by_epoch[epoch] = tuple(float(logs[f"s{p}"]) for p in POWERS)


def make_sampler(adapter: str) -> Any:
    if adapter == "groups":
        return ft.sampling.Proportional(GROUPS, batch_size=8, seed=4, last_batch="drop")
    return ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=4)


def expected(adapter: str, sampler: Any, epoch: int, steps: int) -> tuple[float, ...]:
    if adapter == "groups":  # every iteration restarts each group's stream
        taken = sampler.quotas(epoch)[:steps].sum(axis=0)
        return fingerprint(np.concatenate([np.resize(m, q) for m, q in zip(MEMBERS, taken)]))
    return fingerprint(sampler.plan(epoch)[:steps].ravel())


def make_feed(adapter: str, sampler: Any, steps: int | None) -> Any:
    """The adapter's feed of (x, target = index) batches, ``steps`` batches per epoch."""
    short = {} if steps is None else {"steps_per_epoch": steps}
    if adapter.startswith("py"):
        workers = 1 if adapter == "py1" else 2
        return SampledPyDataset(sampler, lambda i: (X[i], i.astype("float32")[:, None]),
                                workers=workers, use_multiprocessing=adapter == "py2mp",
                                max_queue_size=3, **short)
    tf = pytest.importorskip("tensorflow")
    xs = tf.constant(X)

    def load(i):
        return tf.gather(xs, i), tf.cast(tf.reshape(i, [-1, 1]), tf.float32)

    if adapter == "groups":
        streams = [tf.data.Dataset.from_tensor_slices((X[m], m.astype("float32")[:, None]))
                   for m in MEMBERS]
        return ft.data.from_group_datasets(sampler, streams, **short)
    return ft.data.to_tf_dataset(sampler, load, vectorized=True,
                                 repeat=adapter == "tf_repeat", **short)


def make_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    backbone = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="bb")],
                                name="backbone")
    head = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="out")],
                            name="head")
    return keras.Model(inputs, head(backbone(inputs)))


def compile_(model: keras.Model) -> None:
    model.compile(optimizer=keras.optimizers.SGD(1e-9), loss="mse",
                  metrics=[PowerSum(p) for p in POWERS], run_eagerly=EAGER)


class Interrupt(keras.callbacks.Callback):
    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if epoch == self.at:
            raise KeyboardInterrupt  # what a user's Ctrl-C or a preemption looks like


# JAX warns at every fork that a forked child must not use JAX; load_batch here is
# NumPy only (the documented rule for use_multiprocessing under JAX).
_FORK_OK = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")
ADAPTERS = ["tf", "tf_repeat", "py1", "py2", pytest.param("py2mp", marks=_FORK_OK), "groups"]
RUNS = ["plain", "initial_epoch", "short", "staged1", "staged2", "staged3",
        "backup_and_restore", "backup_dir"]


def run(adapter: str, how: str, tmp_path: Any) -> tuple[dict[int, tuple], list[int], int]:
    """Train; return (epoch -> served fingerprint, epochs expected, steps per epoch)."""
    sampler = make_sampler(adapter)
    full = sampler.steps_per_epoch
    steps = full - 2 if how == "short" or adapter == "tf_repeat" else full
    feed = make_feed(adapter, sampler, None if steps == full else steps)
    fit_steps = {"steps_per_epoch": steps} if adapter == "tf_repeat" or how == "short" else {}
    served = Served()
    model = make_model()
    if how in ("plain", "initial_epoch", "short", "backup_and_restore"):
        compile_(model)
        first = 2 if how == "initial_epoch" else 0
        common = dict(epochs=first + 3, initial_epoch=first, shuffle=False, verbose=0,
                      **fit_steps)
        if how == "backup_and_restore":
            backup = keras.callbacks.BackupAndRestore(str(tmp_path / "bar"))
            with pytest.raises(KeyboardInterrupt):
                model.fit(feed, callbacks=[EpochSync(feed), backup, served, Interrupt(2)],
                          **common)
            model = make_model()
            compile_(model)
            feed = make_feed(adapter, sampler, None if steps == full else steps)
            model.fit(feed, callbacks=[EpochSync(feed), backup, served], **common)
        else:
            model.fit(feed, callbacks=[EpochSync(feed), served], **common)
        return served.by_epoch, list(range(first, first + 3)), steps
    n_stages = {"staged1": 1, "staged2": 2, "staged3": 3, "backup_dir": 3}[how]
    recipe = {1: ft.schedules.one_stage(3), 2: ft.schedules.two_stage((1, 2)),
              3: ft.schedules.three_stage((1, 1, 2))}[n_stages]
    kwargs = dict(optimizer="sgd", loss="mse", metrics=[PowerSum(p) for p in POWERS],
                  compile_kwargs={"run_eagerly": EAGER}, verbose=0, **fit_steps)
    total = sum(s.epochs for s in recipe)
    if how == "backup_dir":
        folder = tmp_path / "staged"
        with pytest.raises(KeyboardInterrupt):
            ft.fit_staged(model, recipe, feed, callbacks=[served, Interrupt(2)],
                          backup_dir=folder, **kwargs)
        model = make_model()
        feed = make_feed(adapter, sampler, None if steps == full else steps)
        ft.fit_staged(model, recipe, feed, callbacks=[served], backup_dir=folder, **kwargs)
    else:
        ft.fit_staged(model, recipe, feed, callbacks=[served], **kwargs)
    return served.by_epoch, list(range(total)), steps


@pytest.mark.parametrize("how", RUNS)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_global_epoch_e_serves_plan_e(adapter: str, how: str, tmp_path: Any) -> None:
    if adapter == "py2mp" and os.name != "posix":
        pytest.skip("worker processes are forked")
    if adapter in ("tf", "tf_repeat", "groups") and keras.backend.backend() == "torch":
        pytest.skip("tf.data feeds are for the TensorFlow and JAX backends")
    got, epochs, steps = run(adapter, how, tmp_path)
    sampler = make_sampler(adapter)
    assert sorted(got) == epochs
    for e in epochs:
        assert got[e] == expected(adapter, sampler, e, steps), f"epoch {e}"
    # and the epochs really differ: a replayed plan(0) would have been caught
    if adapter != "groups":
        assert len({got[e] for e in epochs}) == len(epochs)
