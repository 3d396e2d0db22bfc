"""tf.data adapters: batches planned by a sampler, loaded after sampling, for tf.distribute too."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from numbers import Integral
from typing import Any, Literal

import numpy as np

from fairtrain._validation import InstanceOf, Interval, Options, validate_params
from fairtrain.data._common import (
    ADAPTER_PARAMS,
    check_sample_weight,
    check_split,
    check_steps,
    has_partial_batch,
    local_indices,
    split_loaded,
)
from fairtrain.data.clock import FeedInfo
from fairtrain.sampling.composition import CompositionLog
from fairtrain.sampling.samplers import GroupBatchSampler

try:
    import tensorflow as tf
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "fairtrain.data.to_tf_dataset needs TensorFlow: pip install "
        '"fairtrain[tensorflow]". Under JAX or PyTorch use fairtrain.data.SampledPyDataset.'
    ) from exc

__all__ = ["AUTOTUNE", "from_group_datasets", "to_tf_dataset"]

#: ``tf.data.AUTOTUNE``: let tf.data choose the parallelism or buffer size.
AUTOTUNE: int = tf.data.AUTOTUNE


_log = logging.getLogger("fairtrain.data")

#: Ops that only move, select or compare values (gathers, slices, reshapes, stacks,
#: concatenation, selection, comparisons): batched, every output value is an input value
#: or a comparison's exact result, whatever the dtype. Casts are checked by _exact_cast.
_MOVE_OPS = frozenset({
    "Placeholder", "Const", "Identity", "IdentityN", "NoOp", "StopGradient",
    "GatherV2", "Gather", "GatherNd", "Bitcast", "Reshape", "ExpandDims", "Squeeze",
    "Pack", "Unpack", "ConcatV2", "StridedSlice", "Slice", "ReverseV2", "Shape", "Size",
    "Rank", "OneHot", "Transpose", "Tile", "BroadcastTo", "ZerosLike", "OnesLike",
    "Select", "SelectV2", "Equal", "NotEqual", "Less", "LessEqual", "Greater",
    "GreaterEqual", "IsNan", "IsInf", "IsFinite", "LogicalAnd", "LogicalOr", "LogicalNot",
})

#: Arithmetic batched only on integers and booleans, where it is exact: wrap-around
#: modulo 2**bits in every kernel, so that no rewrite of a chain changes a value. On
#: floats, TensorFlow's graph rewrites and kernels may round the per-example and the
#: batched graph differently (x * 1.7 * 1.7 folded to x * 2.89 in one of them, one ulp
#: off), so float arithmetic is never batched.
_INTEGER_OPS = frozenset({
    "Add", "AddV2", "Sub", "Mul", "Div", "RealDiv", "FloorDiv", "FloorMod", "TruncateDiv",
    "TruncateMod", "Neg", "Abs", "Sign", "Square", "Maximum", "Minimum", "BitwiseAnd",
    "BitwiseOr", "BitwiseXor", "Invert", "LeftShift", "RightShift",
})

#: Significand bits (with the implicit one) of the float types a cast may widen to.
_SIGNIFICAND = {tf.float16: 11, tf.bfloat16: 8, tf.float32: 24, tf.float64: 53}
_WIDER_FLOAT = {(tf.float16, tf.float32), (tf.float16, tf.float64), (tf.bfloat16, tf.float32),
                (tf.bfloat16, tf.float64), (tf.float32, tf.float64)}

_hinted = False


def _has_list(structure: Any) -> bool:
    if isinstance(structure, list):
        return True
    if isinstance(structure, Mapping):
        return any(_has_list(v) for v in structure.values())
    if isinstance(structure, tuple):
        return any(_has_list(v) for v in structure)
    return False


def _exact_cast(src: tf.DType, dst: tf.DType) -> bool:
    """Whether casting every ``src`` value to ``dst`` is exact, or the same in every kernel.

    From bool; to bool from a real type (``x != 0``); integer to integer (the low bits,
    in every kernel); integer to a float whose significand holds every value of the
    integer type; float to a wider float. Not a cast that rounds (int32 to float32 above
    2**24, float32 to float16), nor float to integer (out of range it is undefined
    behaviour in C++, and the scalar and SIMD kernels disagree: 300.0 to uint8), nor
    anything complex.
    """
    if src == dst or src == tf.bool:
        return True
    if src.is_complex or dst.is_complex:
        return False
    if dst == tf.bool or (src.is_integer and dst.is_integer):
        return True
    if src.is_integer and dst in _SIGNIFICAND:
        value_bits = src.size * 8 - (0 if src.is_unsigned else 1)
        return value_bits <= _SIGNIFICAND[dst]
    return (src, dst) in _WIDER_FLOAT


def _dtype(node: Any, attr: str) -> tf.DType | None:
    return tf.as_dtype(node.attr[attr].type) if attr in node.attr else None


def _node_refusal(node: Any) -> str:
    """Why batching this op (a ``NodeDef``) could change a value, or ``""`` if it cannot."""
    if node.op in _MOVE_OPS:
        return ""
    if node.op == "Cast":
        src, dst = _dtype(node, "SrcT"), _dtype(node, "DstT")
        if src is not None and dst is not None and _exact_cast(src, dst):
            return ""
        return (f"it casts {getattr(src, 'name', src)} to {getattr(dst, 'name', dst)} "
                f"({node.name}), which is not exact, and batched may give other values")
    if node.op in _INTEGER_OPS:
        t = _dtype(node, "T")
        if t is not None and (t.is_integer or t == tf.bool):
            return ""
        return (f"it computes {node.op} on {getattr(t, 'name', t)} ({node.name}): float "
                "and complex arithmetic batched may round differently (compute it after "
                "loading, or write a batched load and pass vectorized=True)")
    return (f"it uses {node.op}, which batched could give other values or run another "
            "number of times")


def _refusal(one: Any) -> str:
    """Why ``one`` (``load`` traced on a scalar index) cannot run batched, or ``""``."""
    if _has_list(one.structured_outputs):
        # tf.data stacks a returned list into one tensor: (B, k) from examples, but
        # (k, B) from a list of batched tensors.
        return ("it returns a list, which tf.data stacks into one tensor in another "
                "order batched (return a tuple or a dict)")
    if not all(isinstance(t, tf.Tensor) for t in tf.nest.flatten(one.structured_outputs)):
        return "it returns a sparse, ragged or other composite tensor"
    graph_def = one.graph.as_graph_def()
    nodes = list(graph_def.node)
    for fn in graph_def.library.function:
        nodes += list(fn.node_def)
    for node in nodes:
        why = _node_refusal(node)
        if why:
            return why
    for op in one.graph.get_operations():
        for t in op.outputs:
            if t.dtype != tf.resource and not t.shape.is_fully_defined():
                return f"the shape of {t.name} depends on the index"
    return ""


def _batched(load_one: Callable[[tf.Tensor], Any]) -> tuple[Callable | None, str]:
    """``(load on a batch of indices, "")`` if batching keeps its values, else ``(None, why)``.

    Batching must give exactly the values ``load_one`` gives one index at a time, so
    ``load_one`` is traced on a scalar index and every op must be exact by construction
    (:func:`_refusal`): moving, selecting or comparing values, exact casts, integer
    arithmetic; and every shape static (none may depend on the index). Then
    ``tf.vectorized_map`` (without its while-loop fallback) must convert it and give the
    same structure, dtypes and per-example shapes.
    """
    try:
        one = tf.function(load_one).get_concrete_function(tf.TensorSpec([], tf.int64))
    except Exception as exc:  # the per-example map's own trace reports the error
        return None, f"it does not trace on a scalar index ({type(exc).__name__})"
    why = _refusal(one)
    if why:
        return None, why

    def load_rows(ib: tf.Tensor) -> Any:
        return tf.vectorized_map(load_one, ib, fallback_to_while_loop=False, warn=False)

    try:
        many = tf.function(load_rows).get_concrete_function(tf.TensorSpec([None], tf.int64))
    except Exception as exc:  # pfor refuses what it cannot convert
        return None, f"tf.vectorized_map cannot convert it ({type(exc).__name__}: {exc})"
    a, b = one.structured_outputs, many.structured_outputs
    try:
        tf.nest.assert_same_structure(a, b)
    except (TypeError, ValueError):
        return None, "batched, it returns another structure"
    for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b)):
        if x.dtype != y.dtype or x.shape.as_list() != y.shape.as_list()[1:]:
            return None, f"batched, it returns {y.dtype.name}{y.shape} for {x.dtype.name}{x.shape}"
    return load_rows, ""


def _hint_batched(load_one: Callable[[tf.Tensor], Any]) -> None:
    """Say once per process that a per-example ``load`` (``vectorized=None``) could run batched."""
    global _hinted
    if _hinted:
        return
    if _batched(load_one)[0] is not None:
        _hinted = True
        _log.warning(
            "to_tf_dataset(vectorized=None): `load` runs one example at a time, where "
            "tf.data spends tens of microseconds an example; its ops are all exact, so "
            "vectorized='auto' (the default) runs it on whole batches with the same "
            "values, several times faster. Pass vectorized=False to keep per-example "
            "calls and silence this.")


def _replicas(sampler: GroupBatchSampler, input_context: Any) -> tuple[int, list[int]]:
    """(replicas in sync, replicas this input pipeline feeds)."""
    if input_context is None:
        return 1, [0]
    n_replicas = int(input_context.num_replicas_in_sync)
    n_pipelines = int(input_context.num_input_pipelines)
    pipeline = int(input_context.input_pipeline_id)
    check_split(sampler, n_replicas, "replicas")
    if n_replicas % n_pipelines:
        raise ValueError(
            f"{n_replicas} replicas cannot be shared evenly by {n_pipelines} input pipelines."
        )
    per = n_replicas // n_pipelines
    return n_replicas, list(range(pipeline * per, (pipeline + 1) * per))


def _weight_fn(sample_weight: Any) -> Callable[[tf.Tensor], Any] | None:
    if sample_weight is None:
        return None
    if isinstance(sample_weight, dict):
        tables = {k: tf.constant(v) for k, v in sample_weight.items()}
        return lambda i: {k: tf.gather(t, i) for k, t in tables.items()}
    table = tf.constant(sample_weight)
    return lambda i: tf.gather(table, i)


def _assemble(out: Any, indices: tf.Tensor, weights: Callable | None) -> Any:
    x, y, w, arity = split_loaded(out, "load")  # refuses None, before tf.data does
    if weights is None:
        return out
    if arity == 3:
        raise ValueError(
            "`load` already returns sample weights (x, y, w); do not pass `sample_weight` "
            "as well."
        )
    if arity == 1:
        raise ValueError(
            "With `sample_weight`, `load` must return (x, y): Keras needs targets to weight."
        )
    return (x, y, weights(indices))


#: ``prefetch``: True (AUTOTUNE), False, or a buffer size (0: none).
_PREFETCH = ["boolean", Interval(Integral, 0, None), Options(int, (AUTOTUNE,))]


def _epochs_dataset(info: FeedInfo, var: str, repeat: bool) -> tf.data.Dataset:
    """The epochs one pass covers: the clock's epoch (read as the pass starts), then on."""

    def start(_: np.int64) -> np.int64:
        return np.int64(info.clock.current(info.name, var))

    first = tf.data.Dataset.range(1).map(
        lambda z: tf.reshape(tf.numpy_function(start, [z], tf.int64, stateful=True), [])
    )
    if repeat:
        # One iterator across epochs (fit(steps_per_epoch=...) keeps it): epoch e + 1
        # follows epoch e, each exactly `steps` batches, which EpochSync checks.
        return first.flat_map(lambda e: tf.data.Dataset.range(e, np.iinfo(np.int64).max))
    return first


