"""The Chinese edition of the messages code writes (fnnlib/i18n.py, fnnlib/locales/zh.toml).

- the catalog covers every message (found statically by tools/messages.py) and holds nothing else;
- a translation keeps the English's placeholders and numbers, and is Chinese;
- a failing check speaks Chinese under FNN_LANG=zh (or use_language("zh")) and English otherwise,
  with the English byte for byte what it was;
- the language setting: use_language > FNN_LANG > the settings file > English, and a clear error for
  a value the course does not know.
"""

from __future__ import annotations

import json
import re
import string
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from fnnlib import i18n
from fnnlib.checks import call_answer, check_array, check_does_not_use, check_function, check_sympy_steps
from fnnlib.i18n import LanguageError, language, tr, use_language

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import messages as M  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def entries():
    return M.catalog_entries()


@pytest.fixture(scope="module")
def found():
    return {"library": M.library_messages(),
            "assignments": [m for nb in M.assignments() for m in M.assignment_messages(nb)],
            "quizzes": [m for nb in M.lectures() for m in M.quiz_messages(nb)]}


def _missing(messages, entries):
    have = {e["en"] for e in entries}
    return sorted({f"{m.where}: {m.text!r}" for m in messages if m.text not in have})


# --------------------------------------------------------------------------- the catalog


def test_catalog_parses_and_every_entry_has_en_and_zh_once(entries):
    assert entries, "fnnlib/locales/zh.toml has no [[message]] entries"
    bad = [e for e in entries if set(e) != {"en", "zh"} or not all(isinstance(e[k], str) and e[k] for k in e)]
    assert not bad, f"entries need exactly a non-empty en and zh: {bad[:3]}"
    twice = [en for en, n in Counter(e["en"] for e in entries).items() if n > 1]
    assert not twice, f"English texts with two entries: {twice}"


def test_every_library_message_has_a_translation(found, entries):
    missing = _missing(found["library"], entries)
    assert not missing, ("messages of fnnlib without a zh entry (python tools/messages.py missing prints "
                         "them as TOML):\n" + "\n".join(missing))


def test_every_assignment_message_has_a_translation(found, entries):
    missing = _missing(found["assignments"], entries)
    assert not missing, ("messages of the tests in solutions/ without a zh entry (python tools/messages.py "
                         "missing):\n" + "\n".join(missing))


def test_every_quiz_text_has_a_translation(found, entries):
    missing = _missing(found["quizzes"], entries)
    assert not missing, "quiz texts without a zh entry (python tools/messages.py missing):\n" + "\n".join(missing)


def test_no_entry_is_left_over(found, entries):
    used = {m.text for ms in found.values() for m in ms}
    unused = [e["en"] for e in entries if e["en"] not in used]
    assert not unused, f"entries for messages no code has any more (delete them): {unused}"


def test_test_cell_messages_go_through_tr():
    """A raise AssertionError(...) or assert ..., msg in a test or helper cell translates its message."""
    found = [u for nb in M.assignments() if nb.parent.name in M.WRAPPED for u in M.unwrapped(nb)]
    assert not found, "messages in test cells that skip tr():\n" + "\n".join(found)


def test_test_cell_templates_can_be_recognised():
    """An f-string message is translated by recognising its template in the finished text, which needs
    some text of its own besides the placeholders."""
    found = [u for nb in M.assignments() for u in M.unmatchable(nb)]
    assert not found, ("f-string messages with too little text to be recognised (write more words, or call "
                       "tr with the values as keywords):\n" + "\n".join(found))


def _numbers(text: str) -> Counter:
    literal = "".join(lit for lit, _, _, _ in string.Formatter().parse(text))
    return Counter(re.findall(r"\d+(?:\.\d+)?(?:e-?\d+)?", literal))


def test_translations_keep_placeholders_and_numbers_and_are_chinese(entries):
    problems = []
    for e in entries:
        en, zh = e["en"], e["zh"]
        if Counter(i18n.fields(en)) and set(i18n.fields(en)) != set(i18n.fields(zh)):
            problems.append(f"placeholders {sorted(set(i18n.fields(en)))} != {sorted(set(i18n.fields(zh)))}: {en!r}")
        if _numbers(en) != _numbers(zh):
            problems.append(f"numbers {sorted(_numbers(en).elements())} != {sorted(_numbers(zh).elements())}: {en!r}")
        if not CJK.search(zh) and not re.search(r"[\u3000-\u303f\uff00-\uffef]", zh):
            problems.append(f"neither Chinese nor full-width punctuation in the translation: {zh!r}")
        if en.endswith("\n") != zh.endswith("\n"):
            problems.append(f"trailing newline differs: {en!r} -> {zh!r}")
    assert not problems, "\n".join(problems)


