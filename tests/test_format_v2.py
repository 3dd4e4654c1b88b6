"""Files written by the release before experiment format version 3 (tests/fixtures/v2_*.bplab, made by
tests/fixtures/make_v2.py at commit fecb57d) still open, continue exactly, and go back in time when their past allows."""

import json
from pathlib import Path

import numpy as np
import pytest

from engine import TrainConfig, Trainer
from engine.datasets import DataSpec, make_dataset
from engine.experiment import Experiment, load_experiment, save_experiment
from engine.timeline import PastUnknownError, same_state

FIXTURES = Path(__file__).parent / "fixtures"
SPIRAL = DataSpec(name="spiral", points=60, data_seed=3)
SPIRAL_CONFIG = TrainConfig(hidden=(4, 3), activation="tanh", mode="minibatch", batch_size=7, shuffle=True,
                            optimizer="adam", learning_rate=0.02, seed=11)  # fmt: skip
PARTIAL_CONFIG = TrainConfig(shuffle=True, optimizer="momentum", learning_rate=0.3, seed=5)


def header_version(path: Path) -> int:
    with np.load(path, allow_pickle=False) as data:
        return json.loads(data["header"].tobytes())["version"]


@pytest.mark.parametrize("name", ["v2_spiral_adam_400.bplab", "v2_xor_lr_changed.bplab", "v2_xor_partial.bplab"])
def test_the_fixtures_are_version_2(name):
    assert header_version(FIXTURES / name) == 2


def test_v2_spiral_file_opens_and_continues_exactly():
    experiment = load_experiment(FIXTURES / "v2_spiral_adam_400.bplab")
    data = make_dataset(SPIRAL)
    assert experiment.config == SPIRAL_CONFIG and experiment.data.spec == SPIRAL
    np.testing.assert_array_equal(experiment.data.inputs, data.inputs)
    fresh = Trainer(SPIRAL_CONFIG, data=data)
    np.testing.assert_array_equal(experiment.history.exact(), fresh.run(400).rows())
    trainer = experiment.trainer()
    np.testing.assert_array_equal(trainer.run(300).rows(), fresh.run(300).rows())
    assert same_state(trainer.state(), fresh.state())


def test_v2_spiral_file_goes_back_to_any_epoch():
    tree = load_experiment(FIXTURES / "v2_spiral_adam_400.bplab").tree
    for epoch in (0, 1, 123, 399, 400):
        reference = Trainer(SPIRAL_CONFIG, data=make_dataset(SPIRAL))
        reference.run(epoch)
        assert same_state(tree.state_at(0, epoch), reference.state())


def test_v2_file_whose_learning_rate_changed_continues_exactly_but_its_past_is_unknown():
    experiment = load_experiment(FIXTURES / "v2_xor_lr_changed.bplab")
    assert experiment.config == TrainConfig(learning_rate=0.5)
    fresh = Trainer()
    fresh.run(600)
    fresh.set_config(TrainConfig(learning_rate=0.5))
    fresh.run(400)
    trainer = experiment.trainer()
    assert same_state(trainer.state(), fresh.state())
    np.testing.assert_array_equal(trainer.run(100).rows(), fresh.run(100).rows())
    with pytest.raises(PastUnknownError):
        experiment.tree.state_at(0, 600)


def test_v2_file_with_an_epoch_in_progress_continues_and_goes_back_exactly():
    experiment = load_experiment(FIXTURES / "v2_xor_partial.bplab")
    assert experiment.config == PARTIAL_CONFIG
    fresh = Trainer(PARTIAL_CONFIG)
    fresh.run(250)
    at_250 = fresh.state()
    for _ in range(3):
        fresh.step_sample()
    trainer = experiment.trainer()
    assert (trainer.epoch, trainer.sample_position) == (250, 3)
    assert same_state(trainer.state(), fresh.state())
    np.testing.assert_array_equal(trainer.run(50).rows(), fresh.run(50).rows())
    assert same_state(experiment.tree.state_at(0, 250), at_250)


def test_a_v2_file_saved_again_is_version_3_and_the_same(tmp_path):
    for name in ("v2_spiral_adam_400.bplab", "v2_xor_partial.bplab"):
        experiment = load_experiment(FIXTURES / name)
        experiment.tree.current_run.timeline.verify()
        save_experiment(tmp_path / name, experiment)
        assert header_version(tmp_path / name) == 3
        again = load_experiment(tmp_path / name)
        np.testing.assert_array_equal(again.history.exact(), experiment.history.exact())
        assert again.tree.current_run.timeline.known is True  # its past was checked before saving
        assert same_state(again.tree.state_at(0, 200), experiment.tree.state_at(0, 200))
        np.testing.assert_array_equal(again.trainer().run(20).rows(), experiment.trainer().run(20).rows())


def test_an_experiment_saved_without_a_tree_is_checked_on_first_use(tmp_path):
    trainer = Trainer(TrainConfig(optimizer="adam"))
    chunk = trainer.run(300)
    experiment = load_experiment(FIXTURES / "v2_xor_partial.bplab")  # any history of the right width
    experiment = Experiment(trainer.config, trainer.state(), experiment.history, "bare", trainer.data)
    experiment.history.clear()
    experiment.history.extend(chunk.rows())
    save_experiment(tmp_path / "bare.bplab", experiment)
    tree = load_experiment(tmp_path / "bare.bplab").tree
    assert tree.current_run.timeline.known is None
    reference = Trainer(TrainConfig(optimizer="adam"))
    reference.run(111)
    assert same_state(tree.state_at(0, 111), reference.state())
