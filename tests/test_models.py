"""Models: exact gradients (finite differences), sklearn/numpy references, flat views, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression as SkLinearRegression
from sklearn.metrics import log_loss

from course_lib.gradcheck import check_gradient
from course_lib.models import MLP, LinearRegression, LogisticRegression, least_squares


def regression_data(n: int = 40, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.5 + 0.3 * rng.normal(size=n)
    return X, y


def classification_data(n: int = 40, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + 0.5 * rng.normal(size=n) > 0).astype(float)
    return X, y


def randomise(model, seed: int) -> None:
    model.set_flat(np.random.default_rng(seed).normal(scale=0.7, size=model.get_flat().size))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def check_model(model, X, y, seeds=(1, 2, 3)) -> None:
    f, grad = model.flat_loss(X, y)
    for seed in seeds:
        theta = np.random.default_rng(seed).normal(scale=0.7, size=model.get_flat().size)
        result = check_gradient(f, grad, theta)
        assert result.ok, f"{type(model).__name__} seed {seed}: {result}"


# --- gradients pass the check ---------------------------------------------------------------


@pytest.mark.parametrize("loss", ["mse", "half_mse"])
def test_linear_regression_gradient(loss: str) -> None:
    X, y = regression_data()
    check_model(LinearRegression(3, loss=loss), X, y)


def test_linear_regression_one_feature_vector_X() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=30)
    y = 2 * x - 1 + rng.normal(size=30)
    check_model(LinearRegression(1), x, y)


def test_logistic_regression_gradient() -> None:
    X, y = classification_data()
    check_model(LogisticRegression(3), X, y)


def test_mlp_regression_gradient() -> None:
    X, y = regression_data(n=25)
    check_model(MLP([3, 5, 4, 1], task="regression", seed=0), X, y)


def test_mlp_regression_multi_output_gradient() -> None:
    X, _ = regression_data(n=25)
    Y = np.random.default_rng(9).normal(size=(25, 2))
    check_model(MLP([3, 4, 3, 2], task="regression", seed=1), X, Y)


def test_mlp_classification_gradient() -> None:
    X, y = classification_data(n=25)
    check_model(MLP([3, 5, 4, 1], task="classification", seed=0), X, y)


class HalfGradientLinearRegression(LinearRegression):
    """Wrong by design: reports half the gradient of its mse loss."""

    def loss_and_grad(self, X, y):
        loss, grads = super().loss_and_grad(X, y)
        return loss, [g / 2 for g in grads]


def test_wrong_gradient_model_fails_the_check() -> None:
    X, y = regression_data()
    model = HalfGradientLinearRegression(3, loss="mse")
    randomise(model, 5)
    f, grad = model.flat_loss(X, y)
    result = check_gradient(f, grad, model.get_flat())
    assert result.ok is False
    # |g/2 - g| / (|g/2| + |g|) = 1/3 on every coordinate
    assert result.max_rel_error == pytest.approx(1 / 3, rel=1e-5)


def test_linear_regression_gradient_by_hand() -> None:
    X, y = regression_data(n=10)
    w, b = np.array([0.3, -0.2, 0.9]), 0.4
    model = LinearRegression(3, weights=w, bias=b)
    loss, (gw, gb) = model.loss_and_grad(X, y)
    e = X @ w + b - y
    assert loss == pytest.approx(np.mean(e**2))
    np.testing.assert_allclose(gw, 2 / 10 * X.T @ e)
    np.testing.assert_allclose(gb, [2 * np.mean(e)])


def test_half_mse_gradient_is_exactly_half() -> None:
    X, y = regression_data()
    full = LinearRegression(3, weights=[0.1, 0.2, -0.3], bias=0.7, loss="mse")
    half = LinearRegression(3, weights=[0.1, 0.2, -0.3], bias=0.7, loss="half_mse")
    loss_full, grads_full = full.loss_and_grad(X, y)
    loss_half, grads_half = half.loss_and_grad(X, y)
    assert loss_half == loss_full / 2
    for g_full, g_half in zip(grads_full, grads_half, strict=True):
        np.testing.assert_array_equal(g_half, g_full / 2)


# --- references -----------------------------------------------------------------------------


def test_least_squares_matches_sklearn() -> None:
    X, y = regression_data(n=60, d=4, seed=3)
    w, b = least_squares(X, y)
    sk = SkLinearRegression().fit(X, y)
    np.testing.assert_allclose(w, sk.coef_, rtol=1e-9, atol=1e-12)
    assert b == pytest.approx(sk.intercept_, rel=1e-9, abs=1e-12)
    assert isinstance(b, float)
    # it is the minimum: the mse gradient vanishes there
    model = LinearRegression(4, weights=w, bias=b)
    _, grads = model.loss_and_grad(X, y)
    np.testing.assert_allclose(np.concatenate(grads), 0.0, atol=1e-10)


def test_least_squares_matches_polyfit_for_one_feature() -> None:
    rng = np.random.default_rng(8)
    x = rng.uniform(-3, 3, size=50)
    y = 1.7 * x - 0.4 + rng.normal(scale=0.2, size=50)
    slope, intercept = np.polyfit(x, y, 1)
    for X in (x, x[:, None]):
        w, b = least_squares(X, y)
        np.testing.assert_allclose(w, [slope], rtol=1e-9)
        assert b == pytest.approx(intercept, rel=1e-9)


def test_logistic_loss_equals_sklearn_log_loss() -> None:
    X, y = classification_data(n=50, seed=6)
    model = LogisticRegression(3)
    model.set_flat([0.5, -1.0, 0.25, 0.1])
    z = X @ np.array([0.5, -1.0, 0.25]) + 0.1
    np.testing.assert_allclose(model.predict_proba(X), sigmoid(z), rtol=1e-12)
    assert model.loss(X, y) == pytest.approx(log_loss(y, sigmoid(z)), rel=1e-10)
    np.testing.assert_array_equal(model.predict(X), (sigmoid(z) >= 0.5).astype(int))


def test_logistic_loss_finite_for_huge_logits() -> None:
    X = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    model = LogisticRegression(1)
    model.set_flat([1e4, 0.0])  # z = +1e4, +1e4, -1e4, -1e4
    # exp(-1e4) underflowing to 0 is harmless; overflow or inf - inf would not be
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, (gw, gb) = model.loss_and_grad(X, y)
    # per sample: log(1 + e^z) - y z = 0, 1e4, 0, 1e4
    assert np.isfinite(loss)
    assert loss == pytest.approx(5e3, rel=1e-12)
    # residual p - y = 0, 1, 0, -1 -> dL/dw = mean(x * r) = (0 + 1 + 0 + 1) / 4
    np.testing.assert_allclose(gw, [0.5], atol=1e-12)
    np.testing.assert_allclose(gb, [0.0], atol=1e-12)
    probs = model.predict_proba(X)
    assert np.all(np.isfinite(probs)) and np.all((probs >= 0) & (probs <= 1))


def mlp_forward_reference(model: MLP, X: np.ndarray) -> np.ndarray:
    W1, b1, W2, b2, W3, b3 = (p.copy() for p in model.params)
    return np.tanh(np.tanh(X @ W1 + b1) @ W2 + b2) @ W3 + b3


def test_mlp_losses_against_reference_forward_pass() -> None:
    X, y = regression_data(n=20)
    reg = MLP([3, 5, 4, 1], task="regression", seed=2)
    out = mlp_forward_reference(reg, X)[:, 0]
    assert reg.loss(X, y) == pytest.approx(np.mean((out - y) ** 2), rel=1e-12)
    np.testing.assert_allclose(reg.predict(X), out, rtol=1e-12)

    Xc, yc = classification_data(n=20)
    clf = MLP([3, 5, 4, 1], task="classification", seed=2)
    z = mlp_forward_reference(clf, Xc)[:, 0]
    assert clf.loss(Xc, yc) == pytest.approx(log_loss(yc, sigmoid(z)), rel=1e-10)
    np.testing.assert_array_equal(clf.predict(Xc), (z >= 0).astype(int))


def test_mlp_initialisation() -> None:
    mlp = MLP([3, 5, 4, 1], seed=7)
    assert [p.shape for p in mlp.params] == [(3, 5), (5,), (5, 4), (4,), (4, 1), (1,)]
    for (n_in, n_out), W in zip([(3, 5), (5, 4), (4, 1)], mlp.params[::2], strict=True):
        assert np.all(np.abs(W) <= np.sqrt(6 / (n_in + n_out)))
    for b in mlp.params[1::2]:
        np.testing.assert_array_equal(b, 0.0)
    np.testing.assert_array_equal(MLP([3, 5, 4, 1], seed=7).get_flat(), mlp.get_flat())
    assert not np.array_equal(MLP([3, 5, 4, 1], seed=8).get_flat(), mlp.get_flat())


# --- flat views -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [lambda: LinearRegression(3), lambda: LogisticRegression(3), lambda: MLP([3, 4, 2, 1])],
)
def test_flat_loss_restores_params(make) -> None:
    model = make()
    randomise(model, 0)
    before = [p.copy() for p in model.params]
    ids = [id(p) for p in model.params]
    X, y = classification_data(n=15)
    f, grad = model.flat_loss(X, y)
    other = np.random.default_rng(1).normal(size=model.get_flat().size)
    value = f(other)
    g = grad(other)
    assert np.isfinite(value) and g.shape == other.shape
    for p, q in zip(model.params, before, strict=True):
        np.testing.assert_array_equal(p, q)
    assert [id(p) for p in model.params] == ids  # updated in place, not replaced
    # f(other) really was evaluated at `other`
    model.set_flat(other)
    assert model.loss(X, y) == pytest.approx(value)


def test_flat_loss_restores_params_after_an_error() -> None:
    model = LinearRegression(3, weights=[1.0, 2.0, 3.0], bias=4.0)
    f, _ = model.flat_loss(np.ones((5, 2)), np.ones(5))  # wrong number of features
    with pytest.raises(ValueError):
        f(np.zeros(4))
    np.testing.assert_array_equal(model.get_flat(), [1.0, 2.0, 3.0, 4.0])


def test_set_flat_get_flat_round_trip() -> None:
    model = MLP([2, 3, 2, 1], seed=0)
    theta = np.arange(model.get_flat().size, dtype=float)
    assert theta.size == 2 * 3 + 3 + 3 * 2 + 2 + 2 * 1 + 1
    model.set_flat(theta)
    np.testing.assert_array_equal(model.get_flat(), theta)
    np.testing.assert_array_equal(model.params[0], [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(model.params[1], [6, 7, 8])
    flat = model.get_flat()
    flat[0] = 1000.0  # a copy: editing it does not touch the model
    assert model.params[0][0, 0] == 0.0


def test_linear_regression_accessors() -> None:
    model = LinearRegression(2, weights=[1.5, -2.0], bias=0.25)
    np.testing.assert_array_equal(model.weights, [1.5, -2.0])
    assert model.bias == 0.25
    np.testing.assert_allclose(model.predict([[1.0, 1.0], [2.0, 0.0]]), [-0.25, 3.25])


# --- errors ---------------------------------------------------------------------------------


def test_set_flat_wrong_size() -> None:
    with pytest.raises(ValueError, match=re.escape("(4,)") + ".*" + re.escape("(5,)")):
        LinearRegression(3).set_flat(np.zeros(5))


@pytest.mark.parametrize(
    "make", [lambda: LinearRegression(3), lambda: LogisticRegression(3), lambda: MLP([3, 2, 1])]
)
def test_wrong_number_of_features(make) -> None:
    model = make()
    with pytest.raises(ValueError, match=re.escape("(6, 2)")):
        model.loss(np.ones((6, 2)), np.ones(6))
    with pytest.raises(ValueError, match=re.escape("(6, 2)")):
        model.predict(np.ones((6, 2)))


@pytest.mark.parametrize(
    "make", [lambda: LinearRegression(3), lambda: LogisticRegression(3), lambda: MLP([3, 2, 1])]
)
def test_one_dimensional_X_error_names_the_shape_passed(make) -> None:
    # X of shape (3,) for a 3-feature model: the message should show (3,), what the caller passed
    with pytest.raises(ValueError, match=re.escape("(3,)")):
        make().predict(np.ones(3))


@pytest.mark.parametrize(
    "make",
    [
        lambda: LinearRegression(3),
        lambda: LogisticRegression(3),
        lambda: MLP([3, 2, 1], task="regression"),
        lambda: MLP([3, 2, 1], task="classification"),
    ],
)
def test_wrong_number_of_targets(make) -> None:
    # 11 targets for 10 rows: the message should say it is y, and give both counts
    with pytest.raises(ValueError, match=r"\by\b.*11.*10") as info:
        make().loss(np.ones((10, 3)), np.ones(11))
    assert "10" in str(info.value)


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match="'mae'"):
        LinearRegression(2, loss="mae")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("(3,)")):
        LinearRegression(2, weights=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="n_features"):
        LinearRegression(0)
    with pytest.raises(TypeError, match="n_features"):
        LogisticRegression(2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("[3]")):
        MLP([3])
    with pytest.raises(ValueError, match="'ranking'"):
        MLP([3, 1], task="ranking")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one output"):
        MLP([3, 2], task="classification")
    with pytest.raises(ValueError, match="column"):
        MLP([3, 2, 2]).loss(np.ones((5, 3)), np.ones((5, 3)))


# --- multiclass: softmax cross-entropy --------------------------------------------------------


def multiclass_data(n: int = 30, d: int = 4, k: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.argmax(X @ rng.normal(size=(d, k)) + 0.5 * rng.normal(size=(n, k)), axis=1)
    return X, y


def softmax_reference(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("layers", [[4, 3], [4, 5, 3], [4, 6, 5, 4]])
def test_mlp_multiclass_gradient(layers) -> None:
    X, y = multiclass_data(k=layers[-1])
    check_model(MLP(layers, task="multiclass", seed=0), X, y)


def test_mlp_multiclass_loss_equals_sklearn_log_loss() -> None:
    X, y = multiclass_data(n=40, k=4, seed=3)
    model = MLP([4, 5, 4], task="multiclass", seed=1)
    randomise(model, 2)
    W1, b1, W2, b2 = (p.copy() for p in model.params)
    z = np.tanh(X @ W1 + b1) @ W2 + b2
    np.testing.assert_allclose(model.logits(X), z, rtol=1e-12)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba, softmax_reference(z), rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert model.loss(X, y) == pytest.approx(
        log_loss(y, softmax_reference(z), labels=range(4)), rel=1e-10
    )
    np.testing.assert_array_equal(model.predict(X), np.argmax(z, axis=1))
    assert model.accuracy(X, y) == pytest.approx(np.mean(np.argmax(z, axis=1) == y))


def test_mlp_multiclass_gradient_of_logits_by_hand() -> None:
    # one layer, so the logits are X W + b: dL/dW = X^T (softmax - onehot) / n
    X, y = multiclass_data(n=12, k=3, seed=5)
    model = MLP([4, 3], task="multiclass", seed=2)
    _, (gW, gb) = model.loss_and_grad(X, y)
    residual = softmax_reference(X @ model.params[0] + model.params[1]) - np.eye(3)[y]
    np.testing.assert_allclose(gW, X.T @ residual / 12, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gb, residual.mean(axis=0), rtol=1e-12, atol=1e-15)


def test_mlp_multiclass_finite_for_huge_logits() -> None:
    X = np.array([[1.0], [-1.0]])
    y = np.array([0, 0])
    model = MLP([1, 2], task="multiclass")
    model.set_flat([1e4, -1e4, 0.0, 0.0])  # logits (1e4, -1e4) and (-1e4, 1e4)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, (gW, gb) = model.loss_and_grad(X, y)
        proba = model.predict_proba(X)
    # sample 1 is right with certainty (loss 0), sample 2 wrong by a margin of 2e4
    assert loss == pytest.approx(1e4, rel=1e-12)
    np.testing.assert_allclose(proba, [[1.0, 0.0], [0.0, 1.0]], atol=1e-300)
    # residual: (0, 0) and (-1, 1); dL/dW = X^T r / 2 = [[0.5, -0.5]], dL/db = (-0.5, 0.5)
    np.testing.assert_allclose(gW, [[0.5, -0.5]])
    np.testing.assert_allclose(gb, [-0.5, 0.5])


def test_mlp_multiclass_accepts_whole_number_floats() -> None:
    # course_lib.fit hands labels over as float64
    X, y = multiclass_data(k=3)
    model = MLP([4, 3, 3], task="multiclass", seed=0)
    loss_int, grads_int = model.loss_and_grad(X, y)
    loss_float, grads_float = model.loss_and_grad(X, y.astype(float))
    assert loss_int == loss_float
    for a, b in zip(grads_int, grads_float, strict=True):
        np.testing.assert_array_equal(a, b)


def test_mlp_fit_multiclass_learns() -> None:
    from course_lib.optim import RMSprop
    from course_lib.training import fit

    X, y = multiclass_data(n=200, k=3, seed=4)
    model = MLP([4, 8, 3], task="multiclass", seed=0)
    before = model.accuracy(X, y)
    history = fit(model, X, y, RMSprop(lr=0.01), epochs=30, batch_size=20, verbose=False)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert model.accuracy(X, y) > max(before, 0.8)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([0, 1, 3]), "0..2.*3"),
        (np.array([0, -1, 2]), "0..2.*-1"),
        (np.array([0.0, 1.5, 2.0]), "whole numbers.*1.5"),
        (np.array([0.0, np.nan, 2.0]), "nan"),
        (np.array([[0], [1], [2]]), r"1-D.*\(3, 1\)"),
        (np.array(["a", "b", "c"]), "dtype"),
    ],
)
def test_mlp_multiclass_bad_labels(bad, message: str) -> None:
    model = MLP([2, 3], task="multiclass")
    with pytest.raises(ValueError, match=message):
        model.loss(np.ones((3, 2)), bad)


def test_mlp_multiclass_constructor_and_task_errors() -> None:
    with pytest.raises(ValueError, match="at least 2.*got 1"):
        MLP([3, 1], task="multiclass")
    with pytest.raises(ValueError, match="'multiclass'"):
        MLP([3, 1], task="multi")  # type: ignore[arg-type]
    regression = MLP([3, 2, 1])
    with pytest.raises(ValueError, match="predict_proba"):
        regression.predict_proba(np.ones((2, 3)))
    with pytest.raises(ValueError, match="accuracy"):
        regression.accuracy(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"\by\b.*11.*10"):
        MLP([3, 4], task="multiclass").loss(np.ones((10, 3)), np.zeros(11))
    assert MLP([3, 4], task="multiclass").n_classes == 4
    assert MLP([3, 1], task="classification").n_classes == 2
    assert regression.n_classes is None


def test_mlp_binary_predict_proba_and_accuracy() -> None:
    X, y = classification_data(n=30)
    model = MLP([3, 4, 1], task="classification", seed=1)
    z = model.logits(X)[:, 0]
    np.testing.assert_allclose(model.predict_proba(X), sigmoid(z), rtol=1e-12)
    assert model.accuracy(X, y) == pytest.approx(np.mean((z >= 0) == (y == 1)))


@pytest.mark.parametrize(
    "task, layers, data",
    [
        ("regression", [3, 4, 1], lambda: regression_data(n=20)),
        ("classification", [3, 4, 1], lambda: classification_data(n=20)),
        ("multiclass", [4, 5, 3], lambda: multiclass_data(n=20, k=3)),
    ],
)
def test_mlp_loss_is_the_loss_of_loss_and_grad(task, layers, data) -> None:
    # MLP.loss skips backpropagation; it must still be the same number, bit for bit
    X, y = data()
    model = MLP(layers, task=task, seed=3)
    randomise(model, 4)
    assert model.loss(X, y) == model.loss_and_grad(X, y)[0]
