"""Build the course website: a static HTML site in build/site/ (``make site`` runs this), in English
and, in build/site/zh/, in Chinese (中文版), with a language switch on every page.

    python tools/site.py                  # stage the sources, build build/site/ and build/site/zh/
    python tools/site.py --out DIR        # build somewhere else (the tests build into a scratch folder)
    python tools/site.py --zh DIR         # the Chinese edition from DIR instead of zh/ (a draft:
                                          # python tools/i18n.py generate --partial --out DIR)

The pages come from committed files only, never from solutions/:

- ``index``: the landing page, ``site/index.md`` with the course map filled in (one entry per unit:
  what its lecture teaches, in the lecture's own opening paragraph, and links to its lecture and
  assignment);
- ``lectures/<id>``: ``lectures/<id>.ipynb`` rendered with its stored outputs (nothing is executed);
- ``assignments/<id>/<name>``: the student release ``exercises/<id>/<name>.ipynb`` (tasks, stubs,
  visible tests), its answer and test cells labelled;
- ``glossary``: GLOSSARY.md; ``instructors/*``: docs/instructors.md, jupyterhub.md, remote-checker.md.

The Chinese site, ``zh/``, is the same from the Chinese edition (``zh/``, which
``python tools/i18n.py generate`` writes): ``zh/site/index.md`` with the course map made of the
Chinese lectures' titles and opening paragraphs, ``zh/lectures``, ``zh/exercises`` and GLOSSARY.md
(bilingual already). The instructor guides are English only: the Chinese site links the English
ones. Every text this builder writes (the box at the top of a notebook page, the course map's labels,
the widget notes, the navigation's captions) is in the page's language, from TEXT below; the
labels of an assignment's cells are in site/_static/course.css, by the page's ``lang``.

Each notebook page starts with a box that links the untouched notebook for download and says how
to open it in JupyterLab. Links between the included files are rewritten to the pages; a link to a
file the site does not include becomes the file's path in the repository (so a guide's link to,
say, nbgrader_config.py never breaks the build). Interactive explorers show their static fallback;
a widget that stored no figure says that it needs a running notebook.

Every page has a link to the same page in the other language ("中文" / "English", in the bar at the
top of the article): site/fnn_language.py puts it there from the map of both sites' pages that
this builder writes beside the staged sources (``_fnn_language.json``); a page without a
counterpart (an instructor guide) links the other language's landing page.

Sphinx runs with warnings as errors (``-W --keep-going``): a broken cross-reference, a missing
image or an unknown directive fails the build. The build is always a full one, so a warning can
never hide in an incremental rebuild.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import os
import posixpath
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "site"
DEFAULT_OUT = ROOT / "build" / "site"
DEFAULT_ZH = ROOT / "zh"
NOTEBOOK_GLOB = "[0-9][0-9]-*.ipynb"
GUIDES = ("instructors.md", "jupyterhub.md", "remote-checker.md")  # docs/ pages, in this order
MAP_MARKER = "<!-- course map -->"
SWITCH_FILE = "_fnn_language.json"  # beside the staged sources; read by site/fnn_language.py
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TOTAL_RE = re.compile(r"\*\*Total:\s*(\d+(?:\.\d+)?)\s*points\*\*")
# [text](target) and ![alt](target); the target has no spaces (none of the course's links do)
LINK_RE = re.compile(r"(!?)\[([^\]\n]*)\]\(([^)\s]+)\)")
# "Unit 3 — ", "第 3 单元 — ", "Assignment 3: ", "作业 3 — " before a title (the course map shows the rest)
UNIT_PREFIX = re.compile(r"^(?:Unit\s+\d+|第\s*\d+\s*单元)\s*[—–:：·-]?\s*")
ASSIGNMENT_PREFIX = re.compile(r"^(?:Assignment\s+\d+|作业\s*\d+|第\s*\d+\s*次作业)\s*[—–:：·-]?\s*")
COMMENT = re.compile(r"<!--.*?-->", re.S)
LEADING_COMMENTS = re.compile(r"\A\s*(?:<!--.*?-->\s*)+", re.S)  # the Chinese edition's "generated" note

# Every text the builder writes onto a page, per language. {download} is the download link.
TEXT = {
    "en": {
        "language": "en",               # Sphinx's language
        "html_lang": "en",
        "title": "Feedforward neural networks",
        "box_title": "Open it in JupyterLab",
        "lecture_box": "This page is the notebook `{path}` with its stored outputs: {download}.",
        "assignment_box": ("This page shows the tasks of `{path}`, the notebook you complete and hand in: "
                           "{download}."),
        "download": "download it",
        "run": ("To run it, clone the course and type `make lab`: JupyterLab opens on the start page "
                "`START.md`, which links every notebook; {then}."),
        "lecture_then": "then *Run → Run All Cells*",
        "assignment_then": "write your answers there and press **Validate** to run the visible tests",
        "widget_note": ("An interactive control is here when the notebook runs (open it in JupyterLab to use "
                        "it); the website shows only what the notebook stored."),
        "unit": "Unit {n} · {title}",
        "read": "**Read** [lecture {n}]({link})",
        "do": "**Do** [assignment {n}]({link}){points}",
        "points": " ({points:g} points)",
        "separator": " · ",
        "caption_lectures": "Lectures",
        "caption_assignments": "Assignments",
        "caption_reference": "Reference",
        "caption_instructors": "Instructors",
        "in_repository": "`{path}` (in the course's repository)",
        "text_in_repository": "{text} (`{path}` in the course's repository)",
        # the switch on this language's pages, to the other language's
        "switch": "中文",
        "switch_title": "本页的中文版",
        "switch_lang": "zh-CN",
    },
    "zh": {
        "language": "zh_CN",
        "html_lang": "zh-CN",
        "title": "前馈神经网络",
        "box_title": "在 JupyterLab 中打开",
        "lecture_box": "本页是笔记本 `{path}` 及其保存的输出：{download}。",
        "assignment_box": "本页列出 `{path}` 的任务，这是你要完成并提交的笔记本：{download}。",
        "download": "下载该笔记本",
        "run": ("要运行它，请克隆课程并输入 `make lab`：JupyterLab 会打开起始页 `START.md`，中文版的起始页 "
                "`zh/START.md` 链接每一个中文笔记本；{then}。"),
        "lecture_then": "打开笔记本后选择 *Run → Run All Cells*",
        "assignment_then": "在笔记本中写下你的答案，按 **Validate** 运行可见测试",
        "widget_note": ("笔记本运行时，这里有一个交互控件（在 JupyterLab 中打开笔记本即可使用）；"
                        "网站只显示笔记本保存的内容。"),
        "unit": "第 {n} 单元 · {title}",
        "read": "**阅读** [第 {n} 讲]({link})",
        "do": "**练习** [作业 {n}]({link}){points}",
        "points": "（{points:g} 分）",
        "separator": " · ",
        "caption_lectures": "讲义",
        "caption_assignments": "作业",
        "caption_reference": "参考",
        "caption_instructors": "教师指南（英文）",
        "in_repository": "`{path}`（在课程仓库中）",
        "text_in_repository": "{text}（课程仓库中的 `{path}`）",
        "switch": "English",
        "switch_title": "This page in English",
        "switch_lang": "en",
    },
}


class SiteError(RuntimeError):
    """The course's files are not what the site builder expects (said with the likely fix)."""


