"""Datasets: the registry of built-in generators, CSV files, and the train/test split.

A `DataSpec` names a dataset and its parameters; `make_dataset(spec)` builds the `Dataset` (arrays) from it,
deterministically: equal specs give identical arrays. `DATASETS` is the registry; a new generated dataset is
one function registered with `register_dataset` (plus its test). `load_csv` reads a user's file.

Randomness (the README's "Datasets" section writes the formulas): the points come from
``np.random.default_rng(data_seed)`` (the generator draws its points, then `make_dataset` puts them in random order
with the same generator), the train/test split from an independent stream, `split_rng(data_seed)`. So the points
depend on (points, noise, data_seed) only, and the train fraction changes the split, never the points.

XOR's four points (the reference notebook's) are named here and nowhere else.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import stat
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .field_rules import CHOICE, DATA, FLOAT, INT, MAX_SEED, PATH, Field, bind_defaults, check_fields, stored_values

XOR_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_TARGETS = np.array([0.0, 1.0, 1.0, 0.0])
for _arr in (XOR_INPUTS, XOR_TARGETS):
    _arr.flags.writeable = False

MAX_PREDICTION_SAMPLES = 8  # datasets of at most this many training points (and no test set) record every ŷ per epoch

# DataSpec's ranges and defaults (`DATA_FIELDS` describes the fields with these).
MIN_POINTS = 20
MAX_POINTS = 2000
MAX_NOISE = 0.5
MIN_TRAIN_FRACTION = 0.1
MAX_TRAIN_FRACTION = 0.9
MAX_DATA_SEED = MAX_SEED
DEFAULT_DATASET = "xor"
DEFAULT_POINTS = 200
DEFAULT_NOISE = 0.1
DEFAULT_TRAIN_FRACTION = 0.5
DEFAULT_DATA_SEED = 0

# Data that is not generated: a user's CSV file (`load_csv`) and arrays a program passes (`Dataset.from_arrays`).
CSV = "csv"
CUSTOM = "custom"
MIN_CSV_ROWS = 2
MAX_CSV_ROWS = 100_000
MAX_CSV_BYTES = 256 * 2**20  # a file this large cannot be 100,000 rows of sensible data
MAX_CSV_LINE = 2**20  # characters in one line: bounds the memory a malformed file can take
CSV_COLUMNS = ("x1", "x2", "label")  # required; "split" is optional, other columns are ignored
SPLIT_COLUMN = "split"

SQUARE = 3.0  # generated points lie in [-SQUARE, SQUARE]² before noise
BLOB_STD = 0.4  # standard deviation of the Gaussian blobs of gauss and quadrants


class DataError(ValueError):
    """Data that cannot be used. The message is one sentence for the user; for a CSV file it names the file,
    the row and the column ("spiral.csv: row 7, column x2: 'abc' is not a number").

    For a refused `DataSpec` value, `field` names the field ("points") and `reason` holds the value and the rule
    ("5 is not allowed; it must be an integer from 20 to 2000", the words of `DATA_FIELDS` as `TrainConfig`'s
    `ConfigError` has them); the message is "DataSpec.FIELD: REASON", and a caller that knows the field by another
    name (an option, a form's label) writes that name before `reason`."""

    def __init__(self, message: str, field: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.field, self.reason = field, reason


def _spec_error(field: str, reason: str) -> DataError:
    return DataError(f"DataSpec.{field}: {reason}", field=field, reason=reason)


def dataset_names() -> tuple[str, ...]:
    """The registered (generated) datasets: the choices of --dataset and of the window's dataset combo."""
    return tuple(DATASETS)


# The DataSpec fields a generator uses (XOR uses none of them; the window disables the unused ones).
PARAMETERS = ("points", "noise", "train_fraction", "data_seed")

# Every DataSpec field, described once: DataSpec validates by these, and the command line's options, its
# `python main.py datasets` and the window's Data section are generated from them (engine/fields.py gathers them with
# TrainConfig's). Generated data; `_spec_fields` widens `name` and `points` for a CSV file and a program's arrays.
# fmt: off
DATA_FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("name", CHOICE, "Dataset", "a built-in dataset", DATA, choices=dataset_names, flag="--dataset", metavar="NAME"),
    Field("points", INT, "Points", "number of points to generate; classes balanced", DATA, low=MIN_POINTS,
          high=MAX_POINTS, metavar="N", step=10),
    Field("noise", FLOAT, "Noise", "standard deviation of the Gaussian jitter per coordinate", DATA, low=0.0,
          high=MAX_NOISE, metavar="S", step=0.05),
    Field("train_fraction", FLOAT, "Train %", "share of each class for training; the rest is the test set", DATA,
          low=MIN_TRAIN_FRACTION, high=MAX_TRAIN_FRACTION, metavar="F", percent=True),
    Field("data_seed", INT, "Data seed", "seeds the points and the train/test split", DATA, low=0, high=MAX_DATA_SEED,
          metavar="K"),
    Field("path", PATH, "CSV file", f"a CSV file of {MIN_CSV_ROWS} to {MAX_CSV_ROWS:,} rows with the header x1,x2,label "
          "(label 0 or 1) and an optional split column (train or test)", DATA, flag="--data", metavar="FILE.csv"),
)}
# fmt: on


