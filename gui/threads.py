"""`RequestThread`: the request pattern every background thread of the window shares.

After Qt's Mandelbrot example: the window writes requests into a dataclass guarded by a `QMutex` and
wakes the thread with a `QWaitCondition`; the thread takes the latest requests in one go. Subclasses
define their request dataclass as a subclass of `Requests` (overriding `busy()`, and `urgent()` where it
differs), name its one-shot fields in ``ONE_SHOT``, and write `run()`. Aborting is cooperative: `run()`
returns once it sees ``abort`` (taken with `_take`, or asked with `_aborted` between pieces of long work).
"""

from __future__ import annotations

import dataclasses
import time
import weakref
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import QMutex, QMutexLocker, QThread, QWaitCondition

STOP_TIMEOUT_MS = 1000  # a thread answers a stop within a chunk (about 25 ms) or a piece of a map
COMPILE_TIMEOUT_MS = 120_000  # a first Numba compile cannot be interrupted: closing then waits for it


@dataclasses.dataclass
class Requests:
    """What every thread's requests have: `abort` (end `run()`) and `running` (keep working unasked)."""

    abort: bool = False
    running: bool = False

    def busy(self) -> bool:
        """Whether there is work: a blocking `_take` waits until there is."""
        return self.abort or self.running

    def urgent(self) -> bool:
        """Whether a request should cut a timed wait (`_sleep_until`) short."""
        return self.busy()


R = TypeVar("R", bound=Requests)


class RequestThread(QThread, Generic[R]):
    """A QThread fed by requests; `stop()` sets abort, wakes and joins; `shutdown()` also outwaits a compile."""

    instances: ClassVar[weakref.WeakSet[RequestThread]] = weakref.WeakSet()  # for tests: none may outlive its window
    ONE_SHOT: ClassVar[dict[str, Any]] = {}  # request fields reset to these values once taken

    def __init__(self, requests: R, parent=None) -> None:
        super().__init__(parent)
        RequestThread.instances.add(self)
        self._mutex = QMutex()
        self._wake = QWaitCondition()
        self._req: R = requests  # guarded by _mutex

    def _request(self, **changes: Any) -> None:
        with QMutexLocker(self._mutex):
            for name, value in changes.items():
                setattr(self._req, name, value)
            self._wake.wakeAll()

    def _take(self, block: bool) -> R:
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
            return self._req.abort

    def _sleep_until(self, due: float) -> None:
        """Wait until `due` (a perf_counter time) unless a request that needs attention arrives first."""
        with QMutexLocker(self._mutex):
            wait_ms = int((due - time.perf_counter()) * 1000)
            if wait_ms > 0 and not self._req.urgent():
                self._wake.wait(self._mutex, wait_ms)

    def stop(self, timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
        """Abort, wake and join. True when the thread has ended."""
        self._request(abort=True, running=False)
        return self.wait(timeout_ms)

    def shutdown(self, waiting: Callable[[], object] | None = None) -> None:
        """Stop and join (idempotent). A thread inside a first Numba compile, which nothing interrupts, is given
        COMPILE_TIMEOUT_MS more; `waiting()` is called before that wait (to say so)."""
        if self.isRunning() and not self.stop(STOP_TIMEOUT_MS):
            if waiting is not None:
                waiting()
            self.wait(COMPILE_TIMEOUT_MS)
