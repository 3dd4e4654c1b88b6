"""One description of every setting: each `TrainConfig` field and each `DataSpec` field, written once.

A `Field` (`engine.field_rules`) says what a setting is (its kind, range or choices, help text, the window's label,
the command line's flag, whether changing it restarts training). Everything else is generated from it: the
dataclasses' validation (`check_fields`), the command line's options and `python main.py datasets` (main.py), the
text rule of the command line and the window (`engine.parsing.parse_field`) and the window's form (gui/controls.py).
`CONFIG_FIELDS` describes `TrainConfig`'s fields here; `DATA_FIELDS` describes `DataSpec`'s beside it in
`engine.datasets` (which validates with them and cannot import this module: it is imported here). A new setting
is a dataclass field plus its `Field`; `bind_defaults` refuses a dataclass field that has no description, so none
is forgotten.

Defaults are not written here: they are the dataclasses' own, copied into `Field.default` by `bind_defaults`
(engine.config binds `TrainConfig`'s, engine.datasets `DataSpec`'s). Choices that come from a registry (optimizers,
datasets) are read when asked, so an entry registered at run time is accepted everywhere.
"""

from __future__ import annotations

from .datasets import DATA_FIELDS, dataset_names
from .features import FEATURES
from .field_rules import (
    BOOL,
    CHOICE,
    DATA,
    FLOAT,
    INT,
    MAX_HIDDEN_LAYERS,
    MAX_SEED,
    MAX_UNITS,
    NAMES,
    NETWORK,
    NO_HIDDEN_LAYER,
    PATH,
    SIZES,
    TRAINING,
    Field,
    FieldError,
    bind_defaults,
    check_fields,
    fixed,
    stored_values,
)
from .optimizers import OPTIMIZERS

__all__ = [
    "ACTIVATIONS", "BOOL", "CHOICE", "CONFIG_FIELDS", "DATA", "DATA_FIELDS", "FLOAT", "INITS", "INT", "LOSSES",
    "MAX_BATCH_SIZE", "MAX_HIDDEN_LAYERS", "MAX_REGULARISATION", "MAX_SEED", "MAX_UNITS", "MODES", "NAMES", "NETWORK",
    "NO_HIDDEN_LAYER", "PATH", "SIZES", "STRUCTURAL_FIELDS", "TRAINING", "Field", "FieldError", "bind_defaults",
    "check_fields", "dataset_names", "optimizer_names", "stored_values",
]  # fmt: skip

MAX_BATCH_SIZE = 1 << 20
MAX_REGULARISATION = 10.0  # λ for L1 and L2; beyond this the penalty swamps any loss

ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("mse", "bce")
MODES = ("sgd", "minibatch", "batch")
INITS = ("notebook", "xavier", "he")


def optimizer_names() -> tuple[str, ...]:
    return tuple(OPTIMIZERS)


# The window shows each section's fields in this order; the command line's --help too.
# fmt: off
CONFIG_FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("hidden", SIZES, "Hidden layers", "hidden layer sizes, input side first, e.g. 2 or 4,3; none: no hidden layer; "
          f"up to {MAX_HIDDEN_LAYERS} layers of 1 to {MAX_UNITS} units", NETWORK, structural=True, metavar="SIZES"),
    Field("activation", CHOICE, "Activation", "hidden-layer activation; the output unit is always a sigmoid", NETWORK,
          choices=fixed(ACTIVATIONS), structural=True),
    Field("init", CHOICE, "Initialisation", "initial weights: notebook = uniform [0, 1) from np.random.seed(seed); xavier; he",
          NETWORK, choices=fixed(INITS), structural=True),
    Field("seed", INT, "Seed", "seed of the initial weights and of the shuffle order", NETWORK, low=0, high=MAX_SEED,
          structural=True),
    Field("features", NAMES, "Features", "the network's inputs, computed from each point (x1, x2), e.g. x1,x2,x1x2; "
          "x1sq is x1², x1x2 is x1·x2, sinx1 is sin x1", DATA, structural=True, metavar="NAMES",
          choices=lambda: tuple(FEATURES)),
    Field("learning_rate", FLOAT, "Learning rate", "step size", TRAINING, low=0.0, low_open=True, aliases=("--lr",),
          metavar="LR", log=True),
    Field("loss", CHOICE, "Loss", "mse: mean (y − ŷ)², updated by the gradient of ½(y − ŷ)²; bce: cross-entropy", TRAINING,
          choices=fixed(LOSSES)),
    Field("optimizer", CHOICE, "Optimizer", "update rule: sgd (the notebook's), momentum or adam", TRAINING,
          choices=optimizer_names),
    Field("momentum", FLOAT, "Momentum μ", "momentum's coefficient", TRAINING, low=0.0, high=1.0, high_open=True,
          step=0.01, decimals=6),
    Field("beta1", FLOAT, "Adam β1", "Adam's decay of the gradient's mean", TRAINING, low=0.0, high=1.0, high_open=True,
          step=0.01, decimals=6),
    Field("beta2", FLOAT, "Adam β2", "Adam's decay of the gradient's square", TRAINING, low=0.0, high=1.0, high_open=True,
          step=0.001, decimals=6),
    Field("eps", FLOAT, "Adam ε", "Adam's term that keeps the step finite", TRAINING, low=0.0, low_open=True, log=True),
    Field("mode", CHOICE, "Mode", "sgd: update after every sample; minibatch: after 'batch size' samples; batch: once per "
          "epoch", TRAINING, choices=fixed(MODES)),
    Field("batch_size", INT, "Batch size", "samples per update in minibatch mode", TRAINING, low=1, high=MAX_BATCH_SIZE,
          metavar="B"),
    Field("shuffle", BOOL, "Shuffle each epoch", "visit the samples in a new seeded order every epoch (sgd and minibatch)",
          TRAINING),
    Field("l2", FLOAT, "L2 λ", "L2 regularisation rate on the weights (not the biases): adds (λ/2)·Σw² to the objective; "
          "0 turns it off", TRAINING, low=0.0, high=MAX_REGULARISATION, metavar="λ", log=True),
    Field("l1", FLOAT, "L1 λ", "L1 regularisation rate on the weights (not the biases): adds λ·Σ|w| to the objective; "
          "0 turns it off", TRAINING, low=0.0, high=MAX_REGULARISATION, metavar="λ", log=True),
)}
# fmt: on

STRUCTURAL_FIELDS = tuple(name for name, f in CONFIG_FIELDS.items() if f.structural)
