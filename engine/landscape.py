"""The loss landscape: the training loss over a plane through the weights, θ = θ* + a·d₁ + b·d₂.

The loss is the reported training loss, as `Trainer.evaluate()["train_loss"]` gives it: the mean over the training
points of the per-sample loss (mse (y - ŷ)² or the cross-entropy), WITHOUT the L1/L2 penalty. At a = b = 0 it is that
number bit for bit: every point is computed with `engine._kernels._evaluate`'s arithmetic (see
`engine._landscape_kernels`), and theta* + 0·d₁ + 0·d₂ is theta* itself.

Directions (`make_directions`): two parameters ("params": unit vectors, so a and b move those weights by exactly a and
b); two random Gaussian directions filter-normalised per unit as in Li et al. 2018, "Visualizing the Loss Landscape of
Neural Nets" ("random": each unit's row of W plus its bias scaled to the norm of θ's); or the first two principal
components of a run's own path about θ* ("pca", unit length). `replay_path` retrains a run from its initial weights and
keeps its parameters at a few hundred epochs; `project` puts a path on the plane, `plane_losses` evaluates the plane
there (a projected path can lie: compare with the path's true losses).

The grid is computed by a parallel Numba kernel (`engine._landscape_kernels`) in blocks of rows, with progress and
cancellation between blocks. Pure NumPy + Numba: never Qt.
"""

from __future__ import annotations

import math
import numbers
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import TrainConfig
from .datasets import Dataset, make_dataset
from .features import feature_matrix
from .kernel_args import encode
from .network import Layout
from .parallel import PARALLEL_LOCK
from .trainer import Trainer, kernels


class LandscapeError(ValueError):
    """One clear, user-facing sentence: bad directions, grid or range."""


DIRECTION_KINDS = ("params", "random", "pca")  # the names the CLI and the window's directionCombo use
DEFAULT_GRID = 121
MIN_GRID = 3
MAX_GRID = 401
DEFAULT_RANGE = 1.0  # a, b in [-range, range]
MAX_PATH_POINTS = 400
# Larger than any trained network's weights, and small enough that squares, norms and a·d stay finite: beyond it a run
# has diverged (its weights overflow a few epochs later) and every number computed there would be noise.
MAX_WEIGHT = 1e150

# Work (sample-forward parameter visits) per kernel call: progress and cancel are looked at between calls, every
# ~50-100 ms on one core (spiral's 201 x 201 on (8, 8): 8 rows a call); XOR's whole 201 x 201 grid is one call. Each
# call ends when its slowest thread does, so calls much shorter than that lose time on a busy machine.
_BLOCK_WORK = 50_000_000

_PARALLEL = PARALLEL_LOCK  # one parallel kernel call at a time in this process (engine/parallel.py), held per block

Progress = Callable[[int, int], None] | None
Cancelled = Callable[[], bool] | None


def landscape_kernels():
    """The landscape's Numba kernels, imported on first use (as `engine.trainer.kernels`)."""
    from . import _landscape_kernels

    return _landscape_kernels


def _threads() -> int:
    """Numba's thread count now (imported here: importing Numba is slow, see `engine.trainer.kernels`)."""
    import numba

    return int(numba.get_num_threads())


def _kernel_array(values) -> np.ndarray:
    """A writable C-contiguous float64 copy: the kernels see one array type whatever they are given (a read-only or
    strided array would be compiled, and cached, as another signature)."""
    return np.array(values, dtype=np.float64, order="C", copy=True)


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


# --- parameter names -----------------------------------------------------------------------------------------
def parameter_names(layout: Layout) -> list[str]:
    """Every parameter's name in theta order: "W1[0,0]", "W1[0,1]", ..., "b1[0]", ..., "W2[0,0]", "b2[0]" (layer from 1;
    W's index [out, in] and b's [out] from 0): the names ``params:`` takes."""
    names = []
    for layer in range(layout.n_layers):
        n_in, n_out = int(layout.sizes[layer]), int(layout.sizes[layer + 1])
        names += [f"W{layer + 1}[{j},{c}]" for j in range(n_out) for c in range(n_in)]
        names += [f"b{layer + 1}[{j}]" for j in range(n_out)]
    return names


