"""The reference notebook's printed numbers, reproduced by the engine."""

import numpy as np
import pytest

from engine import XOR_INPUTS, TrainConfig, Trainer
from tests.reference import notebook_params

# Printed by the notebook (losses in full repr, arrays at 8 decimals). The engine matches every loss to 14
# significant digits (rel 1e-14); the last digits depend on the exp and dot of the machine that computes them.
NOTEBOOK_LOSSES = {
    1: 0.3239537158130419,
    1001: 0.24817211793449434,
    2001: 0.21459076862934467,
    3001: 0.15936526038440854,
    4001: 0.04888994977531156,
    5001: 0.016090123221200778,
    6001: 0.00861826270292999,
    7001: 0.005697165950060215,
    8001: 0.00419533701162551,
    9001: 0.0032952036447040957,
}
NOTEBOOK_W1 = [[0.37454012, 0.95071431], [0.73199394, 0.59865848]]
NOTEBOOK_W2 = [[0.05808361, 0.86617615]]
NOTEBOOK_INITIAL_LOSS_01 = 0.05084754666230897
NOTEBOOK_PREDICTIONS = [0.05464331, 0.95032601, 0.95006665, 0.05336686]


@pytest.fixture(scope="module")
def trained():
    trainer = Trainer()
    chunk = trainer.run(10000)
    return trainer, chunk


def test_defaults_are_the_notebook():
    cfg = TrainConfig()
    assert (cfg.hidden, cfg.activation, cfg.loss, cfg.learning_rate) == ((2,), "sigmoid", "mse", 0.1)
    assert (cfg.mode, cfg.batch_size, cfg.shuffle, cfg.init, cfg.seed) == ("sgd", 4, False, "notebook", 42)


def test_initial_weights():
    (W1, b1), (W2, b2) = Trainer().params
    np.testing.assert_array_equal(np.round(W1, 8), NOTEBOOK_W1)
    np.testing.assert_array_equal(np.round(W2, 8), NOTEBOOK_W2)
    assert (W1.shape, b1.shape, W2.shape, b2.shape) == ((2, 2), (2, 1), (1, 2), (1, 1))
    for got, want in zip(Trainer().params, notebook_params(42, (2, 2, 1))):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_initial_loss_on_one_sample():
    y_hat = Trainer().predict(np.array([[0.0, 1.0]]))[0]
    assert (1.0 - y_hat) ** 2 == pytest.approx(NOTEBOOK_INITIAL_LOSS_01, rel=1e-14)


@pytest.mark.parametrize("epoch", sorted(NOTEBOOK_LOSSES))
def test_printed_losses(trained, epoch):
    _, chunk = trained
    assert chunk.epochs[epoch - 1] == epoch
    assert chunk.loss[epoch - 1] == pytest.approx(NOTEBOOK_LOSSES[epoch], rel=1e-14, abs=0)


def test_predictions_after_training(trained):
    trainer, chunk = trained
    assert trainer.epoch == 10000 and len(chunk) == 10000 and not chunk.diverged
    np.testing.assert_array_equal(np.round(trainer.predict(XOR_INPUTS), 8), NOTEBOOK_PREDICTIONS)


def test_recorded_predictions_are_the_loss_forward_pass(trained):
    """Each epoch's loss is the mean of (y - ŷ)² over the 4 predictions recorded for that epoch."""
    _, chunk = trained
    targets = np.array([0.0, 1.0, 1.0, 0.0])
    sq = (targets - chunk.predictions) ** 2
    manual = (((sq[:, 0] + sq[:, 1]) + sq[:, 2]) + sq[:, 3]) / 4
    np.testing.assert_allclose(manual, chunk.loss, rtol=1e-12, atol=0)
