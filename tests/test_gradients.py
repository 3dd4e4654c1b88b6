"""The kernels' updates are gradients: checked with central finite differences.

With plain SGD and learning rate 1, one batch-mode epoch moves theta by exactly minus the mean gradient,
so ``theta_before - theta_after`` is the kernel's gradient.
"""

import numpy as np
import pytest

from engine import TrainConfig, Trainer
from engine.network import Layout
from tests.reference import penalty

RNG = np.random.default_rng(12)
DATA = {
    "xor": (np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0.0, 1.0, 1.0, 0.0])),
    "one sample": (np.array([[0.3, -0.7]]), np.array([1.0])),
    "random": (RNG.uniform(-1, 1, size=(9, 2)), RNG.uniform(0, 1, size=9)),
}


def objective(cfg: TrainConfig, layout: Layout, theta: np.ndarray, inputs, targets) -> float:
    """Mean over samples of ½(y - ŷ)² (mse) or cross-entropy (bce), plus (λ2/2)·Σw² + λ1·Σ|w|: what the update
    descends."""
    trainer = Trainer(cfg, inputs=inputs, targets=targets, initial_params=layout.views(theta))
    y_hat = trainer.predict(inputs)
    if cfg.loss == "mse":
        data = float(np.mean(0.5 * (targets - y_hat) ** 2))
    else:
        data = float(np.mean(-(targets * np.log(y_hat) + (1 - targets) * np.log(1 - y_hat))))
    return data + penalty(layout.views(theta), cfg)


@pytest.mark.parametrize("data", sorted(DATA))
@pytest.mark.parametrize("hidden", [(), (2,), (5,), (3, 4)])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("l2, l1", [(0.0, 0.0), (0.1, 0.0), (0.05, 0.02)])
@pytest.mark.parametrize("features", [("x1", "x2"), ("x1", "x2sq", "x1x2", "sinx1")])
def test_update_is_minus_the_gradient(data, hidden, activation, loss, l2, l1, features):
    inputs, targets = DATA[data]
    mode = "sgd" if len(targets) == 1 else "batch"  # one sample: the direct per-sample path
    cfg = TrainConfig(hidden=hidden, activation=activation, loss=loss, learning_rate=1.0, mode=mode, l2=l2, l1=l1,
                      features=features)  # fmt: skip
    layout = Layout.from_sizes(cfg.layer_sizes)
    start = np.random.default_rng(5).normal(0.0, 0.8, size=layout.n_params)  # biases too: no relu kink at z = 0
    start[np.abs(start) < 0.01] = 0.5  # L1's kink at w = 0: stay away from it
    trainer = Trainer(cfg, inputs=inputs, targets=targets, initial_params=layout.views(start))
    if activation == "relu":
        hidden_acts = trainer.activations(inputs)[:, :-1]
        assert np.abs(hidden_acts[hidden_acts > 0]).min(initial=1.0) > 1e-4
    theta0 = trainer.theta
    trainer.run(1)
    grad = theta0 - trainer.theta
    h = 1e-6
    fd = np.empty_like(grad)
    for p in range(theta0.size):
        plus, minus = theta0.copy(), theta0.copy()
        plus[p] += h
        minus[p] -= h
        fd[p] = (objective(cfg, layout, plus, inputs, targets) - objective(cfg, layout, minus, inputs, targets)) / (2 * h)
    scale = max(np.abs(grad).max(), 1e-3)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6 * scale)
