"""The Sweep tab's thread: runs one sweep at a time after the request pattern of gui/threads.py: `engine.sweep.run_sweep`
on this computer's cores, or `engine.cluster.run_sweep_distributed` on a Dask cluster (connected to here, never on the
GUI thread). `cancel()` stops a sweep after the batch of runs in flight (on a cluster: cancels the outstanding tasks)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

from PySide6.QtCore import QMutexLocker, Signal

from engine.cluster import ClusterError, run_sweep_distributed  # Dask itself is imported only for a sweep on a cluster
from engine.sweep import SweepSpec, run_sweep

from .threads import Requests, RequestThread


@dataclass
class SweepRequests(Requests):
    spec: SweepSpec | None = None
    address: str | None = None  # a Dask scheduler's address, or None: this computer
    cancel: bool = False

    def busy(self) -> bool:
        return self.abort or self.spec is not None


class SweepThread(RequestThread[SweepRequests]):
    """Runs one sweep at a time; `cancel()` stops it after the batch of runs in flight. A sweep that cannot run on
    its cluster ends with `failed(message)` (one sentence) instead of `result`."""

    progress = Signal(int, int)
    result = Signal(object)  # SweepResult
    failed = Signal(str)
    ONE_SHOT: ClassVar[dict] = {"spec": None, "address": None}

    def __init__(self, parent=None) -> None:
        super().__init__(SweepRequests(), parent)

    def start_sweep(self, spec: SweepSpec, address: str | None = None) -> None:
        """Run `spec` here, or on the Dask scheduler at `address`."""
        self._request(spec=spec, address=address, cancel=False)
        if not self.isRunning():
            self.start()

    def cancel(self) -> None:
        self._request(cancel=True)

    def _cancelled(self) -> bool:
        with QMutexLocker(self._mutex):
            return self._req.cancel or self._req.abort

    def run(self) -> None:
        try:
            self._serve()
        finally:
            forget_python_record()

    def _serve(self) -> None:
        while True:
            req = self._take(block=True)
            if req.abort:
                return
            if req.spec is None:
                continue
            if req.address is None:
                result = run_sweep(req.spec, progress=self.progress.emit, cancelled=self._cancelled)
            else:
                try:
                    result = run_sweep_distributed(req.spec, req.address, progress=self.progress.emit,
                                                   cancelled=self._cancelled)  # fmt: skip
                except Exception as err:  # a remote failure may be of any kind: one message in the tab, never a crash
                    if not self._aborted():
                        self.failed.emit(cluster_message(err))
                    continue
            if not self._aborted():
                self.result.emit(result)


def forget_python_record() -> None:
    """Drop the record Python keeps of this Qt thread. Python before 3.13 makes a `threading._DummyThread`, alive
    forever, for a thread it did not start once code there (Dask's) asks for `threading.current_thread()`; the thread
    ends here, so its record goes too (else it would look like a thread left running)."""
    with threading._active_limbo_lock:
        record = threading._active.get(threading.get_ident())
        if isinstance(record, threading._DummyThread):
            del threading._active[threading.get_ident()]


def cluster_message(err: Exception) -> str:
    """The sentence the Sweep tab shows when a sweep could not run on its cluster."""
    if isinstance(err, ClusterError):
        return f"Scheduler: {err}"
    return f"Scheduler: the sweep failed on the cluster: {type(err).__name__}: {err}"
