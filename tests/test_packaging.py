"""The project's own files agree with each other: one list of dependencies, two spellings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[A-Za-z0-9_,\- ]*\])?\s*(.*)$")  # extras ([binary]) ignored


def _parse(spec: str) -> tuple[str, str]:
    m = REQ.match(spec)
    assert m, f"cannot parse requirement {spec!r}"
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    specs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        specs += extra
    return dict(_parse(s) for s in specs)


def _conda() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, bound = _parse(dep)
            if name not in ("python", "pip"):
                out[name] = bound
    return out


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    py, conda = _pyproject(), _conda()
    only_py = sorted(set(py) - set(conda))
    only_conda = sorted(set(conda) - set(py))
    assert not only_py and not only_conda, (
        f"pyproject.toml and environment.yml disagree: only in pyproject {only_py}, "
        f"only in environment.yml {only_conda}"
    )
    differ = {k: (py[k], conda[k]) for k in py if py[k] != conda[k]}
    assert not differ, f"lower bounds differ (pyproject, environment.yml): {differ}"


def test_dependencies_have_lower_bounds_and_no_pins():
    for name, bound in _pyproject().items():
        assert bound.startswith(">="), f"{name}: use a lower bound (>=), not {bound!r}"
        assert "==" not in bound and "<" not in bound, f"{name}: no pins or upper bounds ({bound!r})"


def test_python_requirement_matches():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert conda_py.replace("python", "") == data["project"]["requires-python"]
