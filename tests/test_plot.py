"""Tests for fnnlib.plot: the artists each figure holds, inputs left alone, clear errors.

Agg backend; no image is compared pixel by pixel.
"""

from __future__ import annotations

import copy
import inspect
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from fnnlib import plot  # noqa: E402
from fnnlib.plot import (  # noqa: E402
    COURSE_STYLE,
    confusion_counts,
    confusion_matrix,
    decision_boundary,
    function_and_derivative,
    image_grid,
    loss_surface,
    network_diagram,
    training_curves,
    use_course_style,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


LOGISTIC = ("logistic", sigmoid, lambda z: sigmoid(z) * (1.0 - sigmoid(z)))
TANH = ("tanh", np.tanh, lambda z: 1.0 - np.tanh(z) ** 2)
RELU = ("relu", lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float))


def _moons():
    from fnnlib.data import two_moons

    return two_moons(60, 0.1, rng=0)


def _legend_texts(ax):
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


# ----------------------------------------------------------------------------- style


def test_library_never_calls_show_or_touches_rcparams_outside_use_course_style():
    def code_only(text):  # drop docstrings and comments, which may mention these names
        return re.sub(r"#[^\n]*", "", re.sub(r'""".*?"""', "", text, flags=re.S))

    src = code_only(inspect.getsource(plot))
    assert not re.search(r"\bshow\(", src)
    body_without_style = src.replace(code_only(inspect.getsource(use_course_style)), "")
    for pattern in (r"rcParams\s*[\[.]", r"\brc\(", r"rcdefaults\(", r"\.use\("):
        assert not re.search(pattern, body_without_style), pattern
    assert re.search(r"rcParams\s*[\[.]", inspect.getsource(use_course_style))


def test_use_course_style_sets_rcparams_and_rc_context_restores():
    before = plt.rcParams["axes.spines.top"]
    with plt.rc_context():
        use_course_style()
        for key, value in COURSE_STYLE.items():
            assert plt.rcParams[key] == value or plt.rcParams[key] == type(plt.rcParams[key])(value)
    assert plt.rcParams["axes.spines.top"] == before
    with pytest.raises(TypeError):
        COURSE_STYLE["font.size"] = 30  # read-only table


def test_plot_functions_leave_rcparams_alone():
    before = dict(plt.rcParams)
    network_diagram([2, 3, 1])
    X, y = _moons()
    decision_boundary(lambda G: (G[1] < 0.25).astype(int), X, y, resolution=20)
    training_curves({"train_loss": [1.0, 0.5]})
    after = dict(plt.rcParams)
    assert before == after


# ----------------------------------------------------------------------------- function_and_derivative


def test_function_and_derivative_panels_lines_and_labels():
    x = np.linspace(-3, 3, 61)
    x0 = x.copy()
    fig = function_and_derivative([LOGISTIC, TANH, RELU], x=x)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    ax_f, ax_df = fig.axes
    for ax in (ax_f, ax_df):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        assert _legend_texts(ax) == ["logistic", "tanh", "relu"]
    lines_f = [ln for ln in ax_f.get_lines() if ln.get_label() in ("logistic", "tanh", "relu")]
    lines_df = [ln for ln in ax_df.get_lines() if ln.get_label() in ("logistic", "tanh", "relu")]
    np.testing.assert_allclose(lines_f[0].get_ydata(), sigmoid(x))
    np.testing.assert_allclose(lines_df[1].get_ydata(), 1 - np.tanh(x) ** 2)
    # the same colour for f and f' of each function
    assert [ln.get_color() for ln in lines_f] == [ln.get_color() for ln in lines_df]
    np.testing.assert_array_equal(x, x0)


def test_function_and_derivative_single_tuple_scalar_derivative_and_given_axes():
    fig, axes = plt.subplots(1, 2)
    out = function_and_derivative(("identity", lambda z: z, lambda z: 1.0), ax=axes, title="Identity")
    assert out is fig
    (line,) = [ln for ln in axes[1].get_lines() if ln.get_label() == "identity"]
    np.testing.assert_array_equal(line.get_ydata(), np.ones(401))
    assert fig._suptitle.get_text() == "Identity"


