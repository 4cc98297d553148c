"""Every committed notebook names the kernel that `make` registers, so opening one changes nothing.

When a notebook's stored kernelspec (name, display name, language) differs from the kernel that
JupyterLab starts for it, JupyterLab writes the running kernel's spec into the notebook's metadata:
the notebook shows as modified as soon as its kernel starts, closing it asks to save, and a save or
a Validate rewrites the file (a conflict on the student's next `git pull`). The notebooks are
generated and edited by other tools, so the kernel registration follows them, and this test keeps
the two equal.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def _committed_notebooks() -> list[Path]:
    """The notebooks in git (or on disk, in a copy without .git), checkpoints excluded."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "*.ipynb"], cwd=ROOT, capture_output=True,
                             check=True).stdout.decode()
        paths = [ROOT / p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        paths = sorted(ROOT.glob("**/*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts and ".venv" not in p.parts]
    assert paths, f"no notebooks found under {ROOT}"
    return paths


def registered_kernel() -> dict[str, str]:
    """The name and display name in the Makefile's `ipykernel install` line, variables expanded."""
    text = (ROOT / "Makefile").read_text()
    variables = dict(re.findall(r"^([A-Z_]+)\s*:?=\s*(.*?)\s*$", text, flags=re.M))
    lines = [ln for ln in text.splitlines() if "ipykernel install" in ln]
    assert len(lines) == 1, f"expected one `ipykernel install` line in the Makefile, found {len(lines)}"
    line = re.sub(r"\$\(([A-Z_]+)\)", lambda m: variables.get(m.group(1), m.group(0)), lines[0])
    args = shlex.split(line.strip().lstrip("@"))
    found = {}
    for flag, key in (("--name", "name"), ("--display-name", "display_name")):
        assert flag in args, f"the Makefile's `ipykernel install` line has no {flag}: {lines[0].strip()}"
        found[key] = args[args.index(flag) + 1]
        assert "$(" not in found[key], f"{flag} {found[key]!r}: a Makefile variable this test cannot expand"
    return found


def test_every_committed_notebook_names_the_kernel_the_makefile_registers():
    kernel = registered_kernel()
    expected = {"name": kernel["name"], "display_name": kernel["display_name"], "language": "python"}
    wrong = []
    for path in _committed_notebooks():
        spec = dict(nbformat.read(path, as_version=4).metadata.get("kernelspec", {}))
        if spec != expected:
            wrong.append(f"{path.relative_to(ROOT)}: {spec}")
    assert not wrong, (
        f"{len(wrong)} notebook(s) store a kernelspec other than the one the Makefile registers, "
        f"{expected}; JupyterLab would mark them modified as soon as their kernel starts:\n  "
        + "\n  ".join(wrong)
        + "\nEither register the kernel the notebooks name (Makefile: KERNEL_NAME, KERNEL_DISPLAY) or "
        "set the notebooks' metadata.kernelspec to the registered one (and regenerate exercises/)."
    )


def test_this_environment_registers_that_kernel():
    """The kernel this interpreter's environment provides under that name has that display name.

    `make` registers it in the venv (share/jupyter/kernels/<name>); without make (conda), ipykernel's
    built-in spec is used, whose display name must then agree too.
    """
    kernel = registered_kernel()
    installed = Path(sys.prefix) / "share" / "jupyter" / "kernels" / kernel["name"] / "kernel.json"
    if installed.exists():
        spec = json.loads(installed.read_text())
        where = str(installed)
    else:
        from ipykernel.kernelspec import get_kernel_dict

        spec = get_kernel_dict()
        where = "ipykernel's built-in kernelspec (nothing registered in this environment)"
    assert spec["display_name"] == kernel["display_name"], (
        f"{where} has display name {spec['display_name']!r}, the Makefile registers "
        f"{kernel['display_name']!r}: run `make venv` again (or `rm .venv/.installed*; make venv`)"
    )
    assert spec.get("language", "python") == "python"


def _contents_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("fnn_course_contents", ROOT / "jupyter-config" / "course_contents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_course_server_serves_notebooks_with_their_kernels_language_info(tmp_path):
    """What JupyterLab would write into the metadata when the kernel starts is there already, so the
    notebook is not marked modified; the file itself is not changed; other kernels are left alone."""
    import asyncio

    from ipykernel.ipkernel import IPythonKernel

    module = _contents_module()
    kernel = registered_kernel()
    spec = {"name": kernel["name"], "display_name": kernel["display_name"], "language": "python"}
    release = nbformat.v4.new_notebook(metadata={"kernelspec": spec, "language_info": {"name": "python"}})
    old = nbformat.v4.new_notebook(metadata={"kernelspec": spec, "language_info": {"name": "python", "version": "3.0.1"}})
    other = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "no-such-kernel", "display_name": "R",
                                                              "language": "R"}, "language_info": {"name": "R"}})
    for name, nb in (("release", release), ("old", old), ("other", other)):
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    manager = module.CourseContentsManager(root_dir=str(tmp_path))
    served = {name: asyncio.run(manager.get(f"{name}.ipynb"))["content"]["metadata"] for name in ("release", "old", "other")}
    assert served["release"]["language_info"] == IPythonKernel.language_info
    assert served["old"]["language_info"] == IPythonKernel.language_info
    assert served["other"]["language_info"] == {"name": "R"}
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before, "serving a notebook changed its file"
