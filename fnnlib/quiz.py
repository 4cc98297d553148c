"""Check your understanding: short questions with immediate feedback, with or without widgets.

Every lecture ends with a few questions. Nothing is graded and nothing is random;
the point is to find out at once whether an idea has landed.

::

    from fnnlib.quiz import Quiz, Choice, Numeric, Expression

    quiz = Quiz("unit-03", [
        Choice("Which activation ...?", options=["...", "...", "..."], answer=1, explain="..."),
        Numeric("How many parameters has a 3-4-2 network?", answer=26, explain="..."),
        Expression("Write σ'(z) in terms of s = σ(z).", answer="s*(1-s)", symbols="s", explain="..."),
    ])
    quiz                # shows the questions
    quiz.check(1, 26)   # prints (and returns) "Correct: ..." or "Not quite: ..."

Displaying a quiz in a running Jupyter kernel with ipywidgets shows one widget
per question (radio buttons or a text box, a Check button and a feedback line).
Every display also stores a static version (text/html, text/markdown,
text/plain) that lists the questions and their options with each answer hidden
in a "Show answer" block, so a notebook opened without a kernel, a static web
page and nbval all see the questions. The widget's own output carries a fixed
text/plain line, so stored outputs are reproducible.

Questions are numbered from 0 in :meth:`Quiz.check` (Python indexing); the
display writes "Question 1 · quiz.check(0, …)" so the two never get mixed up.
Options of a :class:`Choice` are numbered from 0 as well and shown as (a), (b), …;
``check`` accepts the index, the letter or the option's text.
"""

from __future__ import annotations

import abc
import html
import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fnnlib.i18n import N_, tr

