"""The staged-training driver: `StagedTraining` and `fit_staged`.

The pieces live one concern per module: :mod:`~fairtrain.schedules.stage` (the
:class:`Stage` spec), :mod:`~fairtrain.schedules.recipes` (the reference recipes),
:mod:`~fairtrain.schedules.freezing` (layer selection, BatchNorm),
:mod:`~fairtrain.schedules.history` (:class:`StagedHistory`),
:mod:`~fairtrain.schedules._scoping` (run-wide callbacks) and
:mod:`~fairtrain.schedules.backup` (the backup files).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import keras

from fairtrain._validation import Constraint, InstanceOf, param_error, validate_params
from fairtrain.schedules._scoping import _LearningRateLog, _RunScoped
from fairtrain.schedules.backup import StagedBackup
from fairtrain.schedules.freezing import apply_stage
from fairtrain.schedules.history import StagedHistory
from fairtrain.schedules.recipes import one_stage, three_stage, two_stage
from fairtrain.schedules.stage import (
    OPTIMIZER,
    CallbackList,
    Stage,
    check_keras_name,
    serialize_optimizer,
)

__all__ = [
    "Stage",
    "StagedHistory",
    "StagedTraining",
    "fit_staged",
    "one_stage",
    "three_stage",
    "two_stage",
]


class StageList(Constraint):
    """A non-empty sequence of :class:`Stage` (never a single one)."""

    description = "a non-empty list of Stage"

    def type_ok(self, value: Any) -> bool:
        return (
            isinstance(value, Sequence)
            and not isinstance(value, (str, Stage))
            and all(isinstance(s, Stage) for s in value)
        )

    def ok(self, value: Any) -> bool:
        return self.type_ok(value) and len(value) > 0


def _metric_objects(metrics: Any) -> list[keras.metrics.Metric]:
    """The ``keras.metrics.Metric`` instances in a ``compile(metrics=...)`` value."""
    if isinstance(metrics, keras.metrics.Metric):
        return [metrics]
    if isinstance(metrics, dict):
        return [m for v in metrics.values() for m in _metric_objects(v)]
    if isinstance(metrics, (list, tuple)):
        return [m for v in metrics for m in _metric_objects(v)]
    return []


def _epoch_syncs(data: Any, validation_data: Any,
                 callbacks: Sequence[keras.callbacks.Callback]) -> list[Any]:
    """An EpochSync for each fairtrain feed among the data that no callback covers."""
    from fairtrain.data.clock import feed_info

    wanted = [(f, v) for f, v in ((data, False), (validation_data, True))
              if f is not None and feed_info(f) is not None]
    if not wanted:
        return []
    from fairtrain.callbacks.epoch_sync import EpochSync

    covered = [cb for cb in callbacks if isinstance(cb, EpochSync)]
    return [EpochSync(f, validation=v) for f, v in wanted
            if not any(cb.covers(f) for cb in covered)]


def _make_optimizer(spec: Any, learning_rate: Any) -> keras.optimizers.Optimizer:
    if isinstance(spec, keras.optimizers.Optimizer):
        cls, config = type(spec), spec.get_config()
    else:
        template = keras.optimizers.get(spec)
        cls, config = type(template), template.get_config()
    return cls.from_config({**config, "learning_rate": learning_rate})


class _Recorder(keras.callbacks.Callback):
    """Records every epoch into the merged history and the backup (runs last)."""

    def __init__(self, run: StagedTraining, history: StagedHistory, index: int, start: int):
        super().__init__()
        self.run, self.history, self.index, self.start = run, history, index, start
        self.last_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.history.record(epoch, self.run.stages[self.index].name, dict(logs or {}))
        self.last_epoch = epoch
        if self.run.backup_dir is not None:
            self.run._save_backup(self.model, self.history, self.index, self.start, epoch + 1)


class StagedTraining:
    """Run a list of :class:`Stage` s as one training with one history.

    Parameters
    ----------
    stages : sequence of Stage
        The stages, in order; names must be distinct.
    optimizer : str, dict or keras.optimizers.Optimizer, default "adam"
        The optimizer of stages that do not name their own. Every stage gets a fresh
        copy with its ``learning_rate`` (optimizer state does not carry across stages).
    loss, metrics
        Passed to ``model.compile`` in every stage.
    callbacks : sequence of keras.callbacks.Callback, default ()
        Callbacks for the whole run: they see one ``on_train_begin`` and one
        ``on_train_end``, so an ``EarlyStopping`` here counts patience across stages and
        its stop ends the run; a ``ModelCheckpoint`` here keeps its best across
        stages. Put per-stage callbacks in :attr:`Stage.callbacks`.
    backup_dir : str or os.PathLike, optional
        A folder where the model weights, the optimizer state, the stage, the global
        epoch and the history are saved after every epoch (two files,
        ``fairtrain-staged.json`` and ``fairtrain-staged.npz``). A run started with a
        backup there resumes where it stopped, in the middle of a stage if need be, and
        its fairtrain feeds serve the resumed epoch's plan. When the run completes,
        fairtrain deletes those two files only, and the folder if it is then empty;
        anything else in it is left alone (a file of the same name that fairtrain did
        not write is refused, never overwritten).
    compile_kwargs : dict, optional
        Other ``model.compile`` arguments (e.g. ``jit_compile``).

    Raises
    ------
    TypeError, ValueError
        If ``stages`` is empty, holds something else than ``Stage`` s, or repeats a
        name; ``optimizer`` or ``loss`` is a name Keras does not know; or
        ``callbacks`` holds a ``keras.callbacks.BackupAndRestore`` (use ``backup_dir``).

    Notes
    -----
    Stage ``i`` runs global epochs ``[s_i, s_i + epochs_i)`` with
    ``s_i = s_{i-1} + (epochs run in stage i-1)``: Keras callbacks receive the global
    epoch (``fit(initial_epoch=s_i)``), so :class:`StepDecayCallback` and checkpoint
    file names continue across stages. Before each stage the layers' ``trainable``
    flags are set (see :class:`Stage`) and the model is recompiled.

    Examples
    --------
    >>> import keras, numpy as np
    >>> from fairtrain.schedules import StagedTraining, two_stage
    >>> backbone = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)],
    ...                             name="backbone")
    >>> head = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)], name="head")
    >>> model = keras.Sequential([keras.Input((3,)), backbone, head])
    >>> x, y = np.ones((8, 3)), np.ones((8, 1))
    >>> run = StagedTraining(two_stage((2, 1)), optimizer="sgd", loss="mse")
    >>> history = run.fit(model, x, y, verbose=0)
    >>> history.epoch, history.stage
    ([0, 1, 2], ['head', 'head', 'all'])
    >>> history.history["learning_rate"]
    [0.0001, 0.0001, 1e-05]
    """

    @validate_params(
        {
            "stages": [StageList()],
            "optimizer": [OPTIMIZER],
            "callbacks": [CallbackList()],
            "backup_dir": [InstanceOf((str, os.PathLike), "a folder path"), None],
            "compile_kwargs": [InstanceOf(dict, "a dict"), None],
        },
        hints={"stages": "Build one with Stage(...) or a recipe such as two_stage(epochs)."},
    )
    def __init__(
        self,
        stages: Sequence[Stage],
        *,
        optimizer: str | dict[str, Any] | keras.optimizers.Optimizer = "adam",
        loss: Any = None,
        metrics: Any = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        backup_dir: str | os.PathLike[str] | None = None,
        compile_kwargs: dict[str, Any] | None = None,
    ) -> None:
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise param_error(
                "stages", names, "stages with distinct names",
                hint="The names label the history.",
            )
        check_keras_name("optimizer", optimizer, keras.optimizers.get, "'adam', 'sgd'")
        check_keras_name("loss", loss, keras.losses.get, "'mse', 'binary_crossentropy'")
        if any(isinstance(cb, keras.callbacks.BackupAndRestore) for cb in callbacks):
            raise param_error(
                "callbacks", callbacks, "callbacks without a BackupAndRestore",
                hint="It knows one fit, not the stages. Pass backup_dir=... to resume a "
                "staged run instead.",
            )
        self.stages = stages
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.callbacks = callbacks
        self.backup_dir = backup_dir
        self.compile_kwargs = compile_kwargs

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as plain JSON values, all but ``callbacks``.

        The stages by their :meth:`Stage.get_config`, an optimizer or loss object
        serialised with Keras; JSON when ``loss`` and ``metrics`` are names (or Keras
        objects) and ``compile_kwargs`` holds plain values. Callbacks (the run's and the
        stages') have no config: give them again to :meth:`from_config`.
        """
        loss = self.loss
        if isinstance(loss, keras.losses.Loss):
            loss = keras.losses.serialize(loss)
        return {
            "stages": [stage.get_config() for stage in self.stages],
            "optimizer": serialize_optimizer(self.optimizer),
            "loss": loss,
            "metrics": self.metrics,
            "backup_dir": None if self.backup_dir is None else os.fspath(self.backup_dir),
            "compile_kwargs": self.compile_kwargs,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StagedTraining:
        """Rebuild from :meth:`get_config` (plus ``callbacks``, if the run had any)."""
        config = dict(config)
        config["stages"] = [
            s if isinstance(s, Stage) else Stage.from_config(s) for s in config["stages"]
        ]
        if isinstance(config.get("loss"), Mapping):
            config["loss"] = keras.losses.deserialize(config["loss"])
        return cls(**config)

    def _backup(self) -> StagedBackup | None:
        return None if self.backup_dir is None else StagedBackup(self.backup_dir)

    def _save_backup(
        self,
        model: keras.Model,
        history: StagedHistory,
        index: int,
        start: int,
        epoch: int,
        *,
        with_optimizer: bool = True,
    ) -> None:
        backup = self._backup()
        if backup is not None:
            state = {"stages": [s.name for s in self.stages], "stage": index,
                     "stage_start": start, "epoch": epoch, "history": history.to_dict()}
            backup.save(model, state, with_optimizer=with_optimizer)

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        model: keras.Model,
        x: Any = None,
        y: Any = None,
        *,
        validation_data: Any = None,
        verbose: Any = "auto",
        **fit_kwargs: Any,
    ) -> StagedHistory:
        """Train ``model`` through every stage.

        Parameters
        ----------
        model : keras.Model
            The model; its layers' ``trainable`` flags are set per stage.
        x, y
            The training data, as for ``model.fit`` (a ``PyDataset`` such as
            :class:`fairtrain.data.SampledPyDataset`, a ``tf.data.Dataset``, or arrays),
            or a function ``initial_epoch -> x``, called at the start of every stage
            (and on resume) with the global epoch. A fairtrain feed
            (:func:`~fairtrain.data.to_tf_dataset`, :func:`~fairtrain.data.from_group_datasets`,
            :class:`~fairtrain.data.SampledPyDataset`), given here or as
            ``validation_data``, gets an :class:`~fairtrain.data.EpochSync` added (unless
            one of the callbacks already covers it), so global epoch ``e`` serves
            ``plan(e)`` in every stage and after a resume.
        validation_data, verbose, **fit_kwargs
            Passed to every ``model.fit`` (``steps_per_epoch``, ``sample_weight``,
            ``batch_size``, ``shuffle``...). ``epochs``, ``initial_epoch`` and
            ``callbacks`` are set by the stages.

        Returns
        -------
        StagedHistory
            The merged history; also ``model.history``.

        Raises
        ------
        ValueError
            If ``fit_kwargs`` sets ``epochs``, ``initial_epoch`` or ``callbacks``, a
            stage's layer pattern matches no layer, or the backup in ``backup_dir``
            cannot be restored (a file instead of a folder, unreadable variables, or
            another model's).
        """
        _check_fit_kwargs(fit_kwargs)
        store = self._backup()
        history, (first, epoch, start), arrays = self._resume(model, store)
        scoped = [_RunScoped(cb) for cb in self.callbacks]
        frozen_before: set[int] = set()
        stopped = False
        for index, stage in enumerate(self.stages):
            frozen, _ = apply_stage(model, stage, frozen_before)
            frozen_before |= frozen
            if index < first:
                continue
            if index > first or arrays is None:
                start = epoch
            if epoch >= start + stage.epochs:
                continue
            optimizer = self._compile(model, stage)
            if arrays is not None and index == first and epoch > start:
                _restore_optimizer(optimizer, model, arrays)
            epoch = self._fit_stage(
                model, index, start, epoch, history=history, scoped=scoped, x=x, y=y,
                validation_data=validation_data, verbose=verbose, fit_kwargs=fit_kwargs)
            stopped = any(cb.requested_stop for cb in scoped)
            if stopped:
                break
            if self.backup_dir is not None:
                self._save_backup(model, history, index + 1, epoch, epoch,
                                  with_optimizer=False)
        _end_run(model, history, scoped, store, stopped)
        return history

    def _resume(
        self, model: keras.Model, store: StagedBackup | None
    ) -> tuple[StagedHistory, tuple[int, int, int], dict[str, Any] | None]:
        """The history, (stage, epoch, stage start) and saved arrays to resume from.

        With a backup in ``backup_dir``, ``model`` gets its weights back; without one the
        run starts afresh: an empty history at stage 0, epoch 0, and no arrays.
        """
        backup = None if store is None else store.load(
            [s.name for s in self.stages], [s.epochs for s in self.stages])
        if backup is None:
            return StagedHistory(), (0, 0, 0), None
        state, arrays = backup
        history = StagedHistory.from_dict(state["history"])
        if not model.built:
            raise ValueError(
                f"`model` must be built to restore the backup in "
                f"{os.fspath(self.backup_dir)!r}; build it first (an Input layer, or "
                "model.build(input_shape))."
            )
        model.set_weights(store.check_model(model, arrays))
        return history, (state["stage"], state["epoch"], state["stage_start"]), arrays

    def _compile(self, model: keras.Model, stage: Stage) -> keras.optimizers.Optimizer:
        """Compile ``model`` for ``stage`` with a fresh optimizer; return that optimizer."""
        optimizer = _make_optimizer(
            stage.optimizer if stage.optimizer is not None else self.optimizer,
            stage.learning_rate,
        )
        model.compile(
            optimizer=optimizer,
            loss=self.loss,
            metrics=self.metrics,
            **(self.compile_kwargs or {}),
        )
        # Metric objects given once serve every stage's compile; Keras resets them
        # only once built, so a new stage's first epoch would add to the last one's.
        for metric in _metric_objects(self.metrics):
            metric.reset_state()
        return optimizer

    def _fit_stage(
        self,
        model: keras.Model,
        index: int,
        start: int,
        epoch: int,
        *,
        history: StagedHistory,
        scoped: list[_RunScoped],
        x: Any,
        y: Any,
        validation_data: Any,
        verbose: Any,
        fit_kwargs: dict[str, Any],
    ) -> int:
        """Run stage ``index`` (from global ``start``) on from ``epoch``; the next epoch to run."""
        stage = self.stages[index]
        recorder = _Recorder(self, history, index, start)
        data = x(epoch) if callable(x) and not isinstance(x, keras.utils.PyDataset) else x
        syncs = _epoch_syncs(data, validation_data, [*self.callbacks, *stage.callbacks])
        kwargs = dict(fit_kwargs)
        if y is None and not hasattr(data, "shape"):
            # A dataset or PyDataset orders its own batches (a sampler's plan);
            # Keras would only warn that it ignores shuffle=True.
            kwargs.setdefault("shuffle", False)
        model.fit(
            data,
            y,
            validation_data=validation_data,
            epochs=start + stage.epochs,
            initial_epoch=epoch,
            callbacks=[*syncs, _LearningRateLog(), *stage.callbacks, *scoped, recorder],
            verbose=verbose,
            **kwargs,
        )
        return epoch if recorder.last_epoch is None else recorder.last_epoch + 1


