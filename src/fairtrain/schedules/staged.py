"""Staged fine-tuning: `Stage`, `StagedTraining` / `fit_staged` and the reference recipes."""

from __future__ import annotations

import difflib
import fnmatch
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from typing import Any, Literal

import keras
import numpy as np

__all__ = [
    "Stage",
    "StagedHistory",
    "StagedTraining",
    "fit_staged",
    "one_stage",
    "three_stage",
    "two_stage",
]

Selector = str | Sequence[str] | Callable[[keras.layers.Layer], bool]
BatchNormMode = Literal["auto", "inference", "train"]
_BN_MODES = ("auto", "inference", "train")


# ---------------------------------------------------------------------- Stage
def _check_selector(name: str, value: Any) -> Any:
    if callable(value) and not isinstance(value, str):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TypeError(
        f"`{name}` must be 'all', a layer name or name pattern, a sequence of them, or a "
        f"predicate layer -> bool; got {name}={value!r}."
    )


class Stage:
    """One stage of staged training: which layers train, for how long, at which rate.

    Parameters
    ----------
    name : str
        The stage's name, recorded for every epoch in the history.
    trainable : "all", str, sequence of str, or callable, default "all"
        The layers that train. A string selects every layer (at any depth) whose name
        matches it as a :mod:`fnmatch` pattern: an exact name (``"dense_1"``), the name
        of a sub-model (``"backbone"``, ``"head"``: all its layers), or a prefix
        (``"block5_*"``). A callable is a predicate ``layer -> bool`` over every layer.
        Selecting a layer selects all its sub-layers. ``"all"`` is the whole model.
    epochs : int
        Number of epochs (fewer if a callback stops the stage early).
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule
        The optimizer's learning rate in this stage. A schedule counts this stage's
        optimizer steps (the optimizer is new in every stage).
    optimizer : str, dict or keras.optimizers.Optimizer, optional
        This stage's optimizer; default: the one given to :class:`StagedTraining`. A
        fresh copy is made with ``learning_rate``.
    callbacks : sequence of keras.callbacks.Callback, default ()
        Callbacks for this stage only: an ``EarlyStopping`` here ends the stage, and
        the next stage starts.
    frozen : str, sequence of str, or callable, default ()
        Layers removed from ``trainable`` (same forms), e.g. ``trainable="all",
        frozen="backbone"``.
    batchnorm : {"auto", "inference", "train"}, default "auto"
        BatchNormalization layers. ``"auto"``: a BN layer frozen in an earlier stage
        stays frozen, in inference mode, even when its parent trains (the Keras
        fine-tuning rule); ``"inference"``: every BN layer is frozen; ``"train"``: BN
        layers follow ``trainable``.

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or range.

    Notes
    -----
    In Keras 3 a BatchNormalization layer with ``trainable=False`` runs in inference
    mode: it normalises with its moving statistics, does not update them, and its
    ``gamma`` / ``beta`` do not train. Keeping BN "in inference mode" therefore means
    keeping it non-trainable while the rest of its parent trains.

    Examples
    --------
    >>> from fairtrain.schedules import Stage
    >>> Stage("head", trainable="all", frozen="backbone", epochs=5, learning_rate=1e-4)
    Stage('head', trainable='all', frozen='backbone', epochs=5, learning_rate=0.0001)
    """

    def __init__(
        self,
        name: str,
        *,
        trainable: Selector = "all",
        epochs: int,
        learning_rate: float | keras.optimizers.schedules.LearningRateSchedule,
        optimizer: str | dict[str, Any] | keras.optimizers.Optimizer | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        frozen: Selector = (),
        batchnorm: BatchNormMode = "auto",
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"`name` must be a non-empty string; got name={name!r}.")
        _check_selector("trainable", trainable)
        _check_selector("frozen", frozen)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"`epochs` must be a positive integer; got epochs={epochs!r}.")
        if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            if isinstance(learning_rate, bool) or not isinstance(
                learning_rate, (int, float, np.number)
            ):
                raise TypeError(
                    "`learning_rate` must be a positive number or a Keras "
                    f"LearningRateSchedule; got learning_rate={learning_rate!r}."
                )
            if not math.isfinite(learning_rate) or learning_rate <= 0:
                raise ValueError(
                    "`learning_rate` must be positive and finite; got "
                    f"learning_rate={learning_rate!r}."
                )
        if optimizer is not None and not isinstance(
            optimizer, (str, dict, keras.optimizers.Optimizer)
        ):
            raise TypeError(
                "`optimizer` must be a name, a config dict or a keras Optimizer; got "
                f"optimizer={optimizer!r}."
            )
        if isinstance(callbacks, keras.callbacks.Callback) or not all(
            isinstance(cb, keras.callbacks.Callback) for cb in callbacks
        ):
            raise TypeError(
                "`callbacks` must be a sequence of keras.callbacks.Callback; got "
                f"callbacks={callbacks!r}. Wrap a single callback in a list."
            )
        if batchnorm not in _BN_MODES:
            raise ValueError(
                f"`batchnorm` must be one of {list(_BN_MODES)}; got batchnorm={batchnorm!r}."
            )
        self.name = name
        self.trainable = trainable
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.callbacks = callbacks
        self.frozen = frozen
        self.batchnorm = batchnorm

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "optimizer": self.optimizer,
            "callbacks": self.callbacks,
            "frozen": self.frozen,
            "batchnorm": self.batchnorm,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Stage:
        """Rebuild from :meth:`get_config`."""
        return cls(**config)

    def __repr__(self) -> str:
        parts = [repr(self.name), f"trainable={self.trainable!r}"]
        if self.frozen != ():
            parts.append(f"frozen={self.frozen!r}")
        parts += [f"epochs={self.epochs}", f"learning_rate={self.learning_rate!r}"]
        if self.batchnorm != "auto":
            parts.append(f"batchnorm={self.batchnorm!r}")
        return f"Stage({', '.join(parts)})"


