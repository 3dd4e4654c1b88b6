"""The Sweep tab's thread: runs one `engine.sweep.run_sweep` at a time (on all cores, in the engine), after the
request pattern of gui/threads.py. `cancel()` stops a sweep after the batch of runs in flight."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from PySide6.QtCore import QMutexLocker, Signal

from engine.sweep import SweepSpec, run_sweep

from .threads import Requests, RequestThread


@dataclass
class SweepRequests(Requests):
    spec: SweepSpec | None = None
    cancel: bool = False

    def busy(self) -> bool:
        return self.abort or self.spec is not None


class SweepThread(RequestThread[SweepRequests]):
    """Runs one sweep at a time; `cancel()` stops it after the batch of runs in flight."""

    progress = Signal(int, int)
    result = Signal(object)  # SweepResult
    ONE_SHOT: ClassVar[dict] = {"spec": None}

    def __init__(self, parent=None) -> None:
        super().__init__(SweepRequests(), parent)

    def start_sweep(self, spec: SweepSpec) -> None:
        self._request(spec=spec, cancel=False)
        if not self.isRunning():
            self.start()

    def cancel(self) -> None:
        self._request(cancel=True)

    def _cancelled(self) -> bool:
        with QMutexLocker(self._mutex):
            return self._req.cancel or self._req.abort

    def run(self) -> None:
        while True:
            req = self._take(block=True)
            if req.abort:
                return
            if req.spec is not None:
                result = run_sweep(req.spec, progress=self.progress.emit, cancelled=self._cancelled)
                if not self._aborted():
                    self.result.emit(result)
