"""Input features, as in TensorFlow Playground: what the first layer sees, computed from a point (x1, x2).

`FEATURES` is the registry (name -> `Feature`); a new feature is one entry here. A config lists the features it
uses (`TrainConfig.features`, in registry order); the network's first layer has one input per feature, and every
path that feeds points to the network (training, test metrics, decision map, Inspect) passes them through
`feature_matrix` first, so the kernels only ever see feature vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Feature:
    """name: as typed on the command line ("x1x2"); label: as shown ("x₁·x₂"); compute: (m,) x1, (m,) x2 -> (m,)."""

    name: str
    label: str
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray]


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("x1", "x₁", lambda x1, x2: x1),
        Feature("x2", "x₂", lambda x1, x2: x2),
        Feature("x1sq", "x₁²", lambda x1, x2: x1 * x1),
        Feature("x2sq", "x₂²", lambda x1, x2: x2 * x2),
        Feature("x1x2", "x₁·x₂", lambda x1, x2: x1 * x2),
        Feature("sinx1", "sin x₁", lambda x1, x2: np.sin(x1)),
        Feature("sinx2", "sin x₂", lambda x1, x2: np.sin(x2)),
    )
}
DEFAULT_FEATURES = ("x1", "x2")


# How people write features, normalised by `_key`: the registry's names, the labels, and the usual spellings.
_SUBSCRIPTS = str.maketrans({"₁": "1", "₂": "2", "²": "^2", "·": "*", "×": "*", "⋅": "*"})
_ALIASES = {
    "x1^2": "x1sq",
    "x1**2": "x1sq",
    "x1*x1": "x1sq",
    "x1x1": "x1sq",
    "x2^2": "x2sq",
    "x2**2": "x2sq",
    "x2*x2": "x2sq",
    "x2x2": "x2sq",
    "x1*x2": "x1x2",
    "x2*x1": "x1x2",
    "x2x1": "x1x2",
    "sin(x1)": "sinx1",
    "sin(x2)": "sinx2",
}


def _key(text: str) -> str:
    return "".join(text.translate(_SUBSCRIPTS).lower().split())


def feature_name(text: str) -> str:
    """The registry name of one feature as typed: 'x1x2', 'X1*x2', 'x₁·x₂', 'x1^2', 'x1²', 'sin(x1)', 'sin x1'
    (case and spaces ignored). Raises `ValueError` naming what was typed and listing the valid names. A list of
    features is read by `engine.parsing` (its list rule) with this for each item."""
    key = _key(text)
    name = key if key in FEATURES else _ALIASES.get(key)
    if name is None:
        raise ValueError(f"{text.strip()!r} is not a feature; choose from {', '.join(FEATURES)}")
    return name


def is_identity(features: tuple[str, ...]) -> bool:
    """True when the features are the raw inputs (x1, x2): no transform is needed."""
    return tuple(features) == DEFAULT_FEATURES


def feature_matrix(points: np.ndarray, features: tuple[str, ...]) -> np.ndarray:
    """points (m, 2) raw (x1, x2) -> (m, len(features)) C-contiguous float64, one column per feature in order.
    The default features return `points` itself (as contiguous float64), so XOR's arrays are unchanged."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    if is_identity(features):
        return points
    x1, x2 = points[:, 0], points[:, 1]
    return np.ascontiguousarray(np.column_stack([FEATURES[name].compute(x1, x2) for name in features]), dtype=np.float64)
