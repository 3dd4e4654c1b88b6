"""Datasets: the registry of built-in generators, CSV files, and the train/test split.

A `DataSpec` names a dataset and its parameters; `make_dataset(spec)` builds the `Dataset` (arrays) from it,
deterministically: equal specs give identical arrays. `DATASETS` is the registry; a new generated dataset is
one function registered with `register_dataset` (plus its test). `load_csv` reads a user's file.

XOR's four points (the reference notebook's) are named here and nowhere else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

XOR_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_TARGETS = np.array([0.0, 1.0, 1.0, 0.0])
for _arr in (XOR_INPUTS, XOR_TARGETS):
    _arr.flags.writeable = False

MAX_PREDICTION_SAMPLES = 8  # datasets of at most this many training points (and no test set) record every ŷ per epoch


class DataError(ValueError):
    """Data that cannot be used. The message is one sentence for the user; for a CSV file it names the file,
    the row and the column ("spiral.csv: row 7, column x2: 'abc' is not a number")."""


@dataclass(frozen=True)
class DataSpec:
    """Which data to train on. name: a key of `DATASETS`, or ``"csv"`` for a file (then `path` names it, for
    display only: the arrays travel with the experiment). points, noise, train_fraction, data_seed: the
    generator's parameters (XOR ignores them: its four points are all for training)."""

    name: str = "xor"
    points: int = 200
    noise: float = 0.1
    train_fraction: float = 0.5
    data_seed: int = 0
    path: str = ""

    def replace(self, **changes: Any) -> DataSpec:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> DataSpec:
        if not isinstance(data, dict):
            raise ValueError(f"a DataSpec is stored as a JSON object, got {type(data).__name__}")
        return cls(**data)


@dataclass(frozen=True, eq=False)
class Dataset:
    """The arrays of one dataset. Arrays are read-only.

    inputs: (n, 2) the points (x1, x2). targets: (n,) the labels, 0.0 or 1.0. train: (n,) bool, True for a
    training point. Training and test points keep the dataset's order within their split.
    """

    spec: DataSpec
    inputs: np.ndarray
    targets: np.ndarray
    train: np.ndarray

    @property
    def n(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def train_inputs(self) -> np.ndarray:
        """(n_train, 2)"""
        return self.inputs[self.train]

    @property
    def train_targets(self) -> np.ndarray:
        """(n_train,)"""
        return self.targets[self.train]

    @property
    def test_inputs(self) -> np.ndarray:
        """(n_test, 2)"""
        return self.inputs[~self.train]

    @property
    def test_targets(self) -> np.ndarray:
        """(n_test,)"""
        return self.targets[~self.train]

    @property
    def n_train(self) -> int:
        return int(self.train.sum())

    @property
    def n_test(self) -> int:
        return self.n - self.n_train

    @property
    def records_predictions(self) -> bool:
        """Every training point's ŷ is recorded every epoch: small training-only sets such as XOR."""
        return self.n_test == 0 and self.n_train <= MAX_PREDICTION_SAMPLES


@dataclass(frozen=True)
class DatasetKind:
    """A registered generator. generate(points, noise, rng) -> (inputs (points, 2), targets (points,)) with
    balanced classes; `description` is one line for `python main.py datasets` and the window's tooltip."""

    name: str
    description: str
    generate: Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


DATASETS: dict[str, DatasetKind] = {}


def register_dataset(name: str, description: str, generate) -> DatasetKind:
    """Add a generated dataset to the registry (a new dataset is this call and its generator)."""
    kind = DatasetKind(name, description, generate)
    DATASETS[name] = kind
    return kind


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


def make_dataset(spec: DataSpec | None = None) -> Dataset:
    """The dataset `spec` describes (the notebook's XOR by default)."""
    spec = DataSpec() if spec is None else spec
    if spec.name == "xor":
        return Dataset(spec, XOR_INPUTS, XOR_TARGETS, _readonly(np.ones(4, dtype=bool)))
    raise DataError(f"unknown dataset {spec.name!r}")  # generators: see the datasets issue
