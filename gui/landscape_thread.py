"""The loss surface's thread: computes one plane of `engine.landscape` at a time, after the request pattern of
gui/threads.py (Qt's Mandelbrot example: one mutex, one wait condition).

A request is a frozen `PlaneRequest` (the Landscape tab's: a plane through the shown weights, the run's replayed path
and a slice) or `SharedPlaneRequest` (the Compare tab's: one plane through the runs' common initial weights, every run's
path on it). A newer request replaces the pending one and cancels the one in flight; `cancel()` drops both. The thread
emits `progress(done, total)` (in `PROGRESS_STEPS`), `stage(text)` (what it is busy with), and then exactly one of
`result(object)` (an immutable `PlaneResult` / `SharedPlaneResult`), `failed(str)` (one user-facing sentence) or
`cancelled()` (no newer request waits); then `ended(request)`, which tells a view which request that answered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from PySide6.QtCore import QMutexLocker, Signal

from engine import Layout, TrainConfig
from engine.datasets import Dataset
from engine.landscape import (
    DEFAULT_GRID,
    DEFAULT_RANGE,
    Landscape,
    LandscapeError,
    Path,
    compute_landscape,
    loss_slice,
    make_directions,
    plane_losses,
    project,
    replay_path,
)
from engine.network import initial_theta as config_initial_theta

from .threads import Requests, RequestThread

PROGRESS_STEPS = 1000  # progress(done, PROGRESS_STEPS) over all the stages of a request
SLICE_POINTS = 201
FIT_MARGIN = 1.1  # a plane fitted around paths reaches this much beyond their farthest point
MAX_CACHED_PATHS = 8  # replays kept: a new grid, range or direction of the same state replays nothing
NOT_REPLAYED = ("The path is not drawn: replaying the run from its initial weights for {epochs:,} epochs does not reach "
                "the weights shown (the settings changed during the run, samples were stepped one at a time, or the "
                "run was opened from a file with another history).")  # fmt: skip
PATH_FOR_PCA = "The principal components are those of the run's path, and there is none to use: "


def _frozen(array: np.ndarray | None) -> np.ndarray | None:
    """`array` as a read-only copy (None stays None)."""
    if array is None:
        return None
    out = np.array(array, dtype=np.float64, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class PlaneRequest:
    """The Landscape tab's: the plane through `theta` (epoch `epoch` of the run of `config` on `data`, from
    `initial_theta`, None: the config's own initial weights), its directions (`kind`, `names` for "params"), grid and
    span (widened to the whole path when `fit_path`; the landscape's `a` says the span used); the run's path replayed
    on it; the slice along d1."""

    config: TrainConfig
    data: Dataset
    theta: np.ndarray
    epoch: int
    initial_theta: np.ndarray | None = None
    kind: str = "random"
    names: tuple[str, str] | None = None
    grid: int = DEFAULT_GRID
    span: float = DEFAULT_RANGE
    seed: int = 0
    fit_path: bool = True  # widen the span (never narrow it) so that the whole path is on the plane


@dataclass(frozen=True, eq=False)
class PlaneResult:
    """What the Landscape tab draws; every array read-only. path: the run's replayed path (None when it is not drawn,
    `path_note` says why); path_a, path_b: its projection onto the plane; path_plane_loss: the plane's loss there
    (`path.losses` is the true loss). slice_t: the plane's a along its line b = 0 (theta* + a·d1); slice_loss, slope: the
    loss there and its derivative dL/da at 0 (gradient · d1)."""

    request: PlaneRequest
    landscape: Landscape
    path: Path | None
    path_note: str
    path_a: np.ndarray | None
    path_b: np.ndarray | None
    path_plane_loss: np.ndarray | None
    slice_t: np.ndarray
    slice_loss: np.ndarray
    slope: float
    seconds: float


@dataclass(frozen=True, eq=False)
class SharedPlaneRequest:
    """The Compare tab's: one plane through the runs' common initial weights (those of `base`), every run of
    `configs` replayed `epoch` epochs on `data`; `span` None fits the plane around the paths."""

    base: TrainConfig
    configs: tuple[TrainConfig, ...]
    labels: tuple[str, ...]
    data: Dataset
    epoch: int
    kind: str = "random"
    names: tuple[str, str] | None = None
    grid: int = DEFAULT_GRID
    span: float | None = None
    seed: int = 0


@dataclass(frozen=True, eq=False)
class SharedPlaneResult:
    """paths[i]: (label, a, b) of run i projected onto the plane (finite points only)."""

    request: SharedPlaneRequest
    landscape: Landscape
    paths: tuple[tuple[str, np.ndarray, np.ndarray], ...]
    seconds: float


@dataclass
class LandscapeRequests(Requests):
    job: PlaneRequest | SharedPlaneRequest | None = None
    cancel: bool = False

    def busy(self) -> bool:
        return self.abort or self.job is not None


def _reach(paths: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The largest |a| or |b| of any finite point of `paths` ((a, b) pairs); 0.0 for none."""
    values = np.abs(np.concatenate([np.concatenate([a, b]) for a, b in paths])) if paths else np.empty(0)
    values = values[np.isfinite(values)]
    return float(values.max()) if len(values) else 0.0