_NAME = r"(?:[Ww]\s*\d+\s*\[\s*\d+\s*,\s*\d+\s*\]|[Bb]\s*\d+\s*\[\s*\d+\s*\])"
_NAME_RE = re.compile(r"([Wb])(\d+)\[(\d+)(?:,(\d+))?\]")
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUBSCRIPTS = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")


def _normal_name(text: str) -> str:
    """A parameter name as typed -> its canonical form: no spaces, W upper case, b lower case."""
    name = "".join(text.split())
    return name[0].upper() + name[1:] if name[0] in "Ww" else name[0].lower() + name[1:]


def parameter_label(name: str) -> str:
    """The window's pretty form of a parameter name, 1-based as the notebook's maths: "W1[0,0]" -> "W⁽¹⁾₁₁",
    "b2[0]" -> "b⁽²⁾₁" (indices above 9 are separated by a comma: "W⁽¹⁾₁₀,₁")."""
    match = _NAME_RE.fullmatch(_normal_name(name))
    if match is None:
        raise LandscapeError(f"{name!r} is not a parameter name (write W1[0,0] or b2[0])")
    kind, layer, first, second = match.groups()
    indices = [int(first) + 1] + ([] if second is None else [int(second) + 1])
    sep = "," if any(i > 9 for i in indices) else ""
    sub = sep.join(str(i) for i in indices).translate(_SUBSCRIPTS)
    return f"{kind}⁽{layer.translate(_SUPERSCRIPTS)}⁾{sub}"


# --- directions ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Directions:
    """The plane's two directions. kind: one of DIRECTION_KINDS. d1, d2: (n_params,) read-only. labels: the axes'
    titles. names: for "params", the two parameters' names. offsets: for "params", theta*'s values of the two
    parameters, so that an axis shows the exact weight value offset + a."""

    kind: str
    d1: np.ndarray
    d2: np.ndarray
    labels: tuple[str, str]
    names: tuple[str, str] | None = None
    offsets: tuple[float, float] = (0.0, 0.0)


def parse_directions(text: str) -> tuple[str, tuple[str, str] | None]:
    """ "params:W1[0,0],b2[0]" -> ("params", ("W1[0,0]", "b2[0]")); "random" -> ("random", None); "pca" -> ("pca", None).
    Syntax errors raise LandscapeError; whether the parameters exist is `parameter_directions`'s to check."""
    if not isinstance(text, str):
        raise LandscapeError(f"directions must be text, got {type(text).__name__}")
    kind, sep, rest = text.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in DIRECTION_KINDS:
        raise LandscapeError(f"directions {text.strip()!r}: choose params:W1[0,0],b2[0], random or pca")
    if kind != "params":
        if sep:
            raise LandscapeError(f"directions {text.strip()!r}: {kind} takes no parameters (write just {kind})")
        return kind, None
    match = re.fullmatch(rf"\s*({_NAME})\s*,\s*({_NAME})\s*", rest)
    if match is None:
        raise LandscapeError(f"directions {text.strip()!r}: name two parameters after params:, e.g. params:W1[0,0],b2[0]")
    return "params", (_normal_name(match.group(1)), _normal_name(match.group(2)))


def _check_theta(layout: Layout, theta: np.ndarray, what: str = "the weights") -> np.ndarray:
    """theta as float64 (n_params,), finite; else LandscapeError."""
    try:
        theta = np.asarray(theta, dtype=np.float64)
    except (TypeError, ValueError):
        raise LandscapeError(f"{what} must be {layout.n_params} numbers for this network") from None
    if theta.shape != (layout.n_params,):
        raise LandscapeError(f"{what} must be {layout.n_params} numbers for this network, got shape {theta.shape}")
    if not np.all(np.isfinite(theta)):
        raise LandscapeError(f"not every number of {what} is finite (did the run diverge?), so there is no loss surface here")
    if np.max(np.abs(theta), initial=0.0) > MAX_WEIGHT:
        raise LandscapeError(f"{what} reach beyond {MAX_WEIGHT:.0e} (did the run diverge?), so there is no loss surface here")
    return theta


