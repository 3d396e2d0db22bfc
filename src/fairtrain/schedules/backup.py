"""The backup of a staged run: fairtrain's own files in a user's folder, and only those.

A staged run with ``backup_dir`` writes two files there, ``fairtrain-staged.json`` (the
state: stages, current stage, global epoch, history, and the list of files fairtrain
wrote) and ``fairtrain-staged.npz`` (model and optimizer variables). When the run
completes it deletes exactly the files that list names, then the folder if nothing else
is left in it. It never writes over, nor deletes, a file it did not write: a folder
such as ``runs/resnet50`` keeps the user's checkpoints and logs.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from typing import Any

import keras
import numpy as np

__all__ = ["StagedBackup"]

STATE = "fairtrain-staged.json"
VARIABLES = "fairtrain-staged.npz"
_MARK = "fairtrain_staged_backup"


class StagedBackup:
    """Save, load and remove the backup files of a staged run in ``folder``.

    Parameters
    ----------
    folder : str or os.PathLike
        The user's folder; created if missing.

    Raises
    ------
    ValueError
        If ``folder`` is a file, a file with one of fairtrain's names is in the folder
        but was not written by fairtrain (it would be overwritten), or the saved
        variables are unreadable or do not fit the model.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = os.fspath(folder)
        self.state_path = os.path.join(self.folder, STATE)
        self.vars_path = os.path.join(self.folder, VARIABLES)

    # ------------------------------------------------------------------ checks
    def _read_state(self) -> dict[str, Any] | None:
        if os.path.exists(self.folder) and not os.path.isdir(self.folder):
            raise ValueError(
                f"backup_dir {self.folder!r} is a file, not a folder; fairtrain keeps its "
                "two backup files in a folder. Choose a folder (new, or one of yours)."
            )
        if not os.path.exists(self.state_path):
            if os.path.exists(self.vars_path):
                raise ValueError(
                    f"{self.vars_path!r} exists but fairtrain did not write it (no "
                    f"{STATE} lists it); fairtrain will not overwrite it. Move it, or "
                    "choose another backup_dir."
                )
            return None
        try:
            with open(self.state_path) as f:
                state = json.load(f)
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"{self.state_path!r} is not a fairtrain backup ({exc}); fairtrain will "
                "not overwrite it. Move it, or choose another backup_dir."
            ) from exc
        if not isinstance(state, dict) or state.get(_MARK) != 1:
            raise ValueError(
                f"{self.state_path!r} was not written by fairtrain; fairtrain will not "
                "overwrite it. Move it, or choose another backup_dir."
            )
        return state

    def load(
        self, stage_names: list[str], stage_epochs: list[int] | None = None
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """The saved state and variables, or None if there is no backup yet.

        Raises
        ------
        ValueError
            If the backup belongs to other stages, or its position (stage, stage start,
            epoch) is impossible for ``stage_epochs`` (a corrupt backup, which is kept).
        """
        state = self._read_state()
        if state is None:
            return None
        if state.get("stages") != stage_names:
            raise ValueError(
                f"The backup in {self.folder!r} belongs to the stages "
                f"{state.get('stages')}; got stages {stage_names}. Use another backup_dir, "
                f"or delete {STATE} and {VARIABLES} there to start afresh."
            )
        self._check_position(state, stage_epochs or [])
        try:
            with open(self.vars_path, "rb") as f, np.load(f) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(
                f"{self.vars_path!r} is missing, truncated or corrupt ({type(exc).__name__}: "
                f"{exc}); the backup cannot be restored. Delete {STATE} and {VARIABLES} "
                "there to start afresh, or use another backup_dir."
            ) from exc
        return state, arrays


    def _check_position(self, state: dict[str, Any], stage_epochs: list[int]) -> None:
        # An impossible position would skip every stage, report the run complete and
        # delete the backup: refuse it and keep the files.
        position = {k: state.get(k) for k in ("stage", "stage_start", "epoch")}
        ok = all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                 for v in position.values())
        if ok:
            stage, start, epoch = position["stage"], position["stage_start"], position["epoch"]
            n = len(state["stages"])
            ok = stage <= n and start <= epoch and (
                not stage_epochs or stage == n or epoch <= start + stage_epochs[stage]
            )
        if not ok:
            raise ValueError(
                f"The backup state {self.state_path!r} is corrupt: {position} is not a "
                f"position in {len(state['stages'])} stage(s) of {stage_epochs or '?'} "
                "epochs (stage in [0, number of stages], 0 <= stage_start <= epoch <= "
                "stage_start + the stage's epochs). It is left as it is; delete "
                f"{STATE} and {VARIABLES} there to start afresh."
            )

    def check_model(self, model: keras.Model, arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The saved model variables, refused unless they fit ``model`` one for one."""
        saved = [arrays[f"model_{i}"] for i in range(sum(k.startswith("model_") for k in arrays))]
        shapes = [tuple(np.shape(w)) for w in model.get_weights()]
        if [tuple(w.shape) for w in saved] != shapes:
            first = next((i for i, (a, b) in enumerate(zip(saved, shapes)) if a.shape != b),
                         min(len(saved), len(shapes)))
            detail = (f"variable {first} has shape {saved[first].shape} there, "
                      f"{shapes[first]} in the model"
                      if first < min(len(saved), len(shapes))
                      else f"{len(saved)} variables there, {len(shapes)} in the model")
            raise ValueError(
                f"The backup in {self.folder!r} was saved from another model "
                f"(architecture): {detail}, so its weights do not fit. Use another "
                f"backup_dir for this model, or delete {STATE} and {VARIABLES} there to "
                "start afresh."
            )
        return saved

    def save(self, model: keras.Model, state: dict[str, Any], *,
             with_optimizer: bool = True) -> None:
        """Write the variables, then the state (which never points at older variables)."""
        if not os.path.isdir(self.folder):
            os.makedirs(self.folder, exist_ok=True)
        else:
            self._read_state()  # refuses files fairtrain did not write
        arrays = {f"model_{i}": w for i, w in enumerate(model.get_weights())}
        optimizer = getattr(model, "optimizer", None)
        if with_optimizer and optimizer is not None and optimizer.built:
            for i, v in enumerate(optimizer.variables):
                arrays[f"optimizer_{i}"] = keras.ops.convert_to_numpy(v)
        with open(self.vars_path + ".tmp", "wb") as f:
            np.savez(f, **arrays)
        full = {_MARK: 1, "files": [VARIABLES, STATE], **state}
        with open(self.state_path + ".tmp", "w") as f:
            json.dump(full, f)
        os.replace(self.vars_path + ".tmp", self.vars_path)
        os.replace(self.state_path + ".tmp", self.state_path)

    def remove(self) -> None:
        """Delete the files fairtrain wrote, then the folder if it is left empty."""
        state = self._read_state() if os.path.isdir(self.folder) else None
        if state is None:
            return
        for name in state.get("files", []):  # variables first, the state last
            if name in (STATE, VARIABLES):  # only ever fairtrain's own names
                path = os.path.join(self.folder, name)
                if os.path.exists(path):
                    os.remove(path)
        with contextlib.suppress(OSError):  # only succeeds when nothing else is there
            os.rmdir(self.folder)
