"""The Chinese edition (中文版) never drifts from the English: tools/i18n.py and the committed zh/.

- every translation in i18n/zh/ is current (hash of the English it translates), complete, and keeps
  the English's math, code, links and numbers and the glossary's terms;
- zh/ is exactly what ``make zh`` writes from them;
- an English cell edited without its translation fails the check, naming the cell (on a copy);
- the Chinese release keeps every grade, answer and code cell of the English release byte for byte,
  and the Chinese lectures every code cell and stored output, so one source grades both.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import i18n  # noqa: E402


def _problems_text(problems) -> str:
    return "\n".join(str(p) for p in problems[:60]) + (f"\n... {len(problems) - 60} more" if len(problems) > 60 else "")


# --------------------------------------------------------------------------- the committed edition


def test_every_translation_is_current_complete_and_keeps_the_invariants():
    problems = i18n.check()
    assert not problems, f"{len(problems)} translation problem(s) (python tools/i18n.py check):\n{_problems_text(problems)}"


def test_generated_edition_is_what_make_zh_writes():
    differ = i18n.generate(check_only=True)
    assert not differ, f"zh/ is not what the translations give (run make zh and commit zh/): {differ}"


def _release_pairs():
    for src in i18n.sources():
        if src.kind == "release":
            yield pytest.param(src, id=src.path.parent.name)


@pytest.mark.parametrize("src", list(_release_pairs()))
def test_chinese_release_keeps_every_grade_answer_and_code_cell(src):
    en = nbformat.read(src.path, as_version=4)
    zh = nbformat.read(src.output, as_version=4)
    assert [c["id"] for c in en.cells] == [c["id"] for c in zh.cells], "the cells differ in number or order"
    assert zh.metadata["fnn_course"]["language"] == "zh"
    assert zh.metadata["kernelspec"] == en.metadata["kernelspec"]
    translated = 0
    for a, b in zip(en.cells, zh.cells):
        nbg = a.get("metadata", {}).get("nbgrader", {})
        if a["cell_type"] == "code" or nbg.get("grade") or nbg.get("solution"):
            assert a == b, f"cell {a['id']} ({a['cell_type']}, {nbg.get('grade_id')}) differs from the English release"
        else:
            assert a["metadata"].get("nbgrader", {}).keys() == b["metadata"].get("nbgrader", {}).keys()
            translated += a["source"] != b["source"]
            if "checksum" in nbg:  # nbgrader validate must see the Chinese task text as unchanged
                from nbgrader.utils import compute_checksum
                assert b["metadata"]["nbgrader"]["checksum"] == compute_checksum(b)
    assert translated, "no task text of the release is translated"


@pytest.mark.parametrize("src", [s for s in i18n.sources() if s.kind == "lecture"], ids=lambda s: s.path.stem)
def test_chinese_lecture_shares_every_code_cell_and_output(src):
    en = nbformat.read(src.path, as_version=4)
    zh = nbformat.read(src.output, as_version=4)
    assert [c["id"] for c in en.cells] == [c["id"] for c in zh.cells]
    for a, b in zip(en.cells, zh.cells):
        if a["cell_type"] != "markdown":
            assert a == b, f"code cell {a['id']} or its outputs differ from the English lecture"
    prose = "".join(c["source"] for c in zh.cells if c["cell_type"] == "markdown")
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in prose)
    assert cjk > 2000, f"lecture {src.path.stem} holds only {cjk} Chinese characters"


# --------------------------------------------------------------------------- drift, on a copy


@pytest.fixture
def copy_of_course(tmp_path, monkeypatch):
    """The English sources, the translations and zh/ copied; tools/i18n.py pointed at the copy."""
    for rel in ("lectures", "exercises", "i18n", "zh"):
        shutil.copytree(ROOT / rel, tmp_path / rel, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for rel in ("START.md", "README.md", "GLOSSARY.md", "site/index.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    monkeypatch.setattr(i18n, "ROOT", tmp_path)
    monkeypatch.setattr(i18n, "I18N", tmp_path / "i18n" / "zh")
    monkeypatch.setattr(i18n, "OUT", tmp_path / "zh")
    return tmp_path


def _edit_cell(path: Path, index_of_markdown: int, edit) -> str:
    nb = nbformat.read(path, as_version=4)
    cell = [c for c in nb.cells if c["cell_type"] == "markdown"][index_of_markdown]
    cell["source"] = edit(cell["source"])
    nbformat.write(nb, path)
    return cell["id"]


def test_an_english_edit_without_its_translation_fails_naming_the_cell(copy_of_course):
    lecture = copy_of_course / "lectures" / "05-backpropagation.ipynb"
    cell = _edit_cell(lecture, 3, lambda s: s + "\n\nOne more sentence the translation does not have.")
    problems = i18n.check()
    named = [p for p in problems if f" cell {cell}" in p.where]
    assert len(named) == 1 and len(problems) == 1, _problems_text(problems)
    assert "05-backpropagation.md" in named[0].where and "English changed" in named[0].what
    assert "+One more sentence the translation does not have." in named[0].what   # the diff is shown
    with pytest.raises(i18n.I18nError, match=cell):
        i18n.generate(check_only=True)
    # the translator updates the translation and records the new English: the check passes again
    tf = i18n.read_translation(copy_of_course / "i18n" / "zh" / "lectures" / "05-backpropagation.md")
    entry = tf.by_key()[cell]
    entry.text += "\n\n再补充一句译文。"
    i18n.write_translation(tf, "cell")
    assert i18n.refresh(next(s for s in i18n.sources() if s.path == lecture), [cell]) == [cell]
    assert i18n.check() == []


def test_a_new_english_cell_without_translation_fails(copy_of_course):
    lecture = copy_of_course / "lectures" / "02-feedforward-networks.ipynb"
    nb = nbformat.read(lecture, as_version=4)
    new = nbformat.v4.new_markdown_cell("A brand new paragraph.")
    nb.cells.insert(5, new)
    nbformat.write(nb, lecture)
    problems = i18n.check()
    assert [p for p in problems if new["id"] in p.where and "no translation" in p.what], _problems_text(problems)


def test_a_deleted_english_cell_leaves_an_orphan_that_fails(copy_of_course):
    lecture = copy_of_course / "lectures" / "03-universal-approximation.ipynb"
    nb = nbformat.read(lecture, as_version=4)
    gone = [c for c in nb.cells if c["cell_type"] == "markdown"][2]
    nb.cells.remove(gone)
    nbformat.write(nb, lecture)
    problems = i18n.check()
    assert [p for p in problems if gone["id"] in p.where and "orphaned" in p.what], _problems_text(problems)


def test_a_hand_edit_of_the_generated_edition_is_caught(copy_of_course):
    out = copy_of_course / "zh" / "START.md"
    out.write_text(out.read_text(encoding="utf-8") + "\n手工改动。\n", encoding="utf-8")
    assert i18n.generate(check_only=True) == ["zh/START.md"]


# --------------------------------------------------------------------------- the invariants


def _problems_for(english: str, chinese: str, tmp_path, monkeypatch) -> list[str]:
    """check() on a one-document course: START.md holds ``english``, its translation ``chinese``."""
    (tmp_path / "START.md").write_text(english, encoding="utf-8")
    shutil.copy(ROOT / "GLOSSARY.md", tmp_path / "GLOSSARY.md")
    monkeypatch.setattr(i18n, "ROOT", tmp_path)
    monkeypatch.setattr(i18n, "I18N", tmp_path / "i18n" / "zh")
    monkeypatch.setattr(i18n, "OUT", tmp_path / "zh")
    src = i18n.Source("doc", tmp_path / "START.md", tmp_path / "i18n" / "zh" / "START.md", tmp_path / "zh" / "START.md")
    tf = i18n.TranslationFile(src.translation, "")
    tf.entries.append(i18n.Entry("top", i18n.en_hash(english), english, chinese, 0))
    i18n.write_translation(tf, "section")
    return [p.what for p in i18n.check([src])]


EN = ("The **activation function** $f$ maps the net input $z = w^{\\top} x + b$ of a neuron to its "
      "activation; see [Lecture 2](lectures/02-feedforward-networks.ipynb) and `np.exp`, 3 cases.")
ZH = ("神经元的**激活函数** $f$ 把净输入 $z = w^{\\top} x + b$ 映射为它的活性值；见"
      "[第 2 讲](lectures/02-feedforward-networks.ipynb)和 `np.exp`，共 3 种情形。")


def test_a_faithful_translation_passes(tmp_path, monkeypatch):
    assert _problems_for(EN, ZH, tmp_path, monkeypatch) == []


@pytest.mark.parametrize("broken, complaint", [
    (ZH.replace("w^{\\top} x", "x^{\\top} w"), "math differ"),
    (ZH.replace("`np.exp`", "np.exp"), "code differ"),
    (ZH.replace("02-feedforward-networks.ipynb", "02-feedforward.ipynb"), "links differ"),
    (ZH.replace("共 3 种", "共 4 种"), "numbers differ"),
    (ZH.replace("激活函数", "启动函数"), "activation function → 激活函数"),
    (ZH.replace("活性值", "输出"), "activation → 活性值"),
    ("TODO", "not translated yet"),
])
def test_a_translation_that_breaks_an_invariant_is_named(broken, complaint, tmp_path, monkeypatch):
    problems = _problems_for(EN, broken, tmp_path, monkeypatch)
    assert any(complaint in p for p in problems), problems


def test_a_glossary_exemption_needs_its_reason_and_works(tmp_path, monkeypatch):
    without = ZH.replace("活性值", "输出")
    exempt = without + "<!-- glossary-exempt: activation — 此处指神经元的输出 -->"
    assert _problems_for(EN, exempt, tmp_path, monkeypatch) == []
    no_reason = without + "<!-- glossary-exempt: activation -->"
    assert _problems_for(EN, no_reason, tmp_path, monkeypatch)


def test_same_keeps_the_english(tmp_path, monkeypatch):
    assert _problems_for("$$a = f(z)$$", "=", tmp_path, monkeypatch) == []


def test_partial_drafts_never_overwrite_the_checked_edition():
    assert i18n.main(["generate", "--partial"]) == 2


def test_glossary_pairs_slash_separated_terms():
    terms = {t.english: t.chinese for t in i18n.glossary()}
    assert terms["hidden layer"] == ["隐藏层"] and terms["output layer"] == ["输出层"]
    assert "神经元" in terms["neuron"]
    assert terms["backpropagation"] == ["反向传播"]