def _brief(names: list[str], limit: int = 8) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[: limit - 2])}, ..., {', '.join(names[-2:])}"


def parameter_directions(layout: Layout, names: tuple[str, str], theta: np.ndarray) -> Directions:
    """Unit vectors on two parameters: a and b are then offsets of exactly those weights (`Directions.offsets` holds
    their values at theta). An unknown or repeated parameter raises LandscapeError naming it."""
    theta = _check_theta(layout, theta)
    valid = parameter_names(layout)
    if names is None or len(names) != 2:
        raise LandscapeError("choose two parameters for the directions, e.g. params:W1[0,0],b2[0]")
    canonical = []
    for name in names:
        normal = _normal_name(str(name)) if str(name).strip() else str(name)
        if normal not in valid:
            raise LandscapeError(f"{str(name).strip()!r} is not a parameter of this network; choose from {_brief(valid)}")
        canonical.append(normal)
    if canonical[0] == canonical[1]:
        raise LandscapeError(f"{canonical[0]} is named twice; choose two different parameters")
    index = [valid.index(name) for name in canonical]
    d1, d2 = np.zeros(layout.n_params), np.zeros(layout.n_params)
    d1[index[0]] = 1.0
    d2[index[1]] = 1.0
    return Directions(
        kind="params",
        d1=_readonly(d1),
        d2=_readonly(d2),
        labels=(canonical[0], canonical[1]),
        names=(canonical[0], canonical[1]),
        offsets=(float(theta[index[0]]), float(theta[index[1]])),
    )


