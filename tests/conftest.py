"""Test setup: offscreen Qt, and no test may leave a training thread (or any Python thread) running."""

import os
import threading

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# `make test` (and CI) draw the same hypothesis examples every run, so a result depends on the code only;
# `make test-explore` (HYPOTHESIS_PROFILE=explore) draws new ones each run.
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(autouse=True, scope="session")
def private_settings(tmp_path_factory):
    """QSettings (recent files, geometry, last config) in a temporary folder, never the user's."""
    from PySide6.QtCore import QSettings

    folder = str(tmp_path_factory.mktemp("settings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)
    return folder


@pytest.fixture(autouse=True)
def private_run_history(tmp_path_factory, monkeypatch):
    """The window's run history (gui/history_panel.py) in each test's own folder (beside `tmp_path`), never the user's."""
    from gui.history_panel import HISTORY_ENV

    folder = tmp_path_factory.mktemp("run-history")
    monkeypatch.setenv(HISTORY_ENV, str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_dialogs(monkeypatch):
    """A test that would open a modal message box fails instead of hanging."""
    from PySide6.QtWidgets import QMessageBox

    def refuse(*args, **kwargs):
        raise AssertionError(f"unexpected dialog: {args[2] if len(args) > 2 else args}")

    for name in ("warning", "question", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, refuse)
    from gui.experiments import Experiments

    # closing a window with unsaved training discards it, unless a test says otherwise
    monkeypatch.setattr(Experiments, "ask_unsaved", lambda self: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(Experiments, "warn", lambda self, text: (setattr(self, "last_message", text), self.failed.emit(text)))


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
