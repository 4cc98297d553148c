"""The course website (`make site`, tools/site.py): built, complete, linked, leak-free, and right in a browser,
in English and in Chinese (zh/), with a language switch on every page.

The site is built once per test session into a scratch folder, exactly as `make site` builds it
(Sphinx with warnings as errors). Set FNN_SITE_DIR to check an already built site instead (the
GitHub Pages workflow checks what it is about to publish). The Chinese pages come from zh/; set
FNN_SITE_ZH to another folder to test a draft of the Chinese edition
(python tools/i18n.py generate --partial --out DIR).

Without a browser:
- every lecture, every assignment of the release, the glossary and the guides have a page, and
  nothing else is a page; every notebook page links its notebook, byte for byte the committed one,
  and says how to open it in JupyterLab (make lab, START.md);
- every relative link and resource of every page resolves to a file, and every #anchor to an id;
  no page or stylesheet loads anything from another host;
- no line of a model answer, a hidden test or a rubric of solutions/ is on the site (pages, search
  index, any notebook that is not a byte-for-byte copy of a committed one) unless a committed student-facing file shows the same line (a
  lecture's `for l in range(1, L + 1):` is not a secret); a planted line is found;
- a warning fails the build (a broken cross-reference in a scratch source);
- the Chinese site has a page for every lecture and assignment, its course map shows the Chinese
  lectures' titles and opening paragraphs, no text the builder writes is left in English on it, and
  every page's language switch leads to the same page in the other language (or, for a page with
  no counterpart, to the other language's landing page) and back.

In Debian's chromium (Playwright for Python, never `playwright install`), every page opened from
file:// with every request to another host aborted and recorded: every image loaded, MathJax typeset
every formula (no raw `$…$`, no TeX commands such as `\\frac` left in the visible text, no TeX error),
no JavaScript error or failed file, the Chinese key terms drawn with a Chinese font (Chromium's
own report of the platform font per glyph), the landing page links every lecture and assignment,
and no page is wider than a phone's screen; on a Chinese lecture the math is typeset, the text is
Chinese, the assignment labels are Chinese, and clicking the switch opens the English lecture.
Screenshots of the landing page and of a lecture, at desktop and phone width, in both languages, and
of the English lecture the switch opened, go to build/screenshots/site/ (printed at the end) for a
person to look at.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from tests.pipeline import course as C
from tests.pipeline.test_leaks import assignment_secrets

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots" / "site"
TIMES: dict[str, float] = {}  # seconds per phase, printed with the screenshots
SNAPSHOT: dict[str, bytes] = {}  # repository file -> its content when the site was built

_spec = importlib.util.spec_from_file_location("fnn_site_builder", ROOT / "tools" / "site.py")
site_builder = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = site_builder  # dataclasses look their module up
_spec.loader.exec_module(site_builder)

ZH_DIR = Path(os.environ.get("FNN_SITE_ZH") or site_builder.DEFAULT_ZH).resolve()  # the Chinese edition
EXPECTED = site_builder.expected_pages(ZH_DIR)  # {page: repository file it comes from}
PAGES = sorted(EXPECTED)
ZH = "zh/"
ZH_PAGES = [p for p in PAGES if p.startswith(ZH)]
EN_PAGES = [p for p in PAGES if not p.startswith(ZH)]
NOTEBOOK_PAGES = {p: src for p, src in EXPECTED.items() if src and src.endswith(".ipynb")}
LANDING = "index.html"
ZH_LANDING = ZH + LANDING
SEARCH = "search.html?q=backpropagation"
SHOT_NAMES = {LANDING: "landing", ZH_LANDING: "zh-landing"}
SHOT_LECTURE = next((p for p in EN_PAGES if p.startswith("lectures/")), None)
ZH_LECTURE = ZH + SHOT_LECTURE if SHOT_LECTURE else None
if SHOT_LECTURE:
    SHOT_NAMES[SHOT_LECTURE] = "lecture"
    SHOT_NAMES[ZH_LECTURE] = "zh-lecture"


def _have_sphinx() -> str | None:
    missing = [m for m in ("sphinx", "myst_nb", "sphinx_book_theme") if importlib.util.find_spec(m) is None]
    return ", ".join(missing) or None


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The built site: FNN_SITE_DIR if set, else a fresh build like `make site`'s."""
    given = os.environ.get("FNN_SITE_DIR")
    if given:
        path = Path(given).resolve()
        assert (path / "index.html").is_file(), f"FNN_SITE_DIR={given} holds no built site (no index.html)"
        return path
    missing = _have_sphinx()
    if missing:
        pytest.skip(f"{missing} not installed: pip install -e '.[site]' (make test and make site install it)")
    start = time.monotonic()
    # the notebooks as the build reads them (others may edit a lecture while the tests run)
    SNAPSHOT.update({src: (ROOT / src).read_bytes() for src in NOTEBOOK_PAGES.values()})
    try:
        result = site_builder.build(tmp_path_factory.mktemp("website") / "site", zh=ZH_DIR)
    except site_builder.SiteError as e:
        pytest.fail(str(e), pytrace=False)
    TIMES["sphinx build"] = round(time.monotonic() - start, 1)
    return result["out"]


# --------------------------------------------------------------------------- reading built pages


