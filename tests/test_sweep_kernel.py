"""The sweep kernel's per-run numbers are `Trainer.run`'s, on any data (features, regularisation, test split)."""

import numpy as np

from engine import TrainConfig, Trainer
from engine.datasets import DataSpec, make_dataset
from engine.sweep import SweepSpec, run_sweep


def test_sweep_runs_are_trainer_runs_on_split_data():
    data = make_dataset(DataSpec(name="circle", points=80, noise=0.1, train_fraction=0.5, data_seed=2))
    base = TrainConfig(activation="tanh", init="xavier", features=("x1", "x2", "x1sq", "x2sq"), l2=0.001, l1=0.0005)
    spec = SweepSpec(base=base, seeds=(1, 2, 3), learning_rates=(0.1, 0.3), hidden=(3,), optimizers=("sgd", "adam"),
                     epochs=150, data=data, target_accuracy=0.8)  # fmt: skip
    result = run_sweep(spec)
    assert result.final_predictions.shape == (len(result), 0)
    for row in range(len(result)):
        chunk = Trainer(result.config_of(row), data=data).run(spec.epochs)
        assert result.final_loss[row] == chunk.loss[-1]
        assert result.final_train_accuracy[row] == chunk.metrics[-1, 1]
        assert result.final_test_accuracy[row] == chunk.metrics[-1, 2]
        reached = np.flatnonzero(chunk.metrics[:, 2] >= 0.8)
        assert result.epochs_to_solve[row] == (reached[0] + 1 if len(reached) else 0)
    assert result.solved.any()


def test_sweep_on_xor_keeps_the_solved_rule_and_records_outputs():
    spec = SweepSpec(base=TrainConfig(), seeds=(0, 42), learning_rates=(0.5,), hidden=(2,), optimizers=("sgd",), epochs=3000)
    result = run_sweep(spec)
    for row in range(len(result)):
        chunk = Trainer(result.config_of(row)).run(spec.epochs)
        np.testing.assert_array_equal(result.final_predictions[row], chunk.predictions[-1])
        solved = np.flatnonzero(np.all(np.abs(chunk.predictions - [0, 1, 1, 0]) < 0.4, axis=1))
        assert result.epochs_to_solve[row] == (solved[0] + 1 if len(solved) else 0)
        assert result.final_train_accuracy[row] == chunk.metrics[-1, 1] and np.isnan(result.final_test_accuracy[row])
