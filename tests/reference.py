"""Slow, obviously-correct NumPy twins of the engine's kernels, written as the notebook writes them.

Parameters are ``[(W, b), ...]`` with W (out, in) and b (out, 1); a sample is a column vector.
"""

from __future__ import annotations

import itertools

import numpy as np

from engine import TrainConfig
from engine.features import FEATURES


def notebook_params(seed: int, sizes: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The notebook's initialisation: np.random.seed(seed), then rand(out, in), rand(out, 1) per layer."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        return [(np.random.rand(n_out, n_in), np.random.rand(n_out, 1)) for n_in, n_out in itertools.pairwise(sizes)]
    finally:
        np.random.set_state(state)


def features(points: np.ndarray, names) -> np.ndarray:
    """points (m, 2) -> (m, len(names)): each named feature's formula applied to the columns x1, x2."""
    points = np.asarray(points, float)
    return np.column_stack([FEATURES[name].compute(points[:, 0], points[:, 1]) for name in names])


def penalty_grad(W: np.ndarray, cfg: TrainConfig) -> np.ndarray:
    """λ2·W + λ1·sign(W): the regularisers' gradient (weights only)."""
    return cfg.l2 * W + cfg.l1 * np.sign(W)


def penalty(params, cfg: TrainConfig) -> float:
    """(λ2/2)·Σw² + λ1·Σ|w| over the weights."""
    return sum(0.5 * cfg.l2 * np.sum(W**2) + cfg.l1 * np.sum(np.abs(W)) for W, _ in params)


def act(z: np.ndarray, kind: str) -> np.ndarray:
    with np.errstate(over="ignore"):
        if kind == "sigmoid":
            return 1 / (1 + np.exp(-z))
        if kind == "tanh":
            return np.tanh(z)
        return np.maximum(z, 0.0)


def act_grad(a: np.ndarray, kind: str) -> np.ndarray:
    if kind == "sigmoid":
        return a * (1 - a)
    if kind == "tanh":
        return 1 - a**2
    return (a > 0).astype(float)


def forward(params, x: np.ndarray, kind: str):
    """x: (d, 1). Returns the activations [x, a1, ..., ŷ] (each (units, 1)) and the output logit."""
    acts = [x]
    z = None
    for layer, (W, b) in enumerate(params):
        z = W @ acts[-1] + b
        acts.append(act(z, "sigmoid" if layer == len(params) - 1 else kind))
    return acts, z


def sample_loss(y_hat: float, z: float, y: float, loss: str) -> float:
    """(y - ŷ)², or cross-entropy -y log σ(z) - (1 - y) log(1 - σ(z)) = y log(1 + e^-z) + (1 - y) log(1 + e^z)."""
    if loss == "mse":
        return (y - y_hat) ** 2
    return y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)


def sample_gradients(params, x, y, cfg: TrainConfig):
    """Backprop for one sample: ([(dW, db), ...], ŷ, loss). dW of ½(y-ŷ)² (mse) or of the cross-entropy."""
    acts, z = forward(params, x, cfg.activation)
    y_hat = acts[-1]
    delta = (y_hat - y) * act_grad(y_hat, "sigmoid") if cfg.loss == "mse" else y_hat - y
    grads = [None] * len(params)
    for layer in range(len(params) - 1, -1, -1):
        grads[layer] = (delta @ acts[layer].T, delta.copy())
        if layer:
            delta = (params[layer][0].T @ delta) * act_grad(acts[layer], cfg.activation)
    return grads, float(y_hat[0, 0]), sample_loss(float(y_hat[0, 0]), float(z[0, 0]), y, cfg.loss)


