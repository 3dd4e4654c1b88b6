"""Figures rendered to bytes: pyqtgraph's image exporter (PNG) and Qt's SVG generator (gui/svg_exporter.py).

A leaf module for the window (File › Export, gui/export.py) and the headless commands (gui/headless.py) alike: it
imports neither the window nor the application. Every figure is rendered to bytes first and then written with
`write_atomically`, so a file that cannot be written raises an `OSError` that names it (Qt's and pyqtgraph's savers
return False and say nothing).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .style import SAMPLE_COLORS

RUN_COLORS = (*SAMPLE_COLORS, "#5f3dc4", "#2b8a3e")
X_LABELS = {"epochs": "epoch", "seconds": "seconds in the kernel", "gradient evaluations": "sample-gradient evaluations",
            "updates": "weight updates"}  # fmt: skip
MIN_PNG_WIDTH = 800


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
def fitted_to_data(item):
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
