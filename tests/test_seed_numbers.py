"""The tutorial article's published numbers, reproduced with course_lib.

The article printed these from its own runs (PyTorch, TensorFlow/Keras, and its NumPy code).
They are independent references: course_lib has to produce them, digit for digit, from the same
starting points and settings.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import LinearRegression, XOverLogX, least_squares
from course_lib.optim import RMSprop

# "Iteration i: x = ..." at i = 0, 100, ..., 1400, as printed by the article.
PUBLISHED_TORCH = ["361.0000", "302.5840", "268.0156", "236.2579", "205.2928", "174.5349",
                   "143.7643", "112.8619", "81.7036", "50.0471", "17.0591", "2.7183", "2.7183",
                   "2.7183", "2.7183"]
PUBLISHED_KERAS = ["363.0513", "330.9281", "300.8935", "270.8544", "240.8105", "210.7600",
                   "180.7007", "150.6295", "120.5406", "90.4234", "60.2539", "29.9579", "2.7183",
                   "2.7183", "2.7183"]


def printed_run(optimizer: RMSprop) -> list[str]:
    # The article's runs were float32 (torch.tensor([364.0]) and tf.Variable([364.0])).
    objective, x = XOverLogX(), np.array([364.0], dtype=np.float32)
    printed = []
    for i in range(1500):
        optimizer.step(x, objective.grad(x))
        if i % 100 == 0:
            printed.append(f"{x[0]:.4f}")
    return printed


def assert_matches_published(ours: list[str], published: list[str]) -> None:
    # The first iterates agree exactly. Later lines may differ by one unit in the 4th decimal:
    # the runs are float32, and four of torch's operations round differently from NumPy's
    # (MKL's log and sqrt, autograd's order for the gradient of x/log x, and the fused
    # addcmul_ in the v update); all four together reproduce torch bit for bit
    # (tests/test_torch_seed_run.py, lesson 09 section 2). course_lib follows the order of
    # operations in the frameworks' source, which is also the article's NumPy code, so that the
    # float64 six-point fit below is exact.
    assert ours[:2] == published[:2]
    for i, (mine, theirs) in enumerate(zip(ours, published, strict=True)):
        assert abs(float(mine) - float(theirs)) <= 1.00001e-4, f"iteration {100 * i}"


def test_keras_run_reproduced_to_the_printed_digits():
    ours = printed_run(RMSprop.like("keras", lr=0.3))
    assert_matches_published(ours, PUBLISHED_KERAS)
    assert ours[-3:] == ["2.7183"] * 3


def test_torch_run_reproduced_to_the_printed_digits():
    ours = printed_run(RMSprop.like("torch", lr=0.3))
    assert_matches_published(ours, PUBLISHED_TORCH)
    assert sum(a == b for a, b in zip(ours, PUBLISHED_TORCH, strict=True)) >= 14


def test_first_step_sizes_explain_the_two_frameworks():
    # torch's decay 0.99 makes the first step lr/sqrt(0.01) = 10 lr = 3.0: 364 -> 361.
    # Keras's 0.9 makes it lr/sqrt(0.1) = 3.16 lr, less eps inside the root: 364 -> 363.0513.
    x = np.array([364.0], dtype=np.float32)
    RMSprop.like("torch", lr=0.3).step(x, XOverLogX().grad(x))
    assert x[0] == pytest.approx(361.0, abs=1e-4)


def test_six_point_line_fit_reproduced_to_all_printed_digits():
    inputs = np.arange(5.0, 60.0, 10.0)  # 5, 15, ..., 55
    targets = np.array([5.0, 20.0, 14.0, 32.0, 22.0, 38.0])
    # The article's gradient is mean(error * x), i.e. the gradient of half the MSE.
    model = LinearRegression(n_features=1, weights=[3.0], bias=5.0, loss="half_mse")
    optimizer = RMSprop(lr=0.001, beta=0.9, eps=1e-8)
    for _ in range(5000):
        _, grads = model.loss_and_grad(inputs, targets)
        optimizer.step(model.params, grads)
    params = np.array([model.weights[0], model.bias])
    predictions = model.predict(inputs)
    rmse = np.mean((targets - predictions) ** 2) ** 0.5
    assert str(params) == "[0.54935276 5.24240429]"
    printed_prediction = {5: "7.98916807", 15: "13.48269564", 25: "18.97622321",
                          35: "24.46975078", 45: "29.96327835", 55: "35.45680592"}
    assert {int(x): f"{p:.8f}" for x, p in zip(inputs, predictions, strict=True)} == (
        printed_prediction
    )
    assert repr(float(rmse)) == "5.813195776655382"
    # ... which is not the line of best fit the article calls it: least squares does better.
    w, b = least_squares(inputs, targets)
    assert (round(w[0], 10), round(b, 10)) == (0.54, 5.6333333333)
    best_rmse = np.mean((targets - (w[0] * inputs + b)) ** 2) ** 0.5
    assert repr(round(float(best_rmse), 6)) == "5.809953"  # sqrt(mean squared residual)
    assert best_rmse < rmse
