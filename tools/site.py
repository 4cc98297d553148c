"""Build the course website: a static HTML site in build/site/ (``make site`` runs this).

    python tools/site.py                  # stage the sources, build build/site/, print time and size
    python tools/site.py --out DIR        # build somewhere else (the tests build into a scratch folder)

The pages come from committed files only, never from solutions/:

- ``index``: the landing page, ``site/index.md`` with the course map filled in (one entry per unit:
  what its lecture teaches, in the lecture's own opening paragraph, and links to its lecture and
  assignment);
- ``lectures/<id>``: ``lectures/<id>.ipynb`` rendered with its stored outputs (nothing is executed);
- ``assignments/<id>/<name>``: the student release ``exercises/<id>/<name>.ipynb`` (tasks, stubs,
  visible tests), its answer and test cells labelled;
- ``glossary``: GLOSSARY.md; ``instructors/*``: docs/instructors.md, jupyterhub.md, remote-checker.md.

Each notebook page starts with a box that links the untouched notebook for download and says how
to open it in JupyterLab. Links between the included files are rewritten to the pages; a link to a
file the site does not include becomes the file's path in the repository (so a guide's link to,
say, nbgrader_config.py never breaks the build). Interactive explorers show their static fallback;
a widget that stored no figure says that it needs a running notebook.

Sphinx runs with warnings as errors (``-W --keep-going``): a broken cross-reference, a missing
image or an unknown directive fails the build. The build is always a full one, so a warning can
never hide in an incremental rebuild.
"""

from __future__ import annotations

import argparse
import copy
import os
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
NOTEBOOK_GLOB = "[0-9][0-9]-*.ipynb"
GUIDES = ("instructors.md", "jupyterhub.md", "remote-checker.md")  # docs/ pages, in this order
MAP_MARKER = "<!-- course map -->"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TOTAL_RE = re.compile(r"\*\*Total:\s*(\d+(?:\.\d+)?)\s*points\*\*")
# [text](target) and ![alt](target); the target has no spaces (none of the course's links do)
LINK_RE = re.compile(r"(!?)\[([^\]\n]*)\]\(([^)\s]+)\)")
WIDGET_NOTE = ('<p class="fnn-widget-note">An interactive control is here when the notebook runs '
               "(open it in JupyterLab to use it); the website shows only what the notebook stored.</p>")


class SiteError(RuntimeError):
    """The course's files are not what the site builder expects (said with the likely fix)."""


@dataclass
class Unit:
    number: int
    id: str
    title: str                       # the lecture's title without "Unit N —"
    summary: str                     # the lecture's opening paragraph (what the unit teaches)
    lecture: str | None              # repo path of the lecture notebook
    assignment: list[str]            # repo paths of the release notebooks
    assignment_title: str | None
    assignment_summary: str | None
    points: float | None


# --------------------------------------------------------------------------- what goes where


def lectures() -> list[Path]:
    return sorted((ROOT / "lectures").glob(NOTEBOOK_GLOB))


def release_notebooks() -> dict[str, list[Path]]:
    """{assignment id: its release notebooks} from exercises/ (never solutions/)."""
    out = {}
    if not (ROOT / "exercises").is_dir():
        return out
    for folder in sorted(p for p in (ROOT / "exercises").iterdir() if p.is_dir() and not p.name.startswith(".")):
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


def rewrite_links(markdown: str, repo_file: str, staged_file: str, stage: Path) -> str:
    """Relative links of a Markdown text (from ``repo_file``) made to work on the page ``staged_file``."""
    repo_dir = PurePosixPath(repo_file).parent
    staged_dir = PurePosixPath(staged_file).parent

    def fix(m: re.Match) -> str:
        bang, text, target = m.groups()
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return m.group(0)  # a web address, mailto:, an anchor on the same page
        path, _, anchor = target.partition("#")
        resolved = os.path.normpath((repo_dir / path).as_posix())
        where = site_path(resolved)
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
            return f"`{resolved}` (in the course's repository)"
        return f"{text} (`{resolved}` in the course's repository)"

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
    colon brings the list that follows it."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", markdown) if p.strip()]
    body = [p for p in paras if not p.startswith("#")]
    if not body:
        return ""
    first = " ".join(body[0].split())
    if first.endswith(":") and len(body) > 1 and re.match(r"(\d+[.)]|[-*+])\s", body[1]):
        first += "\n\n" + body[1]
    return first


def _title(nb, path: Path) -> str:
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    m = re.match(r"\s*#\s+(.+)", first.source) if first else None
    if not m:
        raise SiteError(f"{path.relative_to(ROOT)}: the first Markdown cell must start with the page's title "
                        f"as a level-1 heading ('# Unit N — Topic'); it starts with "
                        f"{(first.source[:60] if first else 'no Markdown cell')!r}")
    return m.group(1).strip()


