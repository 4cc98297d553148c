"""fnnlib as a package: every module imports, declares __all__, and everything it lists exists."""

from __future__ import annotations

import importlib

import pytest

import fnnlib


@pytest.mark.parametrize("name", fnnlib.__all__)
def test_module_imports_and_exports_what_it_lists(name):
    module = getattr(fnnlib, name)
    assert module is importlib.import_module(f"fnnlib.{name}")
    assert isinstance(getattr(module, "__all__", None), (list, tuple)), f"fnnlib.{name} needs an explicit __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"fnnlib.{name}.__all__ lists names it does not define: {missing}"
    undocumented = [n for n in module.__all__ if callable(getattr(module, n)) and not getattr(module, n).__doc__]
    assert not undocumented, f"fnnlib.{name}: public names without a docstring: {undocumented}"


def test_unknown_attribute_lists_the_modules():
    with pytest.raises(AttributeError, match="its modules are: activations"):
        fnnlib.nonexistent  # noqa: B018
