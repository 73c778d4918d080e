"""Sphinx configuration of the sksoftmax documentation.

Build (from the repository root, with the ``docs`` extra installed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build runs every ``examples/plot_*.py`` through sphinx-gallery and needs
no network: intersphinx is off unless ``SKSOFTMAX_DOCS_INTERSPHINX=1``.
"""

import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # document the checkout, installed or not
sys.path.insert(0, str(DOCS / "sphinxext"))

import sksoftmax  # noqa: E402

project = "sksoftmax"
author = "The sksoftmax developers"
copyright = "The sksoftmax developers"  # noqa: A001
version = release = sksoftmax.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sksoftmax_docs",  # sphinxext/: gallery order, offline scikit-learn references
]
if os.environ.get("SKSOFTMAX_DOCS_INTERSPHINX") == "1":
    # Off by default: fetching remote inventories needs the network, and a
    # failed fetch is a warning, which -W turns into an error.
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }

exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
]
templates_path = ["_templates"]
root_doc = "index"
default_role = "literal"

# API reference: autosummary writes one page per public name into gen_modules/.
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Gallery: examples/plot_*.py run during the build; their figures are the only
# figures in these docs.
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": str(DOCS / "auto_examples"),
    "filename_pattern": r"/plot_",
    "within_subsection_order": "sksoftmax_docs.GalleryOrder",
    "backreferences_dir": str(DOCS / "gen_modules" / "backreferences"),
    "doc_module": ("sksoftmax",),
    "reference_url": {"sksoftmax": None},
    "remove_config_comments": True,
    "show_memory": False,
    "matplotlib_animations": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "min_reported_time": 1,
}

html_theme = "pydata_sphinx_theme"
html_title = f"sksoftmax {version}"
html_static_path = ["_static"] if (DOCS / "_static").is_dir() else []
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"**": ["sidebar-nav-bs"]}
html_show_sourcelink = False

# Matplotlib draws off screen while the gallery runs.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore", message="Matplotlib is currently using agg", category=UserWarning
)
