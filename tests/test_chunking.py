"""A run split into chunks of any sizes is bit-identical to one long run."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import TrainConfig, Trainer
from tests.strategies import configs


def run_in_chunks(cfg: TrainConfig, sizes, data=None) -> tuple[Trainer, np.ndarray, np.ndarray, np.ndarray]:
    """(trainer, epochs, losses, history rows: loss, metrics and predictions)."""
    trainer = Trainer(cfg, data=data)
    chunks = [trainer.run(n) for n in sizes]
    epochs = np.concatenate([c.epochs for c in chunks])
    loss = np.concatenate([c.loss for c in chunks])
    rows = np.concatenate([c.rows() for c in chunks])
    return trainer, epochs, loss, rows


def assert_same(a, b):
    ta, ea, la, pa = a
    tb, eb, lb, pb = b
    assert ta.epoch == tb.epoch and ta.updates == tb.updates
    np.testing.assert_array_equal(ea, eb)
    np.testing.assert_array_equal(la, lb)
    np.testing.assert_array_equal(pa, pb)
    np.testing.assert_array_equal(ta.theta, tb.theta)


def test_notebook_one_long_run_equals_one_epoch_chunks():
    cfg = TrainConfig()
    whole = run_in_chunks(cfg, [10000])
    assert_same(whole, run_in_chunks(cfg, [1] * 10000))
    rng = np.random.default_rng(0)
    sizes = []
    while sum(sizes) < 10000:
        sizes.append(int(min(rng.integers(0, 700), 10000 - sum(sizes))))
    assert_same(whole, run_in_chunks(cfg, sizes))
    np.testing.assert_array_equal(whole[1], np.arange(1, 10001))


@settings(max_examples=60, deadline=None)
@given(cfg=configs(), sizes=st.lists(st.integers(0, 40), min_size=1, max_size=8))
def test_random_configs_and_chunk_sizes(cfg, sizes):
    assert_same(run_in_chunks(cfg, [sum(sizes)]), run_in_chunks(cfg, sizes))


def test_shuffled_chunks_beyond_one_slab():
    """The shuffle orders are drawn in slabs of 65536 epochs; chunk boundaries inside and across slabs agree."""
    cfg = TrainConfig(shuffle=True, mode="minibatch", batch_size=3, optimizer="momentum", learning_rate=0.05)
    assert_same(run_in_chunks(cfg, [70000]), run_in_chunks(cfg, [3, 65535, 1, 4461]))


def test_reset_restores_the_start():
    trainer = Trainer(TrainConfig(shuffle=True, optimizer="adam"))
    first = trainer.run(300)
    trainer.run(17)
    trainer.reset()
    assert trainer.epoch == 0 and trainer.updates == 0
    for (W, b), (W0, b0) in zip(trainer.params, trainer.initial_params):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    again = trainer.run(300)
    np.testing.assert_array_equal(first.loss, again.loss)


def test_live_learning_rate_change_applies_from_the_next_chunk():
    trainer = Trainer()
    trainer.run(100)
    assert trainer.set_config(trainer.config.replace(learning_rate=0.5)) is False
    assert trainer.epoch == 100
    changed = trainer.run(50)
    # the same as a trainer that ran 100 epochs at 0.1 and then had its rate changed
    twin = Trainer()
    twin.run(100)
    twin.set_config(TrainConfig(learning_rate=0.5))
    np.testing.assert_array_equal(changed.loss, twin.run(50).loss)
    assert not np.array_equal(changed.loss, Trainer().run(150).loss[100:])


def test_structural_change_resets():
    trainer = Trainer()
    trainer.run(10)
    assert trainer.set_config(TrainConfig(hidden=(3,))) is True
    assert trainer.epoch == 0 and [W.shape for W, _ in trainer.params] == [(3, 2), (1, 3)]
    assert trainer.set_config(TrainConfig(hidden=(3,), seed=1)) is True


def test_params_are_copies_and_chunks_read_only():
    trainer = Trainer()
    params = trainer.params
    params[0][0][...] = 99.0
    assert trainer.params[0][0][0, 0] != 99.0
    chunk = trainer.run(3)
    assert not chunk.loss.flags.writeable and not chunk.predictions.flags.writeable


def test_stop_below_ends_at_the_first_epoch_under_the_target():
    whole = Trainer().run(10000)
    first_under = int(np.argmax(whole.loss < 0.01))
    trainer = Trainer()
    chunk = trainer.run(10000, stop_below=0.01)
    assert chunk.reached_target and not chunk.diverged
    assert len(chunk) == first_under + 1 == trainer.epoch
    np.testing.assert_array_equal(chunk.loss, whole.loss[: first_under + 1])
    # stopping is a chunk boundary like any other: continuing gives the uninterrupted run
    rest = trainer.run(10000 - trainer.epoch)
    np.testing.assert_array_equal(rest.loss, whole.loss[first_under + 1 :])
    assert not Trainer().run(5, stop_below=0.01).reached_target


def test_stop_below_with_shuffle_slabs():
    cfg = TrainConfig(shuffle=True, learning_rate=0.5)
    whole = Trainer(cfg).run(20000)
    trainer = Trainer(cfg)
    chunk = trainer.run(20000, stop_below=0.02)
    assert chunk.reached_target and chunk.loss[-1] < 0.02 <= chunk.loss[:-1].min()
    rest = trainer.run(20000 - trainer.epoch)
    np.testing.assert_array_equal(np.concatenate([chunk.loss, rest.loss]), whole.loss)


def test_chunks_and_sample_steps_with_test_metrics():
    """On data with a test split the metrics too are the same however the run is chunked or sample-stepped."""
    from tests.test_engine_twin import split_data

    data = split_data()
    cfg = TrainConfig(hidden=(3, 2), activation="tanh", init="xavier", shuffle=True, seed=5, l2=0.01, l1=0.001)
    whole = run_in_chunks(cfg, [40], data)
    assert_same(whole, run_in_chunks(cfg, [7, 0, 1, 20, 12], data))
    assert whole[3].shape == (40, 4) and np.isfinite(whole[3][:, :4]).all()
    stepped = Trainer(cfg, data=data)
    first = stepped.run(3)
    steps = [stepped.step_sample()[1] for _ in range(stepped.n_samples)]
    rest = stepped.run(36)
    rows = np.concatenate([first.rows(), steps[-1].rows(), rest.rows()])
    assert all(c is None for c in steps[:-1])
    np.testing.assert_array_equal(rows, whole[3])
    np.testing.assert_array_equal(stepped.theta, whole[0].theta)


def test_a_chunks_rows_are_its_columns_without_a_copy():
    """`Trainer.run` has the kernel write the history's rows in place: `Chunk.rows()` is that buffer (no copy per
    chunk: a copy of 10⁵ epochs' rows cost the window's worker 14 % of its time), equal to the columns stacked."""
    from engine.datasets import DataSpec, make_dataset

    for trainer in (Trainer(TrainConfig()), Trainer(TrainConfig(hidden=(3,)), data=make_dataset(DataSpec(name="moons")))):
        chunk = trainer.run(50)
        rows = chunk.rows()
        assert rows is chunk.rows() and not rows.flags.writeable
        np.testing.assert_array_equal(rows, np.column_stack([chunk.loss, chunk.metrics, chunk.predictions]))
        assert np.shares_memory(rows, chunk.loss)