def _finish(ds: tf.data.Dataset, info: FeedInfo, repeat: bool, exact: bool,
            prefetch: Any, per_step: int = 1) -> tf.data.Dataset:
    """Prefetch, count finished passes, assert the cardinality of an exact feed.

    ``per_step`` is the number of batches per step (the replicas one pipeline feeds).
    """
    if prefetch is True:
        ds = ds.prefetch(AUTOTUNE)
    elif prefetch is not False and prefetch is not None and int(prefetch) != 0:
        ds = ds.prefetch(int(prefetch))
    if exact:  # with its cardinality; else the feed ends its passes itself
        ds = _count_finished_passes(ds, info, info.steps * per_step, repeat)
    ds._fairtrain_feed = info
    return ds


def _count_finished_passes(ds: tf.data.Dataset, info: FeedInfo, total: int,
                           repeat: bool) -> tf.data.Dataset:
    """``ds``, telling the clock when a pass ends, so only finished passes are epochs.

    A pass ends when its ``total``-th element reaches the reader: Keras reads no
    further than the known length of a dataset. After the prefetch, so an element
    counts when it is read, not when it is built. The elements pass through
    ``choose_from_datasets`` with a stream of choices whose ``total``-th one tells
    the clock: a few microseconds per element, where a ``map`` costs tens.
    """

    def finish(z: np.int64) -> np.int64:
        info.clock.finish_pass()
        return z

    def told(z: tf.Tensor) -> tf.Tensor:
        return tf.reshape(tf.numpy_function(finish, [z], tf.int64, stateful=True), [])

    first = tf.data.Dataset.from_tensors(np.int64(0))
    choices = first.repeat(total - 1).concatenate(first.map(told))
    if repeat:
        choices = choices.concatenate(first.repeat())
    ds = tf.data.Dataset.choose_from_datasets([ds], choices)
    if not repeat:
        ds = ds.apply(tf.data.experimental.assert_cardinality(total))
    # A prefetch tf.data would add after the assertion would read ahead of the reader.
    options = tf.data.Options()
    options.experimental_optimization.inject_prefetch = False
    return ds.with_options(options)


