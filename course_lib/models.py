"""Small models with a loss and its exact gradient: linear and logistic regression, an MLP.

Every model keeps its parameters in ``model.params``, a list of float arrays that an optimizer
updates in place, and has ``predict(X)``, ``loss(X, y)`` and ``loss_and_grad(X, y)``, the last
returning ``(loss, [one gradient array per parameter])``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from ._validation import check_positive_int


def _as_features(X: ArrayLike, n_features: int) -> np.ndarray:
    given = np.asarray(X, dtype=np.float64)
    # A plain vector is one feature per sample, as in the tutorial's line fits.
    features = given[:, None] if given.ndim == 1 else given
    if features.ndim != 2 or features.shape[1] != n_features:
        raise ValueError(
            f"X must have shape (n_samples, {n_features}), got shape {given.shape}."
        )
    return features


def _as_targets(y: ArrayLike, n_samples: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64).ravel()
    if y.shape[0] != n_samples:
        raise ValueError(f"y has {y.shape[0]} values but X has {n_samples} rows; they must match.")
    return y


class Model:
    """Base class: flat views of the parameters, for gradient checks and plots."""

    params: list[np.ndarray]

    def loss_and_grad(self, X: ArrayLike, y: ArrayLike) -> tuple[float, list[np.ndarray]]:
        raise NotImplementedError

    def loss(self, X: ArrayLike, y: ArrayLike) -> float:
        return self.loss_and_grad(X, y)[0]

    def get_flat(self) -> np.ndarray:
        """All parameters in one vector (a copy)."""
        return np.concatenate([p.ravel() for p in self.params])

    def set_flat(self, theta: ArrayLike) -> None:
        """Write a vector made by :meth:`get_flat` back into the parameter arrays, in place."""
        theta = np.asarray(theta, dtype=np.float64)
        size = sum(p.size for p in self.params)
        if theta.shape != (size,):
            raise ValueError(f"theta must have shape ({size},), got {theta.shape}.")
        start = 0
        for p in self.params:
            p[...] = theta[start : start + p.size].reshape(p.shape)
            start += p.size

    def flat_loss(self, X: ArrayLike, y: ArrayLike):
        """``(f, grad)`` as functions of the flat parameter vector, for ``check_gradient``.

        They evaluate at the given vector and then put the model's parameters back as they were.
        """

        def evaluate(theta: np.ndarray) -> tuple[float, np.ndarray]:
            saved = self.get_flat()
            try:
                self.set_flat(theta)
                loss, grads = self.loss_and_grad(X, y)
            finally:
                self.set_flat(saved)
            return loss, np.concatenate([g.ravel() for g in grads])

        return (lambda theta: evaluate(theta)[0]), (lambda theta: evaluate(theta)[1])


class LinearRegression(Model):
    """``y_hat = X w + b`` with the mean squared error.

    ``loss="mse"``: ``L = mean((y_hat - y)^2)``, ``dL/dw = 2/n X^T (y_hat - y)``,
    ``dL/db = 2 mean(y_hat - y)``. ``loss="half_mse"`` halves L and so drops the 2s: that is the
    gradient the tutorial's NumPy code computes (it writes ``mean(error * x)``).
    """

    def __init__(
        self,
        n_features: int = 1,
        weights: ArrayLike | None = None,
        bias: float = 0.0,
        loss: Literal["mse", "half_mse"] = "mse",
    ) -> None:
        self.n_features = check_positive_int("n_features", n_features)
        if loss not in ("mse", "half_mse"):
            raise ValueError(f"loss must be 'mse' or 'half_mse', got {loss!r}.")
        self.loss_name = loss
        w = np.zeros(self.n_features) if weights is None else np.array(weights, dtype=np.float64)
        if w.shape != (self.n_features,):
            raise ValueError(f"weights must have shape ({self.n_features},), got {w.shape}.")
        self.params = [w, np.array([float(bias)])]

    @property
    def weights(self) -> np.ndarray:
        return self.params[0]

    @property
    def bias(self) -> float:
        return float(self.params[1][0])

    def predict(self, X: ArrayLike) -> np.ndarray:
        X = _as_features(X, self.n_features)
        return X @ self.params[0] + self.params[1][0]

    def loss_and_grad(self, X: ArrayLike, y: ArrayLike) -> tuple[float, list[np.ndarray]]:
        X = _as_features(X, self.n_features)
        y = _as_targets(y, X.shape[0])
        error = X @ self.params[0] + self.params[1][0] - y
        scale = 1.0 if self.loss_name == "half_mse" else 2.0
        loss = float(np.mean(error**2)) * scale / 2
        grad_w = scale * X.T @ error / len(y)
        grad_b = np.array([scale * np.mean(error)])
        return loss, [grad_w, grad_b]


def least_squares(X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, float]:
    """The exact minimiser of the MSE for ``y ~ X w + b``: ``(w, b)``, by ``numpy.linalg.lstsq``."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    y = _as_targets(y, X.shape[0])
    design = np.column_stack([X, np.ones(len(X))])
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    return solution[:-1], float(solution[-1])


