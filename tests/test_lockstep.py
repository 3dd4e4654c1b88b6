"""The lockstep sweep kernel (engine/_lockstep.py): every run, whichever group and lane it trains in, is bit-identical
to the one-run sweep kernel (`_kernels.sweep`) and to ``Trainer(config with its seed).run(epochs)``."""

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine import ACTIVATIONS, LOSSES, MODES, OPTIMIZERS, TrainConfig, Trainer
from engine import _kernels as K
from engine import _lockstep as LS
from engine.compare import SOLVED_MARGIN
from engine.datasets import Dataset, DataSpec, make_dataset
from engine.features import FEATURES, feature_matrix
from engine.kernel_args import encode
from engine.network import Layout, initial_theta
from engine.sweep import SweepSpec, run_block, sweep_blocks

_POINTS = np.random.default_rng(5).normal(size=(12, 2))  # 12 training points, no test set: outputs not recorded
DATASETS = {
    "xor": make_dataset(),  # records every output: the solved rule is the margin
    "circle": make_dataset(DataSpec(name="circle", points=30, noise=0.1, train_fraction=0.5, data_seed=3)),  # test set
    "points": Dataset.from_arrays(_POINTS, (_POINTS[:, 0] * _POINTS[:, 1] > 0).astype(float)),  # train accuracy pass
}
OUTPUTS = ("thetas", "final_loss", "solved_epoch", "final_predictions", "check_loss", "final_metrics", "target_epoch")
TARGET_ACCURACY = 0.75


def _problem(config, data, thetas):
    X = feature_matrix(data.train_inputs, config.features)
    X_test = feature_matrix(data.test_inputs, config.features)
    Y = np.ascontiguousarray(data.train_targets, dtype=np.float64)
    Y_test = np.ascontiguousarray(data.test_targets, dtype=np.float64)
    layout = Layout.from_sizes(config.layer_sizes)
    runs = len(thetas)
    out = {
        "thetas": np.array(thetas, dtype=np.float64),
        "final_loss": np.full(runs, -1.0),
        "solved_epoch": np.full(runs, -1, dtype=np.int64),
        "final_predictions": np.full((runs, data.n_train if data.records_predictions else 0), -1.0),
        "check_loss": np.full(runs, -1.0),
        "final_metrics": np.full((runs, 3), -1.0),
        "target_epoch": np.full(runs, -1, dtype=np.int64),
    }
    head = (out["thetas"], *layout.kernel_args, X, Y, X_test, Y_test, *encode(config, data.n_train))
    return head, out


def check_epoch(epochs):
    return max(1, (epochs * 9) // 10)


def run_kernel(config, data, thetas, epochs, lanes=None, chunk=7):
    """The outputs of the lockstep kernel with `lanes` (None: the one-run kernel, in chunks of `chunk` epochs)."""
    head, out = _problem(config, data, thetas)
    kernel, pace = (K, min(chunk, epochs)) if lanes is None else (LS, lanes)
    kernel.sweep(
        *head, epochs, pace, SOLVED_MARGIN, TARGET_ACCURACY, check_epoch(epochs),
        *(out[name] for name in OUTPUTS[1:]),
    )  # fmt: skip
    return out


def trainer_outputs(config, data, theta, epochs):
    """What `Trainer.run` gives a run from `theta`, as the sweep kernels' outputs."""
    layout = Layout.from_sizes(config.layer_sizes)
    trainer = Trainer(config, data=data, initial_params=layout.copies(theta))
    chunk = trainer.run(epochs)
    column = 2 if data.n_test else 1
    solved = []
    if data.records_predictions:
        solved = np.flatnonzero(np.all(np.abs(chunk.predictions - data.train_targets) < SOLVED_MARGIN, axis=1))
    reached = np.flatnonzero(chunk.metrics[:, column] >= TARGET_ACCURACY)
    return {
        "thetas": trainer.theta,
        "final_loss": chunk.loss[-1],
        "solved_epoch": solved[0] + 1 if len(solved) else 0,
        "final_predictions": chunk.predictions[-1],
        "check_loss": chunk.loss[check_epoch(epochs) - 1] if len(chunk) >= check_epoch(epochs) else np.nan,
        "final_metrics": chunk.metrics[-1],
        "target_epoch": reached[0] + 1 if len(reached) else 0,
    }, chunk


def assert_same(got, want, rows=None):
    for name in OUTPUTS:
        a = got[name] if rows is None else got[name][rows]
        assert np.array_equal(a, want[name], equal_nan=True), (name, a, want[name])


@st.composite
def problems(draw):
    data_name = draw(st.sampled_from(sorted(DATASETS)))
    features = draw(st.sets(st.sampled_from(sorted(FEATURES)), min_size=1, max_size=4))
    config = TrainConfig(
        hidden=(draw(st.integers(1, 4)),),
        activation=draw(st.sampled_from(ACTIVATIONS)),
        loss=draw(st.sampled_from(LOSSES)),
        learning_rate=draw(st.sampled_from([0.05, 0.5, 3.0])),
        mode=draw(st.sampled_from(MODES)),
        batch_size=draw(st.integers(1, 5)),
        init=draw(st.sampled_from(["notebook", "xavier", "he"])),
        optimizer=draw(st.sampled_from(tuple(OPTIMIZERS))),
        features=tuple(name for name in FEATURES if name in features),
        l2=draw(st.sampled_from([0.0, 0.01])),
        l1=draw(st.sampled_from([0.0, 0.003])),
    )
    seeds = draw(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=11, unique=True))
    return config, DATASETS[data_name], seeds, draw(st.integers(1, 30)), draw(st.integers(1, 8))