_TAG = re.compile(r"<(a|script|img|link|iframe|source|video|audio|embed|object)\b([^>]*)>", re.I)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ID = re.compile(r"""\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
LOADS = {"script": "src", "img": "src", "link": "href", "iframe": "src", "source": "src", "video": "src",
         "audio": "src", "embed": "src", "object": "data"}


class _Refs:
    """Every URL a page links or loads, and every id/name it defines (Sphinx writes well-formed,
    quoted attributes; regular expressions read 100,000-tag pages in a fraction of html.parser's time)."""

    def __init__(self, page: str):
        page = re.sub(r"<(script|style)\b([^>]*)>.*?</\1\s*>", r"<\1\2>", page, flags=re.S | re.I)
        self.links: list[str] = []   # <a href>, <link rel="next"> ...
        self.loads: list[tuple[str, str]] = []  # (tag, url) of what the page loads
        self.ids = {html.unescape(m.group(1) or m.group(2) or "") for m in _ID.finditer(page)} - {""}
        for m in _TAG.finditer(page):
            tag = m.group(1).lower()
            a = {k.lower(): html.unescape(v1 if v1 is not None else v2) for k, v1, v2 in _ATTR.findall(m.group(2))}
            if tag == "a" and "href" in a:
                self.links.append(a["href"])
            url = a.get(LOADS.get(tag, ""))
            if url:
                if tag == "link" and not set(a.get("rel", "").split()) & {"stylesheet", "icon", "preload",
                                                                         "shortcut", "manifest"}:
                    self.links.append(url)  # <link rel="next"> etc.: a link, not a load
                else:
                    self.loads.append((tag, url))


_REFS_CACHE: dict[Path, _Refs] = {}


def refs(path: Path) -> _Refs:
    if path not in _REFS_CACHE:
        _REFS_CACHE[path] = _Refs(path.read_text(encoding="utf-8"))
    return _REFS_CACHE[path]


def built_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)


def is_remote(url: str) -> bool:
    return bool(urlsplit(url).scheme in ("http", "https", "ftp", "ws", "wss") or url.startswith("//"))


def resolve(page: Path, url: str) -> tuple[Path | None, str]:
    """(the file a relative URL of ``page`` points to, its #fragment); (None, '') for other URLs."""
    parts = urlsplit(url)
    if parts.scheme or url.startswith("//"):
        return None, ""
    target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


# --------------------------------------------------------------------------- the build


def test_every_lecture_assignment_and_guide_has_a_page_and_nothing_else_does(site):
    built = {p.relative_to(site).as_posix() for p in built_pages(site)}
    assert not set(PAGES) - built, f"pages missing from the site: {sorted(set(PAGES) - built)}"
    assert not built - set(PAGES), (f"pages that no lecture, assignment or guide accounts for: "
                                    f"{sorted(built - set(PAGES))} (tools/site.py expected_pages)")
    assert not list(site.rglob("*solution*")), "a file named after solutions is on the site"


@pytest.mark.parametrize("page", sorted(NOTEBOOK_PAGES))
def test_a_notebook_page_links_its_committed_notebook_and_says_how_to_run_it(site, page):
    path = site / page
    downloads = [u for u in refs(path).links if u.endswith(".ipynb")]
    source = ROOT / NOTEBOOK_PAGES[page]
    assert downloads, f"{page} links no notebook to download (the box at the top, tools/site.py source_box)"
    files = [resolve(path, u)[0] for u in downloads]
    wanted = {source.read_bytes(), SNAPSHOT.get(NOTEBOOK_PAGES[page], b"")}
    assert any(f is not None and f.is_file() and f.read_bytes() in wanted for f in files), (
        f"{page}: no download link gives {NOTEBOOK_PAGES[page]} unchanged: {downloads}")
    text = C.html_text(path.read_text(encoding="utf-8"))
    for needed in ("make lab", "START.md", "JupyterLab"):
        assert needed in text, f"{page} does not say how to open it in JupyterLab ({needed!r} missing)"


def broken_links(site: Path) -> list[str]:
    """Every relative link or resource of a page under ``site`` that names no file, or no id."""
    problems = []
    for page in built_pages(site):
        r = refs(page)
        name = page.relative_to(site).as_posix()
        for url in r.links + [u for _, u in r.loads]:
            target, fragment = resolve(page, url)
            if target is None:
                continue
            if not target.is_file():
                problems.append(f"{name}: {url!r} -> no file {target}")
            elif fragment and target.suffix == ".html" and fragment not in refs(target).ids:
                problems.append(f"{name}: {url!r} -> no id {fragment!r} in {target.relative_to(site)}")
    return problems


CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*['\"]([^'\"]+)['\"]")


def remote_loads(site: Path) -> list[str]:
    """Everything a page or one of its stylesheets loads from another host, or misses."""
    problems, sheets = [], set()
    for page in built_pages(site):
        for tag, url in refs(page).loads:
            if is_remote(url):
                problems.append(f"{page.relative_to(site)}: <{tag}> loads {url}")
            elif tag == "link" and url.split("?")[0].endswith(".css"):
                sheets.add(resolve(page, url)[0])
    for sheet in sorted(s for s in sheets if s and s.is_file()):
        css = sheet.read_text(encoding="utf-8", errors="replace")
        for url in CSS_URL.findall(css) + CSS_IMPORT.findall(css):
            if url.startswith("data:"):
                continue
            if is_remote(url):
                problems.append(f"{sheet.relative_to(site)}: url({url})")
            elif not (sheet.parent / url.split("?")[0].split("#")[0]).exists():
                problems.append(f"{sheet.relative_to(site)}: url({url}) is missing")
    return problems


def test_every_relative_link_and_resource_resolves(site):
    problems = broken_links(site)
    assert not problems, f"{len(problems)} broken links:\n  " + "\n  ".join(problems[:40])


def test_nothing_is_loaded_from_another_host(site):
    """Scripts, styles, images and fonts are all in the built folder (the site works offline)."""
    problems = remote_loads(site)
    assert not problems, "the site needs the network or misses files:\n  " + "\n  ".join(problems[:40])


def test_the_link_checks_can_fail(tmp_path):
    """A page with a missing file, a missing anchor, a remote script and a stylesheet with a remote font."""
    (tmp_path / "b.html").write_text('<p id="here">b</p>', encoding="utf-8")
    (tmp_path / "s.css").write_text("@font-face { src: url(https://fonts.example.invalid/f.woff2); }")
    (tmp_path / "a.html").write_text(
        '<a href="b.html#here">ok</a> <a href="b.html#gone">x</a> <a href="missing.html">y</a> '
        '<img src="_images/none.png"> <a href="https://example.org/">a link away is fine</a> '
        '<script src="https://cdn.example.invalid/x.js"></script> <link rel="stylesheet" href="s.css">',
        encoding="utf-8")
    broken, remote = "\n".join(broken_links(tmp_path)), "\n".join(remote_loads(tmp_path))
    for expected in ("no id 'gone'", "'missing.html' -> no file", "'_images/none.png' -> no file"):
        assert expected in broken, f"{expected!r} not reported:\n{broken}"
    assert "b.html#here" not in broken and "example.org" not in broken + remote
    for expected in ("<script> loads https://cdn.example.invalid/x.js", "url(https://fonts.example.invalid/f.woff2)"):
        assert expected in remote, f"{expected!r} not reported:\n{remote}"


def test_a_warning_fails_the_build(tmp_path):
    """`-W` is in force: a cross-reference to a page that does not exist stops the build, and the
    error names it."""
    if _have_sphinx():
        pytest.skip(f"{_have_sphinx()} not installed: pip install -e '.[site]'")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.md").write_text("# A page\n\nSee {doc}`a-page-that-does-not-exist`.\n",
                                               encoding="utf-8")
    with pytest.raises(site_builder.SiteError, match="a-page-that-does-not-exist"):
        site_builder.sphinx_build(tmp_path / "src", tmp_path / "out")


