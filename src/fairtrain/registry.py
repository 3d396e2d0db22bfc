"""The plugin registry: samplers, weight schemes, schedules, recipes and metrics by name.

Plugins come from three places: fairtrain's built-ins (declared in :data:`BUILTINS`,
so they work from any copy of the code, installed or not), third-party Python entry
points in the groups ``fairtrain.samplers``, ``fairtrain.weights``,
``fairtrain.schedules``, ``fairtrain.recipes`` and ``fairtrain.metrics``, and in-process
registration with :func:`register`. Discovery is lazy: entry points are listed on first
use of a kind and a plugin is imported only when :func:`get` asks for it. A
distribution whose metadata cannot be read is skipped with a warning naming it; it never
takes the built-ins or the other plugins down.

Examples
--------
>>> from fairtrain import registry
>>> @registry.register("metrics", "median_absolute_error")
... def median_absolute_error(y_true, y_pred):
...     import numpy as np
...     return float(np.median(np.abs(np.asarray(y_true) - np.asarray(y_pred))))
>>> registry.get("metrics", "median_absolute_error")([1, 2, 3], [1, 2, 5])
0.0
>>> registry.unregister("metrics", "median_absolute_error")
"""

from __future__ import annotations

import difflib
import importlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Literal, TypeVar

__all__ = [
    "KINDS",
    "Plugin",
    "PluginError",
    "available",
    "get",
    "plugins",
    "refresh",
    "register",
    "unregister",
]

Kind = Literal["samplers", "weights", "schedules", "recipes", "metrics"]
#: ``schedules`` are learning-rate schedule classes (contract in
#: :mod:`fairtrain.schedules.decay`); ``recipes`` are functions returning staged-training
#: stages (contract in :mod:`fairtrain.schedules.recipes`).
KINDS: tuple[str, ...] = ("samplers", "weights", "schedules", "recipes", "metrics")
IN_PROCESS = "<in-process>"
#: The distribution name the built-ins are listed under.
BUILTIN = "fairtrain"
#: fairtrain's own plugins, ``kind -> name -> "module:attribute"``; imported on first use.
BUILTINS: dict[str, dict[str, str]] = {
    "samplers": {
        "proportional": "fairtrain.sampling.samplers:Proportional",
        "homogeneous": "fairtrain.sampling.samplers:Homogeneous",
        "balanced": "fairtrain.sampling.samplers:Homogeneous",
        "inverse_frequency": "fairtrain.sampling.samplers:InverseFrequency",
        "target": "fairtrain.sampling.samplers:TargetShares",
        "adaptive": "fairtrain.sampling.adaptive:Adaptive",
        "fairbatch": "fairtrain.sampling.fairbatch:FairBatch",
    },
    "weights": {
        name: f"fairtrain.weighting.schemes:{name}"
        for name in ("balanced", "inverse", "sqrt_inverse", "effective_number", "reweighing")
    },
    "schedules": {"step_decay": "fairtrain.schedules.decay:StepDecay"},
    "recipes": {
        name: f"fairtrain.schedules.recipes:{name}"
        for name in ("one_stage", "two_stage", "three_stage")
    },
    "metrics": {
        **{name: f"fairtrain.metrics.functions:{name}"
           for name in ("mae", "mse", "accuracy", "error_rate", "recall", "precision",
                        "selection_rate", "true_positive_rate", "false_positive_rate")},
        **{f"{measure}_{kind}": f"fairtrain.metrics.fairness:{measure}_{kind}"
           for measure in ("demographic_parity", "equalized_odds", "equal_opportunity")
           for kind in ("difference", "ratio")},
    },
}
T = TypeVar("T")


class PluginError(RuntimeError):
    """A plugin could not be loaded, or two plugins claim one name."""


