"""Figures rendered offscreen with pyqtgraph's exporters."""

from __future__ import annotations

import os

import numpy as np

from engine.compare import Comparison, x_values
from engine.files import write_atomically

from .style import SAMPLE_COLORS

RUN_COLORS = (*SAMPLE_COLORS, "#5f3dc4", "#2b8a3e")
X_LABELS = {"epochs": "epoch", "seconds": "seconds in the kernel", "gradient evaluations": "sample-gradient evaluations",
            "updates": "weight updates"}  # fmt: skip


def save_comparison_png(comparison: Comparison, axis: str, path: str, size: tuple[int, int] = (1000, 600)) -> None:
    """The runs' loss curves overlaid (log y) against `axis`, saved as a PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from pyqtgraph.exporters import ImageExporter

    from .app import application

    app = application()
    plot = pg.PlotWidget()
    plot.resize(*size)
    plot.show()  # offscreen: lays the plot out (title, axes) before it is exported
    item = plot.getPlotItem()
    item.setLogMode(y=True)
    item.getAxis("left").enableAutoSIPrefix(False)
    item.setLabel("left", "loss")
    item.setLabel("bottom", X_LABELS[axis])
    item.setTitle("Which converges faster? Loss against " + X_LABELS[axis])
    item.addLegend(offset=(-10, 10))
    for i, (label, config) in enumerate(zip(comparison.labels, comparison.configs)):
        loss = comparison.loss(i)
        x = x_values(axis, np.arange(1, len(loss) + 1), comparison.seconds(i), config)
        item.plot(x, loss, pen=pg.mkPen(RUN_COLORS[i % len(RUN_COLORS)], width=2), name=label)
    app.processEvents()
    exporter = ImageExporter(plot.scene())
    exporter.parameters()["width"] = size[0]
    exporter.export(path)
    plot.close()


def _export_item(window, figure: str):
    """The pyqtgraph item that shows `figure` in `window`."""
    items = {
        "loss": lambda: window.curves.loss_plot.getPlotItem(),
        "predictions": lambda: window.curves.prediction_plot.getPlotItem(),
        "decision-map": lambda: window.decision_map.getPlotItem(),
        "weights": lambda: window.heatmaps.scene(),
    }
    if figure not in items:
        raise ValueError(f"no figure {figure!r}; choose from {', '.join(items)} or window")
    return items[figure]()


_VIEWS = {
    "loss": "curves.loss_plot",
    "predictions": "curves.prediction_plot",
    "decision-map": "decision_map",
    "weights": "heatmaps",
}


def _view_widget(window, figure: str):
    obj = window
    for part in _VIEWS[figure].split("."):
        obj = getattr(obj, part)
    return obj


def export_view(window, figure: str, path: str, kind: str) -> None:
    """Save one of the window's views as PNG (pyqtgraph's exporter) or SVG (Qt's SVG generator), or the whole
    window as PNG. pyqtgraph's own SVG exporter fails on current Qt's SVG paths (pyqtgraph issue 3485)."""
    from pyqtgraph.exporters import ImageExporter

    if figure == "window":
        if kind != "png" or not window.grab().save(path, "PNG"):
            raise ValueError(f"could not save the window as {kind.upper()} at {path}")
        return
    if figure not in _VIEWS:
        raise ValueError(f"no figure {figure!r}; choose from {', '.join(_VIEWS)} or window")
    if kind == "svg":
        write_atomically(path, render_svg(_view_widget(window, figure), f"Backprop Lab: {figure}"))
        return
    exporter = ImageExporter(_export_item(window, figure))
    exporter.parameters()["width"] = max(800, int(exporter.parameters()["width"]))
    exporter.export(path)


def render_svg(widget, title: str) -> bytes:
    """`widget` drawn into an SVG document by Qt (vector lines and text, images embedded)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    size = widget.size()
    generator.setSize(QSize(size.width(), size.height()))
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    painter = QPainter(generator)
    try:
        widget.render(painter)
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


def export_figure(experiment, figure: str, path: str, kind: str, size: tuple[int, int] = (1400, 900)) -> None:
    """Show a saved experiment in an offscreen window and export one of its views (for the CLI)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .app import application

    app = application()
    from . import MainWindow

    window = MainWindow(experiment.config)
    window.resize(*size)
    window.show()
    try:
        done = {"ready": False}
        window.snapshotApplied.connect(lambda snap: done.__setitem__("ready", done["ready"] or snap.keep_history))
        window.show_experiment(experiment)
        while not done["ready"]:
            app.processEvents()
            window.thread.wait(5)
        app.processEvents()
        export_view(window, figure, path, kind)
    finally:
        window.experiments.set_modified(False)
        window.close()
