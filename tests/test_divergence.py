"""A run whose loss stops being finite ends cleanly, and extreme inputs never warn or raise."""

import warnings

import numpy as np
import pytest

from engine import TrainConfig, Trainer
from engine import _kernels as K


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize(
    "cfg",
    [
        TrainConfig(learning_rate=1e308, activation="tanh", loss="bce"),
        TrainConfig(learning_rate=1e308, optimizer="adam"),
        TrainConfig(learning_rate=1e308, loss="bce", hidden=(4, 4), optimizer="momentum", mode="batch"),
        TrainConfig(
            learning_rate=1e308, loss="bce", activation="relu", init="he", mode="minibatch", batch_size=3, optimizer="momentum"
        ),
        TrainConfig(learning_rate=1e308, loss="bce", activation="tanh", hidden=(3, 2, 2), mode="batch"),
    ],
)
def test_divergence_stops_the_chunk(cfg):
    trainer = Trainer(cfg)
    chunk = trainer.run(10000)
    assert chunk.diverged and trainer.diverged
    assert not np.isfinite(chunk.loss[-1]) and np.isfinite(chunk.loss[:-1]).all()
    assert trainer.epoch == len(chunk) == chunk.epochs[-1]
    later = trainer.run(100)
    assert later.diverged and len(later) == 0 and later.loss.shape == (0,) and later.predictions.shape == (0, 4)
    assert trainer.epoch == len(chunk)
    trainer.reset()
    assert not trainer.diverged and trainer.epoch == 0
    np.testing.assert_array_equal(trainer.run(len(chunk)).loss[:-1], chunk.loss[:-1])


def test_chunk_boundary_at_the_diverged_epoch():
    cfg = TrainConfig(learning_rate=1e308, optimizer="adam")
    n = len(Trainer(cfg).run(1000))
    trainer = Trainer(cfg)
    first = trainer.run(n)
    assert first.diverged and len(first) == n


@pytest.mark.parametrize("lr", [1e6, 1e100, 1e308])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_huge_learning_rates_never_warn_or_raise(lr, activation, loss):
    """Saturated networks stop learning (mse) or go non-finite (diverged); either way, quietly."""
    trainer = Trainer(TrainConfig(learning_rate=lr, activation=activation, loss=loss, hidden=(3, 3)))
    chunk = trainer.run(2000)
    assert chunk.diverged == (not np.isfinite(chunk.loss[-1]))
    trainer.predict(np.array([[1e300, -1e300], [np.inf, 0.0]]))


def test_saturated_sigmoid_mse_gets_stuck_at_half():
    """lr = 1e308 with the notebook's net saturates every unit: ŷ ∈ {0, 1}, gradient 0, loss stuck at 0.5."""
    chunk = Trainer(TrainConfig(learning_rate=1e308)).run(100)
    assert not chunk.diverged
    assert (chunk.loss[-10:] == 0.5).all()


@pytest.mark.parametrize("z", [-1e308, -800.0, -709.5, -30.0, 0.0, 30.0, 800.0, 1e308])
def test_scalar_functions_are_safe_for_any_finite_input(z):
    s = K.sigmoid(z)
    assert 0.0 <= s <= 1.0
    # a tolerance: NumPy's exp may not be libm's, which the kernel calls
    assert s == pytest.approx(1 / (1 + np.exp(np.float64(-z))) if z > -700 else np.exp(z), rel=1e-12, abs=0)
    assert np.isfinite(K.activate(z, K.TANH))
    for y in (0.0, 1.0):
        assert np.isfinite(K.sample_loss(s, z, y, K.BCE)) and K.sample_loss(s, z, y, K.BCE) >= 0
