"""`TrainConfig`: every setting of a training run, validated on construction by the rules of `engine.fields`.

The defaults are the reference notebook's: a 2-2-1 sigmoid network, mean squared error, per-sample
SGD with learning rate 0.1, weights from ``np.random.seed(42); np.random.rand(...)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .features import DEFAULT_FEATURES
from .fields import (
    ACTIVATIONS,
    CONFIG_FIELDS,
    INITS,
    LOSSES,
    MAX_BATCH_SIZE,
    MAX_HIDDEN_LAYERS,
    MAX_REGULARISATION,
    MAX_SEED,
    MAX_UNITS,
    MODES,
    STRUCTURAL_FIELDS,
    bind_defaults,
    check_fields,
    stored_values,
)
from .optimizers import OPTIMIZERS

__all__ = [
    "ACTIVATIONS", "CONFIG_FIELDS", "INITS", "LOSSES", "MAX_BATCH_SIZE", "MAX_HIDDEN_LAYERS", "MAX_REGULARISATION",
    "MAX_SEED", "MAX_UNITS", "MODES", "OPTIMIZERS", "STRUCTURAL_FIELDS", "ConfigError", "TrainConfig",
]  # fmt: skip


class ConfigError(ValueError):
    """A value `TrainConfig` refuses. `field`: the field's name ("learning_rate"); `reason`: the value and the rule
    ("-1.0 is not allowed; it must be a finite number > 0"). The message is "TrainConfig.FIELD: REASON"; a caller that
    knows the field by another name (an option, a form's label) writes that name before `reason` itself."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"TrainConfig.{field}: {reason}")
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one run. Bad values raise `ConfigError` naming the field, the value and what is allowed.

    hidden: sizes of the hidden layers, input side first (``()`` is logistic regression).
    activation: hidden-layer activation, one of `ACTIVATIONS`; the output unit is always a sigmoid.
    loss: ``"mse"`` (reported as mean (y - ŷ)², update from ½(y - ŷ)²) or ``"bce"`` (cross-entropy).
    learning_rate: step size, a finite float > 0.
    mode: ``"sgd"`` (one sample per update), ``"minibatch"`` (`batch_size` samples) or ``"batch"``.
    batch_size: samples per update in minibatch mode (the last batch of an epoch may be smaller).
    shuffle: visit the samples in a new seeded order each epoch (sgd and minibatch; no effect in batch).
    init: ``"notebook"`` (uniform [0, 1) from ``np.random.seed(seed)``), ``"xavier"`` or ``"he"``.
    seed: seeds the initial weights and the shuffle order, 0 <= seed < 2**32.
    optimizer: a name of `engine.optimizers.OPTIMIZERS`: ``"sgd"`` (the notebook's rule), ``"momentum"``, ``"adam"``...
    momentum, beta1, beta2, eps: optimizer coefficients (PyTorch's names and defaults).
    features: the network's inputs, names from `engine.features.FEATURES`, kept in the registry's order.
    l2, l1: regularisation rates λ >= 0 on the weights (not the biases); 0 turns each off.
    """

    hidden: tuple[int, ...] = (2,)
    activation: str = "sigmoid"
    loss: str = "mse"
    learning_rate: float = 0.1
    mode: str = "sgd"
    batch_size: int = 4
    shuffle: bool = False
    init: str = "notebook"
    seed: int = 42
    optimizer: str = "sgd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    features: tuple[str, ...] = DEFAULT_FEATURES
    l2: float = 0.0
    l1: float = 0.0

    def __post_init__(self) -> None:
        check_fields(self, CONFIG_FIELDS, ConfigError)  # the rules: engine/fields.py

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Units per layer from input to output: ``(len(features), *hidden, 1)``."""
        return (len(self.features), *self.hidden, 1)

    def batch_size_for(self, n_samples: int) -> int:
        """Samples per update for a dataset of `n_samples` samples: 1 (sgd), `batch_size` or all."""
        if self.mode == "sgd":
            return 1
        if self.mode == "batch":
            return n_samples
        return min(self.batch_size, n_samples)

    def canonical(self, n_samples: int) -> TrainConfig:
        """The simplest config that trains exactly as this one on a dataset of `n_samples` samples: two configs with
        equal canonical forms give bit-identical runs.

        Only the samples per update (`batch_size_for`) and the visiting order matter: one sample per update is mode
        sgd; all samples in dataset order is mode batch; anything else is a mini-batch of `batch_size_for` samples.
        A shuffled mini-batch of all samples stays a mini-batch: its gradient is summed in another order, which can
        differ in the last bits. Settings that the mode or the optimizer ignore take their defaults: batch size
        outside mini-batch, shuffle in full batch, and every optimizer coefficient that this config's optimizer does
        not use (`Optimizer.uses`: momentum's momentum, adam's beta1, beta2 and eps).
        """
        size = self.batch_size_for(n_samples)
        shuffled = self.shuffle and self.mode != "batch"
        mode = "sgd" if size == 1 else "batch" if size == n_samples and not shuffled else "minibatch"
        default = TrainConfig()
        changes: dict[str, Any] = {
            "mode": mode,
            "batch_size": size if mode == "minibatch" else default.batch_size,
            "shuffle": shuffled,
        }
        used = OPTIMIZERS[self.optimizer].uses
        for name in {name for optimizer in OPTIMIZERS.values() for name in optimizer.uses} - set(used):
            changes[name] = getattr(default, name)
        return self.replace(**changes)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with `changes` applied and validated."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of every field (``hidden`` as a list)."""
        data = dataclasses.asdict(self)
        data["hidden"] = list(self.hidden)
        data["features"] = list(self.features)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> TrainConfig:
        """Inverse of `to_dict`; missing fields take their defaults, unknown ones raise `ValueError`."""
        values = stored_values(cls, data, ValueError)
        if isinstance(values.get("hidden"), list):
            values["hidden"] = tuple(values["hidden"])
        if isinstance(values.get("features"), list):
            values["features"] = tuple(values["features"])
        return cls(**values)

    def structural_change(self, other: TrainConfig) -> list[str]:
        """The `STRUCTURAL_FIELDS` whose values differ between `self` and `other`."""
        return [f for f in STRUCTURAL_FIELDS if getattr(self, f) != getattr(other, f)]


bind_defaults(CONFIG_FIELDS, TrainConfig)