@dataclass(frozen=True)
class DataSpec:
    """Which data to train on, validated on construction (bad values raise `DataError` naming the field).

    name: a key of `DATASETS`; ``"csv"`` for a user's file (`load_csv`; then `path` names it as it was given); or
    ``"custom"`` for arrays a program passed (`Dataset.from_arrays`). points, noise, train_fraction, data_seed: the
    generator's parameters (XOR ignores them: its four points are all for training). For ``"csv"`` and
    ``"custom"`` data `points` is the number of rows (2 to 100,000 for a file) and `noise` is unused.
    """

    name: str = DEFAULT_DATASET
    points: int = DEFAULT_POINTS
    noise: float = DEFAULT_NOISE
    train_fraction: float = DEFAULT_TRAIN_FRACTION
    data_seed: int = DEFAULT_DATA_SEED
    path: str = ""

    def __post_init__(self) -> None:
        check_fields(self, _spec_fields(self.name), _spec_error)  # the rules: DATA_FIELDS

    @property
    def generated(self) -> bool:
        """True for a registered dataset (`make_dataset` builds it), False for a file or a program's arrays."""
        return self.name in DATASETS

    def canonical(self) -> DataSpec:
        """The spec with the values this data ignores at their defaults: two specs with equal canonical forms give
        identical datasets (XOR ignores every parameter; a file and a program's arrays ignore the noise)."""
        if self.name in DATASETS and DATASETS[self.name].fixed:
            return DataSpec(self.name)
        if not self.generated:
            return self.replace(noise=DEFAULT_NOISE)
        return self.replace(path="")

    def replace(self, **changes: Any) -> DataSpec:
        """A copy with `changes` applied and validated."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> DataSpec:
        """Inverse of `to_dict`; missing fields take their defaults, unknown ones raise `DataError`."""
        return cls(**stored_values(cls, data, DataError))


bind_defaults(DATA_FIELDS, DataSpec)

# Data that is not generated (CSV, CUSTOM): its name is allowed besides the registry's, and its points are its rows,
# in this range (None: no bound).
ROWS = {CSV: (MIN_CSV_ROWS, MAX_CSV_ROWS), CUSTOM: (1, None)}
_ANY_NAME = dataclasses.replace(DATA_FIELDS["name"], choices=lambda: (*DATASETS, *ROWS))
_ROW_POINTS = {name: dataclasses.replace(DATA_FIELDS["points"], low=low, high=high) for name, (low, high) in ROWS.items()}


def _spec_fields(name: Any) -> dict[str, Field]:
    """The fields a `DataSpec` named `name` is checked by: `DATA_FIELDS`, with the names of `ROWS` allowed and, for
    them, their points' range."""
    fields = {**DATA_FIELDS, "name": _ANY_NAME}
    if isinstance(name, str) and name in _ROW_POINTS:
        fields["points"] = _ROW_POINTS[name]
    return fields


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


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

    def bounds(self, margin: float = 0.08, min_margin: float = 0.25) -> tuple[float, float, float, float]:
        """(x1_low, x1_high, x2_low, x2_high): a square around every point (training and test) for the decision
        map, centred on the points' bounding box, whose half side is half the box's larger side plus a margin of
        max(`min_margin`, `margin` · the larger side). For XOR that is [-0.25, 1.25]², the notebook window's."""
        low, high = self.inputs.min(axis=0), self.inputs.max(axis=0)
        side = float(max(high - low))
        half = side / 2 + max(min_margin, margin * side)
        c1, c2 = (float(v) for v in (low + high) / 2)
        return (c1 - half, c1 + half, c2 - half, c2 + half)

    @classmethod
    def from_arrays(cls, inputs: Any, targets: Any, train: Any = None, name: str = CUSTOM) -> Dataset:
        """A dataset of a program's own arrays (copied): inputs (n, 2) finite, targets (n,) within [0, 1] (labels
        0/1 for classification; other values train as regression targets), train (n,) bool (default: every point
        is for training). The spec is ``DataSpec(name, points=n)``."""
        X = np.array(inputs, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] < 1:
            raise DataError(f"inputs must have shape (n, 2) with n >= 1, got {X.shape}")
        y = np.array(targets, dtype=np.float64).reshape(-1)
        if y.shape[0] != X.shape[0]:
            raise DataError(f"need one target per input row, got inputs {X.shape} and targets {np.shape(targets)}")
        if not np.isfinite(X).all() or not ((y >= 0) & (y <= 1)).all():
            raise DataError("inputs must be finite and targets within [0, 1]")
        if train is None:
            mask = np.ones(X.shape[0], dtype=bool)
        else:
            mask = np.array(train).reshape(-1)
            if mask.dtype != bool or mask.shape[0] != X.shape[0]:
                raise DataError(f"train must be {X.shape[0]} booleans, got {mask.dtype} {np.shape(train)}")
            if not mask.any():
                raise DataError("no training point: train is False everywhere")
        spec = DataSpec(name=name, points=X.shape[0])
        return cls(spec, _readonly(np.ascontiguousarray(X)), _readonly(y), _readonly(mask.copy()))