def test_function_and_derivative_accepts_activation_names():
    activations = pytest.importorskip("fnnlib.activations")
    fig = function_and_derivative(["relu", "tanh"])
    assert _legend_texts(fig.axes[0])[:2] == [activations.get("relu").name, activations.get("tanh").name]


@pytest.mark.parametrize(
    "fs, exc, pattern",
    [
        ([], ValueError, "empty"),
        ([("bad", lambda z: z[:3], lambda z: z)], ValueError, "elementwise and vectorised"),
        ([("nan", lambda z: np.log(z - 100), lambda z: z)], ValueError, "NaN or inf"),
        ([("two", np.tanh)], TypeError, r"\(name, f, df\)"),
        ([("x", 1.0, 2.0)], TypeError, "callables"),
        (42, TypeError, "list of"),
    ],
)
def test_function_and_derivative_bad_input(fs, exc, pattern):
    with np.errstate(invalid="ignore"):
        with pytest.raises(exc, match=pattern):
            function_and_derivative(fs)


def test_function_and_derivative_bad_x_and_axes():
    with pytest.raises(ValueError, match="K >= 2"):
        function_and_derivative([RELU], x=np.zeros((3, 3)))
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="needs 2 Axes"):
        function_and_derivative([RELU], ax=ax)


# ----------------------------------------------------------------------------- decision_boundary


def test_decision_boundary_with_labels():
    X, y = _moons()
    X0, y0 = X.copy(), y.copy()
    calls = []

    def predict(G):
        calls.append(G.shape)
        return (G[1] < 0.25).astype(int)

    ax = decision_boundary(predict, X, y, resolution=30)
    assert isinstance(ax, Axes)
    assert calls == [(2, 900)]  # one call with the grid as columns, K = 30²
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 2
    assert sum(len(s.get_offsets()) for s in scatters) == X.shape[1]
    assert _legend_texts(ax) == ["class $y = 0$", "class $y = 1$", "decision boundary"]
    assert ax.get_title() and ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_decision_boundary_with_probabilities_draws_colorbar_and_half_level():
    X, y = _moons()
    ax = decision_boundary(lambda G: sigmoid(4 * (0.25 - G[1]))[None, :], X, y, resolution=25)
    assert len(ax.figure.axes) == 2  # the colour bar
    levels = [tuple(c.levels) for c in ax.collections if hasattr(c, "levels")]
    assert (0.5,) in levels
    assert "boundary $P = 1/2$" in _legend_texts(ax)


def test_decision_boundary_with_class_probability_columns():
    X, y = _moons()

    def proba(G):  # (C, K) = (3, K): one column per grid point
        z = np.vstack([G[0], G[1], -G[0]])
        return np.exp(z) / np.exp(z).sum(axis=0)

    ax = decision_boundary(proba, X, y, resolution=20)
    assert len([c for c in ax.collections if isinstance(c, PathCollection)]) == 2


def test_decision_boundary_without_labels():
    X, _ = _moons()
    ax = decision_boundary(lambda G: np.zeros(G.shape[1], int), X, resolution=10)
    assert "data" in _legend_texts(ax)


def test_decision_boundary_rejects_transposed_X():
    X, y = _moons()
    with pytest.raises(ValueError, match="expected \\(M_0, N\\) = \\(2, N\\).*transposed"):
        decision_boundary(lambda G: G[0] > 0, X.T, y)


def test_decision_boundary_rejects_other_bad_input():
    X, y = _moons()
    with pytest.raises(ValueError, match="two input features"):
        decision_boundary(lambda G: G[0] > 0, np.zeros((3, 10)))
    with pytest.raises(ValueError, match="expected N = 60"):
        decision_boundary(lambda G: G[0] > 0, X, y[:-1])
    with pytest.raises(TypeError, match="callable"):
        decision_boundary("model", X, y)
    with pytest.raises(ValueError, match="resolution"):
        decision_boundary(lambda G: G[0] > 0, X, y, resolution=1)