def source_box(kind: str, repo_path: str, download: str) -> str:
    """The box at the top of every notebook page: the notebook for download, how to run it."""
    if kind == "lecture":
        what = (f"This page is the notebook `{repo_path}` with its stored outputs: "
                f"{{download}}`download it <{download}>`.")
        then = "then *Run → Run All Cells*"
    else:
        what = (f"This page shows the tasks of `{repo_path}`, the notebook you complete and hand in: "
                f"{{download}}`download it <{download}>`.")
        then = "write your answers there and press **Validate** to run the visible tests"
    return "\n".join([
        ":::{admonition} Open it in JupyterLab",
        ":class: fnn-source tip",
        f"{what} To run it, clone the course and type `make lab`: JupyterLab opens on the start page "
        f"`START.md`, which links every notebook; {then}.",
        ":::",
    ])


def stage_notebook(src: Path, staged: str, stage: Path, kind: str) -> None:
    """Copy ``src`` untouched for download into _notebooks/, and a page version to ``staged``."""
    repo_path = src.relative_to(ROOT).as_posix()
    original = stage / "_notebooks" / repo_path
    original.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, original)

    nb = nbformat.read(str(src), as_version=4)
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)  # widget state would make MyST-NB load a widget manager
    _title(nb, src)
    staged_dir = PurePosixPath(staged).parent
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source, repo_path, staged, stage)
        if cell.cell_type == "code":
            cell.outputs = _static_outputs(cell.get("outputs", []))
        if kind == "assignment":
            _label(cell)
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown")
    title, _, rest = nb.cells[first].source.lstrip().partition("\n")
    box = source_box(kind, repo_path, os.path.relpath(original.relative_to(stage).as_posix(), staged_dir.as_posix()))
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


def _static_outputs(outputs: list) -> list:
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
            out["data"] = {"text/html": WIDGET_NOTE}
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


def units() -> list[Unit]:
    releases = release_notebooks()
    ids = sorted({p.stem for p in lectures()} | set(releases))
    out = []
    for uid in ids:
        m = re.match(r"(\d\d)-", uid)
        if not m:
            continue
        lecture = ROOT / "lectures" / f"{uid}.ipynb"
        title = summary = None
        if lecture.exists():
            nb = nbformat.read(str(lecture), as_version=4)
            title = re.sub(r"^Unit\s+\d+\s*[—–:-]\s*", "", _title(nb, lecture))
            summary = _first_paragraph(next(c for c in nb.cells if c.cell_type == "markdown").source)
        a_title = a_summary = points = None
        if uid in releases:
            nb = nbformat.read(str(releases[uid][0]), as_version=4)
            first = next(c for c in nb.cells if c.cell_type == "markdown")
            a_title = re.sub(r"^Assignment\s+\d+\s*[—–:-]\s*", "", _title(nb, releases[uid][0]))
            a_summary = _first_paragraph(first.source)
            totals = [float(t.group(1)) for nb_path in releases[uid]
                      for c in nbformat.read(str(nb_path), as_version=4).cells[:3] if c.cell_type == "markdown"
                      for t in [TOTAL_RE.search(c.source)] if t]
            points = sum(totals) if totals else None
        out.append(Unit(int(m.group(1)), uid, title or a_title or uid, summary or a_summary or "",
                        f"lectures/{uid}.ipynb" if lecture.exists() else None,
                        [p.relative_to(ROOT).as_posix() for p in releases.get(uid, [])],
                        a_title, a_summary, points))
    return out


def course_map(us: list[Unit]) -> str:
    parts = []
    for u in us:
        parts.append(f"### Unit {u.number} · {u.title}\n")
        parts.append(u.summary + "\n")
        links = []
        if u.lecture:
            links.append(f"**Read** [lecture {u.number}]({site_path(u.lecture)})")
        for path in u.assignment:
            pts = f" ({u.points:g} points)" if u.points is not None and len(u.assignment) == 1 else ""
            links.append(f"**Do** [assignment {u.number}]({site_path(path)}){pts}")
        parts.append(" · ".join(links) + "\n")
    return "\n".join(parts)


def toctrees(us: list[Unit]) -> str:
    def tree(caption: str, entries: list[str]) -> str:
        return "\n".join(["```{toctree}", ":hidden:", f":caption: {caption}", ""] + entries + ["```", ""])

    return "\n".join([
        tree("Lectures", [site_path(u.lecture).removesuffix(".ipynb") for u in us if u.lecture]),
        tree("Assignments", [site_path(p).removesuffix(".ipynb") for u in us for p in u.assignment]),
        tree("Reference", ["glossary"]),
        tree("Instructors", [f"instructors/{g.removesuffix('.md')}" for g in GUIDES
                             if (ROOT / "docs" / g).exists()]),
    ])