# ---------------------------------------------------------------------- recipes
def _per_stage(name: str, value: Any, n: int) -> tuple[Any, ...]:
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,) * n
    if len(values) != n:
        raise ValueError(f"`{name}` must be one value or {n} values; got {name}={value!r}.")
    return values


def one_stage(epochs: int, *, learning_rate: float = 1e-5) -> list[Stage]:
    """The 1-stage recipe of the apparent-age experiment: the whole model at 1e-5.

    Parameters
    ----------
    epochs : int
        Epochs of the stage.
    learning_rate : float, default 1e-5

    Returns
    -------
    list of Stage
        ``[Stage("all", trainable="all", ...)]``.

    Examples
    --------
    >>> from fairtrain.schedules import one_stage
    >>> one_stage(50)
    [Stage('all', trainable='all', epochs=50, learning_rate=1e-05)]
    """
    return [Stage("all", trainable="all", epochs=epochs, learning_rate=learning_rate)]


def two_stage(
    epochs: int | Sequence[int],
    *,
    learning_rates: Sequence[float] = (1e-4, 1e-5),
    backbone: str = "backbone",
) -> list[Stage]:
    """The 2-stage recipe: backbone frozen at 1e-4, then the whole model at 1e-5.

    Parameters
    ----------
    epochs : int or sequence of 2 int
        Epochs per stage (one value for both).
    learning_rates : sequence of 2 float, default (1e-4, 1e-5)
    backbone : str, default "backbone"
        Name (or pattern) of the backbone sub-model.

    Returns
    -------
    list of Stage
        ``head`` (everything but the backbone), then ``all``. With the default
        ``batchnorm="auto"`` the backbone's BatchNormalization layers stay in inference
        mode in the second stage.

    Examples
    --------
    >>> from fairtrain.schedules import two_stage
    >>> for stage in two_stage((5, 20)):
    ...     print(stage)
    Stage('head', trainable='all', frozen='backbone', epochs=5, learning_rate=0.0001)
    Stage('all', trainable='all', epochs=20, learning_rate=1e-05)
    """
    e = _per_stage("epochs", epochs, 2)
    lr = _per_stage("learning_rates", learning_rates, 2)
    return [
        Stage("head", trainable="all", frozen=backbone, epochs=e[0], learning_rate=lr[0]),
        Stage("all", trainable="all", epochs=e[1], learning_rate=lr[1]),
    ]


