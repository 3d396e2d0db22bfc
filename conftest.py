"""Before pytest collects the doctests of ``src/fairtrain``, import every fairtrain module.

``--doctest-modules --import-mode=importlib`` imports ``src/fairtrain/x.py`` itself to
find its doctests. When the package ``fairtrain`` has already imported that module (its
``__init__`` imports ``groups`` and ``registry``; a subpackage its own modules), pytest
would otherwise execute the file a second time and replace the ``sys.modules`` entry
with the copy: ``ft.bins`` then returns the first copy's ``Binned`` while ``by_group``
checks for the second's, and a binned column loses its bin order. With every module
imported first, pytest finds each in ``sys.modules`` and reuses it. Collecting the
doctests imports all of them anyway; a run that does not collect them (a few test
files) skips this and does not pay for TensorFlow.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

SRC = Path(__file__).resolve().parent / "src" / "fairtrain"


def _collects(arg: str, root: Path) -> bool:
    """Whether the command-line path ``arg`` is, holds or lies in ``src/fairtrain``."""
    path = Path(arg.split("::")[0])
    path = (path if path.is_absolute() else root / path).resolve()
    return path == SRC or SRC in path.parents or path in SRC.parents


def import_every_module(package: str = "fairtrain") -> list[str]:
    """Import every module of ``package``; the names skipped for a missing dependency.

    Only a module outside ``package`` may be missing (an optional dependency not
    installed); any other ImportError, fairtrain's own included, is raised.
    """
    skipped = []
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, f"{package}."):
        try:
            importlib.import_module(module.name)
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.split(".")[0] == package:
                raise
            skipped.append(module.name)
    return skipped


def pytest_configure(config) -> None:  # noqa: D103
    root = Path(str(config.rootpath))
    if any(_collects(arg, root) for arg in config.args):
        import_every_module()