def same_arrays(a: Dataset, b: Dataset) -> bool:
    """True when the two datasets' inputs, targets and split are bit for bit the same."""
    return all(
        x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()
        for x, y in ((a.inputs, b.inputs), (a.targets, b.targets), (a.train, b.train))
    )


# ---- the registry ----------------------------------------------------------------------------------------------

Generator = Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class DatasetKind:
    """A registered generator. generate(points, noise, rng) -> (inputs (points, 2), targets (points,)) with
    balanced classes; `description` is one line for `python main.py datasets` and the window's tooltip.
    fixed: the data ignores every parameter (XOR): `generate`'s arrays are used as they are, all for training."""

    name: str
    description: str
    generate: Generator
    fixed: bool = False

    @property
    def parameters(self) -> tuple[str, ...]:
        """The DataSpec fields this dataset uses (the window disables the others)."""
        return () if self.fixed else PARAMETERS


DATASETS: dict[str, DatasetKind] = {}


def register_dataset(name: str, description: str, generate: Generator, *, fixed: bool = False) -> DatasetKind:
    """Add a generated dataset to the registry (a new dataset is this call and its generator)."""
    if not isinstance(name, str) or not name.isidentifier() or name in (CSV, CUSTOM):
        raise ValueError(f"{name!r} cannot name a dataset: use a lowercase word other than {CSV!r} and {CUSTOM!r}")
    kind = DatasetKind(name, description, generate, fixed)
    DATASETS[name] = kind
    return kind


def class_sizes(points: int) -> tuple[int, int]:
    """(class 0, class 1) counts of a balanced set: ceil(points/2) and floor(points/2)."""
    return (points + 1) // 2, points // 2


