"""Starting the window, and rendering it offscreen for screenshots."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from engine import TrainConfig

_HARMLESS = ("This plugin does not support propagateSizeHints()",)  # printed by every offscreen window


def _qt_messages(kind: QtMsgType, _context, message: str) -> None:
    if message not in _HARMLESS:
        print(message, file=sys.stderr)


def application() -> QApplication:
    qInstallMessageHandler(_qt_messages)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Backprop Lab")
    app.setOrganizationName("Backprop Lab")
    return app


def run_window(config: TrainConfig | None) -> int:
    """Open the window and run the event loop; returns the exit status."""
    app = application()
    from . import MainWindow
    from .experiments import last_config

    window = MainWindow(config if config is not None else last_config())
    window.show()
    status = app.exec()
    window.shutdown()
    return status


def save_screenshot(config: TrainConfig, epochs: int, path: str, size: tuple[int, int], tab: str = "train") -> int:
    """Train `epochs` epochs headless, show the result in an offscreen window and save it as a PNG.
    tab "inspect" also steps one sample (mode sgd) so the Inspect tab shows its numbers."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = application()
    from . import MainWindow

    window = MainWindow(config)
    window.resize(*size)
    window.show()
    try:
        done = {"ready": False}
        window.snapshotApplied.connect(lambda snap: done.__setitem__("ready", snap.epoch == epochs))
        if epochs:
            window.thread.step(epochs)
        while not done["ready"]:
            app.processEvents()
            window.thread.wait(5)
        if tab == "inspect":
            window.tabs.setCurrentWidget(window.inspect_view)
            if window.controls.sample_step_button.isEnabled():
                done["sampled"] = False
                window.snapshotApplied.connect(lambda snap: done.__setitem__("sampled", snap.sample_position > 0))
                window.step_sample()
                while not done["sampled"]:
                    app.processEvents()
                    window.thread.wait(5)
        app.processEvents()
        pixmap = window.grab()
        if not pixmap.save(path, "PNG"):
            print(f"error: could not save {path}", file=sys.stderr)
            return 2
    finally:
        window.experiments.set_modified(False)  # a picture, not work to keep: close without asking
        window.close()
    print(f"saved {path} ({pixmap.width()}x{pixmap.height()}, epoch {window.epoch:,})")
    return 0
