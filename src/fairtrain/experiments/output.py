"""Output folders fairtrain owns: a manifest of what it wrote, and nothing else touched."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MANIFEST", "OutputDir", "OutputError", "to_jsonable"]

#: Name of the file, inside an output folder, that lists what fairtrain wrote there.
MANIFEST = ".fairtrain-manifest.json"


class OutputError(ValueError):
    """An output folder fairtrain must not write into (or not without ``force``)."""


class OutputDir:
    """A results folder that fairtrain writes into and keeps a manifest of.

    Every file written through it is listed in ``.fairtrain-manifest.json`` in the
    folder, as soon as it is written. A folder is accepted if it does not exist, is
    empty, or holds a manifest; with a manifest, ``force=True`` is required and the
    files it lists are removed first (files the manifest does not list are kept, and
    a new file never replaces one of them).

    Parameters
    ----------
    path : str or os.PathLike
        The folder (created with its parents if missing).
    force : bool, default False
        Replace the files of an earlier fairtrain run in ``path``.
    tool : str, default "fairtrain"
        Recorded in the manifest.

    Raises
    ------
    OutputError
        If ``path`` is empty (``""``; write ``"."`` for the current folder), is a file,
        cannot be created or written (e.g. it lies below a file), is a non-empty folder
        fairtrain did not write (no
        manifest), or holds an earlier run and ``force`` is False.

    Examples
    --------
    >>> import tempfile, os
    >>> from fairtrain.experiments import OutputDir
    >>> root = tempfile.mkdtemp()
    >>> out = OutputDir(os.path.join(root, "run"))
    >>> _ = out.write_text("notes.md", "hello")
    >>> out.files
    ['notes.md']
    >>> OutputDir(os.path.join(root, "run"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    fairtrain.experiments.OutputError: ...
    """

    def __init__(
        self, path: str | os.PathLike[str], *, force: bool = False, tool: str = "fairtrain"
    ) -> None:
        if os.fspath(path) == "":
            # Path("") is the current folder: almost always an unset variable, never a choice
            raise OutputError(
                "--out is an empty string; name a folder (use '.' for the current one)."
            )
        self.root = Path(path)
        self.tool = tool
        self.files: list[str] = []
        self._dirs: list[str] = []
        if self.root.exists() and not self.root.is_dir():
            raise OutputError(f"--out {str(self.root)!r} is a file, not a folder; choose one.")
        manifest = self.root / MANIFEST
        if self.root.is_dir() and any(self.root.iterdir()):
            if not manifest.is_file():
                raise OutputError(
                    f"--out {str(self.root)!r} is a non-empty folder that fairtrain did not "
                    "write (it has no " + MANIFEST + "); fairtrain never overwrites files "
                    "it did not write. Choose a new or empty folder."
                )
            if not force:
                raise OutputError(
                    f"--out {str(self.root)!r} holds the results of an earlier fairtrain "
                    "run. Pass --force to replace them (only the files that run wrote), or "
                    "choose another folder."
                )
            self._remove_previous(manifest)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._save_manifest()
        except OSError as exc:  # a file on the way (a/file.txt/run), no permission, ...
            why = exc.strerror or exc
            raise OutputError(
                f"--out {str(self.root)!r} cannot be created or written ({why}); choose a "
                "folder you can write, not one below a file."
            ) from exc

    def _remove_previous(self, manifest: Path) -> None:
        # Every entry is checked before the first removal: a malformed manifest (a string
        # for a list, a name outside) must not delete some files and then stop.
        try:
            previous = json.loads(manifest.read_text(encoding="utf-8"))
            files, dirs = previous["files"], previous.get("dirs", [])
            for key, names in (("files", files), ("dirs", dirs)):
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise TypeError(f"its {key!r} is not a list of names: {names!r}")
            targets = [self._resolve(name) for name in files]
            folders = [self._resolve(name) for name in dirs]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutputError(
                f"{manifest} is unreadable ({exc}); fairtrain cannot tell which files are "
                "its own and removed nothing. Remove the folder yourself or choose another "
                "one."
            ) from exc
        for target in targets:
            if target.is_file() or target.is_symlink():
                target.unlink()
        # Deepest first; only folders fairtrain created and that are now empty (a link
        # put in a folder's place is not that folder: kept).
        for target in sorted(folders, key=lambda d: len(d.parts), reverse=True):
            if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
                target.rmdir()

    def _resolve(self, name: str) -> Path:
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise OutputError(
                f"Output names must be relative paths inside the folder; got {name!r}."
            )
        target = self.root / rel
        # A sub-folder replaced by a link must not lead a write or a --force removal
        # to other files, outside the folder or inside it (a link to the user's own
        # sub-folder); the target itself, if a link, is only unlinked.
        if target.parent.resolve() != self.root.resolve().joinpath(*rel.parent.parts):
            raise OutputError(
                f"{target} is reached through a link: a folder on its way leads to "
                f"{target.parent.resolve()}. fairtrain never writes or removes a file "
                "through a link, whether it points inside --out or outside it. Remove the "
                "link or choose another folder."
            )
        return target

    def _save_manifest(self) -> None:
        data = {"tool": self.tool, "files": self.files, "dirs": self._dirs}
        tmp = self.root / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(self.root / MANIFEST)

    def path(self, name: str) -> Path:
        """Claim ``name`` (a relative path) for a new file and return its full path.

        Raises
        ------
        OutputError
            If a file of that name exists and was not written by this run.
        """
        target = self._resolve(name)
        key = target.relative_to(self.root).as_posix()
        if key not in self.files:
            if target.exists() or target.is_symlink():
                raise OutputError(
                    f"{target} exists and fairtrain did not write it; it is left alone. "
                    "Move it, or choose another --out folder."
                )
            parent = target.parent
            missing = []
            while parent != self.root and not parent.exists():
                missing.append(parent.relative_to(self.root).as_posix())
                parent = parent.parent
            target.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.extend(reversed(missing))
            self.files.append(key)
            self._save_manifest()
        return target

    def write_text(self, name: str, text: str) -> Path:
        """Write a text file (UTF-8)."""
        target = self.path(name)
        target.write_text(text, encoding="utf-8")
        return target

    def write_json(self, name: str, data: Any) -> Path:
        """Write ``data`` as JSON (NumPy values converted, NaN written as null)."""
        return self.write_text(
            name, json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n"
        )

    def save_figure(self, name: str, figure: Any, *, dpi: int = 110) -> Path:
        """Save a matplotlib figure (or the figure of an Axes) as PNG."""
        figure = getattr(figure, "figure", figure)
        target = self.path(name)
        figure.savefig(target, dpi=dpi)
        return target


def to_jsonable(obj: Any) -> Any:
    """``obj`` with NumPy scalars and arrays as Python values and NaN or inf as None."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


# --------------------------------------------------------------------------- training