@dataclass(frozen=True)
class Edition:
    """One language's pages: where its files are and where its pages go in the site."""
    lang: str          # "en" or "zh" (a key of TEXT)
    source: Path       # the folder holding its lectures/ and exercises/: the repository, or zh/
    prefix: str        # where its pages are in the built site: "" or "zh/"

    @property
    def text(self) -> dict[str, str]:
        return TEXT[self.lang]

    def shown(self, rel: str) -> str:
        """A file of the edition as the pages name it: its path in the course's repository."""
        return rel if self.lang == "en" else f"zh/{rel}"


ENGLISH = Edition("en", ROOT, "")


def chinese(folder: Path | str = DEFAULT_ZH) -> Edition:
    """The Chinese edition in ``folder`` (zh/, or a draft that tools/i18n.py generate --out wrote)."""
    return Edition("zh", Path(folder).resolve(), "zh/")


@dataclass
class Unit:
    number: int
    id: str
    title: str                       # the lecture's title without "Unit N —"
    summary: str                     # the lecture's opening paragraph (what the unit teaches)
    lecture: str | None              # path of the lecture notebook in its edition ("lectures/<id>.ipynb")
    assignment: list[str]            # paths of the release notebooks in their edition
    assignment_title: str | None
    assignment_summary: str | None
    points: float | None