def _check_fit_kwargs(fit_kwargs: Mapping[str, Any]) -> None:
    """Refuse the ``model.fit`` arguments that the stages set."""
    clash = sorted({"epochs", "initial_epoch", "callbacks"} & set(fit_kwargs))
    if clash:
        raise ValueError(
            f"{clash} are set by the stages; got them in fit's arguments. Give "
            "epochs per Stage, and callbacks to StagedTraining or to a Stage."
        )


def _restore_optimizer(optimizer: keras.optimizers.Optimizer, model: keras.Model,
                       arrays: Mapping[str, Any]) -> None:
    """Give ``optimizer`` the state saved in the backup's ``optimizer_<i>`` arrays, if any."""
    saved = [arrays[k] for k in sorted(
        (k for k in arrays if k.startswith("optimizer_")),
        key=lambda k: int(k.split("_")[1]),
    )]
    if saved:
        optimizer.build(model.trainable_variables)
        optimizer.set_weights(saved)


def _end_run(model: keras.Model, history: StagedHistory, scoped: list[_RunScoped],
             store: StagedBackup | None, stopped: bool) -> None:
    """End the run: the run-wide callbacks' ``on_train_end``, no backup, the history set."""
    last_logs = {k: v[-1] for k, v in history.history.items()} if history.epoch else {}
    for cb in scoped:
        cb.callback.on_train_end(last_logs)
    if store is not None:
        store.remove()
    history.stopped_early = stopped
    history.set_model(model)
    model.history = history

