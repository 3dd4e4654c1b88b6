"""Every training kernel against the slow NumPy twin in tests/reference.py."""

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine import XOR_INPUTS, XOR_TARGETS, TrainConfig, Trainer
from engine.datasets import Dataset, DataSpec
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


def assert_matches_twin(cfg: TrainConfig, n_epochs: int, inputs=XOR_INPUTS, targets=XOR_TARGETS, rtol=None, data=None):
    """Trainer.run against the twin: losses, recorded predictions, metrics, weights, predict, update count."""
    rtol = RTOL[cfg.optimizer] if rtol is None else rtol
    if data is None:
        trainer = Trainer(cfg, inputs=inputs, targets=targets)
        twin = TwinTrainer(cfg, trainer.initial_params, inputs, targets)
    else:
        trainer = Trainer(cfg, data=data)
        twin = TwinTrainer(cfg, trainer.initial_params, data.train_inputs, data.train_targets, data.test_inputs,
                           data.test_targets)  # fmt: skip
    chunk = trainer.run(n_epochs)
    loss, preds, metrics = twin.run_with_metrics(n_epochs)
    assert not chunk.diverged
    np.testing.assert_allclose(chunk.loss, loss, rtol=rtol, atol=1e-15)
    if trainer.data.records_predictions:
        np.testing.assert_allclose(chunk.predictions, preds, rtol=rtol, atol=1e-15)
    else:
        assert chunk.predictions.shape == (n_epochs, 0)
    assert chunk.metrics.shape == (n_epochs, 3) and chunk.rows().shape == (n_epochs, 4 + chunk.predictions.shape[1])
    np.testing.assert_allclose(chunk.metrics[:, 0], metrics[:, 0], rtol=rtol, atol=1e-15)
    # accuracies count ŷ >= 0.5: a ŷ within rounding of 0.5 may flip; allow one point per epoch
    n_train, n_test = len(twin.targets), max(len(twin.test_targets), 1)
    np.testing.assert_allclose(chunk.metrics[:, 1], metrics[:, 1], rtol=0, atol=1.01 / n_train)
    np.testing.assert_allclose(chunk.metrics[:, 2], metrics[:, 2], rtol=0, atol=1.01 / n_test)
    for (W, b), (tW, tb) in zip(trainer.params, twin.params):
        np.testing.assert_allclose(W, tW, rtol=rtol, atol=1e-13)
        np.testing.assert_allclose(b, tb, rtol=rtol, atol=1e-13)
    grid = np.random.default_rng(0).uniform(-0.25, 1.25, size=(50, 2))
    np.testing.assert_allclose(trainer.predict(grid), twin.predict(grid), rtol=rtol, atol=1e-15)
    assert trainer.updates == twin.t
    return trainer, chunk


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


def split_data(n=40, seed=3) -> Dataset:
    """A small dataset with a test split: noisy XOR-like classes in [-1, 1]²."""
    rng = np.random.default_rng(seed)
    inputs = rng.uniform(-1, 1, size=(n, 2))
    targets = (inputs[:, 0] * inputs[:, 1] > 0).astype(float)
    train = np.zeros(n, dtype=bool)
    train[rng.permutation(n)[: n // 2]] = True
    for arr in (inputs, targets, train):
        arr.flags.writeable = False
    return Dataset(DataSpec(name="custom"), inputs, targets, train)


@pytest.mark.parametrize("features", [("x1", "x2"), ("x1", "x2", "x1x2"), ("x1sq", "x2sq", "sinx1", "sinx2"), ("x1x2",)])
@pytest.mark.parametrize("hidden", [(3,), (3, 2)])
def test_features_match_twin(features, hidden):
    cfg = TrainConfig(hidden=hidden, activation="tanh", features=features, init="xavier", seed=2, learning_rate=0.2)
    trainer, _ = assert_matches_twin(cfg, 15, data=split_data())
    assert trainer.layout.sizes[0] == len(features)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("mode", ["sgd", "minibatch", "batch"])
@pytest.mark.parametrize("hidden", [(2,), (3, 2), ()])
@pytest.mark.parametrize("l2, l1", [(0.05, 0.0), (0.0, 0.03), (0.02, 0.01)])
def test_regularisation_matches_twin(optimizer, mode, hidden, l2, l1):
    cfg = TrainConfig(hidden=hidden, optimizer=optimizer, mode=mode, batch_size=3, shuffle=True, init="xavier", seed=4,
                      learning_rate=0.05, l2=l2, l1=l1)  # fmt: skip
    assert_matches_twin(cfg, 12, data=split_data(), rtol=1e-9)
    assert_matches_twin(cfg, 12, rtol=1e-9)  # XOR: its own recording path


def test_regularisation_off_is_bit_identical_and_on_changes_the_run():
    """λ = 0 takes today's arithmetic (the notebook's numbers); a λ changes the run and shrinks the weights."""
    plain = Trainer(TrainConfig()).run(2000)
    zero = Trainer(TrainConfig(l2=0.0, l1=0.0)).run(2000)
    np.testing.assert_array_equal(plain.loss, zero.loss)
    shrunk = Trainer(TrainConfig(l2=0.01))
    shrunk.run(2000)
    free = Trainer(TrainConfig())
    free.run(2000)
    assert np.sum(shrunk.params[0][0] ** 2) < np.sum(free.params[0][0] ** 2)


def test_test_metrics_are_at_the_epochs_final_weights():
    """Each epoch's metrics equal `evaluate()` after that epoch, and NaN test columns without a test set."""
    data = split_data()
    cfg = TrainConfig(hidden=(4,), activation="tanh", init="xavier", seed=1, learning_rate=0.3)
    trainer = Trainer(cfg, data=data)
    for _ in range(5):
        chunk = trainer.run(1)
        ev = trainer.evaluate()
        np.testing.assert_array_equal(chunk.metrics[0], [ev["test_loss"], ev["train_accuracy"], ev["test_accuracy"]])
    xor = Trainer()
    chunk = xor.run(6000)
    assert np.isnan(chunk.metrics[:, [0, 2]]).all() and chunk.metrics[-1, 1] == 1.0
    manual = ((chunk.predictions >= 0.5) == (XOR_TARGETS >= 0.5)).mean(axis=1)
    np.testing.assert_array_equal(chunk.metrics[:, 1], manual)


def test_big_data_records_no_predictions():
    rng = np.random.default_rng(0)
    inputs = rng.uniform(-1, 1, size=(2000, 2))
    trainer = Trainer(TrainConfig(), inputs=inputs, targets=(inputs[:, 0] > 0).astype(float))
    chunk = trainer.run(20)
    assert chunk.predictions.shape == (20, 0) and chunk.rows().shape == (20, 4)
    assert trainer.n_predictions == 0
