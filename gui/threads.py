"""`RequestThread`: the request pattern every background thread of the window shares.

After Qt's Mandelbrot example: the window writes requests into a dataclass guarded by a `QMutex` and
wakes the thread with a `QWaitCondition`; the thread takes the latest requests in one go. Subclasses
define the request dataclass (with ``busy()`` and the names of its one-shot fields) and `run()`.
"""

from __future__ import annotations

import dataclasses
import time
import weakref
from typing import Any, ClassVar

from PySide6.QtCore import QMutex, QMutexLocker, QThread, QWaitCondition


class RequestThread(QThread):
    """A QThread fed by requests; `stop()` sets abort, wakes and joins."""

    instances: ClassVar[weakref.WeakSet[RequestThread]] = weakref.WeakSet()  # for tests: none may outlive its window
    ONE_SHOT: ClassVar[dict[str, Any]] = {}  # request fields reset to these values once taken

    def __init__(self, requests: Any, parent=None) -> None:
        super().__init__(parent)
        RequestThread.instances.add(self)
        self._mutex = QMutex()
        self._wake = QWaitCondition()
        self._req = requests  # guarded by _mutex

    def _request(self, **changes: Any) -> None:
        with QMutexLocker(self._mutex):
            for name, value in changes.items():
                setattr(self._req, name, value)
            self._wake.wakeAll()

    def _take(self, block: bool) -> Any:
        """The pending requests (waiting for one when `block` and idle); one-shot fields are cleared."""
        with QMutexLocker(self._mutex):
            while block and not self._req.busy():
                self._wake.wait(self._mutex)
            taken = dataclasses.replace(self._req)
            for name, value in self.ONE_SHOT.items():
                setattr(self._req, name, value)
            return taken

    def _aborted(self) -> bool:
        with QMutexLocker(self._mutex):
            return bool(self._req.abort)

    def _sleep_until(self, due: float) -> None:
        """Wait until `due` (a perf_counter time) unless a request that needs attention arrives first."""
        with QMutexLocker(self._mutex):
            wait_ms = int((due - time.perf_counter()) * 1000)
            if wait_ms > 0 and not self._req.urgent():
                self._wake.wait(self._mutex, wait_ms)

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Abort, wake and join. True when the thread has ended."""
        self._request(abort=True, running=False)
        return self.wait(timeout_ms)