def labels(points: int) -> np.ndarray:
    """(points,) float64: class 0 for the first ceil(points/2), then class 1."""
    n0, n1 = class_sizes(points)
    return np.concatenate([np.zeros(n0), np.ones(n1)])


def jitter(rng: np.random.Generator, xy: np.ndarray, noise: float) -> np.ndarray:
    """xy + noise · z, z standard normal per coordinate (drawn even when noise = 0, so the stream does not depend
    on it)."""
    return xy + noise * rng.standard_normal(xy.shape)


def split_rng(data_seed: int) -> np.random.Generator:
    """The split's random stream: independent of the points' ``default_rng(data_seed)``."""
    return np.random.default_rng(np.random.SeedSequence(data_seed).spawn(1)[0])


def stratified_split(targets: np.ndarray, train_fraction: float, data_seed: int) -> np.ndarray:
    """(n,) bool, True for a training point. Per class c (0 then 1) with m points: round(train_fraction · m)
    (halves up) training points, kept within 1..m-1 when m >= 2 (a single point trains), chosen as the first ones
    of `split_rng(data_seed).permutation(m)` over the class's points in dataset order."""
    rng = split_rng(data_seed)
    train = np.zeros(len(targets), dtype=bool)
    for c in (0.0, 1.0):
        index = np.flatnonzero(targets == c)
        m = len(index)
        if m == 0:
            continue
        k = math.floor(train_fraction * m + 0.5)
        k = min(max(k, 1), m - 1) if m >= 2 else m
        train[index[rng.permutation(m)[:k]]] = True
    return train


def make_dataset(spec: DataSpec | None = None) -> Dataset:
    """The dataset `spec` describes (the notebook's XOR by default); a ``"csv"`` spec reads its file again."""
    spec = DataSpec() if spec is None else spec
    if spec.name == CSV:
        return load_csv(spec.path, spec.train_fraction, spec.data_seed)
    if spec.name not in DATASETS:
        raise DataError(f"{spec.name!r} data is not generated: it comes with its arrays (Dataset.from_arrays)")
    kind = DATASETS[spec.name]
    if kind.fixed:
        inputs, targets = kind.generate(spec.points, spec.noise, np.random.default_rng(spec.data_seed))
        return Dataset(spec, inputs, targets, _readonly(np.ones(len(targets), dtype=bool)))
    rng = np.random.default_rng(spec.data_seed)
    inputs, targets = kind.generate(spec.points, spec.noise, rng)
    inputs = np.asarray(inputs, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if inputs.shape != (spec.points, 2) or targets.shape != (spec.points,):
        raise DataError(f"dataset {spec.name!r} made arrays of shapes {inputs.shape} and {targets.shape}, not ({spec.points}, 2)")
    if not np.isfinite(inputs).all() or not np.isin(targets, (0.0, 1.0)).all():
        raise DataError(f"dataset {spec.name!r} made non-finite points or labels other than 0 and 1")
    order = rng.permutation(spec.points)
    inputs, targets = np.ascontiguousarray(inputs[order]), np.ascontiguousarray(targets[order])
    train = stratified_split(targets, spec.train_fraction, spec.data_seed)
    return Dataset(spec, _readonly(inputs), _readonly(targets), _readonly(train))


# ---- the built-in datasets (formulas in the README's "Datasets" section) -----------------------------------------


def xor(points: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The reference notebook's four points, in its order; ignores every parameter."""
    return XOR_INPUTS, XOR_TARGETS


def circle(points: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class 1 inside radius 1.5, class 0 on the ring 2.1..3: radius and angle uniform."""
    n0, n1 = class_sizes(points)
    r = np.concatenate([rng.uniform(0.7 * SQUARE, SQUARE, n0), rng.uniform(0.0, 0.5 * SQUARE, n1)])
    angle = rng.uniform(0.0, 2 * np.pi, points)
    xy = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    return jitter(rng, xy, noise), labels(points)


def _blobs(rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    """One point per row of `centres`: centre + N(0, BLOB_STD²) per coordinate, clipped to the square."""
    return np.clip(centres + BLOB_STD * rng.standard_normal(centres.shape), -SQUARE, SQUARE)


def gauss(points: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs: class 0 around (-1, -1), class 1 around (1, 1)."""
    n0, n1 = class_sizes(points)
    centres = np.repeat([[-1.0, -1.0], [1.0, 1.0]], [n0, n1], axis=0)
    return jitter(rng, _blobs(rng, centres), noise), labels(points)


def quadrants(points: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """XOR of four blobs around (±1.5, ±1.5): class 1 where the signs of x1 and x2 differ, as in the notebook's XOR.
    A class's points alternate between its two blobs."""
    n0, n1 = class_sizes(points)
    c = 0.5 * SQUARE
    zero = np.array([[-c, -c], [c, c]])[np.arange(n0) % 2]
    one = np.array([[-c, c], [c, -c]])[np.arange(n1) % 2]
    return jitter(rng, _blobs(rng, np.concatenate([zero, one])), noise), labels(points)


def spiral(points: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of 1.75 turns out to radius 3 (TensorFlow Playground's): the i-th of a class's m points
    at s = (i + 1)/m has radius 3s and angle 3.5π·s, plus π for class 0."""
    arms = []
    for m, shift in zip(class_sizes(points), (np.pi, 0.0)):
        s = np.arange(1, m + 1) / m
        t = 3.5 * np.pi * s + shift
        arms.append(np.column_stack([SQUARE * s * np.sin(t), SQUARE * s * np.cos(t)]))
    return jitter(rng, np.concatenate(arms), noise), labels(points)


def moons(points: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's two moons, doubled and centred: class 0 (cos t, sin t), class 1 (1 - cos t, 1/2 - sin t), t evenly
    from 0 to π, then (2(x1 - 1/2), 2(x2 - 1/4)): x1 spans [-3, 3], x2 [-1.5, 1.5]."""
    n0, n1 = class_sizes(points)
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    xy = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]), np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])])
    return jitter(rng, 2.0 * (xy - [0.5, 0.25]), noise), labels(points)