def three_stage(
    epochs: int | Sequence[int],
    *,
    learning_rates: Sequence[float] = (1e-4, 1e-5, 1e-5),
    backbone: str = "backbone",
    head: str = "head",
) -> list[Stage]:
    """The 3-stage recipe: head at 1e-4, then backbone at 1e-5, then all at 1e-5.

    Parameters
    ----------
    epochs : int or sequence of 3 int
        Epochs per stage (one value for all three).
    learning_rates : sequence of 3 float, default (1e-4, 1e-5, 1e-5)
    backbone : str, default "backbone"
        Name (or pattern) of the backbone sub-model.
    head : str, default "head"
        Name (or pattern) of the head sub-model.

    Returns
    -------
    list of Stage
        ``head`` (backbone frozen), ``backbone`` (head frozen), ``all``.

    Examples
    --------
    >>> from fairtrain.schedules import three_stage
    >>> [(s.name, s.frozen, s.learning_rate) for s in three_stage(10)]
    [('head', 'backbone', 0.0001), ('backbone', 'head', 1e-05), ('all', (), 1e-05)]
    """
    e = _per_stage("epochs", epochs, 3)
    lr = _per_stage("learning_rates", learning_rates, 3)
    return [
        Stage("head", trainable="all", frozen=backbone, epochs=e[0], learning_rate=lr[0]),
        Stage("backbone", trainable="all", frozen=head, epochs=e[1], learning_rate=lr[1]),
        Stage("all", trainable="all", epochs=e[2], learning_rate=lr[2]),
    ]


# ---------------------------------------------------------------------- layer selection
def _tree(model: keras.layers.Layer) -> list[tuple[keras.layers.Layer, list[Any]]]:
    """Every layer below ``model`` in pre-order, each with its direct sub-layers."""
    out: list[tuple[keras.layers.Layer, list[Any]]] = []
    seen: set[int] = set()

    def visit(layer: keras.layers.Layer) -> None:
        children = [c for c in getattr(layer, "_layers", []) if id(c) not in seen]
        for child in children:
            seen.add(id(child))
        out.append((layer, children))
        for child in children:
            visit(child)

    seen.add(id(model))
    visit(model)
    return out[1:]


