"""Files written by the release before experiment format version 2 (tests/fixtures/v1_*.bplab, made by
tests/fixtures/make_v1.py at commit 6c5d665) still open and continue exactly."""

from pathlib import Path

import numpy as np
import pytest

from engine import TrainConfig, Trainer
from engine.experiment import load_experiment

FIXTURES = Path(__file__).parent / "fixtures"


def test_v1_notebook_file_opens_and_continues_exactly():
    experiment = load_experiment(FIXTURES / "v1_notebook_1500.bplab")
    assert experiment.config == TrainConfig()
    assert experiment.history.n_epochs == 1500
    trainer = experiment.trainer()
    assert trainer.epoch == 1500
    continued = trainer.run(500)

    fresh = Trainer(TrainConfig())
    first = fresh.run(1500)
    rest = fresh.run(500)
    np.testing.assert_array_equal(continued.loss, rest.loss)
    np.testing.assert_array_equal(trainer.theta, fresh.theta)
    np.testing.assert_array_equal(experiment.history.exact()[:, 0], first.loss)


def test_v1_file_with_an_epoch_in_progress_continues_exactly():
    experiment = load_experiment(FIXTURES / "v1_adam_partial.bplab")
    cfg = TrainConfig(hidden=(3, 2), activation="tanh", optimizer="adam", shuffle=True, seed=7, learning_rate=0.05)
    assert experiment.config == cfg
    trainer = experiment.trainer()
    assert (trainer.epoch, trainer.sample_position) == (700, 2)
    continued = trainer.run(300)

    fresh = Trainer(cfg)
    fresh.run(700)
    fresh.step_sample()
    fresh.step_sample()
    rest = fresh.run(300)
    np.testing.assert_array_equal(continued.loss, rest.loss)
    np.testing.assert_array_equal(trainer.theta, fresh.theta)


@pytest.mark.parametrize("name", ["v1_notebook_1500.bplab", "v1_adam_partial.bplab"])
def test_v1_file_is_xor(name):
    trainer = load_experiment(FIXTURES / name).trainer()
    np.testing.assert_array_equal(trainer.inputs, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(trainer.targets, [0, 1, 1, 0])