def _finish_pass_at_end(ds: tf.data.Dataset, info: FeedInfo) -> tf.data.Dataset:
    """``ds``, then nothing, but telling the clock that the pass ended.

    For a pass of unknown length. Before batching: TensorFlow 2.21 cannot iterate a
    concatenation after ``choose_from_datasets(...).batch(...)``.
    """

    def at_end() -> Iterator[Any]:
        info.clock.finish_pass()
        yield from ()

    return ds.concatenate(tf.data.Dataset.from_generator(at_end, output_signature=ds.element_spec))


def _rows_loader(load_one: Callable[[tf.Tensor], Any], vectorized: Any) -> Callable | None:
    """``load`` on whole plan rows as ``vectorized`` asks, or None to load example by example."""
    if vectorized is True:
        return load_one
    if isinstance(vectorized, str) and vectorized == "auto":
        load_rows, why = _batched(load_one)
        if load_rows is None:
            # INFO: a decode that cannot run batched is the common, correct case.
            _log.info("to_tf_dataset(vectorized='auto'): `load` runs one example at a "
                      "time: %s.", why)
        return load_rows
    if vectorized is None:
        _hint_batched(load_one)
    return None


class _Pipeline:
    """One to_tf_dataset input pipeline: its share of each epoch's plan, loaded and batched."""

    def __init__(self, sampler: GroupBatchSampler, load: Callable[[tf.Tensor], Any],
                 weights: Any, *, steps: int, input_context: Any,
                 log: CompositionLog | None, num_parallel_calls: int | None) -> None:
        self.sampler, self.load, self.steps = sampler, load, steps
        self.n_replicas, self.local = _replicas(sampler, input_context)
        self.per_replica = sampler.batch_size // self.n_replicas
        self.partial = has_partial_batch(sampler) and steps == sampler.steps_per_epoch
        self.weight_of = _weight_fn(weights)
        self.log, self.num_parallel_calls = log, num_parallel_calls

    def epoch_indices(self, epoch: np.int64) -> np.ndarray:
        """The first ``steps`` rows of ``plan(epoch)`` this pipeline yields, flat, in order."""
        # Without padding: replica r takes columns r, r + R, ... (floor or ceil of every
        # quota / R).
        idx = local_indices(self.sampler.plan(int(epoch))[: self.steps], self.n_replicas,
                            self.local)
        return idx.astype(np.int64, copy=False)  # already a fresh array

    def load_one(self, i: tf.Tensor) -> Any:
        """``load(i)``, with the sample weights of ``i`` appended if there are any."""
        return _assemble(self.load(i), i, self.weight_of)

    def with_index(self, fn: Callable[[tf.Tensor], Any]) -> Callable[[tf.Tensor], Any]:
        """``fn``, returning its indices too when a composition log needs them."""
        return (lambda i: (fn(i), i)) if self.log is not None else fn

    def _log_batch(self, a: np.ndarray) -> np.int64:
        """Record one batch's indices in the composition log; their number."""
        self.log.record(a)
        return np.int64(a.size)

    def record(self, out: Any, indices: tf.Tensor) -> Any:
        """``out``, once the composition log has recorded ``indices``."""
        done = tf.numpy_function(self._log_batch, [indices], tf.int64, stateful=True)
        with tf.control_dependencies([done]):
            return tf.nest.map_structure(tf.identity, out)

    def epoch_indices_ds(self, epoch: tf.Tensor) -> tf.data.Dataset:
        """The dataset of one epoch's indices, one element per example."""
        idx = tf.numpy_function(self.epoch_indices, [epoch], tf.int64, stateful=False)
        idx.set_shape([None])
        return tf.data.Dataset.from_tensor_slices(idx)

    def epoch_rows(self, epoch: np.int64) -> tuple[np.ndarray, np.ndarray]:
        """The full rows of one epoch as one (k, B) array, and the partial last row apart."""
        # One array, sliced per batch by tf.data: no per-example work.
        flat = self.epoch_indices(epoch)
        k = flat.size // self.per_replica
        return (flat[: k * self.per_replica].reshape(k, self.per_replica),
                flat[k * self.per_replica:])

    def epoch_rows_ds(self, epoch: tf.Tensor) -> tf.data.Dataset:
        """The dataset of one epoch's rows, one element per batch (a partial one last)."""
        full, rest = tf.numpy_function(self.epoch_rows, [epoch], (tf.int64, tf.int64),
                                       stateful=False)
        full.set_shape([None, None])
        rest.set_shape([None])
        last = tf.data.Dataset.from_tensors(rest).filter(lambda r: tf.size(r) > 0)
        return tf.data.Dataset.from_tensor_slices(full).concatenate(last)

    def load_row(self, ib: tf.Tensor) -> tf.data.Dataset:
        """One batch: ``load`` on each of its indices in turn, then batched."""
        # A partial last row gives one smaller batch.
        return tf.data.Dataset.from_tensor_slices(ib).map(self.with_index(self.load_one)).batch(
            self.per_replica)

    def epoch_loaded_ds(self, epoch: tf.Tensor) -> tf.data.Dataset:
        """One epoch, loaded in parallel in order and batched by itself."""
        # By itself: its partial last batch cannot take examples of the next epoch.
        return self.epoch_indices_ds(epoch).map(
            self.with_index(self.load_one), num_parallel_calls=self.num_parallel_calls,
            deterministic=True,
        ).batch(self.per_replica)

    def batches(self, epochs_ds: tf.data.Dataset, load_rows: Callable | None,
                deterministic: bool) -> tf.data.Dataset:
        """The batches of the epochs ``epochs_ds`` yields, loaded, each one logged if asked."""
        # A pipeline feeding several replicas hands them consecutive batches, which must be
        # the slices of one planned batch: keep the order there.
        in_order = bool(deterministic) or len(self.local) > 1
        ds = self.loaded(epochs_ds, load_rows, in_order)
        return ds if self.log is None else ds.map(self.record)

    def loaded(self, epochs_ds: tf.data.Dataset, load_rows: Callable | None,
               in_order: bool) -> tf.data.Dataset:
        """The loaded batches of the epochs ``epochs_ds`` yields, in order if ``in_order``."""
        calls = self.num_parallel_calls
        if load_rows is not None and in_order:
            return epochs_ds.flat_map(self.epoch_rows_ds).map(
                self.with_index(load_rows), num_parallel_calls=calls, deterministic=True)
        if load_rows is not None:
            # Parallel across the batches of one epoch, which may leave out of order; an
            # epoch's batches all leave before the next epoch's (repeat=True).
            return epochs_ds.flat_map(lambda e: self.epoch_rows_ds(e).map(
                self.with_index(load_rows), num_parallel_calls=calls, deterministic=False))
        if not in_order:
            # Batches of one epoch may leave out of order: parallel across batches,
            # sequential within each, so no example can change batch (one hand-over per
            # batch, not per example: faster than a parallel map for a cheap load, slower
            # for a decode); epoch by epoch, so that no batch changes epoch.
            return epochs_ds.flat_map(lambda e: self.epoch_rows_ds(e).interleave(
                self.load_row, cycle_length=max(8, os.cpu_count() or 1), block_length=1,
                num_parallel_calls=calls, deterministic=False,
            ))
        if not self.partial:
            # Every epoch is whole batches, so one parallel map over the stream of all
            # epochs, in order, then batching, gives exactly the plan rows, without a
            # stall between epochs.
            return epochs_ds.flat_map(self.epoch_indices_ds).map(
                self.with_index(self.load_one), num_parallel_calls=calls, deterministic=True
            ).batch(self.per_replica)
        # A partial last batch: load and batch each epoch by itself.
        return epochs_ds.flat_map(self.epoch_loaded_ds)