# --------------------------------------------------------------------------- what goes where


def lectures(edition: Edition = ENGLISH) -> list[Path]:
    return sorted((edition.source / "lectures").glob(NOTEBOOK_GLOB))


def release_notebooks(edition: Edition = ENGLISH) -> dict[str, list[Path]]:
    """{assignment id: its release notebooks} from exercises/ (never solutions/)."""
    out = {}
    folder = edition.source / "exercises"
    if not folder.is_dir():
        return out
    for folder in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        nbs = sorted(p for p in folder.glob("*.ipynb"))
        if nbs:
            out[folder.name] = nbs
    return out


def site_path(repo_path: str) -> str | None:
    """Where a repository file is on the site (a source path without suffix change), or None."""
    p = PurePosixPath(repo_path)
    if len(p.parts) == 2 and p.parts[0] == "lectures" and p.suffix == ".ipynb":
        return repo_path
    if len(p.parts) == 3 and p.parts[0] == "exercises" and p.suffix == ".ipynb":
        return f"assignments/{p.parts[1]}/{p.name}"
    if repo_path == "GLOSSARY.md":
        return "glossary.md"
    if len(p.parts) == 2 and p.parts[0] == "docs" and p.name in GUIDES:
        return f"instructors/{p.name}"
    return None


def _elsewhere(text: str, staged_file: str, page: str) -> str:
    """A link from the Chinese page ``staged_file`` to the English site's ``page`` (an instructor
    guide): raw HTML, since the page is outside the Chinese build."""
    href = posixpath.relpath(f"/site/{page}", posixpath.dirname(f"/site/zh/{staged_file}"))
    label = re.sub(r"`([^`]+)`", lambda m: f"<code>{m.group(1)}</code>", html.escape(text, quote=False))
    return f'<a class="reference external" href="{html.escape(href)}" hreflang="en">{label}</a>'


def rewrite_links(markdown: str, repo_file: str, staged_file: str, stage: Path,
                  edition: Edition = ENGLISH) -> str:
    """Relative links of a Markdown text (from ``repo_file``, a path in the English repository; a
    Chinese file's links are its English original's) made to work on the page ``staged_file``."""
    repo_dir = PurePosixPath(repo_file).parent
    staged_dir = PurePosixPath(staged_file).parent
    say = edition.text

    def fix(m: re.Match) -> str:
        bang, text, target = m.groups()
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return m.group(0)  # a web address, mailto:, an anchor on the same page
        path, _, anchor = target.partition("#")
        resolved = os.path.normpath((repo_dir / path).as_posix())
        where = site_path(resolved)
        if where is not None and not bang and edition.lang != "en" and where.startswith("instructors/"):
            page = str(PurePosixPath(where).with_suffix(".html")) + (f"#{anchor}" if anchor else "")
            return _elsewhere(text, staged_file, page)
        if where is not None:
            rel = os.path.relpath(where, staged_dir.as_posix() or ".")
            return f"{bang}[{text}]({rel}{'#' + anchor if anchor else ''})"
        if bang:
            src = ROOT / resolved
            if not src.is_file():
                raise SiteError(f"{repo_file} shows the image {target!r}, which does not exist ({src}); "
                                "fix the path or add the image")
            dest = stage / "_images_src" / resolved
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
            return f"{bang}[{text}]({os.path.relpath(dest.relative_to(stage).as_posix(), staged_dir.as_posix() or '.')})"
        if text.strip("`") in (resolved, path, ""):
            return say["in_repository"].format(path=resolved)
        return say["text_in_repository"].format(text=text, path=resolved)

    # Links inside code spans and fenced blocks are text, not links: leave them alone.
    out, fence = [], False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if fence or line.lstrip().startswith(("```", "~~~")):
            out.append(line)
            continue
        pieces = re.split(r"(`[^`]*`)", line)
        out.append("".join(p if p.startswith("`") and p.endswith("`") and len(p) > 1 else LINK_RE.sub(fix, p)
                           for p in pieces))
    return "\n".join(out)


# --------------------------------------------------------------------------- notebooks


