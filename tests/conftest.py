"""Test setup: offscreen Qt, and no test may leave a training thread (or any Python thread) running."""

import os
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def no_leftover_threads():
    before = set(threading.enumerate())
    yield
    from gui.threads import RequestThread

    running = [t for t in list(RequestThread.instances) if t.isRunning()]
    for thread in running:  # clean up so one failure does not cascade, then fail
        thread.stop(5000)
    assert not running, f"{len(running)} background thread(s) still running after the test"
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leftover, f"threads left running: {leftover}"
