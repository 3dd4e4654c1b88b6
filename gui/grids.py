"""The grids the window's maps are computed on: the region of the input plane a dataset is shown in, and the
points of a grid over it. A leaf (NumPy only): the training thread computes the maps on `grid_for`'s points and
the views draw them over the same rectangle, so the two cannot disagree.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

GRID_SIDE = 121  # points per side of the decision map (a big network's map is coarser, see gui.worker.map_side)
HIDDEN_SIDE = 41  # points per side of each hidden-unit map
MARGIN = 0.1  # around the data: this fraction of its larger span on every side ...
MIN_MARGIN = 0.25  # ... and at least this (a quarter of the span for data smaller than 1): XOR's [0, 1] is shown over
# [-0.25, 1.25], its square since the first release


class Bounds(NamedTuple):
    """A rectangle of the input plane: x1 from x_min to x_max, x2 from y_min to y_max."""

    x_min: float
    x_max: float
    y_min: float
    y_max: float


class Grid(NamedTuple):
    """x: (n,) along x1 (columns); y: (n,) along x2 (rows); points: (n * n, 2), point ``r * n + c`` is
    ``(x[c], y[r])``, so outputs reshaped to (n, n) form a row-major image with x1 to the right and x2 upwards."""

    x: np.ndarray
    y: np.ndarray
    points: np.ndarray


def data_range(inputs: np.ndarray) -> Bounds:
    """The smallest rectangle holding every point of `inputs` (m, 2)."""
    inputs = np.asarray(inputs, dtype=np.float64)
    low, high = inputs.min(axis=0), inputs.max(axis=0)
    return Bounds(float(low[0]), float(high[0]), float(low[1]), float(high[1]))


def view_bounds(dataset) -> Bounds:
    """Where the maps show `dataset`: `Dataset.bounds()` (a square around its points, with a margin), or for data
    without that method its points' range with a margin of MARGIN of the larger span on every side, at least
    MIN_MARGIN (or a quarter of the span when that is below 1)."""
    bounds = getattr(dataset, "bounds", None)
    if callable(bounds):
        return Bounds(*bounds())
    x0, x1, y0, y1 = data_range(dataset.inputs)
    span = max(x1 - x0, y1 - y0)
    if not np.isfinite(span) or span <= 0:
        span = 1.0  # a single point (or a line of points along one axis): a unit square around it
    margin = max(MARGIN * span, min(MIN_MARGIN, MIN_MARGIN * span))
    return Bounds(x0 - margin, x1 + margin, y0 - margin, y1 + margin)


def grid_for(bounds: Bounds, side: int) -> Grid:
    """`side` × `side` points spanning `bounds` (its edges are the outermost points)."""
    x = np.linspace(bounds[0], bounds[1], side)
    y = np.linspace(bounds[2], bounds[3], side)
    x1, x2 = np.meshgrid(x, y)
    return Grid(x, y, np.column_stack([x1.ravel(), x2.ravel()]))


def pixel_rect(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """(left, bottom, width, height) of an image of len(y) × len(x) pixels whose pixel (r, c) is centred on
    (x[c], y[r]): each point of the grid in the middle of its pixel."""
    dx = (x[-1] - x[0]) / (len(x) - 1) if len(x) > 1 else 1.0
    dy = (y[-1] - y[0]) / (len(y) - 1) if len(y) > 1 else 1.0
    return float(x[0] - dx / 2), float(y[0] - dy / 2), float(dx * len(x)), float(dy * len(y))
