"""Tests for fnnlib.quiz: feedback for each kind of question, clear errors, the static fallback, the widgets."""

from __future__ import annotations

import html.parser
import re

import nbformat
import pytest
import sympy

from fnnlib.quiz import Choice, Expression, Feedback, Numeric, Quiz


def make_quiz():
    return Quiz(
        "unit-03",
        [
            Choice(
                "Which activation is zero-centred?",
                options=["logistic σ", "tanh", "ReLU"],
                answer=1,
                explain="tanh(−z) = −tanh(z), so tanh(0) = 0.",
                notes=["σ(0) = 1/2, so its outputs are all positive", "", "ReLU(z) ≥ 0 for every z."],
            ),
            Numeric("How many parameters has a 3-4-2 network?", answer=26, explain="(3 + 1)·4 + (4 + 1)·2 = 26."),
            Numeric("What is the largest value of σ'(z)?", answer=0.25, tol=1e-3, explain="σ' = σ(1 − σ) ≤ 1/4."),
            Expression("Write σ'(z) in terms of s = σ(z).", answer="s*(1-s)", symbols="s", explain="Chain rule."),
        ],
    )


# ----------------------------------------------------------------------------- feedback


def test_choice_right_and_wrong_with_per_option_note(capsys):
    quiz = make_quiz()
    fb = quiz.check(0, 1)
    assert isinstance(fb, Feedback) and fb.correct and bool(fb)
    assert fb.message == "Correct: (b) tanh. tanh(−z) = −tanh(z), so tanh(0) = 0."
    assert capsys.readouterr().out.strip() == fb.message
    wrong = quiz.check(0, 0)
    assert not wrong.correct
    assert wrong.message.startswith("Not quite: (a) is not it. σ(0) = 1/2, so its outputs are all positive.")
    assert wrong.message.endswith("tanh(−z) = −tanh(z), so tanh(0) = 0.")  # the explanation after any attempt
    assert "ReLU(z) ≥ 0" in quiz.check(0, 2).message


def test_choice_accepts_index_letter_or_option_text():
    quiz = make_quiz()
    assert quiz.feedback(0, "b").correct
    assert quiz.feedback(0, "(B)").correct
    assert quiz.feedback(0, "tanh").correct
    assert not quiz.feedback(0, "c").correct


def test_numeric_says_too_high_or_too_low():
    quiz = make_quiz()
    assert quiz.feedback(1, 26).correct
    assert quiz.feedback(1, "26").correct
    low, high = quiz.feedback(1, 13), quiz.feedback(1, 30.5)
    assert low.message.startswith("Not quite: 13 is too low.")
    assert high.message.startswith("Not quite: 30.5 is too high.")
    assert low.message.endswith("(3 + 1)·4 + (4 + 1)·2 = 26.")


def test_numeric_tolerance_and_fractions():
    quiz = make_quiz()
    assert quiz.feedback(2, "1/4").correct
    assert quiz.feedback(2, 0.2505).correct  # within tol = 1e-3
    assert not quiz.feedback(2, 0.252).correct
    assert "too high" in quiz.feedback(2, 0.252).message
    assert quiz.feedback(2, "2^-2").correct


def test_numeric_exact_by_default_but_allows_float_rounding():
    q = Numeric("0.1 + 0.2?", answer=0.3)
    assert q.feedback(0.1 + 0.2).correct
    assert not q.feedback(0.3001).correct


def test_expression_equivalence_by_sympy():
    quiz = make_quiz()
    for given in ("s*(1-s)", "s - s**2", "s - s^2", "s(1 - s)", "-(s-1)*s"):
        assert quiz.feedback(3, given).correct, given
    s = sympy.Symbol("s")
    assert quiz.feedback(3, s - s**2).correct  # a SymPy expression works too
    wrong = quiz.feedback(3, "s*(1+s)")
    assert not wrong.correct and "not equivalent" in wrong.message


def test_expression_symbols_win_over_known_names():
    q = Expression("gradient of e^2/2 with respect to e", answer="e", symbols="e")
    assert q.feedback("e").correct and not q.feedback("2.718281828459045").correct
    assert Expression("q", answer="exp(x)", symbols="x").feedback("e^x").correct  # e is Euler's number otherwise