# --------------------------------------------------------------------------- the Chinese site and the switch


def test_the_chinese_site_has_every_lecture_and_assignment(site):
    english = [p for p in NOTEBOOK_PAGES if not p.startswith(ZH)]
    missing = [ZH + p for p in english if not (site / ZH / p).is_file()]
    assert english and not missing, f"Chinese pages missing (tools/site.py, zh/): {missing}"
    for p in english:
        lang = re.search(r'<html[^>]*\slang="([^"]+)"', (site / ZH / p).read_text(encoding="utf-8"))
        assert lang and lang.group(1).startswith("zh"), f"{ZH + p} is not marked as Chinese: {lang and lang.group(0)}"


def _fragments(template: str) -> list[str]:
    """The literal pieces of one of the builder's English texts, as a page shows them (placeholders
    and Markdown markup removed), of several words, long enough not to occur by chance in a Chinese page."""
    plain = re.sub(r"\{[^{}]*\}|\*\*|`|\*|\[|\]\(|\)", "\0", template)
    pieces = [f.strip(" :;,.()") for f in plain.split("\0")]
    return [f for f in pieces if len(f) >= 9 and " " in f]


ENGLISH_TEXTS = {key: site_builder.TEXT["en"][key] for key in site_builder.TEXT["en"]
                 # the site's title is checked in <title>: the English one is also the (translated) landing's
                 if key not in ("language", "html_lang", "switch", "switch_title", "switch_lang", "separator", "title")}
# less what the Chinese texts keep in English on purpose (JupyterLab's menu "Run → Run All Cells")
# (the navigation's captions, single words that code may use too, are checked in the navigation)
ENGLISH_FRAGMENTS = sorted({f for k, t in ENGLISH_TEXTS.items() if not k.startswith("caption_") for f in _fragments(t)
                            if not any(f in z for z in site_builder.TEXT["zh"].values())})
NAV_CAPTION = re.compile(r'<span class="caption-text">([^<]*)</span>')


def untranslated(page_html: str) -> list[str]:
    """The builder's English texts (the box, the widget note, the course map's labels, the
    navigation's captions, the link notes) that a page shows."""
    text = " ".join(_html_text(page_html).split())
    found = [f for f in ENGLISH_FRAGMENTS if f in text]
    captions = {k: v for k, v in ENGLISH_TEXTS.items() if k.startswith("caption_")}
    found += [f"navigation caption {c!r}" for c in NAV_CAPTION.findall(page_html) if c in captions.values()]
    found += [f"course map label {m.group(0)!r}" for m in re.finditer(r"\b(?:Unit \d+ ·|Read lecture \d+|Do assignment \d+)",
                                                                       text)]
    return found


@pytest.mark.parametrize("page", ZH_PAGES)
def test_no_text_of_the_builder_is_left_in_english_on_a_chinese_page(site, page):
    path = site / page
    if not path.is_file():
        pytest.fail(f"{page} was not built")
    page_html = path.read_text(encoding="utf-8")
    left = untranslated(page_html)
    title = re.search(r"<title>([^<]*)</title>", page_html)
    if not (title and html.unescape(title.group(1)).endswith(site_builder.TEXT["zh"]["title"])):
        left.append(f"the page's title {title and title.group(1)!r} does not end in the Chinese site's title")
    assert not left, f"{page} shows the builder's English (tools/site.py TEXT['zh']): {left}"
    if page.removeprefix(ZH) in NOTEBOOK_PAGES:
        assert site_builder.TEXT["zh"]["box_title"] in _html_text(path.read_text(encoding="utf-8")), (
            f"{page} has no Chinese box at the top")


def test_the_untranslated_check_can_fail(site):
    """The English landing page and a lecture, read as if they were Chinese pages: their box, course
    map and captions are reported."""
    landing = untranslated((site / LANDING).read_text(encoding="utf-8"))
    assert any("Unit 1 ·" in f for f in landing) and any("navigation caption" in f for f in landing), landing
    if SHOT_LECTURE:
        lecture = untranslated((site / SHOT_LECTURE).read_text(encoding="utf-8"))
        assert "Open it in JupyterLab" in lecture and "This page is the notebook" in lecture, lecture


def _summary_han(markdown: str) -> str:
    """The first run of six Chinese characters of a lecture's opening paragraph (what the course map
    must quote), or '' when the opening paragraph is not Chinese."""
    body = [p for p in re.split(r"\n\s*\n", re.sub(r"<!--.*?-->", "", markdown, flags=re.S))
            if p.strip() and not p.lstrip().startswith("#")]
    m = re.search(r"[\u4e00-\u9fff]{6,}", body[0]) if body else None
    return m.group(0)[:6] if m else ""


