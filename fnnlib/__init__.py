"""fnnlib: the helper library of the fnn-course notebooks.

One topic per module, named after the lecture that introduces it::

    from fnnlib import activations, network
    from fnnlib.network import forward, backward

Modules (imported on first use, so ``import fnnlib`` stays fast):

activations  activation functions and their derivatives (Lecture 01)
params       parameter counting, per-layer breakdown, augmented matrices (Lecture 02)
network      initialisation, forward and backward passes, regularised risk (Lectures 02, 05)
losses       softmax, cross-entropy, squared error and their output-layer δ (Lecture 05)
approx       universal-approximation constructions as real networks (Lecture 03)
matcalc      numerical Jacobians in either layout, layout diagnosis (Lecture 04)
gradcheck    finite differences, rel_error, gradient checks with kink reports (Lectures 05, 06)
train        the SGD algorithm with momentum, weight decay and early stopping (Lecture 05)
autodiff     a small reverse-mode engine over numpy arrays, graph drawing (Lecture 06)
dual         forward-mode dual numbers (Lecture 06)
data         XOR, two moons, digits, MNIST from IDX files, splits, standardisation (Lectures 05, 08)
models       a Keras-like Sequential API (Lecture 08)
plot         the figures the lectures repeat, the course style, interactive explorers
quiz         the lectures' "Check your understanding" questions (widgets, or quiz.check without them)
checks       the student-facing checks used by the exercise tests
i18n         the language of the messages (English or 中文; python -m fnnlib.language zh) and tr()

Conventions everywhere: nndl notation, denominator layout (a gradient has its variable's shape),
a batch is columns (``A`` of shape ``(M_l, N)``), float64, randomness through an explicit
``np.random.Generator``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"

__all__ = [
    "activations",
    "approx",
    "autodiff",
    "checks",
    "data",
    "dual",
    "gradcheck",
    "i18n",
    "losses",
    "matcalc",
    "models",
    "network",
    "params",
    "plot",
    "quiz",
    "train",
]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'fnnlib' has no attribute {name!r}; its modules are: {', '.join(__all__)}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
