"""Sample steps and the inspector's numbers: against epoch steps, an independent NumPy computation and
finite differences."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import XOR_INPUTS, XOR_TARGETS, History, TrainConfig, Trainer
from engine.experiment import Experiment, load_experiment, save_experiment
from engine.history import n_series_for
from tests.reference import TwinTrainer, forward, sample_gradients

SGD_CONFIGS = st.builds(
    TrainConfig,
    hidden=st.sampled_from([(), (2,), (3,), (3, 2)]),
    activation=st.sampled_from(["sigmoid", "tanh", "relu"]),
    loss=st.sampled_from(["mse", "bce"]),
    learning_rate=st.sampled_from([0.1, 0.5]),
    shuffle=st.booleans(),
    optimizer=st.sampled_from(["sgd", "momentum", "adam"]),
    init=st.sampled_from(["notebook", "xavier"]),
    seed=st.integers(0, 1000),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=SGD_CONFIGS, before=st.integers(0, 30), epochs=st.integers(1, 4))
def test_sample_steps_equal_epoch_steps(config, before, epochs):
    by_samples, by_epochs = Trainer(config), Trainer(config)
    by_samples.run(before)
    by_epochs.run(before)
    chunks = []
    for _ in range(4 * epochs):
        trace, chunk = by_samples.step_sample()
        assert trace.applied
        if chunk is not None:
            chunks.append(chunk)
    whole = by_epochs.run(epochs)
    assert len(chunks) == epochs and by_samples.epoch == by_epochs.epoch == before + epochs
    np.testing.assert_array_equal(np.concatenate([c.loss for c in chunks]), whole.loss)
    np.testing.assert_array_equal(np.concatenate([c.predictions for c in chunks]), whole.predictions)
    np.testing.assert_array_equal(by_samples.theta, by_epochs.theta)
    assert by_samples.updates == by_epochs.updates
    by_samples.step_sample()  # an epoch left half done finishes first when run
    np.testing.assert_array_equal(by_samples.run(3).loss, by_epochs.run(3).loss)


def test_positions_and_shuffled_order():
    trainer = Trainer(TrainConfig(shuffle=True, seed=3))
    order = np.random.default_rng(3).permutation(4)
    for k in range(4):
        trace, chunk = trainer.step_sample()
        assert trace.index == order[k] and trace.samples_done == k and trainer.sample_position == (k + 1) % 4
        assert trace.after == ((0, k + 1) if k < 3 else (1, 0))  # where the step left training
        assert (chunk is None) == (k < 3)


def test_sample_steps_need_sgd_mode():
    with pytest.raises(ValueError, match="mode sgd"):
        Trainer(TrainConfig(mode="batch")).step_sample()
    assert Trainer(TrainConfig(mode="minibatch", batch_size=1)).can_step_samples


@pytest.mark.parametrize(
    "config",
    [TrainConfig(), TrainConfig(hidden=(3, 2), activation="tanh", loss="bce"), TrainConfig(hidden=(4,), activation="relu"),
     TrainConfig(hidden=(), optimizer="adam"), TrainConfig(hidden=(2, 2, 2), optimizer="momentum", init="xavier")],
)  # fmt: skip
def test_trace_against_an_independent_numpy_computation(config):
    trainer = Trainer(config)
    trainer.run(37)
    for index in range(4):
        trace = trainer.inspect_sample(index)
        x, y = XOR_INPUTS[index].reshape(-1, 1), float(XOR_TARGETS[index])
        acts, z = forward(trainer.params, x, config.activation)
        for layer in range(len(trace.a)):
            np.testing.assert_allclose(trace.a[layer], acts[layer + 1][:, 0], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(trace.z[-1], z[:, 0], rtol=1e-12, atol=1e-15)
        grads, y_hat, loss = sample_gradients(trainer.params, x, y, config)
        assert trace.y_hat == pytest.approx(y_hat, rel=1e-12) and trace.loss == pytest.approx(loss, rel=1e-9)
        for (gW, gb), (tW, tb) in zip(trace.grads, grads):
            np.testing.assert_allclose(gW, tW, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(gb, tb, rtol=1e-10, atol=1e-14)
        # the update it shows is what one sample's step makes (sgd: p - lr g)
        if config.optimizer == "sgd":
            for (W0, b0), (W1, b1), (gW, gb) in zip(trace.params_before, trace.params_after, trace.grads):
                np.testing.assert_array_equal(W1, W0 - config.learning_rate * gW)
                np.testing.assert_array_equal(b1, b0 - config.learning_rate * gb)
        # inspecting changes nothing
        np.testing.assert_array_equal(trainer.params[0][0], trace.params_before[0][0])


@pytest.mark.parametrize(
    "config",
    [TrainConfig(), TrainConfig(hidden=(3, 2), activation="tanh", loss="bce", optimizer="adam"),
     TrainConfig(hidden=(5,), activation="relu", seed=4), TrainConfig(hidden=(), loss="bce"),
     TrainConfig(hidden=(3,), l2=0.05, l1=0.01, features=("x1", "x2", "x1x2")),
     TrainConfig(hidden=(3, 2), activation="tanh", l2=0.001, l1=0.0001, optimizer="momentum", init="xavier")],
)  # fmt: skip
def test_finite_differences_agree(config):
    trainer = Trainer(config)
    trainer.run(100)
    for index in range(4):
        trace = trainer.inspect_sample(index)
        if config.activation == "relu" and any(np.any(np.abs(z) < 1e-3) for z in trace.z[:-1]):
            continue  # a kink: not differentiable here
        for layer in range(len(trace.grads)):
            for which in (0, 1):
                smooth = np.ones(trace.grads[layer][which].shape, dtype=bool)
                if config.l1 and which == 0:  # L1's kink at w = 0 (SGD keeps such weights jittering around it)
                    smooth = np.abs(trace.params_before[layer][0]) > 1e-3
                assert trace.relative_difference(layer, which)[smooth].max(initial=0.0) < 1e-6


def test_gradient_is_the_mean_sample_gradient():
    config = TrainConfig(hidden=(3,), activation="tanh")
    trainer = Trainer(config)
    trainer.run(20)
    twin = TwinTrainer(config, trainer.params, XOR_INPUTS, XOR_TARGETS)
    per_sample = [sample_gradients(twin.params, XOR_INPUTS[i].reshape(-1, 1), XOR_TARGETS[i], config)[0] for i in range(4)]
    for layer, (gW, gb) in enumerate(trainer.gradient()):
        np.testing.assert_allclose(gW, np.mean([g[layer][0] for g in per_sample], axis=0), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(gb, np.mean([g[layer][1] for g in per_sample], axis=0), rtol=1e-12, atol=1e-15)


def test_an_epoch_in_progress_is_saved_and_restored(tmp_path):
    config = TrainConfig(shuffle=True, optimizer="momentum")
    trainer, twin = Trainer(config), Trainer(config)
    history = History(n_series_for(trainer.data))
    chunk = trainer.run(10)
    history.extend(chunk.rows())
    trainer.step_sample()
    trainer.step_sample()
    save_experiment(tmp_path / "mid.bplab", Experiment.capture(trainer, history))
    resumed = load_experiment(tmp_path / "mid.bplab").trainer()
    assert resumed.sample_position == 2
    twin.run(10)
    np.testing.assert_array_equal(resumed.run(5).loss, twin.run(5).loss)


@pytest.mark.parametrize("config", [TrainConfig(), TrainConfig(shuffle=True, seed=7, optimizer="adam", hidden=(3,))])
def test_traces_say_which_sample_and_which_weights(config):
    """Each trace names where training stood at its weights before; the next sample's inspection is
    exactly the update that the sample step then makes; peeking at the next sample draws nothing."""
    trainer, twin = Trainer(config), Trainer(config)
    trainer.run(3)
    twin.run(3)
    for k in range(9):  # across two epoch boundaries
        epoch, done = 3 + k // 4, k % 4
        index = trainer.next_sample_index()
        preview = trainer.inspect_sample(index)
        assert (preview.epoch, preview.samples_done, preview.next_up, preview.applied) == (epoch, done, True, False)
        others = [trainer.inspect_sample(i) for i in range(4) if i != index]
        assert not any(t.next_up for t in others) and all((t.epoch, t.samples_done) == (epoch, done) for t in others)
        trace, _ = trainer.step_sample()
        assert trace.index == index and trace.applied and not trace.next_up
        assert (trace.epoch, trace.samples_done) == (epoch, done)
        assert trace.after == (trainer.epoch, trainer.sample_position) == ((epoch, done + 1) if done < 3 else (epoch + 1, 0))
        for (W0, b0), (W1, b1), (P0, c0), (P1, c1) in zip(preview.params_before, preview.params_after, trace.params_before,
                                                          trace.params_after):  # fmt: skip
            np.testing.assert_array_equal(W0, P0)
            np.testing.assert_array_equal(b0, c0)
            np.testing.assert_array_equal(W1, P1)
            np.testing.assert_array_equal(b1, c1)
        np.testing.assert_array_equal(trainer.layout.flatten(trace.params_after), trainer.theta)
    twin.run(2)  # 8 of the 9 samples: two epochs, then the ninth sample finishes the third
    np.testing.assert_array_equal(trainer.run(1).loss, twin.run(1).loss)
    np.testing.assert_array_equal(trainer.theta, twin.theta)


def test_next_sample_outside_mode_sgd():
    trainer = Trainer(TrainConfig(mode="batch"))
    assert trainer.next_sample_index() == 0 and not trainer.inspect_sample(0).next_up
    shuffled = Trainer(TrainConfig(mode="minibatch", batch_size=2, shuffle=True, seed=5))
    assert shuffled.next_sample_index() == np.random.default_rng(5).permutation(4)[0]
    assert not any(shuffled.inspect_sample(i).next_up for i in range(4))


def test_inspect_point_on_a_test_point_with_features():
    """Any point (a test point, say) can be inspected: its raw x, the features fed in, and a trace that changes nothing."""
    from tests.test_engine_twin import split_data

    data = split_data()
    config = TrainConfig(hidden=(3,), activation="tanh", features=("x1", "x2", "x1x2", "sinx1"), l2=0.01, init="xavier")
    trainer = Trainer(config, data=data)
    trainer.run(5)
    theta = trainer.theta
    x, y = data.test_inputs[3], float(data.test_targets[3])
    trace = trainer.inspect_point(x, y)
    assert trace.index is None and not trace.applied
    np.testing.assert_array_equal(trace.x, x)
    np.testing.assert_array_equal(trace.features_in, [x[0], x[1], x[0] * x[1], np.sin(x[0])])
    assert trace.y_hat == trainer.predict(x.reshape(1, 2))[0]
    np.testing.assert_array_equal(trainer.theta, theta)
    assert trainer.inspect_sample(0).features_in.shape == (4,)
    with pytest.raises(ValueError):
        trainer.inspect_sample(trainer.n_samples)


@pytest.mark.parametrize("hidden", [(3,), (4, 3)])
def test_gradient_is_the_step_a_full_batch_update_takes(hidden):
    """`Trainer.gradient` (one kernel call) is bit for bit the gradient full-batch SGD steps with, regularisers
    and features included, on data with a test set."""
    from engine.datasets import DataSpec, make_dataset

    data = make_dataset(DataSpec(name="moons", points=60))
    config = TrainConfig(hidden=hidden, activation="tanh", init="xavier", mode="batch", l2=0.01, l1=0.002,
                         features=("x1", "x2", "x1x2"), learning_rate=0.3)  # fmt: skip
    trainer = Trainer(config, data=data)
    trainer.run(5)
    before, gradient = trainer.params, trainer.gradient()
    trainer.run(1)
    for (W0, b0), (gW, gb), (W1, b1) in zip(before, gradient, trainer.params):
        np.testing.assert_array_equal(W1, W0 - config.learning_rate * gW)
        np.testing.assert_array_equal(b1, b0 - config.learning_rate * gb)