def test_decision_boundary_predict_in_rows_layout_gets_a_hint():
    X, y = _moons()
    with pytest.raises(ValueError, match=r"\(K, C\).*transpose"):
        decision_boundary(lambda G: np.zeros((G.shape[1], 2)), X, y, resolution=10)

    def rows_only(A):  # a scikit-learn-like model expecting (N, 2)
        if A.shape[1] != 2:
            raise ValueError("expected 2 features")
        return np.zeros(A.shape[0])

    with pytest.raises(ValueError, match=r"model.predict\(G.T\)"):
        decision_boundary(rows_only, X, y, resolution=10)
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        decision_boundary(lambda G: G[0] * 3.3, X, y, resolution=10)


# ----------------------------------------------------------------------------- loss_surface


def quad(w1, w2):
    return (w1 - 1.0) ** 2 + 2.0 * w2**2


def _marker(ax):
    (star,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("grid minimum")]
    return float(star.get_xdata()[0]), float(star.get_ydata()[0])


def test_loss_surface_contour():
    ax = loss_surface(quad, (-2, 2), (-1, 1), resolution=21)
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == "$w_1$" and ax.get_ylabel() == "$w_2$" and ax.get_title()
    assert len(ax.figure.axes) == 2  # colour bar
    assert _marker(ax) == pytest.approx((1.0, 0.0))


def test_loss_surface_vectorized_agrees_and_is_called_once():
    calls = []

    def f(W1, W2):
        calls.append(np.shape(W1))
        return quad(W1, W2)

    ax = loss_surface(f, (-2, 2), (-1, 1), resolution=21, vectorized=True)
    assert calls == [(21, 21)]
    assert _marker(ax) == pytest.approx((1.0, 0.0))


def test_loss_surface_3d():
    ax = loss_surface(quad, (-2, 2), (-1, 1), kind="surface", resolution=15)
    assert ax.name == "3d"
    assert ax.get_zlabel() and ax.get_xlabel() == "$w_1$"
    assert len(ax.collections) >= 1


def test_loss_surface_errors():
    with pytest.raises(ValueError, match="3-D Axes"):
        _, ax = plt.subplots()
        loss_surface(quad, (-1, 1), (-1, 1), kind="surface", ax=ax)
    with pytest.raises(ValueError, match="'contour', 'surface'"):
        loss_surface(quad, (-1, 1), (-1, 1), kind="wireframe")
    with pytest.raises(ValueError, match="low < high"):
        loss_surface(quad, (1, -1), (-1, 1))
    with pytest.raises(TypeError, match="pair"):
        loss_surface(quad, 3, (-1, 1))
    with pytest.raises(ValueError, match="NaN or infinite"):
        with np.errstate(divide="ignore"):
            loss_surface(lambda a, b: -np.log(np.float64(a) ** 2), (-1, 1), (-1, 1), resolution=11)
    with pytest.raises(ValueError, match="vectorized=False"):
        loss_surface(lambda a, b: np.sum(a + b), (-1, 1), (-1, 1), resolution=5, vectorized=True)
    with pytest.raises(ValueError, match="one number"):
        loss_surface(lambda a, b: np.array([a, b]), (-1, 1), (-1, 1), resolution=5)


# ----------------------------------------------------------------------------- training_curves


HISTORY = {
    "train_loss": [1.0, 0.6, 0.4, 0.3],
    "val_loss": [1.1, 0.7, 0.65, 0.7],
    "train_acc": [0.5, 0.7, 0.8, 0.9],
    "val_acc": [0.45, 0.65, 0.7, 0.69],
}


def test_training_curves_dict():
    h = copy.deepcopy(HISTORY)
    fig = training_curves(h)
    assert h == HISTORY  # not mutated
    ax_loss, ax_acc = fig.axes
    assert ax_loss.get_title() == "Loss per epoch" and ax_acc.get_title() == "Accuracy per epoch"
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel()
        labels = _legend_texts(ax)
        assert labels[:2] == ["training", "validation"]
        assert labels[2] == "best validation loss (epoch 3)"
    train, val = ax_loss.get_lines()[:2]
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(val.get_ydata(), HISTORY["val_loss"])


