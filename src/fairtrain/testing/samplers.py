"""`check_sampler`: the conformance checks every fairtrain sampler passes, for plugin authors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from fairtrain.groups import Groups

__all__ = ["check_sampler", "default_check_groups"]

_PAD = -1
_TOL = 1e-9


def default_check_groups() -> list[Groups]:
    """The groups :func:`check_sampler` builds a sampler class on by default.

    Imbalanced sizes with a single-example group, a tiny two-group case, and groups
    with excluded examples (code ``-1``) and an empty group.
    """
    rng = np.random.default_rng(12345)
    imbalanced = np.repeat(np.arange(4), [6, 8, 80, 6])
    rng.shuffle(imbalanced)
    single = np.repeat(np.arange(3), [1, 13, 4])
    rng.shuffle(single)
    with_excluded = np.array([0, -1, 1, 0, -1, 0, 1, 0, 0, -1, 0, 1], dtype=np.int32)
    return [
        Groups.from_codes(imbalanced, ["a", "b", "c", "d"]),
        Groups.from_codes(single, ["one", "many", "few"]),
        Groups.from_codes(np.array([0, 1, 1])),
        Groups(with_excluded, ["x", "y", "empty"]),
    ]


def _fail(sampler: Any, what: str) -> None:
    """Raise AssertionError naming the sampler's class and what it did wrong."""
    raise AssertionError(f"{type(sampler).__name__}: {what}")


