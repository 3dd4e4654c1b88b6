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
ASPECT_EDGE = 8  # pixels above and below a plot exported at its aspect ratio (see `fitted_to_aspect`)


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
    """A pyqtgraph item (or scene) as PNG (at least `width` pixels wide, everything in it enlarged alike) or SVG
    bytes. A plot whose aspect ratio is locked (the decision map) is rendered at the shape of the range it asked
    for, not with the margins its place in the window adds."""
    with fitted_to_aspect(item):
        if kind == "svg":
            from .svg_exporter import QtSVGExporter

            return QtSVGExporter(item, title).render()
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(item)
        exporter.parameters()["width"] = max(width, int(exporter.parameters()["width"]))
        with scaled_alike(item):
            return png_bytes(exporter.export(toBytes=True))


@contextmanager
def scaled_alike(item):
    """While exported at a larger size, items drawn at a fixed size on screen (pyqtgraph's legends ignore the
    view's transformations) are enlarged like the axes' text next to them; only those placed in unscaled
    coordinates, where dropping the flag changes nothing at 1:1 (not a label pinned to a point of the data)."""
    from PySide6.QtGui import QTransform
    from PySide6.QtWidgets import QGraphicsItem

    flag = QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations
    scene = item if hasattr(item, "items") and not hasattr(item, "scene") else item.scene()
    fixed = []
    for child in scene.items():
        parent = child.parentItem()
        if child.flags() & flag and (
            parent is None or parent.sceneTransform().type().value <= QTransform.TransformationType.TxTranslate.value
        ):
            fixed.append(child)
            child.setFlag(flag, False)
    try:
        yield
    finally:
        for child in fixed:
            child.setFlag(flag, True)


@contextmanager
def fitted_to_aspect(item):
    """A plot with a locked aspect ratio laid out, while exported, so that its view box has the shape of the range
    it asked for (the decision map's square) at the scale it has on screen: its place in the window stretches
    it, and the locked ratio then shows the stretch as empty axis (y from -1 to 2)."""
    vb = item.getViewBox() if hasattr(item, "getViewBox") else None
    ratio = vb.state["aspectLocked"] if vb is not None else False
    if not ratio or vb.width() <= 0 or vb.height() <= 0:
        yield
        return
    (x0, x1), (y0, y1) = vb.targetRange()
    geometry, margins = item.geometry(), item.layout.getContentsMargins()
    scale = min(vb.width() / (x1 - x0), vb.height() * ratio / (y1 - y0))  # pixels per x unit at which the range fits
    extra_w, extra_h = item.width() - vb.width(), item.height() - vb.height()
    edge = ASPECT_EDGE - min(margins[1], margins[3], ASPECT_EDGE)  # the end ticks' labels stick out of the view box
    item.layout.setContentsMargins(margins[0], margins[1] + edge, margins[2], margins[3] + edge)
    item.resize(extra_w + scale * (x1 - x0), extra_h + 2 * edge + scale * (y1 - y0) / ratio)
    item.layout.activate()
    vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
    try:
        yield
    finally:
        item.layout.setContentsMargins(*margins)
        item.setGeometry(geometry)
        item.layout.activate()
        vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)  # the range it asked for, widened again as before


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