class _History:
    def __init__(self, **kw):
        self.train_loss = kw.get("train_loss")
        self.val_loss = kw.get("val_loss")
        self.train_acc = kw.get("train_acc")
        self.val_acc = kw.get("val_acc")


def test_training_curves_object_without_validation():
    fig = training_curves(_History(train_loss=[0.9, 0.5], train_acc=[0.6, 0.8], val_loss=[]))
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert _legend_texts(ax) == ["training"]


def test_training_curves_loss_only_and_keras_names():
    fig = training_curves({"train_loss": [3.0, 2.0, 1.0]})
    assert len(fig.axes) == 1
    fig = training_curves({"loss": [1.0, 0.5], "val_loss": [1.2, 0.9], "accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5]})
    assert len(fig.axes) == 2
    assert _legend_texts(fig.axes[1])[:2] == ["training", "validation"]


def test_training_curves_given_axes_and_errors():
    fig, axes = plt.subplots(1, 2)
    assert training_curves(HISTORY, ax=axes) is fig
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="needs 2 Axes"):
        training_curves(HISTORY, ax=ax)
    with pytest.raises(ValueError, match="train_loss, val_loss, train_acc, val_acc"):
        training_curves({"epochs": [1, 2]})
    with pytest.raises(ValueError, match="one value per epoch"):
        training_curves({"train_loss": [[1.0, 2.0]]})


# ----------------------------------------------------------------------------- confusion matrix


@pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")
@settings(deadline=None, max_examples=40)
@given(
    st.integers(1, 60).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 4), min_size=n, max_size=n), st.lists(st.integers(0, 4), min_size=n, max_size=n)
        )
    ),
    st.booleans(),
)
def test_confusion_counts_matches_sklearn(pair, with_labels):
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    yt, yp = (np.array(v) for v in pair)
    labels = [3, 0, 1] if with_labels else None
    ours = confusion_counts(yt, yp, labels)
    if labels is not None and not np.isin(labels, yt).any():
        # sklearn refuses this case; nothing listed was true, so nothing is counted
        np.testing.assert_array_equal(ours, np.zeros((3, 3), int))
        return
    np.testing.assert_array_equal(ours, sk_confusion_matrix(yt, yp, labels=labels))


def test_confusion_matrix_texts_are_the_counts():
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 2, 0, 2, 2])
    yt0, yp0 = y_true.copy(), y_pred.copy()
    ax = confusion_matrix(y_true, y_pred)
    # rows true, columns predicted: [[2, 1, 0], [0, 2, 0], [1, 0, 3]]
    expected = np.array([[2, 1, 0], [0, 2, 0], [1, 0, 3]])
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert len(cells) == 9
    for (i, j), text in cells.items():
        assert text == str(expected[i, j])
    assert "accuracy 77.8%" in ax.get_title() and "N = 9" in ax.get_title()
    assert ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    assert any(isinstance(a, AxesImage) for a in ax.get_images())
    np.testing.assert_array_equal(y_true, yt0)
    np.testing.assert_array_equal(y_pred, yp0)


def test_confusion_matrix_normalized_and_labels_order():
    ax = confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], labels=[1, 0], normalize=True)
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["0.00", "0.50", "0.50", "1.00"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "0"]


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="argmax"):
        confusion_matrix([0, 1, 1], np.eye(3)[:, [0, 1, 1]])
    with pytest.raises(ValueError, match="expected N = 3"):
        confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="non-integer"):
        confusion_matrix([0, 1], [0.3, 0.9])
    with pytest.raises(TypeError, match="normalize"):
        confusion_matrix([0, 1], [0, 1], normalize="true")


# ----------------------------------------------------------------------------- image_grid


