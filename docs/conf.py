"""Sphinx configuration for the fairtrain documentation."""

from __future__ import annotations

import os

import fairtrain

project = "fairtrain"
author = "fairtrain developers"
copyright = "2026, fairtrain developers"  # noqa: A001
release = fairtrain.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": False}

# Offline builds must pass with -W: intersphinx only when asked for.
intersphinx_mapping = (
    {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
    }
    if os.environ.get("FAIRTRAIN_DOCS_INTERSPHINX")
    else {}
)

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = f"fairtrain {release}"
nitpicky = False
