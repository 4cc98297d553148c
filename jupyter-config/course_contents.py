"""Serve notebooks with the language_info their kernel will report, so opening one changes nothing.

When a kernel starts, JupyterLab writes the kernel's `language_info` (name, Python version, lexer ...)
into the open notebook's metadata, and a notebook whose stored `language_info` differs is then
marked modified although nobody touched it: closing asks to save, and a save rewrites the file.
Stored notebooks differ in two ways that have nothing to do with their content: nbgrader's releases
keep only `{"name": "python"}`, and any notebook stores the Python version it last ran with, which
differs from a student's. So the course's Jupyter server (both modes, jupyter_server_config.py)
serves every notebook with the `language_info` of the kernel its kernelspec names, exactly what
JupyterLab would write as the kernel starts. The file on disk is untouched until someone saves it.
"""

from __future__ import annotations

import functools
import os
import sys

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager


@functools.lru_cache(maxsize=None)
def kernel_language_info(kernel_name: str) -> dict | None:
    """The language_info that kernel `kernel_name` reports, when it is an IPython kernel running this
    server's interpreter (the course's registered kernel); None for any other kernel."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except Exception:  # no such kernel: leave the notebook as it is
        return None
    if spec.language != "python" or "ipykernel_launcher" not in spec.argv:
        return None
    if os.path.realpath(spec.argv[0]) != os.path.realpath(sys.executable) and spec.argv[0] not in ("python", "python3"):
        return None
    from ipykernel.ipkernel import IPythonKernel

    return dict(IPythonKernel.language_info)


class CourseContentsManager(AsyncLargeFileManager):
    """Jupyter Server's default contents manager, with notebooks served as described above."""

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if model.get("type") == "notebook" and model.get("content"):
            metadata = model["content"].get("metadata", {})
            info = kernel_language_info(metadata.get("kernelspec", {}).get("name", ""))
            if info is not None and metadata.get("language_info", {}).get("name", "python") == info["name"]:
                metadata["language_info"] = info
        return model
