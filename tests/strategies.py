"""Hypothesis strategies shared by the engine tests."""

from hypothesis import strategies as st

from engine import ACTIVATIONS, INITS, LOSSES, MODES, OPTIMIZERS, TrainConfig


@st.composite
def configs(draw, max_layers: int = 3, max_units: int = 5, optimizers=tuple(OPTIMIZERS)) -> TrainConfig:
    return TrainConfig(
        hidden=tuple(draw(st.lists(st.integers(1, max_units), min_size=0, max_size=max_layers))),
        activation=draw(st.sampled_from(ACTIVATIONS)),
        loss=draw(st.sampled_from(LOSSES)),
        learning_rate=draw(st.sampled_from([0.05, 0.1, 0.5, 1.0])),
        mode=draw(st.sampled_from(MODES)),
        batch_size=draw(st.integers(1, 5)),
        shuffle=draw(st.booleans()),
        init=draw(st.sampled_from(INITS)),
        seed=draw(st.integers(0, 2**32 - 1)),
        optimizer=draw(st.sampled_from(optimizers)),
    )
