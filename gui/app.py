"""Starting the application and the window, and closing it on Ctrl+C or SIGTERM. The command line's offscreen
pictures are in gui/headless.py."""

from __future__ import annotations

import signal
import socket
import sys
from contextlib import contextmanager, suppress

from PySide6.QtCore import QSocketNotifier, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QWidget

from engine import TrainConfig
from engine.datasets import Dataset

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


def run_window(config: TrainConfig | None, data: Dataset | None = None) -> int:
    """Open the window (training on `data`, XOR unless given) and run the event loop; returns the exit status."""
    app = application()
    from . import MainWindow
    from .experiments import claim_last_config, last_data

    remembered, note = claim_last_config()
    if config is None and data is None and remembered is not None:
        data = last_data()  # the remembered settings' data (generated data only; set aside with them)
    window = MainWindow(config if config is not None else remembered, data=data)
    if config is None:
        window.startup_note = note
    window.show()
    with close_on_signals(window) as received:
        status = app.exec()
    window.shutdown()
    return 128 + received[0] if received else status


@contextmanager
def close_on_signals(window: QWidget, signums=(signal.SIGINT, signal.SIGTERM)):
    """Ctrl+C (or SIGTERM) closes the window as its close button would (asking about unsaved work).

    Qt's event loop runs no Python code while idle, so Python's own handler would wait for the next
    mouse move: the signal is written to a socket (`signal.set_wakeup_fd`) that a `QSocketNotifier`
    watches, which wakes the loop at once. Yields a list that gets the signal's number once the
    window closed because of it (the caller exits with 128 + that number).
    """
    received: list[int] = []
    reader, writer = socket.socketpair()
    for end in (reader, writer):
        end.setblocking(False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)

    def drain() -> None:
        with suppress(OSError):
            reader.recv(512)

    def close(signum, _frame) -> None:  # may interrupt any Python code: close from the event loop instead
        def close_now() -> None:
            if window.close():
                received.append(signum)

        QTimer.singleShot(0, close_now)

    notifier.activated.connect(drain)  # Python runs the handler below right after this slot
    previous_fd = signal.set_wakeup_fd(writer.fileno())
    previous = {signum: signal.signal(signum, close) for signum in signums}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        reader.close()
        writer.close()