def _thetas(config, seeds):
    layout = Layout.from_sizes(config.layer_sizes)
    return np.stack([initial_theta(config.replace(seed=seed), layout) for seed in seeds])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
@example((TrainConfig(), DATASETS["xor"], list(range(10)), 25, 4))  # XOR, 10 runs in groups of 4: one group of 2
def test_every_lane_is_the_one_run_kernel_and_trainer_run(problem):
    config, data, seeds, epochs, lanes = problem
    thetas = _thetas(config, seeds)
    got = run_kernel(config, data, thetas, epochs, lanes=lanes)
    assert_same(got, run_kernel(config, data, thetas, epochs))
    for row, theta in enumerate(thetas):
        want, _ = trainer_outputs(config, data, theta, epochs)
        assert_same(got, want, rows=row)


@pytest.mark.parametrize(("optimizer", "learning_rate"), [("sgd", 2.0), ("adam", 0.05), ("momentum", 0.5)])
def test_solved_and_target_epochs_of_lanes_that_solve_at_different_epochs(optimizer, learning_rate):
    """XOR for 600 epochs: some runs solve (at different epochs), some never; groups of 6, the last one of 2."""
    config = TrainConfig(learning_rate=learning_rate, optimizer=optimizer)
    data, epochs = DATASETS["xor"], 600
    thetas = _thetas(config, range(20))
    got = run_kernel(config, data, thetas, epochs, lanes=6)
    assert_same(got, run_kernel(config, data, thetas, epochs, chunk=250))
    for row, theta in enumerate(thetas):
        assert_same(got, trainer_outputs(config, data, theta, epochs)[0], rows=row)
    assert len(set(got["solved_epoch"])) > 5 and 0 in got["solved_epoch"]


def test_a_diverging_run_stops_and_its_lock_mates_go_on():
    """relu, full batch, lr 1e150: seeds 0 and 5 of these diverge at epoch 3 (Trainer.run stops there), the rest never."""
    config = TrainConfig(hidden=(3,), activation="relu", loss="bce", learning_rate=1e150, mode="batch", init="he")
    data, epochs = DATASETS["xor"], 40
    thetas = _thetas(config, range(10))
    for lanes in (3, 4, 10):
        got = run_kernel(config, data, thetas, epochs, lanes=lanes)
        assert_same(got, run_kernel(config, data, thetas, epochs))
        diverged = []
        for row, theta in enumerate(thetas):
            want, chunk = trainer_outputs(config, data, theta, epochs)
            assert_same(got, want, rows=row)
            if chunk.diverged:
                diverged.append(row)
                assert len(chunk) == 3 and not np.isfinite(got["final_loss"][row]) and np.isnan(got["check_loss"][row])
        assert diverged == [0, 5]
        assert np.all(np.isfinite(np.delete(got["final_loss"], diverged)))


