"""The language switch of the course website: on every page, a link to the same page in the other
language ("中文" on an English page, "English" on a Chinese one), or to the other language's landing
page where the page has no counterpart (the instructor guides are English only).

tools/site.py writes ``_fnn_language.json`` beside the staged sources of each language: where this
site is (``prefix``: "" for English, "zh/" for Chinese), where the other one is, the other's pages,
the link's label, and the English guides that the Chinese navigation links. This extension turns
it into ``fnn_switch`` (and ``fnn_guides``) in every page's template context;
_templates/fnn-language.html draws the link in the bar at the top of the article, and
_templates/sbt-sidebar-nav.html adds the guides to the Chinese navigation. A build without the
file (a scratch source in the tests) has no switch. Plain links: no script, nothing fetched.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path

SWITCH_FILE = "_fnn_language.json"


def _read(app) -> dict | None:
    path = Path(app.srcdir) / SWITCH_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    data["other_pages"] = set(data["other_pages"])
    return data


def _href(data: dict, pagename: str, target: str) -> str:
    """The relative URL from this site's page ``pagename`` to ``target``, a path from the root of
    the whole site (English at its root, Chinese under zh/)."""
    here = posixpath.dirname(f"/site/{data['prefix']}{pagename}")
    return posixpath.relpath(f"/site/{target}", here)


def page_context(app, pagename, templatename, context, doctree) -> None:
    data = getattr(app, "fnn_language", None)
    if data is None:
        return
    counterpart = pagename if pagename in data["other_pages"] else "index"
    context["fnn_switch"] = {
        "href": _href(data, pagename, f"{data['other_prefix']}{counterpart}.html"),
        "label": data["label"], "title": data["title"], "hreflang": data["hreflang"],
        "same_page": counterpart == pagename,
    }
    if data.get("guides"):
        context["fnn_guides"] = {
            "caption": data["guides_caption"],
            "links": [{"title": g["title"], "href": _href(data, pagename, g["page"])} for g in data["guides"]],
        }


def builder_inited(app) -> None:
    app.fnn_language = _read(app)


def setup(app):
    app.connect("builder-inited", builder_inited)
    app.connect("html-page-context", page_context)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