def test_chinese_uses_full_width_punctuation_after_chinese_text(entries):
    bad = [e["zh"] for e in entries if re.search(r"[\u4e00-\u9fff][,;:?!](\s|$)", e["zh"])]
    assert not bad, f"half-width punctuation right after Chinese text: {bad[:5]}"


# --------------------------------------------------------------------------- tr


def test_tr_fills_a_template_and_finds_a_finished_text():
    with use_language("zh"):
        assert tr("{name} is not answered yet: {advice}.", name="f", advice="x") == "f 还没有作答：x。"
        finished = "the shape of W, (2, 3)"
        assert tr(finished) == "与 W 相同的形状 (2, 3)"
        assert tr("the shape of z") == "与 z 相同的形状"  # an instance of the template "the shape of {name}"
        assert tr("a text nobody translated") == "a text nobody translated"
    assert tr("the shape of z") == "the shape of z"
    assert tr("{name} is not answered yet: {advice}.", name="f", advice="x") == "f is not answered yet: x."


# --------------------------------------------------------------------------- failing checks


def _message(fn, *args, **kwargs) -> str:
    try:
        fn(*args, **kwargs)
    except (AssertionError, NotImplementedError) as exc:
        return str(exc)
    raise AssertionError(f"{fn.__name__} did not fail")


def _wrong(x):
    return 2.0 * x


def _stub(x):
    # YOUR CODE HERE
    raise NotImplementedError()


CASES = [
    (check_function, (_wrong, lambda x: 3.0 * x, np.array([1.0, 2.0, 3.0]), "triple"),
     {"mistakes": {"this is 2x, not 3x: the factor is wrong.": _wrong}},
     ["triple: 3 of 3 values differ from the expected ones.", "Likely mistake: this is 2x, not 3x",
      "This was for the call triple(x) with x = [1., 2., 3.]."],
     ["triple：3 个值中有 3 个与应有值不同。", "可能的错误：this is 2x", "出错的调用是 triple(x)，其中 x = [1., 2., 3.]。"]),
    (check_array, (np.array([[0.5], [0.75]]), [0.5, 0.75], "logistic(x)"), {"symbols": "the shape of x"},
     ["logistic(x): got shape (2, 1); expected shape (2,) (the shape of x). It has an extra last axis of length 1"],
     ["logistic(x)：得到形状 (2, 1)；应为形状 (2,)（与 x 相同的形状）。它多了一个长度为 1 的最后一维"]),
    (call_answer, (_stub, "_stub", 0.0), {},
     ["_stub is not answered yet: write your code where it says # YOUR CODE HERE"],
     ["_stub 还没有作答：在写着 # YOUR CODE HERE 的地方写出你的代码"]),
    (check_does_not_use, (lambda x: np.tanh(x), ["tanh"], "f"), {"why": "use your own logistic."},
     ["f uses tanh, which this exercise asks you not to call: use your own logistic."],
     ["f 用到了 tanh，而本练习要求你不要调用它：请用你自己的 logistic。"]),
]


@pytest.mark.parametrize("check, args, kwargs, en_parts, zh_parts", CASES, ids=[c[0].__name__ for c in CASES])
def test_a_failing_check_speaks_the_language(check, args, kwargs, en_parts, zh_parts, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("FNN_LANG", raising=False)
    english = _message(check, *args, **kwargs)
    assert all(p in english for p in en_parts), english
    assert not CJK.search(english.replace("中文", "")), english
    monkeypatch.setenv("FNN_LANG", "zh")
    chinese = _message(check, *args, **kwargs)
    assert all(p in chinese for p in zh_parts), chinese
    with use_language("en"):
        assert _message(check, *args, **kwargs) == english


def test_a_sympy_derivation_fails_in_chinese():
    import sympy as sp

    x = sp.Symbol("x")
    start, end = sp.Derivative(x * sp.exp(x), x), (1 + x) * sp.exp(x)
    with use_language("zh"):
        msg = _message(check_sympy_steps, [start, sp.exp(x) - x * sp.exp(x), end], start, end, "product rule")
    assert msg.startswith("product rule：第 2 步不等于第 1 步：\n  第 1 步：Derivative(x*exp(x), x)"), msg
    assert "错误出在从第 1 步到第 2 步的过程中。" in msg


def test_a_test_cells_f_string_message_is_translated_from_its_finished_text():
    """A message an assignment's test cell builds with an f-string is found by its template."""
    with use_language("zh"):
        text = tr("this is σ(x) itself, not its derivative.")
    assert text == "这是 σ(x) 本身，不是它的导数。"


# --------------------------------------------------------------------------- the setting


@pytest.fixture
def config(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("FNN_LANG", raising=False)
    return tmp_path / "fnn-course" / "settings.json"


def test_default_is_english(config):
    assert language() == "en"


def test_settings_file_then_env_then_use_language(config, monkeypatch):
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"language": "zh", "other": 1}))
    assert language() == "zh"
    monkeypatch.setenv("FNN_LANG", "en")
    assert language() == "en"
    with use_language("zh"):
        assert language() == "zh"
        with use_language("en"):
            assert language() == "en"
        assert language() == "zh"
    assert language() == "en"


