"""The language of the course's messages (English or 中文) and their translations.

Every message a student reads that code writes (a failing test, a quiz's feedback) is English in
the code and goes through :func:`tr`, which gives it in the current language::

    tr("{name} is not answered yet.", name="logistic")   # a template and its values
    tr(f"{name} is not answered yet.")                    # or the finished English text

The current language is, first that applies: the language set by :func:`use_language` (the
grader sets each submission's), the environment variable ``FNN_LANG``, the settings file
``$XDG_CONFIG_HOME/fnn-course/settings.json`` (``~/.config/...`` by default; key ``"language"``,
written by ``python -m fnnlib.language zh``), else English.

The translations are in ``fnnlib/locales/<language>.toml``, one ``[[message]]`` per English text::

    [[message]]
    en = '''{name} is not answered yet.'''
    zh = '''{name} 还没有作答。'''

A template's ``{placeholders}`` hold values (names, numbers, shapes, code) and are the same in both
languages. A finished text matches an entry when it is the English with values in the places of the
placeholders (so the test cells' f-string messages need no change of form); a text without an entry
stays English.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
import re
import string
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

__all__ = ["LANGUAGES", "LanguageError", "language", "use_language", "settings_path", "save_language", "tr", "N_"]

LANGUAGES = ("en", "zh")
ENV_VAR = "FNN_LANG"
_FIX = "python -m fnnlib.language zh   (or en)"

_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("fnn_language", default=None)


class LanguageError(ValueError):
    """A language setting the course does not know, or a settings file it cannot read."""


def _valid(value: object, where: str) -> str:
    if isinstance(value, str) and value.strip().lower() in LANGUAGES:
        return value.strip().lower()
    raise LanguageError(
        f"{where} sets the language to {value!r}; the course speaks {' or '.join(map(repr, LANGUAGES))}. "
        f"Fix it with: {_FIX}"
    )


def settings_path() -> Path:
    """``$XDG_CONFIG_HOME/fnn-course/settings.json``, with ``~/.config`` when XDG_CONFIG_HOME is unset."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "fnn-course" / "settings.json"


