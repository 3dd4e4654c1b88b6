"""One description of every setting: each `TrainConfig` field and each `DataSpec` field, written once.

A `Field` says what a setting is (its kind, range or choices, help text, the window's label, the command line's
flag, whether changing it restarts training). Everything else is generated from it: `TrainConfig`'s validation
(`check`), the command line's options (main.py), the text rule of the command line and the window
(`engine.parsing.parse_field`) and the window's form (gui/controls.py). A new setting is a dataclass field plus
its `Field` here; `bind_defaults` refuses a dataclass field that has no description, so none is forgotten.

Defaults are not written here: they are the dataclasses' own, copied into `Field.default` by `bind_defaults`
(engine.config binds `TrainConfig`'s, this module binds `DataSpec`'s). Choices that come from a registry
(optimizers, datasets) are read when asked, so an entry registered at run time is accepted everywhere.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import datasets
from .datasets import DATASETS, DataSpec
from .features import FEATURES
from .optimizers import OPTIMIZERS

# kinds of field
INT, FLOAT, CHOICE, BOOL, SIZES, NAMES, PATH = "int", "float", "choice", "bool", "sizes", "names", "path"

MAX_HIDDEN_LAYERS = 8
MAX_UNITS = 1024
MAX_BATCH_SIZE = 1 << 20
MAX_SEED = 2**32 - 1  # np.random.seed accepts 0 .. 2**32 - 1
MAX_REGULARISATION = 10.0  # λ for L1 and L2; beyond this the penalty swamps any loss

ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("mse", "bce")
MODES = ("sgd", "minibatch", "batch")
INITS = ("notebook", "xavier", "he")

NETWORK, TRAINING, DATA = "network", "training", "data"  # the window's sections


class FieldError(ValueError):
    """A value a field refuses; `rule` says what is allowed ("it must be a finite number > 0"). Callers write the
    value first, as typed or as given: "'-1' is not allowed; it must be a finite number > 0"."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(eq=False)
class Field:
    """One setting.

    name: the dataclass field. kind: `INT`, `FLOAT` (a finite number), `CHOICE` (a name from `choices()`), `BOOL`,
    `SIZES` (hidden layer sizes), `NAMES` (feature names) or `PATH`. low, high: the range of INT and FLOAT, with
    `low_open`/`high_open` excluding the end (None: no bound). label: the window's. help: one phrase for the
    tooltip and --help. section: the window's group (`NETWORK`, `TRAINING`, `DATA`). structural: changing it
    restarts training (it defines the network function or its starting point). flag: the command-line option
    ("--learning-rate"), aliases: more spellings ("--lr"), metavar: its value's name in --help. log: the window
    steps it 1-2-5 over decades. percent: the window shows it times 100. step, decimals: the window's spin box.
    default: the dataclass's, set by `bind_defaults`.
    """

    name: str
    kind: str
    label: str
    help: str
    section: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: Callable[[], tuple[str, ...]] | None = None
    structural: bool = False
    flag: str = ""
    aliases: tuple[str, ...] = ()
    metavar: str | None = None
    log: bool = False
    percent: bool = False
    step: float = 1.0
    decimals: int = 3
    default: Any = None

    def __post_init__(self) -> None:
        self.flag = self.flag or "--" + self.name.replace("_", "-")

    @property
    def dest(self) -> str:
        """The option's attribute on argparse's namespace: the flag's words ("--data-seed" -> data_seed)."""
        return self.flag.removeprefix("--").replace("-", "_")

    @property
    def rule(self) -> str:
        """What is allowed, for messages: "it must be an integer from 1 to 1048576"."""
        if self.kind == INT:
            return f"it must be an integer from {self.low} to {self.high}"
        if self.kind == FLOAT:
            return "it must be " + self.number_rule()
        if self.kind == CHOICE:
            return "choose one of " + ", ".join(repr(c) for c in self.choices())
        if self.kind == BOOL:
            return "it must be True or False"
        if self.kind == SIZES:
            return f"each layer size is an integer from 1 to {MAX_UNITS}"
        if self.kind == NAMES:
            return "give one or more different names of " + ", ".join(FEATURES)
        return "give a file name"

    def number_rule(self) -> str:
        """A FLOAT's range: "a finite number > 0", "a number from 0 to 10", "a number with 0 <= value < 1"."""
        low = f"{self.low:g}"
        if self.high is None:
            return f"a finite number {'>' if self.low_open else '>='} {low}"
        if not (self.low_open or self.high_open):
            return f"a number from {low} to {self.high:g}"
        return f"a number with {low} {'<' if self.low_open else '<='} value {'<' if self.high_open else '<='} {self.high:g}"

    def range_text(self) -> str:
        """The range or choices in a few words, for --help and `python main.py datasets`: "20 to 2000", "> 0"."""
        if self.kind == INT:
            return f"{self.low} to {self.high}"
        if self.kind == FLOAT:
            if self.high is None:
                return f"{'>' if self.low_open else '>='} {self.low:g}"
            return f"{self.low:g} to {'below ' if self.high_open else ''}{self.high:g}"
        if self.kind in (CHOICE, NAMES):
            return ", ".join(self.choices() if self.kind == CHOICE else FEATURES)
        return ""

    def check(self, value: Any) -> Any:
        """`value` normalised (an int as int, a number as float, sizes as a tuple, feature names in the registry's
        order), or `FieldError` with the rule it breaks."""
        kind = self.kind
        if kind == INT:
            if not _is_int(value) or not self.low <= value <= self.high:
                raise FieldError(self.rule)
            return int(value)
        if kind == FLOAT:
            if not _is_real(value) or not math.isfinite(value) or not self._in_range(value):
                raise FieldError(self.rule)
            return float(value)
        if kind == CHOICE:
            if not isinstance(value, str) or value not in self.choices():
                raise FieldError(self.rule)
            return value
        if kind == BOOL:
            if not isinstance(value, bool):
                raise FieldError(self.rule)
            return value
        if kind == SIZES:
            return _check_sizes(value)
        if kind == NAMES:
            return _check_features(value)
        if not isinstance(value, str):
            raise FieldError(self.rule)
        return value

    def _in_range(self, value: float) -> bool:
        low, high = self.low, self.high
        above = low is None or (value > low if self.low_open else value >= low)
        below = high is None or (value < high if self.high_open else value <= high)
        return above and below


