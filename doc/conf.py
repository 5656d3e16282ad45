"""Sphinx configuration of the skproj documentation.

Build (from the repository root)::

    pip install ".[doc]" && sphinx-build -b html doc doc/_build/html

CI builds with ``-W`` (warnings are errors) and ``nitpicky = True``, so a broken reference or an
example that raises fails the build.

Intersphinx (links to numpy, scipy and scikit-learn) needs the projects' ``objects.inv``
inventories, which are downloaded at build time. The development and CI machines have no
network, and a failed download is a warning (an error under ``-W``). Intersphinx is therefore
enabled only when ``SKPROJ_DOC_INTERSPHINX=1`` is set (on a machine with network). Without it,
references to those projects are rendered as plain text, and ``nitpick_ignore_regex`` below
ignores exactly those unresolved references (numpy, scipy, sklearn, matplotlib and Python
builtins), nothing else.
"""

import os
import re
import sys
import warnings
from pathlib import Path

import skproj

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

project = "skproj"
author = "The skproj developers"
copyright = "2026, The skproj developers"
version = release = skproj.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

INTERSPHINX = os.environ.get("SKPROJ_DOC_INTERSPHINX", "0") == "1"
if INTERSPHINX:
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
default_role = "literal"  # `x` in a docstring is code, as in scikit-learn
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.json"]
templates_path = ["_templates"]

# -- references: every unresolved reference is a warning (an error under -W) -------------------
nitpicky = True
nitpick_ignore_regex = [
    # external projects when intersphinx is off (no network): numpy, scipy, scikit-learn, ...
    (r"py:.*", r"(numpy|np|scipy|sklearn|matplotlib|pandas|joblib)(\..*)?"),
    # Python builtins and the standard library (also external without intersphinx)
    (r"py:.*", r"(int|float|bool|str|tuple|list|dict|callable|None|object|type|slice|"
               r"Exception|ValueError|TypeError|RuntimeError|UserWarning|NamedTuple|"
               r"collections\..*|typing\..*|pathlib\..*|os\..*)"),
] if not INTERSPHINX else []
# private modules (skproj._gates, skproj._solvers._fista, ...) are not in the API reference: a docstring
# may name them, they render as plain code
nitpick_ignore_regex.append((r"py:.*", r"skproj\._\w+(\..*)?"))

# -- autodoc / autosummary / numpydoc ----------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False, "member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False  # the class template lists the members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# "See also" box at the top of each API page: related public names, with why. Kept here rather
# than in the docstrings while the estimator modules are being refactored; the class and
# function templates in _templates/autosummary render it. Keys and names are documented paths.
from see_also import SEE_ALSO  # noqa: E402

autosummary_context = {"see_also": SEE_ALSO}


def _skip_member(app, what, name, obj, skip, options):
    """Hide scikit-learn's generated metadata-routing setters (set_fit_request, ...)."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def _resolve_reexport(app, env, node, contnode):
    """Resolve ``skproj.name`` (a re-export) to the page where the name is documented.

    ``skproj.project_l1inf_ball`` is documented as ``skproj.projections.project_l1inf_ball``;
    docstrings may use either. Only an unambiguous match among documented skproj objects is
    accepted, so a reference to something undocumented still fails the build.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if not target.startswith("skproj."):
        return None
    name = target.rsplit(".", 1)[-1]
    domain = env.get_domain("py")
    matches = [full for full in domain.objects if full.startswith("skproj.") and full.rsplit(".", 1)[-1] == name
               and full != target]
    if len(matches) != 1:
        return None
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], matches[0], node, contnode)


_SHAPE = re.compile(r"shape \(([^()`]*)\)")
_TRAILING_UNDERSCORE = re.compile(r"\b([A-Za-z]\w*_)(?=[,\s)]|$)")


def _quote_shapes(app, what, name, obj, options, lines):
    """Quote fitted-attribute names in shapes: ``(n_features_in_,)`` -> ``(`n_features_in_`,)``.

    In reST a word ending in ``_`` is a hyperlink reference, so a shape written the plain
    numpydoc way fails the build ("Unknown target name"). scikit-learn writes the quotes in its
    docstrings; here the documentation adds them, so the docstrings can stay as they are.
    """
    def quote(match):
        return "shape (" + _TRAILING_UNDERSCORE.sub(r"`\1`", match.group(1)) + ")"

    lines[:] = [_SHAPE.sub(quote, line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _quote_shapes, priority=100)
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("missing-reference", _resolve_reexport)


# -- MyST (the user-guide pages are markdown, readable on GitHub too) ------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- sphinx-gallery ----------------------------------------------------------------------------
from sphinx_gallery.sorting import FunctionSortKey  # noqa: E402

from gallery_order import example_rank  # noqa: E402  (doc/gallery_order.py: the order of the gallery)

sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": str(HERE / "auto_examples"),
    "filename_pattern": r"/plot_",
    "doc_module": ("skproj",),
    "backreferences_dir": str(HERE / "gen_modules" / "backreferences"),
    "reference_url": {"skproj": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "within_subsection_order": FunctionSortKey(example_rank, "gallery_order.example_rank"),
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "min_reported_time": 1,
}
# plain text output of the examples stays readable at this width
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")

# -- HTML ----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skproj {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navbar_end": ["search-button", "navbar-icon-links"],
    "navbar_persistent": [],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # wide tables (user guide, performance) and wide outputs and figures (gallery): no right sidebar
    "secondary_sidebar_items": {"user_guide/*": [], "performance": [], "auto_examples/*": []},
}
html_show_sourcelink = False
html_context = {"default_mode": "light"}

# Math is rendered by MathJax in the reader's browser, loaded from a CDN by default (nothing is
# downloaded at build time). To read the site offline, point SKPROJ_DOC_MATHJAX at a local copy,
# e.g. Debian's libjs-mathjax (MathJax 2):
#   SKPROJ_DOC_MATHJAX="file:///usr/share/javascript/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML"
if os.environ.get("SKPROJ_DOC_MATHJAX"):
    mathjax_path = os.environ["SKPROJ_DOC_MATHJAX"]
    # MathJax 2 ignores the MathJax 3 settings: MyST marks its sections tex2jax_ignore and
    # relies on processing the elements of class "math" only
    mathjax2_config = {"tex2jax": {"processClass": "tex2jax_process|mathjax_process|math|output_area"}}
