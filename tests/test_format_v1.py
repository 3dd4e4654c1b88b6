"""Files written by the release before experiment format version 2 (tests/fixtures/v1_*.bplab, made by
tests/fixtures/make_v1.py at commit 6c5d665) still open and continue exactly."""

import json
from pathlib import Path

import numpy as np
import pytest

from engine import History, TrainConfig, Trainer
from engine.datasets import DataSpec
from engine.experiment import Experiment, ExperimentError, load_experiment, save_experiment

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


def test_v1_history_rows_are_widened_to_what_training_records_today():
    """Version 1 kept (loss, 4 predictions) per epoch: the rows come back as today's trainer records XOR (test
    columns NaN, train accuracy from the recorded predictions), bit for bit."""
    experiment = load_experiment(FIXTURES / "v1_notebook_1500.bplab")
    today = Trainer(TrainConfig()).run(1500).rows()
    assert experiment.history.n_series == today.shape[1] == 8
    np.testing.assert_array_equal(experiment.history.exact(), today)
    np.testing.assert_array_equal(experiment.history.last, today[-1])
    assert experiment.data.spec == DataSpec()


def test_a_v1_file_saved_again_is_version_2_and_the_same(tmp_path):
    experiment = load_experiment(FIXTURES / "v1_adam_partial.bplab")
    save_experiment(tmp_path / "again.bplab", experiment)
    again = load_experiment(tmp_path / "again.bplab")
    np.testing.assert_array_equal(again.history.exact(), experiment.history.exact())
    a, b = experiment.trainer().run(100), again.trainer().run(100)
    np.testing.assert_array_equal(a.rows(), b.rows())


def as_version_1(path: Path) -> None:
    """Rewrite a version-2 XOR experiment as version 1 wrote it: rows (loss, 4 predictions), no data."""
    with np.load(path, allow_pickle=False) as data:
        members = {k: data[k] for k in data.files if not k.startswith("data_")}
    header = json.loads(members["header"].tobytes())
    header["version"] = 1
    del header["data"]
    members["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    for key in ("history_exact", "summary_min", "summary_max"):
        members[key] = members[key][:, [0, 4, 5, 6, 7]]
    members["history_last"] = members["history_last"][[0, 4, 5, 6, 7]]
    with open(path, "wb") as handle:
        np.savez(handle, **members)


def test_v1_summary_buckets_get_an_accuracy_envelope(tmp_path):
    """Past the exact part version 1 kept min/max buckets of the predictions only: the train accuracy's min and max
    are bounded from them, and the bounds hold the true min and max."""
    trainer = Trainer(TrainConfig(learning_rate=0.5))
    history = History(n_series=8, exact_limit=200, summary_capacity=8)
    for _ in range(6):
        history.extend(trainer.run(500).rows())
    path = tmp_path / "old.bplab"
    save_experiment(path, Experiment.capture(trainer, history))
    as_version_1(path)
    old = load_experiment(path).history
    np.testing.assert_array_equal(old.exact(), history.exact())
    first, _, mins, maxs = old.summary()
    _, _, true_min, true_max = history.summary()
    assert len(first) > 2
    np.testing.assert_array_equal(np.delete(mins, 2, axis=1), np.delete(true_min, 2, axis=1))
    np.testing.assert_array_equal(np.delete(maxs, 2, axis=1), np.delete(true_max, 2, axis=1))
    assert (mins[:, 2] <= true_min[:, 2]).all() and (maxs[:, 2] >= true_max[:, 2]).all()
    assert (mins[:, 2] == true_min[:, 2]).any() and (maxs[:, 2] == true_max[:, 2]).any()  # exact where outputs settled
    resumed = load_experiment(path).trainer()
    np.testing.assert_array_equal(resumed.run(10).rows(), trainer.run(10).rows())


def test_a_v1_file_with_data_parts_or_v2_without_them_is_refused(tmp_path):
    trainer = Trainer()
    history = History(n_series=8)
    history.extend(trainer.run(20).rows())
    path = tmp_path / "x.bplab"
    save_experiment(path, Experiment.capture(trainer, history))
    with np.load(path, allow_pickle=False) as data:
        members = {k: data[k] for k in data.files}
    header = json.loads(members["header"].tobytes())
    members["header"] = np.frombuffer(json.dumps({**header, "version": 1}).encode(), dtype=np.uint8)
    with open(path, "wb") as handle:
        np.savez(handle, **members)
    with pytest.raises(ExperimentError, match="of format version 1 \\(it has unexpected parts data_inputs"):
        load_experiment(path)