def _first_paragraph(markdown: str) -> str:
    """The first paragraph after the title (joined into one line); a paragraph that ends with a
    colon brings the list that follows it. HTML comments (the Chinese edition's notes) are not text."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", COMMENT.sub("", markdown)) if p.strip()]
    body = [p for p in paras if not p.startswith("#")]
    if not body:
        return ""
    first = " ".join(body[0].split())
    if first.endswith((":", "：")) and len(body) > 1 and re.match(r"(\d+[.)]|[-*+])\s", body[1]):
        first += "\n\n" + body[1]
    return first


def _title(nb, path: Path) -> str:
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    m = re.match(r"\s*#\s+(.+)", LEADING_COMMENTS.sub("", first.source)) if first else None
    if not m:
        raise SiteError(f"{path}: the first Markdown cell must start with the page's title "
                        f"as a level-1 heading ('# Unit N — Topic'); it starts with "
                        f"{(first.source[:60] if first else 'no Markdown cell')!r}")
    return m.group(1).strip()


def source_box(kind: str, repo_path: str, download: str, edition: Edition = ENGLISH) -> str:
    """The box at the top of every notebook page: the notebook for download, how to run it."""
    say = edition.text
    link = f"{{download}}`{say['download']} <{download}>`"
    what = say[f"{kind}_box"].format(path=repo_path, download=link)
    return "\n".join([
        f":::{{admonition}} {say['box_title']}",
        ":class: fnn-source tip",
        f"{what}{'' if edition.lang == 'zh' else ' '}{say['run'].format(then=say[f'{kind}_then'])}",
        ":::",
    ])


def stage_notebook(src: Path, staged: str, stage: Path, kind: str, edition: Edition = ENGLISH) -> None:
    """Copy ``src`` untouched for download into _notebooks/, and a page version to ``staged``."""
    rel = src.relative_to(edition.source).as_posix()   # its path in the edition (and its English original's)
    shown = edition.shown(rel)
    original = stage / "_notebooks" / shown
    original.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, original)

    nb = nbformat.read(str(src), as_version=4)
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)  # widget state would make MyST-NB load a widget manager
    _title(nb, src)
    staged_dir = PurePosixPath(staged).parent
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source, rel, staged, stage, edition)
        if cell.cell_type == "code":
            cell.outputs = _static_outputs(cell.get("outputs", []), edition)
        if kind == "assignment":
            _label(cell)
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown")
    title, _, rest = LEADING_COMMENTS.sub("", nb.cells[first].source).lstrip().partition("\n")
    box = source_box(kind, shown, os.path.relpath(original.relative_to(stage).as_posix(), staged_dir.as_posix()),
                     edition)
    cells = [nbformat.v4.new_markdown_cell(title), nbformat.v4.new_markdown_cell(box)]
    if rest.strip():
        nb.cells[first].source = rest
    else:
        del nb.cells[first]
    nb.cells[first:first] = cells
    dest = stage / staged
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(dest))


PROGRESS_BAR = re.compile(r"\d+%\|")


def _static_outputs(outputs: list, edition: Edition = ENGLISH) -> list:
    """Outputs as the website shows them. A widget's view is never rendered (conf.py): an output
    with a stored figure or HTML shows that (fnnlib's progress bar stores its finished line as HTML);
    a bar stored only as a widget whose text is its first frame ("0%|") is left out, since the run's
    results are printed beside it; any other widget
    says that it needs a running notebook."""
    shown = []
    for out in outputs:
        data = out.get("data", {})
        if WIDGET_VIEW in data and not (set(data) - {WIDGET_VIEW, "text/plain"}):
            if PROGRESS_BAR.search(str(data.get("text/plain", ""))):
                continue
            out = copy.deepcopy(out)
            out["data"] = {"text/html": f'<p class="fnn-widget-note">{html.escape(edition.text["widget_note"])}</p>'}
        shown.append(out)
    return shown


def _label(cell) -> None:
    """Label an assignment's cells by their nbgrader role (a CSS class each, site/_static/course.css):
    code answers and tests by a cell tag (MyST-NB makes it the cell's class); written answers, which
    are Markdown cells and get no cell container, by wrapping them in one."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.cell_type == "markdown":
        if meta.get("solution") and not re.search(r"^\s*#", cell.source, re.MULTILINE):
            cell.source = f"::::{{container}} fnn-written\n{cell.source}\n::::"
        return
    tag = "fnn-answer" if meta.get("solution") else "fnn-test" if meta.get("grade") else None
    if tag:
        cell.metadata.setdefault("tags", [])
        if tag not in cell.metadata["tags"]:
            cell.metadata["tags"].append(tag)



# --------------------------------------------------------------------------- the landing page


def units(edition: Edition = ENGLISH) -> list[Unit]:
    releases = release_notebooks(edition)
    ids = sorted({p.stem for p in lectures(edition)} | set(releases))
    out = []
    for uid in ids:
        m = re.match(r"(\d\d)-", uid)
        if not m:
            continue
        lecture = edition.source / "lectures" / f"{uid}.ipynb"
        title = summary = None
        if lecture.exists():
            nb = nbformat.read(str(lecture), as_version=4)
            title = UNIT_PREFIX.sub("", _title(nb, lecture))
            summary = _first_paragraph(next(c for c in nb.cells if c.cell_type == "markdown").source)
        a_title = a_summary = points = None
        if uid in releases:
            nb = nbformat.read(str(releases[uid][0]), as_version=4)
            first = next(c for c in nb.cells if c.cell_type == "markdown")
            a_title = ASSIGNMENT_PREFIX.sub("", _title(nb, releases[uid][0]))
            a_summary = _first_paragraph(first.source)
            # the points from the English release (the Chinese one is graded as the English one is)
            english = [ROOT / p.relative_to(edition.source) for p in releases[uid]]
            totals = [float(t.group(1)) for nb_path in english if nb_path.is_file()
                      for c in nbformat.read(str(nb_path), as_version=4).cells[:3] if c.cell_type == "markdown"
                      for t in [TOTAL_RE.search(c.source)] if t]
            points = sum(totals) if totals else None
        out.append(Unit(int(m.group(1)), uid, title or a_title or uid, summary or a_summary or "",
                        f"lectures/{uid}.ipynb" if lecture.exists() else None,
                        [p.relative_to(edition.source).as_posix() for p in releases.get(uid, [])],
                        a_title, a_summary, points))
    return out


def course_map(us: list[Unit], edition: Edition = ENGLISH) -> str:
    say = edition.text
    parts = []
    for u in us:
        parts.append(f"### {say['unit'].format(n=u.number, title=u.title)}\n")
        parts.append(u.summary + "\n")
        links = []
        if u.lecture:
            links.append(say["read"].format(n=u.number, link=site_path(u.lecture)))
        for path in u.assignment:
            pts = (say["points"].format(points=u.points)
                   if u.points is not None and len(u.assignment) == 1 else "")
            links.append(say["do"].format(n=u.number, link=site_path(path), points=pts))
        parts.append(say["separator"].join(links) + "\n")
    return "\n".join(parts)


def guides() -> list[str]:
    """The instructor guides that exist, as repository paths (docs/...)."""
    return [f"docs/{g}" for g in GUIDES if (ROOT / "docs" / g).exists()]


def toctrees(us: list[Unit], edition: Edition = ENGLISH) -> str:
    say = edition.text

    def tree(caption: str, entries: list[str]) -> str:
        return "\n".join(["```{toctree}", ":hidden:", f":caption: {caption}", ""] + entries + ["```", ""])

    trees = [
        tree(say["caption_lectures"], [site_path(u.lecture).removesuffix(".ipynb") for u in us if u.lecture]),
        tree(say["caption_assignments"], [site_path(p).removesuffix(".ipynb") for u in us for p in u.assignment]),
        tree(say["caption_reference"], ["glossary"]),
    ]
    if edition.lang == "en":  # the Chinese site's navigation links the English guides (site/fnn_language.py)
        trees.append(tree(say["caption_instructors"],
                          [site_path(g).removesuffix(".md") for g in guides()]))
    return "\n".join(trees)


# --------------------------------------------------------------------------- staging and building


def page_of(repo_path: str) -> str:
    """The built page (a path in the site) of a repository file that the site includes."""
    where = site_path(repo_path)
    if where is None:
        raise SiteError(f"{repo_path} is not on the website (only lectures, the release, GLOSSARY.md and "
                        f"the guides {', '.join(GUIDES)} in docs/ are)")
    return str(PurePosixPath(where).with_suffix(".html"))


def _repo_name(path: Path) -> str:
    """A path relative to the repository where it is inside it (a draft edition may be elsewhere)."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def _edition_pages(edition: Edition) -> dict[str, str | None]:
    """{built page (relative to the site): the file it comes from} for one language."""
    index = CONF_DIR / "index.md" if edition.lang == "en" else edition.source / "site" / "index.md"
    pages: dict[str, str | None] = {"index.html": _repo_name(index), "search.html": None}
    for u in units(edition):
        for path in ([u.lecture] if u.lecture else []) + u.assignment:
            pages[page_of(path)] = _repo_name(edition.source / path)
    for repo_file in ["GLOSSARY.md"] + (guides() if edition.lang == "en" else []):
        if (ROOT / repo_file).exists():
            pages[page_of(repo_file)] = repo_file
    return {edition.prefix + page: src for page, src in pages.items()}


def expected_pages(zh: Path | str | None = DEFAULT_ZH) -> dict[str, str | None]:
    """{built page: the file it comes from (a repository path; None for Sphinx's own pages)} for the
    current lectures, release and guides, and, unless ``zh`` is None, the Chinese edition in ``zh``
    (its pages under zh/)."""
    pages = _edition_pages(ENGLISH)
    if zh is not None:
        pages.update(_edition_pages(chinese(zh)))
    return pages


def check_edition(english: list[Unit], translated: list[Unit], edition: Edition) -> None:
    """The Chinese edition has every lecture and release notebook the English one has, and no other."""
    def notebooks(us: list[Unit]) -> set[str]:
        return {p for u in us for p in ([u.lecture] if u.lecture else []) + u.assignment}

    missing = sorted(notebooks(english) - notebooks(translated))
    extra = sorted(notebooks(translated) - notebooks(english))
    index = edition.source / "site" / "index.md"
    if missing or extra or not index.is_file():
        raise SiteError(
            f"the Chinese edition in {edition.source} does not match the English course: "
            + "; ".join(filter(None, [
                missing and f"missing {', '.join(missing)}",
                extra and f"not in the English course {', '.join(extra)}",
                not index.is_file() and "missing site/index.md (the landing page)"]))
            + ". Write it with `make zh` (python tools/i18n.py generate), or for a draft with English where "
              "a translation is missing: python tools/i18n.py generate --partial --out DIR, then "
              "python tools/site.py --zh DIR")


def _landing(edition: Edition, us: list[Unit]) -> str:
    """The landing page's Markdown: its text with the course map and the navigation."""
    source = CONF_DIR / "index.md" if edition.lang == "en" else edition.source / "site" / "index.md"
    template = source.read_text(encoding="utf-8")
    if MAP_MARKER not in template:
        hint = ("" if edition.lang == "en" else
                " (the translation i18n/zh/docs/site-index.md must keep it in the course map's section)")
        raise SiteError(f"{_repo_name(source)} must hold the line {MAP_MARKER!r} where the course map goes{hint}")
    if edition.lang != "en":
        template = LEADING_COMMENTS.sub("", template)
        # the course map's section keeps its English id (site/_static/course.css styles it by that)
        heading = list(re.finditer(r"^##\s+.*$", template[:template.index(MAP_MARKER)], re.M))
        if heading:
            at = heading[-1].start()
            template = template[:at] + "(the-course-map)=\n" + template[at:]
        # the instructor guides are on the English site only
        template = LINK_RE.sub(lambda m: _elsewhere(m.group(2), "index.md", m.group(3).replace(".md", ".html", 1))
                               if not m.group(1) and m.group(3).startswith("instructors/") else m.group(0), template)
    return template.replace(MAP_MARKER, course_map(us, edition)) + "\n" + toctrees(us, edition)


def stage(dest: Path, edition: Edition = ENGLISH, us: list[Unit] | None = None) -> list[Unit]:
    """Write every source page of one language's site (its units: ``us``, read if not given) into
    ``dest`` (emptied first)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    us = units(edition) if us is None else us
    if not us:
        raise SiteError(f"no lecture in {edition.source / 'lectures'} and no assignment in "
                        f"{edition.source / 'exercises'}: nothing to build")
    (dest / "index.md").write_text(_landing(edition, us), encoding="utf-8")
    for u in us:
        if u.lecture:
            stage_notebook(edition.source / u.lecture, site_path(u.lecture), dest, "lecture", edition)
        for path in u.assignment:
            stage_notebook(edition.source / path, site_path(path), dest, "assignment", edition)
    for repo_file in ["GLOSSARY.md"] + (guides() if edition.lang == "en" else []):
        if not (ROOT / repo_file).exists():
            continue
        staged = site_path(repo_file)
        text = rewrite_links((ROOT / repo_file).read_text(encoding="utf-8"), repo_file, staged, dest, edition)
        (dest / staged).parent.mkdir(parents=True, exist_ok=True)
        (dest / staged).write_text(text, encoding="utf-8")
    return us


def _guide_title(repo_file: str) -> str:
    m = re.search(r"^#\s+(.+)$", (ROOT / repo_file).read_text(encoding="utf-8"), re.M)
    return m.group(1).strip() if m else PurePosixPath(repo_file).stem


def write_switch(staged: dict[str, Path]) -> None:
    """The language switch's map, beside each language's staged sources (site/fnn_language.py reads
    it): this site's place, the other language's pages, and the guides the Chinese site links."""
    editions = {"en": ENGLISH, "zh": chinese()}
    names = {lang: sorted(str(p.relative_to(src).with_suffix("")) for p in src.rglob("*")
                          if p.suffix in (".md", ".ipynb") and p.relative_to(src).parts[0][0] not in "._")
             + ["search"] for lang, src in staged.items()}
    for lang, src in staged.items():
        other = "zh" if lang == "en" else "en"
        say = TEXT[lang]
        switch = {
            "prefix": editions[lang].prefix, "other_prefix": editions[other].prefix,
            "other_pages": names.get(other, []),
            "label": say["switch"], "title": say["switch_title"], "hreflang": say["switch_lang"],
            "guides_caption": say["caption_instructors"],
            "guides": ([] if lang == "en" else
                       [{"title": _guide_title(g), "page": page_of(g)} for g in guides()]),
        }
        (src / SWITCH_FILE).write_text(json.dumps(switch, ensure_ascii=False, indent=1), encoding="utf-8")


def sphinx_args(src: Path, out: Path, *, quiet: bool = True, lang: str = "en") -> list[str]:
    """sphinx-build's arguments: the course's configuration, a full build, warnings are errors; the
    language's Sphinx language and title."""
    say = TEXT[lang]
    settings = ["-D", f"language={say['language']}"]
    if lang != "en":
        settings += ["-D", f"html_title={say['title']}", "-D", f"project={say['title']}"]
    return ["-W", "--keep-going", "-E", "-b", "html", "-c", str(CONF_DIR), "-d", str(src / ".doctrees"),
            *settings, str(src), str(out)] + (["-q"] if quiet else [])


def sphinx_build(src: Path, out: Path, *, quiet: bool = True, lang: str = "en") -> str:
    """Run Sphinx (in this process: no second start-up and imports) on staged sources with the
    course's configuration; warnings are errors.

    Returns Sphinx's warnings output; raises SiteError with the warnings when the build warns or fails."""
    import contextlib
    import io
    import warnings

    from sphinx.cmd.build import build_main

    args = sphinx_args(src, out, quiet=quiet, lang=lang)
    err, log = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(log if quiet else sys.stdout), \
            warnings.catch_warnings():
        # the theme's use of Sphinx APIs due to change (Python deprecation warnings, not the site's problem;
        # Sphinx's own warnings about the pages are errors through -W)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        status = build_main(args)
    if status != 0:
        raise SiteError(f"sphinx-build failed (exit {status}); warnings are errors here:\n"
                        f"{err.getvalue().strip()}\n{log.getvalue().strip()[-3000:]}\n"
                        f"(sources staged in {src}; command: sphinx-build {' '.join(args)})")
    return err.getvalue()


def _build_one(src: Path, out: Path, quiet: bool, lang: str) -> float:
    start = time.monotonic()
    sphinx_build(src, out, quiet=quiet, lang=lang)
    return time.monotonic() - start


def share_images(out: Path) -> int:
    """The Chinese pages show the English site's copy of every figure they share with it (the
    lectures' stored outputs are the same; MyST-NB names a figure by its content's hash): one copy
    to publish, and one download for a reader who switches language. Returns the bytes saved."""
    ours, theirs = out / "zh" / "_images", out / "_images"
    shared = {p.name for p in ours.glob("*") if p.is_file() and (theirs / p.name).is_file()
              and p.read_bytes() == (theirs / p.name).read_bytes()} if ours.is_dir() else set()
    if not shared:
        return 0
    saved = sum((ours / n).stat().st_size for n in shared)
    # a zh page's "<ups>_images/NAME" (zh/_images) becomes "<ups>../_images/NAME" (the English copy)
    ref = re.compile(r'(\b(?:src|href)=")((?:\.\./)*)_images/([^"/]+)"')
    for page in (out / "zh").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = ref.sub(lambda m: f'{m.group(1)}{m.group(2)}../_images/{m.group(3)}"' if m.group(3) in shared
                      else m.group(0), text)
        if new != text:
            page.write_text(new, encoding="utf-8")
    for n in shared:
        (ours / n).unlink()
    if not any(ours.iterdir()):
        ours.rmdir()
    return saved


def build(out: Path = DEFAULT_OUT, *, zh: Path | str = DEFAULT_ZH, quiet: bool = True,
          parallel: bool | None = None) -> dict:
    """Stage and build the English site into ``out`` and the Chinese one (from ``zh``) into
    ``out/zh`` (their sources go to ``<out>-src`` and ``<out>-src-zh``, beside it). The two Sphinx
    builds run at once (the Chinese one in a forked process) where the machine has more than one
    core, unless ``parallel`` is False.

    Returns {'seconds', 'bytes', 'pages', 'out', 'seconds_per_phase'}; raises SiteError when a
    build warns or fails."""
    start = time.monotonic()
    out = Path(out).resolve()
    editions = {"en": ENGLISH, "zh": chinese(zh)}
    if not editions["zh"].source.is_dir():
        raise SiteError(f"no Chinese edition in {editions['zh'].source}: write it with `make zh` (python "
                        "tools/i18n.py generate), or a draft with python tools/i18n.py generate --partial "
                        "--out DIR and build with python tools/site.py --zh DIR")
    sources = {"en": out.parent / (out.name + "-src"), "zh": out.parent / (out.name + "-src-zh")}
    # the Chinese site is built beside the English one and moved into it: MyST-NB keeps its scratch
    # files in the output folder's parent (jupyter_execute/), which must not be the published site
    outputs = {"en": out, "zh": out.parent / (out.name + "-zh")}
    english, translated = units(ENGLISH), units(editions["zh"])
    check_edition(english, translated, editions["zh"])
    stage(sources["en"], ENGLISH, english)
    stage(sources["zh"], editions["zh"], translated)
    write_switch(sources)
    for folder in outputs.values():
        if folder.exists():
            shutil.rmtree(folder)
    seconds = {"staging": time.monotonic() - start}
    if parallel is None:
        parallel = (os.cpu_count() or 1) > 1
    if parallel:
        import multiprocessing

        # imported once, before the fork: both builds use them
        import myst_nb  # noqa: F401
        import sphinx.cmd.build  # noqa: F401
        import sphinx_book_theme  # noqa: F401

        with multiprocessing.get_context("fork").Pool(1) as pool:
            chinese_build = pool.apply_async(_build_one, (sources["zh"], outputs["zh"], quiet, "zh"))
            try:
                seconds["en"] = _build_one(sources["en"], outputs["en"], quiet, "en")
            finally:
                seconds["zh"] = chinese_build.get()
    else:
        for lang in editions:
            seconds[lang] = _build_one(sources[lang], outputs[lang], quiet, lang)
    shutil.move(outputs["zh"], out / "zh")
    share_images(out)
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve _static/ and _images/ as they are
    files = [p for p in out.rglob("*") if p.is_file()]
    return {"seconds": time.monotonic() - start, "bytes": sum(p.stat().st_size for p in files),
            "pages": sum(1 for p in files if p.suffix == ".html" and "_static" not in p.relative_to(out).parts),
            "out": out, "seconds_per_phase": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: build/site)")
    parser.add_argument("--zh", type=Path, default=DEFAULT_ZH,
                        help="the Chinese edition's folder (default: zh/, which python tools/i18n.py generate writes)")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    parser.add_argument("--one-at-a-time", action="store_true",
                        help="build the two languages one after the other (default: at once, on two cores)")
    args = parser.parse_args(argv)
    try:
        r = build(args.out, zh=args.zh, quiet=not args.verbose, parallel=False if args.one_at_a_time else None)
    except SiteError as e:
        print(f"==> the site was not built: {e}", file=sys.stderr)
        return 1
    rel = r["out"].relative_to(ROOT) if r["out"].is_relative_to(ROOT) else r["out"]
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in r["seconds_per_phase"].items())
    print(f"==> {r['pages']} pages, {r['bytes'] / 1e6:.1f} MB in {rel}/ and {rel}/zh/ (built in {r['seconds']:.1f} s: "
          f"{phases}; no warnings); open {rel}/index.html in a browser")
    return 0


if __name__ == "__main__":
    sys.exit(main())