class LogisticRegression(Model):
    """``p = sigmoid(X w + b)`` with the mean binary cross-entropy; labels are 0 or 1.

    ``dL/dw = 1/n X^T (p - y)``, ``dL/db = mean(p - y)``.
    """

    def __init__(self, n_features: int = 1) -> None:
        self.n_features = check_positive_int("n_features", n_features)
        self.params = [np.zeros(self.n_features), np.zeros(1)]

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        X = _as_features(X, self.n_features)
        z = X @ self.params[0] + self.params[1][0]
        return 0.5 * (1 + np.tanh(0.5 * z))  # the sigmoid, without overflow for large |z|

    def predict(self, X: ArrayLike) -> np.ndarray:
        return (self.predict_proba(X) >= 0.5).astype(int)

    def loss_and_grad(self, X: ArrayLike, y: ArrayLike) -> tuple[float, list[np.ndarray]]:
        X = _as_features(X, self.n_features)
        y = _as_targets(y, X.shape[0])
        z = X @ self.params[0] + self.params[1][0]
        # log(1 + e^z) - y z, written so that it never overflows
        loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
        residual = 0.5 * (1 + np.tanh(0.5 * z)) - y
        return loss, [X.T @ residual / len(y), np.array([np.mean(residual)])]


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """``log(softmax(z))`` row by row, without overflow: subtract each row's maximum first."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _as_class_labels(y: ArrayLike, n_samples: int, n_classes: int) -> np.ndarray:
    """Integer labels 0..n_classes-1 (whole-number floats such as 3.0 are accepted)."""
    given = np.asarray(y)
    if given.dtype.kind not in "iuf" or given.ndim != 1:
        raise ValueError(
            f"y must be a 1-D array of class labels 0..{n_classes - 1}, got dtype {given.dtype} "
            f"and shape {given.shape}."
        )
    if given.shape[0] != n_samples:
        raise ValueError(
            f"y has {given.shape[0]} values but X has {n_samples} rows; they must match."
        )
    # Checked before the cast: NaN or 2.5 must be refused, not silently truncated.
    bad = ~np.isfinite(given) | (given != np.round(given)) | (given < 0) | (given >= n_classes)
    if np.any(bad):
        raise ValueError(
            f"y must hold whole numbers 0..{n_classes - 1} (one per class), got "
            f"{given[np.argmax(bad)].item()!r}."
        )
    return given.astype(np.int64)


class MLP(Model):
    r"""A multi-layer perceptron trained by backpropagation.

    ``layer_sizes = [n_in, h_1, ..., n_out]``; hidden layers use ``tanh``; the output layer is
    linear and its values ``z`` (the logits) go into the loss chosen by ``task``:

    * ``"regression"``: the mean squared error ``mean((z - y)^2)``;
    * ``"classification"`` (``n_out = 1``, labels 0/1): the sigmoid and the mean binary
      cross-entropy ``mean(log(1 + e^z) - y z)``;
    * ``"multiclass"`` (``n_out = K >= 2``, integer labels 0..K-1): the softmax and the mean
      cross-entropy ``L = -mean_i log softmax(z_i)[y_i]`` with
      ``log softmax(z)_k = z_k - log sum_j e^{z_j}``, computed after subtracting each row's
      maximum so that no exponential overflows. Its gradient is
      ``dL/dz = (softmax(z) - onehot(y)) / n``. This is ``torch.nn.CrossEntropyLoss`` on logits
      (mean reduction) and Keras's ``SparseCategoricalCrossentropy(from_logits=True)``.

    Weights start with Glorot-uniform values (Glorot & Bengio, 2010) from
    ``np.random.default_rng(seed)``; biases at 0. ``params = [W_1, b_1, W_2, b_2, ...]`` with
    ``W_l`` of shape ``(n_in, n_out)``: the transpose of ``torch.nn.Linear.weight``.
    """

    TASKS = ("regression", "classification", "multiclass")

    def __init__(
        self,
        layer_sizes: list[int],
        task: Literal["regression", "classification", "multiclass"] = "regression",
        seed: int = 0,
    ) -> None:
        if len(layer_sizes) < 2:
            raise ValueError(f"layer_sizes needs at least [n_in, n_out], got {layer_sizes!r}.")
        self.layer_sizes = [check_positive_int("layer_sizes[i]", n) for n in layer_sizes]
        if task not in self.TASKS:
            raise ValueError(
                f"task must be 'regression', 'classification' or 'multiclass', got {task!r}."
            )
        if task == "classification" and self.layer_sizes[-1] != 1:
            raise ValueError("task='classification' needs one output unit (binary labels).")
        if task == "multiclass" and self.layer_sizes[-1] < 2:
            raise ValueError(
                f"task='multiclass' needs one output unit per class (at least 2), got "
                f"{self.layer_sizes[-1]}. For two classes with one unit use task='classification'."
            )
        self.task = task
        rng = np.random.default_rng(seed)
        self.params = []
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True):
            limit = np.sqrt(6.0 / (n_in + n_out))
            self.params += [rng.uniform(-limit, limit, size=(n_in, n_out)), np.zeros(n_out)]

    @property
    def n_classes(self) -> int | None:
        """Number of classes (2 for ``"classification"``); None for regression."""
        if self.task == "regression":
            return None
        return 2 if self.task == "classification" else self.layer_sizes[-1]

    def _forward(self, X: np.ndarray) -> list[np.ndarray]:
        activations = [X]
        n_layers = len(self.params) // 2
        for layer in range(n_layers):
            W, b = self.params[2 * layer], self.params[2 * layer + 1]
            z = activations[-1] @ W + b
            activations.append(z if layer == n_layers - 1 else np.tanh(z))
        return activations

    def logits(self, X: ArrayLike) -> np.ndarray:
        """The output layer's values before any sigmoid or softmax, shape ``(n, n_out)``."""
        return self._forward(_as_features(X, self.layer_sizes[0]))[-1]

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities: ``P(y = 1)``, shape ``(n,)``, for ``"classification"``; the
        softmax, shape ``(n, K)`` with rows summing to 1, for ``"multiclass"``."""
        if self.task == "regression":
            raise ValueError("predict_proba needs task='classification' or 'multiclass'.")
        z = self.logits(X)
        if self.task == "classification":
            return 0.5 * (1 + np.tanh(0.5 * z[:, 0]))  # the sigmoid, without overflow
        return np.exp(_log_softmax(z))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Regression: the outputs. Classification: the label (0/1). Multiclass: the label with
        the largest logit (0..K-1)."""
        out = self.logits(X)
        if self.task == "classification":
            return (out[:, 0] >= 0).astype(int)
        if self.task == "multiclass":
            return np.argmax(out, axis=1)
        return out[:, 0] if out.shape[1] == 1 else out

    def accuracy(self, X: ArrayLike, y: ArrayLike) -> float:
        """The fraction of samples whose predicted label equals ``y`` (classification tasks)."""
        if self.task == "regression":
            raise ValueError("accuracy needs task='classification' or 'multiclass'.")
        predicted = self.predict(X)
        labels = _as_class_labels(y, len(predicted), self.n_classes or 2)
        return float(np.mean(predicted == labels))

    def _loss_and_delta(self, out: np.ndarray, y: ArrayLike) -> tuple[float, np.ndarray]:
        """The loss and its gradient with respect to the logits ``out``."""
        n = out.shape[0]
        if self.task == "multiclass":
            labels = _as_class_labels(y, n, out.shape[1])
            log_p = _log_softmax(out)
            rows = np.arange(n)
            delta = np.exp(log_p)
            delta[rows, labels] -= 1.0
            return float(-np.mean(log_p[rows, labels])), delta / n
        if self.task == "classification":
            y = _as_targets(y, n)[:, None]
            loss = float(np.mean(np.logaddexp(0.0, out) - y * out))
            return loss, (0.5 * (1 + np.tanh(0.5 * out)) - y) / n
        y = np.asarray(y, dtype=np.float64)
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} rows but X has {n} rows; they must match.")
        y = y.reshape(n, -1)
        if y.shape[1] != out.shape[1]:
            raise ValueError(f"y must have {out.shape[1]} column(s), got {y.shape[1]}.")
        error = out - y
        return float(np.mean(error**2)), 2 * error / error.size

    def loss(self, X: ArrayLike, y: ArrayLike) -> float:
        # Forward pass only: fit() evaluates the whole data set every epoch, and backpropagating
        # there would triple its cost for a gradient nobody uses.
        return self._loss_and_delta(self.logits(X), y)[0]

    def loss_and_grad(self, X: ArrayLike, y: ArrayLike) -> tuple[float, list[np.ndarray]]:
        X = _as_features(X, self.layer_sizes[0])
        activations = self._forward(X)
        loss, delta = self._loss_and_delta(activations[-1], y)
        grads: list[np.ndarray] = []
        for layer in range(len(self.params) // 2 - 1, -1, -1):
            W = self.params[2 * layer]
            grads = [activations[layer].T @ delta, delta.sum(axis=0), *grads]
            if layer > 0:
                delta = (delta @ W.T) * (1 - activations[layer] ** 2)  # tanh' = 1 - tanh^2
        return loss, grads


__all__ = ["Model", "LinearRegression", "LogisticRegression", "MLP", "least_squares"]
