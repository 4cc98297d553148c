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

It also gives the Chinese site a search that works without a word list: Sphinx's Chinese search
splits words with jieba (not installed here, and then it indexes no Chinese at all) and, in Sphinx 9,
names a stemmer its script does not define (a JavaScript error on every page). SearchChinese below
indexes every pair of neighbouring Chinese characters (and English words, stemmed as Sphinx does);
the page splits a query the same way, so "激活函数" finds the pages holding 激活, 活函 and 函数.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

import sphinx.search
from sphinx.search.zh import SearchChinese as _SphinxChinese

SWITCH_FILE = "_fnn_language.json"
HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_STEMMERS = Path(sphinx.search.__file__).parent / "minified-js"

# the query splitter of the Chinese site's search page (language_data.js): the same pieces as split()
SPLIT_QUERY_JS = r"""
var splitQuery = (query) => {
  const terms = [];
  for (const piece of query.split(/[^\p{Letter}\p{Number}_]+/gu)) {
    for (const part of piece.split(/([\u4e00-\u9fff]+)/u)) {
      if (!part) continue;
      if (!/^[\u4e00-\u9fff]+$/u.test(part)) { terms.push(part); continue; }
      if (part.length === 1) terms.push(part);
      for (let i = 0; i + 1 < part.length; i++) terms.push(part.slice(i, i + 2));
    }
  }
  return terms;
};
"""


class SearchChinese(_SphinxChinese):
    """Chinese search by pairs of characters (see the module's docstring)."""

    js_splitter_code = SPLIT_QUERY_JS
    js_stemmer_rawcode = ""  # the English stemmer, under the name the search script uses
    js_stemmer_code = "\n".join([(_STEMMERS / "base-stemmer.js").read_text(encoding="utf-8"),
                                 (_STEMMERS / "english-stemmer.js").read_text(encoding="utf-8"),
                                 "window.Stemmer = EnglishStemmer;"])

    def split(self, input: str) -> list[str]:
        latin = [term.strip() for term in self.latin1_letters.findall(input)]
        self.latin_terms.update(latin)
        pairs = [run if len(run) == 1 else run[i:i + 2]
                 for run in HAN_RUN.findall(input) for i in range(max(1, len(run) - 1))]
        return pairs + latin


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
    app.add_search_language(SearchChinese)
    app.connect("builder-inited", builder_inited)
    app.connect("html-page-context", page_context)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