@pytest.mark.parametrize("where", ["env", "file", "use_language"])
def test_an_unknown_language_is_a_clear_error(config, monkeypatch, where):
    if where == "env":
        monkeypatch.setenv("FNN_LANG", "fr")
    elif where == "file":
        config.parent.mkdir(parents=True)
        config.write_text(json.dumps({"language": "fr"}))
    with pytest.raises(LanguageError) as info:
        if where == "use_language":
            with use_language("fr"):
                pass
        else:
            language()
    text = str(info.value)
    assert "'fr'" in text and "'en' or 'zh'" in text and "python -m fnnlib.language zh" in text, text
    if where != "use_language":
        assert ("FNN_LANG" if where == "env" else str(config)) in text


def test_a_broken_settings_file_is_a_clear_error(config):
    config.parent.mkdir(parents=True)
    config.write_text("{language: zh")
    with pytest.raises(LanguageError, match=r"cannot be read .*expected JSON such as"):
        language()


def test_the_command_writes_and_shows_the_setting(config):
    env = {"XDG_CONFIG_HOME": str(config.parents[1]), "PATH": "/usr/bin:/bin"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "fnnlib.language", *a], env=env, cwd=ROOT,  # noqa: E731
                                    capture_output=True, text=True)
    assert run("show").stdout == "en\n"
    done = run("zh")
    assert done.returncode == 0 and str(config) in done.stdout, done
    assert json.loads(config.read_text()) == {"language": "zh"}
    assert run("show").stdout == "zh\n"
    bad = run("fr")
    assert bad.returncode == 2 and "usage: python -m fnnlib.language zh|en|show" in bad.stderr


def test_a_test_cells_composed_message_is_translated_whole(monkeypatch):
    """A1's helper check_exact_derivative adds its own sentence to check_function's message: under zh
    both parts are Chinese (the f-string's template is found with the translated message inside)."""
    import nbformat

    nb = nbformat.read(str(ROOT / "solutions/01-neuron-activations/01-neuron-activations.ipynb"), as_version=4)
    ns: dict = {}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in ("imports", "test_helpers"):
            exec(cell.source, ns)  # noqa: S102 (the course's own helper cells)

    def finite_difference_grad(x):
        return (np.tanh(x + 1e-5) - np.tanh(x - 1e-5)) / 2e-5

    args = (finite_difference_grad, lambda z: 1 - np.tanh(z) ** 2, np.array([0.3, -1.2]), "tanh_grad")
    monkeypatch.setenv("FNN_LANG", "zh")
    msg = _message(ns["check_exact_derivative"], *args)
    assert msg.startswith("tanh_grad：2 个值中有 2 个与应有值不同。"), msg
    assert msg.endswith("\ntanh_grad 与导数的吻合程度约为 1e-6，却达不到 1e-11：这是数值近似（有限差分）的精度，"
                        "而不是导数公式的精度。请返回你推导出的公式；有限差分是用来检验它的。"), msg
    monkeypatch.setenv("FNN_LANG", "en")
    assert "tanh_grad agrees with the derivative to about 1e-6 but not to 1e-11" in _message(ns["check_exact_derivative"], *args)


def test_a_changed_settings_file_is_read_again(config):
    """A new setting takes effect at once (the file is read at every lookup), other keys are kept."""
    i18n.save_language("zh")
    assert language() == "zh"
    i18n.save_language("en")
    assert language() == "en" and json.loads(config.read_text()) == {"language": "en"}
    config.write_text(json.dumps({"language": "zh", "theme": "dark"}))
    assert language() == "zh"
    i18n.save_language("en")
    assert json.loads(config.read_text()) == {"language": "en", "theme": "dark"}  # other keys kept
