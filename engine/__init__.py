"""Backprop Lab's training engine: NumPy and Numba only, no Qt.

`TrainConfig` holds a run's settings, `Trainer` trains chunks of epochs with jitted kernels.
"""

from .config import ACTIVATIONS, INITS, LOSSES, MODES, OPTIMIZERS, TrainConfig
from .datasets import XOR_INPUTS, XOR_TARGETS
from .history import History
from .network import Layout, Params
from .trainer import METRIC_COLUMNS, Chunk, Trainer, TrainerState, decision_grid, warm_up

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "LOSSES",
    "METRIC_COLUMNS",
    "MODES",
    "OPTIMIZERS",
    "XOR_INPUTS",
    "XOR_TARGETS",
    "Chunk",
    "History",
    "Layout",
    "Params",
    "TrainConfig",
    "Trainer",
    "TrainerState",
    "decision_grid",
    "warm_up",
]
