"""Backprop Lab's window (PySide6 + pyqtgraph). Imports `engine`; `engine` never imports this."""

import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major", background="w", foreground="#343a40", antialias=True)

from . import svg_exporter  # noqa: E402
from .main_window import MainWindow  # noqa: E402

svg_exporter.install()

__all__ = ["MainWindow"]
