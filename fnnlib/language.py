"""Choose the language of the course's messages: ``python -m fnnlib.language zh|en|show``.

``zh`` or ``en`` writes the choice into the course's settings file (see :mod:`fnnlib.i18n`); the
environment variable FNN_LANG, when set, still wins. ``show`` prints the current language (``en`` or
``zh``) on the first line, and what set it on standard error.
"""

from __future__ import annotations

import os
import sys

from fnnlib.i18n import ENV_VAR, LANGUAGES, LanguageError, language_and_source, save_language, tr, use_language

USAGE = "usage: python -m fnnlib.language zh|en|show   (zh: 中文, en: English; show: the current language)"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in (*LANGUAGES, "show"):
        got = " ".join(args) if args else "nothing"
        print(f"{USAGE}\n(got {got})", file=sys.stderr)
        return 2
    try:
        if args[0] == "show":
            lang, source = language_and_source()
            print(lang)
            print(f"(set by {source})", file=sys.stderr)
            return 0
        path = save_language(args[0])
    except LanguageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with use_language(args[0]):  # said in the language just chosen
        print(tr("The course's messages are now in English (en), saved in {path}.", path=path) if args[0] == "en"
              else tr("The course's messages are now in Chinese (zh), saved in {path}.", path=path))
        env = os.environ.get(ENV_VAR, "").strip()
        if env and env.lower() != args[0]:
            print(tr("Note: the environment variable {var}={value} is set in this shell and takes precedence; "
                     "unset it (unset {var}) to use the setting.", var=ENV_VAR, value=env), file=sys.stderr)
        print(tr("Restart a running notebook's kernel (Kernel → Restart) for it to take effect there."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