# --------------------------------------------------------------------------- staging and building


def page_of(repo_path: str) -> str:
    """The built page (a path in the site) of a repository file that the site includes."""
    where = site_path(repo_path)
    if where is None:
        raise SiteError(f"{repo_path} is not on the website (only lectures, the release, GLOSSARY.md and "
                        f"the guides {', '.join(GUIDES)} in docs/ are)")
    return str(PurePosixPath(where).with_suffix(".html"))


def expected_pages() -> dict[str, str | None]:
    """{built page: the repository file it comes from (None for Sphinx's own pages)} for the
    current lectures, release and guides."""
    pages: dict[str, str | None] = {"index.html": "site/index.md", "search.html": None}
    for u in units():
        for path in ([u.lecture] if u.lecture else []) + u.assignment:
            pages[page_of(path)] = path
    for repo_file in ["GLOSSARY.md"] + [f"docs/{g}" for g in GUIDES]:
        if (ROOT / repo_file).exists():
            pages[page_of(repo_file)] = repo_file
    return pages



def stage(dest: Path) -> list[Unit]:
    """Write every source page of the site into ``dest`` (emptied first)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    us = units()
    if not us:
        raise SiteError("no lecture in lectures/ and no assignment in exercises/: nothing to build")
    template = (CONF_DIR / "index.md").read_text(encoding="utf-8")
    if MAP_MARKER not in template:
        raise SiteError(f"site/index.md must hold the line {MAP_MARKER!r} where the course map goes")
    index = template.replace(MAP_MARKER, course_map(us)) + "\n" + toctrees(us)
    (dest / "index.md").write_text(index, encoding="utf-8")
    for u in us:
        if u.lecture:
            stage_notebook(ROOT / u.lecture, site_path(u.lecture), dest, "lecture")
        for path in u.assignment:
            stage_notebook(ROOT / path, site_path(path), dest, "assignment")
    for repo_file in ["GLOSSARY.md"] + [f"docs/{g}" for g in GUIDES]:
        if not (ROOT / repo_file).exists():
            continue
        staged = site_path(repo_file)
        text = rewrite_links((ROOT / repo_file).read_text(encoding="utf-8"), repo_file, staged, dest)
        (dest / staged).parent.mkdir(parents=True, exist_ok=True)
        (dest / staged).write_text(text, encoding="utf-8")
    return us


def sphinx_args(src: Path, out: Path, *, quiet: bool = True) -> list[str]:
    """sphinx-build's arguments: the course's configuration, a full build, warnings are errors."""
    return ["-W", "--keep-going", "-E", "-b", "html", "-c", str(CONF_DIR), "-d", str(src / ".doctrees"),
            str(src), str(out)] + (["-q"] if quiet else [])


def sphinx_build(src: Path, out: Path, *, quiet: bool = True) -> str:
    """Run Sphinx (in this process: no second start-up and imports) on staged sources with the
    course's configuration; warnings are errors.

    Returns Sphinx's warnings output; raises SiteError with the warnings when the build warns or fails."""
    import contextlib
    import io
    import warnings

    from sphinx.cmd.build import build_main

    args = sphinx_args(src, out, quiet=quiet)
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


def build(out: Path = DEFAULT_OUT, *, quiet: bool = True) -> dict:
    """Stage and build the site into ``out`` (its sources go to ``<out>-src``, beside it).

    Returns {'seconds', 'bytes', 'pages', 'out'}; raises SiteError when the build warns or fails."""
    start = time.monotonic()
    out = Path(out).resolve()
    src = out.parent / (out.name + "-src")
    stage(src)
    if out.exists():
        shutil.rmtree(out)
    sphinx_build(src, out, quiet=quiet)
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve _static/ and _images/ as they are
    files = [p for p in out.rglob("*") if p.is_file()]
    return {"seconds": time.monotonic() - start, "bytes": sum(p.stat().st_size for p in files),
            "pages": sum(1 for p in files if p.suffix == ".html" and "_static" not in p.relative_to(out).parts),
            "out": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: build/site)")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    args = parser.parse_args(argv)
    try:
        r = build(args.out, quiet=not args.verbose)
    except SiteError as e:
        print(f"==> the site was not built: {e}", file=sys.stderr)
        return 1
    rel = r["out"].relative_to(ROOT) if r["out"].is_relative_to(ROOT) else r["out"]
    print(f"==> {r['pages']} pages, {r['bytes'] / 1e6:.1f} MB in {rel}/ (built in {r['seconds']:.1f} s, "
          f"no warnings); open {rel}/index.html in a browser")
    return 0


if __name__ == "__main__":
    sys.exit(main())