def test_the_chinese_course_map_uses_the_chinese_lectures(site):
    """Each unit's entry on the Chinese landing page has the Chinese lecture's title (without
    "第 N 单元") and quotes its opening paragraph; its labels are Chinese."""
    text = " ".join(_html_text((site / ZH_LANDING).read_text(encoding="utf-8")).split())
    problems = []
    for page, src in NOTEBOOK_PAGES.items():
        if not (page.startswith(ZH + "lectures/")):
            continue
        first = next(c for c in C.read(ROOT / src).cells if c.cell_type == "markdown").source
        title = re.search(r"^#\s+(.+)$", first, re.M).group(1).strip()
        n = int(Path(page).name[:2])
        short = re.sub(r"^(?:第\s*\d+\s*单元|Unit\s+\d+)\s*[—–:：·-]?\s*", "", title)
        if f"第 {n} 单元 · {short}" not in text:
            problems.append(f"unit {n}: no heading '第 {n} 单元 · {short}'")
        if f"第 {n} 讲" not in text:
            problems.append(f"unit {n}: no link labelled '第 {n} 讲'")
        han = _summary_han(first)
        if han and han not in text:
            problems.append(f"unit {n}: the lecture's opening paragraph ({han}...) is not quoted")
    assert not problems, f"{ZH_LANDING}:\n  " + "\n  ".join(problems)


SWITCH = re.compile(r'<a class="btn btn-sm fnn-language" href="([^"]+)"[^>]*>([^<]+)</a>')


def switch_of(site: Path, page: str) -> tuple[str, str]:
    """(the page, relative to the site, that ``page``'s language switch links, the switch's label)."""
    found = SWITCH.findall((site / page).read_text(encoding="utf-8"))
    assert len(found) == 1, f"{page} has {len(found)} language switches (site/_templates/fnn-language.html)"
    href, label = found[0]
    target, _ = resolve(site / page, href)
    assert target is not None and target.is_file(), f"{page}: the switch links {href!r}, which is no file"
    return target.relative_to(site.resolve()).as_posix(), label


@pytest.mark.parametrize("page", PAGES)
def test_the_language_switch_leads_to_the_same_page_and_back(site, page):
    if not (site / page).is_file():
        pytest.fail(f"{page} was not built")
    chinese = page.startswith(ZH)
    counterpart = page.removeprefix(ZH) if chinese else ZH + page
    target, label = switch_of(site, page)
    assert label == ("English" if chinese else "中文"), f"{page}: the switch says {label!r}"
    if counterpart in EXPECTED:
        assert target == counterpart, f"{page}: the switch links {target}, not {counterpart}"
        back, _ = switch_of(site, target)
        assert back == page, f"{page} -> {target}, whose switch links {back}, not back to {page}"
    else:  # no counterpart (an instructor guide): the other language's landing page
        assert target == (LANDING if chinese else ZH_LANDING), f"{page}: the switch links {target}"


# --------------------------------------------------------------------------- leaks

TEXT_SUFFIXES = {".html", ".ipynb", ".js", ".json", ".txt", ".md", ".css"}


PUBLIC_FILES = ("lectures/*.ipynb", "exercises/*/*.ipynb", "GLOSSARY.md", "docs/*.md")


_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_BLOCK_TAG = re.compile(r"</?(?:br|p|div|li|tr|pre|h[1-6])\b[^>]*>", re.I)
_ANY_TAG = re.compile(r"<!--.*?-->|<[^>]+>", re.S)


def _html_text(page: str) -> str:
    """C.html_text's reading of a page (what a browser shows: no scripts or styles, a line break at
    each block), with regular expressions: ten times faster on pages of 100,000 highlighted tokens."""
    return html.unescape(_ANY_TAG.sub("", _BLOCK_TAG.sub("\n", _SCRIPT_STYLE.sub("", page))))


def _text(path: Path) -> str:
    """What a file shows as text, as C.file_text reads it, except that a notebook's images (base64)
    are left out."""
    if path.suffix in (".html", ".htm"):
        return _html_text(path.read_text(encoding="utf-8", errors="replace"))
    if path.suffix != ".ipynb":
        return C.file_text(path)
    parts = []
    for cell in C.read(path).cells:
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            parts += [out.get("text", ""), out.get("evalue", ""), *out.get("traceback", [])]
            parts += [v for k, v in out.get("data", {}).items() if isinstance(v, str) and k.startswith("text/")]
    return "\n".join(parts)


def _public() -> tuple[set[str], str, set[bytes]]:
    """(normalised lines, joined normalised text, contents) of every committed file students receive
    anyway: the lectures, the release, the glossary and the guides. A secret line that one of them
    shows (by C.find_leaks's rule) is not news on the site, and a site file identical to one of
    them holds nothing new."""
    files = sorted({f for pattern in PUBLIC_FILES for f in ROOT.glob(pattern) if f.is_file()})
    texts = [_text(f) for f in files]
    lines = {C.normalise(ln) for t in texts for ln in t.splitlines()}
    return (lines, " " + " ".join(C.normalise(" ".join(t.split())) for t in texts) + " ",
            {f.read_bytes() for f in files})


def _site_texts(site: Path, public_contents: set[bytes]) -> dict[str, tuple[set[str], str, list[str]]]:
    """{file: (its normalised lines, its joined normalised text, its Markdown lines)} for every text
    file of the site outside the theme's assets and not identical to a committed public file (the
    downloads are: test_a_notebook_page_links_... checks it); notebooks by their cells and text
    outputs, HTML by what a browser shows."""
    out = {}
    for path in sorted(site.rglob("*")):
        rel = path.relative_to(site)
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES or rel.parts[0] == "_static":
            continue
        if path.suffix == ".ipynb" and path.read_bytes() in public_contents:
            continue
        text = _text(path)
        markdown = []
        if path.suffix == ".ipynb":
            markdown = [ln for cell in C.read(path).cells if cell.cell_type == "markdown"
                        for ln in cell.source.splitlines()]
        out[rel.as_posix()] = ({C.normalise(ln) for ln in text.splitlines()},
                               " " + C.normalise(" ".join(text.split())) + " ", markdown)
    return out