def test_expression_with_functions_uses_numeric_fallback_deterministically():
    q = Expression("tanh in terms of the logistic", answer="2/(1+exp(-2*x)) - 1", symbols="x")
    assert q.feedback("tanh(x)").correct
    assert not q.feedback("tanh(2*x)").correct
    assert [q.feedback("tanh(x)").correct for _ in range(3)] == [True, True, True]


# ----------------------------------------------------------------------------- errors


def test_question_index_errors_are_clear():
    quiz = make_quiz()
    with pytest.raises(IndexError, match=r"no question 4; quiz 'unit-03' has questions 0 to 3"):
        quiz.check(4, 1)
    with pytest.raises(IndexError, match="no question -1"):
        quiz.check(-1, 1)
    with pytest.raises(TypeError, match="question number must be an int"):
        quiz.check("1", 1)
    with pytest.raises(TypeError, match="question number must be an int"):
        quiz.check(True, 1)


def test_wrong_answer_types_are_clear():
    quiz = make_quiz()
    with pytest.raises(ValueError, match=r"question 1 expects an option.*option 7 does not exist"):
        quiz.check(0, 7)
    with pytest.raises(ValueError, match="neither a letter a to c nor the text"):
        quiz.check(0, "sigmoid")
    with pytest.raises(TypeError, match="expected an option index"):
        quiz.check(0, 1.5)
    with pytest.raises(ValueError, match="could not read 'twenty' as a number"):
        quiz.check(1, "twenty")
    with pytest.raises(TypeError, match="expected a number"):
        quiz.check(1, [26])
    with pytest.raises(ValueError, match="uses z; the answer may only use s"):
        quiz.check(3, "z*(1-z)")
    with pytest.raises(ValueError, match="could not read"):
        quiz.check(3, "s*(1-")
    with pytest.raises(TypeError, match="expected an expression as a string"):
        quiz.check(3, 0.25)


def test_bad_question_definitions_are_refused():
    with pytest.raises(ValueError, match="answer = 3 is not an option index; expected 0 to 1"):
        Choice("q", options=["x", "y"], answer=3)
    with pytest.raises(ValueError, match="at least two options"):
        Choice("q", options=["x"], answer=0)
    with pytest.raises(ValueError, match="notes needs one entry per option"):
        Choice("q", options=["x", "y"], answer=0, notes=["only one"])
    with pytest.raises(TypeError, match="answer must be a number"):
        Numeric("q", answer="26")
    with pytest.raises(ValueError, match="tol must be"):
        Numeric("q", answer=1, tol=-1)
    with pytest.raises(ValueError, match="reference answer 's\\*\\(1-' does not parse"):
        Expression("q", answer="s*(1-", symbols="s")
    with pytest.raises(TypeError, match="every question must be a Choice, Numeric or Expression"):
        Quiz("x", [Numeric("q", answer=1), "not a question"])
    with pytest.raises(ValueError, match="at least one question"):
        Quiz("x", [])
    with pytest.raises(TypeError, match="question text"):
        Numeric("", answer=1)


# ----------------------------------------------------------------------------- static fallback


class _Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.details_text, self.outside_details, self.tags = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> (open: {self.stack})"
        self.stack.pop()

    def handle_data(self, data):
        (self.details_text if "details" in self.stack else self.outside_details).append(data)


def test_static_html_lists_questions_options_and_hides_answers_in_details():
    quiz = make_quiz()
    page = quiz.to_html()
    parser = _Collect()
    parser.feed(page)
    parser.close()
    assert parser.stack == [], f"unclosed tags {parser.stack}"
    visible = "".join(parser.outside_details)
    hidden = "".join(parser.details_text)
    for q in quiz.questions:
        assert q.prompt in visible
    for option in quiz.questions[0].options:
        assert option in visible
    assert visible.count("quiz.check(") >= 4
    # every answer and explanation sits inside a <details> block, never outside it
    assert hidden.count("Show answer") == 4
    for text in ("Answer:", "Answer: (b) tanh", "(3 + 1)·4 + (4 + 1)·2 = 26.", "s*(1-s)", "Chain rule."):
        assert text in hidden and text not in visible, text
    assert sum(tag == "details" for tag, _ in parser.tags) == 4
    assert ("div", {"class": "fnn-quiz-static", "data-quiz": "unit-03"}) in parser.tags


