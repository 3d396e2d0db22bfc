"""Output folders fairtrain owns: a manifest of what it wrote, and nothing else touched."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MANIFEST", "OutputDir", "OutputError", "TermsError", "to_jsonable"]

#: Name of the file, inside an output folder, that lists what fairtrain wrote there.
MANIFEST = ".fairtrain-manifest.json"


class TermsError(ValueError):
    """An error whose message names options in the library's terms or a command line's.

    ``str(error)`` speaks the library's terms (``force=True``, the ``path`` argument);
    :meth:`for_command_line` says the same with the command line's flags, which is what
    ``fairtrain demo``, ``fairtrain report`` and the example scripts print.
    """

    #: how each option is named: the library's terms, then the command line's
    LIBRARY: dict[str, str] = {}
    COMMAND_LINE: dict[str, str] = {}

    def __init__(self, template: str, **values: Any) -> None:
        self.template = template
        self.values = values
        super().__init__(self._render(self.LIBRARY))

    def _render(self, terms: Mapping[str, str]) -> str:
        # only the named placeholders are filled: a path with braces stays as it is
        table = {**terms, **self.values}

        def fill(match: re.Match[str]) -> str:
            key, as_repr = match.group(1), match.group(2)
            if key not in table:
                return match.group(0)
            return repr(table[key]) if as_repr else str(table[key])

        return re.sub(r"\{(\w+)(!r)?\}", fill, self.template)

    def for_command_line(self) -> str:
        """The message with the command line's flags (``--out``, ``--force``...)."""
        return self._render(self.COMMAND_LINE)


class OutputError(TermsError):
    """An output folder fairtrain must not write into (or not without ``force``)."""

    LIBRARY = {"out": "output folder", "force": "force=True"}
    COMMAND_LINE = {"out": "--out", "force": "--force"}


class OutputDir:
    """A results folder that fairtrain writes into and keeps a manifest of.

    Every file written through it is listed in ``.fairtrain-manifest.json`` in the
    folder, as soon as it is written. A folder is accepted if it does not exist, is
    empty, or holds a manifest; with a manifest, the files it lists are removed first
    (files the manifest does not list are kept, and a new file never replaces one of
    them). Replacing a finished run (one that called :meth:`finish`) needs
    ``force=True``; the files of a run that stopped before finishing (an error, an
    interrupt) are replaced without it, so that a retry just works
    (:attr:`replaced_unfinished` says so).

    Parameters
    ----------
    path : str or os.PathLike
        The folder (created with its parents if missing).
    force : bool, default False
        Replace the files of an earlier fairtrain run in ``path``.
    tool : str, default "fairtrain"
        Recorded in the manifest.

    Attributes
    ----------
    files : list of str
        The files written so far, relative to the folder.
    replaced_unfinished : bool
        Whether the folder held an unfinished earlier run whose files were removed.

    Raises
    ------
    OutputError
        If ``path`` is empty (``""``; write ``"."`` for the current folder), is a file,
        is a non-empty folder fairtrain did not write (no manifest), holds a finished
        earlier run and ``force`` is False, or cannot be created or written (a read-only
        place, a file on its way).

    Examples
    --------
    >>> import tempfile, os
    >>> from fairtrain.experiments import OutputDir
    >>> root = tempfile.mkdtemp()
    >>> out = OutputDir(os.path.join(root, "run"))
    >>> _ = out.write_text("notes.md", "hello")
    >>> out.files
    ['notes.md']
    >>> OutputDir(os.path.join(root, "run")).replaced_unfinished  # a retry replaces it
    True
    >>> OutputDir(os.path.join(root, "run")).finish()
    >>> OutputDir(os.path.join(root, "run"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    fairtrain.experiments.OutputError: ...
    """

    def __init__(
        self, path: str | os.PathLike[str], *, force: bool = False, tool: str = "fairtrain"
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise OutputError("The {out} must be a folder path; got {path!r}.", path=path)
        if os.fspath(path) == "":
            # Path("") is the current folder: almost always an unset variable, never a choice
            raise OutputError(
                "The {out} is an empty string; name a folder (use '.' for the current one)."
            )
        self.root = Path(path)
        self.tool = tool
        self.files: list[str] = []
        self._dirs: list[str] = []
        self._finished = False
        self.replaced_unfinished = False
        if self.root.exists() and not self.root.is_dir():
            raise OutputError("The {out} {root!r} is a file, not a folder; choose one.",
                              root=str(self.root))
        manifest = self.root / MANIFEST
        if self.root.is_dir() and any(self.root.iterdir()):
            if not manifest.is_file():
                raise OutputError(
                    "The {out} {root!r} is a non-empty folder that fairtrain did not "
                    "write (it has no {manifest}); fairtrain never overwrites files "
                    "it did not write. Choose a new or empty folder.",
                    root=str(self.root), manifest=MANIFEST,
                )
            finished = _finished(manifest)
            if not force and finished:
                raise OutputError(
                    "The {out} {root!r} holds the results of an earlier fairtrain "
                    "run. Pass {force} to replace them (only the files that run wrote), or "
                    "choose another folder.",
                    root=str(self.root),
                )
            self.replaced_unfinished = not finished
            self._remove_previous(manifest)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._save_manifest()
        except OSError as exc:
            raise OutputError(_unwritable(self.root, exc)) from exc

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
                "through a link, whether it points inside the {out} or outside it. Remove "
                "the link or choose another folder."
            )
        return target

    def _save_manifest(self) -> None:
        data = {"tool": self.tool, "files": self.files, "dirs": self._dirs,
                "finished": self._finished}
        tmp = self.root / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(self.root / MANIFEST)

    def finish(self) -> None:
        """Mark the run finished: replacing its files later needs ``force=True``."""
        self._finished = True
        self._save_manifest()

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
                    "Move it, or choose another {out}."
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
        """Write ``data`` as JSON (NumPy values converted, NaN written as null).

        Raises
        ------
        TypeError
            If ``data`` holds a value JSON cannot represent (checked before the file
            is created).
        """
        try:
            text = json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n"
        except TypeError as exc:
            raise TypeError(
                f"{name}: {exc}; convert that value to a number, string, list or dict "
                "before writing it."
            ) from None
        return self.write_text(name, text)

    def save_figure(self, name: str, figure: Any, *, dpi: int = 110) -> Path:
        """Save a matplotlib figure (or the figure of an Axes) as PNG."""
        figure = getattr(figure, "figure", figure)
        target = self.path(name)
        figure.savefig(target, dpi=dpi)
        return target


def _finished(manifest: Path) -> bool:
    """Whether the run that wrote ``manifest`` finished (manifests without the flag did)."""
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("finished", True) is not False
    except (OSError, ValueError, AttributeError):
        return True  # unreadable: only --force may touch it (and then says so)


def _unwritable(root: Path, exc: OSError) -> str:
    """Why the folder ``root`` cannot be created or written, and what to do."""
    blocking = next((p for p in (root, *root.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        cause = f"{str(blocking)!r} on its way is a file, not a folder"
    elif isinstance(exc, PermissionError):
        cause = "permission denied (a read-only place)"
    else:
        cause = exc.strerror or str(exc)
    return (
        f"The {{out}} {str(root)!r} cannot be created or written: {cause}. Choose "
        "another folder, one you can write to."
    )


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