def _check_sizes(value: Any) -> tuple[int, ...]:
    if _is_int(value):
        value = (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise FieldError("give a sequence of layer sizes such as (2,) or (4, 3)")
    sizes = tuple(value)
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise FieldError(f"at most {MAX_HIDDEN_LAYERS} hidden layers")
    if not all(_is_int(size) and 1 <= size <= MAX_UNITS for size in sizes):
        raise FieldError(f"each layer size is an integer from 1 to {MAX_UNITS}")
    return tuple(int(size) for size in sizes)


def _check_features(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise FieldError("give a sequence of feature names such as ('x1', 'x2')")
    names = tuple(value)
    unknown = any(not isinstance(name, str) or name not in FEATURES for name in names)
    if not names or unknown or len(set(names)) != len(names):
        raise FieldError("give one or more different names of " + ", ".join(FEATURES))
    return tuple(name for name in FEATURES if name in names)


def optimizer_names() -> tuple[str, ...]:
    return tuple(OPTIMIZERS)


def dataset_names() -> tuple[str, ...]:
    return tuple(DATASETS)


def _fixed(names: tuple[str, ...]) -> Callable[[], tuple[str, ...]]:
    return lambda: names


# The window shows each section's fields in this order; the command line's --help too.
# fmt: off
CONFIG_FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("hidden", SIZES, "Hidden layers", "hidden layer sizes, input side first, e.g. 2 or 4,3; none: no hidden layer; "
          f"up to {MAX_HIDDEN_LAYERS} layers of 1 to {MAX_UNITS} units", NETWORK, structural=True, metavar="SIZES"),
    Field("activation", CHOICE, "Activation", "hidden-layer activation; the output unit is always a sigmoid", NETWORK,
          choices=_fixed(ACTIVATIONS), structural=True),
    Field("init", CHOICE, "Initialisation", "initial weights: notebook = uniform [0, 1) from np.random.seed(seed); xavier; he",
          NETWORK, choices=_fixed(INITS), structural=True),
    Field("seed", INT, "Seed", "seed of the initial weights and of the shuffle order", NETWORK, low=0, high=MAX_SEED,
          structural=True),
    Field("features", NAMES, "Features", "the network's inputs, computed from each point (x1, x2), e.g. x1,x2,x1x2; "
          "x1sq is x1², x1x2 is x1·x2, sinx1 is sin x1", DATA, structural=True, metavar="NAMES",
          choices=lambda: tuple(FEATURES)),
    Field("learning_rate", FLOAT, "Learning rate", "step size", TRAINING, low=0.0, low_open=True, aliases=("--lr",),
          metavar="LR", log=True),
    Field("loss", CHOICE, "Loss", "mse: mean (y − ŷ)², updated by the gradient of ½(y − ŷ)²; bce: cross-entropy", TRAINING,
          choices=_fixed(LOSSES)),
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
          "epoch", TRAINING, choices=_fixed(MODES)),
    Field("batch_size", INT, "Batch size", "samples per update in minibatch mode", TRAINING, low=1, high=MAX_BATCH_SIZE,
          metavar="B"),
    Field("shuffle", BOOL, "Shuffle each epoch", "visit the samples in a new seeded order every epoch (sgd and minibatch)",
          TRAINING),
    Field("l2", FLOAT, "L2 λ", "L2 regularisation rate on the weights (not the biases): adds (λ/2)·Σw² to the objective; "
          "0 turns it off", TRAINING, low=0.0, high=MAX_REGULARISATION, metavar="λ", log=True),
    Field("l1", FLOAT, "L1 λ", "L1 regularisation rate on the weights (not the biases): adds λ·Σ|w| to the objective; "
          "0 turns it off", TRAINING, low=0.0, high=MAX_REGULARISATION, metavar="λ", log=True),
)}