def test_static_html_escapes_markup_in_questions():
    quiz = Quiz("x", [Numeric("Is 1 < 2 & 3 > 2? Type 1.", answer=1, explain="<b>yes</b>")])
    page = quiz.to_html()
    assert "1 &lt; 2 &amp; 3 &gt; 2" in page and "&lt;b&gt;yes&lt;/b&gt;" in page


def test_static_markdown_and_text():
    quiz = make_quiz()
    md = quiz.to_markdown()
    assert md.count("<details><summary>Show answer</summary>") == 4 and md.count("</details>") == 4
    assert "- (b) tanh" in md and "**Answer:** (b) tanh." in md
    text = repr(quiz)
    assert "Question 4 [quiz.check(3, …)]" in text and "(c) ReLU" in text
    assert "Answer:" not in text and "(3 + 1)·4" not in text and "s*(1-s)" not in text
    assert set(quiz._repr_mimebundle_()) == {"text/plain", "text/html", "text/markdown"}


def test_static_output_is_reproducible():
    assert make_quiz().static_bundle() == make_quiz().static_bundle()


# ----------------------------------------------------------------------------- widgets


def test_widget_one_row_per_question_and_check_button_gives_feedback():
    ipywidgets = pytest.importorskip("ipywidgets")
    quiz = make_quiz()
    box = quiz.widget()
    assert isinstance(box, ipywidgets.VBox) and "fnn-quiz-widget" in box._dom_classes
    assert len(box.children) == len(quiz)
    radio_row = box.children[0]
    prompt, (entry, button), result = radio_row.children[0], radio_row.children[1].children, radio_row.children[2]
    assert isinstance(entry, ipywidgets.RadioButtons) and entry.value is None
    assert "Which activation is zero-centred?" in prompt.value
    button.click()
    assert "Choose or type an answer first" in result.value
    entry.value = 0
    button.click()
    assert "Not quite: (a) is not it." in result.value
    entry.value = 1
    button.click()
    assert "Correct: (b) tanh." in result.value

    text_row = box.children[1]
    text_entry, text_button = text_row.children[1].children
    text_result = text_row.children[2]
    assert isinstance(text_entry, ipywidgets.Text)
    text_entry.value = "13"
    text_button.click()
    assert "13 is too low" in text_result.value
    text_entry.value = "twenty"
    text_button.click()
    assert "could not read" in text_result.value and "Not quite" not in text_result.value
    text_entry.value = "26"
    text_button.click()
    assert text_result.value.count("Correct: 26.") == 1

    expr_row = box.children[3]
    expr_entry, expr_button = expr_row.children[1].children
    expr_entry.value = "s - s^2"
    expr_button.click()
    assert "Correct" in expr_row.children[2].value


def test_outside_a_kernel_display_is_static_only(capsys):
    from IPython.display import display

    display(make_quiz())  # no running kernel: falls back to the plain-text repr
    out = capsys.readouterr().out
    assert "Check your understanding (unit-03" in out and "Question 1" in out


def test_in_a_kernel_stores_static_fallback_and_widget_with_fixed_text():
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from fnnlib.quiz import Quiz, Numeric\n"
            "quiz = Quiz('k', [Numeric('How many?', answer=13, explain='Count them.')])\nquiz"
        ),
        nbformat.v4.new_code_cell("quiz.check(0, 13)"),
    ]
    runs = []
    for _ in range(2):
        copy = nbformat.from_dict(nb)
        nbclient.NotebookClient(copy, kernel_name="python3", timeout=60).execute()
        runs.append(copy)
    first, second = runs
    outs = first.cells[0].outputs
    assert len(outs) == 2, [o.get("data", {}).keys() for o in outs]
    static, widget = outs
    assert set(static.data) == {"text/plain", "text/html", "text/markdown"}
    assert "<details><summary>Show answer</summary>" in static.data["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in widget.data
    assert widget.data["text/plain"] == "[interactive quiz 'k': 1 questions; needs a running kernel]"
    # what nbval compares (everything except the widget-view model id) is the same on every run
    strip = lambda cell: [{k: v for k, v in o.get("data", {}).items() if "widget" not in k} for o in cell.outputs]  # noqa: E731
    assert strip(first.cells[0]) == strip(second.cells[0])
    assert first.cells[1].outputs[0].text == "Correct: 13. Count them.\n"
    assert len(first.cells[1].outputs) == 1  # the returned Feedback adds no second copy
    assert re.search(r"widget-state", str(first.metadata.get("widgets", {}).keys()))