def _read_settings(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LanguageError(
            f"the course's settings file {path} cannot be read ({exc}); expected JSON such as "
            f'{{"language": "zh"}}. Delete it, or write it again with: {_FIX}'
        ) from None
    if not isinstance(data, dict):
        raise LanguageError(
            f"the course's settings file {path} holds a {type(data).__name__}; expected a JSON object such as "
            f'{{"language": "zh"}}. Delete it, or write it again with: {_FIX}'
        )
    return data


def language_and_source() -> tuple[str, str]:
    """The current language and what set it (for ``python -m fnnlib.language show``)."""
    forced = _override.get()
    if forced is not None:
        return forced, "use_language()"
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return _valid(env, f"the environment variable {ENV_VAR}"), f"the environment variable {ENV_VAR}"
    path = settings_path()
    data = _read_settings(path)
    if "language" in data:
        return _valid(data["language"], f"the settings file {path}"), f"the settings file {path}"
    return "en", "the default"


def language() -> str:
    """``"en"`` or ``"zh"``: see the module docstring for where it comes from.

    Raises :class:`LanguageError` naming the setting when it holds another value.
    """
    return language_and_source()[0]


@contextlib.contextmanager
def use_language(lang: str) -> Iterator[str]:
    """Inside the ``with`` block the language is ``lang``, whatever FNN_LANG and the settings say.

    >>> with use_language("zh"):
    ...     language()
    'zh'
    """
    token = _override.set(_valid(lang, "use_language()"))
    try:
        yield token.var.get()
    finally:
        _override.reset(token)


def save_language(lang: str) -> Path:
    """Write ``lang`` into the settings file (its other keys are kept); return the file's path."""
    lang = _valid(lang, "the command line")
    path = settings_path()
    data = _read_settings(path) if path.exists() else {}
    data["language"] = lang
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- the catalog


def fields(template: str) -> list[str]:
    """The placeholders of a template, as written: ``"{x!r}"``, ``"{v:.3g}"``..."""
    out = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:  # a lone brace: a plain text, no placeholders
        return out
    for _, name, spec, conv in parsed:
        if name is not None:
            out.append("{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}")
    return out


@functools.lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """English text -> translation, from ``fnnlib/locales/<lang>.toml`` (empty for English)."""
    if lang == "en":
        return {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise LanguageError(
                f"the {lang} messages need Python >= 3.11 (its tomllib reads fnnlib/locales/{lang}.toml) or, on "
                "Python 3.10, the tomli package: pip install tomli"
            ) from None
    text = resources.files("fnnlib").joinpath("locales", f"{lang}.toml").read_text(encoding="utf-8")
    entries = tomllib.loads(text).get("message", [])
    return {e["en"]: e[lang] for e in entries}


# A finished text is matched only against templates with at least this much text of their own.
MIN_LITERAL = 8


@functools.lru_cache(maxsize=None)
def _patterns(lang: str) -> list[tuple[str, re.Pattern[str], list[str], str]]:
    """For every template in the catalog: its longest piece of text, a regex of its finished text, its
    placeholders, the translation."""
    out = []
    for en, translated in catalog(lang).items():
        try:
            parts = list(string.Formatter().parse(en))
        except ValueError:  # a lone brace: a plain text, found by its exact English only
            continue
        literal = sum(len(lit) for lit, _, _, _ in parts)
        if not any(name is not None for _, name, _, _ in parts) or literal < MIN_LITERAL:
            continue  # a template with almost no text of its own ("{call} with {arguments}") matches too much
        clue = max((lit for lit, _, _, _ in parts), key=len)  # cheap test before the regex
        regex, names, seen = [], [], {}
        for literal, name, spec, conv in parts:
            regex.append(re.escape(literal))
            if name is None:
                continue
            field = "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            if field in seen:
                regex.append(f"(?P={seen[field]})")
                continue
            seen[field] = f"g{len(names)}"
            names.append(field)
            regex.append(f"(?P<{seen[field]}>.*?)")
        out.append((clue, re.compile("".join(regex), re.S), names, translated))
    # the longest literal text first: a specific template wins over a general one ("{message}")
    out.sort(key=lambda p: -len(p[1].pattern))
    return out


def _fill(template: str, values: dict[str, str]) -> str:
    """The translation with the captured values in its placeholders (and ``{{``/``}}`` unescaped)."""
    out = []
    for literal, name, spec, conv in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(values["{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"])
    return "".join(out)


def _translate_finished(text: str, lang: str) -> str:
    table = catalog(lang)
    if text in table:  # a plain text (its braces, if any, are literal in both languages)
        return table[text]
    for clue, regex, names, translated in _patterns(lang):
        if clue not in text:
            continue
        m = regex.fullmatch(text)
        if m:
            return _fill(translated, {f: m.group(f"g{i}") for i, f in enumerate(names)})
    return text


def tr(text: str, /, **values: object) -> str:
    """``text`` in the current language.

    With ``values``, ``text`` is a template (``str.format`` syntax) and the result is the template,
    or its translation, filled with them. Without, ``text`` is a finished English message: its
    translation when the catalog has one for it (an entry with no placeholders that equals it, or a
    template it is an instance of), else ``text`` itself. In English the result is always the
    English, character for character.

    >>> tr("{name} is not answered yet.", name="f")
    'f is not answered yet.'
    """
    lang = language()
    if values:
        if lang != "en":
            text = catalog(lang).get(text, text)
        return text.format(**values)
    if lang == "en" or not isinstance(text, str):
        return text
    return _translate_finished(text, lang)


def N_(text: str) -> str:
    """Mark a constant as a message for the catalog (found by the catalog's test); translate it with
    :func:`tr` where it is used."""
    return text
