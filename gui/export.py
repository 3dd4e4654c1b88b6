"""Figures rendered offscreen with pyqtgraph's exporters (PNG) and Qt's SVG generator (gui/svg_exporter.py).

Every figure is rendered to bytes first and written with `write_atomically`, so a file that cannot be written
raises an `OSError` that names it (Qt's and pyqtgraph's savers return False and say nothing).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from engine.compare import Comparison, x_values
from engine.files import write_atomically

from .style import SAMPLE_COLORS

RUN_COLORS = (*SAMPLE_COLORS, "#5f3dc4", "#2b8a3e")
X_LABELS = {"epochs": "epoch", "seconds": "seconds in the kernel", "gradient evaluations": "sample-gradient evaluations",
            "updates": "weight updates"}  # fmt: skip
FIGURE_KINDS = ("png", "svg")
MIN_PNG_WIDTH = 800


def check_figure_path(path: str | os.PathLike[str], kind: str) -> None:
    """Raise `ValueError` unless `path` names a `kind` file (a PNG's name ends in .png, an SVG's in .svg)."""
    if kind not in FIGURE_KINDS:
        raise ValueError(f"cannot save a figure as {kind!r}; choose from {', '.join(FIGURE_KINDS)}")
    if Path(path).suffix.lower() != "." + kind:
        raise ValueError(f"{path}: a {kind.upper()} file's name must end in .{kind}")


def png_bytes(image) -> bytes:
    """A QImage encoded as PNG."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if image.isNull() or not image.save(buffer, "PNG"):
        raise ValueError("Qt could not encode the picture as PNG")
    buffer.close()
    return bytes(data.data())


def render_figure(item, kind: str, title: str, width: int = MIN_PNG_WIDTH) -> bytes:
    """A pyqtgraph item (or scene) as PNG (at least `width` pixels wide) or SVG bytes."""
    if kind == "svg":
        from .svg_exporter import QtSVGExporter

        return QtSVGExporter(item, title).render()
    from pyqtgraph.exporters import ImageExporter

    exporter = ImageExporter(item)
    exporter.parameters()["width"] = max(width, int(exporter.parameters()["width"]))
    return png_bytes(exporter.export(toBytes=True))


@contextmanager
def _fitted_to_data(item):
    """The plot's x range ends at its data while exported (the live view rounds it up to a 1-2-5 step), unless
    the user zoomed into part of the data: then the export shows what they see."""
    bounds = [curve.dataBounds(0) for curve in item.listDataItems()]
    bounds = [b for b in bounds if b[0] is not None and np.all(np.isfinite(b))]
    vb = item.getViewBox()
    shown = vb.viewRange()
    if not bounds:
        yield
        return
    lo, hi = min(b[0] for b in bounds), max(b[1] for b in bounds)
    if not (shown[0][0] <= lo and hi <= shown[0][1]) or hi <= 0:
        yield
        return
    vb.setXRange(min(lo, 0.0), hi, padding=0)
    try:
        yield
    finally:
        vb.setRange(xRange=shown[0], yRange=shown[1], padding=0)


def save_comparison_png(comparison: Comparison, axis: str, path: str, size: tuple[int, int] = (1000, 600)) -> None:
    """The runs' loss curves overlaid (log y) against `axis`, saved as a PNG."""
    check_figure_path(path, "png")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg

    from .app import application

    app = application()
    plot = pg.PlotWidget()
    plot.resize(*size)
    plot.show()  # offscreen: lays the plot out (title, axes) before it is exported
    try:
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
        with _fitted_to_data(item):
            app.processEvents()
            data = render_figure(plot.scene(), "png", "Backprop Lab: compare", width=size[0])
    finally:
        plot.close()
    write_atomically(path, data)


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


def export_view(window, figure: str, path: str, kind: str) -> None:
    """Save one of the window's views as PNG (pyqtgraph's exporter) or SVG (Qt's SVG generator), or the whole
    window as PNG. Raises `ValueError` for a figure, kind or file name that does not fit, `OSError` naming the
    file when it cannot be written."""
    check_figure_path(path, kind)
    if figure == "window":
        if kind != "png":
            raise ValueError("the whole window exports as PNG only")
        data = png_bytes(window.grab().toImage())
    else:
        item = _export_item(window, figure)
        if figure in ("loss", "predictions"):
            with _fitted_to_data(item):
                data = render_figure(item, kind, f"Backprop Lab: {figure}")
        else:
            data = render_figure(item, kind, f"Backprop Lab: {figure}")
    write_atomically(path, data)


def export_figure(experiment, figure: str, path: str, kind: str, size: tuple[int, int] = (1400, 900)) -> None:
    """Show a saved experiment in an offscreen window and export one of its views (for the CLI)."""
    check_figure_path(path, kind)
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
            if window.thread.wait(5) and window.thread.isFinished():  # never waits forever on a thread that died
                raise RuntimeError("the training thread stopped before it showed the experiment")
        app.processEvents()
        export_view(window, figure, path, kind)
    finally:
        window.experiments.set_modified(False)
        window.close()
