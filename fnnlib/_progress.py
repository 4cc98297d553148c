"""The progress bar of :func:`fnnlib.train.train` and :meth:`fnnlib.models.Sequential.fit`.

Private module. A widget in a Jupyter kernel, text on **stdout** everywhere
else (never stderr: nbgrader gives 0 points to a cell that writes to stderr).

Why not ``tqdm.auto``: it decides once per process, when it is first
imported, and only from ``sys.modules``: as soon as *anything* has imported
``ipykernel.zmqshell`` (a test that inspects ipykernel, a tool that imports a
kernel class) it switches every later bar to the notebook widget, even in a
plain interpreter without a kernel. There the widget cannot be drawn: only
its text form is printed, once, at 0 %, and the bar then stays silent. Here
the choice is made per bar, from the running IPython shell itself.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["in_jupyter_kernel", "progress_bar"]


def in_jupyter_kernel() -> bool:
    """True when this code runs inside a Jupyter kernel that can show widgets.

    That is: IPython's running shell is a kernel shell (``ZMQInteractiveShell``,
    what JupyterLab, Notebook and VS Code start), not a terminal IPython, and
    not the Qt console or Spyder (which cannot draw widgets), and ipywidgets is
    installed. Importing a kernel module is not enough.
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # a half-imported or stubbed IPython
        return False
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return False
    if any(k == "QT_API" or k.startswith("SPYDER") for k in os.environ):
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def progress_bar(total: int, desc: str, unit: str = "it") -> Any:
    """A tqdm bar of ``total`` steps: the notebook widget in a kernel, else text on stdout.

    Examples
    --------
    >>> import io, contextlib
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     bar = progress_bar(2, "epochs", "epoch")
    ...     bar.update(2)
    ...     bar.close()
    >>> "2/2" in out.getvalue()
    True
    """
    if in_jupyter_kernel():
        return _notebook_bar(total, desc, unit)
    from tqdm.std import tqdm as text_tqdm

    return text_tqdm(total=total, desc=desc, unit=unit, file=sys.stdout)


def _notebook_bar(total: int, desc: str, unit: str) -> Any:
    """tqdm's notebook widget, whose stored output ends as the finished bar.

    The widget's stored text (what a notebook shows without a kernel: a static website, nbval, a
    viewer) is written once, when it is displayed, so it would read 0 % for ever. This bar is
    displayed with a display id and, when it closes, the same display is updated with the final
    line as text and HTML next to the widget."""
    import html

    from IPython.display import display
    from tqdm.notebook import tqdm as notebook_tqdm

    class _Bar(notebook_tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, display=False, **kwargs)
            self._handle = display(self.container, display_id=True)

        def close(self) -> None:
            handle, self._handle = getattr(self, "_handle", None), None
            if handle is None or self.disable:  # closing again, or a disabled bar: nothing to show
                super().close()
                return
            line = self.format_meter(**self.format_dict)
            super().close()  # (tqdm marks the bar disabled as it closes)
            bundle = dict(self.container._repr_mimebundle_() or {})
            bundle["text/plain"] = line
            bundle["text/html"] = f"<pre class='fnn-progress'>{html.escape(line)}</pre>"
            handle.update(bundle, raw=True)

    return _Bar(total=total, desc=desc, unit=unit)
