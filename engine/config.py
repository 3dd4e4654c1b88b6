"""`TrainConfig`: every setting of a training run, validated on construction.

The defaults are the reference notebook's: a 2-2-1 sigmoid network, mean squared error, per-sample
SGD with learning rate 0.1, weights from ``np.random.seed(42); np.random.rand(...)``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

from .features import DEFAULT_FEATURES, FEATURES

ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("mse", "bce")
MODES = ("sgd", "minibatch", "batch")
INITS = ("notebook", "xavier", "he")
OPTIMIZERS = ("sgd", "momentum", "adam")

MAX_HIDDEN_LAYERS = 8
MAX_UNITS = 1024
MAX_BATCH_SIZE = 1 << 20
MAX_SEED = 2**32 - 1  # np.random.seed accepts 0 .. 2**32 - 1
MAX_REGULARISATION = 10.0  # λ for L1 and L2; beyond this the penalty swamps any loss

# Fields that define the network function or its starting point: changing one restarts training.
STRUCTURAL_FIELDS = ("features", "hidden", "activation", "init", "seed")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class ConfigError(ValueError):
    """A value `TrainConfig` refuses. `field`: the field's name ("learning_rate"); `reason`: the value and the rule
    ("-1.0 is not allowed; it must be a finite number > 0"). The message is "TrainConfig.FIELD: REASON"; a caller that
    knows the field by another name (an option, a form's label) writes that name before `reason` itself."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"TrainConfig.{field}: {reason}")
        self.field, self.reason = field, reason


def _fail(field: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(field, f"{value!r} is not allowed; {allowed}")


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
    optimizer: ``"sgd"`` (the notebook's rule), ``"momentum"`` or ``"adam"``.
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
        hidden = self.hidden
        if _is_int(hidden):
            hidden = (hidden,)
        if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
            raise _fail("hidden", self.hidden, "give a sequence of layer sizes such as (2,) or (4, 3)")
        hidden = tuple(hidden)
        if len(hidden) > MAX_HIDDEN_LAYERS:
            raise _fail("hidden", self.hidden, f"at most {MAX_HIDDEN_LAYERS} hidden layers")
        for size in hidden:
            if not _is_int(size) or not 1 <= size <= MAX_UNITS:
                raise _fail("hidden", self.hidden, f"each layer size is an integer from 1 to {MAX_UNITS}")
        object.__setattr__(self, "hidden", tuple(int(size) for size in hidden))

        for field, allowed in (
            ("activation", ACTIVATIONS),
            ("loss", LOSSES),
            ("mode", MODES),
            ("init", INITS),
            ("optimizer", OPTIMIZERS),
        ):
            value = getattr(self, field)
            if not isinstance(value, str) or value not in allowed:
                raise _fail(field, value, "choose one of " + ", ".join(repr(a) for a in allowed))

        if not _is_real(self.learning_rate) or not math.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise _fail("learning_rate", self.learning_rate, "it must be a finite number > 0")
        object.__setattr__(self, "learning_rate", float(self.learning_rate))

        if not _is_int(self.batch_size) or not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise _fail("batch_size", self.batch_size, f"it must be an integer from 1 to {MAX_BATCH_SIZE}")
        object.__setattr__(self, "batch_size", int(self.batch_size))

        if not isinstance(self.shuffle, bool):
            raise _fail("shuffle", self.shuffle, "it must be True or False")

        if not _is_int(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise _fail("seed", self.seed, f"it must be an integer from 0 to {MAX_SEED}")
        object.__setattr__(self, "seed", int(self.seed))

        for field in ("momentum", "beta1", "beta2"):
            value = getattr(self, field)
            if not _is_real(value) or not 0.0 <= value < 1.0:
                raise _fail(field, value, "it must be a number with 0 <= value < 1")
            object.__setattr__(self, field, float(value))
        if not _is_real(self.eps) or not math.isfinite(self.eps) or self.eps <= 0:
            raise _fail("eps", self.eps, "it must be a finite number > 0")
        object.__setattr__(self, "eps", float(self.eps))

        features = self.features
        if isinstance(features, str) or not hasattr(features, "__iter__"):
            raise _fail("features", features, "give a sequence of feature names such as ('x1', 'x2')")
        features = tuple(features)
        unknown = any(not isinstance(f, str) or f not in FEATURES for f in features)
        if not features or unknown or len(set(features)) != len(features):
            raise _fail("features", self.features, "give one or more different names of " + ", ".join(FEATURES))
        object.__setattr__(self, "features", tuple(f for f in FEATURES if f in features))

        for field in ("l2", "l1"):
            value = getattr(self, field)
            if not _is_real(value) or not 0.0 <= value <= MAX_REGULARISATION:
                raise _fail(field, value, f"it must be a number from 0 to {MAX_REGULARISATION:g}")
            object.__setattr__(self, field, float(value))

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Units per layer from input to output: ``(len(features), *hidden, 1)``."""
        return (len(self.features), *self.hidden, 1)

    @property
    def effective_batch_size(self) -> int:
        """Samples per update for a dataset of 4 samples in this config's mode (see `batch_size_for`)."""
        return self.batch_size_for(4)

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
        outside mini-batch, shuffle in full batch, momentum outside momentum, beta1, beta2 and eps outside adam.
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
        if self.optimizer != "momentum":
            changes["momentum"] = default.momentum
        if self.optimizer != "adam":
            changes.update(beta1=default.beta1, beta2=default.beta2, eps=default.eps)
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
        if not isinstance(data, dict):
            raise ValueError(f"a TrainConfig is stored as a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise ValueError("unknown TrainConfig field(s): " + ", ".join(unknown))
        values = dict(data)
        if isinstance(values.get("hidden"), list):
            values["hidden"] = tuple(values["hidden"])
        if isinstance(values.get("features"), list):
            values["features"] = tuple(values["features"])
        return cls(**values)

    def structural_change(self, other: TrainConfig) -> list[str]:
        """The `STRUCTURAL_FIELDS` whose values differ between `self` and `other`."""
        return [f for f in STRUCTURAL_FIELDS if getattr(self, f) != getattr(other, f)]