def _descendants(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    return [layer] + [d for c in getattr(layer, "_layers", []) for d in _descendants(c)]


def _select(model: keras.Model, spec: Any, what: str) -> set[int]:
    """Ids of the layers ``spec`` selects, sub-layers included."""
    layers = [layer for layer, _ in _tree(model)]
    if isinstance(spec, str) and spec == "all":
        return {id(layer) for layer in layers}
    if callable(spec) and not isinstance(spec, str):
        chosen = [layer for layer in layers if spec(layer)]
    else:
        patterns = (spec,) if isinstance(spec, str) else tuple(spec)
        chosen = []
        for pattern in patterns:
            hits = [layer for layer in layers if fnmatch.fnmatchcase(layer.name, pattern)]
            if not hits:
                names = sorted({layer.name for layer in layers})
                close = difflib.get_close_matches(pattern, names, n=3)
                hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
                raise ValueError(
                    f"`{what}` pattern {pattern!r} matches no layer of model "
                    f"{model.name!r}.{hint} Its layers: {names}."
                )
            chosen += hits
    return {id(d) for layer in chosen for d in _descendants(layer)}


def _apply_stage(
    model: keras.Model, stage: Stage, frozen_before: set[int]
) -> tuple[set[int], list[str]]:
    """Set ``trainable`` on every layer for ``stage``.

    Returns the ids of the layers frozen in this stage and the trainable leaf names.
    """
    tree = _tree(model)
    selected = _select(model, stage.trainable, "trainable")
    if stage.frozen != ():
        selected -= _select(model, stage.frozen, "frozen")
    for layer, _ in tree:
        if isinstance(layer, keras.layers.BatchNormalization) and (
            stage.batchnorm == "inference"
            or (stage.batchnorm == "auto" and id(layer) in frozen_before)
        ):
            selected.discard(id(layer))
    # A container trains if any of its layers does; otherwise its variables drop out.
    flags: dict[int, bool] = {}
    for layer, _ in reversed(tree):
        flags[id(layer)] = id(layer) in selected or any(
            flags.get(id(c), False) for c in getattr(layer, "_layers", [])
        )
    model.trainable = True
    # Pre-order: a parent's setter recurses into its children, which are set after it.
    for layer, _ in tree:
        layer.trainable = flags[id(layer)]
    if model.built and not model.trainable_weights:
        raise ValueError(
            f"Stage {stage.name!r} leaves no weight of model {model.name!r} trainable; "
            "check its `trainable` and `frozen`."
        )
    frozen = {id(layer) for layer, _ in tree if not flags[id(layer)]}
    leaves = [layer.name for layer, children in tree if not children and flags[id(layer)]]
    return frozen, leaves


def _make_optimizer(spec: Any, learning_rate: Any) -> keras.optimizers.Optimizer:
    if isinstance(spec, keras.optimizers.Optimizer):
        cls, config = type(spec), spec.get_config()
    else:
        template = keras.optimizers.get(spec)
        cls, config = type(template), template.get_config()
    return cls.from_config({**config, "learning_rate": learning_rate})


# ---------------------------------------------------------------------- history
class StagedHistory(keras.callbacks.History):
    """The merged history of all stages, with a global epoch counter.

    Attributes
    ----------
    epoch : list of int
        Global epoch numbers (0-based), contiguous across stages.
    history : dict of str to list of float
        Every logged value per epoch (``loss``, ``val_loss``, metrics,
        ``learning_rate``); NaN where a stage did not log it.
    stage : list of str
        The stage of every epoch.
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.stage: list[str] = []
        self.stopped_early = False

    def record(self, epoch: int, stage: str, logs: dict[str, Any]) -> None:
        """Append one epoch."""
        n = len(self.epoch)
        for key, value in logs.items():
            try:
                number = float(keras.ops.convert_to_numpy(value))
            except (TypeError, ValueError):
                continue
            self.history.setdefault(key, [math.nan] * n).append(number)
        self.epoch.append(int(epoch))
        self.stage.append(stage)
        for values in self.history.values():
            if len(values) < n + 1:
                values.append(math.nan)

    def stage_epochs(self, stage: str) -> list[int]:
        """The global epochs run in ``stage``."""
        return [e for e, s in zip(self.epoch, self.stage) if s == stage]

    def to_dict(self) -> dict[str, list[Any]]:
        """``{"epoch": [...], "stage": [...], <metric>: [...]}``, JSON-serialisable."""
        return {"epoch": list(self.epoch), "stage": list(self.stage), **{
            k: list(v) for k, v in self.history.items()
        }}

    @classmethod
    def from_dict(cls, data: dict[str, list[Any]]) -> StagedHistory:
        """Rebuild from :meth:`to_dict`."""
        out = cls()
        out.epoch = [int(e) for e in data["epoch"]]
        out.stage = [str(s) for s in data["stage"]]
        out.history = {
            k: [float(x) for x in v] for k, v in data.items() if k not in ("epoch", "stage")
        }
        return out


# ---------------------------------------------------------------------- callbacks
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


# ---------------------------------------------------------------------- driver
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
        epoch and the history are saved after every epoch. A run started with a backup
        there resumes where it stopped, in the middle of a stage if need be; the
        backup is deleted when the run completes.
    compile_kwargs : dict, optional
        Other ``model.compile`` arguments (e.g. ``jit_compile``).

    Raises
    ------
    TypeError, ValueError
        If ``stages`` is empty, holds something else than ``Stage`` s, or repeats a
        name; or ``callbacks`` holds a ``keras.callbacks.BackupAndRestore`` (use
        ``backup_dir``).

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
        if isinstance(stages, Stage) or not isinstance(stages, Sequence) or not stages:
            raise TypeError(
                f"`stages` must be a non-empty list of Stage; got stages={stages!r}. Build "
                "one with Stage(...) or a recipe such as two_stage(epochs)."
            )
        bad = [s for s in stages if not isinstance(s, Stage)]
        if bad:
            raise TypeError(f"`stages` must hold Stage objects only; got {bad[0]!r}.")
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise ValueError(
                f"Stage names must be distinct (they label the history); got {names}."
            )
        if not isinstance(optimizer, (str, dict, keras.optimizers.Optimizer)):
            raise TypeError(
                "`optimizer` must be a name, a config dict or a keras Optimizer; got "
                f"optimizer={optimizer!r}."
            )
        if isinstance(callbacks, keras.callbacks.Callback) or not all(
            isinstance(cb, keras.callbacks.Callback) for cb in callbacks
        ):
            raise TypeError(
                "`callbacks` must be a sequence of keras.callbacks.Callback; got "
                f"callbacks={callbacks!r}."
            )
        if any(isinstance(cb, keras.callbacks.BackupAndRestore) for cb in callbacks):
            raise ValueError(
                "`callbacks` must not hold a BackupAndRestore: it knows one fit, not the "
                "stages. Pass backup_dir=... to resume a staged run instead."
            )
        self.stages = stages
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.callbacks = callbacks
        self.backup_dir = backup_dir
        self.compile_kwargs = compile_kwargs

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {
            "stages": self.stages,
            "optimizer": self.optimizer,
            "loss": self.loss,
            "metrics": self.metrics,
            "callbacks": self.callbacks,
            "backup_dir": self.backup_dir,
            "compile_kwargs": self.compile_kwargs,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> StagedTraining:
        """Rebuild from :meth:`get_config`."""
        return cls(**config)

    # ------------------------------------------------------------------ backup
    def _paths(self) -> tuple[str, str]:
        folder = os.fspath(self.backup_dir)  # type: ignore[arg-type]
        return os.path.join(folder, "state.json"), os.path.join(folder, "variables.npz")

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
        state_path, vars_path = self._paths()
        os.makedirs(os.path.dirname(state_path), exist_ok=True)
        arrays = {f"model_{i}": w for i, w in enumerate(model.get_weights())}
        optimizer = getattr(model, "optimizer", None)
        if with_optimizer and optimizer is not None and optimizer.built:
            for i, v in enumerate(optimizer.variables):
                arrays[f"optimizer_{i}"] = keras.ops.convert_to_numpy(v)
        with open(vars_path + ".tmp", "wb") as f:
            np.savez(f, **arrays)
        state = {"stages": [s.name for s in self.stages], "stage": index,
                 "stage_start": start, "epoch": epoch, "history": history.to_dict()}
        with open(state_path + ".tmp", "w") as f:
            json.dump(state, f)
        # variables first: a state file never points at variables older than itself
        os.replace(vars_path + ".tmp", vars_path)
        os.replace(state_path + ".tmp", state_path)

    def _load_backup(self) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        if self.backup_dir is None:
            return None
        state_path, vars_path = self._paths()
        if not os.path.exists(state_path):
            return None
        with open(state_path) as f:
            state = json.load(f)
        names = [s.name for s in self.stages]
        if state.get("stages") != names:
            raise ValueError(
                f"The backup in {os.fspath(self.backup_dir)!r} belongs to the stages "
                f"{state.get('stages')}; got stages {names}. Use another backup_dir, or "
                "delete it to start afresh."
            )
        with np.load(vars_path) as data:
            arrays = {k: data[k] for k in data.files}
        return state, arrays

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
            (and on resume) with the global epoch. Use the function form for a
            ``tf.data`` pipeline, which every ``fit`` iterates from its beginning:
            ``lambda e: ft.data.to_tf_dataset(sampler, load, initial_epoch=e)`` keeps
            the batches of global epoch ``e`` in epoch ``e``. A ``SampledPyDataset``
            advances its epoch itself and can be passed as it is.
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
            If ``fit_kwargs`` sets ``epochs``, ``initial_epoch`` or ``callbacks``, or a
            stage's layer pattern matches no layer.
        """
        clash = sorted({"epochs", "initial_epoch", "callbacks"} & set(fit_kwargs))
        if clash:
            raise ValueError(
                f"{clash} are set by the stages; got them in fit's arguments. Give "
                "epochs per Stage, and callbacks to StagedTraining or to a Stage."
            )
        history = StagedHistory()
        first, epoch, start = 0, 0, 0
        backup = self._load_backup()
        if backup is not None:
            state, arrays = backup
            history = StagedHistory.from_dict(state["history"])
            first, epoch, start = state["stage"], state["epoch"], state["stage_start"]
            if not model.built:
                raise ValueError(
                    f"`model` must be built to restore the backup in "
                    f"{os.fspath(self.backup_dir)!r}; build it first (an Input layer, or "
                    "model.build(input_shape))."
                )
            n_saved = sum(k.startswith("model_") for k in arrays)
            model.set_weights([arrays[f"model_{i}"] for i in range(n_saved)])
        scoped = [_RunScoped(cb) for cb in self.callbacks]
        frozen_before: set[int] = set()
        stopped = False
        for index, stage in enumerate(self.stages):
            frozen, _ = _apply_stage(model, stage, frozen_before)
            frozen_before |= frozen
            if index < first:
                continue
            if index > first or backup is None:
                start = epoch
            end = start + stage.epochs
            if epoch >= end:
                continue
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
            if backup is not None and index == first and epoch > start:
                saved = [arrays[k] for k in sorted(
                    (k for k in arrays if k.startswith("optimizer_")),
                    key=lambda k: int(k.split("_")[1]),
                )]
                if saved:
                    optimizer.build(model.trainable_variables)
                    optimizer.set_weights(saved)
            recorder = _Recorder(self, history, index, start)
            data = x(epoch) if callable(x) and not isinstance(x, keras.utils.PyDataset) else x
            kwargs = dict(fit_kwargs)
            if y is None and not hasattr(data, "shape"):
                # A dataset or PyDataset orders its own batches (a sampler's plan);
                # Keras would only warn that it ignores shuffle=True.
                kwargs.setdefault("shuffle", False)
            model.fit(
                data,
                y,
                validation_data=validation_data,
                epochs=end,
                initial_epoch=epoch,
                callbacks=[_LearningRateLog(), *stage.callbacks, *scoped, recorder],
                verbose=verbose,
                **kwargs,
            )
            if recorder.last_epoch is not None:
                epoch = recorder.last_epoch + 1
            if any(cb.requested_stop for cb in scoped):
                stopped = True
                break
            if self.backup_dir is not None:
                self._save_backup(model, history, index + 1, epoch, epoch,
                                  with_optimizer=False)
        last_logs = {k: v[-1] for k, v in history.history.items()} if history.epoch else {}
        for cb in scoped:
            cb.callback.on_train_end(last_logs)
        if self.backup_dir is not None and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)
        history.stopped_early = stopped
        history.set_model(model)
        model.history = history
        return history


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