def filter_normalise(layout: Layout, direction: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """`direction` with each unit's row (its row of W plus its bias) scaled to the norm of theta's row (Li et al. 2018);
    a zero row of theta (or of the direction) gives a zero row. A new array."""
    out = np.array(direction, dtype=np.float64)
    for layer in range(layout.n_layers):
        n_in, n_out = int(layout.sizes[layer]), int(layout.sizes[layer + 1])
        w0, b0 = int(layout.w_offsets[layer]), int(layout.b_offsets[layer])
        for j in range(n_out):
            rows = np.r_[w0 + j * n_in : w0 + (j + 1) * n_in, b0 + j]
            target = np.linalg.norm(theta[rows])
            norm = np.linalg.norm(out[rows])
            out[rows] = out[rows] * (target / norm) if norm > 0.0 and target > 0.0 else 0.0
    return out


def random_directions(layout: Layout, theta: np.ndarray, seed: int = 0) -> Directions:
    """Two Gaussian directions (``np.random.default_rng(seed)``: d1's numbers, then d2's), filter-normalised per unit
    (`filter_normalise`). All-zero weights give a zero direction: LandscapeError."""
    theta = _check_theta(layout, theta)
    rng = np.random.default_rng(seed)
    d1 = filter_normalise(layout, rng.standard_normal(layout.n_params), theta)
    d2 = filter_normalise(layout, rng.standard_normal(layout.n_params), theta)
    if not (np.any(d1) and np.any(d2)):
        raise LandscapeError(
            "the weights are all zero, so filter-normalised random directions are zero; choose two parameters instead"
        )
    label = "random direction {} (filter-normalised)"
    return Directions(kind="random", d1=_readonly(d1), d2=_readonly(d2), labels=(label.format(1), label.format(2)))


def pca_directions(path_thetas: np.ndarray, centre: np.ndarray) -> Directions:
    """The first two principal components of the path about `centre` (the rows of ``path_thetas - centre``; Li et al.
    take the final point as the centre), unit length, signed so that the path's first point has coordinates <= 0.
    A diverged run's points (not finite, or beyond MAX_WEIGHT) are left out. Fewer than 3 distinct points, or a path
    along a line (rank < 2), raise LandscapeError."""
    thetas = np.asarray(path_thetas, dtype=np.float64)
    centre = np.asarray(centre, dtype=np.float64)
    if thetas.ndim != 2 or centre.shape != (thetas.shape[1],):
        raise LandscapeError(f"the path must be (points, {centre.size}) parameters, got shape {thetas.shape}")
    with np.errstate(invalid="ignore"):  # a diverged run's points are left out
        finite = thetas[np.all(np.isfinite(thetas), axis=1) & (np.max(np.abs(thetas), axis=1, initial=0.0) <= MAX_WEIGHT)]
    if len(np.unique(finite, axis=0)) < 3:
        raise LandscapeError("the path has fewer than 3 distinct points, so it has no principal components; train longer")
    offsets = finite - centre
    _, s, vt = np.linalg.svd(offsets, full_matrices=False)
    if len(s) < 2 or not s[1] > s[0] * 1e-12:
        raise LandscapeError("the path lies along a line, so it has only one principal component; choose other directions")
    variance = s**2 / np.sum(s**2)
    d1, d2 = vt[0].copy(), vt[1].copy()
    first = offsets[0]
    if first @ d1 > 0:
        d1 = -d1
    if first @ d2 > 0:
        d2 = -d2
    labels = tuple(f"PC{k + 1} ({100 * variance[k]:.1f}% of the path's variance)" for k in range(2))
    return Directions(kind="pca", d1=_readonly(d1), d2=_readonly(d2), labels=labels)  # type: ignore[arg-type]


def make_directions(
    kind: str,
    layout: Layout,
    theta: np.ndarray,
    names: tuple[str, str] | None = None,
    path_thetas: np.ndarray | None = None,
    seed: int = 0,
) -> Directions:
    """The one dispatcher: "params" (needs `names`), "random" (`seed`) or "pca" (needs `path_thetas`; centred on theta)."""
    if kind == "params":
        return parameter_directions(layout, names, theta)  # type: ignore[arg-type]
    if kind == "random":
        return random_directions(layout, theta, seed)
    if kind == "pca":
        if path_thetas is None:
            raise LandscapeError("principal components need the run's path, and there is none")
        return pca_directions(path_thetas, _check_theta(layout, theta))
    raise LandscapeError(f"unknown directions {kind!r}; choose from {', '.join(DIRECTION_KINDS)}")


# --- the run's path ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Path:
    """A run's trajectory. epochs: (k,) int64 from 0 (the initial weights) to the run's last epoch; thetas: (k, n_params);
    losses: (k,) the true full-batch training loss at each theta (as the grid's). Read-only."""

    epochs: np.ndarray
    thetas: np.ndarray
    losses: np.ndarray


def path_epochs(epochs: int, max_points: int = MAX_PATH_POINTS) -> np.ndarray:
    """At most `max_points` epochs from 0 to `epochs` (both included): every epoch when they fit, else the union of a
    geometric spacing (dense early, where the weights move most) and a linear one."""
    if epochs + 1 <= max_points:
        return np.arange(epochs + 1, dtype=np.int64)
    for n in range(max_points // 2, 1, -1):
        geometric = np.round(np.geomspace(1, epochs, n)).astype(np.int64)
        linear = np.round(np.linspace(0, epochs, n)).astype(np.int64)
        keep = np.union1d(np.union1d(geometric, linear), [0, epochs])
        if len(keep) <= max_points:
            return keep
    return np.array([0, epochs], dtype=np.int64)


def replay_path(
    config: TrainConfig,
    data: Dataset,
    epochs: int,
    initial_theta: np.ndarray | None = None,
    max_points: int = MAX_PATH_POINTS,
    progress: Progress = None,
    cancelled: Cancelled = None,
) -> Path | None:
    """Retrain the run of `config` on `data` from `initial_theta` (None: the config's initialisation) for `epochs` epochs
    in chunks (the same arithmetic as the run: chunking does not change it), keeping theta at `path_epochs`. The last
    theta equals ``Trainer(config).run(epochs)``'s bit for bit. A run that diverges ends the path at that epoch.
    progress(done, epochs) after each chunk; None when cancelled() turns True between chunks."""
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise LandscapeError(f"epochs must be a whole number >= 0, got {epochs!r}")
    if isinstance(max_points, bool) or not isinstance(max_points, numbers.Integral) or max_points < 2:
        raise LandscapeError(f"a path needs at least 2 points, got max_points {max_points!r}")
    epochs = int(epochs)
    layout = Layout.from_sizes(config.layer_sizes)
    params = None if initial_theta is None else layout.copies(_check_theta(layout, initial_theta, "the initial weights"))
    trainer = Trainer(config, data=data, initial_params=params)
    keep = path_epochs(epochs, int(max_points))
    thetas = np.empty((len(keep), layout.n_params))
    thetas[0] = trainer.theta
    kept = 1
    for target in keep[1:]:
        if cancelled is not None and cancelled():
            return None
        trainer.run(int(target) - trainer.epoch)
        thetas[kept] = trainer.theta
        kept += 1
        if progress is not None:
            progress(trainer.epoch, epochs)
        if trainer.diverged:
            break
    epochs_kept = keep[:kept].copy()
    epochs_kept[-1] = trainer.epoch
    thetas = thetas[:kept]
    losses = _losses_at(config, data, thetas)
    return Path(epochs=_readonly(epochs_kept), thetas=_readonly(thetas), losses=_readonly(losses))


# --- the plane -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Landscape:
    """The loss over a plane. a, b: (grid,) offsets along d1 and d2, from -range to range (0 exactly at the middle of
    an odd grid). loss: (grid, grid), loss[j, i] at theta* + a[i]·d1 + b[j]·d2 (row = b, column = a); inf or NaN where
    the loss is not finite. centre: theta*; centre_loss: the loss there (== Trainer.evaluate()["train_loss"], bit for
    bit). seconds: the computation's wall time. Arrays read-only."""

    a: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    centre: np.ndarray
    centre_loss: float
    directions: Directions
    seconds: float


def _training_arrays(config: TrainConfig, data: Dataset):
    """(layout kernel args, X, Y, activation code, loss code) for evaluating the training loss of `config` on `data`."""
    if not isinstance(data, Dataset):
        raise LandscapeError(f"data must be a Dataset, got {type(data).__name__}")
    if data.n_train == 0:
        raise LandscapeError("the dataset has no training points")
    layout = Layout.from_sizes(config.layer_sizes)
    inputs = np.ascontiguousarray(data.train_inputs, dtype=np.float64)
    # read-only, as the Trainer's: `kernels().evaluate` and `batch_gradient` then run the Trainer's compiled signature
    X = _readonly(_kernel_array(feature_matrix(inputs, config.features)))
    Y = _readonly(_kernel_array(data.train_targets))
    settings = encode(config, int(data.n_train))
    return layout, layout.kernel_args, X, Y, settings.activation, settings.loss


def _check_directions(layout: Layout, directions: Directions) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(directions, Directions):
        raise LandscapeError(f"directions must be Directions, got {type(directions).__name__}")
    d1 = _kernel_array(_check_theta(layout, directions.d1, "the direction d1"))
    d2 = _kernel_array(_check_theta(layout, directions.d2, "the direction d2"))
    return d1, d2


def _losses_at(config: TrainConfig, data: Dataset, thetas: np.ndarray) -> np.ndarray:
    _, args, X, Y, activation, loss_kind = _training_arrays(config, data)
    thetas = _kernel_array(thetas)
    out = np.empty(thetas.shape[0])
    if len(out):
        with _PARALLEL:
            landscape_kernels().losses_at(thetas, *args, X, Y, activation, loss_kind, out)
    return out


def grid_axis(grid: int, span: float) -> np.ndarray:
    """(grid,) from -span to span, symmetric, with exactly 0.0 in the middle of an odd grid."""
    axis = np.linspace(-span, span, grid)
    axis = 0.5 * (axis - axis[::-1])  # symmetric to the last bit
    if grid % 2:
        axis[grid // 2] = 0.0
    return axis


def _check_grid(grid, span) -> tuple[int, float]:
    if isinstance(grid, bool) or not isinstance(grid, numbers.Integral) or not MIN_GRID <= grid <= MAX_GRID:
        raise LandscapeError(f"the grid must be a whole number from {MIN_GRID} to {MAX_GRID} points a side, got {grid!r}")
    return int(grid), _check_span(span)


def _check_span(span) -> float:
    try:
        value = float(span)
    except (TypeError, ValueError):
        raise LandscapeError(f"the range must be a number > 0, got {span!r}") from None
    if not (math.isfinite(value) and value > 0.0):
        raise LandscapeError(f"the range must be a finite number > 0, got {span!r}")
    return value


def compute_landscape(
    config: TrainConfig,
    data: Dataset,
    theta: np.ndarray,
    directions: Directions,
    grid: int = DEFAULT_GRID,
    span: float = DEFAULT_RANGE,
    progress: Progress = None,
    cancelled: Cancelled = None,
) -> Landscape | None:
    """The training loss on a grid x grid plane through `theta` along `directions`, a and b in [-span, span].

    Computed by a parallel kernel in blocks of rows: progress(done_rows, grid) after each block, cancelled() looked at
    before each (None when it turns True). The grid must be MIN_GRID..MAX_GRID and span finite and > 0, and the loss at
    theta finite (not a diverged run's): else LandscapeError.
    """
    start = time.perf_counter()
    grid, span = _check_grid(grid, span)
    layout, args, X, Y, activation, loss_kind = _training_arrays(config, data)
    theta = _kernel_array(_check_theta(layout, theta))
    d1, d2 = _check_directions(layout, directions)
    a = grid_axis(grid, span)
    b = a.copy()
    centre_loss = float(kernels().evaluate(theta, *args, X, Y, activation, loss_kind)[0])
    if not math.isfinite(centre_loss):
        raise LandscapeError("the loss at these weights is not finite (the run diverged), so there is no loss surface here")
    loss = np.empty((grid, grid))
    K = landscape_kernels()
    runs = 4 * _threads()
    work_per_row = grid * X.shape[0] * (layout.n_params + layout.n_units)
    rows = max(1, min(grid, _BLOCK_WORK // max(1, work_per_row)))
    done = 0
    while done < grid:
        if cancelled is not None and cancelled():
            return None
        stop = min(grid, done + rows)
        with _PARALLEL:
            K.grid_rows(theta, d1, d2, a, b, done, stop, runs, *args, X, Y, activation, loss_kind, loss)
        done = stop
        if progress is not None:
            progress(done, grid)
    return Landscape(
        a=_readonly(a),
        b=_readonly(b),
        loss=_readonly(loss),
        centre=_readonly(theta.copy()),
        centre_loss=centre_loss,
        directions=directions,
        seconds=time.perf_counter() - start,
    )


def project(thetas: np.ndarray, centre: np.ndarray, directions: Directions) -> tuple[np.ndarray, np.ndarray]:
    """(a, b), (k,) each: the coordinates of each theta's least-squares projection onto the plane centre + span(d1, d2)."""
    thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
    basis = np.column_stack([directions.d1, directions.d2])
    if thetas.shape[1:] != (basis.shape[0],) or np.shape(centre) != (basis.shape[0],):
        raise LandscapeError(f"the path must be (points, {basis.shape[0]}) parameters, got shape {thetas.shape}")
    with np.errstate(invalid="ignore", over="ignore"):  # a diverged path's points: inf or NaN, no error
        coords = np.linalg.pinv(basis) @ (thetas - centre).T
    return coords[0].copy(), coords[1].copy()


def plane_losses(
    config: TrainConfig, data: Dataset, centre: np.ndarray, directions: Directions, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """(k,) the loss at centre + a·d1 + b·d2 for coordinate arrays a, b (k,): the grid's kernel at given points."""
    layout, args, X, Y, activation, loss_kind = _training_arrays(config, data)
    centre = _kernel_array(_check_theta(layout, centre, "the centre"))
    d1, d2 = _check_directions(layout, directions)
    a = _kernel_array(np.ravel(a))
    b = _kernel_array(np.ravel(b))
    if a.shape != b.shape:
        raise LandscapeError(f"a and b must have the same length, got {a.size} and {b.size}")
    out = np.empty(a.size)
    if a.size:
        with _PARALLEL:
            landscape_kernels().plane_points(centre, d1, d2, a, b, *args, X, Y, activation, loss_kind, out)
    return out


def loss_slice(
    config: TrainConfig, data: Dataset, theta: np.ndarray, direction: np.ndarray, span: float, n: int = 201
) -> tuple[np.ndarray, np.ndarray, float]:
    """(t (n,), loss (n,), slope): the loss along theta + t·u, u = direction/|direction|, for t in [-span, span] (0.0
    exactly in the middle of an odd n), and the directional derivative at t = 0: the full-batch gradient of the
    training loss WITHOUT the penalty, dotted with u (the Inspect tab's gradient, less the regularisers' term). For mse
    the reported loss is the mean of (y - ŷ)², twice the ½(y - ŷ)² the gradient is of, so the slope is doubled."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise LandscapeError(f"a slice needs at least 2 points, got {n!r}")
    span = _check_span(span)
    layout, args, X, Y, activation, loss_kind = _training_arrays(config, data)
    theta = _kernel_array(_check_theta(layout, theta))
    direction = _check_theta(layout, direction, "the direction")
    norm = float(np.linalg.norm(direction))
    if not (norm > 0.0 and math.isfinite(norm)):
        raise LandscapeError("the direction is zero, so there is no slice along it")
    unit = _kernel_array(direction / norm)
    t = grid_axis(int(n), float(span))
    zero = np.zeros(layout.n_params)
    losses = np.empty(t.size)
    with _PARALLEL:
        landscape_kernels().plane_points(theta, unit, zero, t, np.zeros(t.size), *args, X, Y, activation, loss_kind, losses)
    grad = np.empty(layout.n_params)
    kernels().batch_gradient(theta, *args, X, Y, activation, loss_kind, 0.0, 0.0, grad)
    with np.errstate(over="ignore", invalid="ignore"):
        slope = float(grad @ unit)
    if config.loss == "mse":
        slope *= 2.0  # the gradient is of ½(y - ŷ)²; the reported loss is (y - ŷ)²
    return _readonly(t), _readonly(losses), slope


def landscape_csv(landscape: Landscape) -> str:
    """Header "a,b,loss", then one row per grid point (a varies fastest), floats in repr form. For parameter directions
    a and b are the two weights' exact values (offset + a)."""
    oa, ob = landscape.directions.offsets
    a = [repr(float(x)) for x in (landscape.a + oa if oa else landscape.a)]
    b = [repr(float(x)) for x in (landscape.b + ob if ob else landscape.b)]
    lines = ["a,b,loss"]
    for j, bj in enumerate(b):
        row = landscape.loss[j]
        lines.extend(f"{ai},{bj},{float(row[i])!r}" for i, ai in enumerate(a))
    return "\n".join(lines) + "\n"


def warm_up() -> None:
    """Compile (or load from Numba's cache) the landscape's kernels, on a throwaway XOR network: a window's thread
    calls this before its first plane, so that the first plane is not charged for it."""
    config = TrainConfig()
    data = make_dataset()
    layout = Layout.from_sizes(config.layer_sizes)
    theta = np.linspace(-1.0, 1.0, layout.n_params)
    directions = random_directions(layout, theta)
    compute_landscape(config, data, theta, directions, MIN_GRID, 1.0)
    plane_losses(config, data, theta, directions, np.zeros(1), np.zeros(1))
    loss_slice(config, data, theta, directions.d1, 1.0, MIN_GRID)
    _losses_at(config, data, theta.reshape(1, -1))


__all__ = [
    "DEFAULT_GRID",
    "DEFAULT_RANGE",
    "DIRECTION_KINDS",
    "MAX_GRID",
    "MIN_GRID",
    "Directions",
    "Landscape",
    "LandscapeError",
    "Path",
    "compute_landscape",
    "landscape_csv",
    "loss_slice",
    "make_directions",
    "parameter_directions",
    "parameter_label",
    "parameter_names",
    "parse_directions",
    "pca_directions",
    "plane_losses",
    "project",
    "random_directions",
    "replay_path",
    "warm_up",
]
