"""TrainConfig validation: every bad value names the field, the value and what is allowed."""

import dataclasses

import numpy as np
import pytest

from engine import TrainConfig


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
