"""TrainConfig validation: every bad value names the field, the value and what is allowed."""

import dataclasses

import numpy as np
import pytest

from engine import TrainConfig, Trainer
from engine.config import MODES, OPTIMIZERS, ConfigError


@pytest.mark.parametrize(
    ("changes", "field", "hint"),
    [
        ({"hidden": (0,)}, "hidden", "1 to 1024"),
        ({"hidden": (2, -1)}, "hidden", "1 to 1024"),
        ({"hidden": (2.5,)}, "hidden", "integer"),
        ({"hidden": (True,)}, "hidden", "integer"),
        ({"hidden": "2,3"}, "hidden", "sequence"),
        ({"hidden": (2,) * 9}, "hidden", "at most 8"),
        ({"hidden": (5000,)}, "hidden", "1 to 1024"),
        ({"activation": "softmax"}, "activation", "'sigmoid', 'tanh', 'relu'"),
        ({"loss": "hinge"}, "loss", "'mse', 'bce'"),
        ({"mode": "online"}, "mode", "'sgd', 'minibatch', 'batch'"),
        ({"init": "zeros"}, "init", "'notebook', 'xavier', 'he'"),
        ({"optimizer": "rmsprop"}, "optimizer", "'sgd', 'momentum', 'adam'"),
        ({"learning_rate": 0}, "learning_rate", "finite number > 0"),
        ({"learning_rate": -0.1}, "learning_rate", "finite number > 0"),
        ({"learning_rate": float("nan")}, "learning_rate", "finite number > 0"),
        ({"learning_rate": float("inf")}, "learning_rate", "finite number > 0"),
        ({"learning_rate": "0.1"}, "learning_rate", "finite number > 0"),
        ({"batch_size": 0}, "batch_size", "integer from 1"),
        ({"batch_size": 2.0}, "batch_size", "integer from 1"),
        ({"shuffle": 1}, "shuffle", "True or False"),
        ({"seed": -1}, "seed", "0 to 4294967295"),
        ({"seed": 2**32}, "seed", "0 to 4294967295"),
        ({"momentum": 1.0}, "momentum", "0 <= value < 1"),
        ({"beta2": -0.1}, "beta2", "0 <= value < 1"),
        ({"eps": 0.0}, "eps", "finite number > 0"),
    ],
)
def test_bad_values_are_named(changes, field, hint):
    with pytest.raises(ValueError) as info:
        TrainConfig(**changes)
    message = str(info.value)
    assert f"TrainConfig.{field}" in message and repr(next(iter(changes.values()))) in message and hint in message
    # callers name the field in their own words (an option, a form's label) from the error's parts
    assert isinstance(info.value, ConfigError) and info.value.field == field
    assert message == f"TrainConfig.{field}: {info.value.reason}" and info.value.reason.startswith(repr(changes[field]))


def test_normalised_types():
    cfg = TrainConfig(hidden=[np.int64(4), 3], learning_rate=1, seed=np.uint32(7), batch_size=np.int32(2))
    assert cfg.hidden == (4, 3) and type(cfg.hidden[0]) is int
    assert type(cfg.learning_rate) is float and type(cfg.seed) is int and type(cfg.batch_size) is int
    assert TrainConfig(hidden=3).hidden == (3,)
    assert TrainConfig(hidden=()).layer_sizes == (2, 1)


def test_frozen_and_replace_validates():
    cfg = TrainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.learning_rate = 1.0  # type: ignore[misc]
    assert cfg.replace(learning_rate=0.5).learning_rate == 0.5
    with pytest.raises(ValueError, match="learning_rate"):
        cfg.replace(learning_rate=-1)


def test_dict_round_trip_and_unknown_fields():
    cfg = TrainConfig(hidden=(4, 3), activation="tanh", optimizer="adam", shuffle=True)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig.from_dict({}) == TrainConfig()
    with pytest.raises(ValueError, match="unknown TrainConfig field"):
        TrainConfig.from_dict({"learning_rat": 0.1})
    with pytest.raises(ValueError, match="JSON object"):
        TrainConfig.from_dict([1, 2])


