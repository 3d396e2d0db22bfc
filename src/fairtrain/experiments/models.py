"""Small models for the demo and the examples: a tiny CNN and ``keras.applications`` backbones.

Every model is ``inputs -> backbone -> head``, with sub-models named ``"backbone"`` and
``"head"``, so :class:`fairtrain.Stage` ``(trainable=["head"])`` and the staged recipes
select them by name. No weights are ever downloaded: ``weights`` is ``None`` (random
initialisation) or a local weights file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

__all__ = ["available_backbones", "build_model", "embedding_model", "tiny_cnn"]

#: The built-in small backbone (not a keras.applications model).
TINY = "tiny"


def _keras() -> Any:
    import keras

    return keras


def available_backbones() -> list[str]:
    """``"tiny"`` and the names of every model in ``keras.applications``.

    Examples
    --------
    >>> names = available_backbones()
    >>> "tiny" in names and "MobileNet" in names and "ResNet50" in names
    True
    """
    keras = _keras()
    names = [
        n for n in dir(keras.applications)
        if n[:1].isupper() and callable(getattr(keras.applications, n))
    ]
    return [TINY, *sorted(names)]


def _head(n_features_in: int, n_outputs: int, activation: str, units: Sequence[int],
          dropout: float) -> Any:
    keras = _keras()
    layers: list[Any] = [keras.Input((n_features_in,))]
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    layers += [keras.layers.Dense(int(u), activation="relu") for u in units]
    layers.append(keras.layers.Dense(n_outputs, activation=activation))
    return keras.Sequential(layers, name="head")


def tiny_cnn(
    input_shape: Sequence[int] = (32, 32, 3),
    n_outputs: int = 4,
    *,
    activation: str = "softmax",
    filters: Sequence[int] = (16, 32),
    head_units: Sequence[int] = (),
    dropout: float = 0.0,
    seed: int | None = 0,
) -> Any:
    """A small CNN (a few thousand weights) that trains in seconds on a CPU.

    Parameters
    ----------
    input_shape : sequence of 3 int, default (32, 32, 3)
    n_outputs : int, default 4
        Units of the last layer.
    activation : str, default "softmax"
        Activation of the last layer (``"sigmoid"`` for a binary or a [0, 1] target).
    filters : sequence of int, default (16, 32)
        Filters of the 3x3 convolution blocks, each followed by 2x2 max pooling.
    head_units : sequence of int, default ()
        Hidden ReLU layers of the head.
    dropout : float, default 0.0
        Dropout before the head's first layer.
    seed : int or None, default 0
        Seed of the initial weights (``keras.utils.set_random_seed``); the same seed
        gives the same initial model.

    Returns
    -------
    keras.Model
        ``inputs -> backbone -> head`` with sub-models ``"backbone"`` and ``"head"``.
    """
    keras = _keras()
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    layers: list[Any] = [keras.Input(tuple(input_shape))]
    for f in filters:
        layers += [keras.layers.Conv2D(int(f), 3, padding="same", activation="relu"),
                   keras.layers.MaxPooling2D(2)]
    layers.append(keras.layers.GlobalAveragePooling2D())
    backbone = keras.Sequential(layers, name="backbone")
    head = _head(int(filters[-1]), n_outputs, activation, head_units, dropout)
    inputs = keras.Input(tuple(input_shape))
    return keras.Model(inputs, head(backbone(inputs)), name="tiny_cnn")


IMAGENET = "imagenet"


def _check_weights(weights: Any) -> str | None:
    """None, ``"imagenet"`` or the path of an existing local weights file."""
    if weights is None or (isinstance(weights, str) and weights.lower() == "none"):
        return None
    if isinstance(weights, str) and weights.lower() == IMAGENET:
        return IMAGENET
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise ValueError(
            f"Weights file {path!r} does not exist; pass a local file, 'imagenet' (Keras "
            "downloads and caches it) or None (random initialisation)."
        )
    return path


def _is_download_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is Keras failing to fetch a weights file (no network, blocked URL)."""
    import urllib.error

    if isinstance(exc, (urllib.error.URLError, ConnectionError, TimeoutError)):
        return True
    return "URL fetch failure" in str(exc)