@validate_params(
    {
        **ADAPTER_PARAMS,
        "load": ["callable"],
        "vectorized": ["boolean", Options(str, ("auto",)), None],
        "num_parallel_calls": [Interval(Integral, 1, None), Options(int, (AUTOTUNE,)), None],
        "deterministic": ["boolean"],
        "prefetch": _PREFETCH,
        "composition_log": [InstanceOf(CompositionLog, "a CompositionLog"), None],
        "repeat": ["boolean"],
    },
    hints={"num_parallel_calls": f"AUTOTUNE is {AUTOTUNE}."},
)
def to_tf_dataset(
    sampler: GroupBatchSampler, load: Callable[[tf.Tensor], Any], *, sample_weight: Any = None,
    steps_per_epoch: int | None = None, composition_log: CompositionLog | None = None,
    vectorized: bool | Literal["auto"] | None = "auto", num_parallel_calls: int | None = AUTOTUNE,
    deterministic: bool = True, prefetch: bool | int = True, input_context: Any = None,
    repeat: bool = False,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of the sampler's batches, loading only the planned examples.

    One iteration is one epoch, which the training loop names: with
    :class:`~fairtrain.data.EpochSync` in ``fit``'s callbacks (:func:`fairtrain.fit_staged`
    adds it), global epoch ``e`` yields the first ``steps_per_epoch`` rows of ``sampler.plan(e)``;
    without it, ``plan(0)`` once, then a RuntimeError. The sampling guide tells more.

    Parameters
    ----------
    sampler : GroupBatchSampler
        Plans the batches; ``sampler.batch_size`` is the global batch size.
    load : callable
        ``load(index)``, ``index`` a scalar int64 tensor (``load(indices)``, shape (q,),
        with ``vectorized=True``), in TensorFlow ops; returns ``x``, ``(x, y)`` or
        ``(x, y, sample_weight)``, where ``x`` and ``y`` may be nested (dicts).
    sample_weight : ndarray of shape (n,) or dict of str to ndarray (n,), optional
        Gathered at the planned indices (``n = len(sampler.groups)``; a dict: per named
        output); batches are then ``(x, y, w)``, so ``load`` returns ``(x, y)``.
    steps_per_epoch : int, optional
        The first rows of each epoch's plan; default ``sampler.steps_per_epoch``.
    composition_log : CompositionLog, optional
        Records every batch's group counts as it leaves (before the prefetch buffer).
    vectorized : bool, "auto" or None, default "auto"
        "auto": a per-example ``load`` runs on whole batches if that gives bit for bit
        its values (else per example, why logged at INFO). True: ``load`` takes a batch
        of indices. False: per example. None: as False, hinting once if "auto" would batch.
    num_parallel_calls : int or None, default AUTOTUNE
        Parallel calls of ``load``.
    deterministic : bool, default True
        False lets an epoch's batches leave out of order (each still its planned batch);
        ignored when one input pipeline feeds several replicas.
    prefetch : bool or int, default True
        Prefetch buffer after batching: True is ``AUTOTUNE``, False or 0 none.
    input_context : tf.distribute.InputContext, optional
        From ``strategy.distribute_datasets_from_function``: per-replica batches, each
        with ``floor`` or ``ceil`` of ``quota / num_replicas`` of every group.
    repeat : bool, default False
        One (infinite) iteration holds every epoch from the clock's on, each exactly
        ``steps_per_epoch`` batches, for ``fit(steps_per_epoch=steps_per_epoch)``.

    Returns
    -------
    tf.data.Dataset
        Batches ``x``, ``(x, y)`` or ``(x, y, w)`` with a leading batch dimension.

    Raises
    ------
    TypeError
        If an argument has the wrong type (``load`` not callable, ``steps_per_epoch=2.0``).
    ValueError
        If the weights have the wrong shape, are negative, non-finite or all 0, the global
        (or a partial last) batch does not split over the replicas, ``steps_per_epoch`` is
        out of range, or ``vectorized`` is a str other than "auto".

    Examples
    --------
    >>> import numpy as np, tensorflow as tf
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_codes(np.array([0] * 6 + [1] * 2))
    >>> sampler = ft.sampling.Homogeneous(groups, batch_size=4, seed=0)
    >>> codes = tf.constant(groups.codes)
    >>> ds = ft.data.to_tf_dataset(sampler, lambda i: (i, tf.gather(codes, i)))
    >>> [np.bincount(y.numpy(), minlength=2).tolist() for x, y in ds]
    [[2, 2], [2, 2]]
    """
    weights = check_sample_weight(sample_weight, len(sampler.groups), codes=sampler.groups.codes)
    steps = check_steps(sampler, steps_per_epoch)
    pipeline = _Pipeline(sampler, load, weights, steps=steps, input_context=input_context,
                         log=composition_log, num_parallel_calls=num_parallel_calls)
    info = FeedInfo("This to_tf_dataset feed", steps, bool(repeat))
    load_rows = _rows_loader(pipeline.load_one, vectorized)
    ds = pipeline.batches(_epochs_dataset(info, "dataset", bool(repeat)), load_rows, deterministic)
    return _finish(ds, info, bool(repeat), True, prefetch, per_step=len(pipeline.local))


@validate_params(
    {
        **ADAPTER_PARAMS,
        "datasets_by_group": [
            InstanceOf((list, tuple), "a sequence of datasets"),
            InstanceOf(Mapping, "a mapping {group name: dataset}"),
        ],
        "repeat": ["boolean"],
        "prefetch": _PREFETCH,
    }
)
def from_group_datasets(
    sampler: GroupBatchSampler,
    datasets_by_group: Sequence[tf.data.Dataset] | Mapping[str, tf.data.Dataset],
    *,
    steps_per_epoch: int | None = None,
    prefetch: bool | int = True,
    repeat: bool = True,
) -> tf.data.Dataset:
    """Exact-quota batches from one streaming dataset per group.

    For data that exists only as one stream per group (e.g. TFRecord shards per
    ethnicity): batch ``t`` of epoch ``e`` takes exactly the sampler's quota
    ``quotas(e)[t, g]`` of consecutive elements from group ``g``'s dataset, through
    ``tf.data.Dataset.choose_from_datasets``. The sampler's indices are not used (the
    streams decide which example comes next); shuffle each stream yourself
    (``reshuffle_each_iteration=True``). One iteration is one epoch, whose number comes
    from :class:`~fairtrain.data.EpochSync` as for :func:`to_tf_dataset` (without it, one
    iteration of epoch 0, then a RuntimeError). Every iteration restarts the streams.

    Parameters
    ----------
    sampler : GroupBatchSampler
        Gives the quotas and the epoch length. First, as in every adapter.
    datasets_by_group : sequence or mapping of tf.data.Dataset
        One dataset of single examples per group, in group-code order, or a mapping
        from group name to dataset (every group with a positive share must be there).
    steps_per_epoch : int, optional
        Batches per epoch (the first rows of each epoch's quotas); default
        ``sampler.steps_per_epoch``.
    prefetch : bool or int, default True
        Prefetch buffer after batching: True is ``AUTOTUNE``, False or 0 none.
    repeat : bool, default True
        Repeat each group's dataset, so a small group cycles instead of running out.
        With False, the epoch ends at the last batch whose quotas every stream can
        fill: a batch that a stream runs out in the middle of is dropped, never served
        short or with another composition.

    Returns
    -------
    tf.data.Dataset
        Batches of exactly ``sampler.batch_size`` elements, each with the planned
        composition.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If the number of datasets differs from the number of groups, a group with a
        positive share has no dataset, the sampler plans a partial last batch, or
        ``steps_per_epoch`` is out of range.

    Examples
    --------
    >>> import numpy as np, tensorflow as tf
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_codes(np.array([0] * 9 + [1] * 3), ["maj", "min"])
    >>> sampler = ft.sampling.Homogeneous(groups, batch_size=4)
    >>> streams = {"maj": tf.data.Dataset.from_tensors("maj"),
    ...            "min": tf.data.Dataset.from_tensors("min")}
    >>> ds = ft.data.from_group_datasets(sampler, streams)
    >>> [b.numpy().tolist() for b in ds][0]
    [b'maj', b'maj', b'min', b'min']
    """
    steps = check_steps(sampler, steps_per_epoch)
    datasets = _group_streams(sampler, datasets_by_group)
    if has_partial_batch(sampler):
        raise ValueError("The sampler plans a partial last batch; use Proportional(..., "
                         "last_batch='drop') with from_group_datasets.")
    if repeat:
        datasets = [d.repeat() for d in datasets]
    info = FeedInfo("This from_group_datasets feed", steps, False)
    choice_ds = _choice_stream(sampler, steps, info)
    # stop_on_empty_dataset: a stream that runs dry ends the epoch; drop_remainder: the
    # batch it ran dry in is dropped instead of served short of its quotas.
    ds = tf.data.Dataset.choose_from_datasets(datasets, choice_ds, stop_on_empty_dataset=True)
    if not repeat:  # a pass may end early, where a stream runs dry
        ds = _finish_pass_at_end(ds, info)
    ds = ds.batch(sampler.batch_size, drop_remainder=True)
    return _finish(ds, info, False, bool(repeat), prefetch)


def _group_streams(
    sampler: GroupBatchSampler,
    datasets_by_group: Sequence[tf.data.Dataset] | Mapping[str, tf.data.Dataset],
) -> list[tf.data.Dataset]:
    """One dataset per group, in code order; every group the sampler draws must have one."""
    names = sampler.groups.names
    shares = np.asarray(sampler.quotas(0).sum(axis=0) > 0)
    if isinstance(datasets_by_group, Mapping):
        unknown = [k for k in datasets_by_group if k not in names]
        if unknown:
            raise ValueError(f"Unknown group name(s) {unknown}; the groups are {list(names)}.")
        missing = [n for n, s in zip(names, shares) if s and n not in datasets_by_group]
        if missing:
            raise ValueError(f"No dataset for group(s) {missing}, which the sampler draws.")
        first = next(iter(datasets_by_group.values()))
        return [datasets_by_group.get(n, first.take(0)) for n in names]
    datasets = list(datasets_by_group)
    if len(datasets) != len(names):
        raise ValueError(
            f"Got {len(datasets)} datasets for {len(names)} groups; pass one per group "
            "in code order, or a mapping {name: dataset}."
        )
    return datasets


def _choice_stream(sampler: GroupBatchSampler, steps: int, info: FeedInfo) -> tf.data.Dataset:
    """The group of every example of a pass, batch by batch: quota ``q[t, g]`` times ``g``."""
    k = len(sampler.groups.names)

    def choices(epoch: np.int64) -> np.ndarray:
        """The choices of one epoch's first ``steps`` batches, as one array."""
        rows = sampler.quotas(int(epoch))[:steps]
        return np.repeat(np.tile(np.arange(k, dtype=np.int64), steps), rows.reshape(-1))

    def epoch_choices(epoch: tf.Tensor) -> tf.data.Dataset:
        """The choices of one epoch, one element per example."""
        c = tf.numpy_function(choices, [epoch], tf.int64, stateful=False)
        c.set_shape([None])
        return tf.data.Dataset.from_tensor_slices(c)

    return _epochs_dataset(info, "dataset", False).flat_map(epoch_choices)
