"""Sphinx configuration of the HTML book (`make html`): the committed, executed chapter notebooks as they are.

MyST-NB reads chapters/*.ipynb through the docs/chapters link and never executes them (``nb_execution_mode =
"off"``); formulas are typeset by a MathJax 3 copy that sphinx-mathjax-offline puts in the site itself, so
neither the build nor a reader's browser reaches a CDN. The contents page (index.md) lists the chapters in the
outline's order, which is their file names' order: 01, 02, 03, 04_1, ..., 08, then the appendices A, B, C.
"""
from __future__ import annotations

project = "tsrec"
author = "tsrec authors"
copyright = "tsrec authors, MIT licence"
html_title = "利用LLM增强推荐系统的时间敏感性建模 · tsrec"
language = "en"

extensions = ["myst_nb", "sphinx-mathjax-offline"]
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "chapters/*.md"]
# only the chapter notebooks (same pattern as tsrec.book.chapters) and the contents page are part of the book
include_patterns = ["index.md", "chapters/[0-9A-Z]*.ipynb"]

# --- notebooks: rendered as committed -------------------------------------------------------------------------
nb_execution_mode = "off"
nb_merge_streams = True
nb_output_stderr = "show"
# the JSON of tsrec.book.show_records is for the tests; readers see its collapsed HTML table
nb_mime_priority_overrides = [("html", "application/vnd.tsrec.record+json", None)]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "html_image"]
myst_dmath_double_inline = True
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

# --- page ----------------------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["tsrec.css"]
html_last_updated_fmt = None
html_copy_source = True           # the download button offers each chapter's .ipynb
html_sourcelink_suffix = ""
html_show_sourcelink = False
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,      # the .ipynb of each page, from the site itself
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": True,
}
html_favicon = "_static/favicon.svg"   # without one, browsers ask for /favicon.ico and log a 404
html_context = {"default_mode": "light"}   # the theme logs an error when no mode is set


def _fold_solutions(app, docname: str, source: list[str]) -> None:
    """Fold each worked solution (a cell tagged ``solution``) behind a "show" toggle, so a reader tries first."""
    import json

    if not docname.startswith("chapters/"):
        return
    nb = json.loads(source[0])
    for cell in nb.get("cells", []):
        tags = cell.get("metadata", {}).get("tags", [])
        if "solution" in tags and "hide-input" not in tags:
            cell["metadata"]["tags"] = [*tags, "hide-input"]
    source[0] = json.dumps(nb, ensure_ascii=False)


def setup(app) -> None:
    app.connect("source-read", _fold_solutions)