register_dataset("xor", "the notebook's four XOR points, all for training (ignores the parameters)", xor, fixed=True)
register_dataset("circle", "class 1 in a disc of radius 1.5, class 0 on a ring from 2.1 to 3 around it", circle)
register_dataset("gauss", "two Gaussian blobs around (-1, -1) and (1, 1)", gauss)
register_dataset("quadrants", "noisy XOR: four blobs, class 1 where x1 and x2 have different signs", quadrants)
register_dataset("spiral", "two interleaved spirals of 1.75 turns", spiral)
register_dataset("moons", "scikit-learn's two interleaving half circles", moons)


# ---- CSV files ---------------------------------------------------------------------------------------------------


def _lines(handle, where: str) -> Iterator[str]:
    """The lines of a file opened in binary, decoded as UTF-8 one by one (so an error names its line; a byte-order
    mark at the start is dropped), refusing a line longer than `MAX_CSV_LINE` bytes (bounded memory for any file)."""
    number = 0
    while True:
        raw = handle.readline(MAX_CSV_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_CSV_LINE:
            raise DataError(f"{where}: line {number:,} is longer than {MAX_CSV_LINE:,} bytes")
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            bad = raw[error.start : error.start + 1].hex()
            raise DataError(f"{where}: line {number:,} is not UTF-8 text (byte 0x{bad}); save the file as UTF-8") from None


def _number(text: str, where: str) -> float:
    value_text = text.strip()
    if not value_text:
        raise DataError(f"{where}: the value is empty; give a number")
    try:
        value = float(value_text)
    except ValueError:
        raise DataError(f"{where}: {value_text!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {value_text!r} is not a finite number")
    return value


def _header_columns(row: list[str], where: str) -> dict[str, int]:
    """Column index of x1, x2, label and (when present) split, from the header's names (case and spaces ignored)."""
    names = [cell.strip().lower() for cell in row]
    columns: dict[str, int] = {}
    for name in (*CSV_COLUMNS, SPLIT_COLUMN):
        found = [i for i, cell in enumerate(names) if cell == name]
        if len(found) > 1:
            raise DataError(
                f"{where} (the header): column {name} appears {len(found)} times (columns {found[0] + 1} and {found[1] + 1})"
            )
        if found:
            columns[name] = found[0]
    missing = [name for name in CSV_COLUMNS if name not in columns]
    if missing:
        hint = ""
        if len(row) == 1 and any(sep in row[0] for sep in ";\t|"):
            hint = " (columns must be separated by commas)"
        raise DataError(
            f"{where} (the header) has no column {' or '.join(missing)}{hint}; it needs x1, x2 and label (split optional)"
        )
    return columns


def load_csv(
    path: str | os.PathLike, train_fraction: float = DEFAULT_TRAIN_FRACTION, data_seed: int = DEFAULT_DATA_SEED
) -> Dataset:
    """A user's data from a CSV file (UTF-8, comma-separated, read with the csv module).

    Row 1 is the header; it names the columns x1, x2 and label, in any order, case and surrounding spaces ignored;
    an optional column split holds train or test per row; other columns are ignored. label is 0 or 1 (1.0 is 1).
    Blank rows (every value empty) are skipped. With a split column it decides the split (at least one training
    row); without one, `train_fraction` and `data_seed` split each class as for generated data. 2 to 100,000 data
    rows, both classes present. A file that cannot be used raises `DataError` with one sentence naming the file
    (as given), the row (as a spreadsheet numbers it: the header is row 1) and the column.
    """
    where = os.fspath(path)
    spec_values = {"train_fraction": train_fraction, "data_seed": data_seed, "path": str(where)}
    DataSpec(**spec_values)  # refuse a bad fraction or seed before reading
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise DataError(f"{where}: is a folder, not a CSV file")
        if not stat.S_ISREG(info.st_mode):
            raise DataError(f"{where}: is not a regular file")
        if info.st_size > MAX_CSV_BYTES:
            raise DataError(f"{where}: the file is larger than {MAX_CSV_BYTES // 2**20} MB")
        with open(path, "rb") as handle:
            rows = _read_rows(csv.reader(_lines(handle, where), strict=True), where)
    except OSError as error:
        raise DataError(f"{where}: cannot read it: {error.strerror or error}") from None
    inputs, targets, split = rows
    n = len(targets)
    if n < MIN_CSV_ROWS:
        raise DataError(f"{where}: has {n} data row{'s' if n != 1 else ''}; at least {MIN_CSV_ROWS} are needed")
    classes = set(targets)
    if len(classes) < 2:
        raise DataError(f"{where}: every label is {int(next(iter(classes)))}; both classes (0 and 1) are needed")
    X, y = np.array(inputs, dtype=np.float64).reshape(n, 2), np.array(targets, dtype=np.float64)
    if split is None:
        train = stratified_split(y, float(train_fraction), int(data_seed))
    else:
        train = np.array(split, dtype=bool)
        if not train.any():
            raise DataError(f"{where}: column split says test on every row; at least one row must be train")
    spec = DataSpec(name=CSV, points=n, **spec_values)
    return Dataset(spec, _readonly(X), _readonly(y), _readonly(train))


def split_by_file(data: Dataset) -> bool:
    """True for a CSV file's data whose split is not the one its train fraction and data seed give: its split column
    decided it, and `resplit` refuses it. (A split column that happens to be exactly that split cannot be told apart
    from none: it counts as re-splittable, and stays that split until the fraction or the seed changes.)"""
    fraction, seed = data.spec.train_fraction, data.spec.data_seed
    return data.spec.name == CSV and not np.array_equal(data.train, stratified_split(data.targets, fraction, seed))


def resplit(data: Dataset, train_fraction: float, data_seed: int) -> Dataset:
    """A CSV file's data split again by `train_fraction` and `data_seed`, from its arrays (the file is not read):
    exactly what ``load_csv(path, train_fraction, data_seed)`` gives for a file without a split column. Data that
    is not a file's, or whose file's split column decides the split (`split_by_file`), raises `DataError`."""
    if data.spec.name != CSV:
        raise DataError(f"only a CSV file's data is split again; this is {data.spec.name} data")
    if split_by_file(data):
        raise DataError(f"{data.spec.path}: its split column decides the split; the train fraction and data seed do not")
    spec = data.spec.replace(train_fraction=train_fraction, data_seed=data_seed)
    if spec == data.spec:
        return data
    train = stratified_split(data.targets, spec.train_fraction, spec.data_seed)
    return Dataset(spec, data.inputs, data.targets, _readonly(train))


def _read_rows(reader, where: str) -> tuple[list[tuple[float, float]], list[float], list[bool] | None]:
    columns: dict[str, int] | None = None
    inputs: list[tuple[float, float]] = []
    targets: list[float] = []
    split: list[bool] = []
    row_number = 0
    try:
        for row in reader:
            row_number += 1
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _header_columns(row, f"{where}: row {row_number}")
                continue
            if len(targets) >= MAX_CSV_ROWS:
                raise DataError(f"{where}: has more than {MAX_CSV_ROWS:,} data rows")
            values = {}
            for name, index in columns.items():
                cell_where = f"{where}: row {row_number:,}, column {name}"
                if index >= len(row):
                    raise DataError(f"{cell_where}: the value is missing (the row has {len(row)} values)")
                values[name] = row[index]
            x1 = _number(values["x1"], f"{where}: row {row_number:,}, column x1")
            x2 = _number(values["x2"], f"{where}: row {row_number:,}, column x2")
            label = _number(values["label"], f"{where}: row {row_number:,}, column label")
            if label not in (0.0, 1.0):
                raise DataError(f"{where}: row {row_number:,}, column label: {values['label'].strip()!r} is not 0 or 1")
            if SPLIT_COLUMN in columns:
                part = values[SPLIT_COLUMN].strip().lower()
                if part not in ("train", "test"):
                    raise DataError(
                        f"{where}: row {row_number:,}, column split: {values[SPLIT_COLUMN].strip()!r} is not train or test"
                    )
                split.append(part == "train")
            inputs.append((x1, x2))
            targets.append(1.0 if label == 1.0 else 0.0)  # "-0" is 0
    except csv.Error as error:
        raise DataError(f"{where}: row {row_number + 1:,}: not readable as CSV ({error})") from None
    if columns is None:
        raise DataError(f"{where}: the file is empty; it needs a header x1,x2,label and at least {MIN_CSV_ROWS} rows")
    return inputs, targets, (split if SPLIT_COLUMN in columns else None)


# ---- the datasets command ----------------------------------------------------------------------------------------


def describe_datasets() -> str:
    """What ``python main.py datasets`` prints, from the registry and `DATA_FIELDS` (the words of --help): every
    dataset with its description, then the parameters with their help, ranges and defaults, then the CSV file."""
    dataset, path = DATA_FIELDS["name"], DATA_FIELDS["path"]
    width = max(len(name) for name in DATASETS)
    lines = [f"Datasets ({dataset.usage}; {dataset.notes(choices=False)}):"]
    lines += [f"  {kind.name:<{width}}  {kind.description}" for kind in DATASETS.values()]
    lines += ["", f"Parameters of the generated datasets (points in the square [-{SQUARE:g}, {SQUARE:g}]² before noise):"]
    width = max(len(DATA_FIELDS[p].usage) for p in PARAMETERS)
    for field in (DATA_FIELDS[p] for p in PARAMETERS):
        lines.append(f"  {field.usage:<{width}}  {field.help} ({field.notes()})")
    splitters = " and ".join(DATA_FIELDS[p].usage for p in ("train_fraction", "data_seed"))
    text = f"Your own data ({path.usage}): {path.help}; without a split column, {splitters} split it."
    lines += ["", *textwrap.wrap(text, 100, subsequent_indent="  ")]
    return "\n".join(lines)