def test_image_grid_rows_of_weights_symmetric():
    W1 = np.random.default_rng(0).normal(size=(6, 64)) + 1.0  # (M_1, M_0): one neuron per row
    assert -W1.min() < W1.max()  # asymmetric values: the colour limits must still be symmetric
    W0 = W1.copy()
    fig = image_grid(W1, titles=[f"neuron {m}" for m in range(6)], ncols=4, symmetric=True, title="W1")
    np.testing.assert_array_equal(W1, W0)
    images = [a.get_images()[0] for a in fig.axes if a.get_images()]
    assert len(images) == 6
    np.testing.assert_array_equal(images[2].get_array(), W1[2].reshape(8, 8))
    vmax = np.abs(W1).max()
    assert images[0].get_clim() == pytest.approx((-vmax, vmax))
    assert images[0].get_cmap().name == "RdBu_r"
    assert [a.get_title() for a in fig.axes if a.get_images()] == [f"neuron {m}" for m in range(6)]
    grid_axes = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert len(grid_axes) == 8  # 2 rows x 4 columns, two of them hidden
    assert sum(not a.axison for a in grid_axes) == 2
    assert fig._suptitle.get_text() == "W1"


def test_image_grid_columns_layout_and_stack():
    from fnnlib.data import load_digits

    X, y = load_digits()
    fig = image_grid(X[:, :5], layout="columns", titles=[str(v) for v in y[:5]])
    images = [a.get_images()[0] for a in fig.axes if a.get_images()]
    np.testing.assert_array_equal(images[3].get_array(), X[:, 3].reshape(8, 8))
    assert images[0].get_clim() == (0.0, 16.0)  # one shared grey scale
    fig = image_grid(np.zeros((3, 28, 28)))
    assert len([a for a in fig.axes if a.get_images()]) == 3


def test_image_grid_errors():
    from fnnlib.data import load_digits

    X, _ = load_digits()
    with pytest.raises(ValueError, match="layout='columns'"):
        image_grid(X[:, :5])  # columns passed with the default layout="rows"
    with pytest.raises(ValueError, match=r"shape=\(h, w\)"):
        image_grid(np.zeros((4, 50)))
    with pytest.raises(ValueError, match="K = 2 strings"):
        image_grid(np.zeros((2, 64)), titles=["a"])
    _, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="at least 3 Axes"):
        image_grid(np.zeros((3, 64)), ax=axes)


# ----------------------------------------------------------------------------- network_diagram


def _circles(ax, gid="neuron"):
    return [p for p in ax.patches if isinstance(p, Circle) and p.get_gid() == gid]


def _edge_count(ax):
    return sum(len(c.get_segments()) for c in ax.collections if isinstance(c, LineCollection))


@settings(deadline=None, max_examples=25)
@given(st.lists(st.integers(1, 9), min_size=2, max_size=5))
def test_network_diagram_circles_and_edges(sizes):
    before = list(sizes)
    ax = network_diagram(sizes)
    assert sizes == before
    assert len(_circles(ax)) == sum(sizes)
    assert _edge_count(ax) == sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    assert not [t for t in ax.texts if t.get_text() == "⋮"]
    plt.close(ax.figure)


def test_network_diagram_labels_and_parameter_count():
    ax = network_diagram([3, 4, 2])
    texts = [t.get_text() for t in ax.texts]
    assert "input\n$M_{0} = 3$" in texts
    assert "hidden\n$M_{1} = 4$" in texts
    assert "output\n$M_{2} = 2$" in texts
    assert {"$x_{1}$", "$x_{3}$", "$\\hat{y}_{2}$"} <= set(texts)
    assert ax.get_title() == "Network 3-4-2: L = 2 layers, P = 26 parameters"


@pytest.mark.parametrize(
    "sizes, P", [([3, 4, 2], 26), ([3, 5, 6, 4, 2], 94), ([8, 10, 12, 15, 15, 12, 6], 927)]
)
def test_network_diagram_counts_the_syllabus_cases(sizes, P):
    # P = sum_l (M_{l-1} + 1) M_l; e.g. 3-4-2: (3+1)*4 + (4+1)*2 = 16 + 10 = 26
    assert f"P = {P} parameters" in network_diagram(sizes).get_title()