def _leaks(texts, secret: dict[str, tuple[str, str]], unmarked: dict[str, str]) -> list[str]:
    """C.find_leaks's rule (a secret as a line, or a long one inside the joined text; a rubric
    heading left outside its region), on pre-normalised texts."""
    found = []
    for name, (lines, joined, markdown) in texts.items():
        for line, (kind, origin) in secret.items():
            if line in lines or (len(line) >= C.MIN_SUBSTRING and line in joined):
                found.append(f"{name}: {kind} line of {origin}")
        for line, origin in unmarked.items():
            if line in lines:
                found.append(f"{name}: a rubric heading outside a mark-scheme region: {origin}")
        found += [f"{name}: a rubric heading {ln.strip()!r}" for ln in markdown if C.RUBRIC_HEADING_RE.match(ln)]
    return found


@pytest.fixture(scope="module")
def leak_inputs(site):
    if not C.SOLUTIONS.is_dir():
        pytest.skip("no solutions/ folder: nothing to compare the site with")
    lines, joined, contents = _public()

    def public(line: str) -> bool:
        return line in lines or (len(line) >= C.MIN_SUBSTRING and line in joined)

    secrets = {}
    for a in C.assignments():
        s = assignment_secrets(a)
        secrets[a] = ({k: v for k, v in s.kinds("rubric", "answer", "hidden").items() if not public(k)},
                      {k: v for k, v in s.unmarked_rubrics.items() if k not in lines}, s)
    return _site_texts(site, contents), secrets


def test_no_model_answer_hidden_test_or_rubric_reaches_the_site(leak_inputs):
    texts, secrets = leak_inputs
    problems = [f"{a}: {p}" for a, (secret, unmarked, _) in secrets.items() for p in _leaks(texts, secret, unmarked)]
    assert not problems, (f"the website shows what only graders may see ({len(problems)}):\n  "
                          + "\n  ".join(problems[:40]))


def _normalised(text: str) -> tuple[set[str], str, list[str]]:
    return {C.normalise(ln) for ln in text.splitlines()}, " " + C.normalise(" ".join(text.split())) + " ", []


def test_the_fast_html_reading_agrees_with_the_release_checks(site):
    """_html_text reads a page as C.html_text (the release and feedback checks' reader) does."""
    page = (site / (SHOT_LECTURE or LANDING)).read_text(encoding="utf-8")
    def lines(text):
        return {C.normalise(ln) for ln in text.splitlines()} - {""}
    assert lines(_html_text(page)) == lines(C.html_text(page))


def test_a_secret_planted_in_a_page_or_a_download_is_found(leak_inputs, tmp_path):
    """The check above can fail: the longest line of each kind, added to an assignment's page (as
    an HTML paragraph, read back as a browser shows it) and to its notebook (as a cell)."""
    texts, secrets = leak_inputs
    planted = 0
    for a, (secret, unmarked, s) in secrets.items():
        page = next((p for p, src in NOTEBOOK_PAGES.items() if src.startswith(f"exercises/{a}/")), None)
        if page is None or page not in texts:
            continue
        page_lines, page_joined, _ = texts[page]
        for kind in ("rubric", "answer", "hidden"):
            candidates = {k: v for k, v in secret.items() if v[0] == kind}
            if not candidates:
                continue
            line, (_, origin) = max(candidates.items(), key=lambda kv: len(kv[0]))
            raw = s.raw[line]
            (tmp_path / "planted.html").write_text(f"<article><p>{html.escape(raw)}</p></article>", encoding="utf-8")
            lines, joined, _ = _normalised(_text(tmp_path / "planted.html"))
            nb = C.read(ROOT / NOTEBOOK_PAGES[page])
            nb.cells.append(nbformat.v4.new_code_cell(raw) if kind != "rubric" else nbformat.v4.new_markdown_cell(raw))
            nbformat.write(nb, str(tmp_path / "download.ipynb"))
            for where, text in ((page, (page_lines | lines, page_joined + joined, [])),
                                ("its notebook", _normalised(_text(tmp_path / "download.ipynb")))):
                assert any(origin in p for p in _leaks({where: text}, secret, unmarked)), (
                    f"a {kind} line planted in {where} ({a}) was not found: {origin}")
            planted += 1
    assert planted >= 3, "solutions/ has too few secrets to plant (fewer than three)"


# --------------------------------------------------------------------------- in a browser

# What each page reports once MathJax is done: figures, math, visible text outside code, links.
INSPECT = r"""async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const skip = 'pre, code, script, style, textarea, mjx-container, svg, .highlight, kbd';
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const text = [];
  let cjk = null;
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest(skip) || !el.getClientRects().length) continue;
    text.push(node.nodeValue);
    if (!cjk && /[\u4e00-\u9fff]/.test(node.nodeValue)) { cjk = el; }
  }
  if (cjk) { cjk.setAttribute('data-fnn-cjk', '1'); }
  const math = [...document.querySelectorAll('span.math, div.math')];
  return {
    text: text.join('\n'),
    cjkText: cjk ? cjk.textContent : null,
    images: [...document.images].map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0,
                                             natural: i.naturalWidth, shown: i.width})),
    math: math.length,
    untypeset: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    texErrors: [...document.querySelectorAll('[data-mml-node="merror"]')].map(e => e.textContent.slice(0, 80)),
    links: [...document.querySelectorAll('article a[href]')].map(a => a.href),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  };
}"""

RAW_DOLLAR = re.compile(r"\$[^$\n]{1,200}\$")
RAW_TEX = re.compile(r"\\(?:[A-Za-z]{2,}|[()\[\]])")
HAN = re.compile(r"[\u4e00-\u9fff]")
HAN_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