def test_a_run_whose_first_epoch_is_not_finite_beside_healthy_ones():
    """Weights that overflow at once in lane 1 of 3: relu units >= 1 times W2 = 1e308 sum to an infinite logit, whose
    cross-entropy is not finite."""
    config = TrainConfig(hidden=(2,), activation="relu", loss="bce", init="he")
    data = DATASETS["xor"]
    thetas = _thetas(config, [1, 2, 3])
    layout = Layout.from_sizes(config.layer_sizes)
    W1, b1 = layout.views(thetas[1])[0]
    W2, _ = layout.views(thetas[1])[1]
    W1[:] = 1.0
    b1[:] = 1.0
    W2[0] = [1e308, 1e308]
    got = run_kernel(config, data, thetas, 50, lanes=3)
    assert_same(got, run_kernel(config, data, thetas, 50))
    assert not np.isfinite(got["final_loss"][1]) and np.all(np.isfinite(got["final_loss"][[0, 2]]))
    for row, theta in enumerate(thetas):
        assert_same(got, trainer_outputs(config, data, theta, 50)[0], rows=row)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seeds=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=150, unique=True), threads=st.integers(1, 2))
def test_run_block_is_trainer_run_for_blocks_of_any_size(seeds, threads):
    """Blocks that are not multiples of the lanes (lanes_for picks them from the block's size and the threads)."""
    import numba

    spec = SweepSpec(TrainConfig(), seeds=tuple(seeds), learning_rates=(0.5,), hidden=(3,), optimizers=("momentum",), epochs=60)
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        blocks = [run_block(spec, index, block_seeds) for index, block_seeds in sweep_blocks(spec)]
    finally:
        numba.set_num_threads(before)
    config = spec.configs()[0]
    for block in blocks:
        assert_blocks_equal(block, run_block(spec, block.config_index, tuple(block.seeds), lockstep=False))
        for row, seed in enumerate(block.seeds[:5]):
            chunk = Trainer(config.replace(seed=int(seed))).run(spec.epochs)
            assert block.final_loss[row] == chunk.loss[-1]
            assert np.array_equal(block.final_predictions[row], chunk.predictions[-1])
            assert block.final_train_accuracy[row] == chunk.metrics[-1, 1]
            assert block.check_loss[row] == chunk.loss[check_epoch(spec.epochs) - 1]
            solved = np.flatnonzero(np.all(np.abs(chunk.predictions - [0, 1, 1, 0]) < SOLVED_MARGIN, axis=1))
            assert block.solved_epoch[row] == (solved[0] + 1 if len(solved) else 0)


def assert_blocks_equal(a, b):
    for name in ("seeds", "solved_epoch", "final_loss", "final_predictions", "check_loss", "final_train_accuracy",
                 "final_test_accuracy"):  # fmt: skip
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


def test_run_block_on_split_data_is_the_one_run_kernel():
    """A sweep on data with a test set (solved by the test accuracy), every optimizer, regularised, odd block sizes."""
    data = DATASETS["circle"]
    base = TrainConfig(activation="tanh", init="xavier", features=("x1", "x2", "x1sq", "x2sq"), l2=0.001, l1=0.0005)
    spec = SweepSpec(base, seeds=tuple(range(23)), learning_rates=(0.1, 0.3), hidden=(3,), optimizers=tuple(OPTIMIZERS),
                     epochs=70, data=data, target_accuracy=0.8)  # fmt: skip
    for index, seeds in sweep_blocks(spec, block_runs=9):
        assert_blocks_equal(run_block(spec, index, seeds), run_block(spec, index, seeds, lockstep=False))


@pytest.mark.parametrize(
    ("runs", "threads", "lanes"),
    [
        (64, 1, 64),
        (64, 2, 32),
        (40, 2, 20),
        (1000, 1, 63),
        (200, 2, 50),
        (3, 2, 2),
        (1, 4, 1),
        (65, 1, 33),
        (128, 2, 64),
        (0, 2, 1),
    ],
)
def test_lanes_for_makes_equal_groups_at_least_one_per_thread(runs, threads, lanes):
    assert LS.lanes_for(runs, threads) == lanes
    assert LS.lanes_for(runs, threads) <= LS.MAX_LANES
