"""course_lib's MLP and a torch.nn model compute the same thing, and train the same way.

The reference is PyTorch itself: ``torch.nn.Linear``/``Tanh``/``CrossEntropyLoss`` with
autograd for the loss and the gradients, and torch's own optimizers (``torch.optim.SGD``,
``Adagrad``, ``RMSprop``, ``Adadelta``, ``Adam``) for the training trajectories. Both models
start from the same weights (torch's ``Linear.weight`` is the transpose of course_lib's ``W``)
and see the same mini-batches, in float64. Where a case is built with ``like("torch", ...)``,
the torch optimizer gets only the same overrides and keeps its own defaults, so the preset's
defaults are checked too.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import course_lib as cl
from course_lib.data import load_digits_split
from course_lib.optim import SGD, Adadelta, AdaGrad, Adam, Optimizer, RMSprop

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed: the MLP parity tests compare against torch itself"
)

LAYERS = [64, 16, 10]
STEPS = 50
BATCH = 32
TRAJECTORY_RTOL = 1e-10


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These matrices are tiny: on a busy 2-core machine, waking a second thread for each
    product costs far more than it saves (measured: 50 steps took seconds instead of ~0.1 s)."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    split = load_digits_split(random_state=0)
    return split.X_train[:400], split.y_train[:400]


def torch_twin(model: cl.MLP) -> torch.nn.Sequential:
    """A torch.nn network with the architecture and the current weights of ``model``."""
    layers: list[torch.nn.Module] = []
    n_layers = len(model.params) // 2
    for k in range(n_layers):
        W, b = model.params[2 * k], model.params[2 * k + 1]
        linear = torch.nn.Linear(W.shape[0], W.shape[1], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T.copy()))
            linear.bias.copy_(torch.from_numpy(b.copy()))
        layers.append(linear)
        if k < n_layers - 1:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def torch_params_as_numpy(net: torch.nn.Sequential) -> list[np.ndarray]:
    """The torch network's parameters in course_lib's layout ([W_1, b_1, ...], W as (in, out))."""
    out = []
    for module in net:
        if isinstance(module, torch.nn.Linear):
            out += [module.weight.detach().numpy().T.copy(), module.bias.detach().numpy().copy()]
    return out


def torch_grads_as_numpy(net: torch.nn.Sequential) -> list[np.ndarray]:
    out = []
    for module in net:
        if isinstance(module, torch.nn.Linear):
            out += [module.weight.grad.numpy().T.copy(), module.bias.grad.numpy().copy()]
    return out


def rel_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """Largest absolute difference over all entries, relative to the largest entry of ``b``."""
    flat_a = np.concatenate([x.ravel() for x in a])
    flat_b = np.concatenate([x.ravel() for x in b])
    return float(np.max(np.abs(flat_a - flat_b)) / np.max(np.abs(flat_b)))


# --- loss and gradients -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_loss_and_gradients(digits, seed: int) -> None:
    X, y = digits
    model = cl.MLP(LAYERS, task="multiclass", seed=seed)
    # move away from the initial point so that the biases are not all zero
    theta = model.get_flat()
    model.set_flat(theta + np.random.default_rng(seed).normal(0, 0.1, theta.size))
    net = torch_twin(model)
    loss, grads = model.loss_and_grad(X, y)

    torch_loss = torch.nn.CrossEntropyLoss()(net(torch.from_numpy(X)), torch.from_numpy(y))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    for g, g_torch in zip(grads, torch_grads_as_numpy(net), strict=True):
        scale = np.max(np.abs(g_torch))
        np.testing.assert_allclose(g, g_torch, rtol=1e-12, atol=1e-12 * scale)


def test_same_predictions(digits) -> None:
    X, _ = digits
    model = cl.MLP(LAYERS, task="multiclass", seed=3)
    net = torch_twin(model)
    with torch.no_grad():
        logits = net(torch.from_numpy(X))
        proba = torch.softmax(logits, dim=1).numpy()
    np.testing.assert_allclose(model.logits(X), logits.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.predict_proba(X), proba, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(model.predict(X), logits.argmax(dim=1).numpy())


# --- training trajectories --------------------------------------------------------------------

TorchFactory = Callable[[list], "torch.optim.Optimizer"]

CASES: dict[str, tuple[Callable[[], Optimizer], TorchFactory]] = {
    "SGD": (lambda: SGD(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "SGD momentum": (
        lambda: SGD(lr=0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    "SGD momentum dampening": (
        lambda: SGD(lr=0.05, momentum=0.9, dampening=0.5),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.5),
    ),
    "SGD Nesterov": (
        lambda: SGD(lr=0.05, momentum=0.9, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    ),
    "SGD weight decay": (
        lambda: SGD(lr=0.1, momentum=0.5, weight_decay=1e-2),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=1e-2),
    ),
    "SGD like torch": (lambda: SGD.like("torch"), lambda p: torch.optim.SGD(p)),
    "Adagrad like torch": (
        lambda: AdaGrad.like("torch", lr=0.05),
        lambda p: torch.optim.Adagrad(p, lr=0.05),
    ),
    "Adagrad lr_decay, initial value, weight decay": (
        lambda: AdaGrad(lr=0.05, eps=1e-10, lr_decay=0.01, initial_accumulator_value=0.1,
                        weight_decay=1e-3),
        lambda p: torch.optim.Adagrad(p, lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1,
                                      weight_decay=1e-3, eps=1e-10),
    ),
    "RMSprop like torch": (
        lambda: RMSprop.like("torch"),
        lambda p: torch.optim.RMSprop(p),
    ),
    "RMSprop beta 0.9": (
        lambda: RMSprop(lr=3e-3, beta=0.9, eps=1e-8),
        lambda p: torch.optim.RMSprop(p, lr=3e-3, alpha=0.9, eps=1e-8),
    ),
    "RMSprop centered": (
        lambda: RMSprop.like("torch", lr=3e-3, centered=True),
        lambda p: torch.optim.RMSprop(p, lr=3e-3, centered=True),
    ),
    "RMSprop momentum": (
        lambda: RMSprop.like("torch", lr=1e-3, momentum=0.9),
        lambda p: torch.optim.RMSprop(p, lr=1e-3, momentum=0.9),
    ),
    "RMSprop centered momentum weight decay": (
        lambda: RMSprop(lr=1e-3, beta=0.95, eps=1e-6, momentum=0.8, centered=True,
                        weight_decay=1e-3),
        lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.95, eps=1e-6, momentum=0.8,
                                      centered=True, weight_decay=1e-3),
    ),
    "Adadelta like torch": (lambda: Adadelta.like("torch"), lambda p: torch.optim.Adadelta(p)),
    "Adadelta weight decay": (
        lambda: Adadelta(lr=0.5, beta=0.95, eps=1e-5, weight_decay=1e-3),
        lambda p: torch.optim.Adadelta(p, lr=0.5, rho=0.95, eps=1e-5, weight_decay=1e-3),
    ),
    "Adam like torch": (
        lambda: Adam.like("torch", lr=3e-3),
        lambda p: torch.optim.Adam(p, lr=3e-3),
    ),
    "Adam amsgrad": (
        lambda: Adam.like("torch", lr=3e-3, amsgrad=True),
        lambda p: torch.optim.Adam(p, lr=3e-3, amsgrad=True),
    ),
    "Adam betas, eps, weight decay": (
        lambda: Adam(lr=3e-3, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=1e-3),
        lambda p: torch.optim.Adam(p, lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-3),
    ),
}


def train_both(
    X: np.ndarray, y: np.ndarray, make_ours: Callable[[], Optimizer], make_torch: TorchFactory,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """``STEPS`` steps of each on the same mini-batches. Returns the relative differences per
    step of the parameters and of the batch losses, and how far our parameters moved (the
    largest change relative to the largest initial weight)."""
    model = cl.MLP(LAYERS, task="multiclass", seed=seed)
    start = model.get_flat()
    net = torch_twin(model)
    ours, theirs = make_ours(), make_torch(list(net.parameters()))
    rng = np.random.default_rng(seed)
    param_diffs: list[float] = []
    loss_diffs: list[float] = []
    while len(param_diffs) < STEPS:
        for X_batch, y_batch in cl.minibatches(X, y, BATCH, rng):
            loss, grads = model.loss_and_grad(X_batch, y_batch)
            ours.step(model.params, grads)

            theirs.zero_grad()
            torch_loss = torch.nn.CrossEntropyLoss()(
                net(torch.from_numpy(X_batch)), torch.from_numpy(y_batch)
            )
            torch_loss.backward()
            theirs.step()

            loss_diffs.append(abs(loss - torch_loss.item()) / abs(torch_loss.item()))
            param_diffs.append(rel_diff(model.params, torch_params_as_numpy(net)))
            if len(param_diffs) == STEPS:
                break
    moved = float(np.max(np.abs(model.get_flat() - start)) / np.max(np.abs(start)))
    return np.array(param_diffs), np.array(loss_diffs), moved


@pytest.mark.parametrize("case", list(CASES))
def test_same_trajectory_as_torch_optimizer(digits, case: str) -> None:
    X, y = digits
    param_diffs, loss_diffs, moved = train_both(X, y, *CASES[case])
    assert param_diffs.shape == (STEPS,)
    assert param_diffs.max() < TRAJECTORY_RTOL, f"{case}: {param_diffs.max():.2e}"
    assert loss_diffs.max() < TRAJECTORY_RTOL, f"{case}: {loss_diffs.max():.2e}"
    # the weights really moved: a run that stays put would agree trivially
    assert moved > 1e-3, f"{case}: moved only {moved:.1e}"


def test_a_wrong_optimizer_is_caught(digits) -> None:
    """The comparison can fail: torch's default RMSprop (alpha 0.99) against beta 0.9."""
    X, y = digits
    param_diffs, _, _ = train_both(
        X, y, lambda: RMSprop(lr=1e-2, beta=0.9), lambda p: torch.optim.RMSprop(p, lr=1e-2)
    )
    assert param_diffs.max() > 1e-3


def test_same_batches_different_seed_also_agree(digits) -> None:
    X, y = digits
    make_ours, make_torch = CASES["RMSprop centered momentum weight decay"]
    param_diffs, _, _ = train_both(X, y, make_ours, make_torch, seed=7)
    assert param_diffs.max() < TRAJECTORY_RTOL
