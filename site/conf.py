"""Sphinx configuration of the course website (built by ``make site``, i.e. ``python tools/site.py``).

The sources are not this folder: tools/site.py stages them (the landing page with the course map,
the lectures, the assignments' student release, the glossary, the instructor guides) into a
scratch folder and runs ``sphinx-build -c site <staged> build/site``. This file and ``_static/``
are the only Sphinx sources kept here.

Everything the pages load is in the built folder: no CDN, no web font service, no widget manager.
Math is typeset by the MathJax 3.2.2 that fnngrade vendors for its feedback pages (SVG output:
no font files); the Chinese key terms use the reader's installed CJK fonts (_static/course.css).

The same configuration builds the Chinese site (tools/site.py sets ``language`` to zh_CN and the
title); fnn_language.py, here, adds the link to the same page in the other language.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # fnn_language

project = "Feedforward neural networks"
author = "fnn-course"
copyright = "fnn-course, MIT licence"
language = "en"

extensions = ["myst_nb", "fnn_language"]

# Notebooks are shown with their stored outputs: nothing is executed at build time.
nb_execution_mode = "off"
# Markdown outputs (text/markdown) are parsed like the notebooks' own Markdown cells, math included.
nb_render_markdown_format = "myst"
# Interactive explorers (ipywidgets) show their static fallback (a stored figure, HTML or text):
# the widget view and any JavaScript output are never chosen, and no widget manager is loaded
# (MyST-NB's default loads RequireJS and the ipywidgets HTML manager from CDNs).
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None),
    ("html", "application/javascript", None),
]
nb_ipywidgets_js = {}
nb_merge_streams = True

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "attrs_inline"]
myst_heading_anchors = 3
# "$$ ... $$" inside a paragraph (a list item's formula) is display math, as JupyterLab shows it
myst_dmath_double_inline = True
# MathJax also typesets the math of HTML outputs (a quiz's static fallback), not only MyST's math.
myst_mathjax_classes = "tex2jax_process|mathjax_process|math|output_area|text_html"

# MathJax 3.2.2 from fnngrade/static/mathjax, copied into _static/mathjax/ (html_static_path).
mathjax_path = "mathjax/tex-svg-full.js"
mathjax3_config = {
    "tex": {
        # MyST's own math arrives as \(...\) and \[...\]; "$" is for HTML outputs (a quiz's fallback).
        # Elsewhere MyST marks the page mathjax_ignore, so a "$" in code or text is left alone.
        "inlineMath": [["\\(", "\\)"], ["$", "$"]],
        "displayMath": [["\\[", "\\]"], ["$$", "$$"]],
        "processEscapes": True,
    },
    # one copy of each glyph's path per page, not one per formula
    "svg": {"fontCache": "global"},
}

templates_path = ["_templates"]
# _notebooks/ holds the untouched notebooks offered for download; they are not pages.
exclude_patterns = ["_notebooks/**", "**.ipynb_checkpoints"]
# The lectures put "### Learning objectives" and "### Key terms" under their "# Unit N" title on
# purpose; MyST's heading-level check is a style note, not a broken page.
suppress_warnings = ["myst.header"]

html_theme = "sphinx_book_theme"
html_title = "Feedforward neural networks"
html_static_path = ["_static", str(ROOT / "fnngrade" / "static")]
html_css_files = ["course.css"]
html_copy_source = False  # the download links offer the original notebooks, not Sphinx's copies
html_show_sourcelink = False
html_use_index = False  # no index entries in the course: no empty "Index" page
# Search results without summaries: a summary is fetched from the page, which browsers refuse for a
# site opened from disk (file://); this way search works the same from build/site/ and online.
html_show_search_summary = False
html_last_updated_fmt = None
html_permalinks_icon = "#"
html_context = {"default_mode": "light"}
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "navigation_with_keys": False,
    "show_navbar_depth": 1,
    "footer_content_items": ["copyright.html"],
    # the language switch (fnn_language.py, _templates/fnn-language.html) first in the article's top bar
    "article_header_end": ["fnn-language.html", "article-header-buttons.html"],
    "navbar_persistent": [],  # one search field (the sidebar's), not a second one in a header bar
}
