"""`SampleTrace`: every quantity of one sample's forward pass, backward pass and update."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import TrainConfig
from .network import Params

FD_STEP = 1e-4  # with a fourth-order stencil: truncation ~1e-16, rounding ~1e-12
MAX_FD_PARAMS = 5000  # finite differences cost four forward passes per parameter
RELATIVE_FLOOR = 1e-8


@dataclass(frozen=True)
class SampleTrace:
    """One sample through the network, as the notebook writes it.

    index: the sample's row in the training points (None for another point). x: the raw point (x1, x2), (2,);
    features_in: the feature vector the network was fed, (len(config.features),). applied: the update was made
    (a sample step); otherwise it shows what the update would be. n_samples: samples in an epoch.
    epoch, samples_done: where training stood at the weights before the update (params_before): `epoch`
    epochs completed, then `samples_done` samples of epoch ``epoch + 1``; a sample step's sample is sample
    ``samples_done + 1`` of epoch ``epoch + 1``, and `after` is where it left training. next_up: an
    inspection of the sample the next sample step trains (its update is exactly that step's).
    z, a, delta: per layer after the input (hidden layers, then the output), each (units,).
    grads: per layer (∂W (out, in), ∂b (out, 1)) of `objective`: the gradient the update uses, the regularisers'
    λ2·W + λ1·sign(W) included.
    fd_grads: the same by central finite differences (None for networks over MAX_FD_PARAMS parameters).
    loss: the reported loss, (y - ŷ)² for mse; objective: what the update descends, ½(y - ŷ)² for mse,
    the cross-entropy for bce, plus the penalty (λ2/2)·Σw² + λ1·Σ|w| when the config regularises.
    """

    index: int | None
    x: np.ndarray
    y: float
    applied: bool
    n_samples: int
    config: TrainConfig
    params_before: Params
    params_after: Params
    z: list[np.ndarray]
    a: list[np.ndarray]
    delta: list[np.ndarray]
    grads: Params
    fd_grads: Params | None
    y_hat: float
    loss: float
    objective: float
    epoch: int = 0
    samples_done: int = 0
    next_up: bool = False
    features_in: np.ndarray | None = None

    @property
    def after(self) -> tuple[int, int]:
        """(epoch, samples_done) at the weights after the update (params_after), as a sample step leaves them:
        the sample's epoch completed when it was the epoch's last."""
        done = self.samples_done + 1
        return (self.epoch + 1, 0) if done == self.n_samples else (self.epoch, done)

    def relative_difference(self, layer: int, which: int) -> np.ndarray:
        """|backprop - finite difference| / max(|backprop|, |finite difference|, 1e-8), elementwise (the floor
        keeps gradients that are 0, such as a dead relu's, from dividing rounding noise by nothing)."""
        if self.fd_grads is None:
            raise ValueError("no finite differences for this network")
        g, f = self.grads[layer][which], self.fd_grads[layer][which]
        return np.abs(g - f) / np.maximum(np.maximum(np.abs(g), np.abs(f)), RELATIVE_FLOOR)