def fit_staged(
    model: keras.Model,
    stages: Sequence[Stage],
    x: Any = None,
    y: Any = None,
    *,
    validation_data: Any = None,
    optimizer: str | dict[str, Any] | keras.optimizers.Optimizer = "adam",
    loss: Any = None,
    metrics: Any = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    backup_dir: str | os.PathLike[str] | None = None,
    compile_kwargs: dict[str, Any] | None = None,
    verbose: Any = "auto",
    **fit_kwargs: Any,
) -> StagedHistory:
    """Train ``model`` through ``stages``; one history with a global epoch counter.

    Shorthand for ``StagedTraining(stages, optimizer=..., loss=..., metrics=...,
    callbacks=..., backup_dir=...).fit(model, x, y, validation_data=..., ...)``; see
    :class:`StagedTraining` for every argument.

    Returns
    -------
    StagedHistory
        ``epoch`` (global, contiguous), ``stage`` (per epoch) and ``history`` (per
        epoch, with ``learning_rate``).

    Examples
    --------
    >>> import keras, numpy as np
    >>> from fairtrain.schedules import Stage, fit_staged
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="body"),
    ...                           keras.layers.Dense(1, name="out")])
    >>> stages = [Stage("out", trainable="out", epochs=1, learning_rate=0.1),
    ...           Stage("all", trainable="all", epochs=2, learning_rate=0.01)]
    >>> history = fit_staged(model, stages, np.ones((8, 3)), np.ones((8, 1)),
    ...                      optimizer="sgd", loss="mse", verbose=0)
    >>> list(zip(history.epoch, history.stage))
    [(0, 'out'), (1, 'all'), (2, 'all')]
    """
    run = StagedTraining(
        stages,
        optimizer=optimizer,
        loss=loss,
        metrics=metrics,
        callbacks=callbacks,
        backup_dir=backup_dir,
        compile_kwargs=compile_kwargs,
    )
    return run.fit(model, x, y, validation_data=validation_data, verbose=verbose, **fit_kwargs)