@dataclass
class Plugin:
    """One registered plugin.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    name : str
        The name it is found by.
    target : str
        ``"module:attribute"`` for an entry point, or the object's qualified name.
    distribution : str
        The distribution that provides it, or ``"<in-process>"``.
    """

    kind: str
    name: str
    target: str
    distribution: str
    _entry_point: Any = field(default=None, repr=False)
    _object: Any = field(default=None, repr=False)
    _loaded: bool = field(default=False, repr=False)

    def load(self) -> Any:
        """Import (once) and return the plugin object.

        Raises
        ------
        PluginError
            If importing it fails (or it exits the interpreter while importing), or the
            object is not callable (every kind is a function or a class); the
            error names the plugin, its distribution and the cause.
        """
        if not self._loaded:
            try:
                self._object = (
                    _import_target(self.target) if self._entry_point is None
                    else self._entry_point.load()
                )
            except (Exception, SystemExit) as exc:
                raise PluginError(
                    f"The {self.kind[:-1]} plugin {self.name!r} ({self.target}) from "
                    f"distribution {self.distribution!r} failed to load: "
                    f"{type(exc).__name__}: {exc}. Reinstall or uninstall "
                    f"{self.distribution!r}; the other plugins are unaffected."
                ) from exc
            self._loaded = True
        if not callable(self._object):
            # every kind is a class or a function; anything else fails far from here
            raise PluginError(
                f"The {self.kind[:-1]} plugin {self.name!r} ({self.target}) from "
                f"distribution {self.distribution!r} is not callable (it is of type "
                f"{type(self._object).__name__}), where a function or class is needed. "
                f"Fix its entry point, or uninstall {self.distribution!r}."
            )
        return self._object


def _import_target(target: str) -> Any:
    module, _, attribute = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


_entry_points: dict[str, dict[str, list[Plugin]]] = {}
_in_process: dict[str, dict[str, Plugin]] = {k: {} for k in KINDS}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"Unknown plugin kind {kind!r}; the kinds are {list(KINDS)}.")


def _distribution_entry_points(dist: Any, group: str) -> list[Any]:
    """The entry points of ``dist`` in ``group``; [] with a warning if its metadata is bad."""
    try:
        return [ep for ep in dist.entry_points if ep.group == group]
    except Exception as exc:  # a malformed entry_points.txt of any distribution
        name = _dist_name(dist)
        warnings.warn(
            f"fairtrain skipped the entry points of distribution {name!r}: its metadata "
            f"cannot be read ({type(exc).__name__}: {exc}). Reinstall or uninstall {name!r}; "
            "fairtrain's built-ins and the other plugins are unaffected.",
            RuntimeWarning,
            stacklevel=4,
        )
        return []


def _dist_name(dist: Any) -> str:
    try:
        return str(dist.metadata["Name"] or "<unknown>")
    except Exception:
        return "<unknown>"


def _builtins(kind: str) -> dict[str, list[Plugin]]:
    return {name: [Plugin(kind, name, target, BUILTIN)]
            for name, target in BUILTINS[kind].items()}


def _discover(kind: str) -> dict[str, list[Plugin]]:
    if kind not in _entry_points:
        found = _builtins(kind)
        seen: set[tuple[str, str, str]] = set()
        group = f"fairtrain.{kind}"
        for dist in metadata.distributions():
            entry_points = _distribution_entry_points(dist, group)
            if not entry_points:
                continue
            name = _dist_name(dist)
            if name == BUILTIN:  # fairtrain's own are the BUILTINS table, whatever is installed
                continue
            for ep in entry_points:
                key = (ep.name, ep.value, name)
                if key in seen:  # the same distribution seen twice on sys.path
                    continue
                seen.add(key)
                found.setdefault(ep.name, []).append(
                    Plugin(kind, ep.name, ep.value, name, _entry_point=ep)
                )
        _entry_points[kind] = found
    return _entry_points[kind]


def _candidates(kind: str, name: str) -> list[Plugin]:
    local = _in_process[kind].get(name)
    return [local] if local is not None else _discover(kind).get(name, [])