class TwinTrainer:
    """Epoch by epoch, sample by sample, with optimizer state as plain arrays. inputs are raw points (n, 2): the
    twin applies the config's features. test_inputs, test_targets: the test points for the metrics."""

    def __init__(self, cfg: TrainConfig, params, inputs, targets, test_inputs=None, test_targets=None, step=None):
        self.cfg = cfg
        self.params = [(W.copy(), b.copy()) for W, b in params]
        self.inputs = features(inputs, cfg.features)
        self.targets = np.asarray(targets, float)
        self.test_inputs = features(np.empty((0, 2)) if test_inputs is None else test_inputs, cfg.features)
        self.test_targets = np.empty(0) if test_targets is None else np.asarray(test_targets, float)
        self.step_rule = step  # an optimizer's rule (m, v, g, t) -> p's decrement; None: by cfg.optimizer
        self.m = [(np.zeros_like(W), np.zeros_like(b)) for W, b in self.params]
        self.v = [(np.zeros_like(W), np.zeros_like(b)) for W, b in self.params]
        self.t = 0
        self.rng = np.random.default_rng(cfg.seed)

    def _step(self, grads, count):
        cfg = self.cfg
        self.t += 1
        for layer in range(len(self.params)):
            for k in (0, 1):  # W, then b
                p, m, v = self.params[layer][k], self.m[layer][k], self.v[layer][k]
                g = grads[layer][k] / count
                if k == 0 and (cfg.l2 or cfg.l1):
                    g = g + penalty_grad(p, cfg)
                if self.step_rule is not None:
                    p -= self.step_rule(m, v, g, self.t)
                elif cfg.optimizer == "sgd":
                    p -= cfg.learning_rate * g
                elif cfg.optimizer == "momentum":
                    m[...] = cfg.momentum * m + g
                    p -= cfg.learning_rate * m
                else:
                    m[...] = cfg.beta1 * m + (1 - cfg.beta1) * g
                    v[...] = cfg.beta2 * v + (1 - cfg.beta2) * g**2
                    m_hat = m / (1 - cfg.beta1**self.t)
                    v_hat = v / (1 - cfg.beta2**self.t)
                    p -= cfg.learning_rate * m_hat / (np.sqrt(v_hat) + cfg.eps)

    def epoch(self) -> tuple[float, np.ndarray]:
        cfg = self.cfg
        n = len(self.targets)
        order = np.arange(n)
        if cfg.shuffle and cfg.mode != "batch":
            order = self.rng.permutation(n)
        batch = cfg.batch_size_for(n)
        losses = []
        preds = np.empty(n)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            total = None
            for i in idx:
                grads, y_hat, loss = sample_gradients(self.params, self.inputs[i].reshape(-1, 1), self.targets[i], cfg)
                preds[i] = y_hat
                losses.append(loss)
                total = grads if total is None else [(a + c, b + d) for (a, b), (c, d) in zip(total, grads)]
            self._step(total, len(idx))
        return sum(losses) / n, preds

    def run(self, n_epochs: int) -> tuple[np.ndarray, np.ndarray]:
        """(loss (n,), predictions (n, n_samples))."""
        out = [self.epoch() for _ in range(n_epochs)]
        return np.array([o[0] for o in out]), np.array([o[1] for o in out]).reshape(n_epochs, len(self.targets))

    def run_with_metrics(self, n_epochs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(loss (n,), predictions (n, n_samples), metrics (n, 3)): test loss, train accuracy, test accuracy at
        each epoch's final weights (NaN without test points); for data that records predictions (no test points,
        at most 8 training points) the train accuracy comes from the epoch's predictions, as in the engine."""
        losses, preds, metrics = [], [], []
        for _ in range(n_epochs):
            loss, pred = self.epoch()
            losses.append(loss)
            preds.append(pred)
            test_loss, test_acc = self.loss_and_accuracy(self.test_inputs, self.test_targets)
            if len(self.test_targets) == 0 and len(self.targets) <= 8:  # records predictions: accuracy from them
                train_acc = float(np.mean((pred >= 0.5) == (self.targets >= 0.5)))
            else:
                train_acc = self.loss_and_accuracy(self.inputs, self.targets)[1]
            metrics.append((test_loss, train_acc, test_acc))
        return np.array(losses), np.array(preds).reshape(n_epochs, len(self.targets)), np.array(metrics).reshape(-1, 3)

    def loss_and_accuracy(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
        """Mean reported loss and fraction with (ŷ ≥ 0.5) == (y ≥ 0.5) over feature rows X; NaNs for none."""
        if len(Y) == 0:
            return np.nan, np.nan
        acts, z = forward(self.params, X.T, self.cfg.activation)
        y_hat, z = acts[-1][0], z[0]
        losses = [sample_loss(a, b, c, self.cfg.loss) for a, b, c in zip(y_hat, z, Y)]
        return float(np.mean(losses)), float(np.mean((y_hat >= 0.5) == (Y >= 0.5)))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """ŷ for raw points X (m, 2)."""
        acts, _ = forward(self.params, features(X, self.cfg.features).T, self.cfg.activation)
        return acts[-1][0]


def plane_loss(cfg: TrainConfig, theta, d1, d2, a: float, b: float, inputs, targets) -> float:
    """The loss landscape at one point, the twin of `engine.landscape`'s grid: the mean reported loss over the training
    points (raw inputs (n, 2), through the config's features) at theta + a·d1 + b·d2, without any penalty. theta, d1,
    d2: flat, in the engine's layout: per layer W (out, in) row by row, then b (out,)."""
    flat = np.asarray(theta, float) + a * np.asarray(d1, float) + b * np.asarray(d2, float)
    sizes = (len(cfg.features), *cfg.hidden, 1)
    params, at = [], 0
    for n_in, n_out in itertools.pairwise(sizes):
        W = flat[at : at + n_out * n_in].reshape(n_out, n_in)
        at += n_out * n_in
        params.append((W, flat[at : at + n_out].reshape(n_out, 1)))
        at += n_out
    acts, z = forward(params, features(inputs, cfg.features).T, cfg.activation)
    losses = [sample_loss(y_hat, logit, y, cfg.loss) for y_hat, logit, y in zip(acts[-1][0], z[0], targets)]
    return float(np.mean(losses))
