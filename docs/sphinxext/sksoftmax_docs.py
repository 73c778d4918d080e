"""Sphinx helpers of the sksoftmax documentation: gallery order, offline references.

A module rather than functions in conf.py, because Sphinx pickles its
configuration and can only pickle what it can import by name.
"""

import re

# The gallery, from the first steps to the special topics. An example not
# listed here goes last, in file-name order.
GALLERY_ORDER = [
    "plot_digits_cs231n_workflow.py",
    "plot_learning_rate_schedules.py",
    "plot_softmax_vs_one_vs_rest.py",
    "plot_out_of_core.py",
    "plot_sparse_text.py",
    "plot_cifar10.py",
]

# :ref:`text <label>`, :ref:`label`, :term:`text <term>` and :term:`term`.
SKLEARN_CROSS_REFERENCE = re.compile(r":(?:ref|term):`([^`<]+?)(?:\s*<[^`>]+>)?`")


class GalleryOrder:
    """``within_subsection_order`` key of sphinx-gallery: the order of GALLERY_ORDER."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in GALLERY_ORDER:
            return GALLERY_ORDER.index(filename), filename
        return len(GALLERY_ORDER), filename

    def __repr__(self):
        return "GalleryOrder"


def plain_sklearn_references(app, what, name, obj, options, lines):
    """Keep the text of scikit-learn's own cross-references, drop the link.

    Methods inherited from scikit-learn (``score``, ``get_metadata_routing``)
    cite scikit-learn's pages with ``:ref:`` and ``:term:``. Without
    intersphinx those cannot resolve; references in sksoftmax's own
    docstrings are left alone, so that they stay checked.
    """
    module = getattr(obj, "__module__", None) or ""
    if "sphinx.ext.intersphinx" in app.extensions or module.startswith("sksoftmax"):
        return
    lines[:] = [SKLEARN_CROSS_REFERENCE.sub(r"*\1*", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", plain_sklearn_references)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