def plugins(kind: Kind) -> list[Plugin]:
    """Every registered plugin of ``kind``, conflicts included, sorted by name."""
    _check_kind(kind)
    names = set(_discover(kind)) | set(_in_process[kind])
    return [p for n in sorted(names) for p in _candidates(kind, n)]


def available(kind: Kind) -> dict[str, str]:
    """Names of the plugins of ``kind`` with the distribution that provides each.

    Nothing is imported. A name claimed by several distributions maps to
    ``"conflict: <dist>, <dist>"``; :func:`get` refuses it.

    Examples
    --------
    >>> from fairtrain import registry
    >>> registry.available("samplers")["homogeneous"]
    'fairtrain'
    """
    out: dict[str, str] = {}
    for p in plugins(kind):
        if p.name in out:
            out[p.name] = (
                out[p.name] if out[p.name].startswith("conflict: ") else
                f"conflict: {out[p.name]}"
            ) + f", {p.distribution}"
        else:
            out[p.name] = p.distribution
    return out


def get(kind: Kind, name: str) -> Any:
    """The plugin object (a class or a function) registered as ``name``.

    Raises
    ------
    ValueError
        If the kind or the name is unknown; the message lists the close matches.
    TypeError
        If ``name`` is not a string.
    PluginError
        If the plugin fails to import or is not callable, or two distributions claim
        ``name``.
    """
    _check_kind(kind)
    if not isinstance(name, str):
        raise TypeError(
            f"`name` must be a string, the {kind[:-1]}'s registered name; got {name!r}. "
            f"See fairtrain.registry.available({kind!r})."
        )
    found = _candidates(kind, name)
    if not found:
        known = sorted(available(kind))
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"No {kind[:-1]} named {name!r}.{hint} Known {kind}: {known}.")
    if len(found) > 1:
        claims = "; ".join(f"{p.distribution} ({p.target})" for p in found)
        raise PluginError(
            f"Two or more plugins claim the {kind[:-1]} name {name!r}: {claims}. "
            "Uninstall one of them, or register one under another name."
        )
    return found[0].load()


def register(kind: Kind, name: str | None = None, *, override: bool = False) -> Callable[[T], T]:
    """Register an object in this process, as a decorator.

    Parameters
    ----------
    kind : {"samplers", "weights", "schedules", "recipes", "metrics"}
    name : str, optional
        Default: the object's ``__name__``.
    override : bool, default False
        Replace an existing plugin of that name instead of raising.

    Raises
    ------
    PluginError
        If ``name`` is already taken by another object and ``override`` is False.
    TypeError
        If the object is not callable (a function or a class).
    """
    _check_kind(kind)

    def decorator(obj: T) -> T:
        if not callable(obj):
            raise TypeError(
                f"Only a function or class can be registered; {name or obj!r} (of type "
                f"{type(obj).__name__}) is not callable. Register the {kind[:-1]} "
                "function or class itself."
            )
        key = name or getattr(obj, "__name__", None)
        if not key:
            raise ValueError("`name` is required for objects without a __name__.")
        if not override:
            for existing in _candidates(kind, key):
                same = existing._loaded and existing._object is obj
                if not same:
                    raise PluginError(
                        f"The {kind[:-1]} name {key!r} is already taken by "
                        f"{existing.target} from {existing.distribution!r}. Pass "
                        "override=True to replace it, or choose another name."
                    )
        target = f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', key)}"
        _in_process[kind][key] = Plugin(kind, key, target, IN_PROCESS, _object=obj, _loaded=True)
        return obj

    return decorator


def unregister(kind: Kind, name: str) -> None:
    """Remove a plugin registered in this process with :func:`register`."""
    _check_kind(kind)
    if name not in _in_process[kind]:
        raise ValueError(f"No {kind[:-1]} named {name!r} was registered in this process.")
    del _in_process[kind][name]


def refresh() -> None:
    """Forget the discovered entry points, e.g. after installing a plugin package."""
    _entry_points.clear()
    importlib.invalidate_caches()