__all__ = ["Quiz", "Choice", "Numeric", "Expression", "Feedback"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Feedback:
    """The outcome of one check: whether it was right and the message shown.

    ``bool(feedback)`` is ``feedback.correct``; ``str(feedback)`` is the message.
    In IPython the message has already been printed by :meth:`Quiz.check`, so
    displaying the returned object adds nothing.
    """

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"Feedback(correct={self.correct})"

    def _ipython_display_(self) -> None:  # already printed by Quiz.check
        return None


def _text(value: Any, name: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{where}: {name} must be a non-empty string, got {value!r}.")
    return value.strip()


class _Question(abc.ABC):
    kind = "question"

    def __init__(self, prompt: str, explain: str) -> None:
        where = type(self).__name__
        self.prompt = _text(prompt, "the question text (first argument)", where)
        self.explain = "" if explain is None else str(explain).strip()

    # Subclasses return (correct, what to say about this particular attempt).
    @abc.abstractmethod
    def judge(self, value: Any) -> tuple[bool, str]:
        """Each kind of question says this its own way."""

    @abc.abstractmethod
    def answer_text(self) -> str:
        """Each kind of question says this its own way."""

    @abc.abstractmethod
    def how_to_answer(self) -> str:
        """Each kind of question says this its own way."""

    def feedback(self, value: Any) -> Feedback:
        correct, detail = self.judge(value)
        if correct:
            head = tr("Correct: {detail}", detail=detail) if detail else tr("Correct.")
        else:
            head = tr("Not quite: {detail}", detail=detail) if detail else tr("Not quite.")
        explain = tr(self.explain) if self.explain else ""
        sep = "" if head.endswith(("。", "？", "！", "）")) else " "
        return Feedback(correct, head + sep + explain if explain else head)


class Choice(_Question):
    """A multiple-choice question with one right option.

    Parameters
    ----------
    prompt : str
        The question (Markdown and ``$…$`` maths are fine in the static view).
    options : sequence of str
        At least two options, shown as (a), (b), …
    answer : int
        Index of the right option, counted from 0.
    explain : str
        Why the answer is right; shown after any attempt.
    notes : sequence of str or None, optional
        One note per option: why choosing that option is wrong (the right
        option's entry is ignored, use "" for no note).
    """

    kind = "choice"

    def __init__(
        self,
        prompt: str,
        options: Sequence[str],
        answer: int,
        explain: str = "",
        notes: Sequence[str] | None = None,
    ) -> None:
        super().__init__(prompt, explain)
        if isinstance(options, str) or not isinstance(options, Sequence):
            raise TypeError(f"Choice: options must be a list of strings, got {options!r}.")
        self.options = [_text(o, f"options[{i}]", "Choice") for i, o in enumerate(options)]
        if len(self.options) < 2:
            raise ValueError(f"Choice: needs at least two options, got {len(self.options)}.")
        if len(self.options) > len(_LETTERS):
            raise ValueError(f"Choice: at most {len(_LETTERS)} options, got {len(self.options)}.")
        if isinstance(answer, bool) or not isinstance(answer, numbers.Integral):
            raise TypeError(
                f"Choice: answer must be the index of the right option (0 to {len(self.options) - 1}), "
                f"got {answer!r}."
            )
        if not 0 <= int(answer) < len(self.options):
            raise ValueError(
                f"Choice: answer = {answer} is not an option index; expected 0 to {len(self.options) - 1} "
                "(counted from 0)."
            )
        self.answer = int(answer)
        if notes is None:
            self.notes = [""] * len(self.options)
        else:
            if isinstance(notes, str) or len(notes) != len(self.options):
                got = "a single string" if isinstance(notes, str) else f"{len(notes)}"
                raise ValueError(f"Choice: notes needs one entry per option ({len(self.options)}), got {got}.")
            self.notes = ["" if n is None else str(n).strip() for n in notes]

    def label(self, k: int) -> str:
        return f"({_LETTERS[k]})"

    def index_of(self, value: Any) -> int:
        """The option index meant by ``value``: an index, a letter or the option's text."""
        n = len(self.options)
        if isinstance(value, bool):
            raise TypeError(tr("an option index 0 to {last}, a letter a to {letter}, or the option's text; got {value}.",
                               last=n - 1, letter=_LETTERS[n - 1], value=repr(value)))
        if isinstance(value, numbers.Integral):
            if not 0 <= int(value) < n:
                raise ValueError(tr(
                    "option {value} does not exist; this question has options 0 to {last} "
                    "(or the letters a to {letter}).", value=value, last=n - 1, letter=_LETTERS[n - 1]
                ))
            return int(value)
        if isinstance(value, str):
            s = value.strip().strip("()").strip().lower()
            if len(s) == 1 and s in _LETTERS[:n]:
                return _LETTERS.index(s)
            for k, option in enumerate(self.options):
                if value.strip() in (option, tr(option)):
                    return k
            raise ValueError(tr(
                "{value} is neither a letter a to {letter} nor the text of an option.",
                value=repr(value), letter=_LETTERS[n - 1]
            ))
        raise TypeError(tr(
            "expected an option index 0 to {last}, a letter a to {letter}, or the option's text; "
            "got {kind} {value}.", last=n - 1, letter=_LETTERS[n - 1], kind=type(value).__name__, value=repr(value)
        ))

    def judge(self, value: Any) -> tuple[bool, str]:
        k = self.index_of(value)
        if k == self.answer:
            option = tr(self.options[k])
            if option.endswith(("。", "？", "！")):
                return True, f"{self.label(k)} {option}"
            return True, tr("{label} {option}.", label=self.label(k), option=option)
        note = tr(self.notes[k]) if self.notes[k] else ""
        if note and not note.endswith((".", "!", "?", "。", "！", "？")):
            note += "。" if note != self.notes[k] else "."
        detail = tr("{label} is not it.", label=self.label(k))
        sep = "" if detail.endswith("。") else " "
        return False, f"{detail}{sep}{note}" if note else detail

    def answer_text(self) -> str:
        return f"{self.label(self.answer)} {tr(self.options[self.answer])}"

    def how_to_answer(self) -> str:
        return tr("an option: 0 to {last}, or a letter", last=len(self.options) - 1)


def _to_number(value: Any, what: str) -> float:
    """A real number from a number or from a string such as '0.25', '1/4', '2**10', '1e-3'."""
    if isinstance(value, bool):
        raise TypeError(tr("expected a number, got {value}.", value=repr(value)))
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        s = value.strip().replace("^", "**").replace("−", "-").replace("×", "*").replace(",", "")
        if not s:
            raise ValueError(tr("the answer is empty; type a number."))
        if not re.fullmatch(r"[0-9eE.+\-*/() ]+", s):
            raise ValueError(tr("could not read {value} as a number; type digits such as 13, 0.25 or 1/4.",
                                value=repr(value)))
        import sympy

        try:
            number = sympy.sympify(s, rational=True)
        except (sympy.SympifyError, SyntaxError, TypeError, ZeroDivisionError) as exc:
            raise ValueError(tr("could not read {value} as a number ({error}).", value=repr(value), error=exc)) from exc
        if not number.is_number or not number.is_real:
            raise ValueError(tr("could not read {value} as a real number.", value=repr(value)))
        return float(number)
    try:
        import numpy as np

        if isinstance(value, np.ndarray) and value.size == 1:
            return float(value.reshape(()))
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    raise TypeError(tr("expected {what}, got {kind} {value}.", what=tr(what), kind=type(value).__name__,
                       value=repr(value)))


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:.6g}"


class Numeric(_Question):
    """A question whose answer is a number.

    Parameters
    ----------
    prompt : str
        The question.
    answer : float
        The right value.
    tol : float, default 0.0
        Absolute tolerance: ``|given - answer| <= tol`` counts as right (a tiny
        relative slack of 1e-9 is always allowed for floating point).
    explain : str
        Why; shown after any attempt.
    """

    kind = "numeric"

    def __init__(self, prompt: str, answer: float, tol: float = 0.0, explain: str = "") -> None:
        super().__init__(prompt, explain)
        if isinstance(answer, str) or isinstance(answer, bool) or not isinstance(answer, numbers.Real):
            raise TypeError(f"Numeric: answer must be a number, got {type(answer).__name__} {answer!r}.")
        self.answer = float(answer)
        if not math.isfinite(self.answer):
            raise ValueError(f"Numeric: answer must be finite, got {answer!r}.")
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0 or not math.isfinite(tol):
            raise ValueError(f"Numeric: tol must be a finite number >= 0 (absolute tolerance), got {tol!r}.")
        self.tol = float(tol)

    def judge(self, value: Any) -> tuple[bool, str]:
        x = _to_number(value, N_("a number"))
        if not math.isfinite(x):
            raise ValueError(tr("expected a finite number, got {value}.", value=repr(value)))
        slack = self.tol + 1e-9 * max(1.0, abs(self.answer))
        if abs(x - self.answer) <= slack:
            if self.tol:
                return True, tr("{value} (within ±{tol} of {answer}).", value=_fmt(x), tol=_fmt(self.tol),
                                answer=_fmt(self.answer))
            return True, f"{_fmt(x)}."
        if x > self.answer:
            return False, tr("{value} is too high.", value=_fmt(x))
        return False, tr("{value} is too low.", value=_fmt(x))

    def answer_text(self) -> str:
        return _fmt(self.answer) + (f" (±{_fmt(self.tol)})" if self.tol else "")

    def how_to_answer(self) -> str:
        return tr("a number")


def _parse_symbols(symbols: Any) -> list[str]:
    if isinstance(symbols, str):
        names = [s for s in re.split(r"[\s,]+", symbols) if s]
    elif isinstance(symbols, Sequence):
        names = [str(s) for s in symbols]
    else:
        raise TypeError(f"Expression: symbols must be a string such as 'x y' or a list of names, got {symbols!r}.")
    for n in names:
        if not n.isidentifier():
            raise ValueError(f"Expression: symbol name {n!r} is not a valid identifier.")
    return names


class Expression(_Question):
    """A question whose answer is a formula, checked by SymPy for equivalence.

    Parameters
    ----------
    prompt : str
        The question; say which symbols the answer may use.
    answer : str
        The right expression in Python/SymPy syntax, e.g. ``"s*(1-s)"``.
    symbols : str or sequence of str
        The names the answer may use, e.g. ``"s"`` or ``"x y"``; they are real
        symbols. ``exp``, ``log``, ``sqrt``, ``tanh``… are known functions.
    explain : str
        Why; shown after any attempt.

    Notes
    -----
    Two expressions count as equal when ``sympy.simplify(given - answer)`` is 0,
    or, when simplify cannot decide, when they agree to 1e-9 at a fixed set of
    sample points (no randomness). ``^`` is read as a power and implicit
    multiplication (``2s``) is allowed.
    """

    kind = "expression"
    _POINTS = (0.3, -0.7, 1.3, 0.55, -1.9, 2.4, 0.05)

    def __init__(self, prompt: str, answer: str, symbols: Any = "x", explain: str = "") -> None:
        super().__init__(prompt, explain)
        self.symbol_names = _parse_symbols(symbols)
        if not self.symbol_names:
            raise ValueError("Expression: give at least one symbol the answer may use, e.g. symbols='s'.")
        self.answer_src = _text(answer, "answer", "Expression")
        try:
            self.answer = self._parse(self.answer_src)
        except ValueError as exc:
            raise ValueError(f"Expression: the reference answer {answer!r} does not parse: {exc}") from exc

    def _parse(self, text: str) -> Any:
        import sympy
        from sympy.parsing.sympy_parser import (
            convert_xor,
            implicit_multiplication_application,
            parse_expr,
            standard_transformations,
        )

        syms = {n: sympy.Symbol(n, real=True) for n in self.symbol_names}
        local: dict[str, Any] = {name: getattr(sympy, name) for name in
                                 ("exp", "log", "sqrt", "tanh", "sinh", "cosh", "sin", "cos", "Abs", "pi", "E", "Max", "Min")}
        local.update({"e": sympy.E, "abs": sympy.Abs, "max": sympy.Max, "min": sympy.Min})
        local.update(syms)  # the question's own symbols win (a symbol may be called e, E or pi)
        s = text.strip().replace("−", "-").replace("·", "*").replace("×", "*")
        if not s:
            raise ValueError(tr("the answer is empty; type an expression."))
        transformations = standard_transformations + (convert_xor, implicit_multiplication_application)
        try:
            expr = parse_expr(s, local_dict=local, transformations=transformations, evaluate=True)
        except Exception as exc:  # SyntaxError, TokenError, TypeError from bad input
            raise ValueError(tr("could not read {text} as an expression ({error}).", text=repr(text),
                                error=type(exc).__name__)) from exc
        if not isinstance(expr, sympy.Basic):
            expr = sympy.sympify(expr)
        unknown = sorted(str(s) for s in expr.free_symbols if s not in set(syms.values()))
        if unknown:
            allowed = ", ".join(self.symbol_names)
            raise ValueError(tr("{text} uses {unknown}; the answer may only use {allowed}.", text=repr(text),
                                unknown=", ".join(unknown), allowed=allowed))
        return expr

    def _numerically_equal(self, a: Any, b: Any) -> bool:
        import sympy

        syms = [sympy.Symbol(n, real=True) for n in self.symbol_names]
        f = sympy.lambdify(syms, a - b, modules="math")
        checked = 0
        for k in range(len(self._POINTS)):
            point = [self._POINTS[(k + j) % len(self._POINTS)] for j in range(len(syms))]
            try:
                d = complex(f(*point))
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                continue
            checked += 1
            if not abs(d) <= 1e-9:
                return False
        return checked >= 3

    def judge(self, value: Any) -> tuple[bool, str]:
        import sympy

        if isinstance(value, sympy.Basic):
            given = value
            names = {str(s) for s in given.free_symbols}
            unknown = sorted(names - set(self.symbol_names))
            if unknown:
                raise ValueError(tr("the expression uses {unknown}; the answer may only use {allowed}.",
                                    unknown=", ".join(unknown), allowed=", ".join(self.symbol_names)))
            given = given.subs({sympy.Symbol(n): sympy.Symbol(n, real=True) for n in names})
        elif isinstance(value, str):
            given = self._parse(value)
        else:
            raise TypeError(tr(
                "expected an expression as a string such as {example} (or a SymPy expression), got {kind} {value}.",
                example=repr(self.answer_src), kind=type(value).__name__, value=repr(value)
            ))
        difference = sympy.simplify(given - self.answer)
        equal = difference == 0 or (difference.free_symbols and self._numerically_equal(given, self.answer))
        if difference.is_number and difference != 0:
            equal = False
        if equal:
            return True, tr("{given} equals {answer}.", given=sympy.sstr(given), answer=self.answer_src)
        return False, tr("{given} is not equivalent to the expected expression.", given=sympy.sstr(given))

    def answer_text(self) -> str:
        return self.answer_src

    def how_to_answer(self) -> str:
        return tr("an expression in {symbols}", symbols=", ".join(self.symbol_names))


_STATIC_STYLE = (
    "<style>.jp-OutputArea-child:has(.fnn-quiz-static):has(+ .jp-OutputArea-child .fnn-quiz-widget)"
    "{display:none}</style>"
)


class Quiz:
    """A list of questions with immediate feedback; see the module docstring.

    Parameters
    ----------
    name : str
        A short identifier such as ``"unit-03"``; shown in the heading line.
    questions : sequence of Choice, Numeric, Expression
        At least one.
    """

    def __init__(self, name: str, questions: Sequence[_Question]) -> None:
        self.name = _text(name, "name", "Quiz")
        if isinstance(questions, _Question):
            questions = [questions]
        if isinstance(questions, str) or not isinstance(questions, Sequence):
            raise TypeError(f"Quiz: questions must be a list of Choice/Numeric/Expression, got {questions!r}.")
        bad = [f"{i}: {type(q).__name__}" for i, q in enumerate(questions) if not isinstance(q, _Question)]
        if bad:
            raise TypeError(f"Quiz: every question must be a Choice, Numeric or Expression; got {', '.join(bad)}.")
        if not questions:
            raise ValueError("Quiz: needs at least one question.")
        self.questions = list(questions)

    def __len__(self) -> int:
        return len(self.questions)

    # ------------------------------------------------------------------ checking

    def feedback(self, i: int, value: Any) -> Feedback:
        """The feedback for answering question ``i`` (from 0) with ``value``, without printing."""
        n = len(self.questions)
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(
                f"Quiz.check: the question number must be an int from 0 to {n - 1}, got {type(i).__name__} {i!r}. "
                "Call quiz.check(question_index, your_answer)."
            )
        if not 0 <= int(i) < n:
            raise IndexError(tr(
                "Quiz.check: there is no question {i}; quiz {name} has questions 0 to {last} "
                "(counted from 0: 'Question 1' is quiz.check(0, ...)).", i=i, name=repr(self.name), last=n - 1
            ))
        q = self.questions[int(i)]
        try:
            return q.feedback(value)
        except (TypeError, ValueError) as exc:
            raise type(exc)(tr("Quiz.check({i}, …): question {number} expects {how}: {error}", i=i,
                               number=int(i) + 1, how=q.how_to_answer(), error=exc)) from exc

    def check(self, i: int, value: Any) -> Feedback:
        """Check answer ``value`` to question ``i`` (counted from 0); print and return the feedback.

        Returns
        -------
        Feedback
            ``bool(fb)`` says whether it was right; ``str(fb)`` is the message,
            which starts with "Correct:" or "Not quite:" and ends with the
            question's explanation.

        Raises
        ------
        IndexError
            ``i`` is not a question number.
        TypeError, ValueError
            ``value`` is not the kind of answer the question takes.

        Examples
        --------
        >>> quiz = Quiz("demo", [Numeric("How many parameters has a 3-4-2 network?", answer=26,
        ...                              explain="(3 + 1)·4 + (4 + 1)·2 = 26.")])
        >>> fb = quiz.check(0, 20)
        Not quite: 20 is too low. (3 + 1)·4 + (4 + 1)·2 = 26.
        >>> bool(fb)
        False
        """
        fb = self.feedback(i, value)
        print(fb.message)
        return fb

    # ------------------------------------------------------------------ static views

    def _hint(self, i: int) -> str:
        return f"quiz.check({i}, …)"

    def to_markdown(self) -> str:
        """The questions as Markdown, each answer inside a ``<details>`` block."""
        lines = [tr("**Check your understanding** ({name}, {n} questions, not graded)", name=self.name, n=len(self)),
                 ""]
        for i, q in enumerate(self.questions):
            lines.append(tr("**Question {number}**", number=i + 1) + f" · `{self._hint(i)}` · {tr(q.prompt)}")
            lines.append("")
            if isinstance(q, Choice):
                for k, option in enumerate(q.options):
                    lines.append(f"- {q.label(k)} {tr(option)}")
                lines.append("")
            lines.append("<details><summary>" + tr("Show answer") + "</summary>")
            lines.append("")
            lines.append(tr("**Answer:** {answer}.", answer=q.answer_text()) + f" {tr(q.explain) if q.explain else ''}".rstrip())
            lines.append("")
            lines.append("</details>")
            lines.append("")
        lines.append(tr(_FOOTER))
        return "\n".join(lines)

    def to_html(self) -> str:
        """The questions as HTML, each answer inside a ``<details>`` "Show answer" block."""
        esc = html.escape
        parts = [
            f'<div class="fnn-quiz-static" data-quiz="{esc(self.name)}">',
            "<p>" + tr("<b>Check your understanding</b> ({name}, {n} questions, not graded)", name=esc(self.name),
                       n=len(self)) + "</p>",
            "<ol>",
        ]
        for i, q in enumerate(self.questions):
            parts.append(f'<li class="fnn-quiz-question" data-kind="{q.kind}">')
            parts.append(f"<p>{esc(tr(q.prompt))} <code>{esc(self._hint(i))}</code></p>")
            if isinstance(q, Choice):
                parts.append("<ul style=\"list-style: none\">")
                parts.extend(f"<li>{esc(q.label(k))} {esc(tr(o))}</li>" for k, o in enumerate(q.options))
                parts.append("</ul>")
            parts.append(
                "<details><summary>" + tr("Show answer") + "</summary>"
                "<p>" + tr("<b>Answer:</b> {answer}.", answer=esc(q.answer_text()))
                + f" {esc(tr(q.explain) if q.explain else '')}</p></details>"
            )
            parts.append("</li>")
        parts.append("</ol>")
        parts.append(f"<p><i>{esc(tr(_FOOTER))}</i></p>")
        parts.append("</div>")
        return _STATIC_STYLE + "\n".join(parts)

    def to_text(self) -> str:
        """Plain text: the questions and options, answers not shown."""
        lines = [tr("Check your understanding ({name}, {n} questions, not graded)", name=self.name, n=len(self))]
        for i, q in enumerate(self.questions):
            lines.append(tr("Question {number} [{hint}]: {prompt}", number=i + 1, hint=self._hint(i), prompt=tr(q.prompt)))
            if isinstance(q, Choice):
                lines.extend(f"    {q.label(k)} {tr(o)}" for k, o in enumerate(q.options))
        lines.append(tr(_FOOTER))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return self.static_bundle()

    def static_bundle(self) -> dict[str, str]:
        """The static output: ``{"text/plain", "text/html", "text/markdown"}``."""
        return {"text/plain": self.to_text(), "text/html": self.to_html(), "text/markdown": self.to_markdown()}

    # ------------------------------------------------------------------ widgets

    def widget(self) -> Any:
        """An ipywidgets ``VBox``: per question a prompt, an input, a Check button and a feedback line.

        Raises ImportError (with the install command) when ipywidgets is missing.
        """
        try:
            import ipywidgets as w
        except ImportError as exc:  # pragma: no cover - ipywidgets is a course dependency
            raise ImportError("Quiz.widget needs ipywidgets: pip install ipywidgets (or use quiz.check).") from exc
        rows = []
        for i, q in enumerate(self.questions):
            prompt = w.HTMLMath(value="<b>" + tr("Question {number}.", number=i + 1) + f"</b> {html.escape(tr(q.prompt))}")
            if isinstance(q, Choice):
                entry = w.RadioButtons(
                    options=[(f"{q.label(k)} {tr(o)}", k) for k, o in enumerate(q.options)],
                    value=None,
                    layout=w.Layout(width="auto"),
                )
            else:
                entry = w.Text(placeholder=q.how_to_answer(), layout=w.Layout(width="24em"))
            button = w.Button(description=tr("Check"), button_style="", layout=w.Layout(width="6em"))
            result = w.HTML(value="")
            button.on_click(self._make_handler(i, entry, result))
            row = w.VBox([prompt, w.HBox([entry, button]), result])
            row.add_class("fnn-quiz-question")
            rows.append(row)
        box = w.VBox(rows)
        box.add_class("fnn-quiz-widget")
        return box

    def _make_handler(self, i: int, entry: Any, result: Any) -> Any:
        def on_click(_button: Any) -> None:
            value = entry.value
            if value is None or (isinstance(value, str) and not value.strip()):
                result.value = "<span style='color:#8a6d3b'>" + tr("Choose or type an answer first.") + "</span>"
                return
            try:
                fb = self.feedback(i, value)
            except (TypeError, ValueError) as exc:
                msg = str(exc).split(": ", 1)[-1]
                result.value = f"<span style='color:#8a6d3b'>{html.escape(msg)}</span>"
                return
            color = "#2e7d32" if fb.correct else "#c62828"
            result.value = f"<span style='color:{color}'>{html.escape(fb.message)}</span>"

        return on_click

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.static_bundle(), raw=True)
        if _live_widgets():
            box = self.widget()
            display(
                {
                    "application/vnd.jupyter.widget-view+json": {
                        "version_major": 2,
                        "version_minor": 0,
                        "model_id": box.model_id,
                    },
                    "text/plain": tr("[interactive quiz {name}: {n} questions; needs a running kernel]",
                                     name=repr(self.name), n=len(self)),
                },
                raw=True,
            )


_FOOTER = N_(
    "Answer in the notebook: run this cell for one widget per question, "
    "or call quiz.check(i, answer) with i counted from 0."
)


def _live_widgets() -> bool:
    """True inside a running Jupyter kernel that has ipywidgets (where a widget can be shown)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True
