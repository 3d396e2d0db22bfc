"""Sphinx configuration for the fairtrain documentation.

The build is offline and warning-free (``sphinx-build -W``): intersphinx is off unless
``FAIRTRAIN_DOCS_INTERSPHINX=1`` is set, and every picture is drawn by the build itself
(sphinx-gallery runs ``examples/gallery/``); no image is committed.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import fairtrain

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

project = "fairtrain"
author = "fairtrain developers"
copyright = "2026, fairtrain developers"  # noqa: A001
release = fairtrain.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.intersphinx",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

# ------------------------------------------------------------------ API pages
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": False}
autosummary_generate = True
numpydoc_show_class_members = False  # the API pages list members explicitly
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Offline builds must pass with -W: intersphinx only when asked for.
intersphinx_mapping = (
    {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
    }
    if os.environ.get("FAIRTRAIN_DOCS_INTERSPHINX")
    else {}
)

# ------------------------------------------------------------------ gallery
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples" / "gallery"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "show_signature": False,
    "reference_url": {"fairtrain": None},
}

# ------------------------------------------------------------------ Markdown (CHANGELOG.md)
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# ------------------------------------------------------------------ HTML
exclude_patterns = [
    "_build",
    "plugin_example",
    "reproduce/output",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "sg_execution_times.rst",
]
html_theme = "pydata_sphinx_theme"
html_title = f"fairtrain {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 8,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
    "navbar_align": "left",
}
html_sidebars = {"index": [], "installation": [], "changelog": []}
nitpicky = False