DATA_FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("name", CHOICE, "Dataset", "a built-in dataset", DATA, choices=dataset_names, flag="--dataset", metavar="NAME"),
    Field("points", INT, "Points", "number of points to generate; classes balanced", DATA, low=datasets.MIN_POINTS,
          high=datasets.MAX_POINTS, metavar="N", step=10),
    Field("noise", FLOAT, "Noise", "standard deviation of the Gaussian jitter per coordinate", DATA, low=0.0,
          high=datasets.MAX_NOISE, metavar="S", step=0.05),
    Field("train_fraction", FLOAT, "Train %", "share of each class for training; the rest is the test set", DATA,
          low=datasets.MIN_TRAIN_FRACTION, high=datasets.MAX_TRAIN_FRACTION, metavar="F", percent=True),
    Field("data_seed", INT, "Data seed", "seeds the points and the train/test split", DATA, low=0,
          high=datasets.MAX_DATA_SEED, metavar="K"),
    Field("path", PATH, "CSV file", "your own data: a CSV file with the header x1,x2,label (label 0 or 1) and an optional "
          "split column (train/test)", DATA, flag="--data", metavar="FILE.csv"),
)}
# fmt: on

STRUCTURAL_FIELDS = tuple(name for name, f in CONFIG_FIELDS.items() if f.structural)


def bind_defaults(fields: dict[str, Field], cls: type) -> None:
    """Copy the dataclass `cls`'s defaults into `fields`; refuse a dataclass field without a description (or a
    description without a field), so a setting cannot be added in one place and forgotten in the other."""
    declared = {f.name: f for f in dataclasses.fields(cls)}
    if set(declared) != set(fields):
        missing = sorted(set(declared) - set(fields))
        extra = sorted(set(fields) - set(declared))
        raise TypeError(f"engine/fields.py describes {cls.__name__} wrongly: no description of {missing}, no field {extra}")
    for name, f in declared.items():
        fields[name].default = f.default if f.default is not dataclasses.MISSING else f.default_factory()


def check_fields(obj: Any, fields: dict[str, Field], error: Callable[[str, str], Exception]) -> None:
    """Validate and normalise the frozen dataclass `obj` in place, field by field: a refused value raises
    ``error(name, "VALUE is not allowed; RULE")``."""
    for name, f in fields.items():
        value = getattr(obj, name)
        try:
            object.__setattr__(obj, name, f.check(value))
        except FieldError as err:
            raise error(name, f"{value!r} is not allowed; {err.rule}") from None


bind_defaults(DATA_FIELDS, DataSpec)
