"""The one-place claim: a dataset and an optimizer registered at run time train through the public API."""

import numpy as np
import pytest

from engine import TrainConfig, Trainer
from engine.codes import OPT_ADAM
from engine.datasets import DATASETS, DataSpec, make_dataset, register_dataset
from engine.optimizers import OPTIMIZERS, Optimizer, register_optimizer
from tests.reference import TwinTrainer


def _stripes(points: int, noise: float, rng: np.random.Generator):
    """Two vertical stripes: class 1 where x1 > 0 (balanced: the first half is class 0)."""
    half = points // 2
    x1 = np.concatenate([rng.uniform(-3, -0.2, half), rng.uniform(0.2, 3, points - half)])
    x2 = rng.uniform(-3, 3, points)
    inputs = np.column_stack([x1, x2]) + rng.normal(0.0, noise, size=(points, 2))
    return inputs, np.concatenate([np.zeros(half), np.ones(points - half)])


def _rmsprop_coefficients(config):
    return (config.momentum, 0.0, config.beta2, config.eps)  # adam's step with β1 = 0


@pytest.fixture
def toys():
    register_dataset("stripes", "two vertical stripes (a test's toy)", _stripes)
    formula = "v = β2·v + (1-β2)·g²;  p -= lr·g / (sqrt(v / (1-β2^t)) + ε)"
    register_optimizer(Optimizer("rmsprop", OPT_ADAM, _rmsprop_coefficients, ("beta2", "eps"), formula, "RMSprop (toy)"))
    yield
    DATASETS.pop("stripes", None)
    OPTIMIZERS.pop("rmsprop", None)


def rmsprop_step(cfg):
    """The twin's RMSprop: v = β2 v + (1-β2) g², p -= lr g / (sqrt(v / (1-β2^t)) + ε)."""

    def step(m, v, g, t):
        v[...] = cfg.beta2 * v + (1 - cfg.beta2) * g**2
        return cfg.learning_rate * g / (np.sqrt(v / (1 - cfg.beta2**t)) + cfg.eps)

    return step


@pytest.mark.parametrize("mode", ["sgd", "minibatch"])
def test_a_toy_dataset_and_optimizer_train_through_the_public_api(toys, mode):
    data = make_dataset(DataSpec(name="stripes", points=60, noise=0.1, train_fraction=0.5, data_seed=3))
    assert data.n_train == 30 and data.n_test == 30
    cfg = TrainConfig(hidden=(4,), activation="tanh", optimizer="rmsprop", mode=mode, batch_size=5, shuffle=True,
                      init="xavier", seed=1, learning_rate=0.01, l2=0.001, features=("x1", "x2", "x1x2"))  # fmt: skip
    trainer = Trainer(cfg, data=data)
    chunk = trainer.run(40)
    twin = TwinTrainer(cfg, trainer.initial_params, data.train_inputs, data.train_targets, data.test_inputs,
                       data.test_targets, step=rmsprop_step(cfg))  # fmt: skip
    loss, _, metrics = twin.run_with_metrics(40)
    np.testing.assert_allclose(chunk.loss, loss, rtol=1e-9)
    np.testing.assert_allclose(chunk.metrics[:, 0], metrics[:, 0], rtol=1e-9)
    for (W, b), (tW, tb) in zip(trainer.params, twin.params):
        np.testing.assert_allclose(W, tW, rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(b, tb, rtol=1e-9, atol=1e-13)
    assert trainer.evaluate()["test_accuracy"] > 0.9  # the stripes are easy


def test_an_optimizer_needs_a_kernel_step():
    with pytest.raises(ValueError, match="no kernel step"):
        register_optimizer(Optimizer("nope", 99, _rmsprop_coefficients, (), "", ""))
    assert "nope" not in OPTIMIZERS
