"""Backprop Lab's window (PySide6 + pyqtgraph). Imports `engine`; `engine` never imports this."""

import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major", background="w", foreground="#343a40", antialias=True)

from .main_window import MainWindow  # noqa: E402

__all__ = ["MainWindow"]