class _CancelledError(Exception):
    """A newer request, `cancel()` or `stop()` ended the work in flight."""


class LandscapeThread(RequestThread[LandscapeRequests]):
    """Computes one loss surface at a time; the newest request wins."""

    progress = Signal(int, int)
    stage = Signal(str)  # what the request is busy with, a few words ("replaying 2,000 epochs")
    result = Signal(object)  # PlaneResult | SharedPlaneResult
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal(object)  # the request, after its result, failure or cancellation: a view knows which it answered
    ONE_SHOT: ClassVar[dict] = {"job": None, "cancel": False}

    def __init__(self, parent=None) -> None:
        super().__init__(LandscapeRequests(), parent)
        self._paths: dict[tuple, tuple[Dataset, Path]] = {}  # the last replays (thread-local): new grids or directions reuse them

    def submit(self, job: PlaneRequest | SharedPlaneRequest) -> None:
        """Compute `job`: it replaces a pending request and cancels the one in flight."""
        self._request(job=job, cancel=False)
        if not self.isRunning():
            self.start()

    def cancel(self) -> None:
        """Drop the pending request and stop the one in flight (`cancelled` follows)."""
        self._request(job=None, cancel=True)

    def _interrupted(self) -> bool:
        with QMutexLocker(self._mutex):
            return self._req.abort or self._req.cancel or self._req.job is not None

    def run(self) -> None:
        while True:
            req = self._take(block=True)
            if req.abort:
                return
            job = req.job
            if job is None:
                continue
            try:
                out = self._plane(job) if isinstance(job, PlaneRequest) else self._shared(job)
                if not self._interrupted():
                    self.result.emit(out)
            except _CancelledError:
                if not self._aborted() and not self._has_job():
                    self.cancelled.emit()
            except LandscapeError as err:
                self.failed.emit(str(err))
            except Exception as err:  # anything else, said in one sentence: never a dead thread behind the tab
                self.failed.emit(f"The loss surface could not be computed: {err}")
            self.ended.emit(job)

    def _has_job(self) -> bool:
        with QMutexLocker(self._mutex):
            return self._req.job is not None

    # --- the stages ---------------------------------------------------------------------------------
    def _stage(self, text: str, start: float, end: float):
        """Announce a stage that fills progress from `start` to `end` (fractions); returns its progress callback."""
        self.stage.emit(text)
        self.progress.emit(int(start * PROGRESS_STEPS), PROGRESS_STEPS)

        def progress(done: int, total: int) -> None:
            fraction = start + (end - start) * (done / total if total else 1.0)
            self.progress.emit(int(fraction * PROGRESS_STEPS), PROGRESS_STEPS)

        return progress

    def _check(self, value):
        """`value` unless the work was interrupted (a cancelled engine call returns None)."""
        if value is None or self._interrupted():
            raise _CancelledError
        return value

    def _replay(self, config: TrainConfig, data: Dataset, epochs: int, initial: np.ndarray, progress) -> Path:
        key = (config, id(data), epochs, initial.tobytes())
        cached = self._paths.get(key)
        path = cached[1] if cached is not None and cached[0] is data else None  # an id of data gone may be reused
        if path is None:
            path = self._check(replay_path(config, data, epochs, initial, progress=progress, cancelled=self._interrupted))
            self._paths[key] = (data, path)
            while len(self._paths) > MAX_CACHED_PATHS:
                self._paths.pop(next(iter(self._paths)))  # the oldest
        return path

    def _plane(self, job: PlaneRequest) -> PlaneResult:
        start = time.perf_counter()
        theta = np.asarray(job.theta, dtype=np.float64)
        layout = Layout.from_sizes(job.config.layer_sizes)
        initial = job.initial_theta if job.initial_theta is not None else config_initial_theta(job.config, layout)
        replay_end = 0.4 if job.epoch else 0.0
        path, note = None, ""
        if job.epoch:
            progress = self._stage(f"replaying {job.epoch:,} epochs", 0.0, replay_end)
            path = self._replay(job.config, job.data, job.epoch, np.asarray(initial, dtype=np.float64), progress)
        elif not np.array_equal(initial, theta):
            note = NOT_REPLAYED.format(epochs=0)
        if path is not None and not np.array_equal(path.thetas[-1], theta, equal_nan=True):
            path, note = None, NOT_REPLAYED.format(epochs=job.epoch)
        if job.kind == "pca" and path is None:
            why = note or "at epoch 0 the run has not moved yet."
            raise LandscapeError(PATH_FOR_PCA + why[0].lower() + why[1:])
        self._check(True)
        directions = make_directions(job.kind, layout, theta, names=job.names,
                                     path_thetas=None if path is None else path.thetas, seed=job.seed)  # fmt: skip
        path_a = path_b = path_plane = None
        span = job.span
        if path is not None:
            path_a, path_b = project(path.thetas, theta, directions)
            if job.fit_path:
                span = max(span, FIT_MARGIN * _reach([(path_a, path_b)]))
        progress = self._stage(f"loss at {job.grid} × {job.grid} points", replay_end, 0.95)
        landscape = self._check(compute_landscape(job.config, job.data, theta, directions, job.grid, span,
                                                  progress=progress, cancelled=self._interrupted))  # fmt: skip
        self._stage("slice along d₁", 0.95, 1.0)
        if path is not None:
            path_plane = plane_losses(job.config, job.data, theta, directions, path_a, path_b)
        # the slice is the plane's line b = 0: loss_slice goes along the unit direction, so t and the slope are
        # rescaled to the plane's a (t = a·|d1|; dL/da = |d1|·dL/dt = gradient · d1)
        norm = float(np.linalg.norm(directions.d1))
        t, losses, slope = loss_slice(job.config, job.data, theta, directions.d1, span * norm, SLICE_POINTS)
        self._check(True)
        return PlaneResult(
            request=job, landscape=landscape, path=path, path_note=note, path_a=_frozen(path_a), path_b=_frozen(path_b),
            path_plane_loss=_frozen(path_plane), slice_t=_frozen(t / norm), slice_loss=_frozen(losses),
            slope=float(slope) * norm, seconds=time.perf_counter() - start,
        )  # fmt: skip

    def _shared(self, job: SharedPlaneRequest) -> SharedPlaneResult:
        start = time.perf_counter()
        layout = Layout.from_sizes(job.base.layer_sizes)
        centre = config_initial_theta(job.base, layout)
        n = len(job.configs)
        replay_end = 0.5 if job.epoch else 0.0
        thetas = []
        for i, config in enumerate(job.configs):
            if job.epoch:
                part = (replay_end * i / n, replay_end * (i + 1) / n)
                progress = self._stage(f"replaying run {i + 1} of {n}", *part)
                thetas.append(self._replay(config, job.data, job.epoch, centre, progress).thetas)
            else:
                thetas.append(centre[None, :])
        self._check(True)
        directions = make_directions(job.kind, layout, centre, names=job.names, seed=job.seed)
        projected = []
        for thetas_i in thetas:
            finite = np.isfinite(thetas_i).all(axis=1)
            a, b = project(thetas_i[finite], centre, directions)
            projected.append((a, b))
        span = job.span
        if span is None:  # around every path, with a margin; the default when the runs have not moved
            reach = _reach(projected)
            span = FIT_MARGIN * reach if reach > 0 else DEFAULT_RANGE
        progress = self._stage(f"loss at {job.grid} × {job.grid} points", replay_end, 1.0)
        landscape = self._check(compute_landscape(job.base, job.data, centre, directions, job.grid, span,
                                                  progress=progress, cancelled=self._interrupted))  # fmt: skip
        paths = tuple((label, _frozen(a), _frozen(b)) for label, (a, b) in zip(job.labels, projected))
        return SharedPlaneResult(request=job, landscape=landscape, paths=paths, seconds=time.perf_counter() - start)


__all__ = ["LandscapeThread", "PlaneRequest", "PlaneResult", "SharedPlaneRequest", "SharedPlaneResult"]
