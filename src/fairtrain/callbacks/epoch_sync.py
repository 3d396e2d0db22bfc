"""`EpochSync`: tells fairtrain feeds the global epoch Keras is running."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

from fairtrain._validation import check
from fairtrain.data.clock import FeedInfo, feed_info

__all__ = ["EpochSync"]


class EpochSync(keras.callbacks.Callback):
    """Keep fairtrain feeds on the epoch Keras runs: epoch ``e`` serves ``plan(e)``.

    Keras passes the global epoch number to ``on_epoch_begin``: ``fit(initial_epoch=k)``
    starts at ``k``, ``keras.callbacks.BackupAndRestore`` resumes at the epoch after the
    last saved one, and the stages of :func:`fairtrain.fit_staged` continue the count.
    This callback hands that number to each feed before the epoch's first batch is
    built, so the feed serves exactly the rows of ``sampler.plan(e)`` (its first
    ``steps_per_epoch`` rows), whatever the way of running. :func:`fairtrain.fit_staged`
    adds it for the feeds it is given.

    Before training starts it also refuses what a feed cannot serve exactly, e.g.
    ``fit(steps_per_epoch=k)`` on a feed built for another epoch length (the epochs
    would mix), instead of serving wrong batches.

    Parameters
    ----------
    *feeds
        Datasets made by :func:`~fairtrain.data.to_tf_dataset` or
        :func:`~fairtrain.data.from_group_datasets` (the returned object itself, not a
        dataset derived from it), or :class:`~fairtrain.data.SampledPyDataset` s.
    validation : bool, default False
        The feeds are ``validation_data``: the validation after epoch ``e`` serves
        ``plan(e)`` too, and their length is not checked against the training steps.

    Raises
    ------
    TypeError
        If a feed is not a fairtrain feed.
    ValueError
        In ``on_train_begin``, if ``fit``'s steps per epoch differ from a training
        feed's (the message says which argument to change).

    Examples
    --------
    >>> import numpy as np, keras
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_codes(np.array([0] * 6 + [1] * 2))
    >>> sampler = ft.sampling.Homogeneous(groups, batch_size=4, seed=0)
    >>> x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    >>> train = ft.data.SampledPyDataset(sampler, lambda i: (x[i], x[i, :1]))
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = model.fit(train, epochs=3, initial_epoch=1, verbose=0,
    ...                     callbacks=[ft.data.EpochSync(train)])
    >>> history.epoch  # served plan(1), then plan(2)
    [1, 2]
    >>> train.epoch is None  # released when training ends
    True
    """

    def __init__(self, *feeds: Any, validation: bool = False) -> None:
        super().__init__()
        if not feeds:
            raise TypeError("EpochSync needs at least one feed: EpochSync(train, ...).")
        infos: list[FeedInfo] = []
        for feed in feeds:
            info = feed_info(feed)
            if info is None:
                raise TypeError(
                    f"EpochSync takes the feeds fairtrain builds (to_tf_dataset, "
                    f"from_group_datasets, SampledPyDataset); got {type(feed).__name__}. "
                    "A dataset derived from one (ds.map(...), ds.prefetch(...)) loses the "
                    "link: pass the dataset fairtrain returned, and transform it with "
                    "the `load` function instead."
                )
            infos.append(info)
        self.feeds = tuple(feeds)
        self.validation = check("validation", validation, "boolean")
        self._infos = infos

    def get_config(self) -> dict[str, Any]:
        """The settings: everything but the feeds, which no config holds.

        ``EpochSync.from_config({**config, "feeds": [train]})`` rebuilds it.
        """
        return {"validation": self.validation}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EpochSync:
        """``cls(*config["feeds"], validation=...)``: the feeds added back to the config.

        Raises
        ------
        ValueError
            If the config lacks the feeds.
        """
        config = dict(config)
        if "feeds" not in config:
            raise ValueError(
                "EpochSync.from_config needs the feeds, which no config holds: "
                "EpochSync.from_config({**config, 'feeds': [train]})."
            )
        feeds = config.pop("feeds")
        return cls(*feeds, **config)

    def covers(self, feed: Any) -> bool:
        """Whether ``feed`` is one of this callback's feeds."""
        return any(f is feed for f in self.feeds)

    def on_train_begin(self, logs: Any = None) -> None:
        """Refuse a training feed whose epoch length differs from ``fit``'s."""
        if self.validation:
            return
        steps = (self.params or {}).get("steps")
        for info in self._infos:
            if info.repeat and steps is None:
                raise ValueError(
                    f"{info.name} repeats forever (repeat=True): pass "
                    f"steps_per_epoch={info.steps} to fit, so that every epoch is "
                    f"{info.steps} batches."
                )
            if steps is not None and int(steps) != info.steps:
                fix = (
                    f"build the feed with steps_per_epoch={int(steps)}"
                    + (", repeat=True" if info.repeat else "")
                    + f", or give fit steps_per_epoch={info.steps}"
                    if int(steps) < info.steps
                    else f"give fit steps_per_epoch={info.steps} (or build the feed with "
                    f"steps_per_epoch={int(steps)})"
                )
                raise ValueError(
                    f"fit runs {int(steps)} steps per epoch but {info.name} serves "
                    f"{info.steps} batches per epoch; epochs would mix or run dry. "
                    f"To serve the first {int(steps)} batches of every epoch's plan, "
                    f"{fix}."
                )

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        """Set every feed's clock to the global ``epoch``."""
        for info in self._infos:
            info.clock.set(epoch)

    def on_train_end(self, logs: Any = None) -> None:
        """Release the feeds: used again without EpochSync, they behave as new."""
        for info in self._infos:
            info.clock.reset()
