"""Layer selection and freezing for a stage: which layers train, BatchNorm in inference."""

from __future__ import annotations

import difflib
import fnmatch
from typing import Any

import keras

from fairtrain.schedules.stage import Stage

__all__ = ["apply_stage", "layer_tree"]


def _sublayers(layer: keras.layers.Layer) -> list[Any]:
    """The direct sub-layers of any layer (a model, a custom layer, a plain layer).

    Keras 3 has no public way to list the direct sub-layers of an arbitrary layer:
    ``Model.layers`` covers models only, and a custom layer's children are tracked in
    the private ``Layer._layers``. tests/schedules/test_keras_internals.py fails loudly if
    a Keras release renames or empties it.
    """
    try:
        return list(layer._layers)
    except AttributeError as exc:  # pragma: no cover - only if Keras changes
        raise RuntimeError(
            f"This Keras ({keras.__version__}) has no Layer._layers, which fairtrain uses "
            "to find sub-layers; please report it to fairtrain."
        ) from exc


def layer_tree(model: keras.layers.Layer) -> list[tuple[keras.layers.Layer, list[Any]]]:
    """Every layer below ``model`` in pre-order, each with its direct sub-layers."""
    out: list[tuple[keras.layers.Layer, list[Any]]] = []
    seen: set[int] = set()

    def visit(layer: keras.layers.Layer) -> None:
        children = [c for c in _sublayers(layer) if id(c) not in seen]
        for child in children:
            seen.add(id(child))
        out.append((layer, children))
        for child in children:
            visit(child)

    seen.add(id(model))
    visit(model)
    return out[1:]


def _descendants(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    return [layer] + [d for c in _sublayers(layer) for d in _descendants(c)]


def _select(model: keras.Model, spec: Any, what: str) -> set[int]:
    """Ids of the layers ``spec`` selects, sub-layers included."""
    layers = [layer for layer, _ in layer_tree(model)]
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


def apply_stage(
    model: keras.Model, stage: Stage, frozen_before: set[int]
) -> tuple[set[int], list[str]]:
    """Set ``trainable`` on every layer for ``stage``.

    Returns the ids of the layers frozen in this stage and the trainable leaf names.
    """
    tree = layer_tree(model)
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
            flags.get(id(c), False) for c in _sublayers(layer)
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
