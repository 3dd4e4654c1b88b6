"""Every training kernel against the slow NumPy twin in tests/reference.py."""

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine import XOR_INPUTS, XOR_TARGETS, TrainConfig, Trainer
from tests.reference import TwinTrainer
from tests.strategies import configs

TWIN_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# Adam divides by sqrt(v) + eps: for a weight whose gradient has stayed near zero (sqrt(v) ~ eps = 1e-8) a
# rounding difference in the gradient (the twin sums in NumPy's order) is amplified by up to lr / eps per
# update. Over 3000 random Adam runs the worst relative difference was 3e-10 and the rarest seen 3e-9, so
# Adam runs get 1e-7; the update rule itself is checked at 1e-9 in test_optimizers_on_other_data.
RTOL = {"sgd": 1e-9, "momentum": 1e-9, "adam": 1e-7}
# The kernels call libm's exp; NumPy picks its exp (and OpenBLAS its dot) by CPU at run time, and on
# AVX-512 machines they differ from libm's in the last bit for ~5 % of arguments. A kernel is therefore never
# compared bit for bit with a NumPy computation, only with other engine paths.
CPU_RTOL = 1e-12


def assert_matches_twin(cfg: TrainConfig, n_epochs: int, inputs=XOR_INPUTS, targets=XOR_TARGETS, rtol=None):
    rtol = RTOL[cfg.optimizer] if rtol is None else rtol
    trainer = Trainer(cfg, inputs=inputs, targets=targets)
    twin = TwinTrainer(cfg, trainer.initial_params, inputs, targets)
    chunk = trainer.run(n_epochs)
    loss, preds = twin.run(n_epochs)
    assert not chunk.diverged
    np.testing.assert_allclose(chunk.loss, loss, rtol=rtol, atol=1e-15)
    np.testing.assert_allclose(chunk.predictions, preds, rtol=rtol, atol=1e-15)
    for (W, b), (tW, tb) in zip(trainer.params, twin.params):
        np.testing.assert_allclose(W, tW, rtol=rtol, atol=1e-13)
        np.testing.assert_allclose(b, tb, rtol=rtol, atol=1e-13)
    grid = np.random.default_rng(0).uniform(-0.25, 1.25, size=(50, 2))
    np.testing.assert_allclose(trainer.predict(grid), twin.predict(grid), rtol=rtol, atol=1e-15)
    assert trainer.updates == twin.t


ADAM_NEAR_EPS = TrainConfig(
    hidden=(2, 5, 3), activation="tanh", learning_rate=1.0, shuffle=True, init="xavier", seed=274546, optimizer="adam"
)


@TWIN_SETTINGS
@given(cfg=configs(), n_epochs=st.integers(1, 12))
@example(cfg=ADAM_NEAR_EPS, n_epochs=3)  # a gradient near zero: 3e-9 apart after 12 updates, found in CI
def test_random_configs_match_twin(cfg, n_epochs):
    assert_matches_twin(cfg, n_epochs)


@pytest.mark.parametrize("hidden", [(), (1,), (2,), (7,), (3, 2), (2, 3, 4)])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("mode", ["sgd", "minibatch", "batch"])
def test_every_shape_activation_loss_mode(hidden, activation, loss, mode):
    cfg = TrainConfig(hidden=hidden, activation=activation, loss=loss, mode=mode, batch_size=3, init="xavier", seed=3)
    assert_matches_twin(cfg, 30)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("hidden", [(2,), (3, 2)])
def test_optimizers_on_other_data(optimizer, hidden):
    """Odd-sized data, shuffled minibatches whose last batch is smaller."""
    rng = np.random.default_rng(1)
    inputs = rng.uniform(-1, 1, size=(11, 2))
    targets = (inputs[:, 0] * inputs[:, 1] > 0).astype(float)
    cfg = TrainConfig(
        hidden=hidden, mode="minibatch", batch_size=4, shuffle=True, optimizer=optimizer, learning_rate=0.05, seed=9
    )
    assert_matches_twin(cfg, 25, inputs, targets, rtol=1e-9)


def test_shuffle_order_is_default_rng_permutations():
    """Epoch e visits the samples in the e-th ``default_rng(seed).permutation(n)``; predictions stay in dataset order."""
    cfg = TrainConfig(shuffle=True, seed=7)
    trainer = Trainer(cfg)
    twin = TwinTrainer(cfg, trainer.initial_params, XOR_INPUTS, XOR_TARGETS)
    chunk = trainer.run(50)
    loss, preds = twin.run(50)
    # a tolerance: the twin's exp and dot are NumPy's, chosen by CPU at run time (see CPU_RTOL)
    np.testing.assert_allclose(chunk.loss, loss, rtol=CPU_RTOL, atol=0)
    np.testing.assert_allclose(chunk.predictions, preds, rtol=CPU_RTOL, atol=0)
    assert not np.array_equal(chunk.loss, Trainer(TrainConfig(seed=7)).run(50).loss)


def test_batch_mode_ignores_shuffle():
    a = Trainer(TrainConfig(mode="batch", shuffle=True)).run(100)
    b = Trainer(TrainConfig(mode="batch")).run(100)
    np.testing.assert_array_equal(a.loss, b.loss)


def test_minibatch_of_one_is_sgd_and_of_four_is_batch():
    sgd = Trainer(TrainConfig()).run(200)
    mb1 = Trainer(TrainConfig(mode="minibatch", batch_size=1)).run(200)
    mb4 = Trainer(TrainConfig(mode="minibatch", batch_size=4)).run(200)
    mb9 = Trainer(TrainConfig(mode="minibatch", batch_size=9)).run(200)
    batch = Trainer(TrainConfig(mode="batch")).run(200)
    np.testing.assert_array_equal(sgd.loss, mb1.loss)
    np.testing.assert_array_equal(batch.loss, mb4.loss)
    np.testing.assert_array_equal(batch.loss, mb9.loss)