def _zh_families() -> set[str]:
    """Font families that fontconfig says cover Chinese (what chromium can draw 中文 with)."""
    if not shutil.which("fc-list"):
        return set()
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    return {name.strip() for line in out.splitlines() for name in line.split(",") if name.strip()}


@pytest.fixture(scope="module")
def browser(chromium):
    """The module's chromium (tests/conftest.py)."""
    return chromium


class Visit:
    """One page opened in its own tab: what it logged, requested, failed, and INSPECT's report."""

    def __init__(self, context, url: str, tab=None):
        """Open ``url`` in a new tab of ``context`` (closed by :meth:`finish`), or in ``tab``, a tab
        of that context kept for one page after another (:meth:`finish` leaves the page instead)."""
        self.url, self.errors, self.blocked, self.failed = url, [], [], []
        self.keep = tab is not None
        self.page = tab if tab is not None else context.new_page()
        self.page.set_default_timeout(60_000)
        self.page._fnn_visit = self  # the tab's listeners (added at its first visit) report here
        if not getattr(self.page, "_fnn_listening", False):
            self.page._fnn_listening = True
            page = self.page
            page.on("console", lambda m: page._fnn_visit.errors.append(f"console.{m.type}: {m.text}")
                    if m.type == "error" else None)
            page.on("pageerror", lambda e: page._fnn_visit.errors.append(f"uncaught: {e}"))
            page.on("requestfailed", lambda r: page._fnn_visit.failed.append(f"{r.url} ({r.failure})")
                    if r.url.startswith("file:") else None)  # other hosts: aborted on purpose, reported as such
        self.page.goto(url, wait_until="commit")

    def finish(self, zh: set[str], shot: str | None = None) -> dict:
        self.page.wait_for_load_state("load")
        report = self.page.evaluate(INSPECT)
        if shot:
            _shoot(self.page, shot)
        if "search.html?" in self.url:  # Sphinx fills the result list after the index has loaded
            self.page.wait_for_function("() => { const s = document.querySelector('#search-results p.search-summary');"
                                        " return s && s.innerText.trim().length > 0; }")
            report["results"] = self.page.evaluate(
                "() => [...document.querySelectorAll('#search-results li a')].map(a => a.href)")
        report["fonts"] = self._fonts() if report["cjkText"] else None
        report.update(errors=self.errors, blocked=self.blocked, failed=self.failed)
        if self.keep:
            self.page.goto("about:blank")  # the page is left (and unloaded) before the tab's next visit
        else:
            self.page.close()
        return report

    def _fonts(self) -> list[dict]:
        """Chromium's own account of the fonts that drew the first Chinese text (DevTools CSS domain)."""
        cdp = self.page.context.new_cdp_session(self.page)
        try:
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            doc = cdp.send("DOM.getDocument", {"depth": 0})  # the root only: querySelector finds the rest
            node = cdp.send("DOM.querySelector", {"nodeId": doc["root"]["nodeId"], "selector": "[data-fnn-cjk]"})
            return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
        finally:
            cdp.detach()


OTHER_HOSTS = re.compile(r"^(?!(?:file|data|blob|about):)")


