"""TrainConfig validation: every bad value names the field, the value and what is allowed."""

import dataclasses

import numpy as np
import pytest

from engine import TrainConfig, Trainer, optimizers
from engine.config import MODES, OPTIMIZERS, ConfigError
from engine.datasets import DataSpec
from engine.fields import CONFIG_FIELDS, DATA_FIELDS, STRUCTURAL_FIELDS, Field, FieldError, bind_defaults


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
        ({"features": ("x1", "foo")}, "features", "names of x1, x2, x1sq"),
        ({"features": ()}, "features", "one or more different names"),
        ({"features": ("x1", "x1")}, "features", "one or more different names"),
        ({"features": "x1"}, "features", "sequence of feature names"),
        ({"l2": -0.1}, "l2", "a number from 0 to 10"),
        ({"l1": 11}, "l1", "a number from 0 to 10"),
        ({"l1": float("nan")}, "l1", "a number from 0 to 10"),
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


def test_every_field_is_described_once_with_its_dataclass_default():
    """engine/fields.py describes every TrainConfig and DataSpec field; the defaults are the dataclasses' own."""
    for cls, fields in ((TrainConfig, CONFIG_FIELDS), (DataSpec, DATA_FIELDS)):
        assert set(fields) == {f.name for f in dataclasses.fields(cls)}
        for name, field in fields.items():
            assert field.default == getattr(cls(), name)
            assert field.label and field.help and field.flag.startswith("--")
    flags = [f.flag for f in (*CONFIG_FIELDS.values(), *DATA_FIELDS.values())]
    assert len(set(flags)) == len(flags)
    assert STRUCTURAL_FIELDS == ("hidden", "activation", "init", "seed", "features")


def test_a_field_without_description_is_refused_at_once():
    @dataclasses.dataclass(frozen=True)
    class Grown:
        hidden: tuple[int, ...] = (2,)
        dropout: float = 0.0

    with pytest.raises(TypeError, match=r"no description of \['dropout'\]"):
        bind_defaults({"hidden": CONFIG_FIELDS["hidden"]}, Grown)


def test_field_rules_drive_validation():
    """A field's rule is the one TrainConfig applies: the same range, the same words."""
    rate = CONFIG_FIELDS["learning_rate"]
    assert rate.check(1) == 1.0 and type(rate.check(1)) is float
    with pytest.raises(FieldError) as info:
        rate.check(0.0)
    with pytest.raises(ConfigError) as config_info:
        TrainConfig(learning_rate=0.0)
    assert config_info.value.reason == f"0.0 is not allowed; {info.value.rule}"
    momentum = Field("x", "float", "X", "x", "training", low=0.0, high=1.0, high_open=True)
    assert momentum.rule == "it must be a number with 0 <= value < 1" and momentum.check(0.0) == 0.0
    assert CONFIG_FIELDS["features"].check(["x1x2", "x1"]) == ("x1", "x1x2")  # the registry's order
    assert DATA_FIELDS["points"].rule == "it must be an integer from 20 to 2000"


@pytest.fixture
def toy_optimizer():
    """An optimizer registered at run time: adam's kernel step without momentum of the mean (β1 = 0)."""
    adam = OPTIMIZERS["adam"]
    toy = optimizers.register_optimizer(
        optimizers.Optimizer("toyprop", adam.code, lambda c: (c.momentum, 0.0, c.beta2, c.eps), ("beta2", "eps"),
                             "adam with β1 = 0", "a toy")
    )  # fmt: skip
    yield toy
    del OPTIMIZERS["toyprop"]


def test_an_optimizer_registered_at_run_time_is_a_valid_choice_and_canonical_follows_its_uses(toy_optimizer):
    config = TrainConfig(optimizer="toyprop", momentum=0.5, beta1=0.5, beta2=0.99)
    assert CONFIG_FIELDS["optimizer"].choices()[-1] == "toyprop"
    assert config.canonical(4) == TrainConfig(optimizer="toyprop", beta2=0.99)  # momentum, beta1 unused: defaults
    assert TrainConfig(optimizer="adam", beta1=0.5).canonical(4).beta1 == 0.5


def test_the_config_registry_is_the_optimizer_registry():
    assert OPTIMIZERS is optimizers.OPTIMIZERS and list(OPTIMIZERS)[:3] == ["sgd", "momentum", "adam"]
    assert not hasattr(TrainConfig, "effective_batch_size")