def build_model(
    backbone: str = TINY,
    input_shape: Sequence[int] = (32, 32, 3),
    n_outputs: int = 4,
    *,
    weights: str | os.PathLike[str] | None = None,
    activation: str = "softmax",
    head_units: Sequence[int] = (),
    dropout: float = 0.0,
    seed: int | None = 0,
) -> Any:
    """``inputs -> backbone -> head`` with any ``keras.applications`` model as backbone.

    Parameters
    ----------
    backbone : str, default "tiny"
        ``"tiny"`` (:func:`tiny_cnn`) or a ``keras.applications`` name (``"MobileNet"``,
        ``"VGG16"``, ``"ResNet50"``, ``"NASNetMobile"``, ``"Xception"``,
        ``"EfficientNetV2B0"``...), built without its top, with global average pooling.
    input_shape : sequence of 3 int, default (32, 32, 3)
        Each backbone has a minimum size (32 for most, 71 for Xception, 75 for the
        Inception models).
    n_outputs : int, default 4
    weights : "imagenet", str, os.PathLike or None, default None
        None: random initialisation (the default: nothing is downloaded). ``"imagenet"``:
        the backbone's ImageNet weights, which Keras downloads on first use and caches
        (``~/.keras/models``). A path: a local weights file of the backbone without its
        top (e.g. ``mobilenet_v2_..._no_top.h5``, the file Keras caches), for machines
        without a network.
    activation, head_units, dropout, seed
        As for :func:`tiny_cnn`.

    Returns
    -------
    keras.Model

    Raises
    ------
    ValueError
        If the backbone name is unknown (with the available names), the weights file
        is missing, ``"imagenet"`` is asked for the tiny backbone, or the input is too
        small for the backbone.
    OSError
        If ``weights="imagenet"`` and the download fails (no network); the message says
        what to pass instead.
    """
    keras = _keras()
    if backbone == TINY:
        if _check_weights(weights) is not None:
            raise ValueError(
                f"The tiny backbone has no pretrained weights; got weights={weights!r}. "
                "Pass weights=None, or choose a keras.applications backbone."
            )
        return tiny_cnn(input_shape, n_outputs, activation=activation,
                        head_units=head_units, dropout=dropout, seed=seed)
    _check_backbone(backbone)
    path = _check_weights(weights)
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    base = _applications_base(backbone, input_shape, path)
    inputs = keras.Input(tuple(input_shape))
    features = base(inputs)
    wrapped = keras.Model(inputs, features, name="backbone")
    head = _head(int(features.shape[-1]), n_outputs, activation, head_units, dropout)
    model_in = keras.Input(tuple(input_shape))
    return keras.Model(model_in, head(wrapped(model_in)), name=f"{backbone.lower()}_model")


def _check_backbone(backbone: str) -> None:
    """Refuse a backbone name that is not in :func:`available_backbones`, naming close ones."""
    names = available_backbones()
    if backbone not in names:
        import difflib

        close = difflib.get_close_matches(backbone, names, n=3)
        raise ValueError(
            f"Unknown backbone {backbone!r}"
            + (f"; did you mean {close}?" if close else ".")
            + f" Available: {names}."
        )


def _applications_base(backbone: str, input_shape: Sequence[int], path: str | None) -> Any:
    """The ``keras.applications`` model without its top, average pooled, with ``path``'s weights."""
    factory = getattr(_keras().applications, backbone)
    try:
        return factory(include_top=False, weights=path, input_shape=tuple(input_shape),
                       pooling="avg")
    except Exception as exc:
        if path != IMAGENET or not _is_download_failure(exc):
            if isinstance(exc, ValueError):
                raise _refused(backbone, input_shape, exc) from exc
            raise
        raise OSError(
            f"Could not download the ImageNet weights of {backbone} ({exc}). Without a "
            "network, pass weights=<path> to the no-top weights file (copy it from the "
            "~/.keras/models folder of a machine that has one), or weights=None to start "
            "from random weights."
        ) from exc


def _refused(backbone: str, input_shape: Sequence[int], exc: Exception) -> ValueError:
    return ValueError(
        f"keras.applications.{backbone} refused input_shape={tuple(input_shape)} or the "
        f"weights: {exc} (try a larger input size)."
    )


def embedding_model(model: Any) -> Any:
    """The ``"backbone"`` sub-model of a :func:`build_model` model (its features)."""
    try:
        return model.get_layer("backbone")
    except ValueError as exc:
        raise ValueError("`model` has no sub-model named 'backbone'.") from exc