def test_batch_size_per_mode():
    assert TrainConfig(mode="sgd", batch_size=3).batch_size_for(4) == 1
    assert TrainConfig(mode="minibatch", batch_size=3).batch_size_for(4) == 3
    assert TrainConfig(mode="minibatch", batch_size=30).batch_size_for(4) == 4
    assert TrainConfig(mode="batch", batch_size=3).batch_size_for(4) == 4


def test_canonical_forms():
    assert TrainConfig(mode="minibatch", batch_size=1, shuffle=True).canonical(4) == TrainConfig(shuffle=True)
    assert TrainConfig(mode="minibatch", batch_size=9).canonical(4) == TrainConfig(mode="batch")
    assert TrainConfig(mode="minibatch", batch_size=9, shuffle=True).canonical(4) == TrainConfig(
        mode="minibatch", batch_size=4, shuffle=True
    )
    assert TrainConfig(mode="minibatch", batch_size=9).canonical(11) == TrainConfig(mode="minibatch", batch_size=9)
    assert TrainConfig(mode="batch", batch_size=2, shuffle=True).canonical(4) == TrainConfig(mode="batch")
    ignored = TrainConfig(mode="sgd", batch_size=3, momentum=0.5, beta1=0.5, beta2=0.5, eps=0.5)
    assert ignored.canonical(4) == TrainConfig()
    adam = TrainConfig(optimizer="adam", momentum=0.5, beta1=0.5)
    assert adam.canonical(4) == TrainConfig(optimizer="adam", beta1=0.5)
    momentum = TrainConfig(optimizer="momentum", momentum=0.5, eps=0.5)
    assert momentum.canonical(4) == TrainConfig(optimizer="momentum", momentum=0.5)


CANONICAL_GRID = [
    TrainConfig(hidden=hidden, mode=mode, batch_size=batch_size, shuffle=shuffle, optimizer=optimizer, momentum=momentum,
                beta1=momentum, learning_rate=0.5, init="xavier", seed=5)
    for hidden in ((2,), (3, 2))
    for mode in MODES
    for batch_size in (1, 2, 3, 4, 9)
    for shuffle in (False, True)
    for optimizer in OPTIMIZERS
    for momentum in (0.9, 0.5)
]  # fmt: skip


def test_configs_with_one_canonical_form_train_bit_identically():
    """Every config of a grid over mode, batch size, shuffle, optimizer and coefficients trains, bit for bit, as
    its canonical form does, and so as every other config with that form (one and several hidden layers)."""
    runs: dict[TrainConfig, tuple] = {}
    for config in CANONICAL_GRID:
        key = config.canonical(4)
        assert key.canonical(4) == key
        if key not in runs:
            trainer = Trainer(key)
            chunk = trainer.run(500)
            runs[key] = (chunk.loss, chunk.predictions, trainer.theta)
        trainer = Trainer(config)
        chunk = trainer.run(500)
        for got, want in zip((chunk.loss, chunk.predictions, trainer.theta), runs[key]):
            np.testing.assert_array_equal(got, want, err_msg=f"{config} and {key}")
    assert len(runs) < len(CANONICAL_GRID) // 3


def test_a_shuffled_minibatch_of_all_samples_is_not_full_batch():
    """Why `canonical` keeps it a mini-batch: the batch's gradient is summed in the shuffled order, which differs in
    the last bits (so the two are not duplicate runs), though not more."""
    shuffled = Trainer(TrainConfig(mode="minibatch", batch_size=4, shuffle=True)).run(500).loss
    batch = Trainer(TrainConfig(mode="batch")).run(500).loss
    assert not np.array_equal(shuffled, batch)
    np.testing.assert_allclose(shuffled, batch, rtol=1e-12)