def _guarded_context(browser, blocked: dict[str, list[str]], **options):
    """A browser context in which every request to another host is aborted and recorded
    ({page URL: [requested URLs]}); files, data: and blob: URLs load as usual."""
    context = browser.new_context(**options)

    def guard(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            blocked.setdefault(route.request.frame.url if route.request.frame else "?", []).append(url)
            route.abort()

    # only requests to other hosts are intercepted (the pattern goes to the browser): files load
    # without a round trip through this process, which cost more than the pages themselves
    context.route(OTHER_HOSTS, guard)
    return context


@pytest.fixture(scope="module")
def visits(site, browser):
    """Every page opened once, every request to another host aborted. Three tabs, each used for one
    page after another (a new tab is a new renderer process: about 20 CPU-seconds more over the walk,
    measured with a per-process CPU sampler); each visit ends by leaving its page, so the next report
    holds only what the next page logged (test_the_browser_checks_can_fail checks both ways)."""
    start = time.monotonic()
    blocked: dict[str, list[str]] = {}
    context = _guarded_context(browser, blocked, viewport={"width": 1280, "height": 900})
    zh = _zh_families()
    reports, pending = {}, list(PAGES) + [SEARCH]
    tabs = [context.new_page() for _ in range(3)]
    while pending:
        batch, pending = pending[:3], pending[3:]
        batch = [p for p in batch if (site / p.split("?")[0]).is_file()]
        opened = [(p, Visit(context, (site / p.split("?")[0]).as_uri() + p[len(p.split("?")[0]):], tab))
                  for p, tab in zip(batch, tabs)]
        for p, v in opened:
            reports[p] = v.finish(zh, SHOT_NAMES.get(p) and f"{SHOT_NAMES[p]}-desktop")
            reports[p]["blocked"] = blocked.pop(v.url, [])
    context.close()
    reports["<other>"] = {"blocked": [u for us in blocked.values() for u in us]}
    TIMES["every page in chromium"] = round(time.monotonic() - start, 1)
    return reports


def _problems(r: dict) -> list[str]:
    """What is wrong with a page, from its report."""
    problems = [f"request to another host (aborted): {u}" for u in r["blocked"]]
    problems += [f"failed to load: {u}" for u in r["failed"]]
    problems += r["errors"]
    problems += [f"image not loaded: {i['src']}" for i in r["images"] if not i["ok"]]
    problems += [f"formula not typeset by MathJax: {t!r}" for t in r["untypeset"][:5]]
    problems += [f"TeX error in a formula: {t!r}" for t in r["texErrors"][:5]]
    problems += [f"raw math in the visible text: {m!r}" for m in RAW_DOLLAR.findall(r["text"])[:5]]
    problems += [f"raw TeX in the visible text: {r['text'][max(0, m.start() - 30):m.end() + 30]!r}"
                 for m in list(RAW_TEX.finditer(r["text"]))[:5]]
    return problems


def _font_problems(r: dict, zh: set[str]) -> list[str]:
    """Whether the first Chinese text of a page was drawn by a Chinese font (Simplified, where the
    Simplified Chinese Noto font is installed)."""
    used = {f["familyName"]: f["glyphCount"] for f in r["fonts"]}
    han = len(HAN.findall(r["cjkText"]))
    drawn = sum(n for fam, n in used.items() if fam in zh)
    problems = []
    if drawn < han:
        problems.append(f"{han} Chinese characters in {r['cjkText'][:60]!r}, but only {drawn} glyphs came from a "
                        f"Chinese font; fonts used: {used}; fonts with Chinese: {sorted(zh)[:8]}")
    if "Noto Sans CJK SC" in zh and "Noto Sans CJK SC" not in used:
        problems.append(f"Chinese drawn with {used}, not the installed Noto Sans CJK SC (site/_static/course.css)")
    return problems


@pytest.mark.parametrize("page", PAGES)
def test_page_in_a_browser(visits, page):
    r = visits.get(page)
    assert r is not None, f"{page} was not built"
    problems = _problems(r)
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


PLANTED = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>planted</title></head><body><main>
<img src="https://example.invalid/figure.png"><img src="missing.png">
<p>Left as typed: $x^2 + 1$ and \\frac{a}{b}.</p>
<p><span style="font-family: 'Noto Sans CJK JP'">神经网络</span></p>
<script>console.error("planted error")</script>
</main></body></html>"""


@pytest.mark.parametrize("tab", ["new", "reused"])
def test_the_browser_checks_can_fail(browser, tmp_path, tab):
    """A page with every fault the checks look for: each one is reported, in a new tab and in a tab
    reused as the page walk reuses them (after a clean page, which must stay clean, and before
    another, which must not inherit the faults)."""
    (tmp_path / "planted.html").write_text(PLANTED, encoding="utf-8")
    (tmp_path / "clean.html").write_text('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>clean'
                                         '</title></head><body><main><p>Nothing wrong.</p></main></body></html>',
                                         encoding="utf-8")
    blocked: dict[str, list[str]] = {}
    context = _guarded_context(browser, blocked)
    zh = _zh_families()
    reused = context.new_page() if tab == "reused" else None
    before = after = None
    if reused is not None:
        before = Visit(context, (tmp_path / "clean.html").as_uri(), reused).finish(zh)
    visit = Visit(context, (tmp_path / "planted.html").as_uri(), reused)
    r = visit.finish(zh)
    r["blocked"] = blocked.pop(visit.url, [])
    if reused is not None:
        after = Visit(context, (tmp_path / "clean.html").as_uri(), reused).finish(zh)
    context.close()
    for clean in (before, after):
        assert clean is None or not _problems(dict(clean, blocked=[])), f"a clean page was blamed: {_problems(clean)}"
    report = "\n".join(_problems(r))
    for expected in ("request to another host (aborted): https://example.invalid/figure.png", "failed to load:",
                     "missing.png", "console.error: planted error", "raw math in the visible text: '$x^2 + 1$'",
                     "raw TeX in the visible text"):
        assert expected in report, f"the planted fault {expected!r} was not reported:\n{report}"
    if {"Noto Sans CJK SC", "Noto Sans CJK JP"} <= zh:
        assert any("not the installed Noto Sans CJK SC" in p for p in _font_problems(r, zh)), r["fonts"]


def test_search_works_from_disk(visits):
    """Sphinx's search on the site opened from disk: it finds the pages and raises no error."""
    r = visits.get(SEARCH)
    assert r is not None, "search.html was not built"
    problems = r["errors"] + [f"failed to load: {u}" for u in r["failed"]] + r["blocked"]
    assert not problems, f"{SEARCH}:\n  " + "\n  ".join(problems)
    found = {unquote(urlsplit(u).path) for u in r["results"]}
    assert any(p.endswith("lectures/05-backpropagation.html") for p in found) or not any(
        p.startswith("lectures/05-") for p in PAGES), f"searching 'backpropagation' did not find Unit 5: {sorted(found)}"


def test_no_request_left_the_machine(visits):
    assert not visits["<other>"]["blocked"], f"requests to other hosts: {visits['<other>']['blocked']}"


CJK_PAGES = [p for p in PAGES if p.removeprefix(ZH) in ("glossary.html", LANDING)
             or p.removeprefix(ZH).startswith("lectures/")]


@pytest.mark.parametrize("page", CJK_PAGES)
def test_chinese_terms_are_drawn_with_a_chinese_font(visits, page):
    r = visits[page]
    assert r["cjkText"], f"{page} shows no Chinese text, but the course's key terms are bilingual"
    zh = _zh_families()
    if not zh:
        pytest.skip("no font with Chinese glyphs is installed (Debian: apt-get install fonts-noto-cjk; .ci/run "
                    "installs it): every browser on this machine would show the terms as boxes")
    problems = _font_problems(r, zh)
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("landing", [LANDING, ZH_LANDING])
def test_the_landing_page_links_every_lecture_and_assignment(visits, site, landing):
    linked = {unquote(urlsplit(u).path) for u in visits[landing]["links"]}
    wanted = {(site / p).as_posix() for p in NOTEBOOK_PAGES if p.startswith(ZH) == (landing == ZH_LANDING)}
    missing = sorted(Path(w).relative_to(site).as_posix() for w in wanted - linked)
    assert wanted and not missing, f"the course map of {landing} does not link: {missing}"


def test_figures_are_sharp(visits):
    """No figure is shown larger than it was stored (that would blur it); stored figures are kept at
    their size or scaled down."""
    blurred = [f"{p}: {i['src']} stored {i['natural']} px wide, shown {i['shown']} px"
               for p, r in visits.items() if p != "<other>" for i in r.get("images", [])
               if i["ok"] and i["shown"] > i["natural"]]
    assert not blurred, "figures shown larger than stored:\n  " + "\n  ".join(blurred[:20])


def _shoot(tab, name: str) -> None:
    """A screenshot of what a reader sees first: the landing page's top; a lecture at its first
    figure, with the text above it."""
    if "lecture" in name:
        tab.evaluate("() => { const i = document.querySelector('article img');"
                     " if (i) { window.scrollTo(0, i.getBoundingClientRect().top + window.scrollY - 250); } }")
        tab.wait_for_timeout(200)
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"))


def test_desktop_screenshots(visits):
    for name in SHOT_NAMES.values():
        assert (SHOTS / f"{name}-desktop.png").is_file(), f"no screenshot {SHOTS}/{name}-desktop.png"


LABELS = """() => Object.fromEntries(['.cell.tag_fnn-answer', '.cell.tag_fnn-test', 'div.fnn-written'].map(s => {
  const el = document.querySelector(s);
  return [s, el ? getComputedStyle(el, '::before').content : null];
}))"""


def test_a_chinese_lecture_in_a_browser_and_its_switch_to_english(site, browser):
    """The first Chinese lecture in chromium: its math typeset, its text Chinese, nothing requested
    from another host; a Chinese assignment's cell labels are Chinese; clicking the switch opens the
    English lecture (screenshots of both)."""
    if not ZH_LECTURE:
        pytest.skip("no lecture")
    blocked: dict[str, list[str]] = {}
    context = _guarded_context(browser, blocked, viewport={"width": 1280, "height": 900})
    try:
        visit = Visit(context, (site / ZH_LECTURE).as_uri())
        tab = visit.page
        tab.wait_for_load_state("load")
        r = tab.evaluate(INSPECT)
        r["title"] = tab.evaluate("document.querySelector('article h1').textContent")
        han, latin = len(HAN.findall(r["text"])), len(re.findall(r"[A-Za-z]", r["text"]))
        assert r["math"] > 0 and not r["untypeset"] and not r["texErrors"], (
            f"{ZH_LECTURE}: {r['math']} formulas, not typeset: {r['untypeset'][:3]}, TeX errors: {r['texErrors'][:3]}")
        assert han >= 200 and han >= 0.3 * (han + latin), (
            f"{ZH_LECTURE} is not Chinese: {han} Chinese characters, {latin} Latin letters in its text")
        assert tab.evaluate("document.documentElement.lang").startswith("zh")
        switch = tab.locator("a.fnn-language")
        assert switch.count() == 1 and switch.is_visible() and switch.inner_text().strip() == "English"
        tab.evaluate("window.scrollTo(0, 0)")
        _shoot(tab, "switch-on-a-chinese-page")
        with tab.expect_navigation():
            switch.click()
        tab.wait_for_load_state("load")
        assert tab.url == (site / SHOT_LECTURE).resolve().as_uri(), f"the switch opened {tab.url}, not {SHOT_LECTURE}"
        assert tab.evaluate("document.documentElement.lang") == "en"
        assert tab.locator("a.fnn-language").inner_text().strip() == "中文"
        _shoot(tab, "switch-opened-the-english-page")
        tab.close()
        # the Chinese search (site/fnn_language.py): a word of the lecture's title finds the lecture
        words = sorted(HAN_WORD.findall(r["title"]), key=len)
        if words:
            query = words[-1][:4]
            tab = context.new_page()
            tab.goto((site / ZH / "search.html").as_uri() + "?q=" + query)
            tab.wait_for_function("() => { const s = document.querySelector('#search-results p.search-summary');"
                                  " return s && s.innerText.trim().length > 0; }")
            found = {unquote(urlsplit(u).path) for u in tab.evaluate(
                "() => [...document.querySelectorAll('#search-results li a')].map(a => a.href)")}
            tab.close()
            assert (site / ZH_LECTURE).resolve().as_posix() in found, (
                f"searching the Chinese site for {query!r} did not find {ZH_LECTURE}: {sorted(found)}")
        assignment = next((p for p in ZH_PAGES if p.startswith(ZH + "assignments/")), None)
        if assignment:
            tab = context.new_page()
            tab.goto((site / assignment).as_uri())
            labels = tab.evaluate(LABELS)
            tab.close()
            shown = {k: v for k, v in labels.items() if v not in (None, "none")}
            assert shown, f"{assignment}: no labelled answer or test cell"
            for selector, content in shown.items():
                assert HAN.search(content), f"{assignment}: the label of {selector} is {content} (site/_static/course.css)"
    finally:
        context.close()
    requests = [u for us in blocked.values() for u in us]
    assert not requests + visit.errors + visit.failed, f"{ZH_LECTURE}: {requests + visit.errors + visit.failed}"


def test_phone_width_and_screenshots(site, browser):
    """On a phone no page is wider than the screen; screenshots of the landing page and a lecture
    at phone width (the desktop ones are taken while every page is checked)."""
    start = time.monotonic()
    size = {"width": 390, "height": 844}
    context = browser.new_context(viewport=size, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.route(OTHER_HOSTS, lambda route: route.abort())
    wide = []
    try:
        for page, name in SHOT_NAMES.items():
            tab = context.new_page()
            tab.goto((site / page).as_uri())
            report = tab.evaluate(INSPECT)
            if report["overflow"] > 1:
                wide.append(f"{page}: {report['overflow']} px wider than the {size['width']} px screen")
            _shoot(tab, f"{name}-phone")
            tab.close()
    finally:
        context.close()
    TIMES["phone"] = round(time.monotonic() - start, 1)
    print(f"\nscreenshots: {SHOTS}/{{{','.join(SHOT_NAMES.values())}}}-{{desktop,phone}}.png and "
          f"switch-*.png (a Chinese lecture's top, the English page its switch opened); seconds per phase: {TIMES}")
    assert not wide, "on a phone:\n  " + "\n  ".join(wide)
