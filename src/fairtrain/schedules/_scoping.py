"""Callback scoping for staged runs: run-wide callbacks and the learning-rate log."""

from __future__ import annotations

from typing import Any

import keras

__all__: list[str] = []


class _RunScoped(keras.callbacks.Callback):
    """A callback that spans every stage: one train begin, one train end.

    Keras resets e.g. ``EarlyStopping`` in ``on_train_begin``; seeing it only once makes
    its patience count across stages. A stop it requests ends the whole run.
    """

    def __init__(self, callback: keras.callbacks.Callback) -> None:
        super().__init__()
        self.callback = callback
        self.began = False
        self.requested_stop = False

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self.callback.set_model(model)

    def set_params(self, params: Any) -> None:
        super().set_params(params)
        self.callback.set_params(params)

    def _watch(self, method: str, *args: Any) -> None:
        before = bool(getattr(self.model, "stop_training", False))
        getattr(self.callback, method)(*args)
        if not before and getattr(self.model, "stop_training", False):
            self.requested_stop = True

    def on_train_begin(self, logs: Any = None) -> None:
        if not self.began:
            self.began = True
            self.callback.on_train_begin(logs)

    def on_train_end(self, logs: Any = None) -> None:
        pass  # called once by the run, see StagedTraining.fit

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._watch("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self._watch("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        self._watch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self._watch("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs: Any = None) -> None:
        self.callback.on_test_begin(logs)

    def on_test_end(self, logs: Any = None) -> None:
        self.callback.on_test_end(logs)

    def on_test_batch_begin(self, batch: int, logs: Any = None) -> None:
        self.callback.on_test_batch_begin(batch, logs)

    def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
        self.callback.on_test_batch_end(batch, logs)


class _LearningRateLog(keras.callbacks.Callback):
    """Writes the learning rate in force to ``logs["learning_rate"]`` (runs first)."""

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if logs is not None and "learning_rate" not in logs:
            logs["learning_rate"] = float(
                keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
            )
