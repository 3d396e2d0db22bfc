"""Import every fairtrain module once, by its package name, before pytest collects any.

``--doctest-modules --import-mode=importlib`` imports ``src/fairtrain/x.py`` itself to
find its doctests. When the package ``fairtrain`` has already imported that module (its
``__init__`` imports ``groups`` and ``registry``; a subpackage its own modules), pytest
would otherwise execute the file a second time and replace ``sys.modules`` entry with the
copy: ``ft.bins`` then returns the first copy's ``Binned`` while ``by_group`` checks for
the second's, and a binned column loses its bin order. With every module imported here
first, pytest finds each in ``sys.modules`` and reuses it. Collection imports all of them
anyway, so this costs nothing.
"""

import contextlib
import importlib
import pkgutil

import fairtrain

for _module in pkgutil.walk_packages(fairtrain.__path__, "fairtrain."):
    with contextlib.suppress(ImportError):  # an optional dependency not installed
        importlib.import_module(_module.name)
