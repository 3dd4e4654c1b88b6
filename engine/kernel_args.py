"""The one translation of a `TrainConfig` into the kernels' arguments.

Every kernel call (training, sample steps, inspection, gradients, sweeps) passes a config through `encode`;
the kernels take the fields of `KernelSettings` in this order, so a call site writes ``*encode(config, n)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .codes import ACTIVATION_CODES, LOSS_CODES
from .optimizers import OPTIMIZERS


class KernelSettings(NamedTuple):
    """activation, loss, optimizer: codes of `engine.codes`. batch_size: samples per update for the data's
    training points. coef: the optimizer's (momentum, beta1, beta2, eps), float64 (4,). l2, l1: the rates λ of
    the regularisers on the weights (0.0 turns each off)."""

    activation: int
    loss: int
    batch_size: int
    learning_rate: float
    optimizer: int
    coef: np.ndarray
    l2: float
    l1: float


def encode(config, n_samples: int) -> KernelSettings:
    """`config`'s settings as the kernels take them, for a training set of `n_samples` points."""
    optimizer = OPTIMIZERS[config.optimizer]
    coef = np.array(optimizer.coefficients(config), dtype=np.float64)
    if coef.shape != (4,):
        raise ValueError(f"optimizer {optimizer.name!r}: coefficients must be 4 numbers, got {coef.shape}")
    return KernelSettings(
        activation=ACTIVATION_CODES[config.activation],
        loss=LOSS_CODES[config.loss],
        batch_size=int(config.batch_size_for(n_samples)),
        learning_rate=float(config.learning_rate),
        optimizer=int(optimizer.code),
        coef=coef,
        l2=float(config.l2),
        l1=float(config.l1),
    )
