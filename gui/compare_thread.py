"""The Compare tab's thread: owns a `Comparison` (engine/compare.py), trains its runs side by side in chunks and sends
`CompareSnapshot`s, after the request pattern of gui/threads.py."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from PySide6.QtCore import Signal

from engine import TrainConfig, warm_up
from engine.compare import Comparison
from engine.datasets import Dataset

from .snapshot import PAUSED, READY, RUNNING, STOPPED
from .threads import Requests, RequestThread

MAX_EPOCHS = 1_000_000  # compared runs keep every epoch exactly (History's exact part)
CHUNK_SECONDS = 0.025
SNAPSHOTS_PER_SECOND = 20
ROW_COLUMNS = ("loss", "seconds", "train_accuracy", "test_accuracy")  # a run's row in `CompareSnapshot.rows`


@dataclass
class CompareRequests(Requests):
    steps: int = 0
    reset: bool = False
    runs: tuple[TrainConfig, list[TrainConfig]] | None = None
    data: Dataset | None = None  # train every run on this data from now on (the runs start again)
    limit: int = 20000

    def busy(self) -> bool:
        return self.abort or self.running or bool(self.steps) or self.reset or self.runs is not None or self.data is not None


@dataclass(frozen=True)
class CompareSnapshot:
    """rows[i]: (k, 4) new epochs of run i: loss, cumulative kernel seconds, train and test accuracy (`ROW_COLUMNS`;
    test accuracy NaN without a test set). predictions[i]: (n_pred,) its latest recorded outputs (one per training
    point for data that records them, XOR; else none). restarted: the runs start again (new runs, new data or a
    reset)."""

    state: str
    epoch: int
    configs: list[TrainConfig]
    labels: list[str]
    rows: list[np.ndarray]
    predictions: list[np.ndarray]
    diverged: list[bool]
    restarted: bool = False
    message: str = ""
    initial_params: list = field(default_factory=list)


class CompareThread(RequestThread[CompareRequests]):
    """Owns a `Comparison`; play, pause, step, reset and new runs arrive as requests."""

    snapshot = Signal(object)  # CompareSnapshot
    ONE_SHOT: ClassVar[dict] = {"steps": 0, "reset": False, "runs": None, "data": None}

    def __init__(self, base: TrainConfig, configs: list[TrainConfig], parent=None, data: Dataset | None = None) -> None:
        super().__init__(CompareRequests(runs=(base, configs), data=data), parent)

    def play(self) -> None:
        self._request(running=True)

    def pause(self) -> None:
        self._request(running=False, steps=0)

    def step(self, n_epochs: int) -> None:
        self._request(running=False, steps=int(n_epochs))  # one-shot: taken once

    def reset(self) -> None:
        self._request(running=False, steps=0, reset=True)

    def set_runs(self, base: TrainConfig, configs: list[TrainConfig]) -> None:
        self._request(running=False, steps=0, runs=(base, configs))

    def set_data(self, data: Dataset) -> None:
        """Train every run on `data` (the runs start again, paused)."""
        self._request(running=False, steps=0, data=data)

    def set_limit(self, epochs: int) -> None:
        self._request(limit=int(epochs))

    def run(self) -> None:
        warm_up()
        comparison: Comparison | None = None
        runs, data = None, None
        pending: list[list] = []
        chunk, last_emit, running = 100, 0.0, False
        while True:
            was_running = running
            req = self._take(block=not running)
            if req.abort:
                return
            runs = req.runs if req.runs is not None else runs
            data = req.data if req.data is not None else data
            new = runs is not None and (req.runs is not None or req.data is not None)
            if new:
                comparison = Comparison(*runs, data=data)
            elif req.reset and comparison is not None:
                comparison.reset()
            if comparison is None:
                continue
            if new or req.reset:
                pending = [[] for _ in comparison.trainers]
                self._emit(comparison, pending, READY, restarted=True)
            running = req.running
            n = req.steps if req.steps else (chunk if running else 0)
            n = min(n, req.limit - comparison.epoch)
            if req.steps or running:
                if n <= 0 or all(t.diverged for t in comparison.trainers):
                    running = False
                    self._request(running=False)
                    self._emit(comparison, pending, STOPPED, message=f"Stopped at {comparison.epoch:,} epochs")
                    pending = [[] for _ in comparison.trainers]
                    continue
                start = time.perf_counter()
                done = 0
                while done < n and not self._aborted():  # steps may be long: go in chunks
                    part = min(n - done, MAX_EPOCHS)
                    for i, (result, seconds) in enumerate(comparison.advance_chunks(part)):
                        if len(result):
                            accuracy = result.metrics[:, 1:]  # train and test accuracy
                            pending[i].append((np.column_stack([result.loss, seconds, accuracy]), result.predictions[-1]))
                    done += part
                if running and not req.steps:
                    chunk = max(1, int(min(MAX_EPOCHS, n * CHUNK_SECONDS / max(time.perf_counter() - start, 1e-6))))
            if not (req.steps or running or was_running):
                continue  # nothing trained and nothing to report
            state = RUNNING if running and not req.steps else PAUSED
            if state != RUNNING or time.perf_counter() - last_emit >= 1 / SNAPSHOTS_PER_SECOND:
                self._emit(comparison, pending, state)
                pending = [[] for _ in comparison.trainers]
                last_emit = time.perf_counter()

    def _emit(self, comparison: Comparison, pending: list[list], state: str, restarted: bool = False, message: str = "") -> None:
        rows, predictions = [], []
        data = comparison.data
        n_pred = data.n_train if data.records_predictions else 0
        for parts in pending:
            rows.append(np.concatenate([p[0] for p in parts]) if parts else np.empty((0, len(ROW_COLUMNS))))
            predictions.append(parts[-1][1] if parts else np.full(n_pred, np.nan))
        self.snapshot.emit(
            CompareSnapshot(
                state=state, epoch=comparison.epoch, configs=list(comparison.configs), labels=list(comparison.labels),
                rows=rows, predictions=predictions, diverged=[t.diverged for t in comparison.trainers],
                restarted=restarted, message=message,
            )
        )  # fmt: skip