def test_network_diagram_elides_large_layers():
    ax = network_diagram([784, 30, 10], max_per_layer=8)
    # the 784 and 30 layers show 7 neurons and a "⋮"; the 10 layer 7 and "⋮" too
    assert len(_circles(ax)) == 7 * 3
    assert len([t for t in ax.texts if t.get_text() == "⋮"]) == 3
    assert "input\n$M_{0} = 784$" in [t.get_text() for t in ax.texts]
    assert "$x_{784}$" in [t.get_text() for t in ax.texts]  # the last input keeps its index
    assert _edge_count(ax) == 7 * 7 * 2


def test_network_diagram_bias_units():
    ax = network_diagram([3, 4, 2], show_bias=True)
    assert len(_circles(ax)) == 9
    assert len(_circles(ax, "bias")) == 2  # one per layer 0 .. L-1
    assert _edge_count(ax) == 3 * 4 + 4 * 2 + 4 + 2
    assert [t.get_text() for t in ax.texts].count("+1") == 2


def test_network_diagram_draws_on_given_axes():
    fig, ax = plt.subplots()
    assert network_diagram([2, 2], ax=ax, title="tiny") is ax
    assert ax.get_title() == "tiny"


@pytest.mark.parametrize(
    "sizes, kwargs, exc, pattern",
    [
        ([3], {}, ValueError, "at least two entries"),
        ([3, 0, 2], {}, ValueError, r"layer_sizes\[1\] must be an integer >= 1"),
        ([3, 2.5], {}, TypeError, "integer"),
        ("342", {}, TypeError, "list"),
        ([3, 4], {"max_per_layer": 2}, ValueError, "max_per_layer"),
        ([3, 4], {"ax": "axes"}, TypeError, "Axes"),
    ],
)
def test_network_diagram_bad_input(sizes, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        network_diagram(sizes, **kwargs)


def test_module_exports():
    expected = {
        "function_and_derivative", "decision_boundary", "loss_surface", "training_curves",
        "confusion_matrix", "image_grid", "network_diagram", "use_course_style",
    }
    assert expected <= set(plot.__all__)
    for name in plot.__all__:
        assert hasattr(plot, name)


# ----------------------------------------------------------------------------- retina figures and explorers


def test_use_course_style_outside_ipython_changes_no_display_setting():
    from fnnlib.plot import _use_retina_figures

    with plt.rc_context():
        use_course_style()  # no IPython shell in this process: only rcParams
    assert _use_retina_figures() is False


def _run_in_kernel(*sources):
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    return nb


def _png_size(b64):
    import base64
    import struct

    raw = base64.b64decode(b64)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


def test_in_a_kernel_figures_are_stored_at_twice_the_pixels_and_explorer_redraws_in_place():
    setup = (
        "%matplotlib inline\n"
        "import matplotlib.pyplot as plt\nfrom fnnlib import plot as fplot\n"
        "fplot.use_course_style()\nplt.rcParams.update({'figure.dpi': 80})\n"
        "fig, ax = plt.subplots(figsize=(4, 2), layout='constrained')\nax.plot([0, 1], [0, 1])\nplt.show()"
    )
    explore = (
        "def draw(w=1.0, kind='line'):\n"
        "    fig, ax = plt.subplots(figsize=(3, 2))\n"
        "    ax.plot([0, 1], [0, w], '-' if kind == 'line' else 'o')\n"
        "    ax.set_title(f'w = {w}')\n"
        "    return fig\n"
        "ex = fplot.explorer(draw, {'w': (-2.0, 2.0, 0.5, 1.0), 'kind': ['line', 'dots']}, labels={'w': 'weight w'})\n"
        "ex"
    )
    move = "ex.widgets['w'].value = -1.5\nprint(ex.values)"
    nb = _run_in_kernel(setup, explore, move)
    (fig_out,) = [o for o in nb.cells[0].outputs if "image/png" in o.get("data", {})]
    w, h = _png_size(fig_out.data["image/png"])
    meta = fig_out.metadata["image/png"]
    assert (w, h) == (2 * meta["width"], 2 * meta["height"]), "retina: stored pixels are twice the displayed size"
    assert abs(meta["width"] - 4 * 80) <= 20  # displayed at the figure's own size (bbox "tight" pads or trims)

    outs = nb.cells[1].outputs
    assert len(outs) == 2, [list(o.get("data", {})) for o in outs]
    figure, sliders = outs
    assert "image/png" in figure.data and figure.data["text/plain"].startswith("<Figure size")
    assert "application/vnd.jupyter.widget-view+json" in sliders.data
    assert sliders.data["text/plain"] == "[sliders weight w, kind: run the notebook to redraw the figure above]"
    # moving the slider in cell 3 replaced the figure stored in cell 2 (same display id)
    assert nb.cells[2].outputs[0].text.strip() == "{'w': -1.5, 'kind': 'line'}"
    before = _run_in_kernel(setup, explore).cells[1].outputs[0].data["image/png"]
    assert figure.data["image/png"] != before


def test_explorer_outside_a_kernel_shows_the_default_figure_and_redraws():
    calls = []

    def draw(w=0.0, act="relu"):
        calls.append((w, act))
        fig, ax = plt.subplots()
        ax.set_title(f"w = {w}, {act}")
        return fig

    from fnnlib.plot import explorer

    ex = explorer(draw, {"w": (-1.0, 1.0, 0.25, 0.5), "act": ["tanh", "relu"]})
    assert calls == [(0.5, "tanh")] and ex.values == {"w": 0.5, "act": "tanh"} and ex.widgets == {}
    assert not plt.get_fignums(), "the explorer closes the figures it draws"
    ex.redraw(w=-1.0)
    assert calls[-1] == (-1.0, "tanh") and ex.values["w"] == -1.0
    pytest.importorskip("ipywidgets")
    box = ex._build_widgets()
    assert len(box.children) == 2
    ex.widgets["act"].value = "relu"
    assert calls[-1] == (-1.0, "relu")
    assert isinstance(ex.widgets["w"].value, float)
    ints = explorer(lambda n=3: plt.figure(), {"n": (1, 9, 1, 3)})
    ints._build_widgets()
    assert type(ints.widgets["n"]).__name__ == "IntSlider"


@pytest.mark.parametrize(
    "controls, pattern",
    [
        ({}, "non-empty dict"),
        ([("w", 1)], "non-empty dict"),
        ({"w": (0, 1)}, r"expected \(min, max, step, default\)"),
        ({"w": (1.0, 0.0, 0.1, 0.5)}, "min < max"),
        ({"w": (0.0, 1.0, 0.1, 2.0)}, "min <= default <= max"),
        ({"not a name": (0.0, 1.0, 0.1, 0.5)}, "valid keyword-argument name"),
    ],
)
def test_explorer_bad_controls(controls, pattern):
    from fnnlib.plot import explorer

    with pytest.raises((TypeError, ValueError), match=pattern):
        explorer(lambda **kw: plt.figure(), controls)


def test_explorer_bad_draw_and_labels():
    from fnnlib.plot import explorer

    with pytest.raises(TypeError, match="must return a matplotlib Figure"):
        explorer(lambda w: None, {"w": (0.0, 1.0, 0.1, 0.5)})
    with pytest.raises(TypeError, match="draw must be a function"):
        explorer("draw", {"w": (0.0, 1.0, 0.1, 0.5)})
    with pytest.raises(ValueError, match=r"labels \['v'\] name no control"):
        explorer(lambda w: plt.figure(), {"w": (0.0, 1.0, 0.1, 0.5)}, labels={"v": "v"})
    ex = explorer(lambda w: plt.figure(), {"w": (0.0, 1.0, 0.1, 0.5)})
    with pytest.raises(TypeError, match=r"unknown control\(s\) \['v'\]"):
        ex.redraw(v=1)
