"""`StagedHistory`: the merged history of every stage, with a global epoch counter."""

from __future__ import annotations

import math
from typing import Any

import keras

__all__ = ["StagedHistory"]


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