def _counts(plan: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Each batch's count of examples per group, shape ``(steps, k)`` (padding not counted)."""
    safe = np.where(plan == _PAD, 0, plan)
    cell = np.where(plan == _PAD, k, codes[safe])
    out = np.zeros((plan.shape[0], k + 1), dtype=np.int64)
    np.add.at(out, (np.repeat(np.arange(plan.shape[0]), plan.shape[1]), cell.ravel()), 1)
    return out[:, :k]


def _check_plan(sampler: Any, epoch: int) -> np.ndarray:
    """``plan(epoch)``, checked for shape, dtype, range, trailing padding, no excluded example."""
    groups = sampler.groups
    plan = np.asarray(sampler.plan(epoch))
    steps, b = sampler.steps_per_epoch, sampler.batch_size
    if plan.shape != (steps, b):
        _fail(sampler, f"plan({epoch}).shape is {plan.shape}; expected ({steps}, {b}).")
    if plan.dtype != np.int64:
        _fail(sampler, f"plan({epoch}).dtype is {plan.dtype}; expected int64.")
    if plan.size and (plan.min() < _PAD or plan.max() >= len(groups)):
        _fail(sampler, f"plan({epoch}) holds indices outside [0, {len(groups)}).")
    pad = plan == _PAD
    if np.any(pad[:, :-1] & ~pad[:, 1:]):
        _fail(sampler, f"plan({epoch}) has padding (-1) before real indices in a row.")
    if np.any(pad.all(axis=1)):
        _fail(sampler, f"plan({epoch}) has an empty batch.")
    real = plan[~pad]
    if np.any(groups.codes[real] < 0):
        _fail(sampler, f"plan({epoch}) draws excluded examples (group code -1).")
    return plan


def _check_instance(
    sampler: Any, *, epochs: int, within_group_balance: bool, exact_quotas: bool
) -> None:
    """Run every check of :func:`check_sampler` on one built sampler, in order."""
    plans = [_check_plan(sampler, e) for e in range(epochs)]
    config = _check_config(sampler, plans)
    if exact_quotas:
        _check_quotas(sampler, plans)
    if within_group_balance:
        _check_balance(sampler, plans)
    _check_resume(sampler, plans, config)


def _check_config(sampler: Any, plans: list[np.ndarray]) -> dict[str, Any]:
    """JSON config round trip, fixed parameters, and plans that depend on the config only.

    Returns ``get_config()``.
    """
    # Determinism, order independence and config round trip through JSON: a fresh
    # copy planning the epochs backwards gives the same plans.
    config = sampler.get_config()
    try:
        text = json.dumps(config)
    except TypeError as exc:
        _fail(sampler, f"get_config() is not plain JSON: {exc}.")
    twin = type(sampler).from_config(json.loads(text))
    if twin.get_config() != json.loads(text):
        _fail(sampler, "from_config(get_config()).get_config() differs from get_config().")
    # Parameters are fixed once built (plans are cached).
    for name in ("seed", "batch_size"):
        try:
            setattr(sampler, name, getattr(sampler, name))
        except AttributeError:
            continue
        _fail(sampler, f"`{name}` can be assigned after construction; a sampler's "
                       "parameters must be fixed once built (see GroupBatchSampler).")
    for e in reversed(range(len(plans))):
        if not np.array_equal(np.asarray(twin.plan(e)), plans[e]):
            _fail(
                sampler,
                f"plan({e}) differs between two samplers with the same config (or depends "
                "on which epochs were planned before).",
            )
    if not np.array_equal(np.asarray(sampler.plan(0)), plans[0]):
        _fail(sampler, "plan(0) changed when called again.")
    return config


def _check_quotas(sampler: Any, plans: list[np.ndarray]) -> None:
    """Per-batch counts equal quotas(), each within one of its share, drift below one."""
    groups = sampler.groups
    epochs = len(plans)
    counts = np.concatenate([_counts(p, groups.codes, groups.n_groups) for p in plans])
    quotas = np.concatenate([np.asarray(sampler.quotas(e)) for e in range(epochs)])
    targets = np.concatenate([np.asarray(sampler.targets(e)) for e in range(epochs)])
    if not np.array_equal(counts, quotas):
        _fail(sampler, "the plans' per-batch group counts differ from quotas().")
    worst = np.abs(quotas - targets).max(initial=0.0)
    if worst >= 1 - _TOL:
        _fail(sampler, f"a batch is {worst:.3g} examples from its exact share (must be < 1).")
    drift = np.abs(np.cumsum(quotas, axis=0) - np.cumsum(targets, axis=0)).max(initial=0.0)
    if drift >= 1 - _TOL:
        _fail(sampler, f"the cumulative counts drift {drift:.3g} examples (must be < 1).")
    shares = np.asarray(sampler.target_shares(), float)
    if np.any(counts[:, shares == 0] > 0):
        _fail(sampler, "a group with share 0 was drawn.")


def _check_balance(sampler: Any, plans: list[np.ndarray]) -> None:
    """Within each group, appearance counts over the planned epochs differ by at most one."""
    groups = sampler.groups
    real = np.concatenate([p[p != _PAD] for p in plans])
    seen = np.bincount(real, minlength=len(groups))
    for g, members in enumerate(groups.members()):
        if members.size and np.ptp(seen[members]) > 1:
            _fail(
                sampler,
                f"within group {groups.names[g]!r}, appearance counts over epochs "
                f"0..{len(plans) - 1} range from {seen[members].min()} to "
                f"{seen[members].max()} (must differ by at most one).",
            )


def _check_resume(sampler: Any, plans: list[np.ndarray], config: dict[str, Any]) -> None:
    """set_state(get_state()) mid-epoch resumes on the same batch; epochs roll over."""
    steps = sampler.steps_per_epoch
    walker = type(sampler).from_config(config)
    mid = steps // 2
    walker.set_state({"epoch": 1, "step": mid})
    state = walker.get_state()
    resumed = type(sampler).from_config(config)
    resumed.set_state(state)
    expected = plans[1][mid] if len(plans) > 1 else np.asarray(sampler.plan(1))[mid]
    expected = expected[expected != _PAD]
    for name, s in (("the same sampler", walker), ("a restored copy", resumed)):
        got = np.asarray(s.next_batch())
        if not np.array_equal(got, expected):
            _fail(sampler, f"after set_state({state}), {name} did not yield plan(1)[{mid}].")
    if resumed.get_state() != walker.get_state():
        _fail(sampler, "two samplers at the same position moved to different positions.")
    end = type(sampler).from_config(config)
    end.set_state({"epoch": 0, "step": steps - 1})
    end.next_batch()
    # A subclass may keep more than the position in its state (Adaptive: its shares).
    position = {key: end.get_state()[key] for key in ("epoch", "step")}
    if position != {"epoch": 1, "step": 0}:
        _fail(sampler, f"after the last batch of epoch 0 the position is {position}.")


def check_sampler(
    sampler: Any,
    *,
    groups: Iterable[Groups] | None = None,
    batch_sizes: Iterable[int] = (4, 7, 32),
    seeds: Iterable[int] = (0, 3),
    init_kwargs: Mapping[str, Any] | Callable[[Groups], Mapping[str, Any]] | None = None,
    epochs: int = 3,
    within_group_balance: bool = True,
    exact_quotas: bool = True,
    registered_as: str | None = None,
) -> None:
    """Check that a sampler class or instance behaves like fairtrain's own samplers.

    Parameters
    ----------
    sampler : type or GroupBatchSampler
        A sampler class (built on every combination of ``groups``, ``batch_sizes``
        and ``seeds`` where the constructor accepts it) or one instance.
    groups : iterable of Groups, optional
        Default :func:`default_check_groups`.
    batch_sizes : iterable of int, default (4, 7, 32)
    seeds : iterable of int, default (0, 3)
    init_kwargs : mapping or callable, optional
        Extra constructor arguments, or a function of the groups returning them.
    epochs : int, default 3
        Epochs planned per sampler.
    within_group_balance : bool, default True
        Check that, within a group, appearance counts over epochs ``0..epochs-1``
        differ by at most one (the stream draw policy of the built-ins).
    exact_quotas : bool, default True
        Check the plans against ``quotas(epoch)`` and ``targets(epoch)``: every batch
        within one example of its exact share, cumulative drift below one.
    registered_as : str, optional
        Also check that ``fairtrain.registry.get("samplers", registered_as)`` is the
        sampler's class.

    Raises
    ------
    AssertionError
        Naming the sampler, the violated property and the values.
    ValueError
        If a class could not be built on any of the given groups and batch sizes.
    TypeError
        If ``sampler`` is neither a class nor an object with ``plan``, ``groups`` and
        ``batch_size``.

    Notes
    -----
    The checks: plan shape ``(steps_per_epoch, batch_size)``, dtype int64, indices in
    range, ``-1`` only as trailing padding, never an excluded example; the same
    config gives the same plans whatever was planned before (epochs planned
    backwards); ``get_config()`` is plain JSON and ``from_config`` of it round-trips;
    ``seed`` and ``batch_size`` cannot be assigned once built; per-batch counts equal
    ``quotas`` with ``|quotas - targets| < 1`` and cumulative drift below one;
    ``set_state(get_state())`` mid-epoch resumes on the identical next batch; the
    position rolls over to the next epoch after the last step.

    Examples
    --------
    >>> from fairtrain.sampling import Homogeneous
    >>> from fairtrain.testing import check_sampler
    >>> check_sampler(Homogeneous, batch_sizes=[5], seeds=[0], registered_as="homogeneous")
    """
    _check_is_sampler(sampler)
    if registered_as is not None:
        _check_registered(sampler, registered_as)
    instances = [sampler] if not isinstance(sampler, type) else _instances(
        sampler, groups, batch_sizes, seeds, init_kwargs)
    for instance in instances:
        _check_instance(instance, epochs=epochs, within_group_balance=within_group_balance,
                        exact_quotas=exact_quotas)


def _check_is_sampler(sampler: Any) -> None:
    """Raise TypeError unless ``sampler`` is a class or has plan, groups and batch_size."""
    lacking = [a for a in ("plan", "groups", "batch_size") if not hasattr(sampler, a)]
    if not isinstance(sampler, type) and lacking:
        raise TypeError(
            f"`sampler` must be a sampler class or instance (a GroupBatchSampler); got "
            f"{sampler!r}, which has no {lacking}. Pass the class to check it on many "
            "groups, or one instance."
        )


def _check_registered(sampler: Any, name: str) -> None:
    """``registry.get("samplers", name)`` is the sampler's class."""
    from fairtrain import registry

    cls = sampler if isinstance(sampler, type) else type(sampler)
    found = registry.get("samplers", name)
    if found is not cls:
        raise AssertionError(f"registry.get('samplers', {name!r}) is {found!r}, not {cls!r}.")


def _instances(
    cls: type,
    groups: Iterable[Groups] | None,
    batch_sizes: Iterable[int],
    seeds: Iterable[int],
    init_kwargs: Mapping[str, Any] | Callable[[Groups], Mapping[str, Any]] | None,
) -> Iterator[Any]:
    """``cls`` built on every groups, batch size and seed its constructor accepts.

    Raises
    ------
    ValueError
        If it accepted none.
    """
    built = 0
    for g in default_check_groups() if groups is None else groups:
        extra = init_kwargs(g) if callable(init_kwargs) else dict(init_kwargs or {})
        for b in batch_sizes:
            for seed in seeds:
                try:
                    instance = cls(g, batch_size=b, seed=seed, **extra)
                except ValueError:
                    continue  # e.g. a batch too small for this sampler's groups
                built += 1
                yield instance
    if not built:
        raise ValueError(
            f"{cls.__name__} could not be built on any of the groups and batch sizes "
            "given; pass groups=, batch_sizes= or init_kwargs= it accepts."
        )
